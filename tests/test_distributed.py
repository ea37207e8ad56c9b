"""Data-parallel training without a framework: the split of a batch, the refusals, the launcher's
command line."""

from __future__ import annotations

import os
import socket
import subprocess
import sys

import numpy as np
import pytest

from d2lrnn import distributed
from d2lrnn.backends import NAMES
from d2lrnn.cli import build_parser
from d2lrnn.cli.train import command_line
from d2lrnn.data import SeqDataLoader
from d2lrnn.distributed.launch import free_port
from d2lrnn.errors import D2LRNNError
from d2lrnn.train_job import TrainJob

from .conftest import FRAMEWORK_MODULES, ROOT, run_cli


@pytest.mark.parametrize("sampling", ["sequential", "random"])
@pytest.mark.parametrize("workers", [1, 2, 4])
def test_shards_put_the_batch_back_together_in_order(sampling: str, workers: int) -> None:
    corpus = np.arange(1000)  # every window is different
    whole = list(SeqDataLoader(corpus, 8, 5, sampling, seed=3))
    shards = [
        list(
            distributed.ShardedLoader(SeqDataLoader(corpus, 8, 5, sampling, seed=3), workers, rank)
        )
        for rank in range(workers)
    ]
    assert all(len(s) == len(whole) for s in shards)
    for i, (X, Y) in enumerate(whole):
        np.testing.assert_array_equal(np.concatenate([s[i][0] for s in shards]), X)
        np.testing.assert_array_equal(np.concatenate([s[i][1] for s in shards]), Y)
    if workers > 1:  # disjoint: no window of one worker appears in another's share
        seen = [{tuple(row) for X, _ in s for row in X} for s in shards]
        assert not set.intersection(*seen)


def test_a_stream_stays_on_one_worker_across_batches() -> None:
    loader = distributed.ShardedLoader(SeqDataLoader(np.arange(2000), 8, 5, seed=None), 2, 1)
    batches = list(loader)
    for (X0, _), (X1, _) in zip(batches, batches[1:]):
        np.testing.assert_array_equal(X1[:, 0], X0[:, -1] + 1)  # each row continues its own text


def test_shard_rows_refuses_an_uneven_split() -> None:
    assert distributed.shard_rows(6, 3, 2) == slice(4, 6)
    with pytest.raises(ValueError):
        distributed.shard_rows(6, 4, 0)


@pytest.mark.parametrize(
    ("workers", "batch", "words"),
    [
        (3, 8, "does not divide among 3 workers"),
        (16, 8, "more than the 8 streams"),
        (0, 8, "1 or more"),
    ],
)
def test_bad_splits_are_refused(workers: int, batch: int, words: str) -> None:
    with pytest.raises(D2LRNNError, match=words):
        distributed.check_workers(workers, batch, "torch")


def test_every_backend_names_its_engine() -> None:
    assert {distributed.engine_mode(n) for n in NAMES} <= {*distributed.MODES, ""}
    assert any(distributed.engine_mode(n) == "processes" for n in NAMES)


def test_a_port_in_use_is_refused() -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        with pytest.raises(D2LRNNError, match=f"Port {busy.getsockname()[1]} .* in use"):
            free_port(busy.getsockname()[1])
    assert free_port() > 0


def test_the_workers_command_line_is_the_same_job() -> None:
    job = TrainJob(
        settings={"epochs": 3, "batch_size": 4, "lr": 0.5, "seed": 7, "model": None},
        backend="jax",
        save="m.npz",
        save_every=1,
        progress=False,
        threads=1,
    )
    args = build_parser().parse_args(["train", *command_line(job, json=True)])
    assert (args.epochs, args.batch_size, args.lr, args.seed, args.model) == (3, 4, 0.5, 7, None)
    assert (args.backend, args.save, args.save_every, args.quiet, args.json, args.threads) == \
        ("jax", "m.npz", 1, True, True, 1)
    assert args.workers == 1  # a worker never launches workers of its own


@pytest.mark.parametrize(("argv", "words"), [
    (["--workers", "3", "--batch-size", "8"], "does not divide among 3 workers"),
    (["--workers", "9", "--batch-size", "8"], "more than the 8 streams"),
])
def test_bad_settings_stop_before_any_worker_starts(argv: list[str], words: str, tmp_path) -> None:
    result = run_cli("train", "--backend", "torch", "--epochs", "1", *argv, timeout=120)
    assert result.returncode == 2 and words in result.stderr
    assert result.stderr.count("\n") == 1  # one sentence, no traceback


def test_a_busy_port_is_refused_before_any_worker_starts() -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = run_cli(
            "train", "--backend", "torch", "--workers", "2", "--port", str(port), timeout=120
        )
    assert (
        result.returncode == 2
        and f"Port {port}" in result.stderr
        and "Traceback" not in result.stderr
    )


def test_the_bench_workers_axis_adds_rows_only_where_there_is_an_engine() -> None:
    from d2lrnn.bench.config import BenchConfig, condition_settings
    from d2lrnn.bench.runner import worker_command

    config = BenchConfig(workers=[2])
    rows = [job for job in config.jobs() if job.condition == "workers2"]
    assert [job.backend for job in rows] == [n for n in NAMES if distributed.engine_mode(n)]
    assert all(job.model == "concise" for job in rows)
    assert condition_settings("workers2", config) == {"workers": 2}
    command = worker_command(rows[0], 0, config)
    assert command[command.index("--workers") + 1] == "2"
    # off by default
    assert not [job for job in BenchConfig().jobs() if job.condition.startswith("workers")]


def test_the_distributed_package_imports_no_framework() -> None:
    code = ("import sys, d2lrnn.distributed, d2lrnn.distributed.launch, d2lrnn.cli.train; "
            f"print(sorted(m for m in {sorted(FRAMEWORK_MODULES)!r} if m in sys.modules))")
    out = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert out.returncode == 0 and out.stdout.strip() == "[]", out.stderr
