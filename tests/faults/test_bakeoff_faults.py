"""Bake-offs through real worker processes while things fail: Redis restarted mid-run, a sandbox
that throttles and errors, a worker asked to stop (SIGTERM) or out of time for its chunk. The
SIGKILL case lives with the other worker tests (tests/bakeoff_jobs/test_e2e_worker.py)."""

import pytest
from django.conf import settings
from django.db.models import Count, Sum

from bakeoff_jobs import services
from bakeoff_jobs.converse import RETRYABLE_CODES
from bakeoff_jobs.models import BakeoffResult, BakeoffRun, RunStatus
from bedrock_sandbox.config import ScriptLine
from tests.bakeoff_jobs.factories import claude_haiku_45, eval_set_with_cases, llama_8b
from tests.bakeoff_jobs.worker import settled, wait_for

from .conftest import celery_broker

pytestmark = [pytest.mark.worker, pytest.mark.faults, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def sandbox(bedrock_sandbox):
    bedrock_sandbox.config.script = [ScriptLine(prompt_contains="say Paris", answer="Paris")]
    bedrock_sandbox.config.latency_ms = 20
    return bedrock_sandbox


def pair_counts(run) -> list[int]:
    """How many results each (model, case) pair has."""
    return [p["n"] for p in BakeoffResult.objects.filter(run=run).values("run_model", "case").annotate(n=Count("id"))]


def test_redis_restarted_mid_run_the_run_completes_every_pair_once(start_worker, sandbox, own_redis):
    """Broker and quota store on a Redis the test owns; it is killed (no persistence: queued chunks
    are lost) and started again while chunks run. Running chunks wait out the quota store and finish;
    the periodic stuck-run check re-dispatches what the lost messages carried."""
    sandbox.config.latency_ms = 100
    models = [claude_haiku_45(max_concurrency=4), llama_8b(max_concurrency=4)]
    env = {"CELERY_BROKER_URL": own_redis.url, "RATE_LIMIT_REDIS_URL": own_redis.url, "REDIS_URL": own_redis.url,
           "BAKEOFF_STUCK_CHECK_SECONDS": "1", "BAKEOFF_STUCK_AFTER_SECONDS": "2"}
    with celery_broker(own_redis.url):
        start_worker(beat=True, extra_env=env)
        run = services.bakeoff_launch(eval_set=eval_set_with_cases(60), models=models, endpoint_url=sandbox.url)
        wait_for(lambda: BakeoffRun.objects.get(pk=run.pk).done_count >= 20)
        own_redis.restart(down_seconds=1.0)
        during = BakeoffRun.objects.get(pk=run.pk)
        run = wait_for(lambda: settled(run.pk), timeout=60)

    assert during.status == RunStatus.RUNNING and during.done_count < 120
    assert own_redis.starts == 2
    assert run.status == RunStatus.FINISHED, run.error
    assert (run.done_count, run.failed_count) == (120, 0)
    assert sorted(pair_counts(run)) == [1] * 120
    assert sandbox.calls(outcome="ok") >= 120


def test_throttling_and_server_errors_every_pair_ends_as_a_result_or_a_recorded_error(start_worker, sandbox):
    """30% throttling and 5% server errors on every call, one case refused outright: no pair hangs,
    each ends once, and every call the sandbox saw is accounted for on a result."""
    sandbox.config.throttle_rate = 0.3
    sandbox.config.error_rate = 0.05
    sandbox.config.script = [
        ScriptLine(prompt_contains="Case 7:", answer="", error="ValidationException"),
        ScriptLine(prompt_contains="say Paris", answer="Paris"),
    ]
    models = [claude_haiku_45(max_concurrency=4), llama_8b(max_concurrency=4)]
    start_worker(extra_env={"BAKEOFF_BACKOFF_BASE_SECONDS": "0.05"})
    run = services.bakeoff_launch(eval_set=eval_set_with_cases(60), models=models, endpoint_url=sandbox.url)
    run = wait_for(lambda: settled(run.pk), timeout=60)

    assert run.status == RunStatus.FINISHED, run.error
    assert run.done_count + run.failed_count == 120 and run.remaining_count == 0
    assert sorted(pair_counts(run)) == [1] * 120
    results = BakeoffResult.objects.filter(run=run)
    assert results.aggregate(n=Sum("attempts"))["n"] == sandbox.calls()  # no call unaccounted for
    assert results.filter(status="ok").count() == sandbox.calls(outcome="ok") == run.done_count
    assert sandbox.calls(outcome="ThrottlingException") > 20
    assert sandbox.calls(outcome="InternalServerException") + sandbox.calls(outcome="ServiceUnavailableException") > 0
    assert results.filter(status="ok", attempts__gt=1).exists()
    for error in results.filter(status="error"):
        permanent = (error.error_code, error.attempts) == ("ValidationException", 1)
        retries_spent = error.error_code in RETRYABLE_CODES and error.attempts == settings.BAKEOFF_MAX_ATTEMPTS
        assert permanent or retries_spent, (error.error_code, error.attempts)
    assert results.filter(status="error", error_code="ValidationException").count() == 2


def test_sigterm_hands_the_chunk_back_and_a_new_worker_finishes_it(start_worker, sandbox):
    """A stopping worker stores the calls in flight and queues the rest of its chunk at once, instead
    of running the whole chunk first or leaving it to the stuck-run check."""
    sandbox.config.latency_ms = 200
    models = [claude_haiku_45(max_concurrency=2), llama_8b(max_concurrency=2)]
    worker = start_worker(extra_env={"BAKEOFF_CHUNK_SIZE": "40"})  # one chunk per model, ~4 s each
    run = services.bakeoff_launch(eval_set=eval_set_with_cases(40), models=models, endpoint_url=sandbox.url)
    wait_for(lambda: BakeoffRun.objects.get(pk=run.pk).done_count >= 8)

    stopped_in = worker.terminate(timeout=10)
    before = BakeoffRun.objects.get(pk=run.pk)
    assert stopped_in < 2.5, stopped_in  # not the ~3.5 s the rest of the chunk would take
    assert before.status == RunStatus.RUNNING and 8 <= before.done_count < 70
    assert b"handed back" in worker.log_path.read_bytes()

    start_worker()  # no beat: only the handed-back chunks can finish the run
    run = wait_for(lambda: settled(run.pk), timeout=30)
    assert run.status == RunStatus.FINISHED and (run.done_count, run.failed_count) == (80, 0)
    assert sorted(pair_counts(run)) == [1] * 80
    assert run.dispatch_count == 1
    assert sandbox.calls(outcome="ok") == 80  # calls in flight at SIGTERM were stored, not repeated


def test_a_chunk_past_its_time_budget_hands_back_the_rest(start_worker, sandbox):
    sandbox.config.latency_ms = 100
    models = [claude_haiku_45(max_concurrency=2), llama_8b(max_concurrency=2)]
    worker = start_worker(extra_env={"BAKEOFF_CHUNK_SIZE": "30", "BAKEOFF_CHUNK_MAX_SECONDS": "0.5"})
    run = services.bakeoff_launch(eval_set=eval_set_with_cases(30), models=models, endpoint_url=sandbox.url)
    run = wait_for(lambda: settled(run.pk), timeout=30)

    assert run.status == RunStatus.FINISHED and (run.done_count, run.failed_count) == (60, 0)
    assert sorted(pair_counts(run)) == [1] * 60
    assert run.dispatch_count == 1
    assert worker.log_path.read_bytes().count(b"chunk time budget spent") >= 4  # ~1.5 s per model
