"""A partner opens the engagement workspace from their home, accepts the match there, and launches a
bake-off from it with the founder's models of interest preselected (through a real Celery worker
and the local sandbox)."""
import pytest
from playwright.sync_api import expect

from bakeoff_jobs.models import BakeoffRun
from matching.admin_scoping import admin_groups_ensure
from matching.models import Engagement
from tests.bakeoff_jobs.conftest import _sandbox_server, bedrock_sandbox  # noqa: F401 - fixtures
from tests.bakeoff_jobs.factories import EngagementFactory, claude_haiku_45, llama_8b
from tests.bakeoff_jobs.worker import start_worker  # noqa: F401 - fixture
from tests.factories import PartnerFactory, PartnerMemberFactory, UserFactory

from .conftest import assert_every_field_labelled, log_in

pytestmark = [pytest.mark.browser, pytest.mark.worker, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def eval_file(tmp_path):
    path = tmp_path / "parsewell.jsonl"
    path.write_text("".join(f'{{"prompt": "Case {i}: say Paris", "expected": "Paris", "scorer": "contains"}}\n'
                            for i in range(6)))
    return path


def test_partner_accepts_in_the_workspace_and_launches_with_the_founders_models(
        page, live_server, settings, bedrock_sandbox, start_worker, eval_file, shoot):  # noqa: F811
    settings.BEDROCK_ENDPOINT_URL = bedrock_sandbox.url
    haiku, llama = claude_haiku_45(), llama_8b()
    alpha = PartnerFactory(name="Alpha Partners")
    alice = UserFactory(username="alice", is_staff=True)
    alice.groups.add(admin_groups_ensure()[0])
    PartnerMemberFactory(user=alice, partner=alpha)
    engagement = EngagementFactory(
        partner=alpha, status="matched", intake__company_name="Parsewell", intake__monthly_requests=400_000,
        intake__contact_email="ada@parsewell.example", intake__models_of_interest="Claude Haiku 4.5 and Llama 3.1 8B")
    start_worker()

    log_in(page, live_server, "alice")
    expect(page.locator("#workspace-callout")).to_contain_text("1 match waiting for you to accept")
    page.get_by_role("link", name="Open your engagements").click()
    expect(page.get_by_role("heading", name="Waiting for you to accept (1)")).to_be_visible()
    shoot(page, "workspace-home")
    page.get_by_role("link", name="Parsewell").click()

    expect(page.get_by_role("heading", name="Parsewell", level=1)).to_be_visible()
    expect(page.get_by_text("ada@parsewell.example")).to_be_visible()
    expect(page.locator("#engagement-status")).to_have_text("Matched")
    expect(page.get_by_text("$25,000").first).to_be_visible()
    assert_every_field_labelled(page)
    shoot(page, "workspace-matched")
    page.get_by_role("button", name="Accept this engagement").click()

    expect(page.get_by_role("status")).to_contain_text("You accepted Parsewell")
    expect(page.locator("#engagement-status")).to_have_text("Accepted")
    assert Engagement.objects.get(pk=engagement.pk).history.filter(to_status="accepted", changed_by=alice).exists()
    expect(page.get_by_role("link", name="Open the ACE draft")).to_be_visible()
    shoot(page, "workspace-accepted")

    # The readiness checklist links the field the intake never asked (a US customer's postal code).
    page.locator("#ace-readiness").get_by_role("link", name="Postal code").click()
    expect(page.get_by_role("heading", name="ACE opportunity for Parsewell")).to_be_visible()
    assert page.url.endswith("#id_postal_code")
    expect(page.get_by_label("Industry (required)")).to_have_value("Software and Internet")
    assert_every_field_labelled(page)
    shoot(page, "workspace-ace")
    page.get_by_label("Postal code (required for US customers)").fill("94107")
    page.get_by_role("button", name="Save the draft").click()
    expect(page.get_by_role("status")).to_contain_text("It is ready to submit")
    expect(page.locator("#ace-readiness")).to_contain_text("Ready")
    page.get_by_role("link", name="Parsewell workspace").click()

    page.locator("#new-bakeoff").click()
    expect(page.get_by_text("This engagement has no eval set yet")).to_be_visible()
    page.get_by_role("link", name="Upload a new eval set").click()
    expect(page.get_by_label("Engagement")).to_have_value(str(engagement.pk))
    page.get_by_label("Name").fill("Parsewell support")
    page.get_by_label("Eval set file").set_input_files(str(eval_file))
    page.get_by_role("button", name="Upload").click()

    expect(page.get_by_role("status")).to_contain_text("with 6 cases")
    expect(page.locator("#preselected-note")).to_be_visible()
    expect(page.get_by_label("Claude Haiku 4.5")).to_be_checked()
    expect(page.get_by_label("Llama 3.1 8B Instruct")).to_be_checked()
    expect(page.locator("input[name=models]:checked")).to_have_count(2)
    expect(page.locator("table.picker caption", has_text="Claude · Small")).to_be_visible()
    expect(page.get_by_text("$1.1 / $5.5 per 1M tokens").first).to_be_visible()
    assert_every_field_labelled(page)
    shoot(page, "launch-preselected")
    page.get_by_role("button", name="See the cost estimate").click()
    expect(page.get_by_role("heading", name="Cost estimate")).to_be_visible()
    page.get_by_role("button", name="Launch the bake-off").click()

    expect(page.get_by_role("progressbar").or_(page.locator("#cost-quality-chart"))).to_be_visible()
    run = BakeoffRun.objects.get()
    assert run.engagement_id == engagement.pk
    assert sorted(rm.catalog_model_id for rm in run.run_models.all()) == sorted([haiku.pk, llama.pk])
    expect(page.locator("#cost-quality-chart")).to_be_visible(timeout=30_000)

    page.goto(f"{live_server.url}/engagements/{engagement.pk}/")
    expect(page.get_by_role("link", name=f"Bake-off #{run.pk}")).to_be_visible()
    shoot(page, "workspace-with-run")
