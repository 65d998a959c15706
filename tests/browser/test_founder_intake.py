"""A founder fills in the public intake form and lands on their private status page."""
import re

import pytest
from playwright.sync_api import expect

from intake.models import Intake
from matching.intake_flow import intake_evaluate
from tests.factories import PartnerFactory

from .conftest import assert_every_field_labelled

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_founder_submits_the_intake_and_lands_on_the_status_page(page, live_server, pools, shoot):
    PartnerFactory(name="Northwind Cloud Partners", contact_name="Grace Hopper",
                   contact_email="grace@northwind.example")
    page.goto(live_server.url + "/")
    shoot(page, "home")
    assert_every_field_labelled(page)
    page.get_by_role("button", name="Check my credits").click()
    expect(page.get_by_role("alert")).to_contain_text("Please correct these")
    shoot(page, "home-errors")

    page.get_by_label("Company name").fill("Parsewell")
    page.get_by_label("Company website").fill("parsewell.example")
    page.get_by_label("Country").select_option("US")
    page.get_by_label("Founding date").fill("2024-03-01")
    page.get_by_label("Your name").fill("Ada Park")
    page.get_by_label("Your email").fill("ada@parsewell.example")
    page.get_by_label("Stage").select_option(label="Seed")
    page.get_by_label("Total raised so far (USD)").fill("2500000")
    page.get_by_label("Kind of funding").select_option(label="Institutional VC")
    page.get_by_label("Lead investor or accelerator").fill("Foundry Ventures")
    page.get_by_label("That investor or accelerator is an AWS Activate Provider").check()
    page.get_by_label("Main use case").select_option(label="Classification / extraction")
    page.get_by_label("Expected model requests per month").fill("400000")
    page.get_by_label("Average input tokens per request").fill("1800")
    page.get_by_label("Average output tokens per request").fill("300")
    page.get_by_role("button", name="Check my credits").click()

    expect(page).to_have_url(re.compile(r"/status/[^/]+/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Parsewell: your AWS credits")
    # No worker runs here yet: the page says the intake is being checked, and reloads itself.
    expect(page.locator("#waiting")).to_contain_text("We received your intake")
    shoot(page, "status-waiting")
    intake_evaluate(intake_id=Intake.objects.get().id)  # what the worker's task does

    expect(page.locator("#waiting")).to_have_count(0, timeout=10_000)
    expect(page.locator("#summary")).to_contain_text("Northwind Cloud Partners")
    expect(page.locator("#timeline li.done")).to_have_count(2)  # received, matched
    contact = page.locator("#partner-contact")
    expect(contact).to_contain_text("Grace Hopper")
    expect(contact.get_by_role("link", name="grace@northwind.example")).to_have_attribute(
        "href", "mailto:grace@northwind.example")
    expect(page.get_by_text("AWS Activate")).not_to_have_count(0)
    assert Intake.objects.get().engagement.partner.name == "Northwind Cloud Partners"
    shoot(page, "status")
