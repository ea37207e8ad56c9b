"""The benchmark tool: reduction, pairs and verdicts, history, writers, publishing, the command
line."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from d2lrnn import bench
from d2lrnn.bench import BenchConfig, Job
from d2lrnn.bench.config import BOOK, BUSY, FLOOR, SEED, interleave

ROOT = Path(__file__).resolve().parent.parent
BASE = {"concise": 130_000, "scratch": 50_000, FLOOR: 140_000, BOOK: 100_000}


def _epochs(*rates: float, tokens: int = 1000) -> list[dict[str, float]]:
    return [{"tokens": tokens, "seconds": tokens / r, "perplexity": 2.0} for r in rates]


def _run(job: Job, rates: tuple[float, ...], rss: float = 300.0) -> dict[str, Any]:
    return {
        "backend": job.backend,
        "model": job.model,
        "condition": job.condition,
        "status": "ok",
        "epochs": _epochs(*rates),
        "perplexity": 1.2,
        "wall_s": 10.0,
        "first_batch_s": 2.0,
        "peak_rss_mib": rss,
        "framework_version": "1.0",
        "device": "cpu",
    }


def fake_runner(job: Job, seed: int, config: BenchConfig) -> dict[str, Any]:
    """Synthetic workers: mxnet skipped by its worker; torch's rate depends on the row and the
    repeat;
    a busy row runs at half speed, a wider one at 256/hidden of it."""
    if job.backend == "mxnet":
        return {"status": "skipped", "reason": "no adapter. More text."}
    rate = BASE[job.model] * (1 + 0.01 * seed)
    if job.condition == BUSY:
        rate /= 2
    elif job.condition.startswith("h"):
        rate *= 256 / int(job.condition[1:])
    return _run(job, (1_000, rate, rate), rss=300.0 + seed)  # the first epoch is warm-up


@pytest.fixture
def results(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    monkeypatch.setattr(bench.runner, "is_installed", lambda name: name != "tensorflow")
    monkeypatch.setattr(bench.runner, "busy_core", _no_busy_core)
    config = BenchConfig(
        backends=["mxnet", "torch", "tensorflow"], epochs=8, repeats=3, cooldown=5.0,
        scaling_repeats=1,
    )
    slept: list[float] = []
    out = bench.run_benchmark(config, log=lambda msg: None, runner=fake_runner, sleep=slept.append)
    assert slept == [5.0]
    return out


class _no_busy_core:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: Any) -> None:
        return None


def _rows(results: dict[str, Any]) -> dict[tuple[str, str, str], dict[str, Any]]:
    return {(r["backend"], r["model"], r["condition"]): r for r in results["rows"]}


def _comparison(results: dict[str, Any], backend: str, name: str) -> dict[str, Any]:
    return next(c for c in results["comparisons"] if c["backend"] == backend and c["name"] == name)


def test_repeat_rate_drops_the_warmup_epoch_and_takes_the_median() -> None:
    assert bench.repeat_rate(_epochs(10, 100, 300, 200)) == pytest.approx(200)
    assert bench.repeat_rate(_epochs(10, 100)) == pytest.approx(100)
    # nothing past warm-up: use what there is
    assert bench.repeat_rate(_epochs(10)) == pytest.approx(10)


def test_median_overhead_spread_and_combine() -> None:
    assert bench.median([3, None, 1, 2]) == 2 and bench.median([None]) is None
    assert bench.overhead(90, 100) == pytest.approx(0.10) and bench.overhead(
        110, 100
    ) == pytest.approx(-0.10)
    assert bench.overhead(None, 100) is None
    assert bench.spread([3.0, 1.0, 2.0]) == {"median": 2.0, "low": 1.0, "high": 3.0, "n": 3}
    job = Job("torch", "concise")
    runs = [
        _run(job, (1, 100, 100)),
        {"status": "failed", "reason": "boom"},
        _run(job, (1, 300, 300)),
    ]
    runs[0]["peak_rss_mib"] = 900.0
    out = bench.combine(runs)
    assert out["tokens_per_sec"] == pytest.approx(200)
    # pairs stay aligned
    assert out["repeat_tokens_per_sec"] == [pytest.approx(100), None, pytest.approx(300)]
    assert out["peak_rss_mib"] == 900.0 and out["repeats"] == 2 and out["failed_repeats"] == 1
    assert bench.combine([{"status": "skipped", "reason": "x"}]) == {
        "status": "skipped",
        "reason": "x",
    }


def test_pair_ratios_use_repeats_that_ran_side_by_side() -> None:
    top = {"repeat_tokens_per_sec": [200.0, None, 90.0]}
    bottom = {"repeat_tokens_per_sec": [100.0, 50.0, 30.0]}
    assert bench.pair_ratios(top, bottom) == [pytest.approx(2.0), pytest.approx(3.0)]


def test_rows_alternate_within_each_repeat() -> None:
    order: list[tuple[str, int]] = []

    def recorder(job: Job, seed: int, config: BenchConfig) -> dict[str, Any]:
        order.append((job.key, seed))
        return _run(job, (1, 10, 10))

    config = BenchConfig(
        backends=["torch"], models=["concise"], busy=False, scaling=False, repeats=2, cooldown=0
    )
    bench.run_benchmark(config, log=lambda msg: None, runner=recorder)
    keys = [f"torch/{m}/{SEED}" for m in ("concise", BOOK, FLOOR)]
    assert order == [(k, 0) for k in keys] + [(k, 1) for k in keys]  # A B C A B C, never A A B B


def test_how_cost_grows_measures_both_models_the_floor_and_the_book() -> None:
    jobs = BenchConfig(backends=["jax"]).scaling_jobs()
    assert {(j.model, j.condition) for j in jobs} == {
        (m, c) for m in ("concise", "scratch", FLOOR, BOOK) for c in ("h512", "h1024", "word")}
    lean = BenchConfig(backends=["jax"], models=["concise"], floor=False, book=False)
    assert {j.model for j in lean.scaling_jobs()} == {"concise"}


def test_rows_compared_across_backends_run_back_to_back() -> None:
    backends = ["mxnet", "torch", "tensorflow", "jax"]
    for jobs in (BenchConfig(backends=backends, cells=["gru"]).jobs(),
                 BenchConfig(backends=backends).scaling_jobs()):
        # each (model, condition) on every backend, consecutively, in the registry's order
        for start in range(0, len(jobs), len(backends)):
            turn = jobs[start:start + len(backends)]
            assert [j.backend for j in turn] == backends, turn
            assert len({(j.model, j.condition) for j in turn}) == 1, turn
    # each backend's own rows keep their order
    main = BenchConfig(backends=backends).jobs()
    assert [j.key for j in main if j.backend == "torch"] == [
        j.key for j in BenchConfig(backends=["torch"]).jobs()
    ]
    # a backend with fewer rows (no engine for workers) leaves its turns out, the others go on
    mixed = interleave([[Job("a", "m", "x"), Job("a", "m", "y")], [Job("b", "m", "x")]])
    assert [j.key for j in mixed] == ["a/m/x", "b/m/x", "a/m/y"]


def test_pairs_targets_and_verdicts(results: dict[str, Any]) -> None:
    rows = _rows(results)
    assert rows["torch", "concise", SEED]["tokens_per_sec"] == pytest.approx(130_000 * 1.01)
    book = _comparison(results, "torch", "d2lrnn / book")
    assert book["values"] == pytest.approx([1.3] * 3) and book["n"] == 3
    assert book["target"] == 1.2 and book["verdict"] == "met"
    ovh = _comparison(results, "torch", "overhead over the floor")
    assert ovh["median"] == pytest.approx(1 - 130 / 140) and ovh["verdict"] == "met"
    busy = _comparison(results, "torch", "one core busy / quiet")
    assert busy["median"] == pytest.approx(0.5) and busy["verdict"] == "not met"
    # 50k < 0.5 x 130k
    assert _comparison(results, "torch", "scratch / concise")["verdict"] == "not met"
    assert rows["mxnet", "concise", SEED]["status"] == "skipped"
    assert rows["tensorflow", FLOOR, SEED]["reason"] == "tensorflow is not installed"
    assert not any(c["backend"] != "torch" for c in results["comparisons"])


@pytest.mark.parametrize(
    ("floor_rates", "verdict"),
    [
        ((100, 100), "met"),
        ((125, 130), "anomaly"),
        ((80, 80), "anomaly"),
        ((105, 140), "within noise"),
    ],
)
def test_an_overhead_beyond_the_bounds_and_the_spread_is_an_anomaly(
    floor_rates: tuple[int, int], verdict: str
) -> None:
    def row(model: str, rates: tuple[float, ...]) -> dict[str, Any]:
        return {
            "backend": "torch",
            "model": model,
            "status": "ok",
            "repeat_tokens_per_sec": list(rates),
        }

    rows = {
        f"torch/concise/{SEED}": row("concise", (100, 100)),
        f"torch/{FLOOR}/{SEED}": row(FLOOR, floor_rates),
    }
    ovh = _comparison({"comparisons": bench.comparisons(rows, BenchConfig(backends=["torch"]))},
                      "torch", "overhead over the floor")
    assert ovh["verdict"] == verdict  # faster than the floor beyond the spread is not "met"


def test_no_book_target_off_the_seed_settings() -> None:
    job = lambda model: Job("torch", model)  # noqa: E731
    rows = {
        job(m).key: {"status": "ok", "repeat_tokens_per_sec": [BASE[m]]} for m in ("concise", BOOK)
    }
    (ratio,) = bench.comparisons(rows, BenchConfig(backends=["torch"], num_hiddens=32))
    assert ratio["target"] is None and ratio["verdict"] is None


def test_the_busy_rows_run_beside_a_busy_core(monkeypatch: pytest.MonkeyPatch) -> None:
    busy: list[bool] = []
    state = {"on": False}

    class Flag:
        def __enter__(self) -> None:
            state["on"] = True

        def __exit__(self, *exc: Any) -> None:
            state["on"] = False

    monkeypatch.setattr(bench.runner, "busy_core", Flag)

    def recorder(job: Job, seed: int, config: BenchConfig) -> dict[str, Any]:
        busy.append((job.condition == BUSY) == state["on"])
        return _run(job, (1, 10, 10))

    bench.run_benchmark(
        BenchConfig(backends=["torch"], scaling=False, repeats=1, cooldown=0),
        log=lambda m: None,
        runner=recorder,
    )
    assert busy and all(busy)


def test_busy_core_starts_and_stops_a_process() -> None:
    import time

    with bench.busy_core() as proc:
        time.sleep(0.5)
        assert proc.poll() is None  # still spinning
    assert proc.poll() is not None


def test_caution_is_at_least_max_of_load_before_and_after(results: dict[str, Any]) -> None:
    results["machine"].update(
        usable_cores=2, load_average_before=[0.2, 0, 0], load_average_after=[1.1, 0, 0]
    )
    text = bench.machine_text(results)
    assert (
        "machine was busy" in text
        and "exceeds 0.5 x usable cores" in text
        and "1-minute after 1.1" in text
    )
    results["machine"].update(load_average_before=[0.9, 0.8, 0], load_average_after=[0.3, 0, 0])
    assert not any("busy" in w for w in bench.warnings(results))
    # a quiet last minute after busy minutes before it: the 5-minute load makes it busy
    results["machine"].update(
        load_average_before=[0.72, 1.94, 2.48], load_average_after=[0.51, 1.22, 1.88]
    )
    assert any("busy" in w and "5-minute before 1.94" in w for w in bench.warnings(results))
    results["config"].update(epochs=2, repeats=1)
    assert any("a quick run (2 epochs x 1 repeats)" in w for w in bench.warnings(results))


def test_the_rows_chart_draws_no_bar_for_a_skipped_row(results: dict[str, Any], tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    from matplotlib.axes import Axes

    from d2lrnn.bench.charts import write_rows_chart

    drawn: list[int] = []
    real_bar = Axes.bar
    monkeypatch.setattr(Axes, "bar", lambda self, xs, heights, *a, **k: drawn.extend([len(heights)])
                        or real_bar(self, xs, heights, *a, **k))
    ok_row = next(r for r in results["rows"] if r.get("status") == "ok" and r["condition"] == SEED)
    skipped = {**ok_row, "model": "book", "status": "skipped", "tokens_per_sec": None}
    write_rows_chart({**results, "rows": [ok_row, skipped]}, tmp_path / "rows.png")
    assert drawn == [1]  # the measured row only; the skipped one is no zero-height bar


def test_writers_and_history(results: dict[str, Any], tmp_path: Path) -> None:
    files = bench.write_all(results, tmp_path / "out")
    assert {p.name for p in files.values()} == {
        "results.json",
        "results.md",
        "results.png",
        "scaling.png",
        "history.jsonl",
    }
    data = json.loads(files["json"].read_text())
    assert {"machine", "config", "rows", "comparisons"} <= data.keys()
    md = files["md"].read_text()
    # no limit measured: –
    assert "| PyTorch | concise | quiet | 131k | – | 130k, 131k, 133k |" in md
    assert "| PyTorch | d2lrnn / book | 1.30x, 1.30x, 1.30x | 1.30x |" in md
    assert "| MXNet | concise | quiet | skipped: no adapter |" in md  # the first sentence only
    assert "| PyTorch | 1024 | char | 32.5k | 25.0k | 1.30x |" in md  # one repeat: 130k x 256/1024
    for png in ("results", "scaling"):
        assert files[png].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    bench.write_all(results, tmp_path / "out")  # the same run again is not a second record
    (record,) = bench.read_history(files["history"])
    assert record["load_average_before"] == results["machine"]["load_average_before"]
    assert (
        record["settings"]["epochs"] == 8 and record["versions"] == results["machine"]["versions"]
    )


def test_publish_keeps_every_run_and_the_hand_written_text(
    results: dict[str, Any], tmp_path: Path
) -> None:
    docs = tmp_path / "docs"
    page = bench.publish(results, docs, bench.write_all(results, tmp_path / "out"))
    assert (docs / "bench" / "results.png").is_file() and (docs / "bench" / "scaling.png").is_file()
    page.write_text(
        page.read_text().replace(
            "# Benchmark results", "# Benchmark results\n\nHand-written intro."
        )
    )
    second = json.loads(json.dumps(results))
    second["machine"]["date"] = "2099-01-01T00:00:00+00:00"
    bench.publish(second, docs, bench.write_all(second, tmp_path / "out2"))
    text = page.read_text()
    assert "Hand-written intro." in text and text.count(bench.PAGE_START) == 1
    assert len(bench.read_history(docs / "bench" / "history.jsonl")) == 2
    history = text.split("### Every run", 1)[1]
    assert history.index("2099-01-01") < history.index(results["machine"]["date"])  # newest first
    assert "Not measured" in text and "--device gpu" in text


def test_a_gpu_run_is_published_beside_the_cpu_one(results: dict[str, Any], tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    bench.publish(results, docs, bench.write_all(results, tmp_path / "out"))
    results["config"]["device"] = "gpu"
    page = bench.publish(results, docs, bench.write_all(results, tmp_path / "gpu"))
    text = page.read_text()
    assert text.count("| PyTorch | concise | quiet |") == 2 and "bench/results-gpu.png" in text
    assert "Not measured" not in text


def test_page_prose_takes_its_targets_from_the_code_and_holds_no_measurement(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import re

    from d2lrnn.bench import pages

    monkeypatch.setattr(pages, "BOOK_RATIO_TARGETS", {"torch": 9.5})
    monkeypatch.setattr(pages, "BUSY_KEEP", 0.55)
    monkeypatch.setattr(pages, "MOONSHOT_TOKENS_PER_SEC", 123_000)
    prose = pages.page_template()
    assert "PyTorch ≥ 9.5x" in prose and "55%" in prose and "MXNet ≥" not in prose
    assert "held to 123k tokens/s" in prose  # a target, from the code
    prose = prose.replace("held to 123k tokens/s", "")
    assert not re.search(r"\d(k|,\d{3}) tokens/s|\d+(\.\d+)?x (faster|slower)", prose)


@pytest.mark.parametrize("argv", [["--backends", "caffe"], ["--models", "lstm"], ["--epochs", "1"],
                                  ["--threads", "0"], ["--threads", "many"]])
def test_bad_options_exit_with_status_2(argv: list[str]) -> None:
    from d2lrnn.cli import main

    with pytest.raises(SystemExit) as exc:
        main(["bench", *argv])
    assert exc.value.code == 2


def test_unusable_paths_exit_2_before_measuring(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    from d2lrnn.cli import main

    monkeypatch.setattr(bench.runner, "run_worker", lambda *a: pytest.fail("measured"))
    blocker = tmp_path / "file"
    blocker.write_text("x")
    for argv in (
        ["--out", str(blocker / "out")],
        ["--publish", str(blocker / "docs")],
        ["--data-dir", str(tmp_path / "empty")],
        ["--corpus", str(tmp_path / "missing.txt")],
    ):
        assert main(["bench", *argv]) == 2
        err = capsys.readouterr().err
        assert (
            err.startswith("d2lrnn bench: ") and "Traceback" not in err and err.count("\n") == 1
        ), err


def test_threads_option() -> None:
    from d2lrnn import threads

    assert threads.parse_threads(None) is None and threads.parse_threads("3") == 3
    assert threads.parse_threads(" Auto ") == "auto"
    env = threads.thread_env(2)
    assert env["OMP_NUM_THREADS"] == "2" and env["TF_NUM_INTRAOP_THREADS"] == "2"
    assert "TF_NUM_INTRAOP_THREADS" not in threads.thread_env(2, "torch")
    assert "intra_op_parallelism_threads=1" in threads.thread_env(1, "jax")["XLA_FLAGS"]
    assert threads.thread_env(None) == {}


@pytest.mark.parametrize(
    ("others", "cores", "expected"),
    [(0.0, 2, 2), (0.4, 2, 2), (0.6, 2, 1), (1.0, 2, 1), (3.0, 2, 1), (1.2, 8, 7), (0.0, 1, 1)],
)
def test_auto_threads_follow_the_free_cores(others: float, cores: int, expected: int) -> None:
    from d2lrnn.threads import threads_for

    assert threads_for(others, cores) == expected


class _FakeSampler:
    def __init__(self, *values: float) -> None:
        self.values = list(values)

    def others(self) -> float:
        return self.values.pop(0)


def test_start_threads_keeps_the_frameworks_count_on_a_quiet_machine(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from d2lrnn import threads

    monkeypatch.setattr(threads, "usable_cores", lambda: 2)
    for name in threads.thread_env(1):
        monkeypatch.delenv(name, raising=False)
    assert threads.start_threads("auto", "torch", _FakeSampler(0.1)) is None
    assert "OMP_NUM_THREADS" not in os.environ
    assert threads.start_threads("auto", "tensorflow", _FakeSampler(0.9)) == 1
    assert os.environ["OMP_NUM_THREADS"] == os.environ["TF_NUM_INTRAOP_THREADS"] == "1"
    assert threads.start_threads(3, "torch") == 3 and os.environ["OMP_NUM_THREADS"] == "3"
    assert threads.start_threads(None, "torch") is None


def test_the_governor_moves_the_threads_with_the_load(monkeypatch: pytest.MonkeyPatch) -> None:
    from d2lrnn import threads

    monkeypatch.setattr(threads, "usable_cores", lambda: 2)
    now = [0.0]
    calls: list[int] = []

    class Backend:
        runtime_threads = True

        def set_threads(self, n: int) -> None:
            calls.append(n)

    governor = threads.ThreadGovernor(
        Backend(), None, _FakeSampler(1.0, 1.0, 0.0), every=1.0, clock=lambda: now[0]
    )
    assert governor.threads == 2
    for t in (0.5, 1.1, 1.5, 2.2, 3.3):  # checks at 1.1, 2.2 and 3.3 only
        now[0] = t
        governor()
    assert calls == [1, 2] and governor.changes == [(0.0, 2), (1.1, 1), (3.3, 2)]
    assert threads.ThreadGovernor.for_setting(2, Backend(), 2) is None  # a fixed count is kept
    assert threads.ThreadGovernor.for_setting("auto", object(), None) is None  # no run-time setter


def test_the_sampler_sees_other_processes_but_not_its_own() -> None:
    from d2lrnn.threads import CpuSampler

    sampler = CpuSampler()
    end = time.perf_counter() + 0.6
    while time.perf_counter() < end:  # this process's own work is left out
        pass
    own = sampler.others()
    spinner = subprocess.Popen(
        [sys.executable, "-c", "import time\nend = time.time() + 3\nwhile time.time() < end: pass"]
    )
    try:
        time.sleep(0.5)  # let it start
        sampler.others()
        time.sleep(0.8)
        other = sampler.others()
    finally:
        spinner.kill()
        spinner.wait()
    assert other > 0.6 and other > own + 0.4, (own, other)


def test_the_trainer_calls_batch_callbacks_after_every_batch() -> None:
    import numpy as np

    from d2lrnn import Trainer, get_backend

    pytest.importorskip("torch")
    model = get_backend("torch").RNN(num_inputs=5, num_outputs=5, num_hiddens=4)
    rng = np.random.default_rng(0)
    batches = [(rng.integers(0, 5, (2, 3)), rng.integers(0, 5, (2, 3))) for _ in range(4)]
    seen: list[int] = []
    Trainer(2, progress=False, batch_callbacks=[lambda trainer: seen.append(trainer.epoch)]).fit(
        model, batches
    )
    assert seen == [0] * 4 + [1] * 4


def test_tiny_end_to_end_run(tmp_path: Path) -> None:
    pytest.importorskip("torch")
    corpus = tmp_path / "text.txt"
    corpus.write_text("the time traveller for so it will be convenient to speak of him " * 60)
    out = tmp_path / "res"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "d2lrnn",
            "bench",
            "--backends",
            "torch",
            "--models",
            "concise",
            "--epochs",
            "2",
            "--repeats",
            "1",
            "--no-busy",
            "--no-scaling",
            "--no-book",
            "--cooldown",
            "0",
            "--threads",
            "1",
            "--cells",
            "none",
            "--out",
            str(out),
            "--num-hiddens",
            "32",
            "--max-tokens",
            "2000",
            "--corpus",
            str(corpus),
        ],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    data = json.loads((out / "results.json").read_text())
    rows = {(r["model"], r["condition"]): r for r in data["rows"]}
    assert set(rows) == {("concise", SEED), (FLOOR, SEED), ("concise", "default-threads")}
    for (_, condition), row in rows.items():
        assert row["status"] == "ok", row
        for key in ("tokens_per_sec", "perplexity", "wall_s", "first_batch_s", "peak_rss_mib"):
            assert row[key] > 0
        assert (row["runs"][0]["threads"] == 1) == (condition == SEED)
    assert [c["name"] for c in data["comparisons"]] == [
        "overhead over the floor",
        "quiet: threads 1 / framework default",
    ]
    assert data["seed_hyperparameters"] is False and data["config"]["threads"] == 1
    assert "| PyTorch | concise | quiet |" in proc.stdout


def test_apply_threads_calls_the_backend() -> None:
    from d2lrnn import threads

    calls: list[int] = []

    class Backend:
        def set_threads(self, n: int) -> None:
            calls.append(n)

    threads.apply_threads(None, Backend())
    assert calls == []
    threads.apply_threads(2, Backend())
    assert calls == [2]


def test_train_takes_threads() -> None:
    from d2lrnn.cli import build_parser

    assert build_parser().parse_args(["train", "--threads", "auto"]).threads == "auto"
    assert build_parser().parse_args(["train", "--threads", "3"]).threads == 3
    assert build_parser().parse_args(["train"]).threads == "auto"
    with pytest.raises(SystemExit) as exc:
        build_parser().parse_args(["train", "--threads", "-1"])
    assert exc.value.code == 2


def test_a_long_epoch_shows_a_per_batch_bar(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import numpy as np

    from d2lrnn import Trainer, get_backend, trainer

    pytest.importorskip("torch")
    backend = get_backend("torch")
    model = backend.RNN(num_inputs=5, num_outputs=5, num_hiddens=4)
    rng = np.random.default_rng(0)
    batches = [(rng.integers(0, 5, (2, 3)), rng.integers(0, 5, (2, 3))) for _ in range(4)]
    monkeypatch.setattr(trainer, "BATCH_BAR_AFTER", float("inf"))
    Trainer(1, progress=True).fit(model, batches)
    assert "batches:" not in capsys.readouterr().err  # a short epoch: the epoch bar only
    monkeypatch.setattr(trainer, "BATCH_BAR_AFTER", 0.0)
    Trainer(1, progress=True).fit(model, batches)
    err = capsys.readouterr().err
    assert "batches:" in err and "/4 [" in err  # the total comes from len(batches)
    Trainer(1, progress=False).fit(model, batches)
    assert capsys.readouterr().err == ""


@pytest.mark.parametrize("threads", [1, "auto"])
def test_threads_reach_the_workers(monkeypatch: pytest.MonkeyPatch, threads: int | str) -> None:
    """Every row gets --threads, except the framework-default row and, under auto, the book's rows.
    """
    from d2lrnn.bench.config import BOOK, DEFAULT_THREADS

    seen: dict[str, tuple[str | None, str | None]] = {}

    def fake_run(cmd: list[str], env: dict[str, str], **kwargs: Any) -> Any:
        given = cmd[cmd.index("--threads") + 1] if "--threads" in cmd else None
        seen[env["JOB"]] = (given, env.get("OMP_NUM_THREADS"))
        return subprocess.CompletedProcess(cmd, 1, "", "")

    monkeypatch.setattr(bench.runner.subprocess, "run", fake_run)
    monkeypatch.setenv("OMP_NUM_THREADS", "5")  # the user's own setting reaches no worker
    config = BenchConfig(backends=["torch"], threads=threads, busy=True, scaling=False)
    jobs = config.jobs()
    assert Job("torch", "concise", DEFAULT_THREADS) in jobs
    for job in jobs:
        monkeypatch.setenv("JOB", job.key)
        assert bench.run_worker(job, 0, config)["status"] == "failed"
    for job in jobs:
        plain = job.condition == DEFAULT_THREADS or (job.model == BOOK and threads == "auto")
        assert seen[job.key] == (None if plain else str(threads), None), job


@pytest.mark.parametrize("token", ["char", "word"])
def test_the_book_row_runs_the_d2l_package(tmp_path: Path, token: str) -> None:
    pytest.importorskip("torch")
    pytest.importorskip("d2l")
    corpus = tmp_path / "text.txt"
    corpus.write_text("the time traveller for so it will be convenient to speak of him\n" * 80)
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "d2lrnn.bench.worker",
            "--backend",
            "torch",
            "--model",
            BOOK,
            "--epochs",
            "2",
            "--num-hiddens",
            "16",
            "--batch-size",
            "4",
            "--num-steps",
            "5",
            "--max-tokens",
            "1000",
            "--token",
            token,
            "--corpus",
            str(corpus),
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    from d2lrnn.bench.worker import BOOK_UNUSED, MARKER

    result = json.loads(
        next(line for line in proc.stdout.splitlines() if line.startswith(MARKER))[len(MARKER) :]
    )
    assert result["status"] == "ok", proc.stderr
    assert [e["tokens"] for e in result["epochs"]][0] % (4 * 5) == 0 and result["epochs"][0][
        "tokens"
    ] > 0
    assert result["first_batch_s"] > 0 and result["perplexity"] > 1
    # only what the RNN chapters never use
    assert set(result["stubbed_modules"]) <= set(BOOK_UNUSED)
