"""Reads that pages, admin and API share; each keeps its query count flat."""
from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Prefetch, QuerySet

from .models import Engagement, Partner, PartnerMember, PoolVerdict
from .models.engagements import WAITING_STATUSES


def partner_for_user(user: AbstractBaseUser) -> Partner | None:
    """The partner firm a login works for, or None (staff and strangers)."""
    if not user or not user.is_authenticated:
        return None
    member = PartnerMember.objects.select_related("partner").filter(user=user).first()
    return member.partner if member else None


def engagements_visible_to(user: AbstractBaseUser) -> QuerySet[Engagement]:
    """Everything for superusers and CloudRoute staff without a firm; only their firm's engagements
    for partner users; nothing for anyone else."""
    qs = Engagement.objects.select_related("intake", "partner")
    if not user or not user.is_authenticated:
        return qs.none()
    partner = partner_for_user(user)
    if partner is not None and not user.is_superuser:
        return qs.filter(partner=partner)
    if user.is_staff or user.is_superuser:
        return qs
    return qs.none()


def engagements_unmatched() -> QuerySet[Engagement]:
    """The staff queue: engagements nobody is working (unmatched, or declined and not re-placed)."""
    return (
        Engagement.objects.filter(status__in=WAITING_STATUSES)
        .select_related("intake", "partner")
        .order_by("created_at", "id")
    )


def engagement_for_founder(*, intake_id: int) -> Engagement | None:
    """Everything the founder's status page shows, in a fixed number of queries."""
    return (
        Engagement.objects.select_related("intake", "partner")
        .prefetch_related(
            "history",
            Prefetch("intake__verdicts", queryset=PoolVerdict.objects.select_related("pool", "rule_version")),
        )
        .filter(intake_id=intake_id)
        .first()
    )

