"""Reads of the filings that pages, emails, admin and API share; each keeps its query count flat."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.db.models import Max, Min, Prefetch, QuerySet, Sum

from intake.models import Intake
from matching.models import Engagement, PoolVerdict
from matching.models.engagements import EngagementStatus
from matching.selectors import engagements_visible_to, intakes_for_founder

from .models import AceReviewStatus, AceStatusChange, BenefitStatus, CreditApplication, CreditApplicationStatusChange


def intakes_for_founder_status() -> QuerySet[Intake]:
    """Intakes with everything the founder's status page and API show, in a fixed number of
    queries: matching's verdicts, engagement, partner and history (matching.selectors.intakes_for_founder),
    and the engagement's ACE opportunity and credit applications."""
    return intakes_for_founder().select_related("engagement__ace_opportunity").prefetch_related(
        Prefetch("engagement__credit_applications", queryset=CreditApplication.objects.select_related("pool")),
    )


@dataclass(frozen=True)
class Milestone:
    key: str
    label: str
    at: datetime | None  # None: not reached yet

    @property
    def done(self) -> bool:
        return self.at is not None


def engagement_milestones(engagement: Engagement) -> list[Milestone]:
    """The founder's timeline: received, matched, partner accepted, ACE submitted, ACE approved,
    credits approved; each with the date it last happened (a re-match shows the latest match)."""
    moves = {row["to_status"]: row["at"] for row in engagement.history.values("to_status").annotate(at=Max("changed_at"))}
    ace = AceStatusChange.objects.filter(opportunity__engagement=engagement, field=AceStatusChange.Field.REVIEW_STATUS)
    ace_at = {row["to_value"]: row["at"] for row in ace.values("to_value").annotate(at=Min("changed_at"))}
    credits_at = CreditApplication.objects.filter(
        engagement=engagement, status=BenefitStatus.APPROVED).aggregate(at=Min("decided_at"))["at"]
    accepted = moves.get(EngagementStatus.ACCEPTED)
    if accepted is None and engagement.status in (EngagementStatus.IN_PROGRESS, EngagementStatus.CLOSED):
        accepted = moves.get(EngagementStatus.IN_PROGRESS)
    matched = moves.get(EngagementStatus.MATCHED) if engagement.partner_id else None
    return [
        Milestone("received", "Intake received", engagement.intake.submitted_at),
        Milestone("matched", "Matched with a partner", matched),
        Milestone("accepted", "Partner accepted", accepted if engagement.partner_id else None),
        Milestone("ace_submitted", "Registered with AWS (ACE submitted)", ace_at.get(AceReviewStatus.SUBMITTED)),
        Milestone("ace_approved", "AWS approved the registration", ace_at.get(AceReviewStatus.APPROVED)),
        Milestone("credits_approved", "Credits approved", credits_at),
    ]


def engagement_credits(engagement: Engagement) -> dict[str, Decimal]:
    """Credits expected at intake (competitive awards left out) and approved so far, in USD."""
    approved = CreditApplication.objects.filter(engagement=engagement, status=BenefitStatus.APPROVED).aggregate(
        total=Sum("amount_approved"))["total"]
    return {"expected": engagement.estimated_credits_usd, "approved": approved or Decimal("0")}


def engagement_workspace(who, pk: int) -> Engagement | None:
    """One engagement as the partner's workspace shows it (None when `who` may not see it): the
    intake with its verdicts and pools, history, ACE draft and credit applications, in a fixed
    number of queries."""
    return (
        engagements_visible_to(who)
        .select_related("ace_opportunity")
        .prefetch_related(
            Prefetch("intake__verdicts", queryset=PoolVerdict.objects.select_related("pool").order_by("pool__position",
                                                                                                      "pool__name")),
            "history",
            Prefetch("credit_applications", queryset=CreditApplication.objects.select_related("pool")),
        )
        .filter(pk=pk)
        .first()
    )


@dataclass(frozen=True)
class FilingMove:
    """One move of an engagement's ACE opportunity or credit applications, as its timeline shows it."""

    at: datetime
    what: str
    reason: str


def engagement_filing_moves(engagement: Engagement) -> list[FilingMove]:
    """Every status move of the engagement's ACE opportunity (stage, review status) and of its credit
    applications, oldest first, in two queries: the workspace's history shows them beside the
    engagement's own moves, so a partner sees when and why a filing moved without opening each."""
    moves = [
        FilingMove(change.changed_at, f"ACE {change.get_field_display().lower()}: {change.to_value}", change.comment)
        for change in AceStatusChange.objects.filter(opportunity__engagement=engagement)
    ]
    moves += [
        FilingMove(change.changed_at, f"{change.application.pool.name} credit application: "
                                      f"{change.get_to_status_display()}", change.reason)
        for change in CreditApplicationStatusChange.objects.filter(application__engagement=engagement)
        .select_related("application__pool")
    ]
    return sorted(moves, key=lambda move: move.at)
