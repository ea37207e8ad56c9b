"""The machine's limit (``d2lrnn/bench/roofline.py``): the products of a step, the limit from their
times, the fastest engine per product, the fraction on every row, and its place on the page."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from d2lrnn import bench
from d2lrnn.bench import BenchConfig, roofline
from d2lrnn.bench.config import FLOOR, SEED
from d2lrnn.bench.roofline import Shape, best_times, limit, products

from .test_bench import _no_busy_core, fake_runner


def test_a_step_needs_the_gather_two_recurrent_products_per_step_the_weight_gradient_and_the_output_layers_three() -> (  # noqa: E501
    None
):
    found = {
        p.name: p
        for p in products(Shape(batch=32, num_steps=35, hidden=256, vocab=28, cell="lstm"))
    }
    assert (found["input gather"].m, found["input gather"].n, found["input gather"].calls) == (
        1120,
        1024,
        1,
    )
    assert [(found[n].m, found[n].k, found[n].n, found[n].calls) for n in
            ("recurrent forward", "recurrent backward, state", "recurrent backward, weights")] == [
        (32, 256, 1024, 35), (32, 1024, 256, 35), (256, 1120, 1024, 1)]
    assert [(found[n].m, found[n].k, found[n].n, found[n].calls) for n in
            ("output forward", "output backward, input", "output backward, weights")] == [
        (1120, 256, 28, 1), (1120, 28, 256, 1), (256, 1120, 28, 1)]
    assert found["recurrent forward"].flops == 2 * 32 * 256 * 1024


def test_the_limit_is_the_steps_tokens_over_the_products_seconds() -> None:
    shape = Shape(batch=2, num_steps=3, hidden=4, vocab=5)
    seconds = {p.name: 0.001 for p in products(shape)}
    seconds["recurrent forward"] = 0.002
    # gather 1 + forward 3 x 2 + state gradient 3 + weight gradient 1 + output 3 = 14 ms for 2 x 3
    # tokens
    assert limit(shape, seconds) == pytest.approx(6 / 0.014)
    del seconds["output forward"]
    assert limit(shape, seconds) is None, "a product not timed leaves no limit, not a higher one"


def test_each_product_counts_at_its_fastest_engine_and_a_skipped_engine_is_ignored() -> None:
    shape = Shape(2, 3, 4, 5)
    names = [p.name for p in products(shape)]
    slow = {shape.key: {n: 0.002 for n in names}}
    fast = {shape.key: {n: 0.001 for n in names if n != "input gather"}}
    fast[shape.key]["output forward"] = 0.005
    measured = [
        {"engine": "numpy", "status": "ok", "shapes": slow},
        {"engine": "torch", "status": "ok", "shapes": fast},
        {"engine": "jax", "status": "skipped", "reason": "not installed"},
    ]
    best = best_times(measured)[shape.key]
    assert best["input gather"] == {"seconds": 0.002, "engine": "numpy"}
    assert best["recurrent forward"] == {"seconds": 0.001, "engine": "torch"}
    assert best["output forward"] == {"seconds": 0.002, "engine": "numpy"}
    summary = roofline.summarise([shape], measured)
    seconds = 0.002 + 7 * 0.001 + 0.002 + 2 * 0.001
    assert summary["shapes"][shape.key]["limit_tokens_per_sec"] == pytest.approx(6 / seconds)
    assert [e["status"] for e in summary["engines"]] == ["ok", "ok", "skipped"]


def test_time_call_is_the_median_seconds_per_call_and_waits_for_the_last_result() -> None:
    ticks = iter(
        [0.0, 0.01] + [x for i in range(5) for x in (1.0 * i, 1.0 * i + 0.04 * (1 + i % 2))]
    )
    calls, finished = [], []
    per_call = roofline.time_call(
        lambda: calls.append(1) or len(calls),
        finished.append,
        clock=lambda: next(ticks),
        sample_s=0.04,
        samples=5,
    )
    # warm-up, one timed call (10 ms: 4 calls per sample), then 5 samples of 40 or 80 ms
    assert len(calls) == 2 + 5 * 4 and finished == [1, 2, 6, 10, 14, 18, 22]
    assert per_call == pytest.approx(0.01)


def test_numpy_times_every_product_of_a_small_shape() -> None:
    shape = Shape(2, 3, 8, 11, "gru")
    result = roofline.measure("numpy", [shape])
    assert result["status"] == "ok", result
    times = result["shapes"][shape.key]
    assert set(times) == {p.name for p in products(shape)} and all(t > 0 for t in times.values())
    assert roofline.measure("no-such-engine", [shape])["status"] == "skipped"


def test_every_condition_of_a_run_has_its_shape() -> None:
    config = BenchConfig(backends=["torch"], cells=["gru"])
    shapes = roofline.config_shapes(config, vocab=lambda token: {"char": 28, "word": 1500}[token])
    assert shapes[SEED] == Shape(32, 35, 256, 28) == shapes["busy"]
    assert shapes["h1024"] == Shape(32, 35, 1024, 28) and shapes["word"] == Shape(32, 35, 256, 1500)
    assert shapes["gru"] == Shape(32, 35, 256, 28, "gru")


def _fake_roofline(config: BenchConfig, log: Any) -> dict[str, Any]:
    shapes = roofline.config_shapes(config, vocab=lambda token: 28)
    unique = {s.key: s for s in shapes.values()}
    measured = [
        {
            "engine": "numpy",
            "status": "ok",
            "shapes": {
                k: {p.name: 1e-6 * s.hidden / 256 for p in products(s)} for k, s in unique.items()
            },
        }
    ]
    return {
        **roofline.summarise(list(unique.values()), measured),
        "conditions": {c: s.key for c, s in shapes.items()},
    }


@pytest.fixture
def results(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    monkeypatch.setattr(bench.runner, "is_installed", lambda name: True)
    monkeypatch.setattr(bench.runner, "busy_core", _no_busy_core)
    config = BenchConfig(backends=["torch"], epochs=8, repeats=3, cooldown=0)
    return bench.run_benchmark(
        config, log=lambda m: None, runner=fake_runner, roofline=_fake_roofline
    )


def test_every_row_gets_its_fraction_of_the_limit(results: dict[str, Any]) -> None:
    # the fake engine's products take 1 µs x hidden / 256
    seed_limit = 32 * 35 / (1e-6 * (1 + 2 * 35 + 1 + 3))
    assert {r["condition"] for r in results["rows"]} >= {SEED, "busy", "h512", "h1024", "word"}
    for row in results["rows"]:
        hidden = int(row["condition"][1:]) if row["condition"] in ("h512", "h1024") else 256
        expected = seed_limit * 256 / hidden
        assert row["limit_tokens_per_sec"] == pytest.approx(expected), row["condition"]
        assert row["fraction_of_limit"] == pytest.approx(row["tokens_per_sec"] / expected)


def test_the_page_shows_the_fraction_on_every_row_and_plots_it(
    results: dict[str, Any], tmp_path: Path
) -> None:
    text = bench.markdown_report(results, {"results": "r.png", "limit": "limit.png"})
    header = next(
        line for line in text.splitlines() if line.startswith("| backend | model | condition")
    )
    column = header.split(" | ").index("fraction of the limit")
    lines = [li for li in bench.rows_table(results).splitlines() if li.startswith("| PyTorch | ")]
    assert len(lines) >= 5 and all(li.split(" | ")[column].endswith("%") for li in lines)
    assert f"{results['rows'][0]['fraction_of_limit']:.0%}" in text
    assert "![fraction of the machine's limit" in text and "| **limit** |" in text
    assert "d2lrnn / limit" in bench.scaling_table(results)
    files = bench.write_all(results, tmp_path)
    assert files["limit"].read_bytes()[:4] == b"\x89PNG"
    record = bench.read_history(files["history"])[-1]
    assert record["fraction_of_limit"][f"torch/{FLOOR}/{SEED}"] == pytest.approx(
        next(
            r["fraction_of_limit"]
            for r in results["rows"]
            if r["model"] == FLOOR and r["condition"] == SEED
        )
    )


def test_a_run_without_the_limit_says_so(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(bench.runner, "busy_core", _no_busy_core)
    config = BenchConfig(
        backends=["torch"],
        models=["concise"],
        busy=False,
        scaling=False,
        book=False,
        repeats=1,
        cooldown=0,
    )
    out = bench.run_benchmark(config, log=lambda m: None, runner=fake_runner)
    assert "roofline" not in out and "limit was not measured" in bench.report.roofline_text(out)
    assert "| – |" in bench.rows_table(out)


def test_the_headline_draws_the_limit_and_each_backends_share(
    results: dict[str, Any], tmp_path: Path
) -> None:
    from d2lrnn.bench.headline import headline_summary, write_headline_chart

    summary = headline_summary(results)
    concise = next(r for r in results["rows"] if r["model"] == "concise" and r["condition"] == SEED)
    assert f"{concise['fraction_of_limit']:.0%} of the limit" in summary
    assert f"is {concise['limit_tokens_per_sec'] / 1000:.0f}k tokens/s" in summary
    assert write_headline_chart(results, tmp_path / "h.png").read_bytes()[:4] == b"\x89PNG"


def test_the_page_is_redrawn_from_stored_results_without_a_new_history_line(results: dict[str, Any],
                                                                            tmp_path: Path) -> None:
    from d2lrnn.bench import pages

    docs = tmp_path / "docs"
    files = bench.write_all(results, tmp_path / "out")
    page = bench.publish(results, docs, files)
    history = (docs / "bench" / pages.HISTORY).read_text()
    page.write_text(page.read_text().replace("fraction of the limit", "STALE"))
    pages.redraw(docs)
    assert "STALE" not in page.read_text() and "fraction of the limit" in page.read_text()
    assert (docs / "bench" / pages.HISTORY).read_text() == history
    assert json.loads((docs / "bench" / "results.json").read_text())["roofline"]["shapes"]


def test_each_engine_runs_in_a_fresh_process_and_a_backend_times_with_its_own_product() -> None:
    shape = Shape(2, 3, 8, 11)
    summary = roofline.measure_roofline([shape], names=["numpy", "jax"])
    assert [e["status"] for e in summary["engines"]] == ["ok", "ok"], summary["engines"]
    entry = summary["shapes"][shape.key]
    assert entry["limit_tokens_per_sec"] > 0
    assert entry["products"]["input gather"]["engine"] == "numpy"  # only NumPy times the gather
    assert {p for r in summary["raw"] if r["engine"] == "jax" for p in r["shapes"][shape.key]} == {
        p.name for p in products(shape) if p.k}


def test_every_installed_backend_times_with_its_own_product() -> None:
    """MXNet included: each adapter's ``OPS.matmul`` runs the products (eagerly)."""
    from d2lrnn.backends import NAMES, is_installed

    for name in (n for n in NAMES if is_installed(n)):
        matmul, to_engine, finish, _ = roofline._engine(name)
        a, b = np.arange(6, dtype=np.float32).reshape(2, 3), np.ones((3, 2), np.float32)
        np.testing.assert_allclose(finish(matmul(to_engine(a), to_engine(b))), a @ b, err_msg=name)


def test_step_seconds_sum_the_products_at_the_fastest_or_at_one_engines_own() -> None:
    shape = Shape(2, 3, 8, 11)
    own = {p.name: 2e-6 for p in products(shape) if p.k}
    measured = [
        {"engine": "numpy", "status": "ok",
         "shapes": {shape.key: {p.name: 1e-6 for p in products(shape)}}},
        {"engine": "torch", "status": "ok", "shapes": {shape.key: own}},
    ]
    summary = roofline.summarise([shape], measured)
    calls = sum(p.calls for p in products(shape))
    assert roofline.step_seconds(summary, shape.key) == pytest.approx(1e-6 * calls)
    # the framework's own products, the gather (NumPy's alone) at its fastest
    assert roofline.step_seconds(summary, shape.key, "torch") == pytest.approx(
        1e-6 + 2e-6 * (calls - 1))
    assert roofline.step_seconds(summary, shape.key, "jax") is None  # not measured
    assert roofline.step_seconds(summary, "other") is None


def test_the_page_splits_each_rows_time_into_products_and_the_rest(
    results: dict[str, Any],
) -> None:
    rows = bench.report.time_rows(results)
    concise = next(e for e in rows if e["model"] == "concise" and e["condition"] == SEED)
    row = next(r for r in results["rows"] if r["model"] == "concise" and r["condition"] == SEED)
    assert concise["batch_s"] == pytest.approx(32 * 35 / row["tokens_per_sec"])
    # the fake roofline measured NumPy only: no torch engine, so no own split
    assert concise["own_products_s"] is None and concise["best_products_s"] > 0
    assert {e["condition"] for e in rows} >= {SEED, "h512", "h1024", "word"}
    assert all(e["model"] != "book" for e in rows)
    text = bench.markdown_report(results)
    assert "### Where a batch's time goes" in text and "5.6 ms in all" in text
