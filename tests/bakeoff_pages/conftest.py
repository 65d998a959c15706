"""A firm (alice owner, bob colleague) with a finished sandbox bake-off, and an outsider (charlie)."""
import pytest

from bakeoff_jobs import services
from bedrock_sandbox.config import ScriptLine
from matching.admin_scoping import admin_groups_ensure
from tests.bakeoff_jobs.conftest import _sandbox_server, bedrock_sandbox  # noqa: F401 - fixtures
from tests.bakeoff_jobs.factories import EngagementFactory, claude_haiku_45, eval_set_with_cases, llama_8b
from tests.factories import PartnerFactory, PartnerMemberFactory, UserFactory
from tests.filing.filing_support import eager_celery  # noqa: F401 - fixture


@pytest.fixture
def partner_group(db):
    return admin_groups_ensure()[0]


def member(username, partner, group):
    user = UserFactory(username=username, is_staff=True)
    user.groups.add(group)
    PartnerMemberFactory(user=user, partner=partner)
    return user


@pytest.fixture
def alpha(db):
    return PartnerFactory(name="Alpha Partners")


@pytest.fixture
def alice(alpha, partner_group):
    return member("alice", alpha, partner_group)


@pytest.fixture
def charlie(partner_group):
    return member("charlie", PartnerFactory(name="Bravo Partners"), partner_group)


@pytest.fixture
def sandbox(bedrock_sandbox):  # noqa: F811
    bedrock_sandbox.config.script = [ScriptLine(prompt_contains="Case 1:", answer="Lyon", model="meta.*"),
                                     ScriptLine(prompt_contains="say Paris", answer="Paris")]
    bedrock_sandbox.config.latency_ms, bedrock_sandbox.config.jitter_ms = 12, 8
    return bedrock_sandbox


@pytest.fixture
def finished_run(eager_celery, sandbox, alpha, alice, django_capture_on_commit_callbacks):
    engagement = EngagementFactory(partner=alpha, intake__company_name="Parsewell")
    eval_set = eval_set_with_cases(6, engagement=engagement, partner=alpha, name="Parsewell triage")
    with django_capture_on_commit_callbacks(execute=True):
        run = services.bakeoff_launch(eval_set=eval_set, models=[claude_haiku_45(), llama_8b()],
                                      endpoint_url=sandbox.url, max_tokens=64, created_by=alice)
    run.refresh_from_db()
    assert run.status == "finished", run.error
    return run
