"""One monthly projection (the workload × the price of the id actually invoked) feeds the ACE
opportunity's expected spend, the bake-off report and the founder's page: they state one figure."""
from decimal import ROUND_HALF_UP, Decimal

import pytest
from django.urls import reverse

from bakeoff_jobs import services
from bakeoff_jobs.catalog_models import CatalogModel
from bakeoff_jobs.templatetags.bakeoff_format import usd
from filing.ace import ace_opportunity_draft
from intake.links import status_path
from tests.bakeoff_jobs.factories import EngagementFactory, claude_haiku_45, eval_set_with_cases, llama_8b

pytestmark = pytest.mark.django_db
CENT = Decimal("0.01")


def _founder_page(client, engagement) -> str:
    return client.get(status_path(engagement.intake)).content.decode()


def test_ace_draft_report_and_founder_page_state_the_same_monthly_spend(client, finished_run):
    finished_run.shared_with_founder = True
    finished_run.save(update_fields=["shared_with_founder"])
    router = finished_run.report["router"]
    best = next(m for m in finished_run.report["models"] if m["key"] == router["single_best_model"])
    report_monthly = Decimal(router["monthly_usd"]["single_best"])
    assert Decimal(best["monthly_usd"]["on_demand"]) == report_monthly

    opportunity = ace_opportunity_draft(engagement=finished_run.engagement)

    assert opportunity.expected_monthly_spend == report_monthly.quantize(CENT, ROUND_HALF_UP)
    page = _founder_page(client, finished_run.engagement)
    assert f"{usd(report_monthly)} a month</strong> on {best['name']}" in page
    assert best["invoked_id"] in page


def test_before_a_bakeoff_the_draft_and_the_founder_page_price_the_id_actually_invoked(client):
    # Claude Haiku 4.5 is called through its us. profile, which costs 1.1 × the listed rate
    haiku = CatalogModel.objects.get(model_id="anthropic.claude-haiku-4-5-20251001-v1:0")
    assert haiku.invoked_id.startswith("us.") and haiku.profile_price_factor == Decimal("1.1")
    engagement = EngagementFactory(intake__models_of_interest="Claude Haiku, Llama 3.3 70B",
                                   intake__monthly_requests=100_000, intake__avg_input_tokens=2_000,
                                   intake__avg_output_tokens=500)
    opportunity = ace_opportunity_draft(engagement=engagement)
    # 100k × (2000 × $1.10 + 500 × $5.50) / 1M = 220 + 275 = $495 (at list it would be $450)
    assert opportunity.expected_monthly_spend == Decimal("495.00")
    assert "$495 a month</strong> on Claude Haiku 4.5" in _founder_page(client, engagement)


def test_a_bakeoff_through_the_global_profile_projects_at_the_listed_price(
    eager_celery, sandbox, alpha, django_capture_on_commit_callbacks  # noqa: F811
):
    haiku = claude_haiku_45()
    global_id = next(i for i in haiku.invocable_ids() if i.startswith("global."))
    engagement = EngagementFactory(partner=alpha, intake__monthly_requests=100_000, intake__avg_input_tokens=2_000,
                                   intake__avg_output_tokens=500)
    eval_set = eval_set_with_cases(4, engagement=engagement, partner=alpha)
    with django_capture_on_commit_callbacks(execute=True):
        run = services.bakeoff_launch(eval_set=eval_set, models=[global_id, llama_8b()],
                                      endpoint_url=sandbox.url, max_tokens=64)
    run.refresh_from_db()
    haiku_entry = next(m for m in run.report["models"] if m["invoked_id"] == global_id)
    # 100k × (2000 × $1.00 + 500 × $5.00) / 1M = $450: the global. profile bills the listed rate
    assert Decimal(haiku_entry["monthly_usd"]["on_demand"]) == Decimal("450")
    assert run.report["router"]["single_best_model"] == haiku_entry["key"]  # Llama misses case 1
    assert ace_opportunity_draft(engagement=engagement).expected_monthly_spend == Decimal("450.00")


@pytest.mark.parametrize("named, monthly", [
    ("Llama 3.3 70B, Claude Sonnet", Decimal("180.00")),  # 100k × 2500 × $0.72 / 1M: the first name wins
    ("GPT-4o", Decimal("1485.00")),  # not in the catalog: the newest mid-tier Claude, Sonnet 4.5 via us.
    ("", Decimal("1485.00")),
    ("Claude 3 Haiku", Decimal("1485.00")),  # past end of life: never the reference
])
def test_the_reference_model_before_a_bakeoff(named, monthly):
    engagement = EngagementFactory(intake__models_of_interest=named, intake__monthly_requests=100_000,
                                   intake__avg_input_tokens=2_000, intake__avg_output_tokens=500)
    assert ace_opportunity_draft(engagement=engagement).expected_monthly_spend == monthly
