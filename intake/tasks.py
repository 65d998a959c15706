"""Celery entry points for intake. Thin: they take ids and call intake.services."""
from celery import shared_task

from . import services


@shared_task(soft_time_limit=60, time_limit=90)
def intake_status_email(intake_id: int) -> None:
    """The founder's status email, queued after the intake commits. Sends nothing for an intake
    without an engagement, nor again once it was sent (a redelivery after a worker crash)."""
    services.intake_status_email_send(intake_id=intake_id)
