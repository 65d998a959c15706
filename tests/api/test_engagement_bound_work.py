"""Bake-off work tied to an engagement (an eval set, a run, a summary shared with the founder)
belongs to the firm that holds the engagement: not to a firm that has not accepted it yet, nor to one
that declined it and saw it matched elsewhere."""
import io

import pytest
from django.test import Client

from bakeoff_jobs import services as bakeoff
from bakeoff_jobs.models import BakeoffRun, EvalSet
from bakeoff_jobs.selectors import engagement_spend_projection, run_shared_with_founder
from matching import services
from matching.admin_scoping import admin_groups_ensure
from matching.models import Engagement
from tests.bakeoff_jobs.factories import EvalCaseFactory
from tests.factories import PartnerFactory

pytestmark = pytest.mark.django_db

CASES = b'{"prompt": "Say hello", "expected": "hello", "scorer": "contains"}\n' * 3


def _upload(client, engagement):
    upload = io.BytesIO(CASES)
    upload.name = "cases.jsonl"
    return client.post("/api/eval-sets/", {"name": "cases", "file": upload, "engagement": engagement.pk},
                       format="multipart")


def test_an_eval_set_is_tied_only_to_an_engagement_the_firm_has_accepted(world):
    alice = world.client("alice")

    refused = _upload(alice, world.matched_a)  # matched with Alpha, not accepted yet

    assert refused.status_code == 400
    assert refused.json()["fields"] == {
        "engagement": ["An eval set can be tied only to an engagement your firm has accepted."]}
    assert not EvalSet.objects.filter(engagement=world.matched_a).exists()
    assert _upload(alice, world.engagement_a).status_code == 201


@pytest.fixture
def declined_with_a_run(world):
    """Alpha's finished run on an engagement (tied before the rule above), which Alpha then declined
    and which went to another firm."""
    eval_set = EvalSet.objects.create(name="early", partner=world.partner_a, engagement=world.matched_a, case_count=3)
    for _ in range(3):
        EvalCaseFactory(eval_set=eval_set)
    run = bakeoff.bakeoff_launch(eval_set=eval_set, models=world.models, created_by=world.alice)
    BakeoffRun.objects.filter(pk=run.pk).update(
        status="finished", report={"models": [], "router": {"single_best_model": world.models[0].model_id}})
    gamma = PartnerFactory(name="Gamma Works")
    services.engagement_decline(engagement=world.matched_a, by=world.alice, reason="No capacity")
    engagement = Engagement.objects.get(pk=world.matched_a.pk)
    assert engagement.partner == gamma
    return run, eval_set, engagement


def test_a_firm_that_declined_cannot_share_its_run_with_the_founder(world, declined_with_a_run):
    run, _eval_set, engagement = declined_with_a_run
    world.alice.is_staff = True
    world.alice.save()
    world.alice.groups.add(admin_groups_ensure()[0])
    page = Client()
    page.force_login(world.alice)

    page.post(f"/bakeoffs/{run.pk}/share/", {"shared": "1"})

    run.refresh_from_db()
    assert run.shared_with_founder is False
    with pytest.raises(bakeoff.BakeoffError, match="engagement your firm holds"):
        bakeoff.bakeoff_share(run=run, shared=True, by=world.staff)


def test_a_firm_that_declined_cannot_launch_on_the_engagement(world, declined_with_a_run):
    _run, eval_set, _engagement = declined_with_a_run

    refused = world.client("alice").post(
        "/api/bakeoffs/", {"eval_set": eval_set.pk, "models": [m.model_id for m in world.models]}, format="json")

    assert refused.status_code == 400 and list(refused.json()["fields"]) == ["eval_set"]
    assert BakeoffRun.objects.filter(eval_set=eval_set).count() == 1


def test_the_founder_and_the_ace_figure_see_only_the_holding_firms_runs(world, declined_with_a_run):
    run, _eval_set, engagement = declined_with_a_run
    BakeoffRun.objects.filter(pk=run.pk).update(shared_with_founder=True)  # shared before it was declined

    assert run_shared_with_founder(engagement) is None
    projection = engagement_spend_projection(engagement)
    assert projection is not None and projection.from_bakeoff is False
