"""CloudRoute staff log in and open the pipeline dashboard."""
import pytest
from playwright.sync_api import expect

from matching.intake_flow import intake_submit
from tests.factories import PartnerFactory, StaffUserFactory, intake_data

from .conftest import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_staff_user_opens_the_pipeline_dashboard(page, live_server, pools, shoot):
    StaffUserFactory(username="staff")
    PartnerFactory(name="Northwind Cloud Partners")
    for n in range(3):
        intake_submit(data=intake_data(company_name=f"Startup {n}"), notify=False)
    log_in(page, live_server, "staff", next_path="/staff/pipeline/")
    expect(page.get_by_role("heading", name="Pipeline", level=1)).to_be_visible()
    expect(page.get_by_role("heading", name="Funnel")).to_be_visible()
    expect(page.locator("svg[role=img]").first).to_be_visible()
    shoot(page, "pipeline")


def test_staff_drill_down_from_a_funnel_stage_to_the_list_to_the_engagement(page, live_server, pools, shoot):
    from matching import services
    from matching.models import Engagement

    staff = StaffUserFactory(username="staff")
    PartnerFactory(name="Northwind Cloud Partners", capacity=10)
    for n in range(3):
        intake_submit(data=intake_data(company_name=f"Startup {n}"), notify=False)
    accepted = Engagement.objects.get(intake__company_name="Startup 1")
    services.engagement_accept(engagement=accepted, by=staff)

    log_in(page, live_server, "staff", next_path="/staff/pipeline/")
    queue = page.locator("#unmatched-queue")
    expect(queue).to_contain_text("Unmatched queue: 0 engagements")
    expect(page.locator("#partner-table")).to_contain_text("Northwind Cloud Partners")
    shoot(page, "pipeline-drilldown")

    page.locator("#funnel-table").get_by_role("link", name="Accepted").click()
    expect(page.get_by_role("heading", name="Accepted", level=1)).to_be_visible()
    expect(page.locator("#stage-count")).to_contain_text("1 intake reached this stage")
    rows = page.locator("#stage-engagements tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Northwind Cloud Partners")
    shoot(page, "pipeline-stage-list")

    page.get_by_role("link", name="Startup 1").click()
    expect(page).to_have_url(f"{live_server.url}/admin/matching/engagement/{accepted.pk}/change/")
    expect(page.locator("table.match-candidates")).to_contain_text("Northwind Cloud Partners (chosen)")
    shoot(page, "engagement-breakdown")

    # The funnel chart's bars link to the same lists; an empty stage says so.
    page.goto(f"{live_server.url}/staff/pipeline/")
    page.locator("svg[role=img] a[aria-label^='Credits approved']").click()
    expect(page.locator("#stage-empty")).to_be_visible()
