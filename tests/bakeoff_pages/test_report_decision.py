"""The report leads with the decision (setup, monthly cost, runway, quality), says when a category or
a comparison rests on too few cases, names categories as people write them and prices per 1,000
tasks; the text output shares the wording."""
import pytest
from django.urls import reverse

from bakeoff_jobs import recommendation, services
from bakeoff_jobs.management.commands.bakeoff import render_text
from bakeoff_jobs.templatetags.bakeoff_format import category_name, money, per_1000
from tests.bakeoff_jobs.factories import claude_haiku_45, eval_set_with_cases, llama_8b
from tests.bakeoff_pages.test_runway_expiry import _engagement  # $75,000 over pools valid 24 and 12 months

pytestmark = pytest.mark.django_db


def _run(alpha, sandbox, capture, *, cases, categories=("extraction", "hard-analysis"), engagement=None):
    eval_set = eval_set_with_cases(cases, engagement=engagement, partner=alpha, categories=categories)
    with capture(execute=True):
        run = services.bakeoff_launch(eval_set=eval_set, models=[claude_haiku_45(), llama_8b()],
                                      endpoint_url=sandbox.url, max_tokens=64)
    run.refresh_from_db()
    assert run.status == "finished", run.error
    return run


def _page(client, user, run) -> str:
    client.force_login(user)
    return client.get(reverse("bakeoffs:report", args=[run.pk])).content.decode()


def test_the_report_leads_with_the_recommended_setup_its_monthly_cost_runway_and_quality(
    client, alice, pools, alpha, eager_celery, sandbox, django_capture_on_commit_callbacks
):
    engagement = _engagement(pools, alpha, monthly_requests=1000)
    run = _run(alpha, sandbox, django_capture_on_commit_callbacks, cases=6, engagement=engagement)
    # --json prints run.report: the decision comes as new keys beside every existing one
    assert {"sandbox", "run", "models", "pairwise", "judge", "router", "recommendation", "sample_size"} <= set(run.report)
    decision = run.report["recommendation"]
    # Haiku passes all 6, Llama fails one: Llama is cheaper but 16.7 points behind, so Haiku everywhere
    assert decision["setup"] == "single_model" and decision["model"] == claude_haiku_45().model_id
    assert decision["monthly_usd"] == "1.100000" and decision["runway_covers_validity"] is True
    assert decision["pass_rate"] == 1.0 and decision["cases"] == 6
    html = _page(client, alice, run)
    top = html[html.index('id="decision"'):html.index('id="summary-heading"')]
    assert "Use Claude Haiku 4.5 for every task." in top
    assert "$1.10" in top and "a month on demand at the startup" in top
    assert "covers the whole validity (24 months)" in top
    assert "100.0%" in top and "95% interval 61%–100% over 6 cases" in top
    assert "per 1,000 tasks" in top
    assert html.index('id="decision"') < html.index('id="summary"')  # the decision comes first
    assert "RECOMMENDATION: use Claude Haiku 4.5 for every task." in render_text(run.report)


def test_a_category_on_a_handful_of_cases_gets_a_warning_saying_how_many_are_needed(
    client, alice, alpha, eager_celery, sandbox, django_capture_on_commit_callbacks
):
    run = _run(alpha, sandbox, django_capture_on_commit_callbacks, cases=8)
    sizes = run.report["sample_size"]
    assert [(c["category"], c["cases"], c["cases_needed"], c["too_few"]) for c in sizes["categories"]] == [
        ("extraction", 4, 77, True), ("hard-analysis", 4, 77, True)]
    # Llama fails 1 of 8 (a 12.5-point gap): about 61 paired cases would show it
    assert sizes["pairs"][0]["too_few"] is True and sizes["pairs"][0]["cases_needed"] == 61
    html = _page(client, alice, run)
    assert 'id="small-sample-warning"' in html and "Too few cases to tell the models apart." in html
    assert "Hard analysis rests on 4 cases; about 77 would be needed" in html
    assert "too few: ~77 needed" in html  # beside the router's category
    assert "too few cases to tell" in html  # the pairwise verdict
    text = render_text(run.report)
    assert "WARNING: too few cases to tell the models apart in Extraction (4 cases, about 77 needed)" in text


def test_no_small_sample_warning_once_every_category_has_enough_cases(
    client, alice, alpha, eager_celery, sandbox, django_capture_on_commit_callbacks
):
    run = _run(alpha, sandbox, django_capture_on_commit_callbacks, cases=160)
    sizes = run.report["sample_size"]
    assert [c["too_few"] for c in sizes["categories"]] == [False, False]
    assert sizes["pairs"][0]["too_few"] is False
    html = _page(client, alice, run)
    assert 'id="small-sample-warning"' not in html and "too few" not in html
    assert "WARNING" not in render_text(run.report)


def test_categories_read_as_words_and_costs_per_1000_tasks(
    client, alice, alpha, eager_celery, sandbox, django_capture_on_commit_callbacks
):
    run = _run(alpha, sandbox, django_capture_on_commit_callbacks, cases=4,
               categories=("hard-analysis", "pii_redaction"))
    html = _page(client, alice, run)
    router = html[html.index('id="router"'):]
    assert "Hard analysis" in router and "Pii redaction" in router
    assert ">hard-analysis<" not in html and ">pii_redaction<" not in html
    per_task = run.report["models"][0]["cost_per_task_usd"]
    summary = html[html.index('id="summary"'):html.index('id="summary-details"')]
    assert "Cost per 1,000 tasks" in summary and per_1000(per_task) in summary
    assert per_task not in summary and "$0.0000" not in summary  # no tiny per-task decimals
    assert "route Hard analysis" in render_text(run.report)


def test_the_disagreement_control_is_labelled_as_the_filter_it_is(client, alice, finished_run):
    html = _page(client, alice, finished_run)
    assert "Show only cases the models disagree on" in html
    client.force_login(alice)
    filtered = client.get(reverse("bakeoffs:report", args=[finished_run.pk]), {"mixed": "1"}).content.decode()
    assert "showing only cases the models disagree on" in filtered and "Show every case" in filtered


def test_a_report_stored_before_the_recommendation_gets_one_on_the_page(client, alice, finished_run):
    report = dict(finished_run.report)
    report.pop("recommendation"), report.pop("sample_size")
    type(finished_run).objects.filter(pk=finished_run.pk).update(report=report)
    html = _page(client, alice, finished_run)
    assert 'id="decision"' in html and "for every task" in html


@pytest.mark.parametrize("value, shown", [
    ("0.000008", "$0.0080"), ("0.000017", "$0.017"), ("0.0005", "$0.50"), ("0.008", "$8.00"),
    ("1.2345", "$1,234.50"), ("0", "$0.00"),
    ("0.0000004", "$0.00040"), (None, "—"),
])
def test_cost_per_1000_tasks_formatting(value, shown):
    assert per_1000(value) == shown


def test_money_and_category_names():
    assert money("75000") == "$75,000.00" and money("1.1") == "$1.10" and money(None) == "—"
    assert category_name("hard-analysis") == "Hard analysis"
    assert category_name("PII-redaction") == "PII redaction"
    assert category_name("  multi--word__name ") == "Multi word name"
    assert category_name("") == "Uncategorised"


def _report(rates_by_category, *, monthly=("1.00", "2.00"), bar="2"):
    """A minimal report: router rows (category, cases, chosen, best rate, chosen rate), two models."""
    rows = [{"category": c, "cases": n, "share": 0.5, "model": m, "pass_rate": r, "cost_per_task_usd": "0.001",
             "best_model": "big", "best_pass_rate": best, "meets_bar": True}
            for c, n, m, best, r in rates_by_category]
    total = sum(n for _, n, *_ in rates_by_category)
    return {
        "models": [{"key": key, "name": key.title(), "invoked_id": key, "cases": total, "pass_rate": rate,
                    "pass_rate_ci95": [0.9, 1.0], "latency_ms": {"p50": 100, "p95": 200}, "errors": 0,
                    "cost_per_task_usd": cost, "cost_per_solved_task_usd": cost}
                   for key, rate, cost in (("big", 1.0, "0.002"), ("small", 0.99, "0.0005"))],
        "pairwise": [{"a": "big", "b": "small", "cases": total, "a_only": 1, "b_only": 0, "p_value": 1.0,
                      "significant": False}],
        "router": {"bar": {"points_below_best": bar, "min_pass_rate_pct": None}, "by_category": rows,
                   "blended_cost_per_task_usd": "0.001", "blended_pass_rate": 0.99,
                   "single_best_model": "big", "single_best_cost_per_task_usd": "0.002",
                   "single_best_pass_rate": 1.0, "monthly_usd": {"router": monthly[0], "single_best": monthly[1]},
                   "runway_months": {"router": None, "single_best": None}},
    }


def test_a_cheaper_router_on_enough_cases_is_recommended():
    decision = recommendation.recommendation(_report([("a", 100, "small", 1.0, 0.99), ("b", 100, "big", 1.0, 1.0)]))
    assert decision["setup"] == "router" and decision["models"] == ["small", "big"]
    assert decision["monthly_usd"] == "1.00" and decision["cases"] == 200 and not decision["router_held_back"]
    assert decision["cost_per_1000_tasks_usd"] == "1.000000"


def test_a_cheaper_router_on_too_few_cases_is_held_back_for_the_single_model():
    decision = recommendation.recommendation(_report([("a", 4, "small", 1.0, 1.0), ("b", 4, "big", 1.0, 1.0)]))
    assert decision["setup"] == "single_model" and decision["model"] == "big"
    assert decision["router_held_back"] is True and "too few cases" in decision["reason"]


def test_the_founders_page_shares_the_wording_category_names_and_costs_per_1000_tasks(
    client, pools, alpha, eager_celery, sandbox, django_capture_on_commit_callbacks
):
    from intake.links import status_path

    engagement = _engagement(pools, alpha, monthly_requests=1000)
    run = _run(alpha, sandbox, django_capture_on_commit_callbacks, cases=4, engagement=engagement,
               categories=("hard-analysis", "triage"))
    run.shared_with_founder = True
    run.save(update_fields=["shared_with_founder"])
    html = client.get(status_path(engagement.intake)).content.decode()
    assert "Cost per 1,000 tasks" in html and per_1000(run.report["models"][0]["cost_per_task_usd"]) in html
    assert "Hard analysis →" in html and "hard-analysis →" not in html
    # the founder reads the partner's recommendation: one model here, the router held back
    assert run.report["recommendation"]["setup"] == "single_model"
    founder_says = html[html.index('id="bakeoff-recommendation"'):]
    assert founder_says.startswith('id="bakeoff-recommendation"><strong>Recommendation:</strong> Claude Haiku 4.5 for '
                                   'everything, about $1.10 a month; credit runway: covers the whole validity (24 months).')
    assert "rests on too few of your prompts to rely on yet" in founder_says


def test_the_top_block_recommends_the_router_when_it_is_cheaper_on_enough_cases(client, alice, finished_run):
    report = _report([("hard-analysis", 100, "small", 1.0, 0.99), ("triage", 100, "big", 1.0, 1.0)],
                     monthly=("1234.5", "2500"))
    report["router"].update(credit_validity_months=12, runway_covers_validity={"router": True, "single_best": False},
                            runway_months_counting_expiry={"router": "12.00", "single_best": "9.50"})
    type(finished_run).objects.filter(pk=finished_run.pk).update(report=report)
    html = _page(client, alice, finished_run)
    top = html[html.index('id="decision"'):html.index('id="summary-heading"')]
    assert "Route by category" in top and "Hard analysis → Small; Triage → Big" in top
    assert "$1,234.50" in top and "covers the whole validity (12 months)" in top
    assert "over 200 cases" in top and 'id="small-sample-warning"' not in top
    assert "RECOMMENDATION: route by category: Hard analysis -> Small; Triage -> Big." in render_text(report)
