from django.apps import AppConfig


class MatchingConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "matching"

    def ready(self):
        from . import evaluation_cache, intake_flow, notifications, roles

        evaluation_cache.connect()
        intake_flow.connect()
        notifications.connect()
        roles.connect()
