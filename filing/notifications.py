"""The founder's milestone emails: matched, partner accepted, ACE submitted, ACE approved, credits
approved, each with the timeline and credits so far. Sent after commit from the history rows the
services write (matching's engagement moves, filing's ACE and credit-application moves), queued in
their transaction through matching.notifications (core.mail), so no code path can skip them; each is
composed from the committed data when it is sent, once per history row."""
from __future__ import annotations

from django.db.models.signals import post_save

from core.mail import Email, email_composer

from matching.models import Engagement, EngagementStatusChange
from matching.models.engagements import EngagementStatus
from matching.notifications import founder_match_is_covered, notification_queue

from .models import AceReviewStatus, AceStatusChange, BenefitStatus, CreditApplication, CreditApplicationStatusChange
from .selectors import engagement_credits, engagement_milestones

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


def on_engagement_move(sender, instance: EngagementStatusChange, created: bool, **kwargs) -> None:
    if not created:
        return
    if instance.to_status == EngagementStatus.MATCHED and instance.partner_id:
        if not founder_match_is_covered():
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
    # After matching's own receiver (its app is ready first): the partner's match email is queued first.
    post_save.connect(on_engagement_move, sender=EngagementStatusChange, dispatch_uid="notify-founder-engagement-move")
    post_save.connect(on_ace_move, sender=AceStatusChange, dispatch_uid="notify-ace-move")
    post_save.connect(on_credit_move, sender=CreditApplicationStatusChange, dispatch_uid="notify-credit-move")
