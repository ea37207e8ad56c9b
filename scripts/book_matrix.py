"""Run every book section of every generation on every installed tab; write or check the matrix.

Every cell file in ``tests/book_cells/<generation>/<section>/<tab>.py`` runs in its own process with
the import line swapped and the epochs cut (``--epochs``), judged exactly as the tests judge it
(:func:`d2lrnn.book.cells.problems`: expected output, falling perplexity, known issues exact); so
do the seeds in ``../shared/seeds`` (the 1.0 draft and gluonbook). One run covers one environment
and writes a JSON record; the page holds one table per environment, each from one complete run,
and nothing is kept from an earlier run.

    python scripts/book_matrix.py run --env constraints.txt --json /tmp/m1.json     # in environment
    1
    python scripts/book_matrix.py run --env constraints-newest.txt --json /tmp/m2.json  # in
    environment 2
    python scripts/book_matrix.py write /tmp/m1.json /tmp/m2.json   # docs/generated/book_matrix.md
    python scripts/book_matrix.py check /tmp/m1.json /tmp/m2.json   # exit 1 when the page says
    otherwise

``run`` exits 1 when a section has a problem. ``check`` compares what each table cell says ran
(its status: ran, known issue, stand-in, fails, ...) with the page, so the page can never claim more
than the last run saw; the numbers (perplexities, seconds) are not compared.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import importlib.util
import json
import os
import platform
import re
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # d2lrnn is used from the source tree

from d2lrnn.backends import LABELS, NAMES  # noqa: E402
from d2lrnn.book.cells import cell_files, perplexities, problems, run_cell_file, run_cells_traced  # noqa: E501, E402

CELLS = ROOT / "tests" / "book_cells"
OUT = ROOT / "docs" / "generated" / "book_matrix.md"
#: a registry name -> the book's name for its tab (the book calls the PyTorch tab "pytorch")
TAB_OF = {"torch": "pytorch"}
#: the packages a tab needs
TAB_PACKAGES = {
    "pytorch": ("torch",),
    "mxnet": ("mxnet",),
    "tensorflow": ("tensorflow", "tf_keras"),
    "jax": ("jax", "flax"),
}
GENERATIONS = {
    "v1": "d2l 1.0.3, the published book (`from d2lrnn import torch as d2l`)",
    "v0": "d2l 0.x, 0.17.6 (`from d2lrnn.v0 import torch as d2l`)",
    "draft": "the d2l 1.0 draft, seed 002 (`from d2lrnn.draft import torch as d2l`)",
    "gluonbook": "gluonbook, seed 001 (`from d2lrnn import gluonbook as gb`)",
}
#: generation -> the tabs its book has (other tabs' cells say the book has none)
BOOK_TABS = {"v0": {"mxnet", "pytorch", "tensorflow"}, "gluonbook": {"mxnet"}}
VERSIONS = ("numpy", "mxnet", "torch", "tensorflow", "tf-keras", "keras", "jax", "flax")
#: what a cell's status means; ``check`` compares these
STATUS_TEXT = {
    "ran": "✓",
    "book-skips": "✓ (part skipped by the book)",
    "stand-in": "d2lrnn's stand-in ran",
    "known-issue": "the book's code fails, as recorded",
    "fails": "✗ fails",
    "no-tab": "no such tab",
    "not-installed": "framework not installed",
    "no-cells": "—",
}


def tabs() -> list[str]:
    return [TAB_OF.get(name, name) for name in NAMES]


def installed(tab: str) -> bool:
    return all(importlib.util.find_spec(p) is not None for p in TAB_PACKAGES[tab])


def versions() -> dict[str, str]:
    found = {}
    for name in VERSIONS:
        try:
            found[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            pass
    return found


def _ppl(output: str) -> str:
    return "; ".join(f"ppl {r[0]:.1f} → {r[-1]:.1f}" for r in perplexities(output) if r)


def judge_section(cell_file: Any, epochs: int) -> dict[str, str]:
    """Run one cell file and say what ran: a status and the table cell's text."""
    start = time.perf_counter()
    outcome = run_cell_file(cell_file, ROOT, epochs)
    seconds = f"{time.perf_counter() - start:.0f} s"
    found = problems(cell_file, outcome, tolerate_flat=epochs < 2)
    shown = _ppl(outcome.output) or "prints what the book prints"
    if cell_file.epochs_run(epochs) > epochs:
        shown += f" over {cell_file.epochs_run(epochs)} epochs (its `judge-after`)"
    if found:
        first = found[0].splitlines()[0].replace("|", "/")
        return {"status": "fails", "text": f"✗ {first[:160]} ({seconds})"}
    issue = cell_file.failure_here()
    if issue is not None:
        before = f"; before it, {_ppl(outcome.output)}" if _ppl(outcome.output) else ""
        message = issue.fragment.replace("|", "/")
        return {
            "status": "known-issue",
            "text": f"the book's code fails with `{issue.when}` as recorded: {issue.exception} in "
                    "cell "
            f"{issue.cell}, `{message}`{before} ({seconds})",
        }
    if cell_file.stand_ins:
        return {
            "status": "stand-in",
            "text": f"d2lrnn's stand-in ran: {cell_file.stand_ins[0]}; {shown} ({seconds})",
        }
    if cell_file.book_skips:
        return {
            "status": "book-skips",
            "text": f"✓ {shown}; the book skips {cell_file.book_skips[0]} ({seconds})",
        }
    return {"status": "ran", "text": f"✓ {shown} ({seconds})"}


def run_sections(epochs: int, only: str = "") -> dict[str, dict[str, str]]:
    results = {}
    for cell_file in cell_files(CELLS):
        key = f"{cell_file.generation}|{cell_file.section}|{cell_file.tab}"
        if only not in key:
            continue
        if not installed(cell_file.tab):
            results[key] = {"status": "not-installed", "text": "framework not installed"}
        else:
            results[key] = judge_section(cell_file, epochs)
        print(key, results[key]["text"], flush=True)
    return results


def _load_seed_tests() -> Any:
    spec = importlib.util.spec_from_file_location(
        "seed_tests", ROOT / "tests" / "test_book_seeds.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def run_seeds(epochs: int, only: str = "") -> dict[str, dict[str, str]]:
    """The 1.0 draft and gluonbook seeds, read as the seed test reads them (0.x seeds are the 0.x
    cell files)."""
    seeds = _load_seed_tests()
    if not seeds.SEEDS.is_dir():
        raise SystemExit(
            f"book_matrix: no seeds at {seeds.SEEDS} (set D2LRNN_SHARED); a run must be complete"
        )
    results = {}
    for path in sorted(seeds.SEEDS.glob("*.txt")):
        seed = seeds.load_seed(path)
        for tab in seed.tabs if not seed.skip else ():
            gen = (
                "gluonbook"
                if any("gluonbook" in c for c in seed.tabs[tab])
                else seeds.generation(seed.tabs[tab])
            )
            if gen not in ("draft", "gluonbook"):
                continue
            key = f"{gen}|seed {seed.number}|{tab}"
            if only not in key:
                continue
            if not installed(tab):
                results[key] = {"status": "not-installed", "text": "framework not installed"}
                continue
            start = time.perf_counter()
            code, out, err, failure = run_cells_traced(seed.cells(tab, epochs), ROOT)
            seconds = f"{time.perf_counter() - start:.0f} s"
            book = re.findall(r"^perplexity (\d+\.\d+), ", out, re.M)
            if code != 0:
                where = (
                    f"{failure.exception} in cell {failure.cell}: {failure.message[:100]}"
                    if failure
                    else f"exit {code}"
                )
                results[key] = {
                    "status": "fails",
                    "text": f"✗ {where.replace('|', '/')} ({seconds})",
                }
            else:
                shown = "; ".join(f"ppl {p}" for p in book) or "prints what the book prints"
                results[key] = {"status": "ran", "text": f"✓ {shown} ({seconds})"}
            print(key, results[key]["text"], flush=True)
    return results


def cell_text(record: dict[str, Any], gen: str, section: str, tab: str) -> tuple[str, str]:
    """(status, text) of one table cell of one environment's run."""
    found = record["cells"].get(f"{gen}|{section}|{tab}")
    if found:
        return found["status"], found["text"]
    if gen in BOOK_TABS and tab not in BOOK_TABS[gen]:
        return "no-tab", "no such tab in this book"
    return "no-cells", "—"


def statuses(records: list[dict[str, Any]]) -> dict[str, dict[str, str]]:
    """Environment -> table cell -> status, for every cell the page shows."""
    out = {}
    for record in records:
        rows = sorted(
            {tuple(k.split("|")[:2]) for k in record["cells"]},
            key=lambda r: (list(GENERATIONS).index(r[0]), r[1]),
        )
        out[record["env"]] = {
            f"{g}|{s}|{t}": cell_text(record, g, s, t)[0] for g, s in rows for t in tabs()
        }
    return out


def render(records: list[dict[str, Any]]) -> str:
    labels = {TAB_OF.get(name, name): LABELS[name] for name in NAMES}
    epochs = sorted({r["epochs"] for r in records})
    lines = [
        "<!-- generated by scripts/book_matrix.py from one complete run per environment: do not "
        "edit -->",
        f"Every section of every generation ran on every tab for {'/'.join(map(str, epochs))} "
        "epoch(s) on the CPU (a section whose cell file says `judge-after: N epochs` ran N, as its "
        "cell says), "
        "each in its own process, and was judged as the tests judge it. ✓: every cell ran and "
        "printed what the "
        "book prints (the shapes and values in its cell file) and, where it trains, its perplexity "
        "fell (ppl: "
        "first → last, or the book's own final line). *the book's code fails, as recorded*: the "
        "exception, "
        "the cell and the message are the ones recorded for these versions, and every cell before "
        "it ran as "
        "expected. *d2lrnn's stand-in ran*: the book has no working code for that tab, and "
        "d2lrnn's own ran "
        "instead. ✗: anything else.",
        "",
    ]
    for record in records:
        shown = ", ".join(f"{k} {v}" for k, v in record["versions"].items())
        lines += [
            f"### {record['env']}",
            "",
            f"Python {record['python']}; {shown}. Run on {record['date']} "
            f"({record['minutes']:.0f} minutes).",
            "",
            "| generation | section | " + " | ".join(labels[t] for t in tabs()) + " |",
            "|---|---|" + "---|" * len(tabs()),
        ]
        rows = sorted(
            {tuple(k.split("|")[:2]) for k in record["cells"]},
            key=lambda r: (list(GENERATIONS).index(r[0]), r[1]),
        )
        for gen, section in rows:
            cells = [cell_text(record, gen, section, t)[1] for t in tabs()]
            lines.append(f"| {gen} | {section} | " + " | ".join(cells) + " |")
        lines.append("")
    lines += [
        "Generations: " + "; ".join(f"`{g}`: {title}" for g, title in GENERATIONS.items()) + ".",
        "",
        f"<!-- statuses: {json.dumps(statuses(records), sort_keys=True, ensure_ascii=False)} -->",
    ]
    return "\n".join(lines) + "\n"


def page_statuses(path: Path) -> dict[str, dict[str, str]]:
    match = (
        re.search(r"<!-- statuses: (.*) -->", path.read_text(encoding="utf-8"))
        if path.is_file()
        else None
    )
    return json.loads(match[1]) if match else {}


def differences(page: dict[str, dict[str, str]], fresh: dict[str, dict[str, str]]) -> list[str]:
    """Every table cell whose status on the page differs from the fresh run's (a missing environment
    included)."""
    found = [f"{env}: on the page, not in this run" for env in sorted(set(page) - set(fresh))]
    found += [f"{env}: in this run, not on the page" for env in sorted(set(fresh) - set(page))]
    for env in sorted(set(page) & set(fresh)):
        for key in sorted(set(page[env]) | set(fresh[env])):
            a, b = page[env].get(key, "absent"), fresh[env].get(key, "absent")
            if a != b:
                found.append(f"{env}: {key}: the page says {a}, this run saw {b}")
    return found


def load_records(paths: list[Path]) -> list[dict[str, Any]]:
    records = [json.loads(p.read_text(encoding="utf-8")) for p in paths]
    incomplete = [r["env"] for r in records if not r.get("complete")]
    if incomplete:
        raise SystemExit(
            f"book_matrix: the run of {', '.join(incomplete)} is not complete; the page takes "
            "complete runs only"
        )
    return records


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser(
        "run", help="run every section and seed in this environment; write a JSON record"
    )
    run.add_argument(
        "--env", required=True, help="the environment's name on the page, e.g. constraints.txt"
    )
    run.add_argument("--json", type=Path, required=True, help="where the record goes")
    run.add_argument("--epochs", type=int, default=2, help="epochs per section (default 2)")
    run.add_argument(
        "--only",
        default="",
        help="run only the sections whose GENERATION|SECTION|TAB key contains this "
        "(a trial: the record is marked incomplete, and no page takes it)",
    )
    for name in ("write", "check"):
        cmd = sub.add_parser(
            name, help=f"{name} {OUT.relative_to(ROOT)} from the records of one run per environment"
        )
        cmd.add_argument("records", type=Path, nargs="+")
        cmd.add_argument("--page", type=Path, default=OUT)
    args = parser.parse_args(argv)
    os.environ.setdefault("D2LRNN_DATA_DIR", str(ROOT.parent / "shared" / "data"))
    os.environ.setdefault("D2LRNN_SHARED", str(ROOT.parent / "shared"))
    if args.command == "run":
        start = time.perf_counter()
        cells = {**run_sections(args.epochs, args.only), **run_seeds(args.epochs, args.only)}
        record = {
            "env": args.env,
            "python": platform.python_version(),
            "versions": versions(),
            "epochs": args.epochs,
            "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
            "cells": cells,
            "complete": not args.only,
            "minutes": (time.perf_counter() - start) / 60,
        }
        args.json.write_text(
            json.dumps(record, indent=1, ensure_ascii=False) + "\n", encoding="utf-8"
        )
        # under CI every environment has every framework: a tab that is not installed is a failure
        # there
        bad = (
            {"fails", "not-installed"}
            if os.environ.get("CI", "").lower() in ("true", "1")
            else {"fails"}
        )
        failing = [k for k, c in cells.items() if c["status"] in bad]
        print(
            f"{len(cells)} sections in {record['minutes']:.1f} minutes; {len(failing)} failing: "
            f"{', '.join(failing)}"
        )
        return 1 if failing else 0
    records = load_records(args.records)
    if args.command == "write":
        args.page.write_text(render(records), encoding="utf-8")
        print("wrote", args.page)
        return 0
    found = differences(page_statuses(args.page), statuses(records))
    for line in found:
        print(line)
    print(f"{args.page}: {'differs from this run' if found else 'says what this run saw'}")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
