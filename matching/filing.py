"""The filing verbs: draft, validate, submit and sync the ACE opportunity; open, file and decide
credit applications; accrue and move CloudRoute's commission.

Each verb runs in one transaction and records history. Partner Central calls happen outside the
database lock; their failures land on the record's `last_error` in words and never touch the draft.

Commission rounding: commission = approved amount × partner rate, quantized to the cent
(Decimal("0.01")) with ROUND_HALF_UP, once per approved application; later changes are
correction entries for the difference, never edits.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Iterable

from django.db import transaction
from django.utils import timezone

from bakeoff_jobs.selectors import engagement_spend_projection
from core.errors import DomainError
from intake.countries import is_country_code

from . import eligibility, partner_central
from .roles import access_of
from .models import (
    AceOpportunity,
    AceReviewStatus,
    AceStage,
    AceStatusChange,
    BenefitStatus,
    ChangeSource,
    Commission,
    CommissionEntry,
    CommissionStatus,
    CreditApplication,
    CreditApplicationStatusChange,
    CreditPool,
    Engagement,
    PoolVerdict,
)
from .models.commission import COMMISSION_MOVES
from .models.filing import ACE_REVIEW_MOVES, ACE_STAGE_MOVES, BENEFIT_STATUS_MOVES
from .models.partner_central_choices import (
    CompetitorName,
    DeliveryModel,
    Industry,
    PrimaryNeed,
    SalesActivity,
)

CENT = Decimal("0.01")
ACCEPTED_ENGAGEMENT_STATUSES = {"accepted", "in_progress"}


class FilingError(DomainError):
    """A filing verb refused; the message is written for the partner."""


@dataclass(frozen=True)
class FieldProblem:
    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.field}: {self.message}"


def _staff_only(by, what: str) -> None:
    """The money CloudRoute is owed (commission, and the approved amount it is a share of) moves only
    by CloudRoute staff, or by the system itself (by=None: tasks, commands); a partner firm's login
    reads it and never sets what it owes."""
    if by is not None and not access_of(by).is_staff:
        raise FilingError(f"Only CloudRoute staff may {what}.")


class AceValidationError(FilingError):
    status_code = 400
    code = "invalid"

    def __init__(self, problems: list[FieldProblem]):
        self.problems = problems
        super().__init__("The opportunity is not ready for Partner Central: " + "; ".join(map(str, problems)))

    def field_errors(self) -> dict[str, list[str]]:
        fields: dict[str, list[str]] = {}
        for problem in self.problems:
            fields.setdefault(problem.field, []).append(problem.message)
        return fields


# --- ACE opportunity ------------------------------------------------------------------------------


def engagement_monthly_spend_estimate(engagement: Engagement) -> Decimal:
    """Monthly AWS spend the founder's workload implies, on demand, to the cent: the same projection
    the bake-off report and the founder's page show (the bake-off's best model at the price of the
    id it invokes, or the reference model before any bake-off). $0.00 when it cannot be projected."""
    projection = engagement_spend_projection(engagement)
    if projection is None:
        return Decimal("0.00")
    column = AceOpportunity._meta.get_field("expected_monthly_spend")
    ceiling = Decimal(10) ** (column.max_digits - column.decimal_places) - CENT
    # The intake's maxima keep any catalog model's projection far below the column; a staff price
    # typed absurdly high must still not make Accept fail, so the figure stops at what ACE can hold.
    return min(projection.monthly.on_demand.quantize(CENT, ROUND_HALF_UP), ceiling)


def _split_name(full_name: str) -> tuple[str, str]:
    first, _, last = full_name.strip().partition(" ")
    return first[:80], last.strip()[:80]


def ace_opportunity_draft(*, engagement: Engagement, by=None) -> AceOpportunity:
    """The engagement's ACE opportunity, drafted from the intake the first time (idempotent)."""
    if engagement.status not in ACCEPTED_ENGAGEMENT_STATUSES:
        raise FilingError("Only an accepted engagement gets an ACE opportunity.")
    intake = engagement.intake
    first, last = _split_name(intake.contact_name)
    use_case = intake.get_use_case_display()
    problem = (
        f"{intake.company_name} is building a generative-AI workload ({use_case.lower()}) and needs to choose, "
        f"evaluate and run models on Amazon Bedrock at about {intake.monthly_requests:,} requests a month."
    )
    with transaction.atomic():
        opportunity, _ = AceOpportunity.objects.get_or_create(
            engagement=engagement,
            defaults=dict(
                catalog=partner_central_catalog(),
                company_name=intake.company_name[:120],
                website_url=intake.website[:255],
                industry=Industry.SOFTWARE_AND_INTERNET,
                country_code=intake.country.upper(),
                aws_account_id=intake.aws_account_id,
                contact_first_name=first,
                contact_last_name=last,
                contact_email=intake.contact_email.lower()[:80],
                title=f"{intake.company_name}: {use_case} on Amazon Bedrock"[:255],
                customer_business_problem=problem[:2000],
                customer_use_case="AI Machine Learning and Analytics",
                delivery_models=[DeliveryModel.PROFESSIONAL_SERVICES.value],
                primary_needs=[PrimaryNeed.CO_SELL_TECHNICAL_CONSULTATION.value],
                sales_activities=[SalesActivity.INITIALIZED_DISCUSSIONS_WITH_CUSTOMER.value],
                competitor_name=CompetitorName.NO_COMPETITION,
                expected_monthly_spend=engagement_monthly_spend_estimate(engagement),
                target_close_date=timezone.localdate() + dt.timedelta(days=90),
            ),
        )
    return opportunity


def partner_central_catalog() -> str:
    from django.conf import settings

    return settings.PARTNER_CENTRAL_CATALOG


def _pattern_ok(shape: str, value: str) -> bool:
    pattern = partner_central.shape_pattern(shape)
    return pattern is None or pattern.fullmatch(value) is not None


def ace_opportunity_problems(opportunity: AceOpportunity) -> list[FieldProblem]:
    """Everything Partner Central would refuse or require before submission, one message per field."""
    p: list[FieldProblem] = []
    o = opportunity
    if o.catalog not in ("AWS", "Sandbox"):
        p.append(FieldProblem("catalog", "must be AWS or Sandbox."))
    if not o.company_name.strip():
        p.append(FieldProblem("company name", "is required."))
    if not o.website_url:
        p.append(FieldProblem("website", "is required."))
    elif not _pattern_ok("WebsiteUrl", o.website_url):
        p.append(FieldProblem("website", "must be 4 to 255 characters."))
    if not o.industry:
        p.append(FieldProblem("industry", "is required."))
    elif o.industry not in partner_central.enum_values("Industry"):
        p.append(FieldProblem("industry", f"“{o.industry}” is not a Partner Central industry."))
    elif o.industry == Industry.OTHER and not o.other_industry.strip():
        p.append(FieldProblem("other industry", "is required when the industry is Other."))
    if not is_country_code(o.country_code):
        p.append(FieldProblem("country", f"“{o.country_code}” is not an ISO country code Partner Central accepts."))
    if o.country_code == "US" and not o.postal_code.strip():
        p.append(FieldProblem("postal code", "is required for customers in the US."))
    if o.aws_account_id and not _pattern_ok("AwsAccount", o.aws_account_id):
        p.append(FieldProblem("AWS account id", "must be 12 digits."))
    if o.contact_email and not _pattern_ok("Email", o.contact_email):
        p.append(FieldProblem("contact email", "is not an address Partner Central accepts (lower-case, at most 80 characters)."))
    if o.contact_phone and not _pattern_ok("PhoneNumber", o.contact_phone):
        p.append(FieldProblem("contact phone", "must be in international form, e.g. +14155550100."))
    if not o.title.strip():
        p.append(FieldProblem("project title", "is required."))
    if not 20 <= len(o.customer_business_problem) <= 2000:
        p.append(FieldProblem("customer business problem", "must be 20 to 2000 characters."))
    if not o.customer_use_case.strip():
        p.append(FieldProblem("customer use case", "is required."))
    _check_list(p, "delivery models", o.delivery_models, "DeliveryModel", required=True)
    _check_list(p, "sales activities", o.sales_activities, "SalesActivity", required=True)
    _check_list(p, "primary needs from AWS", o.primary_needs, "PrimaryNeedFromAws", required=o.involvement_type == "Co-Sell")
    if o.competitor_name and o.competitor_name not in partner_central.enum_values("CompetitorName"):
        p.append(FieldProblem("competitor", f"“{o.competitor_name}” is not a Partner Central competitor name."))
    if o.competitor_name == CompetitorName.OTHER and not o.other_competitor_names.strip():
        p.append(FieldProblem("other competitors", "are required when the competitor is *Other."))
    if o.expected_monthly_spend is None or o.expected_monthly_spend <= 0:
        p.append(FieldProblem("expected monthly AWS spend", "must be more than zero."))
    if not o.target_close_date:
        p.append(FieldProblem("target close date", "is required."))
    elif o.target_close_date < timezone.localdate() and o.review_status == AceReviewStatus.PENDING_SUBMISSION:
        p.append(FieldProblem("target close date", "must not be in the past."))
    if o.stage == AceStage.CLOSED_LOST and not o.closed_lost_reason:
        p.append(FieldProblem("closed-lost reason", "is required when the stage is Closed Lost."))
    if o.stage not in partner_central.enum_values("Stage"):
        p.append(FieldProblem("stage", f"“{o.stage}” is not a Partner Central stage."))
    return p


def _check_list(problems: list[FieldProblem], label: str, values, shape: str, *, required: bool) -> None:
    if not isinstance(values, list):
        problems.append(FieldProblem(label, "must be a list."))
        return
    if required and not values:
        problems.append(FieldProblem(label, "choose at least one."))
    allowed = partner_central.enum_values(shape)
    for value in values:
        if value not in allowed:
            problems.append(FieldProblem(label, f"“{value}” is not an allowed value."))


PARTNER_CENTRAL_IS_THE_SOURCE = (
    "Partner Central is the source of this record's status: CloudRoute reads it back (the admin's "
    "action Read back from Partner Central now); it is not recorded by hand."
)


def _record_ace_change(
    *, opportunity: AceOpportunity, field: str, to_value: str, source: str, by=None, comment: str = ""
) -> AceStatusChange | None:
    from_value = getattr(opportunity, field)
    if from_value == to_value:
        return None
    if source == ChangeSource.MANUAL:
        moves = ACE_STAGE_MOVES if field == AceStatusChange.Field.STAGE else ACE_REVIEW_MOVES
        if to_value not in moves.get(from_value, set()):
            raise FilingError(f"The {field.replace('_', ' ')} cannot move from {from_value} to {to_value}.")
    setattr(opportunity, field, to_value)
    return AceStatusChange.objects.create(
        opportunity=opportunity,
        field=field,
        from_value=from_value,
        to_value=to_value,
        source=source,
        changed_by=by,
        comment=comment,
    )


def ace_opportunity_record(
    *,
    opportunity: AceOpportunity,
    by=None,
    source: str = ChangeSource.MANUAL,
    stage: str | None = None,
    review_status: str | None = None,
    closed_lost_reason: str | None = None,
    review_comments: str | None = None,
    review_status_reason: str | None = None,
    partner_central_id: str | None = None,
) -> list[AceStatusChange]:
    """Records stage/review-status moves (by hand, from a filing or read back) with history.
    Moves by hand must follow the allowed moves; Partner Central's read-back is taken as it is."""
    if source == ChangeSource.MANUAL and partner_central.is_configured() and (
        stage is not None or review_status is not None or partner_central_id is not None
    ):
        raise FilingError(PARTNER_CENTRAL_IS_THE_SOURCE)
    with transaction.atomic():
        opp = AceOpportunity.objects.select_for_update().get(pk=opportunity.pk)
        if partner_central_id is not None and partner_central_id != opp.partner_central_id:
            if not _pattern_ok("OpportunityIdentifier", partner_central_id):
                raise FilingError("A Partner Central opportunity id looks like O1234567.")
            # One opportunity per id: the sync reads (and a resubmission writes) what the id names.
            if AceOpportunity.objects.filter(partner_central_id=partner_central_id).exclude(pk=opp.pk).exists():
                raise FilingError("This Partner Central id cannot be recorded here: check it in Partner Central.")
            opp.partner_central_id = partner_central_id
        if closed_lost_reason is not None:
            opp.closed_lost_reason = closed_lost_reason
        if review_comments is not None:
            opp.review_comments = review_comments
        if review_status_reason is not None:
            opp.review_status_reason = review_status_reason
        if stage == AceStage.CLOSED_LOST and not opp.closed_lost_reason:
            raise FilingError("Give the closed-lost reason when the stage is Closed Lost.")
        changes = []
        if stage is not None:
            changes.append(
                _record_ace_change(
                    opportunity=opp, field="stage", to_value=stage, source=source, by=by,
                    comment=opp.closed_lost_reason if stage == AceStage.CLOSED_LOST else "",
                )
            )
        if review_status is not None:
            changes.append(
                _record_ace_change(
                    opportunity=opp, field="review_status", to_value=review_status, source=source, by=by,
                    comment=opp.review_comments,
                )
            )
        if review_status == AceReviewStatus.SUBMITTED and opp.submitted_at is None:
            opp.submitted_at = timezone.now()
        if source == ChangeSource.PARTNER_CENTRAL:
            opp.last_synced_at = timezone.now()
        opp.save()
    _refresh(opportunity, opp)
    return [c for c in changes if c is not None]


def _refresh(target, source) -> None:
    for field in source._meta.concrete_fields:
        setattr(target, field.attname, getattr(source, field.attname))


def ace_opportunity_submit(*, opportunity: AceOpportunity, by=None, partner_central_id: str = "") -> AceOpportunity:
    """Validates the draft, then files it: through the API (a Celery task, after commit) when
    credentials are set, or records by hand that the partner submitted it in Partner Central."""
    problems = ace_opportunity_problems(opportunity)
    if problems:
        raise AceValidationError(problems)
    if opportunity.review_status not in (AceReviewStatus.PENDING_SUBMISSION, AceReviewStatus.ACTION_REQUIRED):
        raise FilingError(f"This opportunity is already {opportunity.review_status}.")
    if partner_central.is_configured():
        from .tasks import file_ace_opportunity

        transaction.on_commit(lambda: file_ace_opportunity.delay(opportunity.pk))
        return opportunity
    ace_opportunity_record(
        opportunity=opportunity, by=by, review_status=AceReviewStatus.SUBMITTED,
        partner_central_id=partner_central_id or None,
    )
    return opportunity


def _record_error(model, pk: int, error: partner_central.PartnerCentralError) -> None:
    model.objects.filter(pk=pk).update(last_error=error.words, last_error_at=timezone.now())


def _attempt(model, pk: int, call) -> bool:
    """Runs Partner Central calls for one record. Errors a retry can fix propagate (the task
    retries); the others go on the record in words and return False. Success clears the error."""
    try:
        call()
    except partner_central.PartnerCentralError as error:
        if error.retryable:
            raise
        _record_error(model, pk, error)
        return False
    model.objects.filter(pk=pk).update(last_error="", last_error_at=None)
    return True


def ace_opportunity_file(*, opportunity_id: int) -> AceOpportunity:
    """Creates (retry-safe ClientToken) and submits the opportunity through Partner Central.
    Retryable errors are raised for the task to retry; others are written on the record."""
    opportunity = AceOpportunity.objects.select_related("engagement").get(pk=opportunity_id)
    if opportunity.review_status not in (AceReviewStatus.PENDING_SUBMISSION, AceReviewStatus.ACTION_REQUIRED):
        return opportunity  # already filed: a repeated task does nothing

    if opportunity.review_status == AceReviewStatus.ACTION_REQUIRED and opportunity.partner_central_id:
        return _ace_opportunity_resubmit(opportunity)

    def create_and_submit():
        if not opportunity.partner_central_id:
            response = partner_central.create_opportunity(opportunity)
            # Kept at once: a failed submit is retried without creating again.
            AceOpportunity.objects.filter(pk=opportunity.pk).update(
                partner_central_id=response["Id"], partner_central_modified_at=response.get("LastModifiedDate")
            )
            opportunity.partner_central_id = response["Id"]
        partner_central.submit_opportunity(opportunity)

    filed = _attempt(AceOpportunity, opportunity.pk, create_and_submit)
    opportunity.refresh_from_db()
    if not filed:
        return opportunity
    ace_opportunity_record(opportunity=opportunity, source=ChangeSource.FILING, review_status=AceReviewStatus.SUBMITTED)
    return opportunity


def _ace_opportunity_resubmit(opportunity: AceOpportunity) -> AceOpportunity:
    """After Action Required: send the edited draft (UpdateOpportunity), then read back the review
    status AWS gives it."""

    def update():
        if opportunity.partner_central_modified_at is None:
            current = partner_central.get_opportunity(
                catalog=opportunity.catalog, identifier=opportunity.partner_central_id
            )
            opportunity.partner_central_modified_at = current["LastModifiedDate"]
        response = partner_central.update_opportunity(opportunity)
        AceOpportunity.objects.filter(pk=opportunity.pk).update(
            partner_central_modified_at=response.get("LastModifiedDate")
        )

    if _attempt(AceOpportunity, opportunity.pk, update):
        ace_opportunity_sync(opportunity_id=opportunity.pk)
    opportunity.refresh_from_db()
    return opportunity


def ace_opportunity_record_failure(*, opportunity_id: int, error: partner_central.PartnerCentralError) -> None:
    """Writes a Partner Central failure on the record in words (e.g. when retries run out)."""
    _record_error(AceOpportunity, opportunity_id, error)


def ace_opportunity_sync(*, opportunity_id: int) -> list[AceStatusChange]:
    """Reads the opportunity back (GetOpportunity) and records only what changed (idempotent)."""
    opportunity = AceOpportunity.objects.get(pk=opportunity_id)
    if not opportunity.partner_central_id:
        return []
    response: dict = {}

    def read():
        response.update(
            partner_central.get_opportunity(catalog=opportunity.catalog, identifier=opportunity.partner_central_id)
        )

    if not _attempt(AceOpportunity, opportunity.pk, read):
        return []
    state = partner_central.opportunity_state(response)
    AceOpportunity.objects.filter(pk=opportunity.pk).update(
        partner_central_arn=state.arn or opportunity.partner_central_arn,
        partner_central_modified_at=state.modified_at or opportunity.partner_central_modified_at,
    )
    return ace_opportunity_record(
        opportunity=opportunity,
        source=ChangeSource.PARTNER_CENTRAL,
        stage=state.stage or None,
        review_status=state.review_status or None,
        closed_lost_reason=state.closed_lost_reason or None,
        review_comments=state.review_comments or None,
        review_status_reason=state.review_status_reason or None,
    )


ACE_DRAFT_REVIEW_STATUSES = (AceReviewStatus.PENDING_SUBMISSION, AceReviewStatus.ACTION_REQUIRED)


def ace_opportunity_update(*, opportunity: AceOpportunity, fields: dict, by=None) -> AceOpportunity:
    """Edits the draft's Partner Central fields (validated at the edge: the workspace's form, the
    API's serializer); only a draft (pending submission or action required) can be edited."""
    with transaction.atomic():
        locked = AceOpportunity.objects.select_for_update().get(pk=opportunity.pk)
        if locked.review_status not in ACE_DRAFT_REVIEW_STATUSES:
            raise FilingError(f"The opportunity is {locked.review_status}: only a draft can be edited.")
        for name, value in fields.items():
            setattr(locked, name, value)
        locked.full_clean()
        locked.save()
    return locked


# --- credit applications --------------------------------------------------------------------------


def engagement_filings_prepare(*, engagement: Engagement, by=None) -> AceOpportunity:
    """For an accepted engagement: the ACE draft and one credit application per matched pool."""
    with transaction.atomic():
        opportunity = ace_opportunity_draft(engagement=engagement, by=by)
        credit_applications_open(engagement=engagement, by=by)
    return opportunity


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


APPLICATION_EDITABLE_STATUSES = (BenefitStatus.PENDING_SUBMISSION, BenefitStatus.ACTION_REQUIRED)


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
        if app.status not in APPLICATION_EDITABLE_STATUSES:
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
    _refresh(application, app)
    return application


def credit_application_submit(*, application: CreditApplication, by=None) -> CreditApplication:
    """Files the application: through the Benefits API when its pool has a benefit id and
    credentials are set (Celery task, after commit), otherwise records the submission by hand."""
    if application.status not in (BenefitStatus.PENDING_SUBMISSION, BenefitStatus.ACTION_REQUIRED):
        raise FilingError(f"This application is already {application.get_status_display().lower()}.")
    if application.amount_requested is None or application.amount_requested <= 0:
        raise FilingError("Enter the amount requested before submitting.")
    if application.files_through_api and partner_central.is_configured():
        from .tasks import file_credit_application

        transaction.on_commit(lambda: file_credit_application.delay(application.pk))
        return application
    return credit_application_record(application=application, status=BenefitStatus.IN_REVIEW, by=by)


def credit_application_file(*, application_id: int) -> CreditApplication:
    """CreateBenefitApplication (retry-safe ClientToken) then SubmitBenefitApplication."""
    application = CreditApplication.objects.select_related("pool", "engagement__intake").get(pk=application_id)
    if application.status not in (BenefitStatus.PENDING_SUBMISSION, BenefitStatus.ACTION_REQUIRED):
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

    filed = _attempt(CreditApplication, application.pk, create_and_submit)
    application.refresh_from_db()
    if not filed:
        return application
    return credit_application_record(
        application=application, status=BenefitStatus.IN_REVIEW, source=ChangeSource.FILING
    )


def credit_application_record_failure(*, application_id: int, error: partner_central.PartnerCentralError) -> None:
    _record_error(CreditApplication, application_id, error)


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
    _refresh(application, app)
    return application


def credit_application_correct_approved_amount(
    *, application: CreditApplication, amount_approved: Decimal, by, reason: str
) -> CreditApplication:
    """Changes an approved application's amount; the commission follows with a correction entry."""
    _staff_only(by, "correct an approved amount: the commission follows it")
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
    _refresh(application, app)
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

    if not _attempt(CreditApplication, application.pk, read):
        application.refresh_from_db()
        return application
    status = response.get("Status") or application.status
    return credit_application_record(
        application=application,
        status=status,
        source=ChangeSource.PARTNER_CENTRAL,
        reason=response.get("StatusReason", "") if status != application.status else "",
    )


# --- commission -----------------------------------------------------------------------------------


def commission_amount(*, approved: Decimal, rate: Decimal) -> Decimal:
    """approved × rate, to the cent, ROUND_HALF_UP."""
    return (Decimal(approved) * Decimal(rate)).quantize(CENT, rounding=ROUND_HALF_UP)


def commission_accrue(*, application: CreditApplication, by=None) -> Commission | None:
    """Accrues CloudRoute's fee on an approved application at its partner's rate; once only."""
    partner = application.engagement.partner
    if partner is None or application.amount_approved is None:
        return None
    with transaction.atomic():
        commission, created = Commission.objects.get_or_create(
            credit_application=application,
            defaults={"partner": partner, "rate": partner.commission_rate, "currency": application.currency},
        )
        if created:
            CommissionEntry.objects.create(
                commission=commission,
                kind=CommissionEntry.Kind.ACCRUAL,
                amount=commission_amount(approved=application.amount_approved, rate=commission.rate),
                base_amount=application.amount_approved,
                note=f"{commission.rate * 100:.2f}% of {application.currency} {application.amount_approved:.2f} approved.",
                created_by=by,
            )
    return commission


def commission_correct(*, commission: Commission, amount: Decimal, by, reason: str) -> CommissionEntry | None:
    """Sets what is owed to `amount` by recording the difference as a correction entry."""
    _staff_only(by, "correct a commission")
    if not reason.strip():
        raise FilingError("Say why the commission is corrected.")
    amount = Decimal(amount).quantize(CENT, rounding=ROUND_HALF_UP)
    with transaction.atomic():
        locked = Commission.objects.select_for_update().get(pk=commission.pk)
        if locked.status == CommissionStatus.WRITTEN_OFF:
            raise FilingError("A written-off commission cannot be corrected.")
        current = sum(locked.entries.values_list("amount", flat=True), Decimal("0.00"))
        delta = amount - current
        if delta == 0:
            return None
        return CommissionEntry.objects.create(
            commission=locked, kind=CommissionEntry.Kind.CORRECTION, amount=delta, note=reason, created_by=by
        )


_STATUS_ENTRY = {
    CommissionStatus.INVOICED: CommissionEntry.Kind.INVOICED,
    CommissionStatus.PAID: CommissionEntry.Kind.PAID,
    CommissionStatus.WRITTEN_OFF: CommissionEntry.Kind.WRITTEN_OFF,
}


def commission_move(*, commission: Commission, to_status: str, by, note: str = "") -> Commission:
    """accrued → invoiced → paid, or written off; each step a ledger entry with who and when."""
    _staff_only(by, "move a commission")
    with transaction.atomic():
        locked = Commission.objects.select_for_update().get(pk=commission.pk)
        if to_status not in COMMISSION_MOVES[locked.status]:
            raise FilingError(
                f"A commission cannot move from {locked.get_status_display().lower()} to "
                f"{CommissionStatus(to_status).label.lower()}."
            )
        locked.status = to_status
        locked.save(update_fields=["status"])
        CommissionEntry.objects.create(commission=locked, kind=_STATUS_ENTRY[to_status], note=note, created_by=by)
    commission.status = to_status
    return commission
