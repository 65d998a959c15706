"""Filing answers matching's `engagement_accepted` inside the accepting transaction, and "still a
draft" is one rule (filing.ace / filing.credit_applications) that the verbs, the API and the admin ask."""
import pytest
from django.db import transaction

from filing.ace import ace_draft_required, ace_is_draft, ace_opportunity_update
from filing.credit_applications import credit_application_is_draft, credit_applications_open
from filing.errors import FilingError
from filing.models import AceOpportunity, AceReviewStatus, BenefitStatus, CreditApplication
from matching import services
from matching.signals import engagement_accepted

from .filing_support import FilingEngagementFactory, FilingPoolFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def matched():
    engagement = FilingEngagementFactory(status="matched")
    engagement.matched_pools.add(FilingPoolFactory(slug="poc", name="Bedrock POC", filing_route="partner_ace"))
    return engagement


def test_accepting_drafts_the_ace_opportunity_and_the_credit_applications(matched):
    services.engagement_accept(engagement=matched, by=None)

    assert AceOpportunity.objects.get(engagement=matched).review_status == AceReviewStatus.PENDING_SUBMISSION
    assert [a.pool.slug for a in CreditApplication.objects.filter(engagement=matched)] == ["poc"]


def test_the_drafts_roll_back_with_the_acceptance_that_made_them(matched):
    def refuse(sender, **kwargs):
        raise RuntimeError("a later step of the acceptance fails")

    engagement_accepted.connect(refuse, dispatch_uid="test-refuse-after-filing")
    try:
        with pytest.raises(RuntimeError):
            services.engagement_accept(engagement=matched, by=None)
    finally:
        engagement_accepted.disconnect(dispatch_uid="test-refuse-after-filing")

    matched.refresh_from_db()
    assert matched.status == "matched"
    assert not AceOpportunity.objects.filter(engagement=matched).exists()
    assert not CreditApplication.objects.filter(engagement=matched).exists()


def test_a_filed_opportunity_is_no_longer_a_draft_and_refuses_edits(matched):
    services.engagement_accept(engagement=matched, by=None)
    opportunity = AceOpportunity.objects.get(engagement=matched)
    assert ace_is_draft(opportunity)
    ace_draft_required(opportunity)  # a draft passes

    for status, draft in [(AceReviewStatus.ACTION_REQUIRED, True), (AceReviewStatus.SUBMITTED, False),
                          (AceReviewStatus.IN_REVIEW, False), (AceReviewStatus.APPROVED, False)]:
        AceOpportunity.objects.filter(pk=opportunity.pk).update(review_status=status)
        opportunity.refresh_from_db()
        assert ace_is_draft(opportunity) is draft, status
    with pytest.raises(FilingError, match="The opportunity is Approved: only a draft can be edited."):
        ace_draft_required(opportunity)
    with pytest.raises(FilingError, match="only a draft can be edited"):
        ace_opportunity_update(opportunity=opportunity, fields={"title": "Changed after approval"})
    opportunity.refresh_from_db()
    assert opportunity.title != "Changed after approval"


def test_a_credit_application_is_a_draft_until_submitted_or_while_action_is_required(matched):
    with transaction.atomic():
        [application] = credit_applications_open(engagement=matched)
    drafts = {status for status in BenefitStatus
              if credit_application_is_draft(CreditApplication(status=status))}
    assert drafts == {BenefitStatus.PENDING_SUBMISSION, BenefitStatus.ACTION_REQUIRED}
    assert credit_application_is_draft(application)
