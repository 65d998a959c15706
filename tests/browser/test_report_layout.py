"""The bake-off report in a browser: the decision block on top, the key columns on screen at
1280 px without a sideways scroll, and charts that fit a 375 px phone with nothing clipped."""
import pytest
from playwright.sync_api import expect

from bakeoff_jobs import services
from tests.bakeoff_jobs.conftest import _sandbox_server, bedrock_sandbox  # noqa: F401 - fixtures
from tests.bakeoff_jobs.factories import claude_haiku_45, eval_set_with_cases, llama_8b
from tests.bakeoff_pages.conftest import alice, alpha, partner_group, sandbox  # noqa: F401 - fixtures
from tests.bakeoff_pages.test_runway_expiry import _engagement
from tests.filing.filing_support import eager_celery  # noqa: F401 - fixture

from .conftest import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

KEY_COLUMNS = ("#col-pass", "#col-cost", "#col-monthly", "#col-runway", "#col-errors")


@pytest.fixture
def report_url(live_server, pools, alpha, alice, eager_celery, sandbox):  # noqa: F811
    engagement = _engagement(pools, alpha, monthly_requests=1000)
    eval_set = eval_set_with_cases(8, engagement=engagement, partner=alpha, categories=("extraction", "hard-analysis"))
    run = services.bakeoff_launch(eval_set=eval_set, models=[claude_haiku_45(), llama_8b()],
                                  endpoint_url=sandbox.url, max_tokens=64, created_by=alice)
    run.refresh_from_db()
    assert run.status == "finished", run.error
    return f"/bakeoffs/{run.pk}/"


@pytest.fixture
def crowded_report_url(live_server, pools, alpha, alice, eager_celery, sandbox):  # noqa: F811
    """Five models with long names, a legacy one among them, at a volume whose costs run to
    thousands of dollars a month and whose runway reads in months."""
    import datetime as dt

    from bakeoff_jobs.catalog import catalog_load
    from bakeoff_jobs.catalog_models import CatalogModel

    catalog_load()
    CatalogModel.objects.filter(model_id="anthropic.claude-opus-4-1-20250805-v1:0").update(
        end_of_life_date=dt.date.today() + dt.timedelta(days=90))
    models = [CatalogModel.objects.get(model_id=model_id) for model_id in (
        "anthropic.claude-opus-4-1-20250805-v1:0", "anthropic.claude-sonnet-4-5-20250929-v1:0",
        "anthropic.claude-haiku-4-5-20251001-v1:0", "meta.llama4-maverick-17b-instruct-v1:0",
        "meta.llama3-3-70b-instruct-v1:0")]
    engagement = _engagement(pools, alpha, monthly_requests=10_000_000)
    eval_set = eval_set_with_cases(12, engagement=engagement, partner=alpha,
                                   categories=("extraction", "hard-analysis", "customer_support_triage"))
    run = services.bakeoff_launch(eval_set=eval_set, models=models, endpoint_url=sandbox.url, max_tokens=64,
                                  created_by=alice)
    run.refresh_from_db()
    assert run.status == "finished", run.error
    return f"/bakeoffs/{run.pk}/"


def _open(page, live_server, report_url):
    log_in(page, live_server, "alice", next_path=report_url)
    expect(page.locator("#decision")).to_be_visible()
    page.wait_for_load_state("load")  # measure the page as styled, not before its stylesheet applies
    assert page.evaluate("getComputedStyle(document.querySelector('main')).maxWidth") != "none"


def test_the_report_opens_on_the_decision_with_its_cost_runway_quality_and_warning(page, live_server, report_url,
                                                                                    shoot):
    _open(page, live_server, report_url)
    decision = page.locator("#decision")
    expect(decision.get_by_role("heading", name="Recommendation")).to_be_visible()
    expect(page.locator("#decision-setup")).to_have_text("Use Claude Haiku 4.5 for every task.")
    expect(page.locator("#decision-monthly")).to_contain_text("$1.10")
    expect(page.locator("#decision-runway")).to_contain_text("covers the whole validity (24 months)")
    expect(page.locator("#decision-quality")).to_contain_text("100.0%")
    expect(page.locator("#decision-quality")).to_contain_text("95% interval")
    expect(page.locator("#decision-cost")).to_contain_text("per 1,000 tasks")
    warning = page.locator("#small-sample-warning")
    expect(warning).to_contain_text("Hard analysis rests on 4 cases; about 77 would be needed")
    # the decision is the first thing below the title, above the fold
    box = decision.bounding_box()
    assert box["y"] < page.locator("#summary").bounding_box()["y"] and box["y"] < 900
    shoot(page, "report-decision")

    page.get_by_role("link", name="Show only cases the models disagree on").click()
    expect(page.locator("#cases tbody tr")).to_have_count(1)
    page.get_by_role("link", name="Show every case").click()
    expect(page.locator("#cases tbody tr")).to_have_count(8)


@pytest.mark.parametrize("which", ["report_url", "crowded_report_url"])
def test_key_columns_are_fully_visible_at_1280_px_without_a_sideways_scroll(page, live_server, request, which):
    report_url = request.getfixturevalue(which)
    page.set_viewport_size({"width": 1280, "height": 900})
    _open(page, live_server, report_url)
    scroller = page.locator("#summary-scroll")
    scroll_width, client_width = scroller.evaluate("el => [el.scrollWidth, el.clientWidth]")
    assert scroll_width <= client_width, "the summary table scrolls sideways"
    right_edge = scroller.bounding_box()["x"] + client_width
    for header in KEY_COLUMNS:
        column = page.locator(header)
        expect(column).to_be_visible()
        index = column.evaluate("th => th.cellIndex") + 1
        for cell in [column, *page.locator(f"#summary tbody tr > :nth-child({index})").all()]:
            box = cell.bounding_box()
            assert box["x"] >= 0 and box["x"] + box["width"] <= min(right_edge, 1280) + 0.5, (header, box)
    assert page.evaluate("document.documentElement.scrollWidth <= document.documentElement.clientWidth")


def _clipped(page, svg_id: str) -> list:
    """Every drawn element of the SVG whose box falls outside the SVG's own box (its viewBox)."""
    return page.evaluate("""id => {
        const svg = document.getElementById(id);
        const outer = svg.getBoundingClientRect();
        return [...svg.querySelectorAll('text, circle, line, rect, path')].map(el => {
            const r = el.getBoundingClientRect();
            return {tag: el.tagName, text: el.textContent.trim().slice(0, 40),
                    out: r.left < outer.left - 0.5 || r.right > outer.right + 0.5
                         || r.top < outer.top - 0.5 || r.bottom > outer.bottom + 0.5};
        }).filter(e => e.out);
    }""", svg_id)


@pytest.mark.parametrize("which", ["report_url", "crowded_report_url"])
@pytest.mark.parametrize("width, suffix", [(375, "-phone"), (1280, "")])
def test_charts_fit_with_no_clipped_label_or_point(page, live_server, request, which, width, suffix, shoot):
    report_url = request.getfixturevalue(which)
    page.set_viewport_size({"width": width, "height": 800})
    _open(page, live_server, report_url)
    for chart in ("cost-quality-chart", "latency-chart"):
        svg = page.locator(f"#{chart}{suffix}")
        expect(svg).to_be_visible()
        assert _clipped(page, f"{chart}{suffix}") == []
        box = svg.bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= width
    assert page.evaluate("document.documentElement.scrollWidth <= document.documentElement.clientWidth"), \
        "the page scrolls sideways"
    shoot(page, f"report-charts-{which}-{width}")
