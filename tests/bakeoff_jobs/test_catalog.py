"""The model catalog: seeded from the price list, priced by the id actually invoked."""
from decimal import Decimal

import pytest

from bakeoff_jobs.catalog import catalog_load
from bakeoff_jobs.catalog_models import CatalogModel

pytestmark = pytest.mark.django_db


def test_price_list_seeds_every_claude_and_llama_model():
    CatalogModel.objects.all().delete()
    summary = catalog_load()
    assert summary.created == 18
    assert set(CatalogModel.objects.values_list("family", flat=True)) == {"claude", "llama"}
    opus = CatalogModel.objects.get(model_id="anthropic.claude-opus-4-1-20250805-v1:0")
    assert (opus.input_per_1m, opus.output_per_1m, opus.cache_read_per_1m, opus.cache_write_per_1m) == (
        Decimal("15.00"), Decimal("75.00"), Decimal("1.50"), Decimal("18.75"))
    assert opus.weights == "closed" and opus.tier == "top" and opus.batch_discount == Decimal("0.5")


def test_llama_without_caching_has_no_cache_prices():
    catalog_load()
    llama = CatalogModel.objects.get(model_id="meta.llama3-3-70b-instruct-v1:0")
    assert llama.cache_read_per_1m is None and not llama.supports_caching


def test_newer_claude_is_invoked_through_its_profile_at_the_profile_price():
    catalog_load()
    haiku45 = CatalogModel.objects.get(model_id="anthropic.claude-haiku-4-5-20251001-v1:0")
    assert haiku45.invoked_id == "us.anthropic.claude-haiku-4-5-20251001-v1:0"
    prices = haiku45.invoked_prices()
    assert prices["input_per_1m"] == Decimal("1.10") and prices["output_per_1m"] == Decimal("5.50")
    assert prices["cache_write_per_1m"] == Decimal("1.375")


def test_global_profile_costs_the_listed_rate():
    catalog_load()
    sonnet45 = CatalogModel.objects.get(model_id="anthropic.claude-sonnet-4-5-20250929-v1:0")
    sonnet45.inference_profile_id = "global.anthropic.claude-sonnet-4-5-20250929-v1:0"
    sonnet45.profile_price_factor = Decimal("1")
    assert sonnet45.invoked_id.startswith("global.")
    assert sonnet45.invoked_prices()["input_per_1m"] == Decimal("3.00")


def test_older_models_answer_on_their_bare_id_at_the_listed_price():
    catalog_load()
    haiku3 = CatalogModel.objects.get(model_id="anthropic.claude-3-haiku-20240307-v1:0")
    sonnet4 = CatalogModel.objects.get(model_id="anthropic.claude-sonnet-4-20250514-v1:0")
    assert haiku3.invoked_id == haiku3.model_id
    assert haiku3.invoked_prices()["input_per_1m"] == Decimal("0.25")
    assert sonnet4.invoked_id == "us.anthropic.claude-sonnet-4-20250514-v1:0"
    assert sonnet4.invoked_prices()["input_per_1m"] == Decimal("3.00")  # no premium on Sonnet 4


def test_reloading_keeps_staff_edits_unless_asked_to_update():
    catalog_load()
    CatalogModel.objects.filter(model_id="meta.llama3-1-8b-instruct-v1:0").update(input_per_1m=Decimal("9"))
    assert catalog_load().created == 0
    assert CatalogModel.objects.get(model_id="meta.llama3-1-8b-instruct-v1:0").input_per_1m == Decimal("9")
    assert catalog_load(update_existing=True).updated == 18
    assert CatalogModel.objects.get(model_id="meta.llama3-1-8b-instruct-v1:0").input_per_1m == Decimal("0.22")
