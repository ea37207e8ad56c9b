"""The book's sections as a reader types them (``tests/book_cells``), run with the import line
swapped.

Each cell file runs in its own interpreter (one framework per process). The default suite runs
training sections of every tab but JAX (:data:`FAST`) for :data:`EPOCHS` epoch(s); the other
sections and longer runs are ``slow`` here, and CI runs every section on every tab through
``scripts/book_matrix.py run`` and ``check`` (the same judgement,
:func:`d2lrnn.book.cells.problems`).
A run must print the lines the cell file expects (the shapes and values the book prints) and, where
the section trains, perplexities that fall. Where a known issue applies, the run must fail exactly
as recorded (exception, cell, message) after every earlier cell ran and printed what it should.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from d2lrnn.book.cells import (
    Failure,
    KnownIssue,
    Outcome,
    cell_files,
    known_issue_applies,
    perplexities,
    problems,
    read_cell_file,
    run_cell_file,
)

from .conftest import needs_corpus

REPO = Path(__file__).resolve().parents[1]
CELLS = REPO / "tests" / "book_cells"
EPOCHS = 1
SLOW_EPOCHS = 3
#: (generation, section, tab) of the default suite: a training section on each tab of the published
#: book that reaches its own framework's layers or its own loop, and 0.x's scratch section where a
#: known issue must fail exactly as recorded (TensorFlow) and where it must not (PyTorch). CI runs
#: every section on every tab through ``scripts/book_matrix.py``, with the same judgement; the JAX
#: tab's book code is also trained in tests/test_book_jax.py.
FAST = {
    ("v1", "rnn-concise", "pytorch"),
    ("v1", "rnn-concise", "mxnet"),
    ("v1", "rnn-scratch", "tensorflow"),
    ("v0", "rnn-scratch", "tensorflow"),
    ("v0", "rnn-scratch", "pytorch"),
}
#: framework tab -> the packages it needs
TAB_PACKAGES = {
    "pytorch": ("torch",),
    "mxnet": ("mxnet",),
    "tensorflow": ("tensorflow", "tf_keras"),
    "jax": ("jax", "flax"),
}

__all__ = ["CELLS", "FAST", "REPO", "TAB_PACKAGES", "perplexities"]


def params(slow: bool) -> list:
    out = []
    for cell_file in cell_files(CELLS):
        missing = [p for p in TAB_PACKAGES[cell_file.tab] if importlib.util.find_spec(p) is None]
        marks = [pytest.mark.skip(reason=f"{', '.join(missing)} not installed")] if missing else []
        if slow or (cell_file.generation, cell_file.section, cell_file.tab) not in FAST:
            marks.append(pytest.mark.slow)
        out.append(
            pytest.param(
                cell_file,
                id=f"{cell_file.generation}-{cell_file.section}-{cell_file.tab}",
                marks=marks,
            )
        )
    return out


def check(cell_file, epochs: int) -> None:
    outcome = run_cell_file(cell_file, REPO, epochs)
    found = problems(cell_file, outcome, tolerate_flat=epochs < 2)
    assert not found, "\n".join(found)


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
        assert len(cell_file.cell_expect) == len(cell_file.cells)
        code = "\n".join(cell_file.prepared(1))
        assert "from d2l import" not in code, f"{cell_file.path}: the import line was not swapped"
        for issue in cell_file.known_issues:
            # a failure must say exactly what fails, where, and where it was seen
            if issue.when != "epochs<2":
                assert issue.exception and issue.fragment and issue.seen, (
                    f"{cell_file.path}: {issue}"
                )
                assert 1 <= issue.cell <= len(cell_file.cells), (
                    f"{cell_file.path}: no cell {issue.cell}"
                )


def test_known_issue_applies_compares_installed_versions() -> None:
    assert known_issue_applies("pytest>=1")
    assert known_issue_applies("pytest>=1,<10000")
    assert not known_issue_applies("pytest>=10000")
    assert not known_issue_applies("pytest<1")
    assert not known_issue_applies("no-such-package-here>=1")
    assert not known_issue_applies("epochs<2")


SECTION = """# known-issue: pytest>=1: the demo's third cell fails
# raises: ZeroDivisionError in cell 3: division by zero
# seen: pytest 9
# %%
print('shape', (2, 3))
# expect: ^shape \\(2, 3\\)$
# %%
print('PPL 9.0 5.0')
# %%
1 / 0
# %%
print('never')
# expect: ^never$
"""


def _demo(tmp_path: Path, text: str = SECTION):
    path = tmp_path / "v1" / "demo" / "pytorch.py"
    path.parent.mkdir(parents=True)
    path.write_text(text, encoding="utf-8")
    return read_cell_file(path)


def test_a_cell_file_records_where_the_book_fails(tmp_path) -> None:
    demo = _demo(tmp_path)
    assert demo.known_issues == [
        KnownIssue(
            "pytest>=1",
            "the demo's third cell fails",
            "ZeroDivisionError",
            3,
            "division by zero",
            "pytest 9",
        )
    ]
    assert demo.cell_expect == [[r"^shape \(2, 3\)$"], [], [], ["^never$"]]
    assert demo.failure_here() == demo.known_issues[0]


def test_the_exact_known_failure_passes_and_only_it(tmp_path) -> None:
    demo = _demo(tmp_path)
    outcome = run_cell_file(demo, REPO, 1, timeout=60)
    assert outcome.failure == Failure(3, "ZeroDivisionError", "division by zero")
    assert problems(demo, outcome) == []
    # another exception, another cell, another message, no failure at all: each is a problem
    for failure in (
        Failure(3, "TypeError", "division by zero"),
        Failure(2, "ZeroDivisionError", "division by zero"),
        Failure(3, "ZeroDivisionError", "something else"),
        None,
    ):
        assert problems(demo, Outcome(1 if failure else 0, outcome.output, "", [], failure)), (
            failure
        )
    # a cell before the failing one that does not print what it should
    broken = _demo(
        tmp_path / "b", SECTION.replace("print('shape', (2, 3))", "print('shape', (3, 2))")
    )
    assert any("lacks" in p for p in problems(broken, run_cell_file(broken, REPO, 1, timeout=60)))
    # a perplexity before it that does not fall
    flat = _demo(tmp_path / "c", SECTION.replace("PPL 9.0 5.0", "PPL 5.0 9.0"))
    assert any(
        "did not fall" in p for p in problems(flat, run_cell_file(flat, REPO, 1, timeout=60))
    )


NOISY = """# judge-after: 3 epochs: the demo's perplexity is noisy
# %%
num_epochs = 500
print('epochs', num_epochs)
"""


def test_a_noisy_section_trains_at_least_its_judge_after_epochs(tmp_path) -> None:
    noisy = _demo(tmp_path, NOISY)
    assert noisy.min_epochs == 3
    assert [noisy.epochs_run(e) for e in (1, 2, 3, 5)] == [3, 3, 3, 5]
    assert "epochs 3" in run_cell_file(noisy, REPO, 1, timeout=60).output
    assert "epochs 5" in run_cell_file(noisy, REPO, 5, timeout=60).output
    assert _demo(tmp_path / "plain", SECTION).epochs_run(1) == 1
    with pytest.raises(ValueError, match="N epochs: WHY"):
        _demo(tmp_path / "bad", NOISY.replace("3 epochs:", "three epochs:"))


def test_without_a_known_issue_any_failure_is_a_problem(tmp_path) -> None:
    plain = _demo(tmp_path, SECTION.replace("pytest>=1", "pytest>=10000"))
    assert plain.failure_here() is None
    found = problems(plain, run_cell_file(plain, REPO, 1, timeout=60))
    assert any(
        "ZeroDivisionError in cell 3" in p or "in cell 3: ZeroDivisionError" in p for p in found
    ), found
