"""Selectors for the staff pipeline dashboard: one row per intake with the moment it reached each
funnel stage, the funnel and stage medians computed from those rows, and commission totals.
A fixed number of queries whatever the number of engagements. It lives in filing because the
funnel runs from matching's engagement moves to filing's ACE, credit and commission records."""
from __future__ import annotations

import datetime as dt
import statistics
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import DecimalField, F, OuterRef, Subquery, Sum, Value
from django.db.models.functions import Coalesce

from intake.models import Intake
from matching.models import Engagement, EngagementStatus, EngagementStatusChange, Partner
from matching.models.engagements import WAITING_STATUSES

from .models import (
    AceReviewStatus,
    AceStatusChange,
    BenefitStatus,
    CommissionEntry,
    CommissionStatus,
    CreditApplication,
    CreditApplicationStatusChange,
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
STAGE_KEYS = [key for key, _ in FUNNEL]
STAGE_LABELS = dict(FUNNEL)
ROW_COLUMNS = [
    "intake_id", "company_name", "intake_at", "partner_name", "engagement_status", "matched_at", "accepted_at",
    "ace_submitted_at", "ace_approved_at", "credits_approved_at", "credits_approved_usd",
]
# The CSV keeps ROW_COLUMNS first (in that order) and adds these after them.
CSV_EXTRA_COLUMNS = ["engagement_id", "country", "stage", "funnel_stage", "pools", "expected_credits_usd"]
CSV_COLUMNS = ROW_COLUMNS + CSV_EXTRA_COLUMNS
_QUERY_COLUMNS = ROW_COLUMNS + ["engagement_id", "country", "stage", "expected_credits_usd", "partner_id"]


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
    partners: list[PartnerFigures] = field(default_factory=list)
    queue: Queue | None = None


def _first(qs, column: str = "changed_at"):
    """The first value of `column` in `qs` ordered by it ("-changed_at" for the latest)."""
    return Subquery(qs.order_by(column).values(column.lstrip("-"))[:1])


def _rows_queryset(filters: PipelineFilters):
    """Every intake in range, annotated with when it reached each stage (not yet evaluated)."""
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
        engagement_id=F("engagement__pk"),
        expected_credits_usd=F("engagement__estimated_credits_usd"),
        partner_id=F("engagement__partner_id"),
    ).order_by("submitted_at", "pk")
    return qs


def _finish(rows: list[dict]) -> list[dict]:
    """Money to the cent, the furthest stage reached, and the matched pools (one query)."""
    pools: dict[int, list[str]] = {}
    engagement_ids = [r["engagement_id"] for r in rows if r["engagement_id"] is not None]
    if engagement_ids:
        links = (
            Engagement.matched_pools.through.objects.filter(engagement_id__in=engagement_ids)
            .order_by("creditpool__name", "creditpool_id")
            .values_list("engagement_id", "creditpool__name")
        )
        for engagement_id, name in links:
            pools.setdefault(engagement_id, []).append(name)
    for row in rows:
        row["credits_approved_usd"] = _cents(row["credits_approved_usd"])
        row["expected_credits_usd"] = (
            None if row["expected_credits_usd"] is None else _cents(row["expected_credits_usd"])
        )
        row["funnel_stage"] = furthest_stage(row)
        row["pool_names"] = pools.get(row["engagement_id"], [])
        row["pools"] = "; ".join(row["pool_names"])
    return rows


def furthest_stage(row: dict) -> str:
    """The last funnel stage this row reached (every intake has reached "intake")."""
    reached = [key for key in STAGE_KEYS if row.get(f"{key}_at") is not None]
    return reached[-1] if reached else STAGE_KEYS[0]


def pipeline_rows(filters: PipelineFilters) -> list[dict]:
    """Every intake in range with when it reached each stage, its pools, expected credits, funding
    stage and country: two queries whatever the number of intakes."""
    return _finish(list(_rows_queryset(filters).values(*_QUERY_COLUMNS)))


def stage_rows(filters: PipelineFilters, stage: str):
    """The rows that reached `stage` (a FUNNEL key), most recent arrival first, as a lazy queryset of
    dicts for a paginator; pass each page's rows through `rows_finish`."""
    if stage not in STAGE_KEYS:
        raise ValueError(f"unknown funnel stage {stage!r}")
    return (
        _rows_queryset(filters)
        .filter(**{f"{stage}_at__isnull": False})
        .order_by(F(f"{stage}_at").desc(), "-pk")
        .values(*_QUERY_COLUMNS)
    )


def rows_finish(rows) -> list[dict]:
    return _finish(list(rows))


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
        partners=partner_table(filters),
        queue=unmatched_queue(),
    )


# --- Per-partner table -----------------------------------------------------------------------------

@dataclass
class PartnerFigures:
    partner_id: int
    name: str
    engagements: int  # engagements offered to the firm (matched with it at least once)
    accepted: int
    declined: int
    awaiting: int  # still matched with the firm, neither accepted nor declined
    acceptance_rate: Decimal | None  # percent of the answered offers (accepted + declined), 1 decimal
    median_hours_to_accept: Decimal | None  # from being matched to accepting, 1 decimal
    credits_approved_usd: Decimal
    commission_usd: Decimal


def _engagement_scope(filters: PipelineFilters, prefix: str) -> dict:
    """The pipeline filters as lookups on a model reaching the intake through `prefix`."""
    lookups = {}
    if filters.date_from:
        lookups[f"{prefix}intake__submitted_at__date__gte"] = filters.date_from
    if filters.date_to:
        lookups[f"{prefix}intake__submitted_at__date__lte"] = filters.date_to
    if filters.pool_id:
        lookups[f"{prefix}matched_pools"] = filters.pool_id
    return lookups


def partner_table(filters: PipelineFilters) -> list[PartnerFigures]:
    """Per partner firm, over the engagements of the intakes in range: how many it was offered, how
    many it accepted (rate over answered offers), the median time from match to accept, the credits
    approved and the commission. Four queries whatever the data."""
    moves = EngagementStatusChange.objects.filter(
        partner__isnull=False,
        to_status__in=[EngagementStatus.MATCHED, EngagementStatus.ACCEPTED, EngagementStatus.DECLINED],
        **_engagement_scope(filters, "engagement__"),
    )
    if filters.partner_id:
        moves = moves.filter(partner_id=filters.partner_id)
    # Per (partner, engagement): when it was last offered, when accepted or declined.
    offers: dict[tuple[int, int], dict] = {}
    names: dict[int, str] = {}
    for partner_id, name, engagement_id, status_now, partner_now, to_status, when in moves.order_by(
        "changed_at", "pk"
    ).values_list(
        "partner_id", "partner__name", "engagement_id", "engagement__status", "engagement__partner_id",
        "to_status", "changed_at",
    ):
        names[partner_id] = name
        offer = offers.setdefault(
            (partner_id, engagement_id),
            {"matched_at": None, "accepted_at": None, "declined": False,
             "open": status_now == EngagementStatus.MATCHED and partner_now == partner_id},
        )
        if to_status == EngagementStatus.MATCHED:
            offer["matched_at"] = when
        elif to_status == EngagementStatus.ACCEPTED and offer["accepted_at"] is None:
            offer["accepted_at"] = when
            offer["hours"] = (
                (when - offer["matched_at"]).total_seconds() / 3600 if offer["matched_at"] is not None else None
            )
        elif to_status == EngagementStatus.DECLINED:
            offer["declined"] = True

    applications = CreditApplication.objects.filter(
        status=BenefitStatus.APPROVED, engagement__partner__isnull=False, **_engagement_scope(filters, "engagement__")
    )
    if filters.partner_id:
        applications = applications.filter(engagement__partner_id=filters.partner_id)
    credits = dict(
        applications.values("engagement__partner_id").annotate(total=Sum("amount_approved"))
        .values_list("engagement__partner_id", "total")
    )
    commission = dict(
        _commission_entries(filters).values("commission__partner_id").annotate(total=Sum("amount"))
        .values_list("commission__partner_id", "total")
    )
    missing = (set(credits) | set(commission)) - set(names)
    if missing:
        names.update(Partner.objects.filter(pk__in=missing).values_list("pk", "name"))

    table = []
    for partner_id, name in names.items():
        mine = [o for (p, _), o in offers.items() if p == partner_id]
        accepted = sum(1 for o in mine if o["accepted_at"] is not None)
        declined = sum(1 for o in mine if o["declined"] and o["accepted_at"] is None)
        hours = [o["hours"] for o in mine if o.get("hours") is not None]
        table.append(
            PartnerFigures(
                partner_id=partner_id,
                name=name,
                engagements=len(mine),
                accepted=accepted,
                declined=declined,
                awaiting=sum(1 for o in mine if o["open"]),
                acceptance_rate=_percent(accepted, accepted + declined),
                median_hours_to_accept=(
                    Decimal(str(statistics.median(hours))).quantize(Decimal("0.1")) if hours else None
                ),
                credits_approved_usd=_cents(credits.get(partner_id)),
                commission_usd=_cents(commission.get(partner_id)),
            )
        )
    table.sort(key=lambda f: (f.name.casefold(), f.partner_id))
    return table


# --- The unmatched queue -----------------------------------------------------------------------------

@dataclass
class Queue:
    count: int
    oldest: list[dict]  # {"engagement_id", "company_name", "country", "status", "waiting_since"}


def unmatched_queue(limit: int = 5) -> Queue:
    """Engagements nobody is working (unmatched, or declined and not re-matched), whatever the
    filters: the count and the `limit` that have waited longest, since they entered the queue."""
    waiting = Engagement.objects.filter(status__in=WAITING_STATUSES)
    since = _first(
        EngagementStatusChange.objects.filter(engagement=OuterRef("pk"), to_status__in=WAITING_STATUSES)
        .order_by("-changed_at"),
        "-changed_at",
    )
    oldest = list(
        waiting.annotate(waiting_since=Coalesce(since, F("created_at")))
        .order_by("waiting_since", "pk")
        .values("pk", "intake__company_name", "intake__country", "status", "waiting_since")[:limit]
    )
    return Queue(
        count=waiting.count(),
        oldest=[
            {"engagement_id": r["pk"], "company_name": r["intake__company_name"], "country": r["intake__country"],
             "status": EngagementStatus(r["status"]).label, "waiting_since": r["waiting_since"]}
            for r in oldest
        ],
    )
