"""Measure each adapter's fast paths one lever at a time (off vs on, same process, same data).

    python scripts/levers.py [--epochs 12] [--rounds 3] [--threads auto] [--hiddens 256,1024]
    [--token word]
                             [--backends jax] [--only unroll] [--out docs/generated/levers.md]

Every variant trains the seed configuration (batch 32, 35 steps, 256 hidden units, lr 1, clip 1,
10,000 tokens, sequential; ``--hiddens`` and ``--token`` change the size and the tokens) with the
library's Trainer; a variant's speed is the median over rounds
of the median per-epoch tokens/s after the first epoch. Variants alternate round by round so that
a change in the machine's load hits all of them alike.
"""

from __future__ import annotations

import argparse
import importlib
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import d2lrnn  # noqa: E402
from d2lrnn.backends import spec  # noqa: E402
from d2lrnn.backends.floor import LIBRARY, Lever, Variant  # noqa: E402
from d2lrnn.bench.config import BUSY_LOAD_SHARE  # noqa: E402
from d2lrnn.bench.report import busy_loads  # noqa: E402
from d2lrnn.threads import apply_threads, start_threads  # noqa: E402


def backend_levers(name: str, backend: Any) -> list[Lever]:
    """The levers the adapter declares (``levers`` in ``d2lrnn/backends/<name>/floor.py``), if any.
    """
    module = importlib.import_module(f"{spec(name).module}.floor")
    return module.levers(backend) if hasattr(module, "levers") else []


def measure(
    backend: Any, data: Any, kind: str, variant: Variant, epochs: int, num_hiddens: int = 256
) -> float:
    with variant.context(backend):
        backend.seed(0)
        model = (variant.model_class or getattr(backend, kind))(
            num_inputs=len(data.vocab), num_outputs=len(data.vocab), num_hiddens=num_hiddens, lr=1
        )
        history = d2lrnn.Trainer(max_epochs=epochs, gradient_clip_val=1, progress=False).fit(
            model, data
        )
    return statistics.median(s.tokens_per_sec for s in history[1:])


def verdict(ratios: list[float]) -> str:
    """library / other per round: all above 1 supports the library's choice, all below contradicts
    it."""
    if len(ratios) < 2:
        return "one round: no verdict"
    if min(ratios) > 1:
        return "keeps it"
    if max(ratios) < 1:
        return "reconsider"
    return "no difference"


def usable_cores() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def load_line(before: tuple[float, ...], after: tuple[float, ...], cores: int) -> str:
    """The load the table was measured at (1- and 5-minute averages), and the benchmark's caution if
    it was busy."""
    line = (f"Measured at load averages (1, 5 minutes) {before[0]:.2f}, {before[1]:.2f} before and "
            f"{after[0]:.2f}, {after[1]:.2f} after, on {cores} usable cores.")
    busy = busy_loads(before, after, cores)
    if busy:
        line += (
            f" **Caution:** the machine was busy ({busy}, above {BUSY_LOAD_SHARE:g} x {cores} "
            "cores); "
            "these speeds are not reliable."
        )
    return line


ONE = "LEVERS-TOKENS-PER-SEC "


def fresh_process(args: argparse.Namespace, name: str, hidden: int, env: dict[str, str]) -> float:
    """tokens/s of the library's ``--kind`` model in a fresh process under ``env`` (for levers read
    at import)."""
    cmd = [
        sys.executable,
        __file__,
        "--one",
        "--backends",
        name,
        "--kind",
        args.kind,
        "--hiddens",
        str(hidden),
        "--token",
        args.token,
        "--epochs",
        str(args.epochs),
        "--threads",
        args.threads,
    ]
    out = subprocess.run(
        cmd, env={**os.environ, **env}, capture_output=True, text=True, check=True
    ).stdout
    return float(next(line for line in out.splitlines() if line.startswith(ONE))[len(ONE):])


def env_rows(args: argparse.Namespace, name: str, hiddens: list[int]) -> list[str]:
    """One row per ``--env VAR=VALUE`` and size: fresh processes without it (the library) and with
    it, alternating."""
    rows = []
    for setting, hidden in ((e, h) for e in args.env for h in hiddens):
        var, _, value = setting.partition("=")
        joined = " ".join(filter(None, (os.environ.get(var, ""), value)))
        speeds: dict[str, list[float]] = {"library": [], "other": []}
        for _ in range(args.rounds):
            speeds["other"].append(fresh_process(args, name, hidden, {var: joined}))
            speeds["library"].append(fresh_process(args, name, hidden, {}))
        rows.append(
            row(
                name,
                f"environment {var}",
                args.kind,
                hidden,
                args.token,
                "without",
                "with " + value,
                speeds,
            )
        )
        print(rows[-1], file=sys.stderr, flush=True)
    return rows


def row(name: str, lever: str, kind: str, hidden: int, token: str, library: str, other: str,
        speeds: dict[str, list[float]]) -> str:
    ratios = [a / b for a, b in zip(speeds["library"], speeds["other"])]
    lib, oth = statistics.median(speeds["library"]), statistics.median(speeds["other"])
    return (
        f"| {name} | {lever} | {kind} | {hidden} | {token} | {library} | {lib:,.0f} | {other} | "
        f"{oth:,.0f} "
        f"| {', '.join(f'{r:.2f}x' for r in ratios)} | {verdict(ratios)} |"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--backends", default=",".join(d2lrnn.available_backends()))
    parser.add_argument("--epochs", type=int, default=12)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument(
        "--out",
        type=Path,
        help="also write the Markdown table here, and append it to the same name with _history",
    )
    parser.add_argument(
        "--threads", default="auto", help="the frameworks' CPU threads, N or auto (default: auto)"
    )
    parser.add_argument(
        "--hiddens", default="256", help="comma-separated hidden sizes (default: 256)"
    )
    parser.add_argument("--token", choices=("char", "word"), default="char")
    parser.add_argument("--only", default="", help="only the levers whose name contains this text")
    parser.add_argument(
        "--env",
        action="append",
        default=[],
        metavar="VAR=VALUE",
        help="a lever read at import (e.g. XLA_FLAGS=--flag): fresh processes with and without it, "
        "the value appended to the variable's own; repeatable",
    )
    parser.add_argument(
        "--kind", default="RNN", choices=("RNN", "RNNScratch"), help="the model of --env levers"
    )
    # one fresh-process measurement
    parser.add_argument("--one", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    try:
        hiddens = [int(h) for h in args.hiddens.split(",")]
    except ValueError:
        print(
            f"error: --hiddens takes whole numbers separated by commas, got {args.hiddens!r}",
            file=sys.stderr,
        )
        return 2
    # before any framework is imported (auto: sampled once, here)
    threads = start_threads(args.threads)
    data = d2lrnn.TimeMachine(batch_size=32, num_steps=35, num_val=0, seed=0, token=args.token)
    if args.one:
        backend = d2lrnn.get_backend(args.backends)
        apply_threads(threads, backend)
        print(
            ONE + repr(measure(backend, data, args.kind, LIBRARY, args.epochs, hiddens[0])),
            flush=True,
        )
        return 0
    load_before = os.getloadavg()
    rows = [
        "| backend | lever | model | hidden | tokens | library | tokens/s | other | tokens/s "
        "| library / other (per round) | verdict |",
        "|---|---|---|---:|---|---|---:|---|---:|---|---|",
    ]
    for name in args.backends.split(","):
        backend = d2lrnn.get_backend(name)
        apply_threads(threads, backend)
        rows += env_rows(args, name, hiddens)
        chosen = (
            [lever for lever in backend_levers(name, backend) if args.only in lever.name]
            if not args.env
            else []
        )
        for hidden, lever in ((h, lever) for lever in chosen for h in hiddens):
            speeds: dict[str, list[float]] = {"library": [], "other": []}
            for _ in range(args.rounds):
                for key, variant in (("other", lever.other), ("library", lever.library)):
                    speeds[key].append(
                        measure(backend, data, lever.kind, variant, args.epochs, hidden)
                    )
            rows.append(
                row(
                    name,
                    lever.name,
                    lever.kind,
                    hidden,
                    args.token,
                    lever.library.label,
                    lever.other.label,
                    speeds,
                )
            )
            print(rows[-1], file=sys.stderr, flush=True)
    stamp = (
        f"<!-- generated by scripts/levers.py on {time.strftime('%Y-%m-%d')}, {args.epochs} epochs "
        "x "
        f"{args.rounds} alternating rounds per variant, threads {threads or 'default'}, versions "
        f"{', '.join(f'{n} {spec(n).version()}' for n in args.backends.split(','))}; do not edit "
        "-->"
    )
    table = (
        "\n".join([stamp, *rows, "", load_line(load_before, os.getloadavg(), usable_cores())])
        + "\n"
    )
    print(table)
    if args.out:
        args.out.write_text(table)
        # every run stays on record: the page shows the latest, its history keeps them all
        history = args.out.with_name(f"{args.out.stem}_history{args.out.suffix}")
        with history.open("a") as handle:
            handle.write(f"\n## {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}\n\n{table}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
