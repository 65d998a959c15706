"""A match decision's breakdown reads as tables in the admin (needs, candidates with their points,
who was left out and why, the tie-break), never as raw JSON, whatever shape the JSON has."""
import pytest

from matching import services
from matching.breakdown_display import breakdown_context, breakdown_html
from tests.factories import CloudRouteStaffFactory, PartnerFactory, open_engagement

pytestmark = pytest.mark.django_db


def test_the_engagement_admin_shows_the_breakdown_as_tables(client):
    PartnerFactory(name="Northwind", specialties=["genai", "data"], regions=["eu-central-1"], languages=["de"])
    PartnerFactory(name="Contoso", specialties=["genai"], regions=["eu-west-1"])
    PartnerFactory(name="Fabrikam", specialties=["ml"], regions=["eu-central-1"])
    engagement = open_engagement(country="DE", use_case="rag_search")
    client.force_login(CloudRouteStaffFactory())

    html = client.get(f"/admin/matching/engagement/{engagement.pk}/change/").content.decode()

    assert "&quot;candidates&quot;" not in html and "&quot;tie_break&quot;" not in html  # no raw JSON
    assert '<table class="match-candidates">' in html
    candidates = html.split('<table class="match-candidates">')[1].split("</table>")[0]
    assert candidates.index("Northwind (chosen)") < candidates.index("Contoso")
    assert "<th scope=\"col\">Specialties</th>" in candidates and "<th scope=\"col\">Total</th>" in candidates
    excluded = html.split('<table class="match-excluded">')[1].split("</table>")[0]
    assert "Fabrikam" in excluded and "lacks the genai specialty" in excluded
    needs = html.split('<table class="match-needs">')[1].split("</table>")[0]
    assert "Europe" in needs and "genai, data" in needs
    assert "Ties broken by: highest total" in html


def test_a_hand_assignment_shows_the_previous_partner(client):
    first = PartnerFactory(name="Northwind")
    second = PartnerFactory(name="Contoso")
    engagement = open_engagement()
    staff = CloudRouteStaffFactory()
    services.engagement_assign(engagement=engagement, partner=second if engagement.partner == first else first,
                               by=staff, reason="The founder asked for them.")
    client.force_login(staff)

    html = client.get(f"/admin/matching/engagement/{engagement.pk}/change/").content.decode()
    assert "<th scope=\"row\">Previous partner</th><td>" in html
    assert "&quot;previous_partner&quot;" not in html


@pytest.mark.parametrize("breakdown", [{}, {"chosen": None, "candidates": [], "excluded": []}, {"note": [1, "x"]},
                                       ["odd"], "text", {"candidates": [{"partner": "A", "extra": {"k": True}}]}])
def test_any_shape_renders_without_raw_json(breakdown):
    html = breakdown_html(breakdown)
    assert "{" not in html and "[" not in html
    assert breakdown_context(breakdown) is not None


def test_points_read_as_numbers():
    context = breakdown_context({"chosen": {"partner_id": 1, "partner": "A", "total": "35.00", "capacity": "6.67"},
                                 "candidates": [{"partner_id": 1, "partner": "A", "total": "35.00", "capacity": "6.67"}]})
    row = context["candidates"]["rows"][0]
    assert row["chosen"] and [value for value, _ in row["cells"]] == ["A", "6.67", "35"]
