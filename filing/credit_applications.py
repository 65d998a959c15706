"""Credit applications: open one per partner-filed pool when the engagement is accepted, set the
amount while it is a draft, file it (the Benefits API through a Celery task, or by hand), record its
moves with history, and correct an approved amount (the commission follows).

Partner Central calls happen outside the database lock; their failures land on the record's
`last_error` in words and never touch the draft.
"""
from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Iterable

from django.db import transaction
from django.utils import timezone

from matching import eligibility
from matching.models import CreditPool, Engagement, PoolVerdict

from . import partner_central
from .commission import commission_accrue, commission_amount, commission_correct
from .errors import FilingError
from .models import (
    BENEFIT_STATUS_MOVES,
    BenefitStatus,
    ChangeSource,
    Commission,
    CreditApplication,
    CreditApplicationStatusChange,
)
from .records import PARTNER_CENTRAL_IS_THE_SOURCE, attempt, partner_central_catalog, record_error, refresh, staff_only


def credit_applications_open(
    *, engagement: Engagement, pools: Iterable[CreditPool] | None = None, by=None
) -> list[CreditApplication]:
    """One credit application per partner-filed pool (by default the pools the engagement matched);
    idempotent. Self-serve and competitive pools get none: the founder applies for those. The amount
    requested starts at the eligibility estimate, else the pool's published maximum."""
    if pools is None:
        pools = engagement.matched_pools.all()
    verdicts = {
        v["pool_id"]: v
        for v in PoolVerdict.objects.filter(intake_id=engagement.intake_id).values(
            "pool_id", "is_eligible", "estimated_amount_usd", "route"
        )
    }
    estimates = {pool_id: v["estimated_amount_usd"] for pool_id, v in verdicts.items() if v["is_eligible"]}
    applications = []
    with transaction.atomic():
        for pool in pools:
            # The route the founder was told (the verdict's), else the pool's current one.
            route = verdicts[pool.pk]["route"] if pool.pk in verdicts else pool.filing_route
            if not eligibility.files_through_partner(route):
                continue
            amount = estimates.get(pool.pk) or pool.amount_max_usd
            application, created = CreditApplication.objects.get_or_create(
                engagement=engagement,
                pool=pool,
                defaults={"amount_requested": amount, "catalog": partner_central_catalog()},
            )
            if created:
                CreditApplicationStatusChange.objects.create(
                    application=application, from_status="", to_status=application.status,
                    source=ChangeSource.FILING, changed_by=by, reason="Opened for a matched pool.",
                )
            applications.append(application)
    return applications


APPLICATION_DRAFT_STATUSES = (BenefitStatus.PENDING_SUBMISSION, BenefitStatus.ACTION_REQUIRED)


def credit_application_is_draft(application: CreditApplication) -> bool:
    """Whether the amount may still change and the application be filed: pending submission, or
    sent back with Action Required."""
    return application.status in APPLICATION_DRAFT_STATUSES


def credit_application_amount_set(
    *, application: CreditApplication, amount_requested: Decimal, currency: str | None = None, by=None
) -> CreditApplication:
    """Changes the amount (and currency) requested before submission, with a history row saying from
    what to what: the admin, the API and any other caller record every money change the same way."""
    currency = application.currency if currency is None else currency
    if not (len(currency) == 3 and currency.isascii() and currency.isalpha() and currency.isupper()):
        raise FilingError("A currency is a three-letter ISO 4217 code in capitals, e.g. USD.")
    amount_requested = Decimal(amount_requested)
    if not amount_requested.is_finite() or amount_requested <= 0:
        raise FilingError("The amount requested must be more than zero.")
    with transaction.atomic():
        app = CreditApplication.objects.select_for_update().get(pk=application.pk)
        if not credit_application_is_draft(app):
            raise FilingError(f"The application is {app.get_status_display().lower()}: the amount can change "
                              "only before submission.")
        if (app.amount_requested, app.currency) != (amount_requested, currency):
            before = f"{app.currency} {app.amount_requested:,.2f}"
            app.amount_requested, app.currency = amount_requested, currency
            app.full_clean(exclude=["engagement", "pool"])
            app.save(update_fields=["amount_requested", "currency", "updated_at"])
            CreditApplicationStatusChange.objects.create(
                application=app, from_status=app.status, to_status=app.status, source=ChangeSource.MANUAL,
                changed_by=by, reason=f"Amount requested changed from {before} to {currency} {amount_requested:,.2f}.",
            )
    refresh(application, app)
    return application


def credit_application_submit(*, application: CreditApplication, by=None) -> CreditApplication:
    """Files the application: through the Benefits API when its pool has a benefit id and
    credentials are set (Celery task, after commit), otherwise records the submission by hand."""
    if not credit_application_is_draft(application):
        raise FilingError(f"This application is already {application.get_status_display().lower()}.")
    if application.amount_requested is None or application.amount_requested <= 0:
        raise FilingError("Enter the amount requested before submitting.")
    if application.files_through_api and partner_central.is_configured():
        from .tasks import file_credit_application  # noqa: PLC0415 - the tasks import this module

        transaction.on_commit(lambda: file_credit_application.delay(application.pk))
        return application
    return credit_application_record(application=application, status=BenefitStatus.IN_REVIEW, by=by)


def credit_application_file(*, application_id: int) -> CreditApplication:
    """CreateBenefitApplication (retry-safe ClientToken) then SubmitBenefitApplication."""
    application = CreditApplication.objects.select_related("pool", "engagement__intake").get(pk=application_id)
    if not credit_application_is_draft(application):
        return application

    def create_and_submit():
        if not application.benefit_application_id:
            response = partner_central.create_benefit_application(application)
            application.benefit_application_id = response.get("Id", "")
            application.benefit_application_arn = response.get("Arn", "")
            CreditApplication.objects.filter(pk=application.pk).update(
                benefit_application_id=application.benefit_application_id,
                benefit_application_arn=application.benefit_application_arn,
            )
        partner_central.submit_benefit_application(application)

    filed = attempt(CreditApplication, application.pk, create_and_submit)
    application.refresh_from_db()
    if not filed:
        return application
    return credit_application_record(
        application=application, status=BenefitStatus.IN_REVIEW, source=ChangeSource.FILING
    )


def credit_application_record_failure(*, application_id: int, error: partner_central.PartnerCentralError) -> None:
    record_error(CreditApplication, application_id, error)


def credit_application_record(
    *,
    application: CreditApplication,
    status: str,
    by=None,
    source: str = ChangeSource.MANUAL,
    reason: str = "",
    amount_approved: Decimal | None = None,
    expires_on: dt.date | None = None,
) -> CreditApplication:
    """Moves the application's status with history. Approval needs the approved amount and
    accrues the commission (once per application)."""
    with transaction.atomic():
        app = (
            CreditApplication.objects.select_for_update(of=("self",))
            .select_related("engagement__partner", "pool")
            .get(pk=application.pk)
        )
        if amount_approved is not None and amount_approved != app.amount_approved:
            # Set once, with the approval (or just after a read-back approval that carried none);
            # a later change moves the commission, so it goes through the correction verb.
            approving = status == BenefitStatus.APPROVED and (
                app.status != BenefitStatus.APPROVED or app.amount_approved is None
            )
            if not approving:
                raise FilingError(
                    "The approved amount is recorded with the approval; once recorded, CloudRoute staff "
                    "correct it (the commission follows)."
                )
            app.amount_approved = amount_approved
        if expires_on is not None:
            app.expires_on = expires_on
        if status != app.status:
            if source == ChangeSource.MANUAL and app.files_through_api and partner_central.is_configured():
                raise FilingError(PARTNER_CENTRAL_IS_THE_SOURCE)
            if source == ChangeSource.MANUAL and status not in BENEFIT_STATUS_MOVES.get(app.status, set()):
                raise FilingError(
                    f"A credit application cannot move from {app.get_status_display().lower()} to "
                    f"{BenefitStatus(status).label.lower()}."
                )
            if status == BenefitStatus.APPROVED and source == ChangeSource.MANUAL and app.amount_approved is None:
                raise FilingError("Enter the approved amount to record an approval.")
            CreditApplicationStatusChange.objects.create(
                application=app, from_status=app.status, to_status=status, source=source, changed_by=by, reason=reason
            )
            app.status = status
            if status == BenefitStatus.IN_REVIEW and app.submitted_at is None:
                app.submitted_at = timezone.now()
            if status in (BenefitStatus.APPROVED, BenefitStatus.REJECTED, BenefitStatus.CANCELED):
                app.decided_at = timezone.now()
            if reason:
                app.status_reason = reason
        if source == ChangeSource.PARTNER_CENTRAL:
            app.last_synced_at = timezone.now()
        app.save()
        if app.status == BenefitStatus.APPROVED and app.amount_approved is not None:
            commission_accrue(application=app, by=by)
    refresh(application, app)
    return application


def credit_application_correct_approved_amount(
    *, application: CreditApplication, amount_approved: Decimal, by, reason: str
) -> CreditApplication:
    """Changes an approved application's amount; the commission follows with a correction entry."""
    staff_only(by, "correct an approved amount: the commission follows it")
    if application.status != BenefitStatus.APPROVED:
        raise FilingError("Only an approved application has an approved amount to correct.")
    if not reason.strip():
        raise FilingError("Say why the approved amount changes.")
    with transaction.atomic():
        app = CreditApplication.objects.select_for_update().get(pk=application.pk)
        app.amount_approved = amount_approved
        app.save(update_fields=["amount_approved", "updated_at"])
        commission = Commission.objects.filter(credit_application=app).first()
        if commission is None:
            commission_accrue(application=app, by=by)
        else:
            commission_correct(
                commission=commission,
                amount=commission_amount(approved=amount_approved, rate=commission.rate),
                by=by,
                reason=f"Approved amount corrected to {amount_approved:.2f}: {reason}",
            )
    refresh(application, app)
    return application


def credit_application_sync(*, application_id: int) -> CreditApplication | None:
    """Reads the benefit application back and records a status change only when there is one."""
    application = CreditApplication.objects.get(pk=application_id)
    if not application.benefit_application_id:
        return None
    response: dict = {}

    def read():
        response.update(
            partner_central.get_benefit_application(
                catalog=application.catalog, identifier=application.benefit_application_id
            )
        )

    if not attempt(CreditApplication, application.pk, read):
        application.refresh_from_db()
        return application
    status = response.get("Status") or application.status
    return credit_application_record(
        application=application,
        status=status,
        source=ChangeSource.PARTNER_CENTRAL,
        reason=response.get("StatusReason", "") if status != application.status else "",
    )
