"""The founder's form in a browser: an invalid submission leads with an error summary that has
focus and whose links move focus to their fields; the investor field's "(required)" follows the
answers that require it; the country is chosen from a select."""
import pytest
from playwright.sync_api import expect

from intake.models import Intake
from tests.factories import PartnerFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _focused_id(page) -> str:
    return page.evaluate("document.activeElement && document.activeElement.id")


def test_an_invalid_form_focuses_the_summary_and_each_link_focuses_its_field(page, live_server, shoot):
    page.goto(live_server.url + "/")
    page.get_by_label("Kind of funding").select_option(label="Institutional VC")
    page.get_by_role("button", name="Check my credits").click()

    summary = page.locator("#error-summary")
    expect(summary).to_be_focused()
    expect(summary).to_contain_text("Please correct these")
    shoot(page, "home-error-summary")
    links = summary.get_by_role("link")
    count = links.count()
    assert count >= 10  # every required field left blank, the investor among them
    expect(summary.get_by_role("link", name="Lead investor or accelerator: Required for Institutional VC"))\
        .to_have_count(1)
    # The summary is at the top of the page; the fields it names run far down it.
    assert page.evaluate("window.scrollY") < 400
    for i in range(count):
        link = links.nth(i)
        target = link.get_attribute("href")[1:]
        link.click()
        assert _focused_id(page) == target, link.inner_text()
        field = page.locator(f"#{target}")
        expect(field).to_be_in_viewport()
        expect(page.locator(f"label[for='{target}']")).to_be_in_viewport()
        page.locator("#error-summary").focus()
    # From the keyboard as well: Tab to the first link, Enter.
    page.locator("#error-summary").focus()
    page.keyboard.press("Tab")
    first_target = links.first.get_attribute("href")[1:]
    page.keyboard.press("Enter")
    assert _focused_id(page) == first_target


def test_the_investor_field_says_required_while_the_answers_require_it(page, live_server):
    page.goto(live_server.url + "/")
    marker = page.locator("label[for='id_investor_name'] [data-required-marker]")
    investor = page.locator("#id_investor_name")
    expect(marker).to_have_text("(optional)")
    expect(investor).not_to_have_attribute("aria-required", "true")

    funding = page.get_by_label("Kind of funding")
    for label, required in [("Institutional VC", True), ("Angels", False), ("Accelerator", True),
                            ("Bootstrapped", False)]:
        funding.select_option(label=label)
        expect(marker).to_have_text("(required)" if required else "(optional)")
        if required:
            expect(investor).to_have_attribute("aria-required", "true")
        else:
            expect(investor).not_to_have_attribute("aria-required", "true")

    provider = page.get_by_label("That investor or accelerator is an AWS Activate Provider")
    provider.check()
    expect(marker).to_have_text("(required)")
    provider.uncheck()
    expect(marker).to_have_text("(optional)")
    # Never "(optional)" twice anywhere on the page.
    assert page.evaluate("""() => [...document.querySelectorAll('label')]
        .filter(l => (l.textContent.match(/\\(optional\\)/g) || []).length > 1).length""") == 0
    expect(page.get_by_text("AWS account id (optional)", exact=True)).to_have_count(1)


def test_the_country_is_chosen_from_a_select_and_stored_as_its_code(page, live_server, pools):
    PartnerFactory(name="Northwind Cloud Partners")
    page.goto(live_server.url + "/")
    country = page.get_by_label("Country", exact=True)
    assert country.evaluate("el => el.tagName") == "SELECT"
    assert country.evaluate("el => el.options.length") > 240
    country.select_option(label="United States")
    page.get_by_label("Company name").fill("Parsewell")
    page.get_by_label("Founding date").fill("2024-03-01")
    page.get_by_label("Your name").fill("Ada Park")
    page.get_by_label("Your email").fill("ada@parsewell.example")
    page.get_by_label("Stage").select_option(label="Seed")
    page.get_by_label("Kind of funding").select_option(label="Bootstrapped")
    page.get_by_label("Main use case").select_option(label="RAG / search")
    page.get_by_label("Expected model requests per month").fill("400000")
    page.get_by_label("Average input tokens per request").fill("1800")
    page.get_by_label("Average output tokens per request").fill("300")
    page.get_by_role("button", name="Check my credits").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Parsewell: your AWS credits")
    assert Intake.objects.get().country == "US"


def test_a_chosen_country_survives_a_refused_form(page, live_server):
    page.goto(live_server.url + "/")
    page.get_by_label("Country", exact=True).select_option(label="Germany")
    page.get_by_role("button", name="Check my credits").click()
    expect(page.locator("#error-summary")).to_be_focused()
    expect(page.get_by_label("Country", exact=True)).to_have_value("DE")
