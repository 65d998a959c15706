from django.apps import AppConfig


class MatchingConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "matching"

    def ready(self):
        from . import evaluation_cache, notifications, roles

        evaluation_cache.connect()
        notifications.connect()
        roles.connect()
