from django.apps import AppConfig


class FilingConfig(AppConfig):
    """ACE opportunities, credit applications and commission, above matching: matching tells it an
    engagement was accepted with a signal (`matching.signals.engagement_accepted`), never an import."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "filing"
    verbose_name = "Filings"

    def ready(self):
        from . import engagement_filings, notifications

        engagement_filings.connect()
        notifications.connect()
