"""A founder who asked for fine-tuning, a bake-off with their Bedrock custom model (called by its ARN
through the sandbox): the decision block answers the need, and the hourly table fits a phone."""
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from bakeoff_jobs import services
from tests.bakeoff_jobs.conftest import _sandbox_server, bedrock_sandbox  # noqa: F401 - fixtures
from tests.bakeoff_jobs.factories import claude_haiku_45, custom_model, eval_set_with_cases
from tests.bakeoff_pages.conftest import alice, alpha, partner_group, sandbox  # noqa: F401 - fixtures
from tests.bakeoff_pages.test_runway_expiry import _engagement
from tests.filing.filing_support import eager_celery  # noqa: F401 - fixture

from .conftest import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ARN = "arn:aws:bedrock:us-east-1:123456789012:provisioned-model/pt7abc"


@pytest.fixture
def custom_report_url(live_server, pools, alpha, alice, eager_celery, sandbox):  # noqa: F811
    engagement = _engagement(pools, alpha, monthly_requests=100_000)
    engagement.intake.needs_fine_tuning = True
    engagement.intake.save(update_fields=["needs_fine_tuning"])
    tuned = custom_model(name="Support Llama fine-tuned", model_arn=ARN, pricing="provisioned", model_units=1,
                         model_unit_hour_price=Decimal("21.18"), commitment_months=1,
                         training_cost_usd=Decimal("2400"), amortisation_months=12)
    eval_set = eval_set_with_cases(4, engagement=engagement, partner=alpha)
    run = services.bakeoff_launch(eval_set=eval_set, models=[claude_haiku_45(), tuned], endpoint_url=sandbox.url,
                                  max_tokens=64, created_by=alice)
    run.refresh_from_db()
    assert run.status == "finished", run.error
    return f"/bakeoffs/{run.pk}/"


@pytest.mark.parametrize("width", [375, 1280])
def test_the_decision_answers_the_fine_tuning_need_and_the_hourly_table_fits(page, live_server, custom_report_url,
                                                                             width, shoot):
    page.set_viewport_size({"width": width, "height": 900})
    log_in(page, live_server, "alice", next_path=custom_report_url)
    page.wait_for_load_state("load")
    need = page.locator("#decision-need-fine_tuning")
    expect(need).to_be_visible()
    # 1 unit × $21.18 × 730 = $15,461.40 a month, + $2,400 / 12 = $200 of training → $15,661.40;
    # the 1-month commitment is $15,461.40.
    expect(need).to_contain_text("You asked for fine-tuning: Support Llama fine-tuned solved")
    expect(need).to_contain_text("1 model unit of Provisioned Throughput cost $15,661.40 a month "
                                 "(1-month commitment: $15,461.40)")
    expect(need).to_contain_text("training amortised at $200 a month included, paid by AWS credits")
    table = page.locator("#hosting-table")
    expect(table).to_contain_text("Provisioned Throughput, 1 unit")
    expect(table).to_contain_text("paid by credits")
    assert page.evaluate("document.documentElement.scrollWidth <= document.documentElement.clientWidth"), \
        "the page scrolls sideways"
    shoot(page, f"report-custom-model-{width}")
    table_scroller = page.locator("#hosting-table").locator("xpath=..")
    scroll_width, client_width = table_scroller.evaluate("el => [el.scrollWidth, el.clientWidth]")
    if width >= 1280:
        assert scroll_width <= client_width, "the hourly table scrolls sideways at 1280 px"
