"""A partner logs in, uploads an eval set, sees the cost estimate, launches a bake-off against the
local sandbox through a real Celery worker, watches the progress bar reach the end and reads the
report with its chart."""
import pytest
from playwright.sync_api import expect

from bakeoff_jobs.models import BakeoffRun
from bedrock_sandbox.config import ScriptLine
from matching.admin_scoping import admin_groups_ensure
from tests.bakeoff_jobs.conftest import _sandbox_server, bedrock_sandbox  # noqa: F401 - fixtures
from tests.bakeoff_jobs.factories import EngagementFactory, claude_haiku_45, llama_8b
from tests.bakeoff_jobs.worker import start_worker  # noqa: F401 - fixture
from tests.factories import PartnerFactory, PartnerMemberFactory, UserFactory

from .conftest import assert_every_field_labelled, log_in

pytestmark = [pytest.mark.browser, pytest.mark.worker, pytest.mark.django_db(transaction=True)]

CASES = 24


@pytest.fixture
def eval_file(tmp_path):
    lines = []
    for i in range(CASES):
        category = ("extraction", "triage", "hard-analysis")[i % 3]
        lines.append(f'{{"prompt": "Case {i}: say Paris", "expected": "Paris", "scorer": "contains", '
                     f'"category": "{category}"}}')
    path = tmp_path / "parsewell-evals.jsonl"
    path.write_text("\n".join(lines) + "\n")
    return path


def test_partner_launches_a_bakeoff_and_watches_it_finish(page, live_server, settings, bedrock_sandbox,  # noqa: F811
                                                          start_worker, eval_file, shoot):  # noqa: F811
    bedrock_sandbox.config.script = [ScriptLine(prompt_contains="Case 1", answer="Lyon", model="meta.*"),
                                     ScriptLine(prompt_contains="say Paris", answer="Paris")]
    bedrock_sandbox.config.latency_ms, bedrock_sandbox.config.jitter_ms = 120, 60
    bedrock_sandbox.config.set_model("meta.*", latency_ms=60, jitter_ms=30)
    settings.BEDROCK_ENDPOINT_URL = bedrock_sandbox.url
    # One call at a time to Claude: the run lasts a few seconds, long enough to watch the bar move.
    claude_haiku_45(max_concurrency=1)
    llama_8b(max_concurrency=2)
    alpha = PartnerFactory(name="Alpha Partners")
    alice = UserFactory(username="alice", is_staff=True)
    alice.groups.add(admin_groups_ensure()[0])
    PartnerMemberFactory(user=alice, partner=alpha)
    EngagementFactory(partner=alpha, intake__company_name="Parsewell", intake__monthly_requests=400_000)
    start_worker()

    log_in(page, live_server, "alice")
    expect(page.get_by_role("link", name="New bake-off")).to_be_visible()
    shoot(page, "partner-admin-index")
    page.get_by_role("link", name="New bake-off").click()
    page.get_by_role("link", name="Upload a new eval set").click()
    page.get_by_label("Name").fill("Parsewell triage")
    page.get_by_label("Engagement").select_option(index=1)
    page.get_by_label("Eval set file").set_input_files(str(eval_file))
    shoot(page, "upload")
    assert_every_field_labelled(page)
    page.get_by_role("button", name="Upload").click()

    expect(page.get_by_role("status")).to_contain_text(f"with {CASES} cases")
    page.get_by_label("Claude Haiku 4.5").check()
    page.get_by_label("Llama 3.1 8B Instruct").check()
    page.get_by_label("Max output tokens per answer").fill("64")
    page.get_by_role("button", name="See the cost estimate").click()
    expect(page.get_by_role("heading", name="Cost estimate")).to_be_visible()
    assert not BakeoffRun.objects.exists()  # nothing runs before the partner confirms
    shoot(page, "launch-estimate")
    assert_every_field_labelled(page)
    page.get_by_role("button", name="Launch the bake-off").click()

    bar = page.get_by_role("progressbar")
    expect(bar).to_be_visible()
    shoot(page, "report-running")
    seen = set()
    for _ in range(300):  # the page polls every second and reloads itself into the report when done
        if page.locator("#cost-quality-chart").count():
            break
        if bar.count():
            seen.add(bar.get_attribute("aria-valuenow"))
        page.wait_for_timeout(100)
    expect(page.locator("#cost-quality-chart")).to_be_visible(timeout=30_000)
    assert seen - {"0"}, f"the bar never moved: {seen}"

    run = BakeoffRun.objects.get()
    assert (run.status, run.done_count, run.failed_count) == ("finished", CASES * 2, 0)
    expect(page.locator("#summary tbody tr")).to_have_count(2)
    expect(page.locator("#cost-quality-chart circle.on-frontier")).not_to_have_count(0)
    expect(page.locator("#router")).to_be_visible()
    expect(page.locator("#cases")).to_contain_text("Lyon")
    shoot(page, "report-finished")

    page.get_by_role("link", name="All bake-off runs").click()
    expect(page.get_by_role("link", name="Report", exact=True)).to_be_visible()
    shoot(page, "partner-runs")
    page.goto(live_server.url + "/admin/matching/engagement/")
    expect(page.locator("#result_list")).to_contain_text("Parsewell")
    shoot(page, "partner-engagements")
