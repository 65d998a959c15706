"""The founder's status page and status API name the matched firm and how to reach it (the firm's
contact person and email when it gives them), and nobody while no firm holds the engagement."""
import pytest
from rest_framework.test import APIClient

from intake.links import status_link_token, status_path
from matching import services
from matching.intake_flow import intake_submit
from matching.models import EngagementStatus
from tests.factories import PartnerFactory, intake_data

pytestmark = pytest.mark.django_db


def _engagement(**partner):
    PartnerFactory(name="Northwind Cloud Partners", **partner)
    intake, _ = intake_submit(data=intake_data(contact_email="ada@parsewell.example"), notify=False)
    engagement = intake.engagement
    assert engagement.status == EngagementStatus.MATCHED
    return engagement


def _contact_block(client, engagement) -> str:
    html = client.get(status_path(engagement.intake)).content.decode()
    if 'id="partner-contact"' not in html:
        return ""
    start = html.index('id="partner-contact"')
    return html[start:html.index("</section>", start)]


def _api(engagement):
    return APIClient().get(f"/api/intakes/status/{status_link_token(engagement.intake)}/").json()["partner_contact"]


def test_a_matched_firm_shows_its_contact_person_and_email(client, pools):
    engagement = _engagement(contact_name="Grace Hopper", contact_email="grace@northwind.example")
    block = _contact_block(client, engagement)
    assert "Northwind Cloud Partners" in block and "Grace Hopper" in block
    assert '<a href="mailto:grace@northwind.example">grace@northwind.example</a>' in block
    assert "will confirm shortly" in block  # asked, not yet accepted
    assert _api(engagement) == {"firm": "Northwind Cloud Partners", "person": "Grace Hopper",
                                "email": "grace@northwind.example", "accepted": False}

    services.engagement_accept(engagement=engagement, by=None)
    block = _contact_block(client, engagement)
    assert "grace@northwind.example" in block and "will confirm shortly" not in block
    assert _api(engagement)["accepted"] is True


def test_a_firm_without_contact_details_is_named_and_says_it_will_write(client, pools):
    engagement = _engagement()
    block = _contact_block(client, engagement)
    assert "Northwind Cloud Partners" in block and "mailto:" not in block
    assert "They will write to you at ada@parsewell.example" in block
    assert _api(engagement) == {"firm": "Northwind Cloud Partners", "person": "", "email": "", "accepted": False}


def test_no_contact_while_no_firm_holds_the_engagement(client, pools):
    intake, _ = intake_submit(data=intake_data(), notify=False)  # no partner at all: unmatched
    assert intake.engagement.status == EngagementStatus.UNMATCHED
    assert _contact_block(client, intake.engagement) == ""
    assert _api(intake.engagement) is None


def test_a_declining_firms_contact_is_gone(client, pools):
    engagement = _engagement(contact_email="grace@northwind.example")
    services.engagement_decline(engagement=engagement, by=None, reason="Full this quarter")
    engagement.refresh_from_db()
    assert engagement.status in (EngagementStatus.DECLINED, EngagementStatus.UNMATCHED)
    assert "grace@northwind.example" not in client.get(status_path(engagement.intake)).content.decode()
    assert _api(engagement) is None
