"""The benchmark's verdicts: "met" needs the median and two thirds of the pairs; no row compares a
setting with itself."""

from __future__ import annotations

from typing import Any

import pytest

from d2lrnn.bench.config import BOOK, DEFAULT_THREADS, SEED, BenchConfig
from d2lrnn.bench.stats import comparisons, verdict


@pytest.mark.parametrize(
    ("passes", "median_passes", "expected"),
    [
        ([True, True, True], True, "met"),
        ([True, True, False], True, "met"),  # 2 of 3: two thirds
        ([True, False, False, True, True, False], True, "within noise"),  # 3 of 6 < two thirds
        ([False, False, True], False, "not met"),
        ([False, False, False], False, "not met"),
        ([True, True, False, False], False, "within noise"),
        ([True], True, "within noise"),  # one pair is too few
        ([], True, "within noise"),
    ],
)
def test_a_verdict_needs_the_median_and_two_thirds_of_the_pairs(
    passes, median_passes, expected
) -> None:
    assert verdict(passes, median_passes) == expected


def _row(model: str, rates: tuple[float, ...], condition: str = SEED) -> dict[str, Any]:
    return {"backend": "torch", "model": model, "condition": condition, "status": "ok",
            "repeat_tokens_per_sec": list(rates)}


def test_a_median_over_target_with_straddling_pairs_is_within_noise() -> None:
    """The published PyTorch case: a median of 1.21x against 1.2, with pairs from 1.05x."""
    from d2lrnn.bench import stats

    values = [1.05, 1.21, 1.25, 1.21, 1.10]
    assert stats._verdict_ratio(values, stats.spread(values), 1.2) == "within noise"
    assert stats._verdict_ratio([1.21, 1.25, 1.22], stats.spread([1.21, 1.25, 1.22]), 1.2) == "met"


@pytest.mark.parametrize(
    ("threads", "compared"), [("auto", False), (None, False), (1, True), (2, True)]
)
def test_threads_are_compared_with_the_framework_default_only_when_they_differ(
    threads, compared
) -> None:
    rows = {f"torch/concise/{SEED}": _row("concise", (100, 100, 100)),
            f"torch/concise/{DEFAULT_THREADS}": _row("concise", (95, 105, 100), DEFAULT_THREADS)}
    names = [c["name"] for c in comparisons(rows, BenchConfig(backends=["torch"], threads=threads))]
    assert any(n.startswith("quiet: threads") for n in names) == compared, names


def test_each_gated_cell_is_compared_with_the_books_own_against_its_target() -> None:
    rows = {f"torch/{model}/{cell}": _row(model, rates, cell)
            for cell, pairs in {"gru": ((130, 125, 128), (100, 100, 100)),
                                "lstm": ((100, 105, 98), (100, 100, 100))}.items()
            for model, rates in zip(("concise", BOOK), pairs)}
    found = {
        c["name"]: c
        for c in comparisons(rows, BenchConfig(backends=["torch"], cells=["gru", "lstm"]))
    }
    assert (
        found["GRU: d2lrnn / book"]["target"] == 1.2
        and found["GRU: d2lrnn / book"]["verdict"] == "met"
    )
    assert found["LSTM: d2lrnn / book"]["verdict"] == "not met"
    assert not any(name.startswith(("GRU", "LSTM")) for name in
                   (c["name"] for c in comparisons(rows, BenchConfig(backends=["torch"]))))
