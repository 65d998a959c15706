"""Bake-offs through a real Celery worker process against the local Converse sandbox."""
import time

import pytest
from django.db.models import Count

from bakeoff_jobs import services
from bakeoff_jobs.models import BakeoffResult, BakeoffRun, RunStatus
from bedrock_sandbox.config import ScriptLine

from .factories import claude_haiku_45, eval_set_with_cases, llama_8b
from .worker import settled, start_worker, wait_for  # noqa: F401 - fixture

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def sandbox(bedrock_sandbox):
    bedrock_sandbox.config.script = [ScriptLine(prompt_contains="say Paris", answer="Paris")]
    bedrock_sandbox.config.latency_ms = 20
    return bedrock_sandbox


@pytest.fixture
def models():
    return [claude_haiku_45(max_concurrency=4), llama_8b(max_concurrency=4)]


def assert_each_pair_once(run, cases, models):
    pairs = BakeoffResult.objects.filter(run=run).values("run_model", "case").annotate(n=Count("id"))
    assert len(pairs) == cases * models
    assert {p["n"] for p in pairs} == {1}


def test_worker_runs_every_pair_once_and_retries_throttling(start_worker, sandbox, models):
    sandbox.config.throttle_rate = 0.3
    sandbox.config.set_model("meta.*", throttle_rate=0.3)
    start_worker()
    run = services.bakeoff_launch(eval_set=eval_set_with_cases(20), models=models, endpoint_url=sandbox.url)
    run = wait_for(lambda: settled(run.pk))
    assert run.status == RunStatus.FINISHED, run.error
    assert (run.done_count, run.failed_count, run.remaining_count) == (40, 0, 0)
    assert_each_pair_once(run, 20, 2)
    assert sandbox.calls(outcome="ThrottlingException") > 0
    assert BakeoffResult.objects.filter(run=run, attempts__gt=1).exists()
    assert run.report["sandbox"] is True and run.report["models"][0]["pass_rate"] == 1.0


def test_worker_records_permanent_errors_on_the_case(start_worker, sandbox, models):
    sandbox.config.script = [
        ScriptLine(prompt_contains="Case 3:", answer="", error="ValidationException"),
        ScriptLine(prompt_contains="say Paris", answer="Paris"),
    ]
    start_worker()
    run = services.bakeoff_launch(eval_set=eval_set_with_cases(6), models=models, endpoint_url=sandbox.url)
    run = wait_for(lambda: settled(run.pk))
    assert run.status == RunStatus.FINISHED and (run.done_count, run.failed_count) == (10, 2)
    errors = BakeoffResult.objects.filter(run=run, status="error")
    assert {(e.case.line, e.error_code, e.attempts) for e in errors} == {(4, "ValidationException", 1)}
    assert sandbox.calls(outcome="ValidationException") == 2  # never retried


def test_cancel_stops_the_workers_calling(start_worker, sandbox, models):
    sandbox.config.latency_ms = 150
    start_worker()
    run = services.bakeoff_launch(eval_set=eval_set_with_cases(40), models=models, endpoint_url=sandbox.url)
    wait_for(lambda: BakeoffRun.objects.get(pk=run.pk).done_count >= 4)
    assert services.bakeoff_cancel(run=BakeoffRun.objects.get(pk=run.pk), reason="test")
    time.sleep(0.6)  # calls already in flight may land
    calls_after_cancel = sandbox.calls()
    stored = BakeoffResult.objects.filter(run=run).count()
    time.sleep(0.8)
    assert sandbox.calls() == calls_after_cancel
    assert BakeoffResult.objects.filter(run=run).count() == stored < 80
    assert BakeoffRun.objects.get(pk=run.pk).status == RunStatus.CANCELLED


@pytest.mark.faults
def test_killed_worker_run_completes_on_restart_without_duplicates_or_gaps(start_worker, sandbox, models):
    sandbox.config.latency_ms = 100
    worker = start_worker()
    run = services.bakeoff_launch(eval_set=eval_set_with_cases(40), models=models, endpoint_url=sandbox.url)
    wait_for(lambda: BakeoffRun.objects.get(pk=run.pk).done_count >= 10)
    worker.kill()
    before = BakeoffRun.objects.get(pk=run.pk)
    assert before.status == RunStatus.RUNNING and before.remaining_count > 0
    # The restarted worker runs the periodic stuck-run check, here every second for runs idle 1 s.
    start_worker(beat=True, extra_env={"BAKEOFF_STUCK_CHECK_SECONDS": "1", "BAKEOFF_STUCK_AFTER_SECONDS": "1"})
    run = wait_for(lambda: settled(run.pk), timeout=40)
    assert run.status == RunStatus.FINISHED and run.done_count == 80
    assert_each_pair_once(run, 40, 2)
    assert run.dispatch_count >= 2


def test_per_model_concurrency_holds_across_two_workers(start_worker, sandbox):
    sandbox.config.latency_ms = 60
    models = [claude_haiku_45(max_concurrency=2), llama_8b(max_concurrency=1)]
    start_worker(extra_env={"BAKEOFF_CHUNK_SIZE": "4"})
    start_worker(extra_env={"BAKEOFF_CHUNK_SIZE": "4"})
    run = services.bakeoff_launch(eval_set=eval_set_with_cases(16), models=models, endpoint_url=sandbox.url)
    run = wait_for(lambda: settled(run.pk))
    assert run.status == RunStatus.FINISHED and run.done_count == 32
    # 8 chunks ran on 8 worker threads at once, yet never more than 2 + 1 calls were in flight.
    assert 2 <= sandbox.state.max_in_flight <= 3
