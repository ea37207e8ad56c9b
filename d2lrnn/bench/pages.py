"""Writing a run's files, keeping every run in a JSON-lines history, and publishing to ``docs/``."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

from ..backends import LABELS
from .charts import has_limits, write_limit_chart, write_rows_chart, write_scaling_chart
from .config import (
    BOOK_RATIO_TARGETS,
    BUSY_KEEP,
    LIMIT_CONDITION,
    LIMIT_TARGET,
    MOONSHOT_TOKENS_PER_SEC,
    OVERHEAD_BOUNDS,
    PAGE_END,
    PAGE_START,
    PEER_TARGETS,
    SCALING,
)
from .headline import (
    HEADLINE_END,
    HEADLINE_START,
    headline_block,
    place_headline,
    write_headline_chart,
)
from .report import gpu_text, markdown_report, warnings

HISTORY = "history.jsonl"
SUMMARY = ("d2lrnn / book", "overhead over the floor", "one core busy / quiet")


def run_id(results: dict[str, Any]) -> str:
    """A stable id of one run: its date and a hash of its measurements."""
    digest = hashlib.sha1(
        json.dumps(results["rows"], sort_keys=True, default=str).encode()
    ).hexdigest()[:8]
    return f"{results['machine']['date']}-{digest}"


def history_record(results: dict[str, Any]) -> dict[str, Any]:
    """What the history keeps of a run: machine, loads, versions, settings, cautions and the pair
    medians."""
    m = results["machine"]
    return {
        "id": run_id(results),
        "date": m["date"],
        "machine": {k: m.get(k) for k in ("cpu", "cores", "usable_cores", "os", "python", "gpu")},
        "load_average_before": m.get("load_average_before"),
        "load_average_after": m.get("load_average_after"),
        "versions": m.get("versions"),
        "settings": results["config"],
        "seed_hyperparameters": results.get("seed_hyperparameters"),
        "total_seconds": results.get("total_seconds"),
        "cautions": warnings(results),
        "comparisons": [
            {
                k: c[k]
                for k in ("backend", "name", "median", "low", "high", "n", "target", "verdict")
            }
            for c in results.get("comparisons", [])
        ],
        "tokens_per_sec": {
            f"{r['backend']}/{r['model']}/{r['condition']}": r.get("tokens_per_sec")
            for r in results["rows"]
        },
        "fraction_of_limit": {
            f"{r['backend']}/{r['model']}/{r['condition']}": r.get("fraction_of_limit")
            for r in results["rows"]
            if r.get("fraction_of_limit")
        },
    }


def read_history(path: str | os.PathLike) -> list[dict[str, Any]]:
    """The records of a history file, oldest first (none when it does not exist)."""
    path = Path(path)
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def append_history(records: list[dict[str, Any]], path: str | os.PathLike) -> Path:
    """Append the records whose id the file does not hold yet; return the path."""
    path = Path(path)
    known = {r["id"] for r in read_history(path)}
    with path.open("a") as f:
        for record in records:
            if record["id"] not in known:
                f.write(json.dumps(record, default=float) + "\n")
                known.add(record["id"])
    return path


def _median_text(record: dict[str, Any], backend: str, name: str) -> str:
    c = next(
        (c for c in record["comparisons"] if c["backend"] == backend and c["name"] == name), None
    )
    if c is None or c["median"] is None:
        return "–"
    return f"{c['median']:+.0%}" if name.startswith("overhead") else f"{c['median']:.2f}x"


def history_table(records: list[dict[str, Any]]) -> str:
    """Every run, newest first: when, where, how loaded, with what settings, and the pair medians.
    """
    backends = list(dict.fromkeys(c["backend"] for r in records for c in r["comparisons"]))
    heads = [f"{LABELS.get(b, b)}: {n}" for b in backends for n in SUMMARY]
    lines = [
        "| date | machine | load before / after | caution | settings | " + " | ".join(heads) + " |",
        "|---|---|---|---|---|" + "---:|" * len(heads),
    ]
    for r in reversed(records):
        m, s = r["machine"], r["settings"]
        load = " / ".join(
            str((r.get(k) or ["?"])[0]) for k in ("load_average_before", "load_average_after")
        )
        caution = ", ".join(
            word for word in ("busy", "quick") if any(word in w for w in r["cautions"])
        )
        settings = (
            f"{s['device']}, {s['epochs']} epochs x {s['repeats']}, threads "
            f"{s.get('threads') or 'default'}"
            f"{'' if r.get('seed_hyperparameters', True) else ', not the seed settings'}"
        )
        cells = [_median_text(r, b, n) for b in backends for n in SUMMARY]
        lines.append(
            f"| {r['date']} | {m['cpu']}, {m['usable_cores']} cores | {load} | {caution or '–'} "
            f"| {settings} | " + " | ".join(cells) + " |"
        )
    return "\n".join(lines) + "\n"


def write_all(results: dict[str, Any], out: str | os.PathLike) -> dict[str, Path]:
    """``results.json``, ``results.md``, the charts in ``out`` (created), and the run appended to
    its history."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    files = {
        "json": out / "results.json",
        "results": write_rows_chart(results, out / "results.png"),
    }
    files["json"].write_text(json.dumps(results, indent=2, default=float) + "\n")
    images = {"results": "results.png"}
    if has_limits(results):
        files["limit"] = write_limit_chart(results, out / "limit.png")
        images["limit"] = "limit.png"
    if any(r["condition"] in SCALING for r in results["rows"]):
        files["scaling"] = write_scaling_chart(results, out / "scaling.png")
        images["scaling"] = "scaling.png"
    files["md"] = out / "results.md"
    files["md"].write_text("# d2lrnn benchmark\n\n" + markdown_report(results, images))
    files["history"] = append_history([history_record(results)], out / HISTORY)
    return files


def page_template() -> str:
    """The results page around the generated parts; its prose holds no measured number."""
    targets = ", ".join(f"{LABELS.get(b, b)} ≥ {t:g}x" for b, t in BOOK_RATIO_TARGETS.items())
    hidden, share = LIMIT_CONDITION[1:], f"{LIMIT_TARGET:.0%}"
    moon = MOONSHOT_TOKENS_PER_SEC // 1000
    peers = "; ".join(f"{LABELS[b]} is held to at least {'' if r == 1 else f'{r:g}x '}"
                      f"{LABELS[p]}'s speed" for b, (p, r) in PEER_TARGETS.items())
    gpu_start, gpu_end = (
        PAGE_START.replace("bench:", "bench-gpu:"),
        PAGE_END.replace("bench:", "bench-gpu:"),
    )
    return f"""# Benchmark results

{HEADLINE_START}
{HEADLINE_END}

One `d2lrnn bench` run measures, per backend, the library's concise and from-scratch models, the
bare framework floor and the book's own code (the `d2l` package 0.17.6) at the book's seed settings
(batch 32, 35 steps, 256 hidden units, learning rate 1, clipping 1, the first 10,000 characters of
The Time Machine, sequential sampling); the concise model and the book's code again while one core
is kept busy; and all four at more hidden units and on word tokens. Targets: d2lrnn against the
book's code at the seed settings ({targets}); with one core busy every backend keeps at least
{BUSY_KEEP:.0%} of its quiet speed; the overhead over the floor within {OVERHEAD_BOUNDS[0]:+.0%} to
{OVERHEAD_BOUNDS[1]:+.0%}. Every run that is published is appended to
`docs/bench/history.jsonl` and listed under the latest one.

Every row is also held against the machine's limit for its settings, measured in the same run
(`d2lrnn/bench/roofline.py`): the matrix products that one training step cannot do without, each
timed alone at the row's exact shapes by the fastest engine on this machine. A row's **fraction of
the limit** is its tokens/s over that limit; the target at 1024 hidden units, where the products
should dominate, is {LIMIT_TARGET:.0%} for every backend. How the limit is measured is under "The
machine's limit" below the tables.

Three more targets, each a line of the pairs table. {peers} at every setting,
for the concise and the from-scratch model; the two floors' ratio beside them shows what the bare
frameworks allow. At {hidden} hidden units the concise model's share of the limit is held to
{share}; the floor's share, beside it, bounds what any library on the framework's own layer can
reach, and the overhead over the floor at that size says how much of the remaining gap is
d2lrnn's. At the seed settings every backend's concise model is held to {moon}k tokens/s; "Where
a batch's time goes" splits each row's time into the products and everything else, both measured.

Regenerate with (the book's code: `pip install --no-deps d2l==0.17.6`, or the `bench` extra)

```bash
d2lrnn bench --threads auto --publish docs/
```

{PAGE_START}
{PAGE_END}

## GPU

{gpu_start}
{gpu_text()}{gpu_end}
"""


def _replace_between(text: str, start: str, end: str, body: str) -> str:
    if start not in text or end not in text:
        text = text.rstrip("\n") + f"\n\n{start}\n{end}\n"
    before, rest = text.split(start, 1)
    return f"{before}{start}\n{body}{end}{rest.split(end, 1)[1]}"


def publish(results: dict[str, Any], docs: str | os.PathLike, files: dict[str, Path]) -> Path:
    """Copy the charts and JSON to ``docs/bench/``, append the run (and any run in the ``--out``
    history not there yet) to ``docs/bench/history.jsonl``, and regenerate the marked part of
    ``docs/results.md`` (the ``bench-gpu:`` part for a ``--device gpu`` run): the latest run, then
    every run in the history."""
    docs = Path(docs)
    (docs / "bench").mkdir(parents=True, exist_ok=True)
    gpu = results["config"].get("device") == "gpu"
    suffix = "-gpu" if gpu else ""
    images = {}
    for name in ("results", "limit", "scaling"):
        if name in files:
            shutil.copyfile(files[name], docs / "bench" / f"{name}{suffix}.png")
            images[name] = f"bench/{name}{suffix}.png"
    shutil.copyfile(files["json"], docs / "bench" / f"results{suffix}.json")
    history = docs / "bench" / HISTORY
    append_history([*read_history(files["history"]), history_record(results)], history)
    records = [r for r in read_history(history) if (r["settings"].get("device") == "gpu") == gpu]
    body = (
        markdown_report(results, images)
        + f"\nRaw numbers: [bench/results{suffix}.json](bench/results{suffix}.json)."
        f"\n\n### Every run\n\nNewest first, from [bench/{HISTORY}](bench/{HISTORY}) (medians of "
        "the pairs).\n\n"
        + history_table(records)
    )
    start, end = PAGE_START, PAGE_END
    if gpu:
        start, end = start.replace("bench:", "bench-gpu:"), end.replace("bench:", "bench-gpu:")
    page = docs / "results.md"
    text = page.read_text() if page.exists() else page_template()
    text = _replace_between(text, start, end, body)
    if not gpu:  # the headline chart and summary open the page, before any table
        write_headline_chart(results, docs / "bench" / "headline.png")
        text = place_headline(text, headline_block(results, "bench/headline.png"))
    page.write_text(text)
    return page


def redraw(docs: str | os.PathLike, suffix: str = "") -> Path:
    """Rewrite the generated parts of ``docs/results.md`` and its charts from
    ``docs/bench/results{suffix}.json``
    (no measurement; the run is in the history already, so nothing is appended)."""
    docs = Path(docs)
    results = json.loads((docs / "bench" / f"results{suffix}.json").read_text())
    with tempfile.TemporaryDirectory() as tmp:
        files = write_all(results, tmp)
        return publish(results, docs, files)


if __name__ == "__main__":
    import sys

    print(f"wrote {redraw(sys.argv[1] if len(sys.argv) > 1 else 'docs')}")
