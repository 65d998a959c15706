"""Uploading an eval set and launching a bake-off from the partner's pages, estimate first."""
import re
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


def test_picker_offers_no_model_past_end_of_life_and_says_when_legacy_ones_end(client, alice, alpha):
    import datetime as dt

    from bakeoff_jobs.catalog_models import CatalogModel

    CatalogModel.objects.filter(model_id="anthropic.claude-opus-4-1-20250805-v1:0").update(
        end_of_life_date=dt.date(2099, 1, 31))
    eval_set_with_cases(2, partner=alpha)
    client.force_login(alice)
    page = client.get(reverse("bakeoffs:launch")).content.decode()
    assert "Claude 3 Haiku" not in page and "Llama 3.2" not in page and "Claude Sonnet 4<" not in page
    opus = picker_row(page, "Claude Opus 4.1<")
    assert "$15 / $75 per 1M tokens" in opus and "legacy: end of life 2099-01-31" in opus
    assert "$3.3 / $16.5 per 1M tokens" in picker_row(page, "Claude Sonnet 4.5<")  # the us. profile, 10% over the list
    profile = picker_row(page, 'value="global.anthropic.claude-sonnet-4-5-20250929-v1:0"')
    assert "global profile" in profile and "at the listed rate" in profile and "$3 / $15 per 1M tokens" in profile


def picker_row(page: str, marker: str) -> str:
    """The picker's table row that holds `marker`."""
    rows = [row for row in re.findall(r"<tr[^>]*>.*?</tr>", page, re.S) if marker in row]
    assert len(rows) == 1, (marker, len(rows))
    return rows[0]


def test_the_picker_groups_by_family_and_tier_with_plain_prices_batch_and_lifecycle(client, alice, alpha):
    from bakeoff_jobs.catalog_models import CatalogModel

    eval_set_with_cases(2, partner=alpha)
    client.force_login(alice)
    response = client.get(reverse("bakeoffs:launch"))
    page = response.content.decode()
    captions = [entry["group"].label for entry in response.context["groups"] if entry["rows"]]
    assert captions[:3] == ["Claude · Small", "Claude · Mid", "Claude · Top"] and "Llama · Large" in captions
    assert "<caption" in page and "Claude · Mid</caption>" in page
    assert ".000000" not in page  # "$3 / $15 per 1M tokens", never "$3.000000"
    haiku = picker_row(page, "Claude Haiku 4.5<")
    assert "batch −50%" in haiku and "active" in haiku
    CatalogModel.objects.filter(pk=llama_8b().pk).update(batch_supported=False)
    assert "no batch" in picker_row(client.get(reverse("bakeoffs:launch")).content.decode(), "Llama 3.1 8B Instruct<")


def test_choosing_a_legacy_model_warns_before_launch(client, alice, alpha):
    from bakeoff_jobs.catalog_models import CatalogModel

    eval_set = eval_set_with_cases(2, partner=alpha)
    opus = CatalogModel.objects.get(model_id="anthropic.claude-opus-4-1-20250805-v1:0")
    client.force_login(alice)
    form = {"eval_set": eval_set.pk, "models": [opus.pk, llama_8b().pk], "max_tokens": 100, "temperature": "0"}
    estimate = client.post(reverse("bakeoffs:launch"), {**form, "estimate": "1"}).content.decode()
    assert 'id="legacy-warning"' in estimate and "Claude Opus 4.1 is legacy on Bedrock" in estimate
    fresh = client.post(reverse("bakeoffs:launch"), {**form, "models": [claude_haiku_45().pk, llama_8b().pk],
                                                     "estimate": "1"}).content.decode()
    assert 'id="legacy-warning"' not in fresh


def test_opened_for_an_engagement_the_picker_preselects_the_founders_models(client, alice, alpha):
    from tests.bakeoff_jobs.factories import EngagementFactory

    engagement = EngagementFactory(partner=alpha, intake__models_of_interest="Claude Haiku 4.5, llama 3.1 8b, GPT-4o")
    eval_set = eval_set_with_cases(2, partner=alpha, engagement=engagement)
    haiku, llama = claude_haiku_45(), llama_8b()
    client.force_login(alice)
    for query in (f"engagement={engagement.pk}", f"eval_set={eval_set.pk}"):
        response = client.get(f"{reverse('bakeoffs:launch')}?{query}")
        assert response.context["form"]["models"].value() == [str(haiku.pk), str(llama.pk)]
        assert response.context["form"]["eval_set"].value() == eval_set.pk
        boxes = re.findall(r'<input type="checkbox" name="models"[^>]*>', response.content.decode())
        checked = [box for box in boxes if "checked" in box]
        assert len(checked) == 2 and f'value="{haiku.pk}"' in checked[0] and f'value="{llama.pk}"' in checked[1]
        assert 'id="preselected-note"' in response.content.decode()


def test_another_firms_engagement_preselects_nothing(client, alice, charlie):
    from tests.bakeoff_jobs.factories import EngagementFactory

    theirs = EngagementFactory(partner=charlie.partner_member.partner, intake__company_name="Their Startup")
    client.force_login(alice)
    response = client.get(f"{reverse('bakeoffs:launch')}?engagement={theirs.pk}")
    assert response.status_code == 200 and "Their Startup" not in response.content.decode()
    assert not response.context["form"]["models"].value()


def test_an_eval_set_whose_engagement_moved_to_another_firm_preselects_nothing_of_it(client, alice, alpha, charlie):
    from tests.bakeoff_jobs.factories import EngagementFactory

    engagement = EngagementFactory(partner=alpha, intake__company_name="Movedwell")
    eval_set = eval_set_with_cases(2, partner=alpha, engagement=engagement)
    engagement.partner = charlie.partner_member.partner  # declined and placed with another firm
    engagement.save()
    client.force_login(alice)
    response = client.get(f"{reverse('bakeoffs:launch')}?eval_set={eval_set.pk}")
    assert "Movedwell" not in response.content.decode() and not response.context["form"]["models"].value()


def test_the_upload_page_says_why_an_eval_set_is_not_tied_to_an_engagement(client, alice, alpha):
    from tests.bakeoff_jobs.factories import EngagementFactory

    waiting = EngagementFactory(partner=alpha, status="matched", intake__company_name="Waitwell")
    client.force_login(alice)
    page = client.get(reverse("bakeoffs:upload")).content.decode()
    assert "(not tied to an engagement)" not in page
    assert "only to an engagement your firm has accepted, and there is none yet (1 waiting for you to accept)" in page
    assert reverse("workspace:detail", args=[waiting.pk]) in page and "no credit runway" in page
    accepted = EngagementFactory(partner=alpha, status="accepted", intake__company_name="Readywell")
    response = client.get(f"{reverse('bakeoffs:upload')}?engagement={accepted.pk}")
    assert response.context["form"]["engagement"].value() == str(accepted.pk)
    assert "Only accepted engagements are listed" in response.content.decode()


def test_launching_a_model_past_end_of_life_is_refused_with_its_name(client, alice, alpha):
    from bakeoff_jobs.catalog_models import CatalogModel

    eval_set = eval_set_with_cases(2, partner=alpha)
    retired = CatalogModel.objects.get(model_id="meta.llama3-2-90b-instruct-v1:0")
    client.force_login(alice)
    response = client.post(reverse("bakeoffs:launch"), {"eval_set": eval_set.pk, "models": [retired.pk, llama_8b().pk],
                                                        "max_tokens": 100, "temperature": "0", "estimate": "1"})
    assert response.status_code == 400
    assert "Llama 3.2 90B Instruct is past end of life on Bedrock" in response.context["form"].errors["models"][0]
    assert not BakeoffRun.objects.exists()


def test_the_global_profile_is_launched_at_the_listed_price(client, alice, alpha, django_capture_on_commit_callbacks):
    eval_set = eval_set_with_cases(2, partner=alpha)
    form = {"eval_set": eval_set.pk, "models": ["global.anthropic.claude-haiku-4-5-20251001-v1:0", llama_8b().pk],
            "max_tokens": 100, "temperature": "0"}
    client.force_login(alice)
    shown = client.post(reverse("bakeoffs:launch"), {**form, "estimate": "1"}).context["estimate"]
    assert shown["rows"][0]["invoked_id"] == "global.anthropic.claude-haiku-4-5-20251001-v1:0"
    with django_capture_on_commit_callbacks(execute=False):
        client.post(reverse("bakeoffs:launch"), {**form, "confirm": "1", "estimate_of": shown["key"]})
    haiku = BakeoffRun.objects.get().run_models.get(position=0)
    assert (haiku.invoked_id, haiku.input_per_1m, haiku.output_per_1m) == (
        "global.anthropic.claude-haiku-4-5-20251001-v1:0", Decimal("1.000000"), Decimal("5.000000"))


def test_picking_a_model_and_its_global_profile_together_is_refused(client, alice, alpha):
    from bakeoff_jobs.catalog_models import CatalogModel

    eval_set = eval_set_with_cases(2, partner=alpha)
    sonnet = CatalogModel.objects.get(model_id="anthropic.claude-sonnet-4-5-20250929-v1:0")
    client.force_login(alice)
    response = client.post(reverse("bakeoffs:launch"), {
        "eval_set": eval_set.pk, "models": [sonnet.pk, f"global.{sonnet.model_id}"], "max_tokens": 100,
        "temperature": "0", "estimate": "1"})
    assert response.status_code == 400 and "Pick each model once" in response.context["form"].errors["models"][0]


def test_an_unknown_model_value_is_a_clear_400(client, alice, alpha):
    eval_set = eval_set_with_cases(2, partner=alpha)
    client.force_login(alice)
    response = client.post(reverse("bakeoffs:launch"), {
        "eval_set": eval_set.pk, "models": ["999999", "no-such-model"], "max_tokens": 100, "temperature": "0",
        "estimate": "1"})
    assert response.status_code == 400 and "No catalog model with id 999999" in response.context["form"].errors["models"][0]


@pytest.mark.parametrize("endpoint, bills_nothing", [("http://127.0.0.1:8765", True), ("", False)])
def test_launch_page_shows_the_range_and_says_a_sandbox_run_bills_nothing(client, alice, alpha, settings,
                                                                          endpoint, bills_nothing):
    settings.BEDROCK_ENDPOINT_URL = endpoint
    eval_set = eval_set_with_cases(4, partner=alpha)
    form = {"eval_set": eval_set.pk, "models": [claude_haiku_45().pk, llama_8b().pk], "max_tokens": 512,
            "temperature": "0"}
    client.force_login(alice)
    response = client.post(reverse("bakeoffs:launch"), {**form, "estimate": "1"})
    page = response.content.decode()
    total = response.context["estimate"]["total"]
    assert total.upper_bound_usd > total.expected_usd > 0
    assert "typical" in page and "at most" in page
    assert ("Sandbox run: it bills $0." in page) is bills_nothing


def test_batch_choice_launches_a_batch_run_at_the_batch_estimate(client, alice, alpha, settings,
                                                                 django_capture_on_commit_callbacks):
    settings.BAKEOFF_BATCH_MIN_RECORDS = 4
    eval_set = eval_set_with_cases(4, partner=alpha)
    models = [claude_haiku_45(), llama_8b()]
    form = {"eval_set": eval_set.pk, "models": [m.pk for m in models], "max_tokens": 100, "temperature": "0",
            "batch": "on"}
    client.force_login(alice)
    first = client.post(reverse("bakeoffs:launch"), {**form, "estimate": "1"})
    estimate = first.context["estimate"]
    assert estimate["batch_usd"] == estimate["total"].expected_usd / 2  # both at a 0.5 batch discount
    assert 'id="batch-estimate"' in first.content.decode()
    with django_capture_on_commit_callbacks(execute=False):
        client.post(reverse("bakeoffs:launch"), {**form, "confirm": "1", "estimate_of": estimate["key"]})
    run = BakeoffRun.objects.get()
    assert run.mode == "batch"
    # Both ends of the range are at the batch price: the typical estimate and the most it can cost.
    assert run.estimated_cost_usd == estimate["batch_usd"].quantize(Decimal("0.000001"))
    assert run.estimated_cost_max_usd == (estimate["total"].upper_bound_usd / 2).quantize(Decimal("0.000001"))


def test_batch_choice_is_refused_for_a_model_without_batch_or_a_small_set(client, alice, alpha, settings):
    settings.BAKEOFF_BATCH_MIN_RECORDS = 5
    eval_set = eval_set_with_cases(4, partner=alpha)
    haiku, llama = claude_haiku_45(), llama_8b()
    form = {"eval_set": eval_set.pk, "models": [haiku.pk, llama.pk], "max_tokens": 100, "temperature": "0",
            "batch": "on", "estimate": "1"}
    client.force_login(alice)
    small = client.post(reverse("bakeoffs:launch"), form)
    assert small.status_code == 400 and "at least 5 records" in small.context["form"].errors["batch"][0]
    settings.BAKEOFF_BATCH_MIN_RECORDS = 2
    llama.batch_supported = False
    llama.save()
    no_batch = client.post(reverse("bakeoffs:launch"), form)
    assert no_batch.status_code == 400 and "no batch inference for Llama" in no_batch.context["form"].errors["batch"][0]
    assert not BakeoffRun.objects.exists()


def test_the_launch_page_shows_a_provisioned_models_hourly_price_instead_of_zero(client, alice, alpha):
    from tests.bakeoff_jobs.factories import custom_model

    provisioned = custom_model(name="Support Llama PT", model_arn="arn:aws:bedrock:us-east-1:123456789012:provisioned-model/pt7abc", pricing="provisioned",
                               model_units=1, model_unit_hour_price=Decimal("21.18"))
    form = {"eval_set": eval_set_with_cases(4, partner=alpha).pk, "models": [claude_haiku_45().pk, provisioned.pk],
            "max_tokens": 100, "temperature": "0", "estimate": "1"}
    client.force_login(alice)
    page = client.post(reverse("bakeoffs:launch"), form).content.decode()
    assert "Provisioned Throughput: $21.18 an hour (1 model unit)" in page
    assert 'id="capacity-estimate-note"' in page


def test_launch_sent_twice_from_one_estimate_starts_one_run(client, alice, alpha, django_capture_on_commit_callbacks):
    """A double click on Launch (or the browser resending the form) posts the same estimate twice:
    the second shows the run the first launched, and nothing more is called or billed."""
    eval_set = eval_set_with_cases(4, partner=alpha)
    form = {"eval_set": eval_set.pk, "models": [claude_haiku_45().pk, llama_8b().pk], "max_tokens": 100,
            "temperature": "0"}
    client.force_login(alice)
    page = client.post(reverse("bakeoffs:launch"), {**form, "estimate": "1"})
    token = re.search(r'name="launch_token" value="([0-9a-f]+)"', page.content.decode()).group(1)
    confirm = {**form, "confirm": "1", "estimate_of": page.context["estimate"]["key"], "launch_token": token}
    with django_capture_on_commit_callbacks(execute=False):
        first = client.post(reverse("bakeoffs:launch"), confirm)
        second = client.post(reverse("bakeoffs:launch"), confirm)
    run = BakeoffRun.objects.get()
    assert first["Location"] == second["Location"] == reverse("bakeoffs:report", args=[run.pk])

    # A new estimate page is a new confirmation: launching again on purpose still works.
    again = client.post(reverse("bakeoffs:launch"), {**form, "estimate": "1"})
    new_token = re.search(r'name="launch_token" value="([0-9a-f]+)"', again.content.decode()).group(1)
    assert new_token != token
    with django_capture_on_commit_callbacks(execute=False):
        client.post(reverse("bakeoffs:launch"), {**confirm, "launch_token": new_token})
    assert BakeoffRun.objects.count() == 2


def test_the_upload_page_sent_twice_stores_one_eval_set(client, alice):
    """A double click on Upload sends the same page twice: one eval set, and both answers lead to it."""
    client.force_login(alice)
    page = client.get(reverse("bakeoffs:upload")).content.decode()
    token = re.search(r'name="upload_token" value="([0-9a-f]+)"', page).group(1)
    sent = [client.post(reverse("bakeoffs:upload"), {"name": "Triage", "upload_token": token,
                                                     "file": SimpleUploadedFile("cases.jsonl", GOOD)})
            for _ in range(2)]
    eval_set = EvalSet.objects.get()
    assert [r["Location"] for r in sent] == [f"{reverse('bakeoffs:launch')}?eval_set={eval_set.pk}"] * 2

    # A bad file frees the page's token: the corrected file, sent from the same page, is stored.
    page = client.get(reverse("bakeoffs:upload")).content.decode()
    token = re.search(r'name="upload_token" value="([0-9a-f]+)"', page).group(1)
    bad = client.post(reverse("bakeoffs:upload"), {"name": "Fixed", "upload_token": token,
                                                  "file": SimpleUploadedFile("c.jsonl", BAD)})
    assert bad.status_code == 400
    client.post(reverse("bakeoffs:upload"), {"name": "Fixed", "upload_token": token,
                                            "file": SimpleUploadedFile("cases.jsonl", GOOD)})
    assert EvalSet.objects.filter(name="Fixed").count() == 1
