"""scripts/book_matrix.py: one table per environment from complete runs, statuses that say what ran,
and a check."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import pytest

from .conftest import ROOT


def _load():
    spec = importlib.util.spec_from_file_location(
        "book_matrix", ROOT / "scripts" / "book_matrix.py"
    )
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


bm = _load()


def record(env: str, cells: dict[str, dict[str, str]], complete: bool = True) -> dict:
    return {
        "env": env,
        "python": "3.11",
        "versions": {"numpy": "2.4.6"},
        "epochs": 2,
        "date": "today",
        "cells": cells,
        "complete": complete,
        "minutes": 1.0,
    }


CELLS = {
    "v1|gru|jax": {
        "status": "known-issue",
        "text": "the book's code fails with `flax>=0.7.5` as recorded",
    },
    "v1|gru|pytorch": {"status": "ran", "text": "✓ ppl 22.7 → 17.4 (9 s)"},
    "v1|rnn-concise|jax": {
        "status": "stand-in",
        "text": "d2lrnn's stand-in ran: d2l.RNN; ppl 22 → 15 (9 s)",
    },
    "v0|gru|mxnet": {"status": "ran", "text": "✓ ppl 26 → 19 (3 s)"},
}


def test_one_table_per_environment_naming_its_versions() -> None:
    page = bm.render([record("env one", CELLS), record("env two", CELLS)])
    assert page.count("| generation | section |") == 2
    assert "### env one" in page and "### env two" in page and "numpy 2.4.6" in page
    # the stand-in and the known issue are no check marks; a tab the book lacks says so
    row = next(line for line in page.splitlines() if line.startswith("| v1 | rnn-concise |"))
    assert "d2lrnn's stand-in ran" in row and "✓" not in row
    assert "no such tab in this book" in next(
        line for line in page.splitlines() if line.startswith("| v0 | gru |")
    )


def test_the_check_finds_every_status_that_differs(tmp_path: Path) -> None:
    page = tmp_path / "matrix.md"
    page.write_text(bm.render([record("env one", CELLS)]))
    assert bm.differences(bm.page_statuses(page), bm.statuses([record("env one", CELLS)])) == []
    changed = {**CELLS, "v1|gru|jax": {"status": "fails", "text": "✗ TypeError in cell 3"}}
    found = bm.differences(bm.page_statuses(page), bm.statuses([record("env one", changed)]))
    assert found == ["env one: v1|gru|jax: the page says known-issue, this run saw fails"]
    assert bm.differences(bm.page_statuses(page), bm.statuses([record("env two", CELLS)])) == [
        "env one: on the page, not in this run", "env two: in this run, not on the page"]


def test_a_partial_run_cannot_make_the_page(tmp_path: Path) -> None:
    path = tmp_path / "partial.json"
    path.write_text(json.dumps(record("env one", CELLS, complete=False)))
    with pytest.raises(SystemExit, match="not complete"):
        bm.load_records([path])
