"""Celery entry points for Partner Central: file, and the beat sync that fans out one read-back
per open record. Thin: they take ids and call filing.ace / filing.credit_applications; safe to run
twice. Each keeps the name it had in matching (`matching.tasks.…`), so messages already queued and
the beat schedule still find it."""
from celery import shared_task

from . import ace, credit_applications, partner_central
from .models import ACE_FINAL_REVIEW, ACE_FINAL_STAGES, BENEFIT_FINAL, AceOpportunity, CreditApplication

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
    return lambda error: ace.ace_opportunity_record_failure(opportunity_id=opportunity_id, error=error)


def _application_failure(application_id: int):
    return lambda error: credit_applications.credit_application_record_failure(application_id=application_id, error=error)


@shared_task(bind=True, max_retries=MAX_RETRIES, **TIME_LIMITS, name="matching.tasks.file_ace_opportunity")
def file_ace_opportunity(self, opportunity_id: int) -> None:
    _run(self, lambda: ace.ace_opportunity_file(opportunity_id=opportunity_id), _ace_failure(opportunity_id))


@shared_task(bind=True, max_retries=MAX_RETRIES, **TIME_LIMITS, name="matching.tasks.file_credit_application")
def file_credit_application(self, application_id: int) -> None:
    _run(
        self, lambda: credit_applications.credit_application_file(application_id=application_id), _application_failure(application_id)
    )


@shared_task(bind=True, max_retries=MAX_RETRIES, **TIME_LIMITS, name="matching.tasks.sync_ace_opportunity")
def sync_ace_opportunity(self, opportunity_id: int) -> None:
    _run(self, lambda: ace.ace_opportunity_sync(opportunity_id=opportunity_id), _ace_failure(opportunity_id))


@shared_task(bind=True, max_retries=MAX_RETRIES, **TIME_LIMITS, name="matching.tasks.sync_credit_application")
def sync_credit_application(self, application_id: int) -> None:
    _run(
        self, lambda: credit_applications.credit_application_sync(application_id=application_id), _application_failure(application_id)
    )


@shared_task(**TIME_LIMITS, name="matching.tasks.sync_partner_central")
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
