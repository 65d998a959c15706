"""Uploading an eval set and launching a bake-off from the partner's pages, estimate first."""
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from bakeoff_jobs.models import BakeoffRun, EvalSet
from tests.bakeoff_jobs.factories import claude_haiku_45, eval_set_with_cases, llama_8b

pytestmark = pytest.mark.django_db

GOOD = b'{"prompt": "say Paris", "expected": "Paris", "scorer": "contains", "category": "extraction"}\n' * 3
BAD = b'{"prompt": "say Paris", "scorer": "nope"}\n{"expected": "x"}\n'


def test_upload_stores_the_set_for_the_firm_and_moves_on_to_launch(client, alice, alpha):
    client.force_login(alice)
    response = client.post(reverse("bakeoffs:upload"),
                           {"name": "Triage", "file": SimpleUploadedFile("cases.jsonl", GOOD)})
    eval_set = EvalSet.objects.get(name="Triage")
    assert (eval_set.partner, eval_set.case_count, eval_set.created_by) == (alpha, 3, alice)
    assert response["Location"] == f"{reverse('bakeoffs:launch')}?eval_set={eval_set.pk}"


def test_bad_rows_are_listed_and_nothing_is_stored(client, alice):
    client.force_login(alice)
    response = client.post(reverse("bakeoffs:upload"), {"name": "Bad", "file": SimpleUploadedFile("c.jsonl", BAD)})
    assert response.status_code == 400
    assert "Line 1" in response.content.decode() and "Line 2" in response.content.decode()
    assert not EvalSet.objects.exists()


def test_launch_shows_the_estimate_before_anything_runs_then_launches(client, alice, alpha,
                                                                    django_capture_on_commit_callbacks):
    eval_set = eval_set_with_cases(4, partner=alpha)
    models = [claude_haiku_45(), llama_8b()]
    form = {"eval_set": eval_set.pk, "models": [m.pk for m in models], "max_tokens": 100, "temperature": "0"}
    client.force_login(alice)
    first = client.post(reverse("bakeoffs:launch"), {**form, "estimate": "1"})
    assert first.status_code == 200 and not BakeoffRun.objects.exists()
    estimate = first.context["estimate"]["total"]
    assert estimate.cases == 4 and estimate.upper_bound_usd > estimate.expected_usd > Decimal(0)
    assert "Launch the bake-off" in first.content.decode()
    shown = first.context["estimate"]["key"]
    with django_capture_on_commit_callbacks(execute=False):
        second = client.post(reverse("bakeoffs:launch"), {**form, "confirm": "1", "estimate_of": shown})
    run = BakeoffRun.objects.get()
    assert second["Location"] == reverse("bakeoffs:report", args=[run.pk])
    assert (run.partner, run.created_by, run.total_pairs, run.max_tokens) == (alpha, alice, 8, 100)


def test_settings_changed_after_the_estimate_are_estimated_again_not_launched(
    client, alice, alpha, django_capture_on_commit_callbacks
):
    eval_set = eval_set_with_cases(4, partner=alpha)
    haiku, llama = claude_haiku_45(), llama_8b()
    form = {"eval_set": eval_set.pk, "models": [haiku.pk, llama.pk], "max_tokens": 100, "temperature": "0"}
    client.force_login(alice)
    shown = client.post(reverse("bakeoffs:launch"), {**form, "estimate": "1"}).context["estimate"]

    # Max tokens raised to 4,000 and Launch clicked without Recalculate.
    changed = client.post(reverse("bakeoffs:launch"),
                          {**form, "max_tokens": 4000, "confirm": "1", "estimate_of": shown["key"]})
    assert changed.status_code == 200 and not BakeoffRun.objects.exists()
    assert 'id="settings-changed"' in changed.content.decode()
    again = changed.context["estimate"]
    assert again["total"].upper_bound_usd > shown["total"].upper_bound_usd

    with django_capture_on_commit_callbacks(execute=False):
        launched = client.post(reverse("bakeoffs:launch"),
                               {**form, "max_tokens": 4000, "confirm": "1", "estimate_of": again["key"]})
    assert launched.status_code == 302 and BakeoffRun.objects.get().max_tokens == 4000


def test_launch_offers_only_the_firms_eval_sets_and_needs_two_models(client, alice, charlie, alpha):
    mine = eval_set_with_cases(1, partner=alpha)
    theirs = eval_set_with_cases(1, partner=charlie.partner_member.partner)
    client.force_login(alice)
    page = client.get(reverse("bakeoffs:launch"))
    choices = list(page.context["form"].fields["eval_set"].queryset)
    assert mine in choices and theirs not in choices
    response = client.post(reverse("bakeoffs:launch"), {"eval_set": theirs.pk, "models": [claude_haiku_45().pk],
                                                         "max_tokens": 64, "temperature": "0", "estimate": "1"})
    errors = response.context["form"].errors
    assert "eval_set" in errors and "models" in errors
