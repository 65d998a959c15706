"""The Celery worker `manage.py bakeoff --start-worker` runs for itself.

It is forked from the command's own process as soon as the arguments are read, so it starts with
Django, the project's models and tasks already loaded (no interpreter start, no second import of
the project, no system checks) and boots while the command uploads the eval set and estimates the
cost. It runs in a process group of its own with its output discarded: a Ctrl-C in the terminal reaches
the command, which cancels the run and then stops the worker. Where the platform cannot fork, or
the command runs in a process with other threads (call_command from a server or a test), it is
started as a `celery worker` process instead."""
from __future__ import annotations

import gc
import os
import signal
import socket
import subprocess
import sys
import threading
import time

from django.db import connections

CONCURRENCY = 4  # one process per model of a four-model bake-off spreads the calls' CPU over the cores


class CommandWorker:
    """A worker process the command started: stop() asks for a warm shutdown (calls in flight are
    stored, the rest handed back) and waits for it as long as told."""

    def __init__(self, pid: int, process: subprocess.Popen | None = None) -> None:
        self.pid = pid
        self._process = process
        self._exited = False

    @classmethod
    def start(cls, *, concurrency: int = CONCURRENCY) -> "CommandWorker":
        """Forked when this process is single-threaded (a fork copies only the calling thread, and
        another thread could hold a lock the child then waits on for ever) and outside a
        transaction (its connections are closed first); else a new process."""
        if (not hasattr(os, "fork") or threading.active_count() > 1
                or any(connection.in_atomic_block for connection in connections.all())):
            process = subprocess.Popen(
                [sys.executable, "-m", "celery", "-A", "cloudroute", "worker", "--loglevel=WARNING",
                 f"--concurrency={concurrency}", "--without-gossip", "--without-mingle", "-n", _node_name()],
                env={**os.environ, "CELERY_SKIP_CHECKS": "1"}, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                start_new_session=True,
            )
            return cls(process.pid, process)
        connections.close_all()  # the child must not share the command's database connections
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid == 0:  # pragma: no cover - the child, measured through the process it becomes
            code = 1
            try:
                code = _serve(concurrency)
            finally:
                os._exit(code)
        return cls(pid)

    def alive(self) -> bool:
        if self._exited:
            return False
        if self._process is not None:
            self._exited = self._process.poll() is not None
            return not self._exited
        try:
            done, _ = os.waitpid(self.pid, os.WNOHANG)
        except ChildProcessError:
            done = self.pid
        self._exited = done == self.pid
        return not self._exited

    def stop(self, *, wait: float) -> None:
        """SIGTERM (warm shutdown). With wait > 0, wait that long for the worker to exit, then kill
        what is left of its process group; with 0, return at once and let it finish stopping on its own
        (used once the run is finished: nothing is left to lose)."""
        if not self.alive():
            return
        try:
            os.kill(self.pid, signal.SIGTERM)
        except ProcessLookupError:
            return
        if wait <= 0:
            return
        deadline = time.monotonic() + wait
        while self.alive() and time.monotonic() < deadline:
            time.sleep(0.05)
        try:  # a worker that did not stop in time, and pool processes a dead worker left behind
            os.killpg(self.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        while self.alive():
            time.sleep(0.01)


def _node_name() -> str:
    return f"bakeoff-{os.getpid()}@{socket.gethostname()}"


def _serve(concurrency: int) -> int:
    """In the forked child: a process group of its own (setsid), output discarded, then a prefork worker."""
    os.setsid()
    devnull = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(devnull, fd)
    os.environ["CELERY_SKIP_CHECKS"] = "1"  # the command's process has loaded the project already
    from celery import current_app as app

    worker = app.Worker(hostname=_node_name(), concurrency=concurrency, loglevel="WARNING",
                        without_gossip=True, without_mingle=True, quiet=True)
    # What is loaded now is never garbage: billiard collects before forking each pool process, and
    # frozen objects are not walked again (four full collections were about a second at boot).
    gc.freeze()
    worker.start()
    return worker.exitcode or 0
