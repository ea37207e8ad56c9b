"""The headline of a benchmark run: one chart and a few generated sentences, shown before any table.

The chart puts, per backend, d2lrnn's concise model beside the book's own code at the seed
settings (the quiet machine), labelled with the median of the paired ratios, under a line at the
machine's limit for these settings (:mod:`.roofline`, measured in the same run). A run without it
says "not measured" rather than leave it out silently.

    python -m d2lrnn.bench.headline docs/   # redraw the headline of docs/results.md from
    docs/bench/results.json
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

from ..backends import LABELS
from ..plot import new_figure
from .config import BOOK, SEED
from .report import warnings

HEADLINE_START, HEADLINE_END = "<!-- bench-headline:start -->", "<!-- bench-headline:end -->"
LIMIT_NOTE = "the machine's limit: not measured yet"
PAIR = "d2lrnn / book"


def _speeds(results: dict[str, Any], model: str) -> dict[str, float]:
    return {
        r["backend"]: r["tokens_per_sec"]
        for r in results["rows"]
        if r["model"] == model
        and r["condition"] == SEED
        and r.get("status") == "ok"
        and r.get("tokens_per_sec")
    }


def _ratios(results: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        c["backend"]: c
        for c in results.get("comparisons", [])
        if c["name"] == PAIR and c.get("median")
    }


def seed_limit(results: dict[str, Any]) -> float | None:
    """The limit the run measured for the seed settings (None when it measured none)."""
    return next((r["limit_tokens_per_sec"] for r in results["rows"]
                 if r["condition"] == SEED and r.get("limit_tokens_per_sec")), None)


def _fractions(results: dict[str, Any]) -> dict[str, float]:
    return {r["backend"]: r["fraction_of_limit"] for r in results["rows"]
            if r["model"] == "concise" and r["condition"] == SEED and r.get("fraction_of_limit")}


def _backends(results: dict[str, Any]) -> list[str]:
    return list(dict.fromkeys(r["backend"] for r in results["rows"] if r["condition"] == SEED))


def write_headline_chart(results: dict[str, Any], path: str | os.PathLike) -> Path:
    """Bars of training tokens/s per backend: the book's code and d2lrnn, with the median pair
    ratio."""
    book = _speeds(results, BOOK)
    ours = _speeds(results, "concise")
    ratios = _ratios(results)
    backends = _backends(results)
    fig, ax = new_figure((7.5, 3.6), dpi=110)
    width = 0.38
    limit = seed_limit(results)
    top = max([*book.values(), *ours.values(), limit or 1.0, 1.0]) / 1000
    # each label once, on its first bar
    legend = {"book": "the book's code (d2l 0.17.6)", "d2lrnn": "d2lrnn"}
    for j, b in enumerate(backends):
        if b in book:
            bar = ax.bar(
                j - width / 2, book[b] / 1000, width, color="0.65", label=legend.pop("book", None)
            )
            ax.bar_label(bar, fmt="%.0fk", fontsize=8, padding=1)
        else:
            ax.text(
                j - width / 2,
                top * 0.04,
                "no book\ncode",
                ha="center",
                va="bottom",
                fontsize=7,
                color="0.35",
            )
        if b in ours:
            bar = ax.bar(
                j + width / 2, ours[b] / 1000, width, color="C0", label=legend.pop("d2lrnn", None)
            )
            ratio = ratios.get(b)
            text = f"{ours[b] / 1000:.0f}k" + (f"\n{ratio['median']:.2f}x book" if ratio else "")
            ax.bar_label(bar, labels=[text], fontsize=8, padding=1)
    if limit:
        ax.axhline(limit / 1000, color="0.2", linestyle="--", linewidth=1)
        ax.text(
            len(backends) - 0.6,
            limit / 1000,
            f"the machine's limit: {limit / 1000:.0f}k",
            fontsize=8,
            ha="right",
            va="bottom",
        )
    ax.set_xticks(range(len(backends)), [LABELS.get(b, b) for b in backends])
    ax.set_ylim(0, top * 1.3)
    ax.set_ylabel("training tokens/s (thousands)")
    m = results["machine"]
    note = "dashed: the machine's limit (products only)" if limit else LIMIT_NOTE
    ax.set_title(f"d2lrnn vs the book's code, CPU, measured {m['date'][:10]}; {note}", fontsize=9)
    ax.grid(True, axis="y", alpha=0.3)
    handles, labels = ax.get_legend_handles_labels()
    if handles:
        ax.legend(fontsize=8, loc="upper left")
    fig.tight_layout()
    fig.savefig(path)
    return Path(path)


def headline_summary(results: dict[str, Any]) -> str:
    """A few sentences, all numbers from ``results``: how d2lrnn compares with the book per backend.
    """
    m, c = results["machine"], results["config"]
    book = _speeds(results, BOOK)
    ours = _speeds(results, "concise")
    ratios = _ratios(results)
    fractions, limit = _fractions(results), seed_limit(results)
    parts = []
    for b in _backends(results):
        label = LABELS.get(b, b)
        share = f", {fractions[b]:.0%} of the limit" if b in fractions else ""
        if b in ratios:
            r = ratios[b]
            parts.append(
                f"**{label}**: d2lrnn {ours.get(b, 0) / 1000:.0f}k tokens/s{share}, the book's "
                "code "
                f"{book.get(b, 0) / 1000:.0f}k, {r['median']:.2f}x (pairs {r['low']:.2f}x to "
                f"{r['high']:.2f}x)"
            )
        elif b in ours:
            parts.append(
                f"**{label}**: d2lrnn {ours[b] / 1000:.0f}k tokens/s{share}; the book (d2l 0.17.6) "
                "has no "
                f"{label} code"
            )
    load = [(m.get(k) or ["?"])[0] for k in ("load_average_before", "load_average_after")]
    lines = [
        f"At the book's settings ({c['num_hiddens']} hidden units, batch {c['batch_size']}, "
        f"{c['num_steps']} steps, "
        f"CPU, machine quiet), the median of {c['repeats']} paired fresh-process runs per backend:",
        "",
    ]
    lines += [f"- {p}" for p in parts]
    if limit:
        bound = (
            " The machine's limit at these settings, measured in the same run, is "
            f"{limit / 1000:.0f}k "
            "tokens/s: the products one training step needs, each timed alone by the fastest "
            "engine here "
            '("The machine\'s limit" below).'
        )
    else:
        bound = (
            " The machine's limit (the best this CPU could do for this model) is not measured yet, "
            "so the "
            "chart cannot show how close either comes to it; the bare-framework floor in the "
            "tables below is "
            "the nearest bound measured so far."
        )
    lines += [
        "",
        f"Measured {m['date'][:10]} on {m['cpu']} ({m['usable_cores']} usable cores), 1-minute "
        "load "
        f"{load[0]} before and {load[1]} after the run.{bound}",
    ]
    lines += [f"*Caution: {w}*" for w in warnings(results)]
    return "\n".join(lines) + "\n"


def headline_block(results: dict[str, Any], image: str) -> str:
    """The Markdown between the headline markers: the chart, then the summary."""
    return (
        f"![d2lrnn against the book's code, training tokens/s per backend]({image})\n\n"
        + headline_summary(results)
    )


def place_headline(text: str, body: str) -> str:
    """``text`` with ``body`` between the headline markers; the markers go right under the title
    when missing."""
    if HEADLINE_START not in text or HEADLINE_END not in text:
        title, _, rest = text.partition("\n")
        text = f"{title}\n\n{HEADLINE_START}\n{HEADLINE_END}\n{rest}"
    before, rest = text.split(HEADLINE_START, 1)
    return f"{before}{HEADLINE_START}\n{body}{HEADLINE_END}{rest.split(HEADLINE_END, 1)[1]}"


def refresh_headline(docs: str | os.PathLike, suffix: str = "") -> Path:
    """Redraw ``docs/bench/headline{suffix}.png`` and the headline of ``docs/results.md`` from the
    published JSON."""
    docs = Path(docs)
    results = json.loads((docs / "bench" / f"results{suffix}.json").read_text())
    write_headline_chart(results, docs / "bench" / f"headline{suffix}.png")
    page = docs / "results.md"
    page.write_text(
        place_headline(page.read_text(), headline_block(results, f"bench/headline{suffix}.png"))
    )
    return page


if __name__ == "__main__":
    print(f"wrote {refresh_headline(sys.argv[1] if len(sys.argv) > 1 else 'docs')}")
