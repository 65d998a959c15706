"""Celery entry points for an intake's evaluation and the founder's status emails. Thin: they take
ids and call matching.intake_flow; safe to run twice. Each keeps the name it was first defined with
(`intake.tasks.…`), so beat's schedule in settings and messages already queued still find it."""
from celery import shared_task
from django.db import DatabaseError

from . import intake_flow


@shared_task(name="intake.tasks.intake_evaluate", autoretry_for=(DatabaseError,), retry_backoff=True,
             retry_backoff_max=60, max_retries=10, soft_time_limit=60, time_limit=90)
def intake_evaluate(intake_id: int) -> None:
    """Verdicts, engagement and partner match for a received intake. Idempotent (an evaluated
    intake is left alone), so a redelivery after a worker crash or a sweep's re-queue is harmless;
    a database hiccup is retried with backoff."""
    intake_flow.intake_evaluate(intake_id=intake_id)


@shared_task(name="intake.tasks.intakes_evaluate_waiting", soft_time_limit=60, time_limit=90)
def intakes_evaluate_waiting() -> int:
    """Periodic: re-queue intakes whose evaluation task never ran (lost with the broker or a worker)."""
    return intake_flow.intakes_evaluate_waiting()


@shared_task(name="intake.tasks.intake_status_emails_waiting", soft_time_limit=60, time_limit=90)
def intake_status_emails_waiting() -> int:
    """Periodic: re-queue status emails whose task was lost after the intake was evaluated."""
    return intake_flow.intake_status_emails_resend_waiting()


@shared_task(name="intake.tasks.intake_status_email", soft_time_limit=60, time_limit=90)
def intake_status_email(intake_id: int) -> None:
    """The founder's status email, queued after the intake commits. Sends nothing for an intake
    without an engagement, nor again once it was sent (a redelivery after a worker crash)."""
    intake_flow.intake_status_email_send(intake_id=intake_id)


@shared_task(name="intake.tasks.intake_status_link_email", soft_time_limit=60, time_limit=90)
def intake_status_link_email(intake_id: int) -> None:
    """A fresh status link for the founder (after staff rotated it, or asked from an expired link)."""
    intake_flow.status_link_email_send(intake_id=intake_id)
