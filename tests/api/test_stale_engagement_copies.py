"""A verb on an engagement acts on the row as it is when locked, not on the caller's copy: a firm
whose copy is stale (a double-clicked Decline then Accept, two tabs) cannot accept, decline, start
or close the match of the firm the engagement moved to, and a partner's login acts only on its own
firm's engagement, whichever copy it hands the service."""
import pytest

from matching import services
from matching.models import Engagement, EngagementStatus
from tests.factories import PartnerFactory

pytestmark = pytest.mark.django_db


def _declined_elsewhere(world):
    """Two copies of Alpha's match; Alpha declines through the first and Gamma gets the match."""
    first, second = (Engagement.objects.get(pk=world.matched_a.pk) for _ in range(2))
    gamma = PartnerFactory(name="Gamma Works")
    services.engagement_decline(engagement=first, by=world.alice, reason="No capacity")
    assert Engagement.objects.get(pk=world.matched_a.pk).partner == gamma
    return second, gamma


@pytest.mark.parametrize("verb", ["accept", "decline", "start", "close"])
def test_a_stale_copy_cannot_act_on_the_firm_the_engagement_moved_to(world, verb):
    stale, gamma = _declined_elsewhere(world)
    calls = {
        "accept": lambda: services.engagement_accept(engagement=stale, by=world.alice),
        "decline": lambda: services.engagement_decline(engagement=stale, by=world.alice, reason="Again"),
        "start": lambda: services.engagement_start(engagement=stale, by=world.alice),
        "close": lambda: services.engagement_close(engagement=stale, by=world.alice),
    }

    history_before = stale.history.count()

    with pytest.raises(services.MatchingError, match="moved to another firm"):
        calls[verb]()

    now = Engagement.objects.get(pk=world.matched_a.pk)
    assert (now.partner, now.status) == (gamma, EngagementStatus.MATCHED)
    assert now.history.count() == history_before  # nothing recorded in Gamma's name


def test_a_partner_login_acts_only_on_its_own_firms_engagement(world):
    with pytest.raises(services.MatchingError, match="not with your firm"):
        services.engagement_accept(engagement=world.matched_a, by=world.bob)

    assert Engagement.objects.get(pk=world.matched_a.pk).status == EngagementStatus.MATCHED


def test_the_double_clicked_decline_then_accept_through_the_api_leaves_the_new_match_alone(world):
    alice = world.client("alice")
    gamma = PartnerFactory(name="Gamma Works")
    stale = Engagement.objects.get(pk=world.matched_a.pk)
    assert alice.post(f"/api/engagements/{world.matched_a.pk}/decline/", {"reason": "No capacity"},
                      format="json").status_code == 204

    # The second click's view would have checked Alpha's right on the copy it read before the decline.
    with pytest.raises(services.MatchingError):
        services.engagement_accept(engagement=stale, by=world.alice)
    assert alice.post(f"/api/engagements/{world.matched_a.pk}/accept/").status_code == 404
    assert Engagement.objects.get(pk=world.matched_a.pk).partner == gamma
