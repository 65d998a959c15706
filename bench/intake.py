"""Intake submissions per second through the public JSON API (POST /api/intakes/), served by
gunicorn on PostgreSQL, driven by wrk from a second process on loopback: 16 connections, 60 s,
a unique company per request. Each is a new intake, answered 202 once stored; a Celery worker on
Redis (started here) then evaluates each one: a verdict for every pool, the engagement, a partner
match and the founder's email. The rps line measures the web tier: by default the worker starts
when the load ends (in production it runs on its own machines), and the benchmark reports how long
it took to evaluate every intake. With --worker-during-load it runs beside gunicorn on the same
cores (at --worker-nice) and the report says how many it evaluated during the load.

    python bench/intake.py [--duration 60] [--connections 16] [--workers 2*cores] [--worker-class sync]
                           [--threads 2] [--worker-during-load] [--worker-nice 10] [--worker-concurrency 2]

Uses DATABASE_URL when it names PostgreSQL, else postgres://postgres@127.0.0.1:5432/cloudroute_bench
(dropped and created afresh, migrated, demo partners and pools loaded; a DATABASE_URL you
give is used as it is), and CELERY_BROKER_URL when it names Redis, else redis://127.0.0.1:6379/14
(its queue, cache and rate-limit keys are this run's own, deleted at the end; nothing else is touched). Needs `wrk` (apt-get install wrk).
The evaluation rate is the worker's own pace, from the evaluated_at of the first intake it evaluated
to the last (its start-up and this script's polling left out): with the worker alone (after the
load) and, with --worker-during-load, beside gunicorn during the load; the load average is printed
beside each (other jobs on the same cores lower both). The line before the last reads exactly:
eval_alone_per_s=<n> eval_beside_gunicorn_per_s=<n or ->
The last line reads exactly: rps=<n> p50_ms=<n> p95_ms=<n> errors=<n>
"""
from __future__ import annotations

import argparse
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DB = "postgres://postgres@127.0.0.1:5432/cloudroute_bench"
DEFAULT_BROKER = "redis://127.0.0.1:6379/14"

WRK_SCRIPT = r"""
local counter = 0
local threads = {}
local body_template = '{"company_name": "Bench %s-%d", "website": "https://bench.example", "country": "US",'
  .. ' "founded_on": "2024-03-01", "contact_name": "Ada Park", "contact_email": "ada%s-%d@bench.example",'
  .. ' "stage": "seed", "total_raised_usd": "2500000", "funding_kind": "institutional_vc",'
  .. ' "investor_name": "Foundry Ventures", "investor_is_activate_provider": true, "use_case": "rag_search",'
  .. ' "monthly_requests": 400000, "avg_input_tokens": 1800, "avg_output_tokens": 300,'
  .. ' "models_of_interest": "Claude Haiku", "data_residency_region": "", "aws_account_id": ""}'

function setup(thread)
  thread:set("tid", tostring(#threads + 1) .. "-" .. tostring(os.time()))
  table.insert(threads, thread)
end

function request()
  counter = counter + 1
  local body = string.format(body_template, tid, counter, tid, counter)
  return wrk.format("POST", "/api/intakes/", {["Content-Type"] = "application/json"}, body)
end

function done(summary, latency, requests)
  local errors = summary.errors.status + summary.errors.connect + summary.errors.read
    + summary.errors.write + summary.errors.timeout
  io.write(string.format("WRK requests=%d duration_us=%d p50_us=%d p95_us=%d p99_us=%d errors=%d status_errors=%d\n",
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(95),
    latency:percentile(99), errors, summary.errors.status))
end
"""


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--duration", type=int, default=60)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--workers", type=int, default=2 * (os.cpu_count() or 1))
    # sync: one request per process. Threads in one process queue for the GIL after every database
    # and Redis round trip (up to the 5 ms switch interval each): gthread measured slower here.
    parser.add_argument("--worker-class", choices=["sync", "gthread"], default="sync")
    parser.add_argument("--threads", type=int, default=2, help="threads per gunicorn worker (gthread only)")
    parser.add_argument("--wrk-threads", type=int, default=2)
    parser.add_argument("--worker-during-load", action="store_true",
                        help="run the evaluating worker beside gunicorn during the load, not after it")
    parser.add_argument("--worker-nice", type=int, default=10,
                        help="niceness of the evaluating Celery worker (0: same priority as the web)")
    parser.add_argument("--worker-concurrency", type=int, default=2)
    parser.add_argument("--drain-timeout", type=int, default=600)
    return parser.parse_args()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def ensure_database(url: str, *, fresh: bool) -> None:
    """Creates the database if missing; `fresh` drops it first, so every run starts from the same rows."""
    import psycopg

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    admin = urlunsplit((parts.scheme.replace("postgresql", "postgres"), parts.netloc, "/postgres", "", ""))
    with psycopg.connect(admin.replace("postgres://", "postgresql://", 1), autocommit=True) as conn:
        if fresh:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')


def evaluation_counts(url: str) -> tuple[int, int]:
    """(intakes stored, intakes evaluated) in the benchmark's database."""
    import psycopg

    with psycopg.connect(url.replace("postgres://", "postgresql://", 1)) as conn:
        row = conn.execute("SELECT count(*), count(evaluated_at) FROM intake_intake WHERE company_name LIKE 'Bench %'").fetchone()
    return row[0], row[1]


def evaluation_rate(url: str, start: datetime, end: datetime | None = None) -> tuple[int, float | None]:
    """(intakes evaluated in [start, end), evaluations per second between the first and the last of
    them): the worker's own pace, without its start-up or this script's polling."""
    import psycopg

    with psycopg.connect(url.replace("postgres://", "postgresql://", 1)) as conn:
        count, first, last = conn.execute(
            "SELECT count(*), min(evaluated_at), max(evaluated_at) FROM intake_intake"
            " WHERE company_name LIKE 'Bench %%' AND evaluated_at >= %s AND evaluated_at < %s",
            [start, end or datetime(9999, 1, 1, tzinfo=timezone.utc)],
        ).fetchone()
    span = (last - first).total_seconds() if count > 1 else 0
    return count, ((count - 1) / span if span > 0 else None)


def _cpu_seconds(pid: int) -> float:
    """utime + stime of one process, 0 when it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def process_tree_cpu(pid: int) -> float:
    """CPU seconds used so far by a process and its children (the Celery worker and its pool)."""
    children = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            children += [int(c) for c in (task / "children").read_text().split()]
        except OSError:
            pass
    return _cpu_seconds(pid) + sum(process_tree_cpu(child) for child in children)


def backend_cpu(url: str) -> dict[int, float]:
    """CPU seconds used so far by each PostgreSQL server process connected to the benchmark's
    database, other than the one asking (PostgreSQL on this machine; /proc readable)."""
    import psycopg

    name = urlsplit(url).path.lstrip("/")
    with psycopg.connect(url.replace("postgres://", "postgresql://", 1)) as conn:
        pids = [row[0] for row in conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()", [name])]
    return {pid: _cpu_seconds(pid) for pid in pids}


def cpu_per_evaluation(marks) -> tuple[float, float] | None:
    """(worker ms, PostgreSQL ms) of CPU per evaluation between the two marks of the drain."""
    if len(marks) < 2 or marks[1][0] <= marks[0][0]:
        return None
    (n0, worker0, pg0), (n1, worker1, pg1) = marks
    postgres = sum(cpu - pg0.get(pid, 0.0) for pid, cpu in pg1.items())
    return 1000 * (worker1 - worker0) / (n1 - n0), 1000 * postgres / (n1 - n0)


def load_average() -> str:
    """The 1-, 5- and 15-minute load averages (others may share the cores: say so beside a figure)."""
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def delete_run_keys(url: str, run_name: str) -> None:
    """This run's queue (and its priority lists and binding) and its cache and rate-limit keys."""
    from core.redis import redis_client

    client = redis_client(url)
    keys = [*client.scan_iter(match=f"{run_name}*", count=1000), f"_kombu.binding.{run_name}",
            f"_kombu.binding_permanent.{run_name}"]
    for start in range(0, len(keys), 500):
        client.delete(*keys[start:start + 500])


def main() -> int:
    args = parse_args()
    if shutil.which("wrk") is None:
        print("wrk is not installed: apt-get install -y wrk", file=sys.stderr)
        return 1
    db_url = os.environ.get("DATABASE_URL", "")
    own_database = not db_url.startswith("postgres")
    if own_database:
        db_url = DEFAULT_DB
    ensure_database(db_url, fresh=own_database)
    broker = os.environ.get("CELERY_BROKER_URL", "")
    if not broker.startswith("redis"):
        broker = DEFAULT_BROKER
    # The Redis database may be shared: this run's queue and keys have a name of their own, nothing
    # else is read or deleted.
    run_name = f"cloudroute-bench-{uuid.uuid4().hex[:12]}"
    tmp = Path(tempfile.mkdtemp(prefix="cloudroute-bench-intake-"))
    env = os.environ.copy()
    env.update(
        DATABASE_URL=db_url + ("&" if "?" in db_url else "?") + "conn_max_age=600",
        CELERY_BROKER_URL=broker, CACHE_REDIS_URL=broker, RATE_LIMIT_REDIS_URL=broker,
        REDIS_KEY_PREFIX=run_name, CELERY_TASK_DEFAULT_QUEUE=run_name,
        DJANGO_SECRET_KEY=secrets.token_urlsafe(50),
        CLOUDROUTE_VAR_DIR=str(tmp), DJANGO_DEBUG="0", LOG_LEVEL="WARNING",
        INTAKE_RATE_LIMIT="1000000/min",  # one client address sends everything here
        EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend",  # console output is slow
        DJANGO_SETTINGS_MODULE="cloudroute.settings",
    )
    manage = [sys.executable, "manage.py"]
    subprocess.run([*manage, "migrate", "--noinput", "-v", "0"], cwd=ROOT, env=env, check=True)
    subprocess.run([*manage, "load_demo"], cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL)
    port = free_port()
    log_path = tmp / "gunicorn.log"
    log = open(log_path, "wb")
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "cloudroute.wsgi", "-b", f"127.0.0.1:{port}", "-w", str(args.workers),
         "-k", args.worker_class, *(["--threads", str(args.threads)] if args.worker_class == "gthread" else []),
         "--backlog", "2048", "--access-logfile", "/dev/null"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )
    worker_log = open(tmp / "worker.log", "wb")

    def start_worker() -> subprocess.Popen:
        nice = ["nice", "-n", str(args.worker_nice)] if args.worker_during_load else []
        return subprocess.Popen(
            [*nice, sys.executable, "-m", "celery", "-A", "cloudroute", "worker",
             "--pool", "prefork", "-c", str(args.worker_concurrency), "--loglevel", "WARNING", "--without-gossip",
             "--without-mingle", "--without-heartbeat", "-n", f"bench-intake-{os.getpid()}@%h"],
            cwd=ROOT, env=env, stdout=worker_log, stderr=subprocess.STDOUT, start_new_session=True,
        )

    worker = start_worker() if args.worker_during_load else None
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(base + "/", timeout=2).read()
                break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    sys.stderr.write(log_path.read_text()[-3000:])
                    return 1
                time.sleep(0.2)
        script = tmp / "intake.lua"
        script.write_text(WRK_SCRIPT)
        # Warm every worker's imports and connections, then measure.
        subprocess.run(["wrk", "-t1", "-c4", "-d3s", "-s", str(script), base], check=True, capture_output=True)
        load_started_at = datetime.now(timezone.utc)
        out = subprocess.run(
            ["wrk", f"-t{args.wrk_threads}", f"-c{args.connections}", f"-d{args.duration}s", "--timeout", "10s",
             "-s", str(script), base],
            check=True, capture_output=True, text=True,
        ).stdout
        load_ended = time.monotonic()
        load_ended_at = datetime.now(timezone.utc)
        load_during = load_average()
        received, evaluated_at_end = evaluation_counts(db_url)
        server.terminate()  # the web tier is done; the worker has the machine to itself now
        if worker is None:
            worker = start_worker()
        cpu_marks = []  # (evaluated, worker CPU s, PostgreSQL CPU s by backend) at 10% and 90% of the drain
        while True:
            received, evaluated = evaluation_counts(db_url)
            done = evaluated - evaluated_at_end
            if len(cpu_marks) < 2 and done >= (0.1, 0.9)[len(cpu_marks)] * (received - evaluated_at_end):
                cpu_marks.append((evaluated, process_tree_cpu(worker.pid), backend_cpu(db_url)))
            if evaluated >= received or time.monotonic() - load_ended > args.drain_timeout:
                break
            time.sleep(0.5)
        drain_s = time.monotonic() - load_ended
        load_after = load_average()
    finally:
        running = [p for p in (server, worker) if p is not None]
        for process in running:
            process.terminate()
        for process in running:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:  # a worker still busy with queued emails: stop it hard
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=10)
        log.close()
        worker_log.close()
        shutil.rmtree(tmp, ignore_errors=True)
        delete_run_keys(broker, run_name)
    print(out.strip())
    during = (f"during the load (worker beside gunicorn at nice {args.worker_nice})" if args.worker_during_load
              else "during the load (worker started after it)")
    print(f"evaluated {evaluated_at_end} of {received} intakes {during}; all {evaluated} after {drain_s:.1f} s more "
          f"with -c {args.worker_concurrency} ({(evaluated - evaluated_at_end) / drain_s:.1f} evaluations/s after the "
          f"load)")
    if evaluated < received:
        print(f"NOT ALL EVALUATED: {received - evaluated} still waiting after {args.drain_timeout} s", file=sys.stderr)
    beside, beside_rate = evaluation_rate(db_url, load_started_at, load_ended_at)
    alone, alone_rate = evaluation_rate(db_url, load_ended_at)
    if args.worker_during_load:
        print(f"evaluation beside gunicorn (worker at nice {args.worker_nice}): {beside} intakes, "
              f"{_rate(beside_rate)}/s; load average at the end of the load {load_during}")
    print(f"evaluation with the worker alone: {alone} intakes, {_rate(alone_rate)}/s from the first to the last; "
          f"load average at the end {load_after}")
    cpu = cpu_per_evaluation(cpu_marks)
    if cpu:
        cores = os.cpu_count() or 1
        print(f"CPU per evaluation with the worker alone (10% to 90% of the drain): worker {cpu[0]:.1f} ms, "
              f"PostgreSQL {cpu[1]:.1f} ms; {cores} idle cores would take {cores * 1000 / sum(cpu):.0f}/s "
              "if nothing else used them (Redis and the kernel left out)")
    print(f"eval_alone_per_s={_rate(alone_rate)} eval_beside_gunicorn_per_s="
          f"{_rate(beside_rate) if args.worker_during_load else '-'}")
    figures = dict(re.findall(r"(\w+)=(\d+)", out.split("WRK", 1)[1]))
    rps = int(figures["requests"]) / (int(figures["duration_us"]) / 1e6)
    threads = f" --threads {args.threads}" if args.worker_class == "gthread" else ""
    print(f"gunicorn -w {args.workers} -k {args.worker_class}{threads}; wrk -c{args.connections} "
          f"-d{args.duration}s on {os.cpu_count()} cores; db {db_url.rsplit('/', 1)[-1]}")
    print(f"rps={rps:.1f} p50_ms={int(figures['p50_us']) / 1000:.1f} p95_ms={int(figures['p95_us']) / 1000:.1f} "
          f"errors={figures['errors']}")
    return 0


def _rate(rate: float | None) -> str:
    return "-" if rate is None else f"{rate:.1f}"


if __name__ == "__main__":
    sys.exit(main())
