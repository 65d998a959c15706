"""Email on the engagement's milestones: the founder when matched and at each step (partner
accepted, ACE submitted, ACE approved, credits approved); the partner firm on a new match. Sent
after commit from the history rows the services write, so no code path can skip them."""
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

from .models import (
    AceReviewStatus,
    AceStatusChange,
    BenefitStatus,
    CreditApplication,
    CreditApplicationStatusChange,
    Engagement,
    EngagementStatusChange,
    Partner,
)
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


FOUNDER_MILESTONES = {
    "matched": ("You are matched with {partner}", "{partner}, a vetted AWS partner, will file your credits and help build your workload. They will be in touch."),
    "accepted": ("{partner} accepted your engagement", "Your partner is preparing the AWS registration (ACE) and the credit applications."),
    "ace_submitted": ("Your project is registered with AWS", "{partner} submitted your co-sell registration to AWS; AWS reviews it next."),
    "ace_approved": ("AWS approved your registration", "AWS approved the co-sell registration {partner} filed for you. Credit decisions follow."),
    "credits_approved": ("Credits approved: {pool}", "AWS approved ${amount} of credits from {pool}."),
}


def founder_milestone_send(*, engagement_id: int, milestone: str, application_id: int | None = None) -> None:
    from intake.links import status_url

    from .selectors import engagement_credits, engagement_milestones

    engagement = Engagement.objects.select_related("intake", "partner").get(pk=engagement_id)
    subject, sentence = FOUNDER_MILESTONES[milestone]
    application = (CreditApplication.objects.select_related("pool").get(pk=application_id)
                   if application_id else None)
    values = {"partner": engagement.partner.name if engagement.partner else "your partner",
              "pool": application.pool.name if application else "",
              "amount": f"{application.amount_approved or 0:,.0f}" if application else ""}
    email_send(
        to=[engagement.intake.contact_email],
        subject=f"CloudRoute: {subject.format(**values)}",
        template="founder_milestone",
        context={"engagement": engagement, "intake": engagement.intake, "headline": subject.format(**values),
                 "sentence": sentence.format(**values), "milestones": engagement_milestones(engagement),
                 "credits": engagement_credits(engagement), "status_url": status_url(engagement.intake)},
    )


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
    if not created:
        return
    if instance.to_status == EngagementStatus.MATCHED and instance.partner_id:
        after_commit(partner_new_match_send, engagement_id=instance.engagement_id, partner_id=instance.partner_id)
        if not _founder_match_covered.get():
            after_commit(founder_milestone_send, engagement_id=instance.engagement_id, milestone="matched")
    elif instance.to_status == EngagementStatus.ACCEPTED:
        after_commit(founder_milestone_send, engagement_id=instance.engagement_id, milestone="accepted")


def on_ace_move(sender, instance: AceStatusChange, created: bool, **kwargs) -> None:
    if not created or instance.field != AceStatusChange.Field.REVIEW_STATUS:
        return
    milestone = {AceReviewStatus.SUBMITTED: "ace_submitted", AceReviewStatus.APPROVED: "ace_approved"}.get(
        instance.to_value)
    # A resubmission after "Action Required" is not news to the founder.
    if milestone and not (milestone == "ace_submitted" and instance.from_value == AceReviewStatus.ACTION_REQUIRED):
        after_commit(founder_milestone_send, engagement_id=instance.opportunity.engagement_id, milestone=milestone)


def on_credit_move(sender, instance: CreditApplicationStatusChange, created: bool, **kwargs) -> None:
    if not created or instance.to_status != BenefitStatus.APPROVED:
        return
    after_commit(founder_milestone_send, engagement_id=instance.application.engagement_id,
                  milestone="credits_approved", application_id=instance.application_id)


def connect() -> None:
    post_save.connect(on_engagement_move, sender=EngagementStatusChange, dispatch_uid="notify-engagement-move")
    post_save.connect(on_ace_move, sender=AceStatusChange, dispatch_uid="notify-ace-move")
    post_save.connect(on_credit_move, sender=CreditApplicationStatusChange, dispatch_uid="notify-credit-move")
