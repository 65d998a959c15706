"""The staff admin: the unmatched queue, hand assignment with a reason, and flat query counts."""
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from matching.models import EngagementStatus, MatchMethod
from matching.selectors import engagements_visible_to
from tests.factories import PartnerFactory, PartnerMemberFactory, UserFactory, open_engagement

pytestmark = pytest.mark.django_db



def test_unmatched_queue_filter_lists_only_waiting_engagements(admin_client):
    waiting = open_engagement(company_name="Waiting Co")
    PartnerFactory()
    open_engagement(company_name="Placed Co")

    html = admin_client.get("/admin/matching/engagement/?queue=unmatched").content.decode()

    assert "Waiting Co" in html and "Placed Co" not in html
    assert waiting.status == EngagementStatus.UNMATCHED


def test_assign_action_places_an_engagement_with_a_reason(admin_client, admin_user):
    engagement = open_engagement()
    partner = PartnerFactory(name="Chosen")

    form = admin_client.post("/admin/matching/engagement/", {"action": "assign_partner", "_selected_action": [engagement.id]})
    assert form.status_code == 200 and "Why this partner" in form.content.decode()
    done = admin_client.post("/admin/matching/engagement/", {
        "action": "assign_partner", "_selected_action": [engagement.id], "apply": "1",
        "partner": partner.id, "reason": "Speaks the founder's language.",
    })

    assert done.status_code == 302
    engagement.refresh_from_db()
    assert engagement.partner == partner and engagement.status == EngagementStatus.MATCHED
    decision = engagement.match_decisions.get(method=MatchMethod.MANUAL)
    assert (decision.decided_by, decision.reason) == (admin_user, "Speaks the founder's language.")


def test_engagement_list_query_count_does_not_grow_with_rows(admin_client):
    PartnerFactory(capacity=50)
    open_engagement()
    with CaptureQueriesContext(connection) as few:
        admin_client.get("/admin/matching/engagement/")
    for _ in range(5):
        open_engagement()
    with CaptureQueriesContext(connection) as many:
        admin_client.get("/admin/matching/engagement/")

    assert len(many) == len(few)


def test_engagement_detail_shows_verdicts_history_and_decisions(admin_client, pools):
    PartnerFactory(name="Northwind")
    engagement = open_engagement()

    html = admin_client.get(f"/admin/matching/engagement/{engagement.id}/change/").content.decode()

    assert "AWS Activate Portfolio" in html and "Northwind" in html and "Intake received." in html


def test_partner_users_see_only_their_firms_engagements():
    alice_firm = PartnerFactory(name="A Alice firm", capacity=1)
    bob_firm = PartnerFactory(name="B Bob firm", capacity=1)
    mine, theirs = open_engagement(), open_engagement()
    alice = PartnerMemberFactory(partner=alice_firm).user
    bob = PartnerMemberFactory(partner=bob_firm).user
    charlie = UserFactory()

    assert list(engagements_visible_to(alice)) == [mine]
    assert list(engagements_visible_to(bob)) == [theirs]
    assert list(engagements_visible_to(charlie)) == []


def test_decline_action_asks_for_a_reason_then_rematches(admin_client):
    first = PartnerFactory(name="A First")
    second = PartnerFactory(name="B Second")
    engagement = open_engagement()
    assert engagement.partner == first

    asked = admin_client.post("/admin/matching/engagement/", {"action": "decline", "_selected_action": [engagement.id]})
    assert asked.status_code == 200 and 'name="reason"' in asked.content.decode()
    admin_client.post("/admin/matching/engagement/", {
        "action": "decline", "_selected_action": [engagement.id], "apply": "1", "reason": "Fully booked.",
    })

    engagement.refresh_from_db()
    assert engagement.partner == second
    assert engagement.history.get(to_status="declined").reason == "Fully booked."


def test_accept_action_reports_refusals_without_changing_anything(admin_client):
    waiting = open_engagement()  # no partner: cannot be accepted

    response = admin_client.post("/admin/matching/engagement/", {"action": "accept", "_selected_action": [waiting.id]},
                                 follow=True)

    assert "cannot become accepted" in response.content.decode()
    waiting.refresh_from_db()
    assert waiting.status == EngagementStatus.UNMATCHED
