"""The Celery app; configuration comes from Django settings (CELERY_* names)."""
import os

from celery import Celery
from celery.signals import task_postrun, task_prerun

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cloudroute.settings")

app = Celery("cloudroute")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@task_prerun.connect(dispatch_uid="cloudroute-db-connections-prerun")
@task_postrun.connect(dispatch_uid="cloudroute-db-connections-postrun")
def database_connections_tidy(task=None, **kwargs) -> None:
    """Around each task, what Django does around each request: close a connection that is broken or
    older than CONN_MAX_AGE, keep the others. (Celery's own Django fixup would close every connection
    before and after every task; CELERY_DB_REUSE_MAX switches that off, see settings.) Eager tasks
    run inside their caller's transaction and are left alone."""
    if task is not None and getattr(task.request, "is_eager", False):
        return
    from django.db import close_old_connections

    close_old_connections()
