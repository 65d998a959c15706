"""Bake-off throughput benchmark: N cases × M models through a real Celery worker against the local
Converse sandbox, compared with the latency bound ceil(cases / concurrency) × latency.

    python bench/bakeoff.py [--cases 1000] [--models 4] [--concurrency 16] [--latency-ms 200]

Starts its own sandbox (in this process) and worker (a subprocess); uses a temporary SQLite
database and filesystem broker unless DATABASE_URL / CELERY_BROKER_URL are set. The last line
reads exactly: wall_s=<seconds> bound_s=<seconds> ratio=<wall/bound>
"""
from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MODELS = [
    "anthropic.claude-haiku-4-5-20251001-v1:0",
    "meta.llama3-1-8b-instruct-v1:0",
    "anthropic.claude-sonnet-4-5-20250929-v1:0",
    "meta.llama4-scout-17b-instruct-v1:0",
    "anthropic.claude-3-5-haiku-20241022-v1:0",
    "meta.llama3-3-70b-instruct-v1:0",
]


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cases", type=int, default=1000)
    parser.add_argument("--models", type=int, default=4, choices=range(2, len(MODELS) + 1))
    parser.add_argument("--concurrency", type=int, default=16, help="per model, across all workers")
    parser.add_argument("--latency-ms", type=float, default=200.0)
    parser.add_argument("--pool", default="prefork", choices=["prefork", "threads"])
    parser.add_argument("--worker-concurrency", type=int, default=0,
                        help="worker processes/threads (default: one per model)")
    parser.add_argument("--chunk-size", type=int, default=0, help="cases per chunk task (default: settings)")
    parser.add_argument("--timeout", type=float, default=300)
    parser.add_argument("--workers", type=int, default=1, help="worker processes (each with --worker-concurrency)")
    parser.add_argument("--throttle-rate", type=float, default=0.0, help="share of calls the sandbox throttles")
    parser.add_argument("--throttle-after-latency", action="store_true",
                        help="the sandbox throttles only after the call's latency, not at once")
    parser.add_argument("--timeline", action="store_true",
                        help="print where the wall time went: broker hops, the calls, the tail, the report")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    figures = run(args)
    if figures is None:
        return 1
    print(f"wall_s={figures['wall_s']:.2f} bound_s={figures['bound_s']:.2f} ratio={figures['ratio']:.2f}")
    return 0


def run(args: argparse.Namespace) -> dict | None:
    """Runs the benchmark; the figures, or None when the run did not finish cleanly."""
    tmp = Path(tempfile.mkdtemp(prefix="cloudroute-bench-"))
    try:
        return bench(args, tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def setup(args: argparse.Namespace, tmp: Path):
    """Django on the benchmark's database (migrated), the sandbox started in this process and the
    catalog's models given the benchmark's concurrency; (sandbox, model ids)."""
    os.environ["CLOUDROUTE_VAR_DIR"] = str(tmp)
    os.environ.setdefault("DATABASE_URL", f"sqlite:///{tmp / 'bench.sqlite3'}")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cloudroute.settings")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    if getattr(args, "chunk_size", 0):
        os.environ["BAKEOFF_CHUNK_SIZE"] = str(args.chunk_size)
    sys.path.insert(0, str(ROOT))

    import django

    django.setup()
    from django.core.management import call_command

    from bakeoff_jobs.catalog_models import CatalogModel
    from bedrock_sandbox.config import SandboxConfig, ScriptLine
    from bedrock_sandbox.server import start_in_thread

    sandbox = start_in_thread(SandboxConfig(
        latency_ms=args.latency_ms, script=[ScriptLine(prompt_contains="say Paris", answer="Paris")],
        throttle_rate=getattr(args, "throttle_rate", 0.0),
        throttle_after_latency=getattr(args, "throttle_after_latency", False),
    ))
    os.environ["BEDROCK_ENDPOINT_URL"] = sandbox.url  # the worker's configured endpoint
    call_command("migrate", verbosity=0, interactive=False)
    model_ids = MODELS[: args.models]
    # A fresh database may be shared (DATABASE_URL): start from this benchmark's own rows.
    CatalogModel.objects.filter(model_id__in=model_ids).update(
        max_concurrency=args.concurrency, requests_per_minute=None, tokens_per_minute=None, is_active=True
    )
    return sandbox, model_ids


def eval_lines(cases: int) -> str:
    """The benchmark's eval set as JSONL: every case answered "Paris" by the sandbox, three categories."""
    return "\n".join(
        json.dumps({"prompt": f"Case {i}: what is the capital of France? say Paris", "expected": "Paris",
                    "scorer": "contains", "category": ("extraction", "triage", "hard-analysis")[i % 3]})
        for i in range(cases)
    )


def bench(args: argparse.Namespace, tmp: Path) -> dict | None:
    sandbox, model_ids = setup(args, tmp)
    from bakeoff_jobs import services
    from bakeoff_jobs.models import BakeoffResult, BakeoffRun, RunStatus

    lines = eval_lines(args.cases)
    eval_set = services.evalset_upload(name="bench", data=lines.encode(), filename="bench.jsonl")

    worker_concurrency = args.worker_concurrency or args.models
    call_times = _record_call_times(sandbox) if getattr(args, "timeline", False) else None
    workers = []
    for n in range(args.workers):
        log_path = tmp / f"worker-{n}.log"
        with open(log_path, "wb") as log:
            workers.append((log_path, subprocess.Popen(
                [sys.executable, "-m", "celery", "-A", "cloudroute", "worker", "--pool", args.pool,
                 "--concurrency", str(worker_concurrency), "--loglevel", "INFO", "--without-gossip",
                 "--without-mingle", "--without-heartbeat", "-n", f"bench-{os.getpid()}-{n}@%h"],
                cwd=ROOT, env=os.environ.copy(), stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
            )))
    try:
        deadline = time.monotonic() + 60
        for log_path, worker in workers:
            while b" ready." not in log_path.read_bytes():
                if worker.poll() is not None or time.monotonic() > deadline:
                    sys.stderr.write(log_path.read_text()[-3000:])
                    return None
                time.sleep(0.05)
        started = time.monotonic()
        run = services.bakeoff_launch(eval_set=eval_set, models=model_ids, max_tokens=64,
                                      endpoint_url=sandbox.url)
        while True:
            status, done, failed = BakeoffRun.objects.filter(pk=run.pk).values_list(
                "status", "done_count", "failed_count").get()
            if status not in (RunStatus.QUEUED, RunStatus.RUNNING, RunStatus.FINALIZING):
                break
            if time.monotonic() - started > args.timeout:
                print(f"timed out: {done + failed}/{run.total_pairs} after {args.timeout}s", file=sys.stderr)
                return None
            time.sleep(0.05)
        wall = time.monotonic() - started
    finally:
        for _, worker in workers:
            worker.terminate()
        for _, worker in workers:
            worker.wait(timeout=30)
        sandbox.stop()

    run.refresh_from_db()
    stored = BakeoffResult.objects.filter(run=run).count()
    calls = sandbox.calls()
    # With throttling, each pair takes 1 / (1 - rate) calls on average at the same concurrency.
    bound = math.ceil(args.cases / (1 - args.throttle_rate) / args.concurrency) * args.latency_ms / 1000
    print(f"run #{run.pk}: {run.status}, {stored} results ({run.done_count} ok, {run.failed_count} failed) "
          f"of {run.total_pairs}; sandbox calls={calls} (throttled {sandbox.calls(outcome='ThrottlingException')})")
    print(f"{args.cases} cases x {args.models} models, concurrency {args.concurrency}/model, "
          f"latency {args.latency_ms:.0f} ms, throttling {args.throttle_rate:.0%}"
          f"{' after the latency' if args.throttle_after_latency else ''}, {args.workers} worker(s) "
          f"--pool {args.pool} -c {worker_concurrency}, db {os.environ['DATABASE_URL'].split(':')[0]}, "
          f"broker {os.environ.get('CELERY_BROKER_URL', 'filesystem')}")
    if run.status != RunStatus.FINISHED or stored != run.total_pairs:
        print("run did not finish cleanly", file=sys.stderr)
        return None
    if call_times is not None:
        print_timeline(run, started, wall, call_times, args)
    return {"wall_s": wall, "bound_s": bound, "ratio": wall / bound, "lost": run.total_pairs - run.done_count,
            "calls": calls}


def _record_call_times(sandbox) -> dict[str, list[tuple[float, int]]]:
    """(monotonic time, calls in flight after the event) of every call start and end, per model, taken
    from the sandbox in this process: the same clock as the benchmark's."""
    times: dict[str, list[tuple[float, int]]] = {}
    state = sandbox.state
    started, ended = state.call_started, state.call_ended

    def call_started(model_id: str) -> None:
        started(model_id)
        times.setdefault(model_id, []).append((time.monotonic(), state.model_in_flight[model_id]))

    def call_ended(model_id: str) -> None:
        ended(model_id)
        times.setdefault(model_id, []).append((time.monotonic(), state.model_in_flight[model_id]))

    state.call_started, state.call_ended = call_started, call_ended
    return times


def print_timeline(run, started: float, wall: float, call_times: dict, args: argparse.Namespace) -> None:
    """Where the wall time went, from launch: to the first call, the calls themselves (and how full each
    model's quota was while they ran), from the last call's answer to the report's start, the report."""
    from django.utils import timezone

    launched_at = timezone.now() - timezone.timedelta(seconds=time.monotonic() - started)
    history = {h.to_status: (h.changed_at - launched_at).total_seconds() for h in run.history.all()}
    first = min(events[0][0] for events in call_times.values()) - started
    last = max(events[-1][0] for events in call_times.values()) - started
    print(f"timeline (s from launch): first call {first:.2f}; last answer {last:.2f}; "
          f"finalizing {history.get('finalizing', float('nan')):.2f}; finished {history.get('finished', float('nan')):.2f}; "
          f"seen {wall:.2f}")
    for model_id, events in sorted(call_times.items()):
        busy = 0.0  # slot-seconds: the integral of calls in flight over time
        for (t0, n), (t1, _) in zip(events, events[1:]):
            busy += n * (t1 - t0)
        span = events[-1][0] - events[0][0]
        print(f"  {model_id}: calls {events[0][0] - started:.2f}-{events[-1][0] - started:.2f} s, "
              f"slots busy {busy / (args.concurrency * span):.1%} of {args.concurrency} x {span:.2f} s")


if __name__ == "__main__":
    sys.exit(main())
