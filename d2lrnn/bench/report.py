"""The benchmark's reports: the Markdown table, the chart, the JSON, and publishing to ``docs/``."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

from ..backends import LABELS
from .config import FLOOR, KINDS, MAX_OVERHEAD, MAX_PERPLEXITY, PAGE_END, PAGE_START, PERPLEXITY_EPOCHS, TARGETS


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
    from ..plot import new_figure

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
