"""Engagement status moves: the allowed ones write history, the others are refused, and a decline
goes back to matching without the partner that declined."""
import pytest

from matching import services
from matching.models import ALLOWED_MOVES, EngagementStatus
from matching.selectors import engagements_unmatched
from tests.factories import PartnerFactory, UserFactory, open_engagement

pytestmark = pytest.mark.django_db



def test_accept_start_close_walks_the_happy_path_with_history():
    partner = PartnerFactory()
    partner_user = UserFactory()
    engagement = open_engagement()

    engagement = services.engagement_accept(engagement=engagement, by=partner_user)
    engagement = services.engagement_start(engagement=engagement, by=partner_user)
    engagement = services.engagement_close(engagement=engagement, by=partner_user, reason="Credits approved.")

    moves = [(h.from_status, h.to_status) for h in engagement.history.all()]
    assert moves == [("", "unmatched"), ("unmatched", "matched"), ("matched", "accepted"),
                     ("accepted", "in_progress"), ("in_progress", "closed")]
    assert engagement.history.last().changed_by == partner_user
    assert engagement.history.get(to_status="accepted").partner == partner


@pytest.mark.parametrize("verb", ["engagement_start", "engagement_accept"])
def test_moves_not_allowed_from_unmatched_are_refused(verb):
    engagement = open_engagement()  # no partners: unmatched

    with pytest.raises(services.MatchingError, match="cannot become"):
        getattr(services, verb)(engagement=engagement, by=None)

    engagement.refresh_from_db()
    assert engagement.status == EngagementStatus.UNMATCHED
    assert engagement.history.count() == 1


def test_closed_is_final():
    assert ALLOWED_MOVES[EngagementStatus.CLOSED] == frozenset()
    engagement = open_engagement()
    services.engagement_close(engagement=engagement, by=None)

    with pytest.raises(services.MatchingError):
        services.engagement_close(engagement=engagement, by=None)


def test_decline_rematches_to_another_partner_and_never_back():
    first = PartnerFactory(name="A First")
    second = PartnerFactory(name="B Second")
    engagement = open_engagement()
    assert engagement.partner == first

    engagement = services.engagement_decline(engagement=engagement, by=None, reason="No GenAI staff free this month.")

    assert (engagement.status, engagement.partner) == (EngagementStatus.MATCHED, second)
    declined = engagement.history.get(to_status="declined")
    assert (declined.partner, declined.reason) == (first, "No GenAI staff free this month.")
    excluded = engagement.match_decisions.last().breakdown["excluded"]
    assert excluded == [{"partner_id": first.id, "partner": "A First", "why": "declined this engagement before"}]


def test_decline_with_nobody_else_puts_it_in_the_unmatched_queue():
    PartnerFactory()
    engagement = open_engagement()

    engagement = services.engagement_decline(engagement=engagement, by=None, reason="Out of region.")

    assert engagement.status == EngagementStatus.UNMATCHED and engagement.partner is None
    assert list(engagements_unmatched()) == [engagement]
    assert [h.to_status for h in engagement.history.all()][-2:] == ["declined", "unmatched"]


def test_decline_needs_a_reason():
    PartnerFactory()
    engagement = open_engagement()
    with pytest.raises(services.MatchingError, match="Say why"):
        services.engagement_decline(engagement=engagement, by=None, reason="")


def test_engagement_links_eligible_pools_and_sums_their_estimates(pools):
    PartnerFactory()
    engagement = open_engagement(funding_kind="bootstrapped", investor_name="", investor_is_activate_provider=False,
                                 stage="series_b_plus")

    # Activate (Founders included) is pre-Series B; the POC and Build for Startups set no stage condition.
    assert sorted(engagement.matched_pools.values_list("slug", flat=True)) == ["bedrock-poc", "build-for-startups"]
    assert engagement.estimated_credits_usd == 25000 + 25000
