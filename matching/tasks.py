"""Celery entry points for Partner Central: file, and the beat sync that fans out one read-back
per open record. Thin: they take ids and call matching.filing; safe to run twice. Below them, an
intake's evaluation and the founder's status emails (matching.intake_flow)."""
from celery import shared_task

from . import filing, partner_central
from .models import AceOpportunity, CreditApplication
from .models.filing import ACE_FINAL_REVIEW, ACE_FINAL_STAGES, BENEFIT_FINAL

MAX_RETRIES = 5
TIME_LIMITS = {"soft_time_limit": 60, "time_limit": 90}


def _backoff(retries: int) -> int:
    """Seconds before the next try: 30, 60, 120, 240, 480."""
    return 30 * 2**retries


def _run(task, call, record_failure) -> None:
    """Calls the service; a retryable Partner Central error is retried with backoff, and written on
    the record in words once the retries run out."""
    try:
        call()
    except partner_central.PartnerCentralError as error:
        if task.request.retries >= task.max_retries:
            record_failure(error)
            return
        raise task.retry(exc=error, countdown=_backoff(task.request.retries))


def _ace_failure(opportunity_id: int):
    return lambda error: filing.ace_opportunity_record_failure(opportunity_id=opportunity_id, error=error)


def _application_failure(application_id: int):
    return lambda error: filing.credit_application_record_failure(application_id=application_id, error=error)


@shared_task(bind=True, max_retries=MAX_RETRIES, **TIME_LIMITS)
def file_ace_opportunity(self, opportunity_id: int) -> None:
    _run(self, lambda: filing.ace_opportunity_file(opportunity_id=opportunity_id), _ace_failure(opportunity_id))


@shared_task(bind=True, max_retries=MAX_RETRIES, **TIME_LIMITS)
def file_credit_application(self, application_id: int) -> None:
    _run(
        self, lambda: filing.credit_application_file(application_id=application_id), _application_failure(application_id)
    )


@shared_task(bind=True, max_retries=MAX_RETRIES, **TIME_LIMITS)
def sync_ace_opportunity(self, opportunity_id: int) -> None:
    _run(self, lambda: filing.ace_opportunity_sync(opportunity_id=opportunity_id), _ace_failure(opportunity_id))


@shared_task(bind=True, max_retries=MAX_RETRIES, **TIME_LIMITS)
def sync_credit_application(self, application_id: int) -> None:
    _run(
        self, lambda: filing.credit_application_sync(application_id=application_id), _application_failure(application_id)
    )


@shared_task(**TIME_LIMITS)
def sync_partner_central() -> dict:
    """Beat: one read-back task per open opportunity and open benefit application."""
    if not partner_central.is_configured():
        return {"opportunities": 0, "applications": 0}
    opportunity_ids = list(
        AceOpportunity.objects.exclude(partner_central_id="")
        .exclude(stage__in=ACE_FINAL_STAGES)
        .exclude(review_status__in=ACE_FINAL_REVIEW)
        .order_by("id")
        .values_list("id", flat=True)
    )
    application_ids = list(
        CreditApplication.objects.exclude(benefit_application_id="")
        .exclude(status__in=BENEFIT_FINAL)
        .order_by("id")
        .values_list("id", flat=True)
    )
    for pk in opportunity_ids:
        sync_ace_opportunity.delay(pk)
    for pk in application_ids:
        sync_credit_application.delay(pk)
    return {"opportunities": len(opportunity_ids), "applications": len(application_ids)}


# --- an intake's evaluation and the founder's status emails ----------------------------------------
# Named "intake.tasks.…" (where they were first defined), so beat's schedule in settings and
# messages already queued still find them. Thin: they take ids and call matching.intake_flow.

from celery import shared_task  # noqa: E402,F811  (the block stands on its own)
from django.db import DatabaseError  # noqa: E402

from . import intake_flow  # noqa: E402


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
