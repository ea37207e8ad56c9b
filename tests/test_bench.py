"""The benchmark tool: maths, writers, publishing, the command line and one tiny real run."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from d2lrnn import bench
from d2lrnn.bench import BenchConfig

ROOT = Path(__file__).resolve().parent.parent


def _epochs(*rates: float, tokens: int = 1000) -> list[dict[str, float]]:
    return [{"tokens": tokens, "seconds": tokens / r, "perplexity": 2.0} for r in rates]


def _run(backend: str, model: str, rates: tuple[float, ...], ppl: float = 1.2) -> dict[str, Any]:
    return {"backend": backend, "model": model, "status": "ok", "epochs": _epochs(*rates), "perplexity": ppl,
            "wall_s": 10.0, "first_batch_s": 2.0, "peak_rss_mib": 300.0, "framework_version": "1.0", "device": "cpu"}


def fake_runner(backend: str, model: str, seed: int, config: BenchConfig) -> dict[str, Any]:
    """Synthetic workers: torch concise 130k (floor 140k), scratch 50k; mxnet skipped by its worker."""
    if backend == "mxnet":
        return {"backend": backend, "model": model, "status": "skipped", "reason": "no adapter. More text."}
    base = {"concise": 130_000, "scratch": 50_000, "floor": 140_000}[model]
    return _run(backend, model, (1_000, base + seed, base - seed, base))  # the first epoch is warm-up


@pytest.fixture
def results(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    monkeypatch.setattr(bench.runner, "is_installed", lambda name: name != "tensorflow")
    config = BenchConfig(backends=["mxnet", "torch", "tensorflow"], epochs=500, repeats=3)
    return bench.run_benchmark(config, log=lambda msg: None, runner=fake_runner)


def test_repeat_rate_drops_the_warmup_epoch_and_takes_the_median() -> None:
    assert bench.repeat_rate(_epochs(10, 100, 300, 200)) == pytest.approx(200)
    assert bench.repeat_rate(_epochs(10, 100)) == pytest.approx(100)
    assert bench.repeat_rate(_epochs(10)) == pytest.approx(10)  # nothing past warm-up: use what there is


def test_median_overhead_and_combine() -> None:
    assert bench.median([3, None, 1, 2]) == 2
    assert bench.median([None]) is None
    assert bench.overhead(90, 100) == pytest.approx(0.10)
    assert bench.overhead(110, 100) == pytest.approx(-0.10)
    assert bench.overhead(None, 100) is None and bench.overhead(90, None) is None
    runs = [_run("torch", "concise", (1, 100, 100)), _run("torch", "concise", (1, 300, 300)),
            _run("torch", "concise", (1, 200, 200)), {"status": "failed", "reason": "boom"}]
    runs[0]["peak_rss_mib"] = 900.0
    out = bench.combine(runs)
    assert out["tokens_per_sec"] == pytest.approx(200)
    assert out["repeat_tokens_per_sec"] == pytest.approx([100, 300, 200])
    assert out["peak_rss_mib"] == 900.0 and out["repeats"] == 3 and out["failed_repeats"] == 1
    assert bench.combine([{"status": "skipped", "reason": "x"}]) == {"status": "skipped", "reason": "x"}


def test_checks_against_the_targets(results: dict[str, Any]) -> None:
    rows = {(r["backend"], r["model"]): r for r in results["rows"]}
    concise, scratch = rows["torch", "concise"], rows["torch", "scratch"]
    assert concise["tokens_per_sec"] == pytest.approx(130_000)
    assert concise["floor_tokens_per_sec"] == pytest.approx(140_000)
    assert concise["overhead"] == pytest.approx(1 - 130 / 140)
    assert {c["name"]: c["met"] for c in concise["checks"]} == {"speed": True, "overhead": True, "perplexity": True}
    assert concise["met"] is True
    assert scratch["ratio_to_concise"] == pytest.approx(50 / 130)
    assert {c["name"]: c["met"] for c in scratch["checks"]}["scratch/concise"] is False
    assert scratch["met"] is False
    assert rows["mxnet", "concise"]["status"] == "skipped"
    assert rows["tensorflow", "floor"]["reason"] == "tensorflow is not installed"


def test_no_speed_target_off_the_seed_hyperparameters() -> None:
    config = BenchConfig(num_hiddens=32, epochs=3)
    rows = [{"backend": "torch", "model": "concise", **bench.combine([_run("torch", "concise", (1, 10, 10))])}]
    row = bench.check_rows(rows, config)[0]
    assert [c["name"] for c in row["checks"]] == []  # no floor, no speed target, too few epochs for perplexity
    assert row["met"] is None


def test_writers(results: dict[str, Any], tmp_path: Path) -> None:
    files = bench.write_all(results, tmp_path / "out")
    assert {p.name for p in files.values()} == {"results.json", "results.md", "results.png"}
    data = json.loads(files["json"].read_text())
    assert {"machine", "config", "rows"} <= data.keys()
    assert {"cpu", "cores", "os", "python", "versions", "date"} <= data["machine"].keys()
    md = files["md"].read_text()
    assert "| PyTorch | concise | 130k | 140k | 7% | 1.20 |" in md
    assert "| MXNet | concise | skipped: no adapter |" in md  # the first sentence only
    assert "no: scratch/concise" in md and "![tokens/s per backend](results.png)" in md
    assert files["png"].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_publish_replaces_only_the_marked_part(results: dict[str, Any], tmp_path: Path) -> None:
    files = bench.write_all(results, tmp_path / "out")
    docs = tmp_path / "docs"
    page = bench.publish(results, docs, files)
    assert (docs / "bench" / "results.png").is_file() and (docs / "bench" / "results.json").is_file()
    page.write_text(page.read_text().replace("# Benchmark results", "# Benchmark results\n\nHand-written intro."))
    bench.publish(results, docs, files)
    text = page.read_text()
    assert "Hand-written intro." in text
    assert text.count(bench.PAGE_START) == 1 and text.count("| PyTorch | concise |") == 1
    assert "bench/results.png" in text and results["machine"]["cpu"] in text


def test_bad_options_exit_with_status_2(capsys: pytest.CaptureFixture[str]) -> None:
    from d2lrnn.cli import main

    for argv in (["bench", "--backends", "caffe"], ["bench", "--models", "lstm"], ["bench", "--epochs", "1"]):
        with pytest.raises(SystemExit) as exc:
            main(argv)
        assert exc.value.code == 2
    assert "Unknown backend 'caffe'" in capsys.readouterr().err


def test_tiny_end_to_end_run(tmp_path: Path) -> None:
    pytest.importorskip("torch")
    corpus = tmp_path / "text.txt"
    corpus.write_text("the time traveller for so it will be convenient to speak of him " * 60)
    out = tmp_path / "res"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.run(
        [sys.executable, "-m", "d2lrnn", "bench", "--backends", "torch", "--models", "concise", "--epochs", "2",
         "--repeats", "1", "--out", str(out), "--num-hiddens", "32", "--max-tokens", "2000", "--corpus", str(corpus)],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert {p.name for p in out.iterdir()} == {"results.json", "results.md", "results.png"}
    data = json.loads((out / "results.json").read_text())
    rows = {r["model"]: r for r in data["rows"]}
    assert set(rows) == {"concise", "floor"}
    for row in rows.values():
        assert row["status"] == "ok", row
        for key in ("tokens_per_sec", "perplexity", "wall_s", "first_batch_s", "peak_rss_mib"):
            assert row[key] > 0
        assert row["epochs"] == 2 and row["runs"][0]["epochs"][0]["tokens"] > 0
    assert rows["concise"]["overhead"] is not None
    assert data["seed_hyperparameters"] is False
    assert "| PyTorch | concise |" in proc.stdout


def test_thread_env() -> None:
    assert bench.thread_env(None) == {}
    env = bench.thread_env(2)
    assert env["OMP_NUM_THREADS"] == "2" and env["TF_NUM_INTRAOP_THREADS"] == "2"


def test_quick_or_busy_runs_carry_a_caution(results: dict[str, Any]) -> None:
    results["machine"].update(load_average_before=[9.0, 5.0, 3.0], usable_cores=2)
    results["config"].update(epochs=3, repeats=1)
    text = bench.machine_text(results)
    assert "machine was busy" in text and "a quick run (3 epochs x 1 repeats)" in text



def test_a_gpu_run_is_published_beside_the_cpu_one(results: dict[str, Any], tmp_path: Path) -> None:
    files = bench.write_all(results, tmp_path / "out")
    docs = tmp_path / "docs"
    bench.publish(results, docs, files)
    results["config"]["device"] = "gpu"
    page = bench.publish(results, docs, files)
    text = page.read_text()
    assert text.count("| PyTorch | concise |") == 2 and "bench/results-gpu.png" in text
    assert (docs / "bench" / "results-gpu.json").is_file()
