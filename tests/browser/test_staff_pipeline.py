"""CloudRoute staff log in and open the pipeline dashboard."""
import pytest
from playwright.sync_api import expect

from intake.services import intake_submit
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
