from django.apps import AppConfig


class MatchingConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "matching"

    def ready(self):
        from . import notifications, roles

        notifications.connect()
        roles.connect()
