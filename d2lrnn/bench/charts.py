"""The benchmark's charts: tokens/s per row, and how tokens/s and memory grow (log-log)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from ..backends import LABELS
from ..plot import new_figure
from .config import BOOK, BUSY, DEFAULT_THREADS, FLOOR, LIMIT_TARGET, SEED
from .report import MODEL_TEXT, condition_text, scaling_rows


def write_rows_chart(results: dict[str, Any], path: str | os.PathLike) -> Path:
    """Grouped bars of tokens/s per backend: every model at the seed settings, and the busy rows."""
    rows = {(r["backend"], r["model"], r["condition"]): r for r in results["rows"]
            if r["condition"] in (SEED, BUSY, DEFAULT_THREADS)}
    backends = list(dict.fromkeys(k[0] for k in rows))
    series = list(dict.fromkeys((k[1], k[2]) for k in rows))
    width = 0.8 / max(1, len(series))
    fig, ax = new_figure((9, 4))
    for i, (model, condition) in enumerate(series):
        label = MODEL_TEXT.get(model, model) + (
            "" if condition == SEED else f", {condition_text(condition)}"
        )
        offset = (i - (len(series) - 1) / 2) * width
        # a skipped or failed row (e.g. the book on a framework it has no code for) gets no bar, not
        # a zero
        measured = [(j + offset, rate) for j, b in enumerate(backends)
                    if (rate := (rows.get((b, model, condition)) or {}).get("tokens_per_sec"))]
        if not measured:
            continue
        xs, heights = zip(*measured)
        bars = ax.bar(
            xs,
            [h / 1000 for h in heights],
            width,
            label=label,
            hatch="//" if condition == BUSY else None,
        )
        ax.bar_label(bars, fmt="%.0f", fontsize=6, padding=1)
    ax.set_xticks(range(len(backends)), [LABELS.get(b, b) for b in backends])
    ax.set_ylabel("training tokens/s (thousands)")
    c = results["config"]
    ax.set_title(
        f"seed settings, {c['epochs']} epochs x {c['repeats']} repeats, threads "
        f"{c.get('threads') or 'default'}, {results['machine']['usable_cores']} cores",
        fontsize=9,
    )
    return _save_bars(fig, ax, path)


def _save_bars(fig: Any, ax: Any, path: str | os.PathLike) -> Path:
    """A bar chart's grid and legend (right of the bars), written to ``path``."""
    ax.grid(True, axis="y", alpha=0.3)
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    fig.tight_layout()
    fig.savefig(path)
    return Path(path)


def has_limits(results: dict[str, Any]) -> bool:
    return any(r.get("fraction_of_limit") for r in results["rows"])


def write_limit_chart(results: dict[str, Any], path: str | os.PathLike) -> Path:
    """Bars of the fraction of the machine's limit per backend: d2lrnn's concise model in every
    setting,
    the scratch model, the floor and the book at the seed settings; the 1024-hidden target as a
    line."""
    rows = {
        (r["backend"], r["model"], r["condition"]): r
        for r in results["rows"]
        if r.get("fraction_of_limit")
    }
    backends = list(dict.fromkeys(k[0] for k in rows))
    order = [(m, SEED) for m in ("concise", "scratch", FLOOR, BOOK)]
    order += [
        ("concise", c)
        for c in dict.fromkeys(k[2] for k in rows)
        if c not in (SEED, BUSY, DEFAULT_THREADS)
    ]
    series = [s for s in order if any((b, *s) in rows for b in backends)]
    width = 0.8 / max(1, len(series))
    fig, ax = new_figure((9, 4))
    for i, (model, condition) in enumerate(series):
        offset = (i - (len(series) - 1) / 2) * width
        measured = [
            (j + offset, rows[(b, model, condition)]["fraction_of_limit"])
            for j, b in enumerate(backends)
            if (b, model, condition) in rows
        ]
        xs, heights = zip(*measured)
        label = MODEL_TEXT.get(model, model) + f", {condition_text(condition)}"
        bars = ax.bar(xs, [100 * h for h in heights], width, label=label)
        ax.bar_label(bars, fmt="%.0f", fontsize=6, padding=1)
    ax.axhline(100 * LIMIT_TARGET, color="0.3", linestyle="--", linewidth=1)
    ax.text(
        len(backends) - 0.5,
        100 * LIMIT_TARGET,
        f"target at 1024 hidden: {LIMIT_TARGET:.0%}",
        fontsize=7,
        ha="right",
        va="bottom",
    )
    ax.set_xticks(range(len(backends)), [LABELS.get(b, b) for b in backends])
    ax.set_ylabel("% of the machine's limit (products only)")
    ax.set_ylim(0, max(110.0, 110 * max(r["fraction_of_limit"] for r in rows.values())))
    ax.set_title(
        f"tokens/s over the measured limit of each setting, {results['machine']['usable_cores']} "
        "cores, "
        f"threads {results['config'].get('threads') or 'default'}",
        fontsize=9,
    )
    return _save_bars(fig, ax, path)


def write_scaling_chart(results: dict[str, Any], path: str | os.PathLike) -> Path:
    """Log-log: tokens/s and peak memory against hidden units, d2lrnn solid and the book dashed.

    Word-token rows (at the seed's hidden units) are the star markers.
    """
    entries = scaling_rows(results)
    from matplotlib.figure import Figure

    fig = Figure(figsize=(10, 4), dpi=120)
    speed, memory = fig.subplots(1, 2)
    colors = {b: f"C{i}" for i, b in enumerate(dict.fromkeys(e["backend"] for e in entries))}
    for backend, color in colors.items():
        for who, style in (("d2lrnn", "-"), ("book", "--")):
            chars = [
                e
                for e in entries
                if e["backend"] == backend and e["token"] == "char" and e[f"{who}_tokens_per_sec"]
            ]
            words = [
                e
                for e in entries
                if e["backend"] == backend and e["token"] == "word" and e[f"{who}_tokens_per_sec"]
            ]
            label = (
                f"{LABELS.get(backend, backend)}, {who if who == 'd2lrnn' else MODEL_TEXT[BOOK]}"
            )
            for ax, key in ((speed, "tokens_per_sec"), (memory, "peak_rss_mib")):
                ax.plot(
                    [e["hidden"] for e in chars],
                    [e[f"{who}_{key}"] for e in chars],
                    style,
                    marker="o",
                    color=color,
                    label=label if ax is speed else None,
                )
                ax.plot(
                    [e["hidden"] for e in words],
                    [e[f"{who}_{key}"] for e in words],
                    marker="*",
                    markersize=10,
                    linestyle="none",
                    color=color,
                    markerfacecolor="none" if who == "book" else color,
                )
    for ax, ylabel in ((speed, "training tokens/s"), (memory, "peak RSS (MiB)")):
        ax.set_xscale("log", base=2)
        ax.set_yscale("log")
        ax.set_xlabel("hidden units (stars: word tokens)")
        ax.set_ylabel(ylabel)
        ax.grid(True, which="both", alpha=0.3)
    speed.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path)
    return Path(path)
