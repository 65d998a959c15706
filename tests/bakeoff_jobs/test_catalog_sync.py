"""The catalog follows Bedrock: ListFoundationModels and ListInferenceProfiles through boto3's own
bedrock client, checked by botocore's Stubber against the real service model, and end to end
against the local sandbox."""
import datetime as dt
from decimal import Decimal

import boto3
import pytest
from botocore.stub import Stubber
from django.core.management import call_command

from bakeoff_jobs import services
from bakeoff_jobs.catalog import catalog_sync, make_control_client
from bakeoff_jobs.model_data import published_models
from bakeoff_jobs.catalog_models import CatalogChange, CatalogModel, InferenceProfile
from bakeoff_jobs.models import RunModel
from bedrock_sandbox.control_plane import foundation_model_summaries, inference_profile_summaries

from .factories import eval_set_with_cases

pytestmark = pytest.mark.django_db

SONNET_45 = "anthropic.claude-sonnet-4-5-20250929-v1:0"
HAIKU_45 = "anthropic.claude-haiku-4-5-20251001-v1:0"
LLAMA_33 = "meta.llama3-3-70b-instruct-v1:0"
LLAMA_8B = "meta.llama3-1-8b-instruct-v1:0"
SYSTEM_DEFINED = {"typeEquals": "SYSTEM_DEFINED", "maxResults": 1000}


def _stub_timestamps(summary: dict) -> dict:
    """The sandbox's wire JSON carries ISO strings; a parsed botocore response carries datetimes."""
    summary = dict(summary)
    for key in ("createdAt", "updatedAt"):
        if key in summary:
            summary[key] = dt.datetime.fromisoformat(summary[key].replace("Z", "+00:00"))
    lifecycle = dict(summary.get("modelLifecycle") or {})
    for key, value in list(lifecycle.items()):
        if key.endswith("Time"):
            lifecycle[key] = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    if lifecycle:
        summary["modelLifecycle"] = lifecycle
    return summary


def bedrock_listing(**lifecycle_of) -> list[dict]:
    """ListFoundationModels' modelSummaries for the published list; lifecycle_of overrides
    modelLifecycle per model id (None drops the model: Bedrock no longer lists it)."""
    summaries = [_stub_timestamps(s) for s in foundation_model_summaries(published_models(), {})]
    listed = []
    for summary in summaries:
        override = lifecycle_of.get(summary["modelId"], ...)
        if override is None:
            continue
        if override is not ...:
            summary["modelLifecycle"] = override
        listed.append(summary)
    return listed


def bedrock_profiles() -> list[dict]:
    return [_stub_timestamps(s) for s in inference_profile_summaries(published_models())]


def stubbed_client(*pages):
    """A real boto3 bedrock client whose answers are (listing, [profile pages]) in turn."""
    client = boto3.client("bedrock", region_name="us-east-1", aws_access_key_id="test", aws_secret_access_key="test")
    stubber = Stubber(client)
    for listing, profile_pages in pages:
        stubber.add_response("list_foundation_models", {"modelSummaries": listing}, {})
        token = None
        for number, profiles in enumerate(profile_pages):
            expected = dict(SYSTEM_DEFINED, **({"nextToken": token} if token else {}))
            response = {"inferenceProfileSummaries": profiles}
            if number < len(profile_pages) - 1:
                token = f"page-{number + 1}"
                response["nextToken"] = token
            stubber.add_response("list_inference_profiles", response, expected)
    return client, stubber


def sync(listing=None, profiles=None):
    client, stubber = stubbed_client((bedrock_listing() if listing is None else listing,
                                      [bedrock_profiles() if profiles is None else profiles]))
    with stubber:
        summary = catalog_sync(client=client)
    stubber.assert_no_pending_responses()
    return summary


def offered_ids(on=None) -> set[str]:
    return set(CatalogModel.objects.offered(on=on).values_list("model_id", flat=True))


def at_day(monkeypatch, day: dt.date) -> None:
    monkeypatch.setattr("django.utils.timezone.localdate", lambda *args, **kwargs: day)


# --------------------------------------------------------------------------- seed


def test_seed_offers_no_model_aws_lists_past_end_of_life():
    retired = {"anthropic.claude-3-haiku-20240307-v1:0", "meta.llama3-2-1b-instruct-v1:0",
               "meta.llama3-2-3b-instruct-v1:0", "meta.llama3-2-11b-instruct-v1:0", "meta.llama3-2-90b-instruct-v1:0",
               "meta.llama3-1-405b-instruct-v1:0", "anthropic.claude-sonnet-4-20250514-v1:0"}
    assert not retired & offered_ids()
    opus41 = CatalogModel.objects.get(model_id="anthropic.claude-opus-4-1-20250805-v1:0")
    assert opus41.lifecycle_status == "legacy" and opus41.model_id in offered_ids()


def test_seed_records_batch_per_model_and_global_profiles():
    no_batch = set(CatalogModel.objects.filter(batch_supported=False).values_list("model_id", flat=True))
    assert no_batch == {"meta.llama3-2-1b-instruct-v1:0", "meta.llama3-2-3b-instruct-v1:0",
                        "meta.llama3-2-11b-instruct-v1:0", "meta.llama3-2-90b-instruct-v1:0"}
    globals_ = set(InferenceProfile.objects.filter(profile_id__startswith="global.").values_list("profile_id", flat=True))
    assert {f"global.{m}" for m in (HAIKU_45, SONNET_45, "anthropic.claude-opus-4-5-20251101-v1:0",
                                     "anthropic.claude-sonnet-4-20250514-v1:0")} == globals_


def test_catalog_and_sandbox_agree_on_which_models_need_a_profile():
    from bedrock_sandbox.config import KNOWN_MODELS

    for entry in CatalogModel.objects.all():
        assert KNOWN_MODELS[entry.model_id].requires_profile == entry.requires_profile, entry.model_id
    assert CatalogModel.objects.get(model_id=LLAMA_33).requires_profile  # INFERENCE_PROFILE only


# --------------------------------------------------------------------------- Stubber: lifecycle


def test_a_model_moving_active_to_legacy_disappears_from_new_runs_after_its_end_of_life_date(monkeypatch):
    eol = dt.datetime(2027, 3, 1, tzinfo=dt.timezone.utc)
    sync()
    assert SONNET_45 in offered_ids()

    summary = sync(bedrock_listing(**{SONNET_45: {"status": "LEGACY", "endOfLifeTime": eol}}))

    sonnet = CatalogModel.objects.get(model_id=SONNET_45)
    assert summary.changed[SONNET_45]["lifecycle_status"] == ["active", "legacy"]
    assert (sonnet.lifecycle_status, sonnet.end_of_life_date) == ("legacy", dt.date(2027, 3, 1))
    assert CatalogChange.objects.filter(catalog_model=sonnet, source="sync").exists()
    assert SONNET_45 in offered_ids(on=dt.date(2027, 2, 28))
    assert SONNET_45 not in offered_ids(on=dt.date(2027, 3, 1))

    eval_set = eval_set_with_cases(2)
    at_day(monkeypatch, dt.date(2027, 2, 28))
    run = services.bakeoff_launch(eval_set=eval_set, models=[SONNET_45, LLAMA_8B])
    assert run.run_models.count() == 2
    at_day(monkeypatch, dt.date(2027, 3, 1))
    with pytest.raises(services.BakeoffError, match="Claude Sonnet 4.5 reached end of life on Bedrock on 2027-03-01"):
        services.bakeoff_launch(eval_set=eval_set, models=[SONNET_45, LLAMA_8B])


def test_sync_is_idempotent_and_records_nothing_the_second_time():
    sync()
    changes = CatalogChange.objects.count()
    again = sync()
    assert again.changed == {} and CatalogChange.objects.count() == changes
    assert "nothing changed" in " ".join(again.lines())


def test_a_model_bedrock_no_longer_lists_is_not_offered():
    sync()
    summary = sync(bedrock_listing(**{HAIKU_45: None}))
    haiku = CatalogModel.objects.get(model_id=HAIKU_45)
    assert summary.changed[HAIKU_45]["listed_by_bedrock"] == [True, False]
    assert HAIKU_45 not in offered_ids()
    assert "no longer listed by Bedrock" in haiku.not_offered_reason()


def test_inference_types_decide_whether_the_bare_id_is_refused():
    listing = bedrock_listing()
    for summary in listing:
        if summary["modelId"] == LLAMA_33:
            summary["inferenceTypesSupported"] = ["ON_DEMAND", "INFERENCE_PROFILE"]
    sync(listing)
    llama = CatalogModel.objects.get(model_id=LLAMA_33)
    assert not llama.requires_profile and llama.invoked_id == LLAMA_33


def test_profiles_are_read_across_pages_and_dropped_ones_stop_being_choices():
    profiles = bedrock_profiles()
    client, stubber = stubbed_client((bedrock_listing(), [profiles[:3], profiles[3:]]))
    with stubber:
        catalog_sync(client=client)
    stubber.assert_no_pending_responses()
    assert InferenceProfile.objects.filter(listed=True).count() == len(profiles)

    without_global_haiku = [p for p in profiles if p["inferenceProfileId"] != f"global.{HAIKU_45}"]
    summary = sync(profiles=without_global_haiku)
    assert summary.changed[HAIKU_45]["profiles_dropped"] == [[f"global.{HAIKU_45}"], None]
    haiku = CatalogModel.objects.get(model_id=HAIKU_45)
    assert haiku.invocable_ids() == [f"us.{HAIKU_45}"]
    with pytest.raises(services.BakeoffError, match="no longer lists the inference profile"):
        services.resolve_models([f"global.{HAIKU_45}"], partner_id=None)


def test_sync_never_changes_prices_or_a_run_s_frozen_prices():
    run = services.bakeoff_launch(eval_set=eval_set_with_cases(2), models=[HAIKU_45, LLAMA_8B])
    frozen = list(RunModel.objects.filter(run=run).values_list("invoked_id", "input_per_1m", "output_per_1m"))
    prices = list(CatalogModel.objects.order_by("pk").values_list("input_per_1m", "output_per_1m", "effective_date"))
    sync(bedrock_listing(**{HAIKU_45: {"status": "LEGACY"}}))
    assert list(CatalogModel.objects.order_by("pk").values_list("input_per_1m", "output_per_1m",
                                                                 "effective_date")) == prices
    assert list(RunModel.objects.filter(run=run).values_list("invoked_id", "input_per_1m", "output_per_1m")) == frozen


# --------------------------------------------------------------------------- global profiles


def test_global_profile_runs_at_the_listed_price_and_us_profile_at_ten_percent_more():
    eval_set = eval_set_with_cases(2)
    run = services.bakeoff_launch(eval_set=eval_set, models=[f"global.{SONNET_45}", HAIKU_45])
    sonnet, haiku = run.run_models.order_by("position")
    assert (sonnet.invoked_id, sonnet.input_per_1m, sonnet.output_per_1m) == (
        f"global.{SONNET_45}", Decimal("3.000000"), Decimal("15.000000"))
    assert (haiku.invoked_id, haiku.input_per_1m) == (f"us.{HAIKU_45}", Decimal("1.100000"))


# --------------------------------------------------------------------------- end to end: the sandbox


def test_sync_catalog_command_against_the_sandbox_with_boto3_s_real_client(bedrock_sandbox, settings, capsys):
    settings.BEDROCK_CONTROL_ENDPOINT_URL = bedrock_sandbox.url
    call_command("sync_catalog")
    out = capsys.readouterr().out
    assert "Bedrock lists 11 models and 14 inference profiles." in out
    retired = CatalogModel.objects.get(model_id="anthropic.claude-3-haiku-20240307-v1:0")
    assert retired.listed_by_bedrock is False and retired.model_id not in offered_ids()
    haiku = CatalogModel.objects.get(model_id=HAIKU_45)
    assert haiku.listed_by_bedrock and haiku.inference_types == ["INFERENCE_PROFILE"]
    assert haiku.input_modalities == ["TEXT", "IMAGE"] and haiku.synced_at is not None
    assert haiku.invocable_ids() == [f"us.{HAIKU_45}", f"global.{HAIKU_45}"]
    assert CatalogModel.objects.get(model_id="anthropic.claude-opus-4-1-20250805-v1:0").lifecycle_status == "legacy"

    call_command("sync_catalog")
    assert "nothing changed" in capsys.readouterr().out


def test_sandbox_control_plane_pages_profiles_and_filters_models(bedrock_sandbox):
    client = make_control_client(endpoint_url=bedrock_sandbox.url)
    meta = client.list_foundation_models(byProvider="meta")["modelSummaries"]
    assert meta and all(m["providerName"] == "Meta" for m in meta)
    assert not any(m["modelId"].startswith("meta.llama3-2-") for m in meta)  # past end of life: unlisted
    first = client.list_inference_profiles(typeEquals="SYSTEM_DEFINED", maxResults=4)
    second = client.list_inference_profiles(typeEquals="SYSTEM_DEFINED", maxResults=4, nextToken=first["nextToken"])
    ids = [p["inferenceProfileId"] for p in first["inferenceProfileSummaries"] + second["inferenceProfileSummaries"]]
    assert len(ids) == 8 and len(set(ids)) == 8
    assert isinstance(first["inferenceProfileSummaries"][0]["createdAt"], dt.datetime)


def test_beat_runs_the_sync_on_an_interval_from_the_environment():
    from django.conf import settings

    entry = settings.CELERY_BEAT_SCHEDULE["catalog-sync"]
    assert entry["task"] == "bakeoff_jobs.sync_catalog"
    assert entry["schedule"] == settings.CATALOG_SYNC_HOURS * 3600


def test_beat_task_syncs_with_no_arguments(bedrock_sandbox, settings):
    from bakeoff_jobs.tasks import catalog_sync_task

    settings.BEDROCK_CONTROL_ENDPOINT_URL = bedrock_sandbox.url
    result = catalog_sync_task.apply().get()
    assert "anthropic.claude-3-haiku-20240307-v1:0" in result["changed"]
    assert catalog_sync_task.apply().get()["changed"] == []


def test_sandbox_control_plane_refuses_an_unsigned_request(bedrock_sandbox):
    import urllib.error
    import urllib.request

    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(f"{bedrock_sandbox.url}/foundation-models", timeout=5)  # noqa: S310 - local sandbox
    assert refused.value.code == 403


def test_a_listed_regional_profile_is_called_as_given_at_the_regional_price():
    sonnet = CatalogModel.objects.get(model_id=SONNET_45)
    InferenceProfile.objects.create(catalog_model=sonnet, profile_id=f"eu.{SONNET_45}")
    (choice,) = services.resolve_models([f"eu.{SONNET_45}"], partner_id=None)
    assert choice.invoked_id == f"eu.{SONNET_45}" and choice.prices()["input_per_1m"] == Decimal("3.300000")
    (default,) = services.resolve_models([SONNET_45], partner_id=None)
    assert default.invoked_id == f"us.{SONNET_45}"


def test_one_model_twice_through_two_profiles_is_refused():
    with pytest.raises(services.BakeoffError, match="only once"):
        services.bakeoff_launch(eval_set=eval_set_with_cases(2), models=[SONNET_45, f"global.{SONNET_45}", LLAMA_8B])


def test_a_model_bedrock_lists_without_a_catalog_price_is_named_not_offered():
    listing = bedrock_listing()
    listing.append({"modelArn": "arn:aws:bedrock:us-east-1::foundation-model/anthropic.claude-next-v1:0",
                    "modelId": "anthropic.claude-next-v1:0", "modelName": "Claude Next", "providerName": "Anthropic",
                    "outputModalities": ["TEXT"], "inferenceTypesSupported": ["INFERENCE_PROFILE"],
                    "modelLifecycle": {"status": "ACTIVE"}})
    summary = sync(listing)
    assert summary.not_in_catalog == ["anthropic.claude-next-v1:0"]
    assert "add prices to offer them" in " ".join(summary.lines())
    assert not CatalogModel.objects.filter(model_id="anthropic.claude-next-v1:0").exists()
