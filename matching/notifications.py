"""Email on the engagement's moves: the partner firm on a new match, and the sending every
notification shares (after commit, muted for demo data). Sent from the history rows the services
write, so no code path can skip them. The founder's milestone emails (matched, partner accepted, ACE
submitted, ACE approved, credits approved) read the filings: filing.notifications."""
from __future__ import annotations

import contextvars
import logging
from contextlib import contextmanager

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.db.models.signals import post_save
from django.template.loader import render_to_string
from django.urls import reverse

from .models import Engagement, EngagementStatusChange, Partner
from .models.engagements import EngagementStatus

log = logging.getLogger(__name__)

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


def email_send(*, to: list[str], subject: str, template: str, context: dict) -> None:
    """Render templates/emails/<template>.txt and .html and send them as one message."""
    if not to:
        return
    context = {"site_url": settings.SITE_URL.rstrip("/"), **context}
    message = EmailMultiAlternatives(
        subject=subject, body=render_to_string(f"emails/{template}.txt", context), to=to,
    )
    message.attach_alternative(render_to_string(f"emails/{template}.html", context), "text/html")
    message.send()


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


def partner_new_match_send(*, engagement_id: int, partner_id: int) -> None:
    engagement = Engagement.objects.select_related("intake").get(pk=engagement_id)
    partner = Partner.objects.get(pk=partner_id)
    email_send(
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


def after_commit(func, **kwargs) -> None:
    if _muted.get():
        return

    def send():
        try:
            func(**kwargs)
        except Exception:  # a mail server hiccup must not undo or break the business change
            log.exception("notification %s failed for %s", func.__name__, kwargs)

    transaction.on_commit(send)


def on_engagement_move(sender, instance: EngagementStatusChange, created: bool, **kwargs) -> None:
    """The partner firm hears of a new match; the founder's milestone emails are filing's
    (filing.notifications), connected after this one."""
    if not created:
        return
    if instance.to_status == EngagementStatus.MATCHED and instance.partner_id:
        after_commit(partner_new_match_send, engagement_id=instance.engagement_id, partner_id=instance.partner_id)


def connect() -> None:
    post_save.connect(on_engagement_move, sender=EngagementStatusChange, dispatch_uid="notify-engagement-move")
