"""The ACE opportunity: draft it from the intake, say what Partner Central would refuse, edit the
draft, file it (through a Celery task, or recorded by hand), record its stage and review moves with
history, and read it back from Partner Central.

"Still a draft" is decided here only (`ace_is_draft`, `ace_draft_required`): the services, the API,
the admin and the workspace form all ask it. Partner Central calls happen outside the database lock;
their failures land on the record's `last_error` in words and never touch the draft.
"""
from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal
from typing import Callable

from django.db import transaction
from django.utils import timezone

from intake.countries import is_country_code
from matching.models import Engagement

from . import partner_central
from .errors import AceValidationError, FieldProblem, FilingError
from .models import (
    ACE_REVIEW_MOVES,
    ACE_STAGE_MOVES,
    AceOpportunity,
    AceReviewStatus,
    AceStage,
    AceStatusChange,
    ChangeSource,
)
from .models.partner_central_choices import (
    CompetitorName,
    DeliveryModel,
    Industry,
    PrimaryNeed,
    SalesActivity,
)
from .records import CENT, PARTNER_CENTRAL_IS_THE_SOURCE, attempt, partner_central_catalog, record_error, refresh


ACCEPTED_ENGAGEMENT_STATUSES = {"accepted", "in_progress"}


ACE_DRAFT_REVIEW_STATUSES = (AceReviewStatus.PENDING_SUBMISSION, AceReviewStatus.ACTION_REQUIRED)


def ace_is_draft(opportunity: AceOpportunity) -> bool:
    """Whether the partner may still edit and submit the opportunity: pending submission, or sent
    back by AWS with Action Required."""
    return opportunity.review_status in ACE_DRAFT_REVIEW_STATUSES


def ace_draft_required(opportunity: AceOpportunity) -> None:
    """Refuses (FilingError, the API's 409) any edit of an opportunity that is no longer a draft."""
    if not ace_is_draft(opportunity):
        raise FilingError(f"The opportunity is {opportunity.review_status}: only a draft can be edited.")


# --- the monthly spend the draft starts with -------------------------------------------------------

# The projection of the founder's workload belongs to the bake-off engine, a layer above filing:
# bakeoff_jobs hands it in at start-up (BakeoffJobsConfig.ready) and filing never imports it.
# Until then (or without bake-offs) nothing is projected and the draft starts at $0.00.
_monthly_spend_projection: Callable[[Engagement], Decimal | None] = lambda engagement: None


def monthly_spend_projection_use(projection: Callable[[Engagement], Decimal | None]) -> None:
    """Sets where the draft's expected monthly spend comes from: a function of the engagement giving
    the monthly on-demand spend in USD, or None when it cannot be projected."""
    global _monthly_spend_projection
    _monthly_spend_projection = projection


def engagement_monthly_spend_estimate(engagement: Engagement) -> Decimal:
    """Monthly AWS spend the founder's workload implies, on demand, to the cent: the same projection
    the bake-off report and the founder's page show (the bake-off's best model at the price of the
    id it invokes, or the reference model before any bake-off). $0.00 when it cannot be projected."""
    monthly = _monthly_spend_projection(engagement)
    if monthly is None:
        return Decimal("0.00")
    column = AceOpportunity._meta.get_field("expected_monthly_spend")
    ceiling = Decimal(10) ** (column.max_digits - column.decimal_places) - CENT
    # The intake's maxima keep any catalog model's projection far below the column; a staff price
    # typed absurdly high must still not make Accept fail, so the figure stops at what ACE can hold.
    return min(monthly.quantize(CENT, ROUND_HALF_UP), ceiling)


# --- ACE opportunity ------------------------------------------------------------------------------


ACE_EMAIL_MAX_CHARS = 80


def _fitting(value: str, limit: int) -> str:
    """`value` if it fits in `limit` characters, else blank: for values a cut would falsify."""
    return value if len(value) <= limit else ""


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
                # Partner Central takes addresses of up to 80 characters: a longer one is left for
                # the partner to fill in, never cut into another (deliverable-looking) address.
                contact_email=_fitting(intake.contact_email.lower(), ACE_EMAIL_MAX_CHARS),
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
    refresh(opportunity, opp)
    return [c for c in changes if c is not None]


def ace_opportunity_submit(*, opportunity: AceOpportunity, by=None, partner_central_id: str = "") -> AceOpportunity:
    """Validates the draft, then files it: through the API (a Celery task, after commit) when
    credentials are set, or records by hand that the partner submitted it in Partner Central."""
    problems = ace_opportunity_problems(opportunity)
    if problems:
        raise AceValidationError(problems)
    if not ace_is_draft(opportunity):
        raise FilingError(f"This opportunity is already {opportunity.review_status}.")
    if partner_central.is_configured():
        from .tasks import file_ace_opportunity  # noqa: PLC0415 - the tasks import this module

        transaction.on_commit(lambda: file_ace_opportunity.delay(opportunity.pk))
        return opportunity
    ace_opportunity_record(
        opportunity=opportunity, by=by, review_status=AceReviewStatus.SUBMITTED,
        partner_central_id=partner_central_id or None,
    )
    return opportunity


def ace_opportunity_file(*, opportunity_id: int) -> AceOpportunity:
    """Creates (retry-safe ClientToken) and submits the opportunity through Partner Central.
    Retryable errors are raised for the task to retry; others are written on the record."""
    opportunity = AceOpportunity.objects.select_related("engagement").get(pk=opportunity_id)
    if not ace_is_draft(opportunity):
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

    filed = attempt(AceOpportunity, opportunity.pk, create_and_submit)
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

    if attempt(AceOpportunity, opportunity.pk, update):
        ace_opportunity_sync(opportunity_id=opportunity.pk)
    opportunity.refresh_from_db()
    return opportunity


def ace_opportunity_record_failure(*, opportunity_id: int, error: partner_central.PartnerCentralError) -> None:
    """Writes a Partner Central failure on the record in words (e.g. when retries run out)."""
    record_error(AceOpportunity, opportunity_id, error)


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

    if not attempt(AceOpportunity, opportunity.pk, read):
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


def ace_opportunity_update(*, opportunity: AceOpportunity, fields: dict, by=None) -> AceOpportunity:
    """Edits the draft's Partner Central fields (validated at the edge: the workspace's form, the
    API's serializer); only a draft (pending submission or action required) can be edited."""
    with transaction.atomic():
        locked = AceOpportunity.objects.select_for_update().get(pk=opportunity.pk)
        ace_draft_required(locked)
        for name, value in fields.items():
            setattr(locked, name, value)
        locked.full_clean()
        locked.save()
    return locked
