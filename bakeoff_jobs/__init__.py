"""Bake-off: model catalog, eval sets, Converse runs over Celery, scoring and the cost report."""
