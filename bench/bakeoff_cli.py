"""The bake-off as a user runs it: the whole `manage.py bakeoff EVAL_FILE --models ... --json
--start-worker` process, from spawn to exit (interpreter start, upload, estimate, the worker's boot,
the run, the report, the worker's stop), against the local Converse sandbox, compared with the
physical bound of the run: ceil(cases / concurrency) × latency (the slowest model).

    python bench/bakeoff_cli.py [--cases 1000] [--models 4] [--concurrency 16] [--latency-ms 200]

Same workload as bench/bakeoff.py; the sandbox runs in this process, the command and its worker in
their own. Uses a temporary SQLite database and filesystem broker unless DATABASE_URL /
CELERY_BROKER_URL are set. Every line the command writes on stderr is shown with the second it
came (a coarse profile of the fixed costs). The last line reads exactly:
wall_s=<seconds> bound_s=<seconds> ratio=<wall/bound>
"""
from __future__ import annotations

import argparse
import json
import math
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import bakeoff  # noqa: E402

ROOT = bakeoff.ROOT


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cases", type=int, default=1000)
    parser.add_argument("--models", type=int, default=4, choices=range(2, len(bakeoff.MODELS) + 1))
    parser.add_argument("--concurrency", type=int, default=16, help="per model")
    parser.add_argument("--latency-ms", type=float, default=200.0)
    parser.add_argument("--timeout", type=float, default=300)
    parser.add_argument("--profile", metavar="FILE",
                        help="run the command under pyinstrument (pip install pyinstrument) and write its profile "
                             "as text to FILE (the profiler's overhead is in the wall time)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    tmp = Path(tempfile.mkdtemp(prefix="cloudroute-bench-cli-"))
    try:
        figures = bench(args, tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    if figures is None:
        return 1
    print(f"wall_s={figures['wall_s']:.2f} bound_s={figures['bound_s']:.2f} ratio={figures['ratio']:.2f}")
    return 0


def bench(args: argparse.Namespace, tmp: Path) -> dict | None:
    sandbox, model_ids = bakeoff.setup(args, tmp)
    eval_file = tmp / "bench.jsonl"
    eval_file.write_text(bakeoff.eval_lines(args.cases))
    env = {**os.environ, "BEDROCK_ENDPOINT_URL": sandbox.url}
    profiler = ["-m", "pyinstrument", "--show-all", "-o", str(Path(args.profile).resolve())] if args.profile else []
    command = [sys.executable, *profiler, "manage.py", "bakeoff", str(eval_file), "--models", ",".join(model_ids),
               "--max-tokens", "64", "--json", "--start-worker", "--timeout", str(args.timeout)]
    lines: list[tuple[float, str]] = []
    started = time.monotonic()
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    reader = threading.Thread(target=_stamp_lines, args=(process.stderr, started, lines), daemon=True)
    reader.start()
    try:
        out = process.stdout.read()
        process.wait(timeout=args.timeout + 60)
    finally:
        wall = time.monotonic() - started
        if process.poll() is None:
            process.kill()
        reader.join(timeout=5)
        _wait_for_worker_exit(lines)  # it stops on its own after the command; then the files can go
        sandbox.stop()
    for at, line in lines:
        print(f"  {at:6.2f}s  {line[:160]}")
    print(f"  {wall:6.2f}s  (exit {process.returncode})")
    bound = math.ceil(args.cases / args.concurrency) * args.latency_ms / 1000
    print(f"{args.cases} cases x {args.models} models, concurrency {args.concurrency}/model, latency "
          f"{args.latency_ms:.0f} ms; sandbox calls={sandbox.calls()}; db {os.environ['DATABASE_URL'].split(':')[0]}, "
          f"broker {os.environ.get('CELERY_BROKER_URL', 'filesystem')}")
    if process.returncode != 0:
        print("the command failed", file=sys.stderr)
        return None
    report = json.loads(out)
    pairs = args.cases * args.models
    if (report["run"]["pairs"], report["run"]["done"]) != (pairs, pairs):
        print(f"the report covers {report['run']['done']} of {pairs} pairs", file=sys.stderr)
        return None
    return {"wall_s": wall, "bound_s": bound, "ratio": wall / bound}


def _wait_for_worker_exit(lines: list, timeout: float = 30) -> None:
    pids = [int(m.group(1)) for _, line in lines if (m := re.search(r"worker started \(pid (\d+)\)", line))]
    deadline = time.monotonic() + timeout
    for pid in pids:
        while time.monotonic() < deadline:
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                break
            time.sleep(0.05)


def _stamp_lines(stream, started: float, lines: list) -> None:
    for raw in iter(stream.readline, b""):
        lines.append((time.monotonic() - started, raw.decode(errors="replace").rstrip()))


if __name__ == "__main__":
    sys.exit(main())
