"""An engagement a firm declines goes on to the next firm, with its history. The next firm reads
only the moves of its own tenure (and those before any firm held it): never that another firm had
it and declined it, nor the reason that firm wrote, on any surface (API, workspace page, admin)."""
import pytest
from django.test import Client
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from matching import services
from matching.admin_scoping import admin_groups_ensure
from matching.models import Engagement
from tests.factories import PartnerFactory, PartnerMemberFactory

pytestmark = pytest.mark.django_db

ALPHA_REASON = "Conflict: our client Quokkasoft competes with them"


@pytest.fixture
def passed_on(world):
    partner_group, _ = admin_groups_ensure()
    gamma = PartnerFactory(name="Gamma Works")
    gwen = PartnerMemberFactory(partner=gamma, user__username="gwen", user__is_staff=True).user
    gwen.groups.add(partner_group)
    services.engagement_decline(engagement=world.matched_a, by=world.alice, reason=ALPHA_REASON)
    engagement = Engagement.objects.get(pk=world.matched_a.pk)
    assert engagement.partner == gamma
    return engagement, gwen


def _surfaces(engagement, login):
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.get_or_create(user=login)[0].key}")
    page = Client()
    page.force_login(login)
    return {
        "api": api.get(f"/api/engagements/{engagement.pk}/"),
        "api list": api.get("/api/engagements/"),
        "workspace": page.get(f"/engagements/{engagement.pk}/"),
        "admin": page.get(f"/admin/matching/engagement/{engagement.pk}/change/"),
    }


def test_the_next_firm_never_reads_the_declining_firms_moves_or_reason(world, passed_on):
    engagement, gwen = passed_on
    for surface, response in _surfaces(engagement, gwen).items():
        assert response.status_code == 200, surface
        body = response.content.decode()
        assert ALPHA_REASON not in body, f"{surface} shows the declining firm's reason"
        assert "Alpha Cloud" not in body, surface
    history = _surfaces(engagement, gwen)["api"].json()["history"]
    assert [row["to_status"] for row in history] == ["matched"]  # its own match; nothing of Alpha's tenure
    assert "Declined" not in _surfaces(engagement, gwen)["workspace"].content.decode()


def test_staff_read_every_move_with_its_reason(world, passed_on):
    engagement, _gwen = passed_on
    history = world.client("staff").get(f"/api/engagements/{engagement.pk}/").json()["history"]
    assert [row["to_status"] for row in history] == ["declined", "matched"]
    assert history[0]["reason"] == ALPHA_REASON
