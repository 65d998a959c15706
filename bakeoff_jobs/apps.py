from django.apps import AppConfig


class BakeoffJobsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "bakeoff_jobs"
    verbose_name = "Bake-offs"

    def ready(self):
        from . import notifications

        notifications.connect()
