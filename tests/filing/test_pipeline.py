"""The staff pipeline dashboard: numbers equal a hand-computed fixture, filters narrow them, the
page is staff-only, the CSV carries the rows, and the query count stays flat as data grows."""
import csv
import datetime as dt
import io
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from filing.commission import commission_accrue, commission_move
from filing.models import (
    AceOpportunity,
    AceStatusChange,
    ChangeSource,
    CommissionStatus,
    CreditApplication,
    CreditApplicationStatusChange,
)
from filing.pipeline import PipelineFilters, pipeline_summary
from intake.models import Intake
from matching.models import EngagementStatusChange

from .filing_support import FilingEngagementFactory, FilingIntakeFactory, FilingPartnerFactory, FilingPoolFactory, UserFactory
from tests.factories import CloudRouteStaffFactory

pytestmark = pytest.mark.django_db
T = dt.datetime(2026, 10, 1, tzinfo=dt.timezone.utc)


def day(n: float) -> dt.datetime:
    return T + dt.timedelta(days=n)


def journey(*, submitted, partner=None, matched=None, accepted=None, ace_submitted=None, ace_approved=None,
            credits=None, pool=None, commission_status=None):
    """One intake's path through the funnel with the given timestamps (days after T)."""
    intake = FilingIntakeFactory()
    Intake.objects.filter(pk=intake.pk).update(submitted_at=day(submitted))
    if matched is None:
        return intake
    status = "accepted" if accepted is not None else "matched"
    engagement = FilingEngagementFactory(intake=intake, partner=partner, status=status)
    if pool is not None:
        engagement.matched_pools.add(pool)
    moves = [("unmatched", submitted), ("matched", matched)] + ([("accepted", accepted)] if accepted is not None else [])
    for to_status, when in moves:
        change = EngagementStatusChange.objects.create(engagement=engagement, to_status=to_status)
        EngagementStatusChange.objects.filter(pk=change.pk).update(changed_at=day(when))
    if ace_submitted is not None:
        opportunity = AceOpportunity.objects.create(
            engagement=engagement, catalog="Sandbox", company_name=intake.company_name, country_code="DE",
            title="t", customer_business_problem="x" * 20,
        )
        for to_value, when in [("Submitted", ace_submitted), ("Approved", ace_approved)]:
            if when is None:
                continue
            change = AceStatusChange.objects.create(
                opportunity=opportunity, field="review_status", to_value=to_value, source=ChangeSource.MANUAL
            )
            AceStatusChange.objects.filter(pk=change.pk).update(changed_at=day(when))
    if credits is not None:
        when, amount = credits
        application = CreditApplication.objects.create(
            engagement=engagement, pool=pool or FilingPoolFactory(), amount_requested=amount,
            amount_approved=amount, status="APPROVED",
        )
        change = CreditApplicationStatusChange.objects.create(
            application=application, from_status="IN_REVIEW", to_status="APPROVED", source=ChangeSource.MANUAL
        )
        CreditApplicationStatusChange.objects.filter(pk=change.pk).update(changed_at=day(when))
        commission = commission_accrue(application=application)
        if commission_status:
            commission_move(commission=commission, to_status=commission_status, by=None)
    return intake


@pytest.fixture
def fixture_world():
    p1 = FilingPartnerFactory(name="Northwind", commission_rate=Decimal("0.1000"))
    p2 = FilingPartnerFactory(name="Contoso", commission_rate=Decimal("0.0500"))
    pool_x = FilingPoolFactory(slug="bedrock-poc", name="Bedrock POC")
    journey(submitted=0, partner=p1, matched=1, accepted=3, ace_submitted=5, ace_approved=12,
            credits=(20, Decimal("25000")), pool=pool_x, commission_status=CommissionStatus.INVOICED)
    journey(submitted=0, partner=p1, matched=2, accepted=4, ace_submitted=10)
    journey(submitted=1, partner=p2, matched=2, accepted=3, ace_submitted=4, ace_approved=8,
            credits=(9, Decimal("40000")))
    journey(submitted=2, partner=p2, matched=3)
    journey(submitted=2)
    return {"p1": p1, "p2": p2, "pool": pool_x}


def test_numbers_match_the_hand_computed_fixture(fixture_world):
    summary = pipeline_summary(PipelineFilters())

    assert [(s.label, s.count, s.share_of_intakes, s.conversion) for s in summary.funnel] == [
        ("Intakes", 5, Decimal("100.0"), None),
        ("Matched", 4, Decimal("80.0"), Decimal("80.0")),
        ("Accepted", 3, Decimal("60.0"), Decimal("75.0")),
        ("ACE submitted", 3, Decimal("60.0"), Decimal("100.0")),
        ("ACE approved", 2, Decimal("40.0"), Decimal("66.7")),
        ("Credits approved", 2, Decimal("40.0"), Decimal("100.0")),
    ]
    assert summary.median_days == [
        ("Intakes → Matched", Decimal("1.0")),  # 1, 2, 1, 1
        ("Matched → Accepted", Decimal("2.0")),  # 2, 2, 1
        ("Accepted → ACE submitted", Decimal("2.0")),  # 2, 6, 1
        ("ACE submitted → ACE approved", Decimal("5.5")),  # 7, 4
        ("ACE approved → Credits approved", Decimal("4.5")),  # 8, 1
    ]
    assert summary.commission_by_status == [
        ("Accrued", Decimal("2000.00")),  # 5% of 40,000
        ("Invoiced", Decimal("2500.00")),  # 10% of 25,000
        ("Paid", Decimal("0.00")),
        ("Written off", Decimal("0.00")),
    ]
    assert summary.commission_by_partner == [("Contoso", Decimal("2000.00")), ("Northwind", Decimal("2500.00"))]


def test_filters_narrow_every_number(fixture_world):
    by_partner = pipeline_summary(PipelineFilters(partner_id=fixture_world["p1"].pk))
    by_pool = pipeline_summary(PipelineFilters(pool_id=fixture_world["pool"].pk))
    by_date = pipeline_summary(PipelineFilters(date_from=dt.date(2026, 10, 2), date_to=dt.date(2026, 10, 3)))

    assert [s.count for s in by_partner.funnel] == [2, 2, 2, 2, 1, 1]
    assert by_partner.commission_by_partner == [("Northwind", Decimal("2500.00"))]
    assert [s.count for s in by_pool.funnel] == [1, 1, 1, 1, 1, 1]
    assert [s.count for s in by_date.funnel] == [3, 2, 1, 1, 1, 1]
    assert by_date.commission_by_partner == [("Contoso", Decimal("2000.00"))]


@pytest.fixture
def staff_client(client):
    client.force_login(CloudRouteStaffFactory(username="staff"))
    return client


def test_the_page_is_for_staff_only(client, fixture_world):
    assert client.get("/staff/pipeline/").status_code == 302
    client.force_login(UserFactory(username="founder"))
    assert client.get("/staff/pipeline/").status_code == 403
    assert client.get("/staff/pipeline.csv").status_code == 403
    client.force_login(UserFactory(username="admin-flag-only", is_staff=True))  # no grant: no page
    assert client.get("/staff/pipeline/").status_code == 403
    assert client.get("/staff/pipeline.csv").status_code == 403


def test_the_page_draws_the_funnel_with_a_title_description_and_table(staff_client, fixture_world):
    response = staff_client.get("/staff/pipeline/", {"partner": fixture_world["p2"].pk})

    html = response.content.decode()
    assert response.status_code == 200
    assert '<svg role="img" aria-labelledby="funnel-title funnel-desc"' in html
    assert '<title id="funnel-title">Pipeline funnel</title>' in html
    assert "Intakes: 2, Matched: 2, Accepted: 1, ACE submitted: 1, ACE approved: 1, Credits approved: 1" in html
    assert 'id="funnel-table"' in html
    assert "$2,000" in html  # money with separators and currency


def test_csv_exports_the_underlying_rows(staff_client, fixture_world):
    response = staff_client.get("/staff/pipeline.csv", {"from": "2026-10-02"})

    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert response["Content-Type"].startswith("text/csv")
    assert [(r["partner_name"], r["engagement_status"], r["credits_approved_usd"]) for r in rows] == [
        ("Contoso", "accepted", "40000.00"),
        ("Contoso", "matched", "0.00"),
        ("", "", "0.00"),
    ]
    assert rows[0]["ace_approved_at"].startswith("2026-10-09")


def _world(times: int) -> None:
    partners = [FilingPartnerFactory(), FilingPartnerFactory(commission_rate=Decimal("0.0500"))]
    pool = FilingPoolFactory(slug="grow")
    for i in range(times):
        p = partners[i % 2]
        journey(submitted=0, partner=p, matched=1, accepted=3, ace_submitted=5, ace_approved=12,
                credits=(20, Decimal("25000")), pool=pool, commission_status=CommissionStatus.INVOICED)
        journey(submitted=1, partner=p, matched=2, accepted=3, ace_submitted=4)
        journey(submitted=2, partner=p, matched=3)
        journey(submitted=2)


@pytest.mark.parametrize("url", ["/staff/pipeline/", "/staff/pipeline.csv"])
def test_query_count_stays_flat_when_the_data_grows_tenfold(staff_client, url):
    _world(1)
    with CaptureQueriesContext(connection) as small:
        assert staff_client.get(url).status_code == 200
    _world(9)  # now 10×
    with CaptureQueriesContext(connection) as large:
        response = staff_client.get(url)
    assert response.status_code == 200
    assert len(large) == len(small)
    if url.endswith(".csv"):
        assert len(response.content.decode().strip().splitlines()) == 1 + 40
