"""The staff pipeline's drill-down and figures: the unmatched queue up front, the per-partner table
(acceptance rate, median time to accept, credits, commission) from known data, funnel stages that
link to a paginated list of the intakes behind them, and the CSV's added columns."""
import csv
import datetime as dt
import io
from decimal import Decimal

import pytest

from filing.commission import commission_accrue
from filing.models import ChangeSource, CreditApplication, CreditApplicationStatusChange
from filing.pipeline import CSV_COLUMNS, ROW_COLUMNS, PipelineFilters, partner_table, unmatched_queue
from intake.models import Intake
from matching.models import Engagement, EngagementStatusChange
from tests.factories import CloudRouteStaffFactory

from .filing_support import FilingIntakeFactory, FilingPartnerFactory, FilingPoolFactory, UserFactory

pytestmark = pytest.mark.django_db
T = dt.datetime(2026, 10, 1, tzinfo=dt.timezone.utc)


def at(days: float = 0, hours: float = 0) -> dt.datetime:
    return T + dt.timedelta(days=days, hours=hours)


def engagement_with(*moves, submitted=at(), status=None, partner=None, **intake_fields) -> Engagement:
    """An intake and its engagement whose history is `moves`: (to_status, partner, when)."""
    intake = FilingIntakeFactory(**intake_fields)
    Intake.objects.filter(pk=intake.pk).update(submitted_at=submitted)
    last_status, last_partner = (moves[-1][0], moves[-1][1]) if moves else ("unmatched", None)
    engagement = Engagement.objects.create(
        intake=intake, status=status or last_status, partner=partner if partner is not None else last_partner,
        estimated_credits_usd=Decimal("30000"),
    )
    for to_status, by_partner, when in moves:
        change = EngagementStatusChange.objects.create(engagement=engagement, to_status=to_status, partner=by_partner)
        EngagementStatusChange.objects.filter(pk=change.pk).update(changed_at=when)
    return engagement


def approve_credits(engagement, amount, pool, when):
    application = CreditApplication.objects.create(
        engagement=engagement, pool=pool, amount_requested=amount, amount_approved=amount, status="APPROVED",
    )
    change = CreditApplicationStatusChange.objects.create(
        application=application, from_status="IN_REVIEW", to_status="APPROVED", source=ChangeSource.MANUAL,
    )
    CreditApplicationStatusChange.objects.filter(pk=change.pk).update(changed_at=when)
    commission_accrue(application=application)


@pytest.fixture
def world():
    northwind = FilingPartnerFactory(name="Northwind", commission_rate=Decimal("0.1000"))
    contoso = FilingPartnerFactory(name="Contoso", commission_rate=Decimal("0.0500"))
    pool = FilingPoolFactory(slug="bedrock-poc", name="Bedrock POC")
    # Northwind: accepts after 6 h and after 24 h, declines one, has one open offer.
    a = engagement_with(("unmatched", None, at(0)), ("matched", northwind, at(1)),
                        ("accepted", northwind, at(1, hours=6)), company_name="Alpha", country="FR", stage="idea")
    a.matched_pools.add(pool)
    approve_credits(a, Decimal("25000"), pool, at(9))
    engagement_with(("unmatched", None, at(1)), ("matched", northwind, at(2)), ("accepted", northwind, at(3)),
                    submitted=at(1))
    # Declined by Northwind after 12 h, then matched with Contoso, which accepts 48 h later.
    c = engagement_with(("unmatched", None, at(2)), ("matched", northwind, at(2)), ("declined", northwind, at(2, 12)),
                        ("matched", contoso, at(2, 12)), ("accepted", contoso, at(4, 12)), submitted=at(2))
    approve_credits(c, Decimal("40000"), pool, at(10))
    engagement_with(("unmatched", None, at(3)), ("matched", northwind, at(3)), submitted=at(3))
    # Waiting for staff: one nobody fit (oldest), one declined and not re-matched.
    waiting_old = engagement_with(("unmatched", None, at(0, hours=1)), company_name="Old Waiting", submitted=at(0))
    waiting_new = engagement_with(("unmatched", None, at(4)), ("matched", contoso, at(4)), ("declined", contoso, at(5)),
                                  partner=contoso, company_name="Just Declined", submitted=at(4))
    return {"northwind": northwind, "contoso": contoso, "pool": pool, "a": a, "c": c,
            "waiting": [waiting_old, waiting_new]}


def test_the_partner_table_has_offers_acceptance_rate_median_time_credits_and_commission(world):
    table = {row.name: row for row in partner_table(PipelineFilters())}

    northwind, contoso = table["Northwind"], table["Contoso"]
    assert (northwind.engagements, northwind.accepted, northwind.declined, northwind.awaiting) == (4, 2, 1, 1)
    assert northwind.acceptance_rate == Decimal("66.7")  # 2 of 3 answered offers
    assert northwind.median_hours_to_accept == Decimal("15.0")  # 6 h and 24 h
    assert northwind.credits_approved_usd == Decimal("25000.00")
    assert northwind.commission_usd == Decimal("2500.00")
    # Contoso accepted one (48 h) and declined one.
    assert (contoso.engagements, contoso.accepted, contoso.declined, contoso.awaiting) == (2, 1, 1, 0)
    assert contoso.acceptance_rate == Decimal("50.0")
    assert contoso.median_hours_to_accept == Decimal("48.0")
    assert (contoso.credits_approved_usd, contoso.commission_usd) == (Decimal("40000.00"), Decimal("2000.00"))


def test_the_partner_table_follows_the_filters(world):
    only_contoso = partner_table(PipelineFilters(partner_id=world["contoso"].pk))
    late = {row.name: row for row in partner_table(PipelineFilters(date_from=dt.date(2026, 10, 3)))}

    assert [row.name for row in only_contoso] == ["Contoso"]
    assert (late["Northwind"].engagements, late["Northwind"].accepted, late["Northwind"].declined) == (2, 0, 1)
    assert late["Northwind"].acceptance_rate == Decimal("0.0")
    assert late["Northwind"].median_hours_to_accept is None
    assert late["Northwind"].credits_approved_usd == Decimal("0.00")


def test_the_unmatched_queue_counts_and_lists_the_longest_waiting_first(world):
    queue = unmatched_queue()
    assert queue.count == 2
    assert [item["company_name"] for item in queue.oldest] == ["Old Waiting", "Just Declined"]
    assert queue.oldest[1]["waiting_since"] == at(5)  # since the decline, not since the intake


@pytest.fixture
def staff_client(client):
    client.force_login(CloudRouteStaffFactory(username="staff"))
    return client


def test_the_dashboard_leads_with_the_queue_and_shows_the_partner_table(staff_client, world):
    html = staff_client.get("/staff/pipeline/").content.decode()

    assert html.index('id="unmatched-queue"') < html.index('id="funnel-heading"')
    assert "Unmatched queue: 2 engagements waiting for staff" in html
    for engagement in world["waiting"]:
        assert f'href="/admin/matching/engagement/{engagement.pk}/change/"' in html
    assert 'href="/admin/matching/engagement/?queue=unmatched"' in html
    assert 'id="partner-table"' in html
    for figure in ("66.7%", "15.0 h", "2.0 days", "$25,000", "$2,500", "$40,000", "$2,000"):
        assert figure in html


def test_each_funnel_stage_links_to_its_filtered_list(staff_client, world):
    html = staff_client.get("/staff/pipeline/", {"partner": world["northwind"].pk}).content.decode()
    url = f"/staff/pipeline/engagements/?partner={world['northwind'].pk}&amp;stage=accepted"
    assert f'href="{url}"' in html

    response = staff_client.get("/staff/pipeline/engagements/", {"stage": "accepted", "partner": world["northwind"].pk})
    page = response.content.decode()
    assert response.status_code == 200
    assert "2 intakes reached this stage" in page
    assert f'href="/admin/matching/engagement/{world["a"].pk}/change/"' in page
    assert "Bedrock POC" in page and "$30,000" in page and "Idea" in page
    assert "Contoso" not in page.split('id="stage-engagements"')[1]


def test_the_stage_list_is_paginated_and_has_an_empty_state(staff_client):
    partner = FilingPartnerFactory(name="Many")
    for n in range(27):
        engagement_with(("matched", partner, at(1, hours=n)), company_name=f"Company {n:02d}")

    first = staff_client.get("/staff/pipeline/engagements/", {"stage": "matched"}).content.decode()
    second = staff_client.get("/staff/pipeline/engagements/", {"stage": "matched", "page": 2}).content.decode()
    empty = staff_client.get("/staff/pipeline/engagements/", {"stage": "credits_approved"})

    assert first.count("Company ") == 25 and "Company 26" in first  # most recent first
    assert "page 1 of 2" in first and 'rel="next"' in first
    assert second.count("Company ") == 2 and "Company 00" in second
    assert empty.status_code == 200 and 'id="stage-empty"' in empty.content.decode()


def test_an_unknown_stage_is_a_clear_400(staff_client):
    response = staff_client.get("/staff/pipeline/engagements/", {"stage": "nonsense"})
    assert response.status_code == 400
    assert "Unknown stage" in response.content.decode()


def test_the_stage_list_is_for_staff_only(client):
    assert client.get("/staff/pipeline/engagements/").status_code == 302
    client.force_login(UserFactory(username="founder", is_staff=True))
    assert client.get("/staff/pipeline/engagements/", {"stage": "intake"}).status_code == 403


def test_the_csv_keeps_its_columns_and_adds_pools_expected_credits_stage_and_country(staff_client, world):
    response = staff_client.get("/staff/pipeline.csv")
    reader = csv.reader(io.StringIO(response.content.decode()))
    header = next(reader)

    assert header[: len(ROW_COLUMNS)] == ROW_COLUMNS  # existing columns first, unchanged
    assert header == CSV_COLUMNS
    for column in ("pools", "expected_credits_usd", "stage", "funnel_stage", "country"):
        assert column in header
    rows = {r["company_name"]: r for r in csv.DictReader(io.StringIO(response.content.decode()))}
    alpha = rows["Alpha"]
    assert (alpha["pools"], alpha["expected_credits_usd"], alpha["stage"], alpha["country"]) == (
        "Bedrock POC", "30000.00", "idea", "FR")
    assert alpha["funnel_stage"] == "credits_approved"  # the furthest stage it reached
    assert rows["Old Waiting"]["funnel_stage"] == "intake" and rows["Old Waiting"]["pools"] == ""


def test_the_api_has_the_partner_table_and_the_queue(client, world):
    client.force_login(CloudRouteStaffFactory(username="staff-api"))
    body = client.get("/api/staff/pipeline/").json()

    partners = {row["name"]: row for row in body["partners"]}
    assert partners["Northwind"]["acceptance_rate"] == "66.7"
    assert partners["Northwind"]["median_hours_to_accept"] == "15.0"
    assert partners["Contoso"]["credits_approved_usd"] == "40000.00"
    assert body["unmatched_queue"]["count"] == 2
    assert body["unmatched_queue"]["oldest"][0]["company_name"] == "Old Waiting"
