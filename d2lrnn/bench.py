"""The comparative benchmark (``d2lrnn bench``, ``scripts/benchmark.py``).

For every backend and model kind (``concise``, ``scratch``) and for the bare framework floor
(:mod:`d2lrnn.bench_floor`), each repeat runs in a fresh process (:mod:`d2lrnn.bench_worker`). This
module imports no framework: it starts the workers, reduces their measurements, checks them against
the targets of issue 4 and writes ``results.json``, ``results.md`` and ``results.png``.

How the numbers are reduced (also written into the results page):

* tokens/s of one repeat: the median over its epochs of ``tokens / seconds`` of the training loop,
  leaving out the first epoch (warm-up: lazy building, graph tracing, allocator);
  the reported tokens/s is the median over repeats of those;
* perplexity, wall time and time to first batch: medians over repeats; peak RSS: the largest;
* overhead (concise model only): ``1 - library tokens/s / floor tokens/s``.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from .backends import NAMES, canonical_name, is_installed

KINDS = ("concise", "scratch")
FLOOR = "floor"
#: tokens/s targets for the concise model on 2 CPU cores, and d2l's own implementation (issue 4)
TARGETS = {"torch": 120_000, "mxnet": 100_000, "tensorflow": 80_000}
D2L_REFERENCE = {"torch": 99_000, "mxnet": 81_000, "tensorflow": 10_800}
MAX_OVERHEAD = 0.10
SCRATCH_RATIO = 0.5
MAX_PERPLEXITY = 1.4
PERPLEXITY_EPOCHS = 500
LABELS = {"torch": "PyTorch", "mxnet": "MXNet", "tensorflow": "TensorFlow"}
FRAMEWORK_DISTS = {"torch": ("torch",), "mxnet": ("mxnet",), "tensorflow": ("tensorflow", "tensorflow-cpu"),
                   "keras": ("keras",), "tf_keras": ("tf_keras", "tf-keras"), "numpy": ("numpy",)}
PAGE_START, PAGE_END = "<!-- bench:start -->", "<!-- bench:end -->"
REPO_ROOT = Path(__file__).resolve().parent.parent

Log = Callable[[str], None]


@dataclass
class BenchConfig:
    """What to measure; the defaults are the seed hyperparameters of issue 4."""

    backends: list[str] = field(default_factory=lambda: list(NAMES))
    models: list[str] = field(default_factory=lambda: list(KINDS))
    floor: bool = True
    epochs: int = 20
    repeats: int = 3
    batch_size: int = 32
    num_steps: int = 35
    num_hiddens: int = 256
    lr: float = 1.0
    clip: float = 1.0
    max_tokens: int = 10000
    device: str = "cpu"
    data_dir: str | None = None
    corpus: str | None = None
    threads: int | None = None
    timeout: float = 3600.0

    def seed_hyperparameters(self) -> bool:
        """Whether the speed targets apply (they are stated for the seed hyperparameters on the CPU)."""
        return (self.batch_size, self.num_steps, self.num_hiddens, self.lr, self.clip, self.max_tokens,
                self.device, self.corpus) == (32, 35, 256, 1.0, 1.0, 10000, "cpu", None)


# --- maths ---------------------------------------------------------------------------------
def median(values: Iterable[float | None]) -> float | None:
    """The median of the values that are not None (None when there are none)."""
    kept = [float(v) for v in values if v is not None]
    return statistics.median(kept) if kept else None


def repeat_rate(epochs: Sequence[dict[str, float]], warmup: int = 1) -> float | None:
    """tokens/s of one repeat: the median over epochs of ``tokens / seconds``, the first ``warmup`` dropped.

    With no epoch past the warm-up the warm-up epochs are used rather than nothing.
    """
    kept = list(epochs[warmup:]) or list(epochs)
    return median(e["tokens"] / e["seconds"] for e in kept if e["seconds"] > 0)


def overhead(library: float | None, floor: float | None) -> float | None:
    """The library's share of time over the floor: ``1 - library / floor`` (negative when faster)."""
    if not library or not floor:
        return None
    return 1.0 - library / floor


def combine(runs: Sequence[dict[str, Any]], warmup: int = 1) -> dict[str, Any]:
    """Reduce the worker results of one (backend, model) over repeats."""
    ok = [r for r in runs if r.get("status") == "ok"]
    if not ok:
        bad = runs[0] if runs else {}
        return {"status": bad.get("status", "failed"), "reason": bad.get("reason", "no run")}
    rates = [repeat_rate(r["epochs"], warmup) for r in ok]
    return {
        "status": "ok",
        "tokens_per_sec": median(rates),
        "repeat_tokens_per_sec": rates,
        "perplexity": median(r["perplexity"] for r in ok),
        "wall_s": median(r["wall_s"] for r in ok),
        "first_batch_s": median(r.get("first_batch_s") for r in ok),
        "peak_rss_mib": max(r["peak_rss_mib"] for r in ok),
        "framework_version": ok[0].get("framework_version"),
        "device": ok[0].get("device"),
        "repeats": len(ok),
        "failed_repeats": len(runs) - len(ok),
        "epochs": len(ok[0]["epochs"]),
    }


def check_rows(rows: list[dict[str, Any]], config: BenchConfig) -> list[dict[str, Any]]:
    """Attach floor tokens/s, overhead, the targets and ``checks`` (name, target, value, met) to every row."""
    by_key = {(r["backend"], r["model"]): r for r in rows}
    for row in rows:
        row["checks"] = []
        if row.get("status") != "ok" or row["model"] == FLOOR:
            row["met"] = None
            continue
        backend = row["backend"]
        floor = by_key.get((backend, FLOOR), {})
        row["floor_tokens_per_sec"] = floor.get("tokens_per_sec") if floor.get("status") == "ok" else None
        checks = row["checks"]
        if row["model"] == "concise":
            row["overhead"] = overhead(row["tokens_per_sec"], row["floor_tokens_per_sec"])
            row["target_tokens_per_sec"] = TARGETS.get(backend)
            row["d2l_tokens_per_sec"] = D2L_REFERENCE.get(backend)
            if config.seed_hyperparameters() and backend in TARGETS:
                checks.append({"name": "speed", "target": f">= {TARGETS[backend]:,} tokens/s",
                               "value": row["tokens_per_sec"], "met": row["tokens_per_sec"] >= TARGETS[backend]})
            if row["overhead"] is not None:
                checks.append({"name": "overhead", "target": f"<= {MAX_OVERHEAD:.0%} over the floor",
                               "value": row["overhead"], "met": row["overhead"] <= MAX_OVERHEAD})
        else:
            concise = by_key.get((backend, "concise"), {})
            if concise.get("status") == "ok":
                ratio = row["tokens_per_sec"] / concise["tokens_per_sec"]
                row["ratio_to_concise"] = ratio
                row["target_tokens_per_sec"] = SCRATCH_RATIO * concise["tokens_per_sec"]
                checks.append({"name": "scratch/concise", "target": f">= {SCRATCH_RATIO:g} x concise",
                               "value": ratio, "met": ratio >= SCRATCH_RATIO})
        if config.epochs >= PERPLEXITY_EPOCHS:
            checks.append({"name": "perplexity", "target": f"<= {MAX_PERPLEXITY} after {PERPLEXITY_EPOCHS} epochs",
                           "value": row["perplexity"], "met": row["perplexity"] <= MAX_PERPLEXITY})
        row["met"] = all(c["met"] for c in checks) if checks else None
    return rows


# --- running --------------------------------------------------------------------------------
def worker_command(backend: str, model: str, seed: int, config: BenchConfig) -> list[str]:
    """The command line of one measurement (the parent's ``time.time()`` is added when it starts)."""
    cmd = [sys.executable, "-m", "d2lrnn.bench_worker", "--backend", backend, "--model", model,
           "--epochs", str(config.epochs), "--batch-size", str(config.batch_size), "--num-steps", str(config.num_steps),
           "--num-hiddens", str(config.num_hiddens), "--lr", repr(config.lr), "--clip", repr(config.clip),
           "--max-tokens", str(config.max_tokens), "--seed", str(seed), "--device", config.device]
    if config.data_dir:
        cmd += ["--data-dir", config.data_dir]
    if config.corpus:
        cmd += ["--corpus", config.corpus]
    return cmd


def run_worker(backend: str, model: str, seed: int, config: BenchConfig) -> dict[str, Any]:
    """Run one measurement in a fresh process; a crash or a timeout is returned as ``status: failed``."""
    from .bench_worker import MARKER

    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO_ROOT), env.get("PYTHONPATH")) if p)
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    env.update(thread_env(config.threads))
    t0 = time.time()
    try:
        proc = subprocess.run([*worker_command(backend, model, seed, config), "--t0", repr(t0)], env=env,
                              capture_output=True, text=True, timeout=config.timeout)
    except subprocess.TimeoutExpired:
        return {"backend": backend, "model": model, "status": "failed", "reason": f"timed out after {config.timeout:g} s"}
    lines = [line for line in proc.stdout.splitlines() if line.startswith(MARKER)]
    if proc.returncode != 0 or not lines:
        tail = (proc.stderr.strip().splitlines() or ["(no output)"])[-1]
        return {"backend": backend, "model": model, "status": "failed",
                "reason": f"worker exited with status {proc.returncode}: {tail}"}
    return json.loads(lines[-1][len(MARKER):])


def thread_env(threads: int | None) -> dict[str, str]:
    """Environment variables that cap every framework's CPU threads (empty: the frameworks' defaults)."""
    if not threads:
        return {}
    names = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MXNET_CPU_WORKER_NTHREADS",
             "TF_NUM_INTRAOP_THREADS", "TF_NUM_INTEROP_THREADS")
    return {name: str(threads) for name in names}


def run_benchmark(config: BenchConfig, log: Log | None = None,
                  runner: Callable[[str, str, int, BenchConfig], dict[str, Any]] = run_worker) -> dict[str, Any]:
    """Measure everything ``config`` asks for; return the results dict that the writers take."""
    log = log or (lambda msg: print(msg, file=sys.stderr, flush=True))
    info = machine_info()
    models = list(config.models) + ([FLOOR] if config.floor else [])
    jobs = [(b, m) for b in config.backends for m in models]
    total, done = len(jobs) * config.repeats, 0
    rows: list[dict[str, Any]] = []
    start = time.perf_counter()
    for backend, model in jobs:
        if not is_installed(backend):
            rows.append({"backend": backend, "model": model, "status": "skipped", "reason": f"{backend} is not installed"})
            done += config.repeats
            log(f"[{done}/{total}] {backend} {model}: skipped ({backend} is not installed)")
            continue
        runs = []
        for repeat in range(config.repeats):
            result = runner(backend, model, repeat, config)
            runs.append(result)
            done += 1
            log(f"[{done}/{total}] {backend} {model} repeat {repeat + 1}/{config.repeats}: {_describe(result)}")
            if result.get("status") == "skipped":
                done += config.repeats - repeat - 1
                break
        rows.append({"backend": backend, "model": model, **combine(runs), "runs": runs})
    info["load_average_after"] = _loadavg()
    return {
        "machine": info,
        "config": asdict(config),
        "seed_hyperparameters": config.seed_hyperparameters(),
        "total_seconds": time.perf_counter() - start,
        "rows": check_rows(rows, config),
    }


def _describe(result: dict[str, Any]) -> str:
    if result.get("status") != "ok":
        return f"{result.get('status')} ({result.get('reason')})"
    rate = repeat_rate(result["epochs"])
    return f"{rate:,.0f} tokens/s, perplexity {result['perplexity']:.2f}, {result['wall_s']:.1f} s"


# --- machine --------------------------------------------------------------------------------
def _loadavg() -> list[float] | None:
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return None


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _version(dists: Sequence[str]) -> str | None:
    from importlib import metadata

    for dist in dists:
        try:
            return metadata.version(dist)
        except metadata.PackageNotFoundError:
            continue
    return None


def machine_info() -> dict[str, Any]:
    """CPU, cores, OS, Python and framework versions, date (no framework is imported)."""
    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:
        usable = os.cpu_count()
    return {
        "cpu": _cpu_model(),
        "cores": os.cpu_count(),
        "usable_cores": usable,
        "os": platform.platform(),
        "python": platform.python_version(),
        "versions": {name: _version(dists) for name, dists in FRAMEWORK_DISTS.items()},
        "date": _dt.datetime.now(_dt.timezone.utc).replace(microsecond=0).isoformat(),
        "load_average_before": _loadavg(),
        "gpu": _gpu_name(),
    }


def _gpu_name() -> str | None:
    """The first NVIDIA GPU's name from ``nvidia-smi``, if there is one."""
    if not shutil.which("nvidia-smi"):
        return None
    try:
        out = subprocess.run(["nvidia-smi", "--query-gpu=name", "--format=csv,noheader"], capture_output=True,
                             text=True, timeout=20).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    return out.splitlines()[0] if out else None


# --- writers --------------------------------------------------------------------------------
def _k(value: float | None) -> str:
    if value is None:
        return "–"
    return f"{value / 1000:.1f}k" if value < 100_000 else f"{value / 1000:.0f}k"


def _num(value: float | None, fmt: str) -> str:
    return "–" if value is None else format(value, fmt)


def _target_text(row: dict[str, Any], config: dict[str, Any]) -> str:
    if row["model"] == FLOOR:
        return "baseline"
    if row["model"] == "concise":
        parts = []
        if row.get("target_tokens_per_sec") and any(c["name"] == "speed" for c in row["checks"]):
            parts.append(f"≥ {_k(row['target_tokens_per_sec'])}")
        parts.append(f"overhead ≤ {MAX_OVERHEAD:.0%}")
    else:
        parts = [f"≥ ½ concise ({_k(row.get('target_tokens_per_sec'))})"]
    if config["epochs"] >= PERPLEXITY_EPOCHS:
        parts.append(f"ppl ≤ {MAX_PERPLEXITY}")
    return ", ".join(parts)


def _short(reason: str, limit: int = 100) -> str:
    """The first sentence of ``reason``, at most ``limit`` characters, safe in a table cell."""
    first = reason.split(". ", 1)[0].replace("|", "/").replace("\n", " ")
    return first if len(first) <= limit else first[: limit - 1] + "…"


def _met_text(row: dict[str, Any]) -> str:
    if row["met"] is None:
        return "–"
    failed = [c["name"] for c in row["checks"] if not c["met"]]
    return "yes" if not failed else "no: " + ", ".join(failed)


def markdown_table(results: dict[str, Any]) -> str:
    """The results as one Markdown table (skipped and failed rows say why)."""
    head = ("| backend | model | tokens/s | floor tokens/s | overhead | perplexity | wall s | first batch s "
            "| peak RSS MiB | target | met? |")
    lines = [head, "|" + "---|" * head.count(" | ") + "---|"]
    for row in results["rows"]:
        label, model = LABELS.get(row["backend"], row["backend"]), row["model"]
        model_text = "floor (bare framework)" if model == FLOOR else model
        if row.get("status") != "ok":
            lines.append(f"| {label} | {model_text} | {row.get('status')}: {_short(row.get('reason', ''))} "
                         + "| " * 8 + "|")
            continue
        ovh = row.get("overhead")
        lines.append(
            f"| {label} | {model_text} | {_k(row['tokens_per_sec'])} | {_k(row.get('floor_tokens_per_sec'))} "
            f"| {'–' if ovh is None else f'{ovh:.0%}'} | {_num(row['perplexity'], '.2f')} | {_num(row['wall_s'], '.1f')} "
            f"| {_num(row['first_batch_s'], '.2f')} | {_num(row['peak_rss_mib'], '.0f')} "
            f"| {_target_text(row, results['config'])} | {_met_text(row)} |")
    return "\n".join(lines) + "\n"


def machine_text(results: dict[str, Any]) -> str:
    """One paragraph naming the machine, the versions and the run's settings."""
    m, c = results["machine"], results["config"]
    versions = ", ".join(f"{k} {v}" for k, v in m["versions"].items() if v)
    gpu = f" GPU: {m['gpu']}." if m.get("gpu") else ""
    load = m.get("load_average_before")
    return (f"Measured {m['date']} on {m['cpu']} ({m['usable_cores']} usable of {m['cores']} cores), {m['os']}, "
            f"Python {m['python']}; {versions}.{gpu} Load average before the run: "
            f"{', '.join(map(str, load)) if load else 'unknown'}. Settings: batch {c['batch_size']}, "
            f"{c['num_steps']} steps, {c['num_hiddens']} hidden, lr {c['lr']:g}, clip {c['clip']:g}, "
            f"{c['max_tokens']} training tokens{' of ' + c['corpus'] if c.get('corpus') else ''}, sequential sampling, "
            f"device {c['device']}, threads {c.get('threads') or 'framework default'}; "
            f"{c['epochs']} epochs x {c['repeats']} repeats per row, each repeat a fresh process."
            + "".join(f"\n\n**Caution:** {w}" for w in warnings(results)))


def warnings(results: dict[str, Any]) -> list[str]:
    """What makes a run's speeds unreliable: a busy machine, or a quick run."""
    m, c = results["machine"], results["config"]
    out = []
    cores = m.get("usable_cores") or 1
    before, after = (m.get(k) or [0.0] for k in ("load_average_before", "load_average_after"))
    # before the run, other work shows directly; after it, the benchmark's own load (up to the
    # cores it uses) is included, so only load beyond that counts
    if before[0] > 0.75 * cores or after[0] > cores + 0.5:
        out.append(f"the machine was busy (1-minute load average {before[0]:g} before and {after[0]:g} after the "
                   f"run on {cores} usable cores); the speeds are not reliable.")
    if c["epochs"] < 10 or (c["repeats"] < 3 and c["epochs"] < 100):
        out.append(f"a quick run ({c['epochs']} epochs x {c['repeats']} repeats), not the full benchmark.")
    return out


METHOD = f"""\
How to read it: **tokens/s** is the median over repeats of each repeat's median over epochs of
`tokens / seconds` of the training loop (the Trainer's per-epoch numbers), leaving out the first
epoch of each repeat (warm-up: lazy building, tracing, hybridizing). **floor** is the bare framework
floor (`d2lrnn/bench_floor.py`): the framework's RNN layer and output layer, forward, cross-entropy,
backward, global-norm clipping and SGD update on tensors built up front, with no library code around
it, at the adapter's compile level (PyTorch eager, MXNet hybridized, TensorFlow `tf.function`).
**overhead** = 1 − library / floor (concise model only; negative means faster than the floor).
**perplexity** is the final training perplexity (median over repeats); it is checked against
{MAX_PERPLEXITY} only for runs of {PERPLEXITY_EPOCHS} epochs or more. **wall s** is the whole worker
process; **first batch s** runs from just before the process starts (interpreter start, imports,
data, model) to the end of the first training step (synchronised); both are medians over repeats.
**peak RSS** is the worker's `ru_maxrss`, the largest over repeats. Speed targets apply only to the
seed hyperparameters on the CPU; the scratch target is half the concise model's measured speed.
"""


def markdown_report(results: dict[str, Any], image: str | None = "results.png") -> str:
    """The Markdown body: machine, table, chart and method."""
    parts = [machine_text(results), "", markdown_table(results)]
    if image:
        parts += [f"![tokens/s per backend]({image})", ""]
    parts.append(METHOD)
    return "\n".join(parts)


def write_json(results: dict[str, Any], path: str | os.PathLike) -> Path:
    path = Path(path)
    path.write_text(json.dumps(results, indent=2, default=float) + "\n")
    return path


def write_markdown(results: dict[str, Any], path: str | os.PathLike, image: str | None = "results.png") -> Path:
    path = Path(path)
    path.write_text("# d2lrnn benchmark\n\n" + markdown_report(results, image))
    return path


def write_plot(results: dict[str, Any], path: str | os.PathLike) -> Path:
    """A grouped bar chart of tokens/s per backend (concise, scratch, floor), with target markers."""
    from .plot import new_figure

    rows = {(r["backend"], r["model"]): r for r in results["rows"]}
    backends = list(dict.fromkeys(r["backend"] for r in results["rows"]))
    series = [m for m in (*KINDS, FLOOR) if any(k[1] == m for k in rows)]
    colors = {"concise": "tab:blue", "scratch": "tab:orange", FLOOR: "tab:gray"}
    width = 0.8 / max(1, len(series))
    fig, ax = new_figure((8, 4))
    show_targets = results.get("seed_hyperparameters", True)
    for i, model in enumerate(series):
        xs = [j + (i - (len(series) - 1) / 2) * width for j in range(len(backends))]
        label = "floor (bare framework)" if model == FLOOR else model
        for x, backend in zip(xs, backends):
            row = rows.get((backend, model), {})
            if row.get("status") == "ok":
                bar = ax.bar([x], [row["tokens_per_sec"] / 1000], width, color=colors[model], label=label)
                ax.bar_label(bar, fmt="%.0f", fontsize=7, padding=2)
                label = None  # one legend entry per series
            else:
                ax.text(x, 0, f" {row.get('status', 'n/a')}", rotation=90, ha="center", va="bottom", fontsize=7,
                        color="gray")
            if model == "concise" and show_targets and backend in TARGETS:
                ax.plot([x - width / 2, x + width / 2], [TARGETS[backend] / 1000] * 2, color="red", lw=2,
                        label="target (concise)" if backend == next(b for b in backends if b in TARGETS) else None)
    ax.set_xticks(range(len(backends)), [LABELS.get(b, b) for b in backends])
    ax.set_ylabel("training tokens/s (thousands)")
    m = results["machine"]
    ax.set_title(f"d2lrnn, {results['config']['epochs']} epochs x {results['config']['repeats']} repeats, "
                 f"{m['usable_cores']} cores", fontsize=9)
    ax.grid(True, axis="y", alpha=0.3)
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    fig.tight_layout()
    fig.savefig(path)
    return Path(path)


def write_all(results: dict[str, Any], out: str | os.PathLike) -> dict[str, Path]:
    """``results.json``, ``results.md`` and ``results.png`` in ``out`` (created)."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    return {"json": write_json(results, out / "results.json"), "md": write_markdown(results, out / "results.md"),
            "png": write_plot(results, out / "results.png")}


PAGE_TEMPLATE = f"""# Benchmark results

The comparative benchmark of the three backends (issue 4). Regenerate this page with

```bash
d2lrnn bench --publish docs/        # or: python scripts/benchmark.py --publish docs/
```

{PAGE_START}
{PAGE_END}
"""


def publish(results: dict[str, Any], docs: str | os.PathLike, files: dict[str, Path]) -> Path:
    """Copy the chart and JSON to ``docs/bench/`` and put the latest table into ``docs/results.md``.

    Only the part between the ``bench:start`` / ``bench:end`` markers is replaced (``bench-gpu:``
    ones for a ``--device gpu`` run, so a GPU run sits beside the CPU one); the page is created
    from a template when it does not exist.
    """
    docs = Path(docs)
    (docs / "bench").mkdir(parents=True, exist_ok=True)
    gpu = results["config"].get("device") == "gpu"
    stem = "results-gpu" if gpu else "results"
    start, end = (PAGE_START.replace("bench:", "bench-gpu:"), PAGE_END.replace("bench:", "bench-gpu:")) if gpu \
        else (PAGE_START, PAGE_END)
    shutil.copyfile(files["png"], docs / "bench" / f"{stem}.png")
    shutil.copyfile(files["json"], docs / "bench" / f"{stem}.json")
    page = docs / "results.md"
    text = page.read_text() if page.exists() else PAGE_TEMPLATE
    if start not in text or end not in text:
        text = text.rstrip("\n") + f"\n\n{start}\n{end}\n"
    before, rest = text.split(start, 1)
    after = rest.split(end, 1)[1]
    body = markdown_report(results, f"bench/{stem}.png") + f"\nRaw numbers: [bench/{stem}.json](bench/{stem}.json).\n"
    page.write_text(f"{before}{start}\n{body}{end}{after}")
    return page


# --- command line ---------------------------------------------------------------------------
def _names(text: str, allowed: Sequence[str], canon: Callable[[str], str] = str.strip) -> list[str]:
    names = [canon(t.strip()) for t in text.split(",") if t.strip()]
    bad = [n for n in names if n not in allowed]
    if bad or not names:
        raise argparse.ArgumentTypeError(f"choose from {', '.join(allowed)} (comma separated), got {text!r}")
    return list(dict.fromkeys(names))


def _backend_names(text: str) -> list[str]:
    from .errors import D2LRNNError

    def canon(name: str) -> str:
        try:
            return canonical_name(name)
        except D2LRNNError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None

    return _names(text, NAMES, canon)


def _at_least(minimum: int) -> Callable[[str], int]:
    def convert(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            value = minimum - 1
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be a whole number >= {minimum}, got {text!r}")
        return value

    return convert


def configure(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """Add the benchmark's options to ``parser``."""
    d = BenchConfig()
    parser.add_argument("--backends", type=_backend_names, default=None,
                        help=f"comma-separated, from {', '.join(NAMES)} (default: all; missing ones are skipped)")
    parser.add_argument("--models", type=lambda t: _names(t, KINDS), default=list(KINDS),
                        help="comma-separated, from concise, scratch (default: both)")
    parser.add_argument("--no-floor", dest="floor", action="store_false", help="skip the bare framework floor")
    parser.add_argument("--epochs", type=_at_least(2), default=d.epochs,
                        help=f"epochs per repeat; the first is warm-up (default: {d.epochs}; "
                             f"{PERPLEXITY_EPOCHS} checks the perplexity target)")
    parser.add_argument("--repeats", type=_at_least(1), default=d.repeats,
                        help=f"fresh processes per row (default: {d.repeats})")
    parser.add_argument("--out", default="bench-results", metavar="DIR",
                        help="where results.json/.md/.png go (default: bench-results/)")
    parser.add_argument("--publish", metavar="DOCS_DIR",
                        help="also put the table and chart into DOCS_DIR/results.md and DOCS_DIR/bench/")
    parser.add_argument("--device", choices=("cpu", "gpu"), default="cpu",
                        help="cpu (default; the targets are for the CPU) or gpu")
    parser.add_argument("--threads", type=_at_least(1), default=None,
                        help="cap the frameworks' CPU threads (OMP/MKL/TF/MXNet variables); default: theirs")
    parser.add_argument("--data-dir", help="a folder that already holds timemachine.txt")
    parser.add_argument("--corpus", help=argparse.SUPPRESS)  # another text (tests); no targets then
    parser.add_argument("--json", action="store_true", help="end standard output with the results as JSON")
    # smaller sizes for tests and quick checks (the targets only apply to the defaults)
    for flag, typ, value in (("--batch-size", int, d.batch_size), ("--num-steps", int, d.num_steps),
                             ("--num-hiddens", int, d.num_hiddens), ("--max-tokens", int, d.max_tokens),
                             ("--lr", float, d.lr), ("--clip", float, d.clip), ("--timeout", float, d.timeout)):
        parser.add_argument(flag, type=typ, default=value, help=argparse.SUPPRESS)
    return parser


def config_from_args(args: argparse.Namespace) -> BenchConfig:
    return BenchConfig(backends=args.backends or list(NAMES), models=args.models, floor=args.floor,
                       epochs=args.epochs, repeats=args.repeats, batch_size=args.batch_size,
                       num_steps=args.num_steps, num_hiddens=args.num_hiddens, lr=args.lr, clip=args.clip,
                       max_tokens=args.max_tokens, device=args.device, data_dir=args.data_dir, corpus=args.corpus,
                       threads=args.threads, timeout=args.timeout)


def cmd_bench(args: argparse.Namespace) -> dict[str, Any]:
    """Run the benchmark and write (and optionally publish) its results."""
    config = config_from_args(args)
    results = run_benchmark(config)
    files = write_all(results, args.out)
    print(markdown_table(results), end="")
    print(f"wrote {', '.join(str(p) for p in files.values())}", file=sys.stderr)
    if args.publish:
        page = publish(results, args.publish, files)
        print(f"published to {page}", file=sys.stderr)
    return results


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """The ``d2lrnn bench`` subcommand (called by :func:`d2lrnn.cli.build_parser`)."""
    parser = subparsers.add_parser("bench", help="compare training speed, memory and overhead across backends",
                                   description="Compare training speed, memory and the library's overhead over the "
                                               "bare framework across backends (see docs/results.md).")
    configure(parser)
    parser.set_defaults(run=cmd_bench)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """``scripts/benchmark.py``: the same options as ``d2lrnn bench``."""
    from .cli import main as cli_main

    return cli_main(["bench", *(sys.argv[1:] if argv is None else argv)])
