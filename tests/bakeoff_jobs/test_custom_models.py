"""Bedrock custom models (fine-tuned or imported) in a bake-off: called through Converse by their ARN,
their pricing frozen on the run, managed by staff with the rules Bedrock sells them under."""
from decimal import Decimal

import boto3
import pytest
from botocore.config import Config
from django.core.exceptions import ValidationError

from bakeoff_jobs import catalog as catalog_module
from bakeoff_jobs import services
from bakeoff_jobs.hosting import CustomModel
from bakeoff_jobs.models import BakeoffResult, RunModel, RunStatus
from bedrock_sandbox.config import ScriptLine

from .factories import FINE_TUNED_ARN, claude_haiku_45, custom_model, eval_set_with_cases

pytestmark = pytest.mark.django_db

PROVISIONED_ARN = "arn:aws:bedrock:us-east-1:123456789012:provisioned-model/pt7abc"


def test_the_sandbox_answers_converse_for_a_custom_model_arn(bedrock_sandbox):
    client = boto3.client("bedrock-runtime", endpoint_url=bedrock_sandbox.url, region_name="us-east-1",
                          aws_access_key_id="x", aws_secret_access_key="x",
                          config=Config(retries={"max_attempts": 1}))
    bedrock_sandbox.config.script = [ScriptLine(prompt_contains="capital", answer="Paris")]
    for arn in (FINE_TUNED_ARN, PROVISIONED_ARN, "arn:aws:bedrock:us-east-1:123456789012:imported-model/im1"):
        response = client.converse(modelId=arn, messages=[{"role": "user", "content": [{"text": "capital?"}]}])
        assert response["output"]["message"]["content"][0]["text"] == "Paris"
        assert response["usage"]["outputTokens"] > 0
        assert bedrock_sandbox.calls(arn, "ok") == 1
    # Another account's foundation-model-shaped nonsense is still refused.
    with pytest.raises(client.exceptions.ResourceNotFoundException):
        client.converse(modelId="arn:aws:bedrock:us-east-1::foundation-model/no.such-model-v1:0",
                        messages=[{"role": "user", "content": [{"text": "hi"}]}])


def test_a_bakeoff_calls_a_custom_model_by_its_arn_and_freezes_its_pricing(
        bedrock_sandbox, celery_eager, django_capture_on_commit_callbacks):
    bedrock_sandbox.config.script = [ScriptLine(prompt_contains="say Paris", answer="Paris")]
    tuned = custom_model(model_arn=PROVISIONED_ARN, pricing="provisioned", model_units=2,
                         model_unit_hour_price=Decimal("21.18"), commitment_months=6,
                         training_cost_usd=Decimal("6000"), amortisation_months=12)
    assert tuned.invoked_id == PROVISIONED_ARN
    with django_capture_on_commit_callbacks(execute=True):
        run = services.bakeoff_launch(eval_set=eval_set_with_cases(3), models=[claude_haiku_45(), tuned],
                                      endpoint_url=bedrock_sandbox.url)
    run.refresh_from_db()
    assert run.status == RunStatus.FINISHED and run.failed_count == 0
    frozen = RunModel.objects.get(run=run, catalog_model=tuned)
    assert (frozen.kind, frozen.invoked_id) == ("custom", PROVISIONED_ARN)
    assert (frozen.custom_pricing, frozen.model_units, frozen.model_unit_hour_price, frozen.commitment_months,
            frozen.training_cost_usd, frozen.amortisation_months) == (
        "provisioned", 2, Decimal("21.18"), 6, Decimal("6000.00"), 12)
    assert BakeoffResult.objects.filter(run_model=frozen, output="Paris").count() == 3
    assert bedrock_sandbox.calls(PROVISIONED_ARN, "ok") == 3
    # Later edits to the entry do not rewrite the run.
    CustomModel.objects.filter(catalog_model=tuned).update(model_unit_hour_price=Decimal("99"))
    assert RunModel.objects.get(pk=frozen.pk).model_unit_hour_price == Decimal("21.18")


@pytest.mark.parametrize("fields, field", [
    ({"pricing": "provisioned"}, "model_units"),
    ({"pricing": "provisioned", "model_units": 1}, "model_unit_hour_price"),
    ({"pricing": "provisioned", "model_units": 1, "model_unit_hour_price": Decimal("20"), "commitment_months": 3},
     "commitment_months"),
    ({"commitment_months": 1}, "commitment_months"),
    ({"source": "imported"}, "model_units"),
    ({"model_arn": "my-model"}, "model_arn"),
])
def test_custom_pricing_that_bedrock_does_not_sell_is_refused(fields, field):
    entry = custom_model()
    custom = entry.custom
    for name, value in fields.items():
        setattr(custom, name, value)
    with pytest.raises(ValidationError) as caught:
        custom.full_clean()
    assert field in caught.value.message_dict


def test_valid_custom_pricing_passes():
    custom = custom_model(pricing="provisioned", model_units=1, model_unit_hour_price=Decimal("20"),
                          commitment_months=1).custom
    custom.full_clean()
    custom_model(name="Imported Llama", model_arn="arn:aws:bedrock:us-east-1:1:imported-model/x",
                 source="imported", model_units=2, model_unit_hour_price=Decimal("5.7")).custom.full_clean()


def test_the_catalog_sync_leaves_custom_entries_offered(bedrock_sandbox):
    """Bedrock never lists a custom model among foundation models: the sync must not withdraw it."""
    entry = custom_model()
    catalog_module.catalog_sync(client=catalog_module.make_control_client(endpoint_url=bedrock_sandbox.url))
    entry.refresh_from_db()
    assert entry.listed_by_bedrock is None
    assert entry.not_offered_reason() is None


def test_staff_manage_a_custom_entry_in_the_catalog_admin_and_bad_pricing_is_refused(client):
    from django.contrib.auth import get_user_model

    from .test_admin import _catalog_form

    client.force_login(get_user_model().objects.create_superuser("root", "root@example.com", "pw"))
    entry = custom_model()
    data = _catalog_form(client, entry)
    data.update({"custom-TOTAL_FORMS": "1", "custom-INITIAL_FORMS": "1", "custom-0-id": entry.custom.pk,
                 "custom-0-catalog_model": entry.pk, "custom-0-model_arn": PROVISIONED_ARN,
                 "custom-0-source": "fine_tuned", "custom-0-pricing": "provisioned", "custom-0-commitment_months": "6",
                 "custom-0-training_cost_usd": "6000", "custom-0-amortisation_months": "12"})
    url = f"/admin/bakeoff_jobs/catalogmodel/{entry.pk}/change/"
    refused = client.post(url, data)
    assert refused.status_code == 200
    assert "Provisioned Throughput needs the number of model units bought." in refused.content.decode()
    assert CustomModel.objects.get(pk=entry.custom.pk).pricing == "on_demand"  # nothing lost, nothing saved
    data.update({"custom-0-model_units": "2", "custom-0-model_unit_hour_price": "21.18"})
    assert client.post(url, data).status_code == 302
    saved = CustomModel.objects.get(pk=entry.custom.pk)
    assert (saved.pricing, saved.model_units, saved.commitment_months, saved.model_arn) == (
        "provisioned", 2, 6, PROVISIONED_ARN)


def test_a_custom_entry_without_its_arn_is_not_offered():
    from .factories import catalog_model

    bare = catalog_model(name="Half-made custom", model_id="custom.half-made", kind="custom")
    assert "without its ARN" in bare.not_offered_reason()
    with pytest.raises(services.BakeoffError, match="without its ARN"):
        services.bakeoff_launch(eval_set=eval_set_with_cases(1), models=[claude_haiku_45(), bare])


def test_a_custom_model_is_not_run_as_a_batch_job(settings):
    settings.BAKEOFF_BATCH_MIN_RECORDS = 1
    with pytest.raises(services.BakeoffError, match="Batch bake-offs take Bedrock foundation models only, not "
                                                    "Support Llama"):
        services.bakeoff_launch(eval_set=eval_set_with_cases(2), models=[claude_haiku_45(), custom_model()],
                                batch=True)


IMPORTED_ARN = "arn:aws:bedrock:us-east-1:123456789012:imported-model/im1"


def test_capacity_billed_entries_are_estimated_by_the_hour_not_at_zero_or_per_token():
    """A Provisioned Throughput bills its model units every hour, and an imported model its Custom
    Model Units while a copy is active: neither per token. The estimate says so with the hourly price,
    and leaves them out of the token totals even when the catalog row carries token prices."""
    from bakeoff_jobs.estimates import bakeoff_estimate
    from bakeoff_jobs.management.commands.bakeoff import estimate_line

    provisioned = custom_model(name="Support Llama PT", model_arn=PROVISIONED_ARN, pricing="provisioned",
                               model_units=2, model_unit_hour_price=Decimal("21.18"), commitment_months=1)
    imported = custom_model(name="Imported Llama", model_arn=IMPORTED_ARN, source="imported", model_units=3,
                            model_unit_hour_price=Decimal("4.71"))
    tuned = custom_model()  # fine-tuned, on demand: per token at the catalog's prices
    haiku = claude_haiku_45()
    estimate = bakeoff_estimate(eval_set=eval_set_with_cases(10), models=[haiku, provisioned, imported, tuned],
                                max_tokens=100)
    rows = {m.model_id: m for m in estimate.models}
    pt, im = rows[provisioned.model_id], rows[imported.model_id]
    assert (pt.capacity_billing, pt.capacity_hour_usd, pt.capacity_units) == ("provisioned", Decimal("42.36"), 2)
    assert (im.capacity_billing, im.capacity_hour_usd, im.capacity_units) == ("model_copies", Decimal("14.13"), 3)
    assert pt.expected_usd == pt.upper_bound_usd == im.expected_usd == Decimal(0)
    assert "$42.36 an hour (2 model units)" in pt.capacity_note and "whether called or not" in pt.capacity_note
    assert "$14.13 an hour per active copy (3 model units)" in im.capacity_note
    assert rows[tuned.model_id].capacity_billing == "" and rows[tuned.model_id].expected_usd > 0
    assert estimate.capacity_models == [pt, im]
    assert estimate.expected_usd == rows[haiku.model_id].expected_usd + rows[tuned.model_id].expected_usd

    line = estimate_line(estimate)
    assert f"{PROVISIONED_ARN} Provisioned Throughput: $42.36 an hour" in line
    assert "capacity billed by the hour above comes on top" in line

