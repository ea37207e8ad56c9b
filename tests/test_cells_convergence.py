"""GRU and LSTM at the book's settings (batch 32, 35 steps, 256 hidden units, lr 1, clip 1, 500
epochs,
10,000 characters) reach a training perplexity of at most 1.1 on every backend: `pytest -m slow`."""

from __future__ import annotations

import json

import pytest

from .conftest import BACKENDS, needs_corpus, run_cli

MAX_PERPLEXITY = 1.1


@needs_corpus
@pytest.mark.slow
@pytest.mark.parametrize("cell", ["gru", "lstm"])
@pytest.mark.parametrize("name", BACKENDS)
def test_gated_cells_reach_the_books_perplexity(name, cell, tmp_path):
    plot = tmp_path / f"{name}-{cell}.png"
    result = run_cli(
        "train",
        "--backend",
        name,
        "--cell",
        cell,
        "--seed",
        "0",
        "--quiet",
        "--json",
        "--plot",
        str(plot),
        timeout=3600,
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout.splitlines()[-1])
    print(
        f"{name} {cell}: perplexity {report['perplexity']:.3f}, {report['tokens_per_sec']:.0f} "
        "tokens/s"
    )
    assert report["epochs"] == 500 and report["backend"] == name and report["cell"] == cell
    assert report["perplexity"] <= MAX_PERPLEXITY, report
    assert plot.is_file()
