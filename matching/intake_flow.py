"""An intake once stored (intake.services), as matching carries it on: its evaluation in a worker
(a verdict for every pool, the engagement, the partner match), the same at once for demo data and
imports (intake_submit), the sweeps that queue again what a lost task left waiting, and the
founder's status emails (the verdicts with the private link; a fresh link after staff replaced it
or the founder asked for one). The Celery tasks keep their names "intake.tasks.…" (matching.tasks)."""
from __future__ import annotations

import logging
import uuid
from datetime import date, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from core.mail import email_queue
from intake.links import status_url
from intake.models import Intake
from intake.services import intake_store
from intake.signals import intake_received

from . import evaluation_cache, pool_rules
from . import services as matching_services
from .notifications import founder_match_covered
from .selectors import engagement_for_founder

log = logging.getLogger(__name__)


def evaluation_queue(sender, intake: Intake, **kwargs) -> None:
    """intake_received: queue the new intake's evaluation for a worker once its transaction commits."""
    from .tasks import intake_evaluate as evaluate_task

    transaction.on_commit(lambda: evaluate_task.delay(intake.id), robust=True)


def connect() -> None:
    intake_received.connect(evaluation_queue, sender=Intake, dispatch_uid="matching-intake-evaluation-queue")


def intake_evaluate(*, intake_id: int, today: date | None = None) -> Intake | None:
    """Record a verdict for every pool, open the engagement and match a partner, then (after commit)
    mail the founder (unless the intake says not to). Idempotent: an intake evaluated already is
    returned as it is, so a task delivered twice, or queued again by the sweep, changes nothing.
    None if the intake is gone."""
    with transaction.atomic():
        # The stamp of what the evaluation reads (rule versions, partners) comes with the lock: the
        # ones this process keeps are used while it holds.
        intake = (
            Intake.objects.select_for_update().annotate(evaluation_stamp=evaluation_cache.stamp_subquery())
            .filter(pk=intake_id).first()
        )
        if intake is None or intake.is_evaluated:
            return intake
        with evaluation_cache.pinned(intake.evaluation_stamp):
            verdicts = pool_rules.intake_verdicts_record(intake=intake, today=today)
            with founder_match_covered():  # the intake email below names the partner
                intake.engagement = matching_services.engagement_open(intake=intake, verdicts=verdicts)
        intake.evaluated_at = timezone.now()
        intake.save(update_fields=["evaluated_at"])
        if intake.mail_founder:
            from .tasks import intake_status_email

            transaction.on_commit(lambda: intake_status_email.delay(intake.id), robust=True)
    return intake


def intake_submit(
    *,
    data: dict[str, Any],
    today: date | None = None,
    notify: bool = True,
    form_submission_key: str = "",
) -> tuple[Intake, bool]:
    """Receive and evaluate an intake in one transaction, without a worker: demo data, staff
    imports and tests that need the verdicts at once. The public form and API use
    intake.services.intake_receive."""
    with transaction.atomic():
        intake, created = intake_store(data=data, form_submission_key=form_submission_key, mail_founder=notify)
        if created:
            intake = intake_evaluate(intake_id=intake.id, today=today)
    return intake, created


def intakes_evaluate_waiting(*, older_than: timedelta = timedelta(minutes=2)) -> int:
    """Queue evaluation again for intakes still waiting after `older_than` (their task was lost:
    the broker was down at commit, or a worker died with it unacknowledged). Returns how many."""
    from .tasks import intake_evaluate as evaluate_task

    waiting = Intake.objects.filter(evaluated_at__isnull=True, submitted_at__lt=timezone.now() - older_than)
    return _queue_for_each(evaluate_task, waiting.order_by("submitted_at"))


def intake_status_emails_resend_waiting(*, older_than: timedelta = timedelta(minutes=5),
                                        not_older_than: timedelta = timedelta(days=1)) -> int:
    """Queue the status email again for intakes evaluated more than `older_than` ago whose email
    never went out (its task was lost with the broker or a worker), up to `not_older_than`: a
    founder is not mailed days late. Sending is idempotent. Returns how many were queued."""
    from .tasks import intake_status_email

    now = timezone.now()
    waiting = Intake.objects.filter(
        mail_founder=True, status_email_sent_at__isnull=True,
        evaluated_at__lt=now - older_than, evaluated_at__gte=now - not_older_than,
    )
    return _queue_for_each(intake_status_email, waiting.order_by("evaluated_at"))


def _queue_for_each(task, intakes, limit: int = 1000) -> int:
    """Queue `task` with the id of each intake (the first `limit`; the next sweep takes the rest)."""
    ids = list(intakes.values_list("id", flat=True)[:limit])
    for intake_id in ids:
        task.delay(intake_id)
    return len(ids)


def intake_status_email_send(*, intake_id: int) -> None:
    """Queue the founder's email of their verdicts and private status link (text and HTML) on the
    one email path (core.mail: stored once under the intake's key, delivered by a retried task), and
    mark the intake as mailed in the same transaction. A task delivered again adds nothing."""
    if Intake.objects.filter(pk=intake_id, status_email_sent_at__isnull=False).exists():
        return
    engagement = engagement_for_founder(intake_id=intake_id)
    if engagement is None:
        return
    intake = engagement.intake
    context = {
        "intake": intake,
        "engagement": engagement,
        "verdicts": list(intake.verdicts.all()),
        "status_url": status_url(intake),
    }
    with transaction.atomic():
        email_queue(key=f"intake-status:{intake_id}", to=[intake.contact_email],
                    subject=f"CloudRoute: your AWS credit options for {intake.company_name}",
                    template="intake_status", context=context)
        Intake.objects.filter(pk=intake_id, status_email_sent_at__isnull=True).update(
            status_email_sent_at=timezone.now())


STATUS_LINK_RESEND_EVERY = timedelta(minutes=10)


def status_link_rotate(*, intake: Intake, by=None) -> Intake:
    """Give the intake a new status token: every link sent so far stops working (staff, e.g. when a
    link was forwarded by mistake). The founder is mailed the new link."""
    intake.status_token = uuid.uuid4()
    intake.save(update_fields=["status_token"])
    log.info("status link of intake %s rotated by %s", intake.pk, getattr(by, "pk", None))
    _status_link_email_queue(intake)
    return intake


def status_link_resend(*, intake: Intake) -> bool:
    """Mail the founder a fresh status link (asked from an expired link's page), at most once per
    STATUS_LINK_RESEND_EVERY, always to the address the intake gave. False when it was too soon."""
    from django.core.cache import cache

    if not cache.add(f"cloudroute:status-link-resend:{intake.pk}", 1, timeout=int(STATUS_LINK_RESEND_EVERY.total_seconds())):
        return False
    _status_link_email_queue(intake)
    return True


def _status_link_email_queue(intake: Intake) -> None:
    """Store the founder's fresh-link email in the caller's transaction (core.mail delivers it once
    the transaction commits, with retries). Each request is a new link (one per 10 minutes at most,
    see status_link_resend): a key of its own."""
    email_queue(key=f"status-link:{intake.pk}:{uuid.uuid4().hex}", to=[intake.contact_email],
                subject=f"CloudRoute: a new link to your status page for {intake.company_name}",
                template="status_link", context={"intake": intake, "status_url": status_url(intake),
                                                 "max_age_days": settings.STATUS_LINK_MAX_AGE_DAYS})


def status_link_email_send(*, intake_id: int) -> None:
    """The `intake.tasks.intake_status_link_email` task's work, for messages queued before the email
    was stored directly: mail the founder a fresh link to their status page."""
    intake = Intake.objects.filter(pk=intake_id).first()
    if intake is not None:
        _status_link_email_queue(intake)
