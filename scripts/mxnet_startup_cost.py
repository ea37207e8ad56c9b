"""What ``d2lrnn_mxnet.pth`` adds to the start of every Python process where d2lrnn is installed.

Python's ``site`` module runs the file's one line at every interpreter start. This script starts
``--runs`` fresh interpreters with ``-S`` (so no ``.pth`` file runs by itself), imports ``site``,
and
times ``site.addpackage`` on the checkout's ``d2lrnn_mxnet.pth`` alone: reading the file and running
its one line, which puts one finder on ``sys.meta_path``. It also
checks that nothing beyond the standard library was imported. Under ``-S`` the modules that ``site``
would load anyway (``importlib.util``) are counted too, so the figure is an upper bound.

    python scripts/mxnet_startup_cost.py --runs 200

prints the median and 90th percentile with the machine, its load and the Python version (the
line ``docs/backends.md`` quotes).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PTH_DIR = ROOT / "d2lrnn" / "backends" / "mxnet"
PTH = "d2lrnn_mxnet.pth"

#: run in a fresh ``python -S``: the time of processing the .pth file, and what it left behind
PROBE = f"""
import json, site, sys, time
before = set(sys.modules)
start = time.perf_counter()
site.addpackage({str(PTH_DIR)!r}, {PTH!r}, set())
seconds = time.perf_counter() - start
finders = [type(f).__name__ for f in sys.meta_path]
new = sorted(m for m in set(sys.modules) - before if m.split(".")[0] in ("numpy", "d2lrnn", "mxnet"))
print(json.dumps({{"seconds": seconds, "finders": finders, "imported": new}}))
"""  # noqa: E501


def measure(runs: int) -> dict:
    """``runs`` fresh interpreters; the per-start seconds and what the last one reported."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    seconds, last = [], {}
    for i in range(runs):
        out = subprocess.run(
            [sys.executable, "-S", "-c", PROBE],
            capture_output=True,
            text=True,
            env=env,
            timeout=60,
            check=True,
        )
        last = json.loads(out.stdout.strip().splitlines()[-1])
        seconds.append(last["seconds"])
        print(f"\r{i + 1}/{runs} interpreters", end="", file=sys.stderr, flush=True)
    print(file=sys.stderr)
    return {"seconds": seconds, **{k: last[k] for k in ("finders", "imported")}}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--runs", type=int, default=100, help="fresh interpreters to time (default: 100)"
    )
    args = parser.parse_args(argv)
    if args.runs < 1:
        parser.error("--runs must be 1 or more")
    result = measure(args.runs)
    ms = sorted(s * 1000 for s in result["seconds"])
    p90 = ms[min(len(ms) - 1, int(0.9 * len(ms)))]
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    print(
        f"d2lrnn_mxnet.pth adds {statistics.median(ms):.3f} ms per interpreter start (median of "
        f"{len(ms)}; "
        f"90th percentile {p90:.3f} ms; upper bound: measured under python -S)"
    )
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} CPUs, {platform.platform()}; load "
        f"average {load}; "
        f"Python {platform.python_version()}"
    )
    print(f"finders after it: {', '.join(result['finders'])}; numpy/d2lrnn/mxnet modules imported: "
          f"{result['imported'] or 'none'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
