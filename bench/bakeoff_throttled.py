"""The bake-off benchmark (bench/bakeoff.py) with the sandbox throttling 30% of calls. Every pair
must complete, and the wall time stay within 1.5x of the bound for the extra attempts:
ceil(cases / 0.7 / concurrency) x latency. A throttled call gives its concurrency slot back while
it backs off, so the quota is never idle while calls wait.

    python bench/bakeoff_throttled.py [any bench/bakeoff.py option]   # --throttle-rate 0.3 by default

The last line reads exactly: wall_s=<seconds> bound_s=<seconds> ratio=<wall/bound> lost=<pairs>
"""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import bakeoff  # noqa: E402


def main() -> int:
    argv = sys.argv[1:]
    if not any(a.startswith("--throttle-rate") for a in argv):
        argv = ["--throttle-rate", "0.3", *argv]
    figures = bakeoff.run(bakeoff.parse_args(argv))
    if figures is None:
        return 1
    print(f"wall_s={figures['wall_s']:.2f} bound_s={figures['bound_s']:.2f} ratio={figures['ratio']:.2f} "
          f"lost={figures['lost']}")
    return 0 if figures["lost"] == 0 and figures["ratio"] <= 1.5 else 2


if __name__ == "__main__":
    sys.exit(main())
