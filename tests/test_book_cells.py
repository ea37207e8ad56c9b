"""The book's sections as a reader types them (``tests/book_cells``), run with the import line swapped.

Each cell file runs in its own interpreter (one framework per process). The default suite runs the
sections of the RNN chapter itself for :data:`EPOCHS` epoch(s); the modern-RNN sections (GRU,
LSTM, deep RNNs) and longer runs are ``slow``. Every run must print the lines the cell file
expects (the shapes and values the book prints) and, where the section trains, perplexities that fall.
"""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import pytest

from d2lrnn.book.cells import cell_files, falling, known_issue_applies, run_cell_file

from .conftest import needs_corpus

REPO = Path(__file__).resolve().parents[1]
CELLS = REPO / "tests" / "book_cells"
EPOCHS = 1
SLOW_EPOCHS = 3
#: (generation, section) pairs fast enough for the default suite (0.x's concise section is also seed 004)
FAST = {("v1", "text-sequence"), ("v1", "language-model"), ("v1", "rnn-scratch"), ("v1", "rnn-concise"),
        ("v0", "rnn-scratch"), ("v0", "text-sequence"), ("v0", "language-model")}
#: framework tab -> the packages it needs
TAB_PACKAGES = {"pytorch": ("torch",), "mxnet": ("mxnet",), "tensorflow": ("tensorflow", "tf_keras"), "jax": ("jax", "flax")}


def params(slow: bool) -> list:
    out = []
    for cell_file in cell_files(CELLS):
        missing = [p for p in TAB_PACKAGES[cell_file.tab] if importlib.util.find_spec(p) is None]
        marks = [pytest.mark.skip(reason=f"{', '.join(missing)} not installed")] if missing else []
        if slow or (cell_file.generation, cell_file.section) not in FAST:
            marks.append(pytest.mark.slow)
        for when, why in cell_file.known_issues.items():
            # PACKAGE>=VERSION where installed; epochs<2 in the one-epoch test only
            if known_issue_applies(when) or (when == "epochs<2" and not slow and EPOCHS < 2):
                marks.append(pytest.mark.xfail(reason=why, strict=False))
        out.append(pytest.param(cell_file, id=f"{cell_file.generation}-{cell_file.section}-{cell_file.tab}", marks=marks))
    return out


def perplexities(output: str) -> list[list[float]]:
    """The perplexities of every ``PPL p1 p2 ...`` line a probe printed."""
    return [[float(v) for v in m[1].split()] for m in re.finditer(r"^PPL (.*)$", output, re.M)]


def check(cell_file, epochs: int) -> None:
    outcome = run_cell_file(cell_file, REPO, epochs)
    assert outcome.returncode == 0, f"the cells failed:\n{outcome.output[-3000:]}\n{outcome.errors[-6000:]}"
    assert not outcome.missing, f"output lacks {outcome.missing}:\n{outcome.output[-3000:]}"
    for run in perplexities(outcome.output):
        assert falling(run), f"the perplexity did not fall: {run}"


@needs_corpus
@pytest.mark.parametrize("cell_file", params(slow=False))
def test_book_section_runs_as_typed(cell_file) -> None:
    check(cell_file, EPOCHS)


@needs_corpus
@pytest.mark.parametrize("cell_file", params(slow=True))
def test_book_section_learns_longer(cell_file) -> None:
    check(cell_file, SLOW_EPOCHS)


def test_cell_files_parse() -> None:
    files = cell_files(CELLS)
    assert {f.generation for f in files} >= {"v0", "v1"}
    for cell_file in files:
        assert cell_file.cells, f"{cell_file.path} has no cells"
        code = "\n".join(cell_file.prepared(1))
        assert "from d2l import" not in code, f"{cell_file.path}: the import line was not swapped"


def test_known_issue_applies_compares_installed_versions() -> None:
    assert known_issue_applies("pytest>=1")
    assert not known_issue_applies("pytest>=10000")
    assert not known_issue_applies("no-such-package-here>=1")
