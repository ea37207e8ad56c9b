"""The benchmark's Markdown: the machine and its caution, the rows, the pairs, how cost grows."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..backends import LABELS
from .config import (
    BOOK,
    BUSY,
    BUSY_LOAD_SHARE,
    DEFAULT_THREADS,
    FLOOR,
    GATED_CELLS,
    HIDDEN_SIZES,
    MOONSHOT_TOKENS_PER_SEC,
    OVERHEAD_BOUNDS,
    SCALING,
    SEED,
    WORD,
    WORKERS_PREFIX,
)

MODEL_TEXT = {FLOOR: "floor (bare framework)", BOOK: "book (d2l 0.17.6)"}
CONDITION_TEXT = {SEED: "quiet", BUSY: "one core busy", WORD: "word tokens",
                  DEFAULT_THREADS: "quiet, framework's default threads"}
WORKERS_TEXT = (
    "The data-parallel rows (`d2lrnn bench --workers N`) train the concise model with each "
    "framework's own engine (docs/distributed.md); their tokens/s count the whole batch. On a "
    "CPU-only machine the workers share the same cores, so no speed-up is expected: the pair "
    '"N workers / one process" shows what the collectives and the extra processes cost.\n'
)
GPU_COMMAND = "d2lrnn bench --device gpu --threads auto --out bench-results/gpu --publish docs/"


def _k(value: float | None) -> str:
    if value is None:
        return "–"
    return f"{value / 1000:.1f}k" if value < 100_000 else f"{value / 1000:.0f}k"


def _num(value: float | None, fmt: str) -> str:
    return "–" if value is None else format(value, fmt)


def _label(backend: str) -> str:
    return LABELS.get(backend, backend)


def condition_text(condition: str) -> str:
    if condition.startswith("h") and condition[1:].isdigit():
        return f"{condition[1:]} hidden"
    if condition in GATED_CELLS:
        return f"quiet, {condition.upper()}"
    if condition.startswith(WORKERS_PREFIX) and condition[len(WORKERS_PREFIX):].isdigit():
        return f"quiet, {condition[len(WORKERS_PREFIX):]} data-parallel workers"
    return CONDITION_TEXT.get(condition, condition)


def _short(reason: str, limit: int = 100) -> str:
    """The first sentence of ``reason``, at most ``limit`` characters, safe in a table cell."""
    first = reason.split(". ", 1)[0].replace("|", "/").replace("\n", " ")
    return first if len(first) <= limit else first[: limit - 1] + "…"


# --- the machine and the caution --------------------------------------------------------------
def caution_rule(cores: int) -> str:
    return (
        "a run is marked busy when the 1-minute load average (before or after it) or the 5-minute "
        "load "
        f"average before it exceeds {BUSY_LOAD_SHARE:g} x usable cores (here "
        f"{BUSY_LOAD_SHARE * cores:g})"
    )


def busy_loads(
    before: Sequence[float] | None, after: Sequence[float] | None, cores: int
) -> str | None:
    """Why the machine counts as busy (the loads over the threshold, named), or None when it was
    quiet.

    Reads the 1-minute load before and after the run and the 5-minute load before it: a machine that
    was busy for the last minutes but idle for the last few seconds is still busy."""
    limit = BUSY_LOAD_SHARE * cores
    named = []
    for label, loads, index in (
        ("1-minute before", before, 0),
        ("1-minute after", after, 0),
        ("5-minute before", before, 1),
    ):
        if loads and len(loads) > index and loads[index] > limit:
            named.append(f"{label} {loads[index]:g}")
    return ", ".join(named) or None


def warnings(results: dict[str, Any]) -> list[str]:
    """What makes a run's speeds unreliable: a busy machine, or a quick run."""
    m, c = results["machine"], results["config"]
    cores = m.get("usable_cores") or 1
    out = []
    busy = busy_loads(m.get("load_average_before"), m.get("load_average_after"), cores)
    if busy:
        out.append(
            f"the machine was busy: load averages {busy}, above {BUSY_LOAD_SHARE:g} x {cores} "
            "usable cores; "
            "the speeds are not reliable."
        )
    if c["epochs"] < 5 or c["repeats"] < 3:
        out.append(
            f"a quick run ({c['epochs']} epochs x {c['repeats']} repeats), not the full benchmark."
        )
    return out


def machine_text(results: dict[str, Any]) -> str:
    """One paragraph naming the machine, the versions, the loads and the run's settings, then any
    caution."""
    m, c = results["machine"], results["config"]
    versions = ", ".join(f"{k} {v}" for k, v in m["versions"].items() if v)
    gpu = f" GPU: {m['gpu']}." if m.get("gpu") else ""
    loads = {
        k: ", ".join(map(str, m.get(k) or [])) or "unknown"
        for k in ("load_average_before", "load_average_after")
    }
    return (
        f"Measured {m['date']} on {m['cpu']} ({m['usable_cores']} usable of {m['cores']} cores), "
        f"{m['os']}, "
        f"Python {m['python']}; {versions}.{gpu} Load average (1, 5, 15 minutes) before the run: "
        f"{loads['load_average_before']}; after it (read {c.get('cooldown', 0):g} s after the last "
        "worker): "
        f"{loads['load_average_after']}. Settings: batch {c['batch_size']}, {c['num_steps']} "
        "steps, "
        f"{c['num_hiddens']} hidden, lr {c['lr']:g}, clip {c['clip']:g}, {c['max_tokens']} "
        "training tokens"
        f"{' of ' + c['corpus'] if c.get('corpus') else ''}, sequential sampling, device "
        f"{c['device']}, "
        f"threads {c.get('threads') or 'framework default'}; {c['epochs']} epochs x {c['repeats']} "
        "repeats per "
        f"row, {c['scaling_epochs']} epochs x {c['scaling_repeats']} for the scaling rows; every "
        "repeat a fresh "
        f"process, {results.get('total_seconds', 0) / 60:.1f} minutes in all. The caution rule: "
        f"{caution_rule(m['usable_cores'] or 1)}."
        + "".join(f"\n\n**Caution:** {w}" for w in warnings(results))
    )


# --- tables -----------------------------------------------------------------------------------
def rows_table(results: dict[str, Any], conditions: tuple[str, ...] | None = None) -> str:
    """Every row at the seed settings (quiet, one core busy, each gated cell, data-parallel workers;
    by
    default all but the scaling rows, which have their own table); skipped and failed rows say why.
    """
    head = (
        "| backend | model | condition | tokens/s | fraction of the limit | per repeat | threads "
        "per repeat "
        "| perplexity | wall s | first batch s | peak RSS MiB |"
    )
    lines = [head, "|---|---|---|---:|---:|---|---|---:|---:|---:|---:|"]
    for row in results["rows"]:
        if (
            row["condition"] in SCALING
            if conditions is None
            else row["condition"] not in conditions
        ):
            continue
        cells = [
            _label(row["backend"]),
            MODEL_TEXT.get(row["model"], row["model"]),
            condition_text(row["condition"]),
        ]
        if row.get("status") != "ok":
            lines.append(
                "| "
                + " | ".join(cells)
                + f" | {row.get('status')}: {_short(row.get('reason', ''))} "
                + "| " * 7
                + "|"
            )
            continue
        per_repeat = ", ".join(_k(r) for r in row["repeat_tokens_per_sec"])
        threads = ", ".join(_threads(r) for r in row.get("runs", []) if r.get("status") == "ok")
        cells += [
            _k(row["tokens_per_sec"]),
            fraction(row.get("fraction_of_limit")),
            per_repeat,
            threads,
            _num(row["perplexity"], ".2f"),
            _num(row["wall_s"], ".1f"),
            _num(row["first_batch_s"], ".2f"),
            _num(row["peak_rss_mib"], ".0f"),
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def fraction(value: float | None) -> str:
    """A fraction of the limit as a percentage ("–" where the limit was not measured)."""
    return "–" if value is None else f"{value:.0%}"


def _threads(run: dict[str, Any]) -> str:
    """The threads a worker started with ("own": the framework's count) and any changes while
    training."""
    steps = [
        str(run.get("threads") or "own"),
        *(str(n) for _, n in run.get("thread_changes") or []),
    ]
    return "→".join(steps)


def _value(comparison: dict[str, Any], value: float | None) -> str:
    if value is None:
        return "–"
    if comparison["kind"] == "share":
        return f"{value:.0%}"
    return f"{value:+.0%}" if comparison["kind"] == "overhead" else f"{value:.2f}x"


def _target(comparison: dict[str, Any]) -> str:
    if comparison["kind"] == "overhead":
        return f"{OVERHEAD_BOUNDS[0]:+.0%} to {OVERHEAD_BOUNDS[1]:+.0%}"
    if comparison["target"] is None:
        return "–"
    if comparison["kind"] == "share":
        return f"≥ {comparison['target']:.0%}"
    return f"≥ {comparison['target']:g}x"


def comparisons_table(results: dict[str, Any]) -> str:
    """The pairs: each alternating pair's ratio, their median and spread, the target and the
    verdict."""
    lines = [
        "| backend | comparison | per pair | median | spread | target | verdict |",
        "|---|---|---|---:|---|---|---|",
    ]
    for c in results.get("comparisons", []):
        pairs = ", ".join(_value(c, v) for v in c["values"])
        spread = f"{_value(c, c['low'])} to {_value(c, c['high'])}"
        lines.append(
            f"| {_label(c['backend'])} | {c['name']} | {pairs} | {_value(c, c['median'])} | "
            f"{spread} "
            f"| {_target(c)} | {c['verdict'] or '–'} |"
        )
    return "\n".join(lines) + "\n"


def scaling_rows(results: dict[str, Any]) -> list[dict[str, Any]]:
    """One entry per backend and setting: d2lrnn's and the book's tokens/s and peak memory."""
    by_key = {(r["backend"], r["model"], r["condition"]): r for r in results["rows"]}
    settings = [SEED, *(f"h{size}" for size in HIDDEN_SIZES), WORD]
    out = []
    for backend in dict.fromkeys(r["backend"] for r in results["rows"]):
        for setting in settings:
            ours, book = (
                by_key.get((backend, "concise", setting), {}),
                by_key.get((backend, BOOK, setting), {}),
            )
            if setting != SEED and not ours and not book:
                continue
            hidden = (
                int(setting[1:]) if setting.startswith("h") else results["config"]["num_hiddens"]
            )
            entry = {
                "backend": backend,
                "setting": setting,
                "hidden": hidden,
                "token": "word" if setting == WORD else "char",
            }
            entry["limit_tokens_per_sec"] = ours.get("limit_tokens_per_sec") or book.get(
                "limit_tokens_per_sec"
            )
            for name, row in (("d2lrnn", ours), ("book", book)):
                ok = row.get("status") == "ok"
                entry[f"{name}_fraction_of_limit"] = row.get("fraction_of_limit") if ok else None
                entry[f"{name}_tokens_per_sec"] = row.get("tokens_per_sec") if ok else None
                entry[f"{name}_peak_rss_mib"] = row.get("peak_rss_mib") if ok else None
            out.append(entry)
    return out


def scaling_table(results: dict[str, Any]) -> str:
    lines = [
        "| backend | hidden | tokens | d2lrnn tokens/s | book tokens/s | d2lrnn / book | limit "
        "tokens/s "
        "| d2lrnn / limit | book / limit | d2lrnn peak MiB | book peak MiB |",
        "|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for e in scaling_rows(results):
        ours, book = e["d2lrnn_tokens_per_sec"], e["book_tokens_per_sec"]
        ratio = f"{ours / book:.2f}x" if ours and book else "–"
        lines.append(
            f"| {_label(e['backend'])} | {e['hidden']} | {e['token']} | {_k(ours)} | {_k(book)} | "
            f"{ratio} "
            f"| {_k(e['limit_tokens_per_sec'])} | {fraction(e['d2lrnn_fraction_of_limit'])} "
            f"| {fraction(e['book_fraction_of_limit'])} | {_num(e['d2lrnn_peak_rss_mib'], '.0f')} "
            f"| {_num(e['book_peak_rss_mib'], '.0f')} |"
        )
    return "\n".join(lines) + "\n"


def time_rows(results: dict[str, Any]) -> list[dict[str, Any]]:
    """Where a batch's time goes, per measured row at the seed settings and in "how cost grows":
    the measured seconds, the products alone at the fastest engine (the limit's), the rest, and the
    products with the framework's own matrix product called eagerly (dispatch included).
    """
    from .roofline import step_seconds  # here: roofline imports this module

    roofline = results.get("roofline") or {}
    conditions = roofline.get("conditions", {})
    tokens = results["config"]["batch_size"] * results["config"]["num_steps"]
    out = []
    for row in results["rows"]:
        key = conditions.get(row["condition"])
        if (row["model"] == BOOK or row["condition"] not in (SEED, *SCALING) or not key
                or row.get("status") != "ok" or not row.get("tokens_per_sec")):
            continue
        measured = tokens / row["tokens_per_sec"]
        best = step_seconds(roofline, key)
        out.append({"backend": row["backend"], "model": row["model"],
                    "condition": row["condition"], "batch_s": measured, "best_products_s": best,
                    "rest_s": None if best is None else measured - best,
                    "own_products_s": step_seconds(roofline, key, row["backend"])})
    return out


def time_table(results: dict[str, Any]) -> str:
    """Markdown of :func:`time_rows`, with the time a batch may take at the moonshot's speed."""
    rows = time_rows(results)
    if not rows:
        return "No split: this run has no measured limit to split the time by.\n"
    c = results["config"]
    budget = c["batch_size"] * c["num_steps"] / MOONSHOT_TOKENS_PER_SEC
    lines = [
        f"At {MOONSHOT_TOKENS_PER_SEC / 1000:.0f}k tokens/s a batch of the seed settings may take "
        f"{budget * 1e3:.1f} ms in all.\n",
        "| backend | model | setting | ms per batch | products at the limit, ms | the rest, ms "
        "| the rest, share | products, own matrix product called eagerly, ms |",
        "|---|---|---|---:|---:|---:|---:|---:|",
    ]
    for e in rows:
        rest = e["rest_s"]
        lines.append(
            f"| {_label(e['backend'])} | {MODEL_TEXT.get(e['model'], e['model'])} "
            f"| {condition_text(e['condition'])} | {e['batch_s'] * 1e3:.2f} "
            f"| {_ms(e['best_products_s'])} | {_ms(rest)} "
            f"| {'–' if rest is None else format(rest / e['batch_s'], '.0%')} "
            f"| {_ms(e['own_products_s'])} |"
        )
    return "\n".join(lines) + "\n"


def _ms(seconds: float | None) -> str:
    return "–" if seconds is None else f"{seconds * 1e3:.2f}"


TIME_TEXT = """\
Each row's milliseconds per batch (its tokens/s turned round) split in two: the matrix products
the step cannot do without, at the speed of the fastest engine here (the limit's products), and
the rest. The rest is everything else: the activations and their gradients, the loss, clipping and
the update, the framework's dispatch between them, and whatever its products lose against the
fastest engine's. The last column times the framework's own matrix product alone, called eagerly
one product at a time: it includes the per-call dispatch that a compiled step avoids, so for a
compiled row it can exceed the whole batch; where it is close to the limit's products, the
framework's products cost what the machine's do.
"""


METHOD = """\
How to read it. **tokens/s** of one repeat is the median over its epochs of `tokens / seconds` of
the training loop, leaving out the first epoch (warm-up: lazy building, tracing, hybridizing); the
same rule holds for every row, the book's included. A row's tokens/s is the median over its
repeats. Every repeat is a fresh process, and each repeat runs every row once in the same order,
the backends taking turns (one model under one condition on every backend, then the next), so
repeat *i* of two rows ran side by side: **per pair** lists those ratios, **median** and
**spread** (smallest to largest) summarise them. **floor** is the concise model written directly
in the framework at the adapter's compile level (`d2lrnn/backends/<name>/floor.py`; a test checks
that it computes the library's losses from the same weights); **overhead** = 1 − d2lrnn / floor per
pair, and a pair passes inside the bounds (an *anomaly* when the whole spread lies outside them).
A **verdict** is *met* when the median passes and at least two thirds of the pairs pass, *not met*
when the median fails and at least two thirds of the pairs fail, and *within noise* otherwise (the
pairs straddle the target, or there is only one pair).
**book** is the `d2l` package 0.17.6: its `RNNModel` over the framework's RNN layer,
trained by its `train_epoch_ch8` (the loop of `train_ch8`) on batches from its own
`seq_data_iter_sequential`; the worker stubs what the package imports but the RNN chapters never
use (pandas, torchvision), and TensorFlow runs it on Keras 2 (`TF_USE_LEGACY_KERAS=1`), which its
time-major layer needs. **floor / book** is the most that any library built on the same framework
layer could gain over the book's code. **one core busy** rows run while a busy-loop process the
benchmark starts keeps one core occupied. **threads**: d2lrnn's rows and the floor run at the
setting in the settings line; under `auto` a worker samples the CPU before importing the framework
(every core free: the framework's own count; otherwise one thread per free core) and, where the
framework can change its count while training (PyTorch), checks again about once a second. The
book's rows then run at the frameworks' own counts, as the book's code does. Only a fixed count (`--threads N`) is compared with
the frameworks' default threads: under `auto` on a quiet machine the two are the same setting.
**first batch s** runs from just before the process starts to the end of the
first training step; **peak RSS** is the worker's `ru_maxrss`, the largest over repeats.
"""  # noqa: E501


def roofline_text(results: dict[str, Any]) -> str:
    """The measured limit: each setting's products, their fastest engine and the limit in tokens/s.
    """
    from .roofline import table  # here: roofline imports this module

    roofline = results.get("roofline")
    if not roofline or not roofline.get("shapes"):
        note = (roofline or {}).get("note") or "this run did not measure it"
        return (f"The limit was not measured: {note}. `python -m d2lrnn.bench.roofline` measures "
                "it on its own.\n")
    engines = "; ".join(f"{e['engine']} {e.get('version') or ''} ({e['status']}"
                        + (f": {_short(e.get('reason') or '')})" if e["status"] != "ok" else ")")
                        for e in roofline.get("engines", []))
    return (LIMIT_METHOD + f"\nEngines: {engines}.\n\n" + table(roofline))


LIMIT_METHOD = """\
**The limit** (`d2lrnn/bench/roofline.py`, after the rows in the same run) times alone, at each
setting's exact shapes, the products one training step cannot do without: the input gather; per
time step the two recurrent products that wait for the step before (forward, and the state's
gradient backward); the recurrent weights' gradient as one product over all steps; and the output
layer's three (forward and both gradients, all steps at once). Each product is timed by NumPy's
BLAS and by every installed framework's own matrix product, each in a fresh process at the run's
thread setting; the fastest counts. The limit is the step's tokens over the sum of those times: it
leaves out everything else (activations, the loss, the update), so a row's **fraction of the
limit** (tokens/s over the limit) stays below one unless the row skips work. The one-core-busy
rows are held against the quiet limit.
"""


def gpu_text(results: dict[str, Any] | None = None) -> str:
    """The GPU section when no GPU run is published: not measured, and the command that fills it."""
    return ("Not measured: no machine with a GPU was at hand for a published run. On one, run\n\n"
            f"```bash\n{GPU_COMMAND}\n```\n\nwhich fills this section with the same tables.\n")


def markdown_report(results: dict[str, Any], images: dict[str, str] | None = None) -> str:
    """The Markdown body of one run: machine, rows, pairs, scaling (with the charts) and method."""
    images = images if images is not None else {"results": "results.png", "scaling": "scaling.png"}
    parts = [machine_text(results), "", "### Rows", "", rows_table(results)]
    if "results" in images:
        parts += [f"![tokens/s per backend and row]({images['results']})", ""]
    if "limit" in images:
        parts += [
            f"![fraction of the machine's limit per backend and setting]({images['limit']})",
            "",
        ]
    parts += ["### Pairs", "", comparisons_table(results)]
    if any(r["condition"].startswith(WORKERS_PREFIX) for r in results["rows"]):
        parts += [WORKERS_TEXT]
    if any(r["condition"] in SCALING for r in results["rows"]):
        parts += ["### How cost grows", "", scaling_table(results), "",
                  rows_table(results, SCALING)]
        if "scaling" in images:
            parts += [f"![tokens/s and peak memory against hidden units]({images['scaling']})", ""]
    parts += ["### Where a batch's time goes", "", TIME_TEXT, time_table(results),
              "### The machine's limit", "", roofline_text(results), METHOD]
    return "\n".join(parts)
