"""What filing does when matching accepts an engagement: the ACE draft and one credit application per
matched pool, in the accepting transaction. matching sends `engagement_accepted`; it never imports
filing."""
from __future__ import annotations

from django.db import transaction

from matching.models import Engagement
from matching.signals import engagement_accepted

from .ace import ace_opportunity_draft
from .credit_applications import credit_applications_open
from .models import AceOpportunity


def engagement_filings_prepare(*, engagement: Engagement, by=None) -> AceOpportunity:
    """For an accepted engagement: the ACE draft and one credit application per matched pool."""
    with transaction.atomic():
        opportunity = ace_opportunity_draft(engagement=engagement, by=by)
        credit_applications_open(engagement=engagement, by=by)
    return opportunity


def on_engagement_accepted(sender, *, engagement: Engagement, by=None, **kwargs) -> None:
    engagement_filings_prepare(engagement=engagement, by=by)


def connect() -> None:
    engagement_accepted.connect(on_engagement_accepted, dispatch_uid="filing-engagement-accepted")
