"""Email on the engagement's milestones: the founder when matched and at each step (partner
accepted, ACE submitted, ACE approved, credits approved); the partner firm on a new match. Queued
(core.mail) from the history rows the services write, in their transaction, so no code path can
skip them; each is composed from the committed data when it is sent, once per history row."""
from __future__ import annotations

import contextvars
from contextlib import contextmanager

from django.conf import settings
from django.db.models.signals import post_save
from django.urls import reverse

from core.mail import Email, email_composer, email_queue_composed

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


@email_composer("founder_milestone")
def founder_milestone_email(*, engagement_id: int, milestone: str, application_id: int | None = None) -> Email:
    from intake.links import status_url

    from .selectors import engagement_credits, engagement_milestones

    engagement = Engagement.objects.select_related("intake", "partner").get(pk=engagement_id)
    subject, sentence = FOUNDER_MILESTONES[milestone]
    application = (CreditApplication.objects.select_related("pool").get(pk=application_id)
                   if application_id else None)
    values = {"partner": engagement.partner.name if engagement.partner else "your partner",
              "pool": application.pool.name if application else "",
              "amount": f"{application.amount_approved or 0:,.0f}" if application else ""}
    return Email(
        to=[engagement.intake.contact_email],
        subject=f"CloudRoute: {subject.format(**values)}",
        template="founder_milestone",
        context={"engagement": engagement, "intake": engagement.intake, "headline": subject.format(**values),
                 "sentence": sentence.format(**values), "milestones": engagement_milestones(engagement),
                 "credits": engagement_credits(engagement), "status_url": status_url(engagement.intake)},
    )


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
    if not created:
        return
    if instance.to_status == EngagementStatus.MATCHED and instance.partner_id:
        notification_queue(key=f"engagement-move:{instance.pk}:partner", composer="partner_new_match",
                           engagement_id=instance.engagement_id, partner_id=instance.partner_id)
        if not _founder_match_covered.get():
            notification_queue(key=f"engagement-move:{instance.pk}:founder", composer="founder_milestone",
                               engagement_id=instance.engagement_id, milestone="matched")
    elif instance.to_status == EngagementStatus.ACCEPTED:
        notification_queue(key=f"engagement-move:{instance.pk}:founder", composer="founder_milestone",
                           engagement_id=instance.engagement_id, milestone="accepted")


def on_ace_move(sender, instance: AceStatusChange, created: bool, **kwargs) -> None:
    if not created or instance.field != AceStatusChange.Field.REVIEW_STATUS:
        return
    milestone = {AceReviewStatus.SUBMITTED: "ace_submitted", AceReviewStatus.APPROVED: "ace_approved"}.get(
        instance.to_value)
    # A resubmission after "Action Required" is not news to the founder.
    if milestone and not (milestone == "ace_submitted" and instance.from_value == AceReviewStatus.ACTION_REQUIRED):
        notification_queue(key=f"ace-move:{instance.pk}:founder", composer="founder_milestone",
                           engagement_id=instance.opportunity.engagement_id, milestone=milestone)


def on_credit_move(sender, instance: CreditApplicationStatusChange, created: bool, **kwargs) -> None:
    if not created or instance.to_status != BenefitStatus.APPROVED:
        return
    notification_queue(key=f"credit-move:{instance.pk}:founder", composer="founder_milestone",
                       engagement_id=instance.application.engagement_id, milestone="credits_approved",
                       application_id=instance.application_id)


def connect() -> None:
    post_save.connect(on_engagement_move, sender=EngagementStatusChange, dispatch_uid="notify-engagement-move")
    post_save.connect(on_ace_move, sender=AceStatusChange, dispatch_uid="notify-ace-move")
    post_save.connect(on_credit_move, sender=CreditApplicationStatusChange, dispatch_uid="notify-credit-move")
