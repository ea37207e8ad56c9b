"""The book's full run (500 epochs, seed hyperparameters) on every backend: `pytest -m slow`."""

import json

import pytest

from .conftest import BACKENDS, needs_corpus, run_cli


@needs_corpus
@pytest.mark.slow
@pytest.mark.parametrize("name", BACKENDS)
def test_default_training_reaches_the_books_perplexity(name):
    result = run_cli("train", "--backend", name, "--quiet", "--json", timeout=900)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout.splitlines()[-1])
    assert report["epochs"] == 500 and report["backend"] == name
    assert report["perplexity"] <= 1.4, report
    assert report["tokens_per_sec"] > 0
    assert result.stdout.splitlines()[0].startswith("perplexity 1.")
