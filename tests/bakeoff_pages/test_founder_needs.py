"""A founder who asked for open weights or fine-tuning: the launch page suggests the candidate that
answers it, and the report's decision block says what the bake-off found for it."""
from decimal import Decimal
from html import unescape

import pytest
from django.urls import reverse

from bakeoff_jobs import selectors
from bakeoff_jobs.models import BakeoffRun
from tests.bakeoff_jobs.factories import (
    EngagementFactory,
    claude_haiku_45,
    custom_model,
    llama_8b,
    run_with_results,
    self_hosted_model,
)

pytestmark = pytest.mark.django_db

GPUS = {"gpu_type": "NVIDIA L4", "gpu_count": 2, "gpu_hour_price": Decimal("1.50"), "max_concurrency": 4}


def test_the_launch_page_suggests_a_candidate_for_each_need_with_where_to_register_one(client, alice, alpha):
    from django.contrib.auth import get_user_model

    tuned = custom_model(name="Support Llama tuned")
    claude_haiku_45(), llama_8b()
    engagement = EngagementFactory(partner=alpha, intake__needs_open_weights=True, intake__needs_fine_tuning=True)
    client.force_login(alice)
    page = client.get(reverse("bakeoffs:launch"), {"engagement": engagement.pk})
    html = unescape(page.content.decode())
    assert page.status_code == 200
    # No self-hosted entry yet: say so, and who registers one (the partner may not edit the catalog).
    assert 'id="need-open_weights"' in html and "The founder asked for open weights." in html
    assert "No self-hosted (openai-compatible endpoint) candidate is in the catalog yet." in html
    assert "CloudRoute staff register the startup's self-hosted endpoint in the catalog on request." in html
    assert "?kind=self_hosted" not in html
    # A custom model is offered: name it to pick.
    assert 'id="need-fine_tuning"' in html and "The founder asked for fine-tuning." in html
    assert f'<strong class="need-pick">{tuned.name}</strong>' in html
    # Staff, who may add catalog entries, get the links to register one.
    client.force_login(get_user_model().objects.create_superuser("root", "root@example.com", "pw"))
    html = client.get(reverse("bakeoffs:launch"), {"engagement": engagement.pk}).content.decode()
    add = reverse("admin:bakeoff_jobs_catalogmodel_add")
    assert f'href="{add}?kind=self_hosted"' in html and f'href="{add}?kind=custom"' in html


def test_no_need_stated_no_suggestion(client, alice, alpha):
    claude_haiku_45(), llama_8b()
    engagement = EngagementFactory(partner=alpha)
    client.force_login(alice)
    html = client.get(reverse("bakeoffs:launch"), {"engagement": engagement.pk}).content.decode()
    assert "need-open_weights" not in html and "need-fine_tuning" not in html


def finished_report(run: BakeoffRun, partner) -> BakeoffRun:
    BakeoffRun.objects.filter(pk=run.pk).update(report=selectors.run_report(run), status="finished", partner=partner)
    return BakeoffRun.objects.get(pk=run.pk)


def test_the_decision_block_answers_the_open_weights_need_with_the_gpus_cost_and_who_pays(client, alice, alpha):
    engagement = EngagementFactory(partner=alpha, intake__needs_open_weights=True, intake__needs_fine_tuning=True,
                                   intake__monthly_requests=2_000_000, intake__avg_input_tokens=1000,
                                   intake__avg_output_tokens=500)
    haiku, ours = claude_haiku_45(), self_hosted_model(name="Llama 8B on our L4s")
    run = run_with_results(engagement, [haiku, ours],
                           {haiku: [(True, 1000, 200, 900)] * 3,
                            ours: [(True, 1000, 100, 2000), (True, 1000, 200, 4000), (True, 1000, 300, 6000)]},
                           **{str(ours.pk): {**GPUS, "hosting": "outside_aws"}})
    run = finished_report(run, alpha)
    needs = run.report["recommendation"]["needs"]
    assert [n["need"] for n in needs] == ["open_weights", "fine_tuning"]
    assert needs[0]["models"] == [ours.model_id]
    client.force_login(alice)
    html = unescape(client.get(reverse("bakeoffs:report", args=[run.pk])).content.decode())
    # $0.0025 for 3 solved tasks = $0.000833 each; 2 deployments × 2 GPUs = 4 GPUs, $4,380 always on,
    # $4,166.67 at 95% busy (see tests/bakeoff_jobs/test_hourly_report.py for the arithmetic).
    assert ("You asked for open weights: Llama 8B on our L4s solved 100% of 3 cases at $0.000833 per solved task; "
            "4 GPUs always on cost $4,380 a month ($4,166.67 at the measured utilisation), "
            "not paid by AWS credits (GPUs outside AWS).") in html
    assert ("You asked for fine-tuning, but this bake-off had no such candidate: add the startup's Bedrock custom "
            "model") in html
    # The runway says why it is missing, and the table beside Bedrock's figures says who pays.
    assert "credits do not pay for GPUs outside AWS" in html
    assert 'id="hosting-table"' in html and "<strong>not paid by credits</strong> (GPUs outside AWS)" in html
    assert "200.00 tokens/s" in html and "4 GPUs" in html
    # Shared with the founder, their status page answers the same need in the same words.
    from intake.links import status_path

    BakeoffRun.objects.filter(pk=run.pk).update(shared_with_founder=True)
    client.logout()
    founder_page = unescape(client.get(status_path(engagement.intake)).content.decode())
    assert needs[0]["text"] in founder_page and "not paid by credits (GPUs outside AWS)" in founder_page


def test_a_report_without_stated_needs_says_nothing_about_them(client, alice, alpha):
    engagement = EngagementFactory(partner=alpha)
    haiku, llama = claude_haiku_45(), llama_8b()
    run = finished_report(run_with_results(engagement, [haiku, llama], {haiku: [(True, 100, 10, 500)],
                                                                        llama: [(True, 100, 10, 500)]}), alpha)
    assert run.report["recommendation"]["needs"] == []
    client.force_login(alice)
    html = client.get(reverse("bakeoffs:report", args=[run.pk])).content.decode()
    assert "You asked for" not in html and 'id="hosting-table"' not in html
