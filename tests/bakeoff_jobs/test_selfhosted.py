"""Self-hosted entries in a bake-off, in the test process (Celery eager), against the sandbox's
OpenAI-compatible side over HTTP on 127.0.0.1: answers and usage stored, the snapshot frozen,
throttling (429 + Retry-After) retried, an endpoint that is gone leaves its pairs for a resume,
cancel and resume, each pair stored once."""
import threading
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from bakeoff_jobs import estimates, model_calls, planning, progress, runner, selfhosted, services
from bakeoff_jobs.converse import ConverseError
from bakeoff_jobs.hosting import SelfHostedEndpoint
from bakeoff_jobs.models import BakeoffResult, RunModel, RunStatus
from bakeoff_jobs.model_data import SELF_HOSTED_DEMO_MODEL
from bedrock_sandbox.config import ScriptLine

from .factories import claude_haiku_45, eval_set_with_cases, llama_8b
from .selfhosted_factories import closed_port_url, self_hosted

pytestmark = pytest.mark.django_db


@pytest.fixture
def sandbox(bedrock_sandbox):
    """Answers "Paris" on both sides; a throttled OpenAI call asks for a 20 ms wait."""
    config = bedrock_sandbox.config
    config.script, config.retry_after_seconds = [ScriptLine(prompt_contains="say Paris", answer="Paris")], 0.02
    return bedrock_sandbox


@pytest.fixture
def fast_retries(settings):
    settings.BAKEOFF_MAX_ATTEMPTS = 3
    settings.BAKEOFF_BACKOFF_BASE_SECONDS = 0.01
    return settings


def launch(sandbox, eval_set, models, capture, execute=True, **kwargs):
    with capture(execute=execute):
        run = services.bakeoff_launch(eval_set=eval_set, models=models, endpoint_url=sandbox.url, **kwargs)
    run.refresh_from_db()
    return run


def test_self_hosted_answers_and_usage_are_stored_beside_bedrock_and_the_snapshot_is_frozen(
        celery_eager, sandbox, django_capture_on_commit_callbacks):
    entry = self_hosted(f"{sandbox.url}/v1")
    run = launch(sandbox, eval_set_with_cases(4), [claude_haiku_45(), llama_8b(), entry],
                 django_capture_on_commit_callbacks, max_tokens=64)
    assert run.status == RunStatus.FINISHED, run.error
    assert (run.done_count, run.failed_count) == (12, 0)
    rm = RunModel.objects.get(run=run, catalog_model=entry)
    assert (rm.kind, rm.gpu_type, rm.gpu_count, rm.gpu_hour_price, rm.hosting) == (
        "self_hosted", "NVIDIA L4", 2, Decimal("0.805000"), "ec2")
    assert (rm.input_per_1m, rm.output_per_1m, rm.batch_supported) == (0, 0, False)
    results = BakeoffResult.objects.filter(run_model=rm)
    assert results.count() == 4
    assert all(r.output == "Paris" and r.passed and r.stop_reason == "end_turn" for r in results)
    assert all(r.input_tokens > 0 and r.output_tokens > 0 and r.wall_ms is not None for r in results)
    assert sandbox.calls(SELF_HOSTED_DEMO_MODEL, "ok") == 4
    # A later change of the entry's GPUs does not rewrite the run's snapshot.
    SelfHostedEndpoint.objects.filter(catalog_model=entry).update(gpu_count=8, gpu_hour_price=Decimal("9"))
    rm.refresh_from_db()
    assert (rm.gpu_count, rm.gpu_hour_price) == (2, Decimal("0.805000"))
    assert entry.model_id in [m["key"] for m in run.report["models"]]


def test_throttling_answers_429_with_retry_after_and_the_call_waits_that_long(sandbox):
    sandbox.config.set_model(SELF_HOSTED_DEMO_MODEL, throttle_rate=1.0)
    sandbox.config.retry_after_seconds = 2.5
    target = selfhosted.Target(f"{sandbox.url}/v1", SELF_HOSTED_DEMO_MODEL)
    with pytest.raises(ConverseError) as caught:
        selfhosted.chat(target, prompt="say Paris", max_tokens=16, temperature=0)
    assert (caught.value.code, caught.value.http_status, caught.value.retryable) == ("RateLimited", 429, True)
    assert caught.value.retry_after == 2.5

    class Stop(threading.Event):
        """Records how long each retry would wait, and does not wait."""

        waits: list = []

        def wait(self, timeout=None):
            self.waits.append(timeout)
            if len(self.waits) >= 2:
                sandbox.config.set_model(SELF_HOSTED_DEMO_MODEL, throttle_rate=0.0)
            return False

    entry = self_hosted(f"{sandbox.url}/v1")
    run = services.bakeoff_launch(eval_set=eval_set_with_cases(1), models=[llama_8b(), entry],
                                  endpoint_url=sandbox.url)
    rm = RunModel.objects.get(run=run, catalog_model=entry)
    stop = Stop()
    ctx = model_calls.CallContext(run_model=rm, call=model_calls.CallSettings(64, 0.0, False), client=None,
                       store=model_calls.quotas.get_quota_store(), stop=stop, targets=selfhosted.targets_for([rm]))
    reply, attempts = model_calls.call_with_retries(ctx, rm, prompt="say Paris", system_prompt="", max_tokens=64,
                                               temperature=0.0, cache_system_prompt=False)
    assert reply.text == "Paris" and attempts == 3
    assert Stop.waits and min(Stop.waits) >= 2.5  # Retry-After, not the shorter backoff


def test_throttled_calls_are_retried_and_nothing_is_lost(celery_eager, sandbox, django_capture_on_commit_callbacks):
    sandbox.config.set_model(SELF_HOSTED_DEMO_MODEL, throttle_rate=0.4)
    entry = self_hosted(f"{sandbox.url}/v1")
    run = launch(sandbox, eval_set_with_cases(10), [llama_8b(), entry], django_capture_on_commit_callbacks)
    assert run.status == RunStatus.FINISHED and (run.done_count, run.failed_count) == (20, 0)
    assert sandbox.calls(SELF_HOSTED_DEMO_MODEL, "ThrottlingException") > 0
    assert BakeoffResult.objects.filter(run=run, run_model__catalog_model=entry, attempts__gt=1).exists()


def test_server_errors_are_retried_and_a_permanent_one_is_recorded(celery_eager, sandbox, fast_retries,
                                                                   django_capture_on_commit_callbacks):
    sandbox.config.script = [ScriptLine(prompt_contains="Case 1:", answer="", error="ValidationException",
                                        model=SELF_HOSTED_DEMO_MODEL),
                             ScriptLine(prompt_contains="say Paris", answer="Paris")]
    sandbox.config.set_model(SELF_HOSTED_DEMO_MODEL, error_rate=0.3)
    entry = self_hosted(f"{sandbox.url}/v1")
    run = launch(sandbox, eval_set_with_cases(6), [llama_8b(), entry], django_capture_on_commit_callbacks)
    error = BakeoffResult.objects.get(run=run, run_model__catalog_model=entry, case__line=2)
    assert (error.status, error.error_code, error.attempts) == ("error", "BadRequest", 1)
    assert sandbox.calls(SELF_HOSTED_DEMO_MODEL, "ValidationException") == 1  # a 400 is never retried
    assert run.status == RunStatus.FINISHED


def test_an_endpoint_that_is_gone_leaves_its_pairs_for_a_resume_and_loses_nothing(
        celery_eager, sandbox, fast_retries, django_capture_on_commit_callbacks):
    entry = self_hosted(closed_port_url())
    run = launch(sandbox, eval_set_with_cases(5), [llama_8b(), entry], django_capture_on_commit_callbacks)
    assert run.status == RunStatus.RUNNING
    assert (run.done_count, run.failed_count, run.remaining_count) == (5, 0, 5)  # Bedrock's answers kept
    assert not BakeoffResult.objects.filter(run_model__catalog_model=entry).exists()  # no made-up failures
    assert planning.missing_case_ids(run)[RunModel.objects.get(run=run, catalog_model=entry).pk] == list(
        run.eval_set.cases.order_by("line").values_list("id", flat=True))
    # The endpoint is back (here: the entry is pointed at it); a resume calls only what is missing.
    SelfHostedEndpoint.objects.filter(catalog_model=entry).update(base_url=f"{sandbox.url}/v1")
    calls_before = sandbox.calls()
    with django_capture_on_commit_callbacks(execute=True):
        assert services.bakeoff_resume(run_id=run.pk) == 5
    run.refresh_from_db()
    assert run.status == RunStatus.FINISHED and (run.done_count, run.failed_count) == (10, 0)
    assert sandbox.calls() - calls_before == 5
    assert BakeoffResult.objects.filter(run=run).count() == 10


def test_cancel_then_resume_makes_no_self_hosted_call(celery_eager, sandbox, django_capture_on_commit_callbacks):
    entry = self_hosted(f"{sandbox.url}/v1")
    run = launch(sandbox, eval_set_with_cases(3), [llama_8b(), entry], django_capture_on_commit_callbacks,
                 execute=False)
    assert services.bakeoff_cancel(run=run, reason="changed my mind")
    with django_capture_on_commit_callbacks(execute=True):
        assert services.bakeoff_resume(run_id=run.pk) == 0
        runner.run_lane(run_id=run.pk)
    assert sandbox.calls() == 0 and not BakeoffResult.objects.filter(run=run).exists()


def test_a_lane_run_again_calls_nothing_and_stores_each_pair_once(celery_eager, sandbox,
                                                                  django_capture_on_commit_callbacks):
    entry = self_hosted(f"{sandbox.url}/v1")
    run = launch(sandbox, eval_set_with_cases(3), [llama_8b(), entry], django_capture_on_commit_callbacks)
    calls = sandbox.calls()
    rm = RunModel.objects.get(run=run, catalog_model=entry)
    outcome = runner.run_chunk(run_model_id=rm.pk, case_ids=list(run.eval_set.cases.values_list("id", flat=True)))
    assert outcome.reason == "run is not running" and sandbox.calls() == calls
    # Results handed in twice (a retried task) are stored once.
    duplicate = BakeoffResult.objects.filter(run_model=rm).first()
    duplicate.pk = None
    progress.bakeoff_record_results(run_id=run.pk, results=[duplicate])
    assert BakeoffResult.objects.filter(run_model=rm).count() == 3


def test_a_self_hosted_entry_cannot_run_as_a_batch_job(sandbox):
    entry = self_hosted(f"{sandbox.url}/v1")
    refusal = estimates.batch_refusal(models=[llama_8b(), entry], case_count=500)
    assert refusal == ("Llama 3.1 8B on our L4s is self-hosted: batch jobs run only on Bedrock. "
                       "Run this bake-off on demand.")
    with pytest.raises(services.BakeoffError, match="self-hosted: batch jobs run only on Bedrock"):
        services.bakeoff_launch(eval_set=eval_set_with_cases(2), models=[llama_8b(), entry], batch=True,
                                endpoint_url=sandbox.url)


def test_a_self_hosted_entry_without_an_endpoint_is_refused_at_launch_and_no_run_is_stored(sandbox):
    entry = self_hosted(f"{sandbox.url}/v1")
    SelfHostedEndpoint.objects.filter(catalog_model=entry).delete()
    eval_set = eval_set_with_cases(2)

    with pytest.raises(services.BakeoffError, match="self-hosted entry without an endpoint; register its URL"):
        services.bakeoff_launch(eval_set=eval_set, models=[llama_8b(), entry], endpoint_url=sandbox.url)
    assert not eval_set.runs.exists()


def test_the_estimate_prices_a_self_hosted_entry_from_throughput_not_tokens(sandbox):
    entry = self_hosted(f"{sandbox.url}/v1")
    estimate = estimates.bakeoff_estimate(eval_set=eval_set_with_cases(4), models=[llama_8b(), entry],
                                         max_tokens=64, endpoint_url=sandbox.url, pilot_cases=2)
    llama, own = estimate.models
    assert own.self_hosted and not llama.self_hosted
    assert (own.expected_usd, own.upper_bound_usd, own.piloted) == (0, 0, False)
    assert sandbox.calls(SELF_HOSTED_DEMO_MODEL) == 0  # no pilot calls to the endpoint before launch


@pytest.mark.parametrize("field, value, message", [
    ("base_url", "ftp://gpu-box/v1", "http:// or https://"),
    ("base_url", "http://user:pw@gpu-box/v1", "no credentials"),
    ("base_url", "gpu-box:8000", "http:// or https://"),
    ("served_model_name", "llama 8b", "no spaces"),
    ("gpu_count", 0, "GPUs"),
    ("gpu_hour_price", Decimal("-1"), "per GPU-hour"),
    ("gpu_hour_price", "NaN", "per GPU-hour"),
    ("max_concurrency", 0, "Calls in flight"),
    ("api_key_env", "lower-case", "environment variable"),
])
def test_bad_endpoint_fields_are_refused_by_name_and_nothing_is_stored(field, value, message):
    fields = {"base_url": "http://gpu-box:8000/v1", field: value}
    with pytest.raises(ValidationError) as caught:
        self_hosted(**fields)
    assert message in " ".join(caught.value.message_dict[field])
    assert not SelfHostedEndpoint.objects.exists()


def test_an_api_key_and_its_environment_variable_are_exclusive():
    with pytest.raises(ValidationError) as caught:
        self_hosted("http://gpu-box:8000/v1", api_key="sk-1", api_key_env="GPU_KEY")
    assert "not both" in caught.value.message_dict["api_key"][0]


def test_base_url_is_kept_without_trailing_slash_and_the_key_encrypted():
    entry = self_hosted("https://gpu-box.example:8000/v1/", api_key="sk-local-secret")
    endpoint = SelfHostedEndpoint.objects.get(catalog_model=entry)
    assert endpoint.base_url == "https://gpu-box.example:8000/v1"
    assert "sk-local-secret" not in endpoint.api_key_encrypted and endpoint.api_key_encrypted
    assert selfhosted.api_key_of(endpoint) == "sk-local-secret"
    assert selfhosted.api_key_state(endpoint) == "set (encrypted)"
    # Saved again without a key: kept; with "" : cleared.
    selfhosted.selfhosted_entry_save(entry=entry, model_id=entry.model_id, name=entry.name,
                                     base_url=endpoint.base_url, served_model_name="m", gpu_type="L4", gpu_count=1,
                                     gpu_hour_price=1, max_concurrency=2)
    assert selfhosted.api_key_of(SelfHostedEndpoint.objects.get(catalog_model=entry)) == "sk-local-secret"
    selfhosted.selfhosted_entry_save(entry=entry, model_id=entry.model_id, name=entry.name,
                                     base_url=endpoint.base_url, served_model_name="m", gpu_type="L4", gpu_count=1,
                                     gpu_hour_price=1, max_concurrency=2, api_key="")
    assert SelfHostedEndpoint.objects.get(catalog_model=entry).api_key_encrypted == ""


def test_a_key_encrypted_under_another_secret_is_a_clear_error_not_a_crash(settings, sandbox,
                                                                          django_capture_on_commit_callbacks,
                                                                          celery_eager):
    entry = self_hosted(f"{sandbox.url}/v1", api_key="sk-old")
    settings.SELFHOSTED_KEY_SECRET = "another secret than the one the key was stored under"
    run = launch(sandbox, eval_set_with_cases(1), [llama_8b(), entry], django_capture_on_commit_callbacks)
    error = BakeoffResult.objects.get(run=run, run_model__catalog_model=entry)
    assert error.error_code == "ApiKeyUnreadable" and "enter the key again" in error.error_message
    assert sandbox.calls(SELF_HOSTED_DEMO_MODEL) == 0


def test_the_key_from_the_named_environment_variable_is_sent(monkeypatch, celery_eager, sandbox,
                                                             django_capture_on_commit_callbacks):
    sandbox.config.openai_api_key = "sk-from-env"
    monkeypatch.setenv("GPU_BOX_API_KEY", "sk-from-env")
    entry = self_hosted(f"{sandbox.url}/v1", api_key_env="GPU_BOX_API_KEY")
    run = launch(sandbox, eval_set_with_cases(2), [llama_8b(), entry], django_capture_on_commit_callbacks)
    assert run.status == RunStatus.FINISHED and run.failed_count == 0
    monkeypatch.setenv("GPU_BOX_API_KEY", "wrong")
    run = launch(sandbox, eval_set_with_cases(1), [llama_8b(), entry], django_capture_on_commit_callbacks)
    error = BakeoffResult.objects.get(run=run, run_model__catalog_model=entry)
    assert (error.error_code, error.attempts) == ("Unauthorized", 1)


def test_the_demo_has_a_self_hosted_llama_on_the_sandbox_beside_claude_and_bedrocks_llama(
        settings, celery_eager, sandbox, django_capture_on_commit_callbacks):
    from portal.demo import DEMO_SELFHOSTED_ID, demo_selfhosted_ensure

    settings.BEDROCK_ENDPOINT_URL = sandbox.url
    entry = demo_selfhosted_ensure()
    assert demo_selfhosted_ensure().pk == entry.pk  # loading the demo again adds nothing
    endpoint = SelfHostedEndpoint.objects.get(catalog_model=entry)
    assert (entry.model_id, entry.owner_partner, endpoint.base_url) == (DEMO_SELFHOSTED_ID, None, f"{sandbox.url}/v1")
    run = launch(sandbox, eval_set_with_cases(3), [claude_haiku_45(), llama_8b(), DEMO_SELFHOSTED_ID],
                 django_capture_on_commit_callbacks)
    assert run.status == RunStatus.FINISHED and (run.done_count, run.failed_count) == (9, 0)
    settings.BEDROCK_ENDPOINT_URL = ""  # real Bedrock: no demo entry pointing nowhere
    assert demo_selfhosted_ensure() is None
