"""The pre-launch estimate is a range whose typical figure lands near the bill: checked end to end
against the local sandbox, which reports the tokens it would bill."""
import json
from decimal import Decimal
from pathlib import Path

import pytest

from bakeoff_jobs import estimates, services
from bedrock_sandbox.config import ScriptLine, load_script
from tests.bakeoff_jobs.factories import claude_haiku_45, llama_8b
from tests.filing.filing_support import eager_celery  # noqa: F401 - fixture

DEMO = Path(__file__).resolve().parents[2] / "demo"
pytestmark = pytest.mark.django_db


def _billed(run) -> Decimal:
    return sum(Decimal(m["cost_total_usd"]) for m in run.report["models"])


def _run(eval_set, sandbox, capture, *, count_tokens: bool, max_tokens: int = 512):
    with capture(execute=True):
        run = services.bakeoff_launch(eval_set=eval_set, models=[claude_haiku_45(), llama_8b()],
                                      endpoint_url=sandbox.url, max_tokens=max_tokens, count_tokens=count_tokens)
    run.refresh_from_db()
    assert run.status == "finished", run.error
    return run


def _support_set():
    return services.evalset_upload(name="support", data=(DEMO / "support-eval-set.jsonl").read_bytes(),
                                   filename="support-eval-set.jsonl")


def _long_answer_set(sandbox):
    """60 cases with a shared system prompt and answers from a few words to a paragraph."""
    lines, script = [], []
    for i in range(60):
        answer = " ".join(["the refund is issued to the original card"] * (1 + i % 7)) + f" ({i})"
        prompt = f"Ticket {i}: a customer asks when their refund arrives. Summarise the answer."
        lines.append(json.dumps({"prompt": prompt, "expected": answer, "scorer": "contains",
                                 "system_prompt": "You are the support desk of Parsewell. Answer briefly.",
                                 "category": "support"}))
        script.append(ScriptLine(prompt_contains=f"Ticket {i}:", answer=answer))
    sandbox.config.script = script
    return services.evalset_upload(name="refunds", data="\n".join(lines).encode(), filename="refunds.jsonl")


@pytest.mark.parametrize("count_tokens", [False, True], ids=["family-ratio", "count-tokens"])
def test_typical_estimate_is_within_30_percent_of_the_bill_on_the_demo_set(
    eager_celery, bedrock_sandbox, django_capture_on_commit_callbacks, count_tokens  # noqa: F811
):
    bedrock_sandbox.config.script = load_script(DEMO / "sandbox-script.jsonl")
    run = _run(_support_set(), bedrock_sandbox, django_capture_on_commit_callbacks, count_tokens=count_tokens)
    billed = _billed(run)
    assert abs(run.estimated_cost_usd - billed) <= Decimal("0.30") * billed, (run.estimated_cost_usd, billed)
    # the maximum still assumes every answer at max_tokens: far above the bill on short answers
    assert run.estimated_cost_max_usd > 10 * billed


@pytest.mark.parametrize("count_tokens", [False, True], ids=["family-ratio", "count-tokens"])
def test_typical_estimate_is_within_30_percent_of_the_bill_with_long_answers_and_a_system_prompt(
    eager_celery, bedrock_sandbox, django_capture_on_commit_callbacks, count_tokens  # noqa: F811
):
    eval_set = _long_answer_set(bedrock_sandbox)
    run = _run(eval_set, bedrock_sandbox, django_capture_on_commit_callbacks, count_tokens=count_tokens)
    billed = _billed(run)
    assert abs(run.estimated_cost_usd - billed) <= Decimal("0.30") * billed, (run.estimated_cost_usd, billed)
    assert run.estimated_cost_max_usd > run.estimated_cost_usd


def test_count_tokens_gives_the_input_count_where_the_model_supports_it(bedrock_sandbox):
    eval_set = _support_set()
    estimate = estimates.bakeoff_estimate(eval_set=eval_set, models=[claude_haiku_45(), llama_8b()], max_tokens=512,
                                         endpoint_url=bedrock_sandbox.url, count_tokens=True)
    claude, llama = estimate.models
    assert claude.input_tokens_counted and not llama.input_tokens_counted  # Llama has no CountTokens


def test_count_tokens_falls_back_to_the_family_ratio_when_the_endpoint_cannot_answer(bedrock_sandbox):
    eval_set = _support_set()
    models = [claude_haiku_45(), llama_8b()]
    unreachable = "http://127.0.0.1:9"  # nothing listens on the discard port
    counted = estimates.bakeoff_estimate(eval_set=eval_set, models=models, max_tokens=512,
                                        endpoint_url=unreachable, count_tokens=True)
    plain = estimates.bakeoff_estimate(eval_set=eval_set, models=models, max_tokens=512, endpoint_url=unreachable)
    assert not counted.models[0].input_tokens_counted
    assert counted.expected_usd == plain.expected_usd


def test_estimate_no_longer_assumes_half_of_max_tokens(db):
    """Short expected answers make a typical estimate far below the old max_tokens-based one."""
    eval_set = _support_set()
    estimate = estimates.bakeoff_estimate(eval_set=eval_set, models=[claude_haiku_45(), llama_8b()], max_tokens=512)
    assert estimate.upper_bound_usd > 20 * estimate.expected_usd


def test_sandbox_estimate_says_it_bills_nothing(db):
    eval_set = _support_set()
    models = [claude_haiku_45(), llama_8b()]
    sandbox = estimates.bakeoff_estimate(eval_set=eval_set, models=models, max_tokens=512,
                                        endpoint_url="http://127.0.0.1:8765")
    assert sandbox.sandbox and sandbox.billed_usd == Decimal(0) and sandbox.expected_usd > 0
    real = estimates.bakeoff_estimate(eval_set=eval_set, models=models, max_tokens=512, endpoint_url="")
    assert not real.sandbox and real.billed_usd is None


def _wordy_set(sandbox):
    """Expected answers of one word, but the models answer with a paragraph."""
    lines, script = [], []
    for i in range(30):
        lines.append(json.dumps({"prompt": f"Question {i}: what is the capital of France?", "expected": "Paris",
                                 "scorer": "contains"}))
        script.append(ScriptLine(prompt_contains=f"Question {i}:",
                                 answer="The capital of France is Paris, on the Seine, seat of its government. " * 4))
    sandbox.config.script = script
    return services.evalset_upload(name="wordy", data="\n".join(lines).encode(), filename="wordy.jsonl")


def test_a_pilot_measures_answers_longer_than_the_expected_ones(
    eager_celery, bedrock_sandbox, django_capture_on_commit_callbacks  # noqa: F811
):
    eval_set = _wordy_set(bedrock_sandbox)
    models = [claude_haiku_45(), llama_8b()]
    from_expected = estimates.bakeoff_estimate(eval_set=eval_set, models=models, max_tokens=512,
                                              endpoint_url=bedrock_sandbox.url)
    piloted = estimates.bakeoff_estimate(eval_set=eval_set, models=models, max_tokens=512,
                                        endpoint_url=bedrock_sandbox.url, pilot_cases=3)
    assert all(m.piloted for m in piloted.models) and not any(m.piloted for m in from_expected.models)
    run = _run(eval_set, bedrock_sandbox, django_capture_on_commit_callbacks, count_tokens=False)
    billed = _billed(run)
    assert abs(piloted.expected_usd - billed) <= Decimal("0.30") * billed, (piloted.expected_usd, billed)
    assert from_expected.expected_usd < Decimal("0.7") * billed  # what the pilot is for


def test_a_failed_pilot_falls_back_to_the_expected_answers(bedrock_sandbox):
    eval_set = _support_set()
    models = [claude_haiku_45(), llama_8b()]
    bedrock_sandbox.config.set_model("meta.*", fail_with="AccessDeniedException")
    estimate = estimates.bakeoff_estimate(eval_set=eval_set, models=models, max_tokens=512,
                                         endpoint_url=bedrock_sandbox.url, pilot_cases=2)
    assert [m.piloted for m in estimate.models] == [True, False]
