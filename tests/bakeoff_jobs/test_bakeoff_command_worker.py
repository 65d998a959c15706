"""manage.py bakeoff --start-worker as a user runs it: a real process that starts its own worker
before anything else, and stops it once the report is out (at once when the run finished, waiting
for its warm shutdown otherwise)."""
import json
import os
import re
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db.models import Count

from bakeoff_jobs.models import BakeoffResult, BakeoffRun, RunStatus
from bedrock_sandbox.config import ScriptLine

from .factories import claude_haiku_45, llama_8b
from .worker import ROOT, process_env, purge_broker, wait_for

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def sandbox(bedrock_sandbox):
    bedrock_sandbox.config.script = [ScriptLine(prompt_contains="France", answer="Paris")]
    purge_broker()
    yield bedrock_sandbox
    purge_broker()


def write_eval_file(tmp_path, cases: int) -> Path:
    path = tmp_path / "capitals.jsonl"
    path.write_text("\n".join(json.dumps(
        {"prompt": f"Q{i}: capital of France?", "expected": "Paris", "scorer": "contains", "category": "extraction"}
    ) for i in range(cases)))
    return path


def bakeoff(sandbox, *args: str, timeout: float = 90) -> subprocess.CompletedProcess:
    models = f"{claude_haiku_45().model_id},{llama_8b().model_id}"
    return subprocess.run(
        [sys.executable, "manage.py", "bakeoff", *args, "--models", models, "--start-worker"],
        cwd=ROOT, env=process_env(BEDROCK_ENDPOINT_URL=sandbox.url), capture_output=True, text=True, timeout=timeout,
    )


def worker_pid(stderr: str) -> int:
    return int(re.search(r"worker started \(pid (\d+)\)", stderr).group(1))


def gone(pid: int) -> bool:
    """No such process, or one that has exited and waits to be reaped."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] in "ZX"
    except FileNotFoundError:
        return True


def test_the_worker_starts_before_the_upload_and_stops_after_the_report(sandbox, tmp_path):
    done = bakeoff(sandbox, str(write_eval_file(tmp_path, 30)), "--json", "--max-tokens", "32")

    assert done.returncode == 0, done.stderr
    lines = done.stderr.splitlines()
    started = next(i for i, line in enumerate(lines) if "worker started (pid" in line)
    estimated = next(i for i, line in enumerate(lines) if line.startswith("estimated cost: $"))
    assert started < estimated  # booting while the set is uploaded and the cost estimated
    run = BakeoffRun.objects.get()
    assert run.status == RunStatus.FINISHED and (run.done_count, run.failed_count) == (60, 0)
    assert json.loads(done.stdout) == run.report  # the --json report is the stored one, whole
    pairs = BakeoffResult.objects.filter(run=run).values("run_model", "case").annotate(n=Count("id"))
    assert sorted(p["n"] for p in pairs) == [1] * 60
    wait_for(lambda: gone(worker_pid(done.stderr)), timeout=30)  # it stops on its own


def test_a_run_still_going_at_the_timeout_stops_the_worker_before_the_command_ends(sandbox, tmp_path):
    sandbox.config.latency_ms = 300
    done = bakeoff(sandbox, str(write_eval_file(tmp_path, 200)), "--timeout", "4")

    assert done.returncode == 1 and "still running after 4s" in done.stderr, done.stderr
    assert gone(worker_pid(done.stderr))  # waited for: its warm shutdown handed the rest back
    run = BakeoffRun.objects.get()
    assert run.status == RunStatus.RUNNING and 0 < run.done_count < 400
    assert run.done_count == BakeoffResult.objects.filter(run=run).count()  # calls in flight were stored


def test_a_worker_that_dies_mid_run_ends_the_command_with_an_error(sandbox, tmp_path):
    sandbox.config.latency_ms = 300
    models = f"{claude_haiku_45().model_id},{llama_8b().model_id}"
    command = subprocess.Popen(
        [sys.executable, "manage.py", "bakeoff", str(write_eval_file(tmp_path, 200)), "--models", models,
         "--start-worker"],
        cwd=ROOT, env=process_env(BEDROCK_ENDPOINT_URL=sandbox.url), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True,
    )
    pid = worker_pid(next(line for line in command.stderr if "worker started" in line))
    wait_for(lambda: BakeoffRun.objects.filter(done_count__gt=0).exists(), timeout=60)
    os.killpg(pid, signal.SIGKILL)
    _, err = command.communicate(timeout=30)

    assert command.returncode == 1 and "the worker this command started has exited" in err, err
    assert BakeoffRun.objects.get().status == RunStatus.RUNNING  # a worker started later finishes it


def test_refused_input_stops_the_worker_it_started(sandbox, tmp_path):
    path = tmp_path / "bad.jsonl"
    path.write_text('{"prompt": "", "expected": "x", "scorer": "exact"}\n')
    done = bakeoff(sandbox, str(path))

    assert done.returncode == 1 and "bad row" in done.stderr
    assert gone(worker_pid(done.stderr))
    assert not BakeoffRun.objects.exists()


def test_from_a_process_with_threads_the_worker_is_a_new_process(sandbox, tmp_path, monkeypatch, settings, capsys):
    """call_command here runs beside the sandbox's thread: a fork would copy only this thread."""
    for name, value in process_env(BEDROCK_ENDPOINT_URL=sandbox.url).items():
        monkeypatch.setenv(name, value)
    settings.BEDROCK_ENDPOINT_URL = sandbox.url
    assert threading.active_count() > 1
    models = f"{claude_haiku_45().model_id},{llama_8b().model_id}"
    call_command("bakeoff", str(write_eval_file(tmp_path, 10)), "--models", models, "--start-worker", "--json",
                 "--timeout", "60")

    out, err = capsys.readouterr()
    assert json.loads(out) == BakeoffRun.objects.get().report
    wait_for(lambda: gone(worker_pid(err)), timeout=30)
