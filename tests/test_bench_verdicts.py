"""The benchmark's verdicts: "met" needs the median and two thirds of the pairs; no row compares a
setting with itself."""

from __future__ import annotations

from typing import Any

import pytest

from d2lrnn.bench.config import BOOK, DEFAULT_THREADS, FLOOR, SEED, BenchConfig
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


def _rates_row(rates: list[float], limit: float | None = None) -> dict[str, Any]:
    return {"status": "ok", "repeat_tokens_per_sec": rates, "limit_tokens_per_sec": limit}


def test_jax_is_held_to_pytorchs_speed_at_every_setting_and_model() -> None:
    config = BenchConfig(backends=["torch", "jax"])
    rows = {}
    for condition in (SEED, "h512", "h1024", "word"):
        for model in ("concise", "scratch", FLOOR):
            rows[f"torch/{model}/{condition}"] = _rates_row([100, 100, 100])
            rows[f"jax/{model}/{condition}"] = _rates_row([120, 90, 130] if condition == "h512"
                                                    else [80, 90, 70])
    peers = {c["name"]: c for c in comparisons(rows, config) if c["name"].endswith("/ PyTorch")}
    assert len(peers) == 12
    assert peers["concise, 512 hidden: JAX / PyTorch"]["verdict"] == "met"
    assert peers["scratch, 1024 hidden: JAX / PyTorch"]["verdict"] == "not met"
    assert peers["concise, word tokens: JAX / PyTorch"]["values"] == pytest.approx([0.8, 0.9, 0.7])
    assert peers["floor, 256 hidden: JAX / PyTorch"]["target"] is None  # the bound, not a target
    alone = comparisons(rows, BenchConfig(backends=["jax"]))  # no PyTorch in the run: no pair
    assert not any(c["name"].endswith("/ PyTorch") for c in alone)


def test_the_share_of_the_limit_at_1024_hidden_units_and_of_the_moonshot() -> None:
    rows = {
        f"torch/concise/{SEED}": _rates_row([150_000, 210_000, 205_000], 250_000),
        "torch/concise/h1024": _rates_row([7_000, 8_000, 9_000], 10_000),
        f"torch/{FLOOR}/h1024": _rates_row([8_000, 8_000, 8_000], 10_000),
    }
    found = {c["name"]: c for c in comparisons(rows, BenchConfig(backends=["torch"]))}
    share = found["concise, 1024 hidden: share of the limit"]
    assert share["values"] == pytest.approx([0.7, 0.8, 0.9]) and share["target"] == 0.75
    assert share["verdict"] == "met"
    bound = found["floor, 1024 hidden: share of the limit (bounds the concise model)"]
    assert bound["median"] == pytest.approx(0.8) and bound["verdict"] is None
    assert found["overhead over the floor, 1024 hidden"]["values"] == pytest.approx(
        [0.125, 0.0, -0.125])
    moonshot = found["concise, quiet: share of 200k tokens/s"]
    assert moonshot["values"] == pytest.approx([0.75, 1.05, 1.025])
    assert moonshot["verdict"] == "met"
    # off the seed settings there is no moonshot
    names = {c["name"] for c in comparisons(rows, BenchConfig(backends=["torch"], num_hiddens=64))}
    assert "concise, quiet: share of 200k tokens/s" not in names
