from django.apps import AppConfig


class CoreConfig(AppConfig):
    """core is a Django app for its one table, the outbound email (core.models.OutboundEmail)."""

    name = "core"
    verbose_name = "Core"
    default_auto_field = "django.db.models.BigAutoField"
