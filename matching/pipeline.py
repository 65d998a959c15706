"""Selectors for the staff pipeline dashboard: one row per intake with the moment it reached each
funnel stage, the funnel and stage medians computed from those rows, and commission totals.
A fixed number of queries whatever the number of engagements."""
from __future__ import annotations

import datetime as dt
import statistics
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import DecimalField, F, OuterRef, Subquery, Sum, Value
from django.db.models.functions import Coalesce

from intake.models import Intake

from .models import (
    AceReviewStatus,
    AceStatusChange,
    BenefitStatus,
    CommissionEntry,
    CommissionStatus,
    CreditApplication,
    CreditApplicationStatusChange,
    EngagementStatusChange,
)

CENT = Decimal("0.01")
# (key, label): each stage's timestamp column in the rows is f"{key}_at".
FUNNEL = [
    ("intake", "Intakes"),
    ("matched", "Matched"),
    ("accepted", "Accepted"),
    ("ace_submitted", "ACE submitted"),
    ("ace_approved", "ACE approved"),
    ("credits_approved", "Credits approved"),
]
ROW_COLUMNS = [
    "intake_id", "company_name", "intake_at", "partner_name", "engagement_status", "matched_at", "accepted_at",
    "ace_submitted_at", "ace_approved_at", "credits_approved_at", "credits_approved_usd",
]


@dataclass(frozen=True)
class PipelineFilters:
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    partner_id: int | None = None
    pool_id: int | None = None


@dataclass
class FunnelStage:
    key: str
    label: str
    count: int
    share_of_intakes: Decimal | None  # percent, 1 decimal
    conversion: Decimal | None  # percent of the previous stage, 1 decimal


@dataclass
class Pipeline:
    funnel: list[FunnelStage]
    median_days: list[tuple[str, Decimal | None]]  # ("Matched → Accepted", days)
    commission_by_status: list[tuple[str, Decimal]]
    commission_by_partner: list[tuple[str, Decimal]]
    rows: list[dict] = field(default_factory=list)


def _first(qs, column: str = "changed_at"):
    return Subquery(qs.order_by(column).values(column)[:1])


def pipeline_rows(filters: PipelineFilters) -> list[dict]:
    """One query: every intake in range with when it reached each stage."""
    intake_ref = OuterRef("pk")
    engagement_moves = EngagementStatusChange.objects.filter(engagement__intake=intake_ref)
    review_moves = AceStatusChange.objects.filter(
        opportunity__engagement__intake=intake_ref, field=AceStatusChange.Field.REVIEW_STATUS
    )
    approvals = CreditApplicationStatusChange.objects.filter(
        application__engagement__intake=intake_ref, to_status=BenefitStatus.APPROVED
    )
    approved_sum = (
        CreditApplication.objects.filter(engagement__intake=intake_ref, status=BenefitStatus.APPROVED)
        .values("engagement__intake")
        .annotate(total=Sum("amount_approved"))
        .values("total")
    )
    qs = Intake.objects.all()
    if filters.date_from:
        qs = qs.filter(submitted_at__date__gte=filters.date_from)
    if filters.date_to:
        qs = qs.filter(submitted_at__date__lte=filters.date_to)
    if filters.partner_id:
        qs = qs.filter(engagement__partner_id=filters.partner_id)
    if filters.pool_id:
        qs = qs.filter(engagement__matched_pools=filters.pool_id)
    qs = qs.annotate(
        intake_id=F("pk"),
        intake_at=F("submitted_at"),
        partner_name=F("engagement__partner__name"),
        engagement_status=F("engagement__status"),
        matched_at=_first(engagement_moves.filter(to_status="matched")),
        accepted_at=_first(engagement_moves.filter(to_status="accepted")),
        ace_submitted_at=_first(review_moves.exclude(to_value=AceReviewStatus.PENDING_SUBMISSION)),
        ace_approved_at=_first(review_moves.filter(to_value=AceReviewStatus.APPROVED)),
        credits_approved_at=_first(approvals),
        credits_approved_usd=Coalesce(
            Subquery(approved_sum, output_field=DecimalField(max_digits=14, decimal_places=2)),
            Value(Decimal("0.00")),
            output_field=DecimalField(max_digits=14, decimal_places=2),
        ),
    ).order_by("submitted_at", "pk")
    rows = list(qs.values(*ROW_COLUMNS))
    for row in rows:
        row["credits_approved_usd"] = _cents(row["credits_approved_usd"])
    return rows


def _cents(amount) -> Decimal:
    # SQLite drops a sum's scale; show money to the cent on every backend.
    return Decimal(amount or 0).quantize(CENT)


def _percent(part: int, whole: int) -> Decimal | None:
    if not whole:
        return None
    return (Decimal(part) * 100 / Decimal(whole)).quantize(Decimal("0.1"))


def funnel_from_rows(rows: list[dict]) -> list[FunnelStage]:
    counts = [sum(1 for r in rows if r[f"{key}_at"] is not None) for key, _ in FUNNEL]
    return [
        FunnelStage(
            key=key,
            label=label,
            count=counts[i],
            share_of_intakes=_percent(counts[i], counts[0]),
            conversion=_percent(counts[i], counts[i - 1]) if i else None,
        )
        for i, (key, label) in enumerate(FUNNEL)
    ]


def stage_medians_from_rows(rows: list[dict]) -> list[tuple[str, Decimal | None]]:
    """Median days spent in each stage, over the rows that reached the next one."""
    medians = []
    for (key, label), (next_key, next_label) in zip(FUNNEL, FUNNEL[1:]):
        spans = [
            (r[f"{next_key}_at"] - r[f"{key}_at"]).total_seconds() / 86400
            for r in rows
            if r[f"{key}_at"] is not None and r[f"{next_key}_at"] is not None
        ]
        value = Decimal(str(statistics.median(spans))).quantize(Decimal("0.1")) if spans else None
        medians.append((f"{label} → {next_label}", value))
    return medians


def _commission_entries(filters: PipelineFilters):
    qs = CommissionEntry.objects.all()
    prefix = "commission__credit_application__engagement__"
    if filters.date_from:
        qs = qs.filter(**{f"{prefix}intake__submitted_at__date__gte": filters.date_from})
    if filters.date_to:
        qs = qs.filter(**{f"{prefix}intake__submitted_at__date__lte": filters.date_to})
    if filters.partner_id:
        qs = qs.filter(commission__partner_id=filters.partner_id)
    if filters.pool_id:
        qs = qs.filter(commission__credit_application__pool_id=filters.pool_id)
    return qs


def commission_totals(filters: PipelineFilters) -> tuple[list[tuple[str, Decimal]], list[tuple[str, Decimal]]]:
    """What is owed, by commission status and by partner (two queries)."""
    entries = _commission_entries(filters)
    by_status = dict(
        entries.values("commission__status").annotate(total=Sum("amount")).values_list("commission__status", "total")
    )
    by_partner = list(
        entries.values("commission__partner__name")
        .annotate(total=Sum("amount"))
        .order_by("commission__partner__name")
        .values_list("commission__partner__name", "total")
    )
    status_totals = [(s.label, _cents(by_status.get(s.value))) for s in CommissionStatus]
    return status_totals, [(name, _cents(total)) for name, total in by_partner]


def pipeline_summary(filters: PipelineFilters) -> Pipeline:
    rows = pipeline_rows(filters)
    by_status, by_partner = commission_totals(filters)
    return Pipeline(
        funnel=funnel_from_rows(rows),
        median_days=stage_medians_from_rows(rows),
        commission_by_status=by_status,
        commission_by_partner=by_partner,
        rows=rows,
    )
