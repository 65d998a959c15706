"""The model facts read from one place (bakeoff_jobs.model_data) by the catalog and the sandbox."""
from decimal import Decimal

from bakeoff_jobs.catalog import rows_from_csv
from bakeoff_jobs.model_data import (
    DEFAULT_CSV,
    profile_price_factor,
    published_models,
    split_invoked_id,
)
from bedrock_sandbox.config import KNOWN_MODELS, SandboxConfig, SandboxError
from bedrock_sandbox.converse import ConverseEngine, SandboxState

LLAMA_33 = "meta.llama3-3-70b-instruct-v1:0"


def _published(model_id):
    return next(m for m in published_models() if m.model_id == model_id)


def test_llama_3_3_70b_is_called_through_its_us_profile_only():
    # AWS serves it on demand through us.meta.llama3-3-70b-instruct-v1:0 (see model_data.requires_profile).
    llama = _published(LLAMA_33)
    assert llama.inference_types == ("INFERENCE_PROFILE",)
    assert llama.requires_profile and llama.geo_profile_id == f"us.{LLAMA_33}"
    row = next(r for r in rows_from_csv(DEFAULT_CSV.read_text(encoding="utf-8")) if r["model_id"] == LLAMA_33)
    assert row["requires_profile"] and row["inference_profile_id"] == f"us.{LLAMA_33}"
    assert KNOWN_MODELS[LLAMA_33].requires_profile


def test_the_sandbox_refuses_llama_3_3_70b_by_bare_id_and_answers_its_profile():
    engine = ConverseEngine(SandboxConfig(latency_ms=0), SandboxState(), sleep=lambda _s: None)
    body = {"messages": [{"role": "user", "content": [{"text": "Hi"}]}], "inferenceConfig": {"maxTokens": 10}}
    try:
        engine.converse(LLAMA_33, body)
    except SandboxError as error:
        assert error.code == "ValidationException" and "inference profile" in error.message
    else:
        raise AssertionError("the bare id of a profile-only model answered")
    assert engine.converse(f"us.{LLAMA_33}", body)["stopReason"] in ("end_turn", "max_tokens")


def test_profile_prefixes_and_price_factor_are_one_rule():
    assert split_invoked_id(f"us.{LLAMA_33}") == (LLAMA_33, "us.")
    assert split_invoked_id("global.anthropic.claude-sonnet-4-5-20250929-v1:0")[1] == "global."
    sonnet = "anthropic.claude-sonnet-4-5-20250929-v1:0"
    assert profile_price_factor(sonnet, f"us.{sonnet}") == Decimal("1.10")
    assert profile_price_factor(sonnet, f"global.{sonnet}") == Decimal("1")
    assert profile_price_factor(LLAMA_33, f"us.{LLAMA_33}") == Decimal("1")
