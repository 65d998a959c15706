"""A real `celery -A cloudroute worker` subprocess for end-to-end tests, on the test database and the
configured broker (Redis when CELERY_BROKER_URL says so, else the filesystem transport)."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
from django.conf import settings
from django.db import connection

ROOT = Path(__file__).resolve().parents[2]


def test_database_url() -> str:
    """DATABASE_URL naming the database the tests run against (pytest-django's test database)."""
    db = connection.settings_dict
    if db["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{Path(db['NAME']).resolve()}"
    parts = urlsplit(os.environ["DATABASE_URL"])
    return urlunsplit((parts.scheme, parts.netloc, "/" + db["NAME"], parts.query, parts.fragment))


def process_env(**extra: str) -> dict[str, str]:
    """The environment of a process the tests start (a worker, a command): the test database, the
    configured broker, and short polling and flush intervals."""
    env = os.environ.copy()
    env.update(
        DATABASE_URL=test_database_url(),
        CELERY_BROKER_URL=settings.CELERY_BROKER_URL,
        CLOUDROUTE_VAR_DIR=str(settings.VAR_DIR),
        CELERY_BROKER_POLLING_INTERVAL="0.05",
        BAKEOFF_FLUSH_SECONDS="0.1",
        BAKEOFF_CANCEL_POLL_SECONDS="0.05",
        BAKEOFF_SLOT_LEASE_SECONDS="3",  # a killed worker's slots come back quickly
        BAKEOFF_CHUNK_SIZE="10",
        PYTHONUNBUFFERED="1",
    )
    env.update(extra)
    return env


class WorkerProcess:
    def __init__(self, log_path: Path, extra_env: dict[str, str] | None = None, concurrency: int = 4,
                 beat: bool = False) -> None:
        self.log_path = log_path
        self.extra_env = extra_env or {}
        self.concurrency = concurrency
        self.beat = beat  # embed celery beat, so periodic tasks run too
        self.process: subprocess.Popen | None = None

    def start(self, ready_timeout: float = 30.0) -> "WorkerProcess":
        env = process_env(**self.extra_env)
        self._log = open(self.log_path, "ab")
        beat = ["-B", "-s", str(self.log_path.with_suffix(".beat"))] if self.beat else []
        self.process = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "cloudroute", "worker", "--pool", "threads",
             "--concurrency", str(self.concurrency), "--loglevel", "INFO", "--without-gossip",
             "--without-mingle", "--without-heartbeat", "-n", f"e2e-{os.getpid()}-{time.monotonic_ns()}@%h", *beat],
            cwd=ROOT, env=env, stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True,
        )
        deadline = time.monotonic() + ready_timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"worker exited early:\n{self.log_path.read_text()[-3000:]}")
            if b" ready." in self.log_path.read_bytes():
                return self
            time.sleep(0.05)
        raise RuntimeError(f"worker not ready in {ready_timeout}s:\n{self.log_path.read_text()[-3000:]}")

    def kill(self) -> None:
        """SIGKILL, as when a machine dies: no acknowledgement, no clean-up."""
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)

    def terminate(self, timeout: float = 30.0) -> float:
        """SIGTERM (warm shutdown) and wait for the worker to exit; returns the seconds it took."""
        started = time.monotonic()
        os.killpg(self.process.pid, signal.SIGTERM)
        self.process.wait(timeout=timeout)
        return time.monotonic() - started

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            # The test is over and its run settled: a short grace, then no waiting for the pool.
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=1)
            except subprocess.TimeoutExpired:
                self.kill()
        if getattr(self, "_log", None):
            self._log.close()


def wait_for(predicate, timeout=30.0, every=0.05):
    """Polls until predicate() returns something truthy, and returns it."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(every)
    raise AssertionError(f"timed out after {timeout}s")


def settled(run_id):
    """The run once it is finished, cancelled or failed; None while it is still going."""
    from bakeoff_jobs.models import BakeoffRun, RunStatus

    run = BakeoffRun.objects.get(pk=run_id)
    return run if run.status in (RunStatus.FINISHED, RunStatus.CANCELLED, RunStatus.FAILED) else None


def purge_broker() -> None:
    from cloudroute.celery import app

    with app.connection_for_write() as conn:
        conn.default_channel.queue_purge("celery")


@pytest.fixture
def start_worker(tmp_path):
    """Starts (and at the end stops) real worker processes: `worker = start_worker()`."""
    workers: list[WorkerProcess] = []

    def start(**kwargs) -> WorkerProcess:
        worker = WorkerProcess(tmp_path / f"worker-{len(workers)}.log", **kwargs)
        workers.append(worker)
        return worker.start()

    purge_broker()
    yield start
    for worker in workers:
        worker.stop()
    purge_broker()
