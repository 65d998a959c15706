"""Reads that pages, admin and API share; each keeps its query count flat."""
from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Prefetch, Q, QuerySet

from intake.models import Intake

from .models import Engagement, EngagementStatusChange, PoolVerdict
from .models.engagements import WAITING_STATUSES, EngagementStatus
from .roles import access_of, scope_to


def engagements_visible_to(who) -> QuerySet[Engagement]:
    """Every engagement for CloudRoute staff, the firm's own for a partner, none for anyone else
    (`who`: a user or a request; see matching.roles)."""
    return scope_to(Engagement.objects.select_related("intake", "partner"), who, "partner")


def engagement_history_visible_to(who) -> QuerySet[EngagementStatusChange]:
    """The status moves `who` may read: every one for CloudRoute staff; for a partner, the moves
    made while its firm held the engagement and those made before any firm did ("Intake
    received."), never another firm's (a firm that declined it, and the reason it wrote), since an
    engagement a firm declines goes on to the next firm; nothing for anyone else."""
    rows = EngagementStatusChange.objects.all()
    access = access_of(who)
    if access.is_staff:
        return rows
    if not access.is_partner:
        return rows.none()
    return rows.filter(Q(partner__isnull=True) | Q(partner_id=access.partner_id))


def engagements_unmatched() -> QuerySet[Engagement]:
    """The staff queue: engagements nobody is working (unmatched, or declined and not re-placed)."""
    return (
        Engagement.objects.filter(status__in=WAITING_STATUSES)
        .select_related("intake", "partner")
        .order_by("created_at", "id")
    )


def intakes_for_founder() -> QuerySet[Intake]:
    """Intakes with what matching decided for the founder, in a fixed number of queries: verdicts and,
    once evaluated, the engagement with partner and history (intake.engagement is cached, None while
    the intake waits). The status page and API add the filings (filing.selectors)."""
    return (
        Intake.objects.select_related("engagement__partner")
        .prefetch_related(
            # The page names each verdict's rule version; the frozen snapshot stays in the database.
            Prefetch(
                "verdicts",
                queryset=PoolVerdict.objects.select_related("pool", "rule_version").defer("rule_version__snapshot"),
            ),
            "engagement__history",
        )
    )


def engagement_for_founder(*, intake_id: int) -> Engagement | None:
    """The founder's engagement as intakes_for_founder() reads it, or None before evaluation."""
    intake = intakes_for_founder().filter(pk=intake_id).first()
    return intake.engagement_or_none if intake is not None else None


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
