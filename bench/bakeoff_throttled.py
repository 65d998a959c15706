"""The bake-off benchmark (bench/bakeoff.py) with the sandbox throttling 30% of calls, in both ways a
service throttles: at once, and only after the call's full latency (as a loaded service can). Every
pair must complete, and the wall time stay within 1.5x of the bound for the extra attempts:
ceil(cases / 0.7 / concurrency) x latency. A throttled call gives its turn and its concurrency slot
back while it backs off, and its backoff counts from the call's start, so the quota is never idle
while calls wait.

    python bench/bakeoff_throttled.py [any bench/bakeoff.py option]   # --throttle-rate 0.3 by default
    python bench/bakeoff_throttled.py --mode after-latency            # one mode only

Prints one line per mode, each reading exactly:
wall_s=<seconds> bound_s=<seconds> ratio=<wall/bound> lost=<pairs>
(throttled at once first, then after the latency; the line above each names its mode).
"""
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import bakeoff  # noqa: E402

MODES = {"at-once": [], "after-latency": ["--throttle-after-latency"]}


def main() -> int:
    argv = sys.argv[1:]
    if "--mode" not in argv:
        # Each mode in a process of its own: a benchmark sets up Django once, on its own temporary
        # database, and removes that database when it ends.
        codes = [subprocess.run([sys.executable, __file__, "--mode", mode, *argv]).returncode for mode in MODES]
        return max(codes)
    at = argv.index("--mode")
    modes = [argv[at + 1]]
    argv = argv[:at] + argv[at + 2:]
    if not any(a.startswith("--throttle-rate") for a in argv):
        argv = ["--throttle-rate", "0.3", *argv]
    status = 0
    for mode in modes:
        figures = bakeoff.run(bakeoff.parse_args([*argv, *MODES[mode]]))
        if figures is None:
            print(f"throttled {mode}: the run did not finish cleanly", file=sys.stderr)
            status = 1
            continue
        print(f"throttled {mode}: calls={figures['calls']}")
        print(f"wall_s={figures['wall_s']:.2f} bound_s={figures['bound_s']:.2f} ratio={figures['ratio']:.2f} "
              f"lost={figures['lost']}")
        if status == 0 and (figures["lost"] != 0 or figures["ratio"] > 1.5):
            status = 2
    return status


if __name__ == "__main__":
    sys.exit(main())
