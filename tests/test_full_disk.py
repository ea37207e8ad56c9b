"""A disk that fills up during training: training goes on, the last good checkpoint stays, the
results are printed.

The real cases mount a small ``tmpfs`` (root only; CI runs as root), sized so that the first
checkpoint fits but a second copy beside it (the atomic save writes the new file before it
removes the old one) does not. The simulated case makes ``fsync`` fail with ENOSPC, for
developers who are not root.
"""

from __future__ import annotations

import errno
import gc
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from d2lrnn.checkpoint import read
from d2lrnn.memory import parameter_count
from d2lrnn.resume import STATE_KEY
from d2lrnn.train_job import TrainJob, run_training

from .conftest import needs_corpus, options

ROOT = Path(__file__).resolve().parents[1]
# ~95 KB of weights: the checkpoint is large beside the metadata, so its size is easy to bound
HIDDENS = 128
SETTINGS = {
    "num_hiddens": HIDDENS,
    "batch_size": 4,
    "num_steps": 8,
    "max_tokens": 1000,
    "num_val": 0,
    "seed": 5,
    "epochs": 6,
}
CLI = [
    "train",
    *options(
        num_hiddens=str(HIDDENS),
        batch_size=4,
        num_steps=8,
        max_tokens=1000,
        num_val=0,
        seed=5,
        epochs=6,
        save_every=2,
        num_preds=5,
        json=True,
    ),
]
WEIGHT_BYTES = parameter_count(28, HIDDENS, 1) * 4
#: room for one checkpoint (weights and at most ~40 KB of headers and metadata) but not for two
ONE_CHECKPOINT = WEIGHT_BYTES * 3 // 2

root_only = pytest.mark.skipif(
    os.geteuid() != 0, reason="mounting a tmpfs needs root (CI runs as root)"
)
pytestmark = needs_corpus


@contextmanager
def small_disk(where: Path, size: int) -> Iterator[Path]:
    """A ``tmpfs`` of ``size`` bytes mounted at ``where``, unmounted afterwards."""
    where.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(where)],
        capture_output=True,
        text=True,
    )
    assert mounted.returncode == 0, f"root could not mount a tmpfs: {mounted.stderr}"
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], check=False)


def _leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".tmp"))


@root_only
def test_a_disk_that_fills_up_trains_to_the_end_and_exits_2_for_the_final_save(tmp_path):
    with small_disk(tmp_path / "disk", ONE_CHECKPOINT) as disk:
        env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
        proc = subprocess.run(
            [sys.executable, "-m", "d2lrnn", *CLI, "--save", str(disk / "m.npz")],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert proc.returncode == 2, proc.stderr
        out = proc.stdout.splitlines()
        assert out[0].startswith("perplexity ") and len(out) >= 3  # the summary and the samples
        report = json.loads(out[-1])
        assert report["epochs"] == 6 and report["checkpoint"] is None
        assert "No space left on device" in report["problem"]
        err = proc.stderr
        assert "Traceback" not in err and "Exception ignored" not in err, err
        assert "the checkpoint of epoch 4 was not saved" in err and "still holds epoch 2" in err
        assert "the run finished, but its checkpoint was not saved" in err
        weights, meta = read(disk / "m.npz")  # the last good checkpoint is whole
        assert meta[STATE_KEY]["epoch"] == 2
        assert _leftovers(disk) == []


@root_only
def test_the_next_scheduled_save_succeeds_once_there_is_room_again(tmp_path):
    filler_size = 2 * WEIGHT_BYTES
    with small_disk(tmp_path / "disk", ONE_CHECKPOINT + filler_size) as disk:
        filler = disk / "filler"
        filler.write_bytes(bytes(filler_size))
        logged: list[str] = []

        def log(message: str) -> None:
            logged.append(message)
            if "was not saved" in message:
                filler.unlink(missing_ok=True)  # someone frees space while training goes on

        job = TrainJob(
            settings=dict(SETTINGS),
            backend="torch",
            save=str(disk / "m.npz"),
            save_every=2,
            num_preds=5,
            progress=False,
            threads=None,
        )
        result = run_training(job, log=log)
        assert result.exit_status == 0, result.message
        failures = [line for line in logged if "was not saved" in line]
        assert (
            len(failures) == 1
            and "epoch 4" in failures[0]
            and "the final save comes at the end" in failures[0]
        )
        assert read(disk / "m.npz")[1][STATE_KEY]["epoch"] == 6
        assert _leftovers(disk) == []


def _fail_fsync_after_first_save(monkeypatch) -> None:
    real_fsync, saves = os.fsync, []

    def fsync(fd: int) -> None:
        if os.path.isfile(f"/proc/self/fd/{fd}") and saves:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        real_fsync(fd)
        if os.path.isfile(f"/proc/self/fd/{fd}"):
            saves.append(fd)

    monkeypatch.setattr(os, "fsync", fsync)


def test_a_simulated_full_disk_keeps_training_and_closes_every_file(tmp_path, monkeypatch, capfd):
    """ENOSPC from ``fsync`` after the first save (no root needed): the same outcome as the real
    full disk."""
    _fail_fsync_after_first_save(monkeypatch)
    logged: list[str] = []
    job = TrainJob(
        settings={**SETTINGS, "num_hiddens": 16},
        backend="torch",
        save=str(tmp_path / "m.npz"),
        save_every=2,
        num_preds=5,
        progress=False,
        threads=None,
    )
    result = run_training(job, log=logged.append)
    gc.collect()  # a leaked ZipFile would complain here, in its __del__
    assert result.exit_status == 2 and result.samples and result.summary["epochs"] == 6
    assert (
        "No space left on device" in result.message
        and f"{tmp_path / 'm.npz'} still holds epoch 2" in result.message
    )
    assert [line for line in logged if "was not saved" in line][0].startswith(
        "the checkpoint of epoch 4"
    )
    assert read(tmp_path / "m.npz")[1][STATE_KEY]["epoch"] == 2
    assert _leftovers(tmp_path) == []
    assert "Exception ignored" not in capfd.readouterr().err


def test_an_interrupt_whose_save_fails_says_what_the_file_holds(tmp_path, monkeypatch):
    """Ctrl-C after epoch 2 while the disk is full: one paragraph with the epoch the file still
    holds."""
    import signal

    from d2lrnn.errors import CheckpointError
    from d2lrnn.resume import CheckpointSaver

    _fail_fsync_after_first_save(monkeypatch)
    real_call = CheckpointSaver.__call__

    def then_interrupt(self, trainer, stats):
        real_call(self, trainer, stats)
        if trainer.epoch == 2:
            os.kill(os.getpid(), signal.SIGINT)

    monkeypatch.setattr(CheckpointSaver, "__call__", then_interrupt)
    path = tmp_path / "m.npz"
    job = TrainJob(
        settings={**SETTINGS, "num_hiddens": 16},
        backend="torch",
        save=str(path),
        save_every=1,
        num_preds=5,
        progress=False,
        threads=None,
    )
    with pytest.raises(CheckpointError) as caught:
        run_training(job)
    message = str(caught.value)
    assert (
        message.startswith("SIGINT stopped training after epoch")
        and "No space left on device" in message
    )
    assert f"{path} still holds epoch 1" in message and "\n" not in message
    assert read(path)[1][STATE_KEY]["epoch"] == 1
    assert _leftovers(tmp_path) == []
