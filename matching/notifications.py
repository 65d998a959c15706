"""Email on the engagement's moves: the partner firm on a new match, and the queueing every
notification shares (core.mail; muted for demo data). Queued from the history rows the services
write, in their transaction, so no code path can skip them; each is composed from the committed data
when it is sent, once per history row. The founder's milestone emails (matched, partner accepted, ACE
submitted, ACE approved, credits approved) read the filings: filing.notifications."""
from __future__ import annotations

import contextvars
from contextlib import contextmanager

from django.conf import settings
from django.db.models.signals import post_save
from django.urls import reverse

from core.mail import Email, email_composer, email_queue_composed

from .models import Engagement, EngagementStatusChange, Partner
from .models.engagements import EngagementStatus

# Inside intake submission the founder's first email (verdicts and partner) covers the match.
_founder_match_covered: contextvars.ContextVar[bool] = contextvars.ContextVar("founder_match_covered", default=False)


@contextmanager
def _switched_on(flag: contextvars.ContextVar[bool]):
    token = flag.set(True)
    try:
        yield
    finally:
        flag.reset(token)


def founder_match_covered():
    """Matches made inside this block send no separate "you are matched" email to the founder."""
    return _switched_on(_founder_match_covered)


def founder_match_is_covered() -> bool:
    """Whether a match made now is covered by the founder's first email (inside founder_match_covered)."""
    return _founder_match_covered.get()


def partner_emails(partner: Partner | None) -> list[str]:
    """The addresses of the logins that hold the partner role at the firm (matching.roles)."""
    from .roles import partner_logins

    if partner is None:
        return []
    return sorted({user.email for user in partner_logins(partner) if user.email})


def admin_url(obj) -> str:
    path = reverse(f"admin:{obj._meta.app_label}_{obj._meta.model_name}_change", args=[obj.pk])
    return settings.SITE_URL.rstrip("/") + path


def workspace_url(engagement) -> str:
    """The engagement's page in the partner's workspace, where it is accepted or declined."""
    return settings.SITE_URL.rstrip("/") + reverse("workspace:detail", args=[engagement.pk])


@email_composer("partner_new_match")
def partner_new_match_email(*, engagement_id: int, partner_id: int) -> Email:
    engagement = Engagement.objects.select_related("intake").get(pk=engagement_id)
    partner = Partner.objects.get(pk=partner_id)
    return Email(
        to=partner_emails(partner),
        subject=f"CloudRoute: new match — {engagement.intake.company_name}",
        template="partner_new_match",
        context={"engagement": engagement, "intake": engagement.intake, "partner": partner,
                 "pools": list(engagement.matched_pools.all()), "admin_url": admin_url(engagement),
                 "workspace_url": workspace_url(engagement)},
    )


_muted: contextvars.ContextVar[bool] = contextvars.ContextVar("notifications_muted", default=False)


def notifications_muted():
    """No milestone emails for changes made inside this block (demo data, bulk imports)."""
    return _switched_on(_muted)


def notification_queue(*, key: str, composer: str, **params) -> None:
    """Queue the email `composer` writes from `params`, once per `key`, unless notifications are muted.
    Delivery (core.mail) never undoes or breaks the business change: it runs after the commit."""
    if _muted.get():
        return
    email_queue_composed(key=key, composer=composer, params=params)


def on_engagement_move(sender, instance: EngagementStatusChange, created: bool, **kwargs) -> None:
    """The partner firm hears of a new match; the founder's milestone emails are filing's
    (filing.notifications), connected after this one."""
    if not created:
        return
    if instance.to_status == EngagementStatus.MATCHED and instance.partner_id:
        notification_queue(key=f"engagement-move:{instance.pk}:partner", composer="partner_new_match",
                           engagement_id=instance.engagement_id, partner_id=instance.partner_id)


def connect() -> None:
    post_save.connect(on_engagement_move, sender=EngagementStatusChange, dispatch_uid="notify-engagement-move")
