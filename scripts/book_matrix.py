"""Run the book's sections on every generation and tab, and write docs/generated/book_matrix.md.

Every cell file in ``tests/book_cells/<generation>/<section>/<tab>.py`` runs in its own process
with the import line swapped and the epochs cut (``--epochs``); so do the seeds in
``../shared/seeds`` (the 1.0 draft, 0.x and gluonbook). Each table cell reports what ran: the
perplexity the section recorded, first -> last, or the error. Tabs come from the backend registry.

    python scripts/book_matrix.py              # 1 epoch per section
    python scripts/book_matrix.py --epochs 3 --only v1
    python scripts/book_matrix.py --epochs 2 --tabs jax   # rerun one tab, keep the others' cells

With ``--only`` or ``--tabs`` the cells outside that choice are kept from the existing table.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import re
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # d2lrnn is used from the source tree

from d2lrnn.backends import LABELS, NAMES, is_installed  # noqa: E402
from d2lrnn.book.cells import cell_files, falling, known_issue_applies, run_cell_file, run_cells  # noqa: E402

CELLS = ROOT / "tests" / "book_cells"
OUT = ROOT / "docs" / "generated" / "book_matrix.md"
#: a registry name -> the book's name for its tab (the book calls the PyTorch tab "pytorch")
TAB_OF = {"torch": "pytorch"}
GENERATIONS = {
    "v1": "d2l 1.0.3, the published book: `from d2lrnn import torch as d2l` (or `d2lrnn.v1`)",
    "v0": "d2l 0.x (0.17.6): `from d2lrnn.v0 import torch as d2l`",
    "draft": "the d2l 1.0 draft (seed 002): `from d2lrnn.draft import torch as d2l`",
    "gluonbook": "gluonbook (seed 001): `from d2lrnn import gluonbook as gb`",
}
#: generation -> (the book's name for it, the tabs its book has); other tabs' cells say the book has none
BOOK_TABS = {"v0": ("0.x", {"mxnet", "pytorch", "tensorflow"})}


@dataclass
class Result:
    ok: bool
    text: str


def error_line(errors: str, code: int) -> str:
    """The exception's own line from a traceback (not a note printed after it), else the last line."""
    lines = [line.strip() for line in errors.strip().splitlines() if line.strip()]
    raised = [line for line in lines if re.match(r"^[\w.]+(Error|Exception|Exit)\b.*", line)]
    return (raised or lines or [f"exit {code}"])[-1]


def summarize(code: int, output: str, errors: str, missing: list[str], seconds: float,
              known: dict[str, str] | None = None) -> Result:
    """One table cell: the recorded perplexities (first -> last) or the reason it failed.

    ``known``: the cell file's known issues that apply here (the book's own code fails on the
    installed framework); a failure then says so, and what trained before it.
    """
    runs = [[float(v) for v in m[1].split()] for m in re.finditer(r"^PPL (.*)$", output, re.M)]
    shown = "; ".join(f"ppl {r[0]:.1f} → {r[-1]:.1f}" for r in runs)
    if code != 0 and known:
        when = ", ".join(f"`{w}`" for w in known)
        trained = f"; before it, {shown}" if shown and all(falling(r) for r in runs) else ""
        return Result(False, f"the book's own code fails with {when} (see below): `{error_line(errors, code)[:70]}`"
                             f"{trained} ({seconds:.0f} s)")
    if code != 0:
        return Result(False, f"fails: `{error_line(errors, code)[:90]}`")
    if missing:
        return Result(False, f"runs, but misses `{missing[0][:60]}`")
    book = [float(m[1]) for m in re.finditer(r"^perplexity (\d+\.\d+), ", output, re.M)]
    seed = [float(m[1]) for m in re.finditer(r"^PROBE epochs \d+ perplexity ([\d.]+)", output, re.M)]
    if runs:
        if not all(falling(r) for r in runs):
            return Result(False, f"runs, but the perplexity did not fall: {shown} ({seconds:.0f} s)")
    elif book or seed:
        shown = "; ".join(f"ppl {p:.1f}" for p in book or seed)
    else:
        shown = "prints what the book prints"
    return Result(True, f"✓ {shown} ({seconds:.0f} s)")


def run_sections(epochs: int, only: set[str], tabs: set[str]) -> dict[tuple[str, str, str], Result]:
    results = {}
    for cell_file in cell_files(CELLS):
        if (only and cell_file.generation not in only) or (tabs and cell_file.tab not in tabs):
            continue
        start = time.perf_counter()
        outcome = run_cell_file(cell_file, ROOT, epochs)
        key = (cell_file.generation, cell_file.section, cell_file.tab)
        known = {when: why for when, why in cell_file.known_issues.items() if known_issue_applies(when)}
        results[key] = summarize(outcome.returncode, outcome.output, outcome.errors, outcome.missing,
                                 time.perf_counter() - start, known)
        print(*key, results[key].text, flush=True)
    return results


def run_seeds(epochs: int, only: set[str], tabs: set[str]) -> dict[tuple[str, str, str], Result]:
    """The seeds, through the seed test's own reading of them."""
    spec = importlib.util.spec_from_file_location("seed_tests", ROOT / "tests" / "test_book_seeds.py")
    if spec is None or spec.loader is None or not (seeds := _load(spec)).SEEDS.is_dir():
        return {}
    results = {}
    for path in sorted(seeds.SEEDS.glob("*.txt")):
        seed = seeds.load_seed(path)
        for tab in seed.tabs if not seed.skip else ():
            gen = "gluonbook" if any("gluonbook" in c for c in seed.tabs[tab]) else seeds.generation(seed.tabs[tab])
            if gen not in ("draft", "gluonbook") or (only and gen not in only) or (tabs and tab not in tabs):
                continue  # 0.x seeds are covered by the 0.x cell files
            start = time.perf_counter()
            code, out, err = run_cells(seed.cells(tab, epochs), ROOT)
            key = (gen, f"seed {seed.number}", tab)
            results[key] = summarize(code, out, err, [], time.perf_counter() - start)
            print(*key, results[key].text, flush=True)
    return results


def _load(spec):  # noqa: ANN001, ANN202
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def read_table(path: Path) -> dict[tuple[str, str, str], Result]:
    """The cells of a table this script wrote before, keyed like the runs' results (for ``--tabs``)."""
    if not path.is_file():
        return {}
    generation_of = {f"### {title}": gen for gen, title in GENERATIONS.items()}
    tab_of_label = {LABELS[name]: TAB_OF.get(name, name) for name in NAMES}
    results: dict[tuple[str, str, str], Result] = {}
    gen, tabs = None, []
    for line in path.read_text(encoding="utf-8").splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if line.startswith("### "):
            gen, tabs = generation_of.get(line), []
        elif gen and line.startswith("| section |"):
            tabs = [tab_of_label.get(label) for label in cells[1:]]
        elif gen and tabs and line.startswith("| ") and not line.startswith("|---"):
            for tab, text in zip(tabs, cells[1:]):
                if tab and text != "—" and not _book_lacks(gen, tab):
                    results[(gen, cells[0], tab)] = Result(text.startswith("✓"), text)
    return results


def _book_lacks(generation: str, tab: str) -> str | None:
    """What a table cell says where the generation's book has no such tab (else None)."""
    if generation not in BOOK_TABS or tab in BOOK_TABS[generation][1]:
        return None
    label = {TAB_OF.get(name, name): LABELS[name] for name in NAMES}[tab]
    return f"no {label} tab in {BOOK_TABS[generation][0]}"


def _cell(results: dict[tuple[str, str, str], Result], gen: str, section: str, tab: str) -> str:
    if (gen, section, tab) in results:
        return results[(gen, section, tab)].text
    return _book_lacks(gen, tab) or "—"


def write(results: dict[tuple[str, str, str], Result], epochs: int) -> None:
    tabs = [TAB_OF.get(name, name) for name in NAMES]
    labels = {TAB_OF.get(name, name): LABELS[name] for name in NAMES}
    lines = [
        "<!-- generated by scripts/book_matrix.py: do not edit -->",
        f"Each section ran for {epochs} epoch(s) on the CPU, in its own process. ✓: it ran, printed what the "
        "book prints (the shapes and values in its cell file) and, where it trains, its perplexity fell; ppl: "
        "the training perplexity it recorded (first → last, or the book's final line). —: no cells for that tab yet.",
        "",
    ]
    for gen, title in GENERATIONS.items():
        sections = sorted({s for g, s, _ in results if g == gen})
        if not sections:
            continue
        lines += [f"### {title}", "", "| section | " + " | ".join(labels[t] for t in tabs) + " |",
                  "|---|" + "---|" * len(tabs)]
        for section in sections:
            row = [_cell(results, gen, section, t) for t in tabs]
            lines.append(f"| {section} | " + " | ".join(row) + " |")
        lines.append("")
    installed = ", ".join(f"{LABELS[n]} {'yes' if is_installed(n) else 'no'}" for n in NAMES)
    lines.append(f"Installed here: {installed}. Python {sys.version.split()[0]}.")
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("wrote", OUT.relative_to(ROOT))


def _chosen(key: tuple[str, str, str], only: set[str], tabs: set[str]) -> bool:
    """Whether this run reruns the table cell ``key`` (generation, section, tab)."""
    return (not only or key[0] in only) and (not tabs or key[2] in tabs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=1, help="epochs per section (default 1)")
    parser.add_argument("--only", nargs="*", default=[], choices=sorted(GENERATIONS), help="generations to run")
    parser.add_argument("--tabs", nargs="*", default=[], choices=[TAB_OF.get(n, n) for n in NAMES],
                        help="tabs to run; the other tabs' cells are kept from the existing table")
    args = parser.parse_args()
    os.environ.setdefault("D2LRNN_DATA_DIR", str(ROOT.parent / "shared" / "data"))
    os.environ.setdefault("D2LRNN_SHARED", str(ROOT.parent / "shared"))
    only, tabs = set(args.only), set(args.tabs)
    kept = {key: result for key, result in read_table(OUT).items() if not _chosen(key, only, tabs)} if only or tabs else {}
    results = {**kept, **run_sections(args.epochs, only, tabs), **run_seeds(args.epochs, only, tabs)}
    write(results, args.epochs)


if __name__ == "__main__":
    main()
