"""Reads that pages, admin and API share; each keeps its query count flat."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.db.models import Max, Min, Prefetch, QuerySet, Sum

from intake.models import Intake

from .models import CreditApplication, Engagement, PoolVerdict
from .models.engagements import WAITING_STATUSES, EngagementStatus
from .roles import scope_to


def engagements_visible_to(who) -> QuerySet[Engagement]:
    """Every engagement for CloudRoute staff, the firm's own for a partner, none for anyone else
    (`who`: a user or a request; see matching.roles)."""
    return scope_to(Engagement.objects.select_related("intake", "partner"), who, "partner")


def engagements_unmatched() -> QuerySet[Engagement]:
    """The staff queue: engagements nobody is working (unmatched, or declined and not re-placed)."""
    return (
        Engagement.objects.filter(status__in=WAITING_STATUSES)
        .select_related("intake", "partner")
        .order_by("created_at", "id")
    )


def intakes_for_founder() -> QuerySet[Intake]:
    """Intakes with everything the founder's status page and API show, in a fixed number of
    queries: verdicts and, once evaluated, the engagement with partner, history, ACE opportunity
    and credit applications (intake.engagement is cached, None while the intake waits)."""
    return (
        Intake.objects.select_related("engagement__partner", "engagement__ace_opportunity")
        .prefetch_related(
            # The page names each verdict's rule version; the frozen snapshot stays in the database.
            Prefetch(
                "verdicts",
                queryset=PoolVerdict.objects.select_related("pool", "rule_version").defer("rule_version__snapshot"),
            ),
            "engagement__history",
            Prefetch("engagement__credit_applications", queryset=CreditApplication.objects.select_related("pool")),
        )
    )


def engagement_for_founder(*, intake_id: int) -> Engagement | None:
    """The founder's engagement as intakes_for_founder() reads it, or None before evaluation."""
    intake = intakes_for_founder().filter(pk=intake_id).first()
    return intake.engagement_or_none if intake is not None else None



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
    from .models import AceReviewStatus, AceStatusChange, BenefitStatus, CreditApplication

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


@dataclass(frozen=True)
class PartnerContact:
    firm: str
    person: str  # may be blank
    email: str  # may be blank: then the firm writes first
    accepted: bool  # False while the firm has yet to accept the match


def engagement_partner_contact(engagement: Engagement) -> PartnerContact | None:
    """Who the founder talks to at the matched firm; None while no firm holds the engagement (not
    yet matched, or declined and waiting for a re-match)."""
    partner = engagement.partner
    if partner is None or engagement.status in WAITING_STATUSES:
        return None
    return PartnerContact(
        firm=partner.name,
        person=partner.contact_name,
        email=partner.contact_email,
        accepted=engagement.status != EngagementStatus.MATCHED,
    )


def engagement_credits(engagement: Engagement) -> dict[str, Decimal]:
    """Credits expected at intake (competitive awards left out) and approved so far, in USD."""
    from .models import BenefitStatus, CreditApplication

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
