"""Self-hosted entries through a real Celery worker: the endpoint (a sandbox process of its own) is
killed mid-run and comes back; a cancel stops the calls."""
import os
import signal
import socket
import subprocess
import sys
import time

import pytest
from django.db.models import Count

from bakeoff_jobs import services
from bakeoff_jobs.models import BakeoffResult, BakeoffRun, RunStatus
from bakeoff_jobs.model_data import SELF_HOSTED_DEMO_MODEL
from bedrock_sandbox.config import ScriptLine

from .factories import eval_set_with_cases, llama_8b
from .selfhosted_factories import self_hosted
from .worker import ROOT, settled, start_worker, wait_for  # noqa: F401 - fixture

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

FAST_RETRIES = {"BAKEOFF_MAX_ATTEMPTS": "3", "BAKEOFF_BACKOFF_BASE_SECONDS": "0.01", "SELFHOSTED_CONNECT_TIMEOUT": "1"}


class SandboxProcess:
    """`manage.py bedrock_sandbox` in a process of its own, so killing it drops every connection."""

    def __init__(self, tmp_path, port: int) -> None:
        self.port, self.tmp_path, self.process = port, tmp_path, None
        self.script = tmp_path / "script.jsonl"
        self.script.write_text('{"prompt_contains": "say Paris", "answer": "Paris"}\n')

    def start(self) -> "SandboxProcess":
        log = open(self.tmp_path / f"sandbox-{self.port}.log", "ab")
        self.process = subprocess.Popen(
            [sys.executable, "manage.py", "bedrock_sandbox", "--port", str(self.port), "--s3-port", "0",
             "--latency-ms", "60", "--script", str(self.script)],
            cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        wait_for(self._listening, timeout=30)
        return self

    def _listening(self) -> bool:
        with socket.socket() as sock:
            return sock.connect_ex(("127.0.0.1", self.port)) == 0

    def kill(self) -> None:
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)


@pytest.fixture
def endpoint_process(tmp_path):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    processes = []

    def start() -> SandboxProcess:
        processes.append(SandboxProcess(tmp_path, port).start())
        return processes[-1]

    yield start
    for process in processes:
        process.kill()


def pairs_of(run, model) -> int:
    return BakeoffResult.objects.filter(run=run, run_model__catalog_model=model).count()


def test_an_endpoint_killed_mid_run_loses_nothing_and_the_rest_runs_on_resume(
        start_worker, bedrock_sandbox, endpoint_process):
    bedrock_sandbox.config.script = [ScriptLine(prompt_contains="say Paris", answer="Paris")]
    endpoint = endpoint_process()
    entry = self_hosted(f"http://127.0.0.1:{endpoint.port}/v1", max_concurrency=2)
    bedrock = llama_8b(max_concurrency=4)
    start_worker(extra_env=FAST_RETRIES)
    run = services.bakeoff_launch(eval_set=eval_set_with_cases(30), models=[bedrock, entry],
                                  endpoint_url=bedrock_sandbox.url)
    wait_for(lambda: pairs_of(run, entry) >= 4)
    endpoint.kill()
    wait_for(lambda: pairs_of(run, bedrock) == 30)
    stored = wait_for(lambda: _steady(lambda: pairs_of(run, entry)))
    run.refresh_from_db()
    assert run.status == RunStatus.RUNNING and 4 <= stored < 30
    assert run.failed_count == 0  # calls that got no answer are not recorded as failures
    assert not BakeoffResult.objects.filter(run=run, status="error").exists()
    kept = set(BakeoffResult.objects.filter(run=run, run_model__catalog_model=entry).values_list("pk", flat=True))

    endpoint_process()  # back on the same port
    assert services.bakeoff_resume(run_id=run.pk) == 30 - stored
    run = wait_for(lambda: settled(run.pk))
    assert run.status == RunStatus.FINISHED and (run.done_count, run.failed_count) == (60, 0), run.error
    assert kept <= set(BakeoffResult.objects.filter(run=run).values_list("pk", flat=True))
    per_pair = BakeoffResult.objects.filter(run=run).values("run_model", "case").annotate(n=Count("id"))
    assert len(per_pair) == 60 and {p["n"] for p in per_pair} == {1}


def _steady(count, polls: int = 6, every: float = 0.25):
    """The count once it has not moved for `polls` looks (the lanes stopped calling), else None."""
    first = count()
    for _ in range(polls):
        time.sleep(every)
        if count() != first:
            return None
    return first or None


def test_cancel_stops_the_self_hosted_calls(start_worker, bedrock_sandbox):
    bedrock_sandbox.config.script = [ScriptLine(prompt_contains="say Paris", answer="Paris")]
    bedrock_sandbox.config.set_model(SELF_HOSTED_DEMO_MODEL, latency_ms=120)
    entry = self_hosted(f"{bedrock_sandbox.url}/v1", max_concurrency=2)
    start_worker()
    run = services.bakeoff_launch(eval_set=eval_set_with_cases(40), models=[llama_8b(), entry],
                                  endpoint_url=bedrock_sandbox.url)
    wait_for(lambda: pairs_of(run, entry) >= 3)
    assert services.bakeoff_cancel(run=BakeoffRun.objects.get(pk=run.pk), reason="test")
    calls = wait_for(lambda: _steady(lambda: bedrock_sandbox.calls(SELF_HOSTED_DEMO_MODEL)))
    assert calls < 40 and pairs_of(run, entry) <= calls
    assert BakeoffRun.objects.get(pk=run.pk).status == RunStatus.CANCELLED
