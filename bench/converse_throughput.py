"""Throughput check (not a test): M models x C threads of Converse calls through boto3 against the
sandbox for D seconds; prints calls/s against the latency bound and CPU per call.

    python bench/converse_throughput.py [--in-process] [--quotas file|redis]
"""
import argparse
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cloudroute.settings")

import django  # noqa: E402

django.setup()

from bakeoff_jobs.converse import ConverseError, converse, make_client  # noqa: E402
from bakeoff_jobs.quotas import FileQuotaStore, RedisQuotaStore, model_slot  # noqa: E402
from bedrock_sandbox.config import SandboxConfig
from bedrock_sandbox.server import start_in_thread  # noqa: E402

MODELS = [
    "us.anthropic.claude-sonnet-4-5-20250929-v1:0",
    "us.anthropic.claude-haiku-4-5-20251001-v1:0",
    "us.meta.llama3-3-70b-instruct-v1:0",
    "us.meta.llama4-maverick-17b-instruct-v1:0",
]


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--models", type=int, default=4)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--latency-ms", type=float, default=200.0)
    parser.add_argument("--in-process", action="store_true", help="serve the sandbox from this process")
    parser.add_argument("--quotas", choices=["file", "redis"], help="wrap each call in model_slot()")
    args = parser.parse_args()

    server = None
    if args.in_process:
        handle = start_in_thread(SandboxConfig(latency_ms=args.latency_ms))
        url = handle.url
    else:
        port = free_port()
        server = subprocess.Popen(
            [sys.executable, str(ROOT / "manage.py"), "bedrock_sandbox", "--port", str(port),
             "--latency-ms", str(args.latency_ms)], cwd=ROOT, stdout=subprocess.DEVNULL,
        )
        url = f"http://127.0.0.1:{port}"
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.1).close()
                break
            except OSError:
                time.sleep(0.1)

    store = None
    if args.quotas == "file":
        store = FileQuotaStore(Path(tempfile.mkdtemp()) / "quotas.sqlite3")
    elif args.quotas == "redis":
        store = RedisQuotaStore(os.environ.get("RATE_LIMIT_REDIS_URL", "redis://127.0.0.1:6379/4"),
                                prefix=f"bench:{os.getpid()}:")

    models = MODELS[: args.models]
    client = make_client(endpoint_url=url, max_pool_connections=args.models * args.concurrency)
    counts = {"ok": 0, "error": 0}
    lock = threading.Lock()
    stop_at = time.monotonic() + args.seconds

    def call(model: str, n: int) -> None:
        converse(client, model_id=model, prompt=f"Question {n}: what is the answer?",
                 system_prompt="Be brief.", max_tokens=256, temperature=0.0)

    def worker(model: str, index: int) -> None:
        n = index * 1_000_000
        while time.monotonic() < stop_at:
            n += 1
            try:
                if store is None:
                    call(model, n)
                else:
                    with model_slot(store, model, limit=args.concurrency, lease_seconds=60,
                                    rpm=100_000, tpm=10_000_000, tokens=300):
                        call(model, n)
                outcome = "ok"
            except ConverseError:
                outcome = "error"
            with lock:
                counts[outcome] += 1

    call(models[0], -1)  # warm the client before timing
    server_cpu = cpu_seconds(server.pid) if server else 0.0
    cpu, wall = time.process_time(), time.perf_counter()
    threads = [threading.Thread(target=worker, args=(model, i)) for model in models for i in range(args.concurrency)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    server_cpu = (cpu_seconds(server.pid) - server_cpu) if server else 0.0
    if server:
        server.terminate()
        server.wait()

    total = counts["ok"] + counts["error"]
    bound = len(models) * args.concurrency / (args.latency_ms / 1000)
    print(f"sandbox: {'in-process thread' if args.in_process else 'separate process'}; "
          f"quotas: {args.quotas or 'none'}; {len(models)} models x {args.concurrency} threads, "
          f"{args.latency_ms:.0f} ms, {wall:.1f} s")
    print(f"calls: {total} ({counts['error']} errors) = {total / wall:.1f}/s vs bound {bound:.0f}/s "
          f"-> {bound / (total / wall):.2f}x the bound")
    print(f"client CPU {cpu:.2f} s = {cpu / total * 1000:.2f} ms/call; "
          f"server CPU {server_cpu:.2f} s = {server_cpu / total * 1000:.2f} ms/call")


if __name__ == "__main__":
    main()
