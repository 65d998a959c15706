"""A firm's own self-hosted entries: registered through the admin for that firm only, invisible and
unusable for every other firm (its id answers as a missing one: admin, API, launch page, CLI), the
API key write-only (never in a page, the API, an export or a log), and untouched by the Bedrock sync."""
import json
import logging
import re
from decimal import Decimal

import httpx
import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse
from rest_framework.test import APIClient

from bakeoff_jobs import services
from bakeoff_jobs.catalog import catalog_sync, make_control_client
from bakeoff_jobs.hosting import SelfHostedEndpoint
from bakeoff_jobs.catalog_models import CatalogChange, CatalogModel
from bakeoff_jobs.models import RunStatus
from bakeoff_jobs.model_data import SELF_HOSTED_DEMO_MODEL
from bedrock_sandbox.config import ScriptLine
from matching.admin_scoping import admin_groups_ensure
from tests.factories import PartnerFactory, PartnerMemberFactory, UserFactory

from .factories import EngagementFactory, eval_set_with_cases, llama_8b
from .selfhosted_factories import self_hosted

pytestmark = pytest.mark.django_db

SECRET = "sk-zebra-7f3c9e1d-never-shown"


def firm_login(username, partner):
    user = UserFactory(username=username, is_staff=True)
    user.groups.add(admin_groups_ensure()[0])
    PartnerMemberFactory(user=user, partner=partner)
    return user


@pytest.fixture
def world(bedrock_sandbox):
    bedrock_sandbox.config.script = [ScriptLine(prompt_contains="say Paris", answer="Paris")]
    alpha, bravo = PartnerFactory(name="Alpha GPU Partners"), PartnerFactory(name="Bravo Partners")
    base_url = f"{bedrock_sandbox.url}/v1"
    return {
        "sandbox": bedrock_sandbox, "alpha": alpha, "bravo": bravo,
        "alice": firm_login("alice", alpha), "charlie": firm_login("charlie", bravo),
        "staff": UserFactory(username="root", is_staff=True, is_superuser=True),
        "shared": self_hosted(base_url, model_id="selfhosted.shared-llama", name="Shared Llama (staff)"),
        "alphas": self_hosted(base_url, model_id="our-llama", name="Alpha's own Llama", owner=alpha,
                              api_key=SECRET),
        "llama": llama_8b(),
    }


def client_for(user):
    from django.test import Client

    client = Client()
    client.force_login(user)
    return client


def no_digits(text: str) -> str:
    return re.sub(r"\d+", "N", text)


def test_a_firms_entry_id_is_prefixed_and_only_that_firm_resolves_it(world):
    assert world["alphas"].model_id == f"firm-{world['alpha'].pk}/our-llama"
    key = world["alphas"].model_id
    assert services.resolve_models([key], partner_id=world["alpha"].pk)[0].model == world["alphas"]
    with pytest.raises(services.BakeoffError) as foreign:
        services.resolve_models([key], partner_id=world["bravo"].pk)
    missing = f"firm-{world['alpha'].pk}/nothing-here"
    with pytest.raises(services.BakeoffError) as absent:
        services.resolve_models([missing], partner_id=world["bravo"].pk)
    assert str(foreign.value).replace(key, "ID") == str(absent.value).replace(missing, "ID")
    # Nor by its catalog row, nor at launch for another firm's eval set.
    bravo_set = eval_set_with_cases(2, partner=world["bravo"])
    with pytest.raises(services.BakeoffError, match="No catalog model"):
        services.bakeoff_launch(eval_set=bravo_set, models=[world["llama"], world["alphas"]])
    assert services.resolve_models([world["shared"].model_id], partner_id=world["bravo"].pk)


def test_the_launch_page_offers_a_firm_its_own_and_staffs_entries_grouped_with_their_gpus(world, client):
    page = client_for(world["alice"]).get(reverse("bakeoffs:launch")).content.decode()
    assert "Self-hosted · open weights on GPUs by the hour" in page
    assert "Alpha&#x27;s own Llama" in page and "Shared Llama (staff)" in page
    assert "2 × NVIDIA L4 at $0.805 per GPU-hour" in page
    other = client_for(world["charlie"]).get(reverse("bakeoffs:launch")).content.decode()
    assert "Shared Llama (staff)" in other and "Alpha" not in other


def test_posting_another_firms_entry_on_the_launch_page_answers_as_a_missing_id(world):
    eval_set = eval_set_with_cases(2, partner=world["bravo"])
    charlie = client_for(world["charlie"])

    def errors(model_pk):
        response = charlie.post(reverse("bakeoffs:launch"), {
            "eval_set": eval_set.pk, "models": [world["llama"].pk, model_pk], "max_tokens": 64,
            "temperature": "0", "estimate": "1"})
        assert response.status_code == 400
        return no_digits(re.search(r'<ul class="errorlist[^>]*>(.*?)</ul>', response.content.decode(), re.S).group(1))

    assert errors(world["alphas"].pk) == errors(CatalogModel.objects.order_by("-pk").first().pk + 1000)


def test_the_api_lists_a_firms_own_entries_to_it_alone_and_never_the_url_or_key(world):
    api = APIClient()
    api.force_authenticate(world["charlie"])
    listed = api.get("/api/catalog-models/?page_size=200").json()
    ids = {row["model_id"] for row in listed.get("results", listed)}
    assert "selfhosted.shared-llama" in ids and world["alphas"].model_id not in ids
    foreign = api.get(f"/api/catalog-models/{world['alphas'].pk}/")
    missing = api.get(f"/api/catalog-models/{world['alphas'].pk + 1000}/")
    assert foreign.status_code == missing.status_code == 404 and foreign.json() == missing.json()
    api.force_authenticate(world["alice"])
    own = api.get(f"/api/catalog-models/{world['alphas'].pk}/").json()
    assert own["kind"] == "self_hosted" and own["own"] is True
    assert own["self_hosted"] == {"served_model_name": SELF_HOSTED_DEMO_MODEL, "gpu_type": "NVIDIA L4",
                                  "gpu_count": 2, "gpu_hour_price": "0.805000", "hosting": "ec2"}
    body = json.dumps(own)
    assert SECRET not in body and "127.0.0.1" not in body


def test_a_partner_registers_an_entry_for_its_firm_in_the_admin_and_the_key_is_write_only(world):
    alice = client_for(world["alice"])
    add_url = reverse("admin:bakeoff_jobs_selfhostedentry_add")
    form = alice.get(add_url).content.decode()
    assert 'name="owner_partner"' not in form  # the firm is the login's own
    response = alice.post(add_url, {
        "name": "Alpha Mistral", "model_id": "mistral-7b", "family": "llama", "tier": "small",
        "max_concurrency": "3", "is_active": "on", "base_url": "http://gpu-box.alpha.example:8000/v1/",
        "served_model_name": "mistralai/Mistral-7B-Instruct-v0.3", "gpu_type": "NVIDIA A10G", "gpu_count": "1",
        "gpu_hour_price": "1.006", "hosting": "outside_aws", "api_key": "sk-typed-once",
    })
    assert response.status_code == 302, response.content.decode()[:3000]
    entry = CatalogModel.objects.get(name="Alpha Mistral")
    endpoint = SelfHostedEndpoint.objects.get(catalog_model=entry)
    assert (entry.owner_partner, entry.model_id, entry.kind, entry.max_concurrency) == (
        world["alpha"], f"firm-{world['alpha'].pk}/mistral-7b", "self_hosted", 3)
    assert (endpoint.base_url, endpoint.gpu_hour_price) == ("http://gpu-box.alpha.example:8000/v1", Decimal("1.006"))
    change = alice.get(reverse("admin:bakeoff_jobs_selfhostedentry_change", args=[entry.pk])).content.decode()
    assert "sk-typed-once" not in change and "Now: set (encrypted)" in change
    assert endpoint.api_key_encrypted and "sk-typed-once" not in endpoint.api_key_encrypted


def test_a_partner_cannot_see_or_change_another_firms_entry_in_the_admin(world):
    charlie = client_for(world["charlie"])
    listing = charlie.get(reverse("admin:bakeoff_jobs_selfhostedentry_changelist")).content.decode()
    assert "Alpha&#x27;s own Llama" not in listing
    pk = world["alphas"].pk
    for name in ("admin:bakeoff_jobs_selfhostedentry_change", "admin:bakeoff_jobs_catalogmodel_change"):
        assert charlie.get(reverse(name, args=[pk])).status_code == 404
        assert charlie.get(reverse(name, args=[pk + 1000])).status_code == 404
    assert charlie.post(reverse("admin:bakeoff_jobs_selfhostedentry_delete", args=[pk]), {"post": "yes"}
                        ).status_code == 404
    assert CatalogModel.objects.filter(pk=pk).exists()
    catalog = charlie.get(reverse("admin:bakeoff_jobs_catalogmodel_changelist") + "?kind__exact=self_hosted")
    assert "Alpha&#x27;s own Llama" not in catalog.content.decode()


def test_staff_see_every_entry_and_may_clear_a_key(world):
    staff = client_for(world["staff"])
    listing = staff.get(reverse("admin:bakeoff_jobs_selfhostedentry_changelist")).content.decode()
    assert "Alpha&#x27;s own Llama" in listing and "set (encrypted)" in listing and SECRET not in listing
    entry, endpoint = world["alphas"], SelfHostedEndpoint.objects.get(catalog_model=world["alphas"])
    response = staff.post(reverse("admin:bakeoff_jobs_selfhostedentry_change", args=[entry.pk]), {
        "name": entry.name, "model_id": entry.model_id, "family": "llama", "tier": "small", "max_concurrency": "4",
        "is_active": "on", "owner_partner": world["alpha"].pk, "base_url": endpoint.base_url,
        "served_model_name": endpoint.served_model_name, "gpu_type": "NVIDIA L4", "gpu_count": "2",
        "gpu_hour_price": "0.805", "hosting": "ec2", "clear_api_key": "on",
    })
    assert response.status_code == 302, response.content.decode()[:3000]
    endpoint.refresh_from_db()
    assert endpoint.api_key_encrypted == "" and CatalogModel.objects.get(pk=entry.pk).model_id == entry.model_id


def test_the_admin_form_refuses_a_bad_url_and_keeps_what_was_typed_but_the_key(world):
    response = client_for(world["alice"]).post(reverse("admin:bakeoff_jobs_selfhostedentry_add"), {
        "name": "Broken", "model_id": "broken", "family": "llama", "tier": "small", "max_concurrency": "0",
        "base_url": "file:///etc/passwd", "served_model_name": "m", "gpu_type": "L4", "gpu_count": "1",
        "gpu_hour_price": "-2", "hosting": "ec2", "api_key": SECRET,
    })
    page = response.content.decode()
    assert response.status_code == 200 and "http:// or https://" in page
    assert SECRET not in page and not CatalogModel.objects.filter(name="Broken").exists()


def test_the_key_is_sent_yet_never_shown_in_pages_api_exports_or_logs(world, celery_eager, caplog,
                                                                       django_capture_on_commit_callbacks):
    caplog.set_level(logging.DEBUG)
    world["sandbox"].config.openai_api_key = SECRET  # the endpoint refuses a call without it
    engagement = EngagementFactory(partner=world["alpha"])
    eval_set = eval_set_with_cases(3, engagement=engagement, partner=world["alpha"])
    with django_capture_on_commit_callbacks(execute=True):
        run = services.bakeoff_launch(eval_set=eval_set, models=[world["llama"], world["alphas"]],
                                      endpoint_url=world["sandbox"].url)
    run.refresh_from_db()
    assert run.status == RunStatus.FINISHED and run.failed_count == 0
    alice, staff = client_for(world["alice"]), client_for(world["staff"])
    api = APIClient()
    api.force_authenticate(world["alice"])
    seen = [
        alice.get(reverse("bakeoffs:report", args=[run.pk])).content,
        alice.get(reverse("bakeoffs:report_json", args=[run.pk])).content,
        b"".join(alice.get(reverse("bakeoffs:results_csv", args=[run.pk])).streaming_content),
        alice.get(reverse("bakeoffs:launch")).content,
        staff.get(reverse("admin:bakeoff_jobs_selfhostedentry_change", args=[world["alphas"].pk])).content,
        staff.get(reverse("admin:bakeoff_jobs_catalogmodel_change", args=[world["alphas"].pk])).content,
        staff.get(reverse("admin:bakeoff_jobs_bakeoffrun_change", args=[run.pk])).content,
        api.get(f"/api/bakeoffs/{run.pk}/").content, api.get("/api/catalog-models/").content,
        api.get(f"/api/bakeoffs/{run.pk}/report/").content,
        caplog.text.encode(),
    ]
    assert all(SECRET.encode() not in body for body in seen)


def test_the_cli_runs_a_firms_entry_for_that_firm_only(world, tmp_path):
    path = tmp_path / "cases.jsonl"
    path.write_text('{"prompt": "say Paris", "expected": "Paris", "scorer": "contains"}\n')
    models = f"{world['llama'].model_id},{world['alphas'].model_id}"
    with pytest.raises(CommandError, match="No catalog model"):
        call_command("bakeoff", str(path), "--models", models, "--partner", str(world["bravo"].pk), "--no-wait")
    with pytest.raises(CommandError, match="No catalog model"):
        call_command("bakeoff", str(path), "--models", models, "--no-wait")  # no firm: staff-managed only
    call_command("bakeoff", str(path), "--models", models, "--partner", str(world["alpha"].pk), "--no-wait")
    assert world["alphas"].run_models.get().run.partner == world["alpha"]


def test_the_bedrock_sync_leaves_self_hosted_entries_alone(world):
    entry = world["shared"]
    summary = catalog_sync(client=make_control_client(endpoint_url=world["sandbox"].url))
    entry.refresh_from_db()
    assert (entry.listed_by_bedrock, entry.synced_at, entry.is_active) == (None, None, True)
    assert not CatalogChange.objects.filter(catalog_model=entry).exists()
    assert entry.model_id not in summary.changed and entry.not_offered_reason() is None


def test_the_sandbox_serves_models_and_refuses_unknown_models_and_wrong_keys(bedrock_sandbox):
    base = f"{bedrock_sandbox.url}/v1"
    assert [m["id"] for m in httpx.get(f"{base}/models").json()["data"]] == [SELF_HOSTED_DEMO_MODEL]
    body = {"model": SELF_HOSTED_DEMO_MODEL, "messages": [{"role": "system", "content": "Be brief."},
                                                           {"role": "user", "content": "Name a colour"}],
            "max_tokens": 20}
    first, again = (httpx.post(f"{base}/chat/completions", json=body).json() for _ in range(2))
    assert first["choices"][0]["message"]["content"] == again["choices"][0]["message"]["content"]
    assert first["usage"]["total_tokens"] == first["usage"]["prompt_tokens"] + first["usage"]["completion_tokens"]
    unknown = httpx.post(f"{base}/chat/completions", json={**body, "model": "nobody/serves-this"})
    assert unknown.status_code == 404 and "does not exist" in unknown.json()["error"]["message"]
    bedrock_sandbox.config.openai_api_key = "sk-right"
    assert httpx.post(f"{base}/chat/completions", json=body).status_code == 401
    assert httpx.post(f"{base}/chat/completions", json=body,
                      headers={"Authorization": "Bearer sk-right"}).status_code == 200


def test_an_uploaded_judge_or_a_profile_id_never_names_another_firms_entry_into_a_run(world):
    """The judge a file's llm_judge cases name, and an inference profile id, resolve in the launching
    firm's catalog: another firm's own entry (its endpoint, its API key) is as absent as a missing id."""
    from bakeoff_jobs.catalog_models import InferenceProfile
    from bakeoff_jobs.models import EvalCase

    bravo_set = eval_set_with_cases(2, partner=world["bravo"])
    EvalCase.objects.filter(eval_set=bravo_set).update(
        scorer="llm_judge", scorer_options={"judge_model": world["alphas"].model_id})
    with pytest.raises(services.BakeoffError, match="No catalog model"):
        services.bakeoff_launch(eval_set=bravo_set, models=[world["llama"], world["shared"]])
    alpha_set = eval_set_with_cases(2, partner=world["alpha"])
    EvalCase.objects.filter(eval_set=alpha_set).update(
        scorer="llm_judge", scorer_options={"judge_model": world["alphas"].model_id})
    run = services.bakeoff_launch(eval_set=alpha_set, models=[world["llama"], world["shared"]])
    assert run.run_models.get(role="judge").catalog_model == world["alphas"]  # the firm's own judge: fine

    InferenceProfile.objects.create(catalog_model=world["alphas"], profile_id="us.alpha-private", listed=True)
    with pytest.raises(services.BakeoffError, match="No catalog model"):
        services.resolve_models(["us.alpha-private"], partner_id=world["bravo"].pk)
    assert services.resolve_models(["us.alpha-private"], partner_id=world["alpha"].pk)[0].model == world["alphas"]
