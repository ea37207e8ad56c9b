"""The machine's limit for one benchmark row: the matrix products of a training step, timed alone.

One training step of a one-layer recurrent model over a batch of ``B`` sequences of ``T`` tokens
(hidden size ``H``, vocabulary ``V``, ``G`` gates: 1 RNN, 3 GRU, 4 LSTM) needs at least

- the input gather: ``B*T`` rows of the ``V x GH`` input weights (one-hot inputs times a matrix);
- per time step, two recurrent products that must wait for the step before: ``(B, H) @ (H, GH)``
  forward and ``(B, GH) @ (GH, H)`` for the state's gradient in the backward pass;
- the recurrent weights' gradient, which needs no step order: one ``(H, BT) @ (BT, GH)`` product
  over all steps (done step by step, as the frameworks' autodiff does, it is the same work in
  smaller, slower pieces);
- the output layer over all steps at once: ``(BT, H) @ (H, V)`` forward, ``(BT, V) @ (V, H)`` and
  ``(H, BT) @ (BT, V)`` backward.

Each product is timed alone at exactly these shapes, in a fresh process under the benchmark's thread
setting, by every engine at hand: NumPy's BLAS, and each installed backend's own matrix product
(the ``OPS.matmul`` its scratch model is written with, eagerly). Per product the fastest engine
counts; the step's seconds are the sum over products times their calls, and the limit is
``B*T / seconds`` tokens/s. Everything else a step does (activations, the loss, the update) is left
out, so no implementation can beat the limit without skipping work: a row's *fraction of the
limit* is its tokens/s over this number.

    python -m d2lrnn.bench.roofline [--hiddens 256,512,1024] [--cells rnn] [--token char] [--threads
    auto]
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from ..backends import NAMES, get_backend, is_installed, spec
from ..data import TimeMachine
from ..errors import D2LRNNError
from ..threads import apply_threads, start_threads, thread_env
from .config import BUSY, DEFAULT_THREADS, REPO_ROOT, SEED, condition_settings
from .machine import machine_info
from .report import busy_loads

MARKER = "D2LRNN-ROOFLINE "
NUMPY = "numpy"
#: the gates of each cell: how many ``H``-wide blocks its input and recurrent weights hold
GATES = {"rnn": 1, "gru": 3, "lstm": 4}
#: seconds each timing sample aims at, and samples per product (their median counts)
SAMPLE_S, SAMPLES = 0.03, 5


@dataclass(frozen=True)
class Shape:
    """What sets the work of one training step: batch, steps, hidden units, vocabulary, cell."""

    batch: int
    num_steps: int
    hidden: int
    vocab: int
    cell: str = "rnn"

    @property
    def key(self) -> str:
        return f"{self.cell}-b{self.batch}-t{self.num_steps}-h{self.hidden}-v{self.vocab}"


@dataclass(frozen=True)
class Product:
    """One product of a step: ``(m, k) @ (k, n)`` (``k = 0``: a gather of ``m`` rows of ``n`` from
    ``vocab``)."""

    name: str
    m: int
    k: int
    n: int
    calls: int

    @property
    def flops(self) -> int:
        return 2 * self.m * self.k * self.n


def products(shape: Shape) -> list[Product]:
    """The products one training step needs, with how often each runs."""
    b = shape.batch
    t = shape.num_steps
    h = shape.hidden
    v = shape.vocab
    gh = GATES[shape.cell] * h
    return [Product("input gather", b * t, 0, gh, 1),
            Product("recurrent forward", b, h, gh, t),
            Product("recurrent backward, state", b, gh, h, t),
            Product("recurrent backward, weights", h, b * t, gh, 1),
            Product("output forward", b * t, h, v, 1),
            Product("output backward, input", b * t, v, h, 1),
            Product("output backward, weights", h, b * t, v, 1)]


def best_times(measured: Iterable[dict[str, Any]]) -> dict[str, dict[str, dict[str, Any]]]:
    """Per shape key and product, the fastest engine's seconds per call: ``{key: {product: {seconds,
    engine}}}``."""
    best: dict[str, dict[str, dict[str, Any]]] = {}
    for run in measured:
        if run.get("status") != "ok":
            continue
        for key, times in run["shapes"].items():
            for name, seconds in times.items():
                kept = best.setdefault(key, {}).get(name)
                if seconds and (kept is None or seconds < kept["seconds"]):
                    best[key][name] = {"seconds": seconds, "engine": run["engine"]}
    return best


def step_time(shape: Shape, seconds: dict[str, float | None]) -> float | None:
    """Seconds of one step that did nothing but the products, given each product's seconds per call
    (None when one is missing)."""
    parts = products(shape)
    if any(seconds.get(p.name) is None for p in parts):
        return None
    return sum(seconds[p.name] * p.calls for p in parts)


def limit(shape: Shape, seconds: dict[str, float]) -> float | None:
    """Tokens/s of a step that did nothing but the products, given each product's seconds per call.
    """
    total = step_time(shape, seconds)
    return shape.batch * shape.num_steps / total if total else None


def step_seconds(roofline: dict[str, Any], key: str, engine: str | None = None) -> float | None:
    """:func:`step_time` at shape ``key``: each product at its fastest engine, or at ``engine``'s
    own product (the gather, timed by NumPy alone, at its fastest); None if unmeasured."""
    entry = roofline.get("shapes", {}).get(key)
    if not entry:
        return None
    seconds = {name: found["seconds"] for name, found in entry["products"].items()}
    if engine is not None:
        own = next((r["shapes"].get(key) for r in roofline.get("raw", [])
                    if r.get("engine") == engine), None)
        if not own:
            return None
        seconds.update((name, value) for name, value in own.items() if name in seconds)
        seconds.update((p.name, None) for p in products(Shape(**entry["shape"]))
                       if p.k and p.name not in own)
    return step_time(Shape(**entry["shape"]), seconds)


def summarise(shapes: Sequence[Shape], measured: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """The roofline of a run: per shape its limit, the fastest engine per product, and every
    engine's times."""
    best = best_times(measured)
    out = {}
    for shape in shapes:
        chosen = best.get(shape.key, {})
        rate = limit(shape, {name: c["seconds"] for name, c in chosen.items()})
        out[shape.key] = {"shape": asdict(shape), "limit_tokens_per_sec": rate, "products": chosen}
    return {
        "shapes": out,
        "engines": [
            {k: r.get(k) for k in ("engine", "status", "reason", "threads", "version")}
            for r in measured
        ],
        "raw": [r for r in measured if r.get("status") == "ok"],
    }


# --- timing (in the measuring process)
# ---------------------------------------------------------------
def time_call(
    call: Callable[[], Any],
    finish: Callable[[Any], Any],
    clock: Callable[[], float] = time.perf_counter,
    sample_s: float = SAMPLE_S,
    samples: int = SAMPLES,
) -> float:
    """Seconds per call of ``call``: the median over ``samples`` of a run of calls lasting about
    ``sample_s``.

    ``finish(result)`` waits for the last result of a run (asynchronous frameworks queue their
    work).
    """
    finish(call())  # warm-up: first-call allocation and dispatch set-up
    start = clock()
    finish(call())
    once = max(clock() - start, 1e-7)
    n = max(1, int(sample_s / once))
    times = []
    for _ in range(samples):
        start = clock()
        for _ in range(n):
            result = call()
        finish(result)
        times.append((clock() - start) / n)
    return statistics.median(times)


def _engine(
    name: str,
) -> tuple[Callable[[Any, Any], Any], Callable[[Any], Any], Callable[[Any], Any], str]:
    """``(matmul, to_engine, finish, version)`` of NumPy or of a backend's adapter (its scratch
    ``OPS``)."""
    if name == NUMPY:
        return np.matmul, lambda a: a, lambda r: r, np.__version__

    backend = get_backend(name)
    ops = getattr(importlib.import_module(f"{spec(name).module}.models"), "OPS", None)
    if ops is None:
        raise LookupError(f"the {name} adapter exposes no OPS.matmul")
    return ops.matmul, backend.tensor, backend.to_numpy, spec(name).version()


def time_shapes(engine: str, shapes: Sequence[Shape]) -> dict[str, dict[str, float]]:
    """Every product of every shape timed with ``engine``; the gather only with NumPy (it is
    memory-bound)."""
    matmul, to_engine, finish, _ = _engine(engine)
    rng = np.random.default_rng(0)
    out: dict[str, dict[str, float]] = {}
    for shape in shapes:
        times = out.setdefault(shape.key, {})
        for p in products(shape):
            if p.k == 0:
                if engine == NUMPY:
                    table = rng.standard_normal((shape.vocab, p.n), dtype=np.float32)
                    rows = rng.integers(0, shape.vocab, p.m)
                    times[p.name] = time_call(
                        lambda t=table, r=rows: np.take(t, r, axis=0), lambda r: r
                    )
                continue
            a = to_engine(rng.standard_normal((p.m, p.k), dtype=np.float32))
            b = to_engine(rng.standard_normal((p.k, p.n), dtype=np.float32))
            times[p.name] = time_call(lambda a=a, b=b: matmul(a, b), finish)
    return out


def measure(engine: str, shapes: Sequence[Shape], threads: Any = None) -> dict[str, Any]:
    """One engine's timings (``status`` ok, or skipped with the reason); call in a fresh process."""
    result: dict[str, Any] = {"engine": engine}
    try:
        # before the framework's import
        started = start_threads(threads, None if engine == NUMPY else engine)
        *_, version = _engine(engine)
        if engine != NUMPY:
            apply_threads(started, get_backend(engine))
        return {**result, "status": "ok", "threads": started, "version": version,
                "shapes": time_shapes(engine, shapes)}
    except Exception as exc:  # an engine that cannot run here is reported, not fatal
        return {**result, "status": "skipped", "reason": f"{type(exc).__name__}: {exc}"}


# --- running it from the benchmark (framework-free)
# ---------------------------------------------------
def engines() -> list[str]:
    """NumPy and every installed backend, from the registry."""
    return [NUMPY, *(n for n in NAMES if is_installed(n))]


def run_engine(
    engine: str, shapes: Sequence[Shape], threads: Any = None, timeout: float = 600
) -> dict[str, Any]:
    """:func:`measure` in a fresh process (as the benchmark's workers run)."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO_ROOT), env.get("PYTHONPATH")) if p)
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    for name in thread_env(1):
        env.pop(name, None)
    cmd = [sys.executable, "-m", "d2lrnn.bench.roofline", "--engine", engine,
           "--shapes", json.dumps([asdict(s) for s in shapes])]
    if threads is not None:
        cmd += ["--threads", str(threads)]
    try:
        proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return {"engine": engine, "status": "failed", "reason": f"timed out after {timeout:g} s"}
    lines = [line for line in proc.stdout.splitlines() if line.startswith(MARKER)]
    if proc.returncode != 0 or not lines:
        tail = (proc.stderr.strip().splitlines() or ["(no output)"])[-1]
        return {
            "engine": engine,
            "status": "failed",
            "reason": f"exited with status {proc.returncode}: {tail}",
        }
    return json.loads(lines[-1][len(MARKER):])


def measure_roofline(
    shapes: Sequence[Shape],
    threads: Any = None,
    names: Sequence[str] | None = None,
    log: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """Every engine in its own process over all ``shapes``; the summary of :func:`summarise`."""
    measured = []
    for engine in names or engines():
        measured.append(run_engine(engine, shapes, threads))
        if log:
            r = measured[-1]
            log(
                f"roofline: {engine} {r['status']}"
                + (f" ({r.get('reason')})" if r["status"] != "ok" else "")
            )
    return summarise(shapes, measured)


def config_shapes(config: Any, vocab: Callable[[str], int] | None = None) -> dict[str, Shape]:
    """The shape of every condition a benchmark run measures (``seed``, ``busy``, ``h1024``,
    ``word``, ``gru``...)."""
    vocab = vocab or (
        lambda token: vocab_size(token, config.max_tokens, config.data_dir, config.corpus)
    )
    conditions = dict.fromkeys([SEED, BUSY, DEFAULT_THREADS, *(j.condition for j in config.jobs()),
                                *(j.condition for j in config.scaling_jobs())])
    sizes: dict[str, int] = {}
    out = {}
    for condition in conditions:
        settings = condition_settings(condition, config)
        token = str(settings.get("token", "char"))
        if token not in sizes:
            sizes[token] = vocab(token)
        out[condition] = Shape(
            config.batch_size,
            config.num_steps,
            int(settings.get("num_hiddens", config.num_hiddens)),
            sizes[token],
            str(settings.get("cell", "rnn")),
        )
    return out


def for_config(config: Any, log: Callable[[str], None] | None = None,
               measure: Callable[..., dict[str, Any]] | None = None) -> dict[str, Any]:
    """The roofline of a benchmark run: every distinct shape measured once, and which condition has
    which."""
    if config.device != "cpu":  # the products would have to be timed on the device: not yet
        return {"shapes": {}, "conditions": {}, "engines": [], "raw": [],
                "note": f"not measured for device {config.device}"}
    shapes = config_shapes(config)
    unique = list({s.key: s for s in shapes.values()}.values())
    summary = (measure or measure_roofline)(unique, config.threads, None, log)
    return {**summary, "conditions": {c: s.key for c, s in shapes.items()}}


def table(roofline: dict[str, Any]) -> str:
    """Markdown: per shape, each product's best seconds per call, its engine, and the limit."""
    lines = [
        "| cell | batch | steps | hidden | vocabulary | product | calls per step | µs per call | "
        "GFLOP/s "
        "| engine |",
        "|---|---:|---:|---:|---:|---|---:|---:|---:|---|",
    ]
    for entry in roofline["shapes"].values():
        shape = Shape(**entry["shape"])
        for p in products(shape):
            found = entry["products"].get(p.name)
            if found is None:
                continue
            rate = f"{p.flops / found['seconds'] / 1e9:.1f}" if p.k else "–"
            lines.append(
                f"| {shape.cell} | {shape.batch} | {shape.num_steps} | {shape.hidden} | "
                f"{shape.vocab} "
                f"| {p.name} | {p.calls} | {found['seconds'] * 1e6:.1f} | {rate} | "
                f"{found['engine']} |"
            )
        rate = entry["limit_tokens_per_sec"]
        lines.append(
            f"| {shape.cell} | {shape.batch} | {shape.num_steps} | {shape.hidden} | {shape.vocab} "
            f"| **limit** | | | | **{rate:,.0f} tokens/s** |"
            if rate
            else "| | | | | | limit | | | | – |"
        )
    return "\n".join(lines) + "\n"


def stamped(
    summary: dict[str, Any], before: Sequence[float], after: Sequence[float], threads: Any
) -> str:
    """The table under a line naming the date, the machine, the engines' versions, the threads and
    the load."""
    m = machine_info()
    engines = ", ".join(
        f"{e['engine']} {e.get('version') or ''} ({e['status']})" for e in summary["engines"]
    )
    busy = busy_loads(before, after, m["usable_cores"] or 1)
    caution = (
        f" **Caution:** the machine was busy ({busy}); these times are not reliable."
        if busy
        else ""
    )
    return (
        f"<!-- generated by python -m d2lrnn.bench.roofline on {time.strftime('%Y-%m-%d')}; do not "
        "edit -->\n"
        f"Measured on {m['cpu']} ({m['usable_cores']} usable cores), threads "
        f"{threads or 'framework default'}; "
        f"engines: {engines}; load averages (1, 5 minutes) {before[0]:.2f}, {before[1]:.2f} before "
        "and "
        f"{after[0]:.2f}, {after[1]:.2f} after.{caution}\n\n" + table(summary)
    )


def vocab_size(
    token: str, max_tokens: int, data_dir: str | None = None, corpus: str | None = None
) -> int:
    """The vocabulary the benchmark's data module builds for these settings."""
    return len(TimeMachine(32, 35, num_train=max_tokens, num_val=0, token=token, corpus=corpus,
                           data_dir=data_dir).vocab)


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        prog="python -m d2lrnn.bench.roofline", description=__doc__.splitlines()[0]
    )
    p.add_argument(
        "--engine",
        help="measure this one engine and print one marked JSON line (the benchmark's use)",
    )
    p.add_argument("--shapes", help="JSON list of shapes, with --engine")
    p.add_argument(
        "--engines", help="comma-separated engines (default: numpy and every installed backend)"
    )
    p.add_argument("--hiddens", default="256,512,1024")
    p.add_argument("--cells", default="rnn")
    p.add_argument("--token", choices=("char", "word"), default="char")
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--num-steps", type=int, default=35)
    p.add_argument("--max-tokens", type=int, default=10000)
    p.add_argument("--data-dir")
    p.add_argument(
        "--threads", help="auto or a whole number (left out: each framework's own count)"
    )
    p.add_argument("--json", help="also write the summary here")
    p.add_argument(
        "--out", help="also write the Markdown table here, stamped with the date, machine and load"
    )
    args = p.parse_args(argv)
    if args.engine:
        shapes = [Shape(**s) for s in json.loads(args.shapes)]
        print(MARKER + json.dumps(measure(args.engine, shapes, args.threads)), flush=True)
        return 0

    try:
        vocab = vocab_size(args.token, args.max_tokens, args.data_dir)
        shapes = [Shape(args.batch_size, args.num_steps, int(h), vocab, cell)
                  for cell in args.cells.split(",") for h in args.hiddens.split(",")]
    except (D2LRNNError, KeyError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    names = args.engines.split(",") if args.engines else None
    before = os.getloadavg()
    summary = measure_roofline(
        shapes, args.threads, names, log=lambda m: print(m, file=sys.stderr, flush=True)
    )
    text = stamped(summary, before, os.getloadavg(), args.threads)
    print(text)
    if args.out:
        with open(args.out, "w") as f:
            f.write(text)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(summary, f, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
