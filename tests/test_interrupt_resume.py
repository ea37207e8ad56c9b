"""Training that does not lose work: SIGINT/SIGTERM save and resume exactly, a kill during a save
keeps the previous checkpoint, divergence keeps the last good one."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from d2lrnn.checkpoint import read, save_weights
from d2lrnn.cli.train import stop_message
from d2lrnn.data import TimeMachine
from d2lrnn.errors import CheckpointError
from d2lrnn.model import canonical_shapes
from d2lrnn.resume import STATE_KEY, CheckpointSaver
from d2lrnn.signals import stop_on_signals
from d2lrnn.train_job import TrainJob, run_training
from d2lrnn.trainer import Trainer

from .conftest import BACKENDS, options

ROOT = Path(__file__).resolve().parents[1]
RUN = [
    "train",
    *options(
        num_hiddens=16,
        batch_size=4,
        num_steps=8,
        max_tokens=1000,
        num_val=0,
        seed=3,
        quiet=True,
        num_preds=1,
    ),
]


def start(args: list[str], cwd: Path) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    return subprocess.Popen(
        [sys.executable, "-m", "d2lrnn", *args],
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def finish(proc: subprocess.Popen) -> tuple[int, str]:
    _, err = proc.communicate(timeout=240)
    return proc.returncode, err


def interrupt_when_saved(proc: subprocess.Popen, path: Path, signum: int) -> tuple[int, str]:
    """Send ``signum`` as soon as the first periodic checkpoint exists (the run is then
    mid-training)."""
    deadline = time.monotonic() + 180
    while not path.exists() and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.01)
    proc.send_signal(signum)
    return finish(proc)


def test_sigint_then_resume_ends_with_the_weights_of_an_uninterrupted_run(tmp_path):
    epochs = ["--epochs", "12", "--save-every", "1"]
    full = start([*RUN, *epochs, "--save", "full.npz"], tmp_path)  # the two runs share the CPUs
    part = start([*RUN, *epochs, "--save", "part.npz"], tmp_path)
    status, err = interrupt_when_saved(part, tmp_path / "part.npz", signal.SIGINT)
    assert status == 130, err
    assert "Traceback" not in err
    assert (
        "interrupted (SIGINT) after epoch" in err
        and "Resume with: d2lrnn train --resume part.npz" in err
    )
    stopped_at = read(tmp_path / "part.npz")[1][STATE_KEY]["epoch"]
    assert 1 <= stopped_at < 12

    status, err = finish(
        start(["train", *options(resume="part.npz", quiet=True, num_preds=1)], tmp_path)
    )
    assert status == 0, err
    assert f"resuming part.npz after epoch {stopped_at} of 12" in err
    assert finish(full)[0] == 0

    (resumed, meta_r), (uninterrupted, meta_u) = (
        read(tmp_path / "part.npz"),
        read(tmp_path / "full.npz"),
    )
    assert meta_r[STATE_KEY]["epoch"] == meta_u[STATE_KEY]["epoch"] == 12
    assert len(meta_r[STATE_KEY]["history"]) == 12
    for name, value in uninterrupted.items():
        np.testing.assert_allclose(resumed[name], value, atol=1e-5, rtol=0, err_msg=name)


def wait_for_training(proc: subprocess.Popen) -> str:
    """Read stderr up to the line that says training started (the signal handlers are installed by
    then)."""
    seen = []
    for line in proc.stderr:
        seen.append(line)
        if "Ctrl-C stops and saves" in line:
            break
    return "".join(seen)


def test_sigterm_saves_to_a_default_path_and_says_where(tmp_path):
    proc = start([*RUN, "--epochs", "500"], tmp_path)
    before = wait_for_training(proc)
    time.sleep(0.5)
    proc.send_signal(signal.SIGTERM)
    status, err = finish(proc)
    assert status == 143, before + err
    saved = sorted(tmp_path.glob("d2lrnn-interrupted-*.npz"))
    assert len(saved) == 1 and f"saved a checkpoint to {saved[0].name}" in err
    assert "Traceback" not in err
    assert read(saved[0])[1][STATE_KEY]["epoch"] < 500


SAVER = """
import sys, numpy as np
from d2lrnn.checkpoint import save_weights
from d2lrnn.vocab import Vocab
vocab = Vocab(list("abc "))
n, h = len(vocab), 1024
shapes = {"W_xh.0": (n, h), "W_hh.0": (h, h), "b_h.0": (h,), "W_hq": (h, n), "b_q": (n,)}
hparams = {"num_inputs": n, "num_outputs": n, "num_hiddens": h, "num_layers": 1, "lr": 1.0}
for generation in range(1, 10**6):
    weights = {k: np.full(s, generation, np.float32) for k, s in shapes.items()}
    print(generation, flush=True)
    save_weights(sys.argv[1], weights, vocab, backend="torch", model="scratch", hparams=hparams, generation=generation)
"""  # noqa: E501


def test_a_kill_during_a_save_never_replaces_the_good_checkpoint(tmp_path):
    """SIGKILL a process that rewrites a 4 MB checkpoint in a loop: the file on disk is always a
    whole one."""
    target = tmp_path / "model.npz"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    rng = np.random.default_rng()
    for attempt in range(4):
        proc = subprocess.Popen(
            [sys.executable, "-c", SAVER, str(target)], env=env, stdout=subprocess.PIPE, text=True
        )
        for _ in range(2 + attempt):  # at least one whole save has finished
            proc.stdout.readline()
        time.sleep(float(rng.uniform(0, 0.05)))
        proc.kill()
        proc.wait()
        weights, meta = read(target)
        generation = meta["generation"]
        assert generation >= 1
        assert all((w == generation).all() for w in weights.values()), (
            "weights from two different saves"
        )
    leftovers = [p.name for p in tmp_path.iterdir() if p != target]
    assert all(name.startswith(".model.npz.") and name.endswith(".tmp") for name in leftovers), (
        leftovers
    )


def test_divergence_stops_with_advice_and_keeps_the_last_good_checkpoint(tmp_path):
    """Resume a good checkpoint with --lr 100 --clip 0: exit 1, the epoch and advice; the file is
    unchanged."""
    data = TimeMachine(8, 16, num_train=3000, num_val=0, seed=0)
    n, rng = len(data.vocab), np.random.default_rng(0)
    weights = {
        k: rng.normal(0, 0.1, s).astype(np.float32)
        for k, s in canonical_shapes(n, n, 64, 1).items()
    }
    settings = {
        "model": "concise",
        "epochs": 1,
        "batch_size": 8,
        "num_steps": 16,
        "num_hiddens": 64,
        "num_layers": 1,
        "lr": 1.0,
        "clip": 1.0,
        "max_tokens": 3000,
        "num_val": 0,
        "sampling": "sequential",
        "token": "char",
        "seed": 0,
        "corpus": None,
    }
    state = {
        "epoch": 1,
        "max_epochs": 1,
        "history": [],
        "rng": data.train_loader.rng.bit_generator.state,
        "settings": settings,
    }
    good = tmp_path / "good.npz"
    save_weights(
        good,
        weights,
        data.vocab,
        backend="torch",
        model="concise",
        hparams={"num_inputs": n, "num_outputs": n, "num_hiddens": 64, "num_layers": 1, "lr": 1.0},
        train_state=state,
    )
    before = good.read_bytes()
    status, err = finish(
        start(
            [
                "train",
                *options(resume="good.npz", lr=100, clip=0, epochs=6, save_every=1, quiet=True),
            ],
            tmp_path,
        )
    )
    assert status == 1, err
    assert "Traceback" not in err
    assert "Training diverged in epoch" in err and "--clip 1" in err
    assert "good.npz from epoch" in err and "--resume good.npz --lr" in err
    # an epoch before the divergence was saved: it must be finite and whole
    if good.read_bytes() != before:
        saved, _ = read(good)
        assert all(np.isfinite(w).all() for w in saved.values())


# --- the library function, in this process: every backend, both samplings
# --------------------------------------------
SMALL = {
    "num_hiddens": 8,
    "batch_size": 4,
    "num_steps": 8,
    "max_tokens": 600,
    "num_val": 0,
    "seed": 5,
}


def job(**kwargs) -> TrainJob:
    settings = {**SMALL, **kwargs.pop("settings", {})}
    return TrainJob(
        settings=settings, save_every=1, num_preds=1, progress=False, device="cpu", **kwargs
    )


def interrupt_once(path: Path) -> threading.Thread:
    """Send this process SIGINT as soon as ``path`` exists (the first periodic save: training is
    under way)."""

    def watch() -> None:
        deadline = time.monotonic() + 120
        while not path.exists() and time.monotonic() < deadline:
            time.sleep(0.002)
        if path.exists():
            os.kill(os.getpid(), signal.SIGINT)

    thread = threading.Thread(target=watch, daemon=True)
    thread.start()
    return thread


@pytest.mark.parametrize("sampling", ["sequential", "random"])
@pytest.mark.parametrize("name", BACKENDS)
def test_interrupt_and_resume_equal_an_uninterrupted_run(tmp_path, name, sampling):
    part, full = tmp_path / "part.npz", tmp_path / "full.npz"
    settings = {"sampling": sampling}
    watcher = interrupt_once(part)
    stopped = run_training(job(backend=name, save=str(part), settings={**settings, "epochs": 400}))
    watcher.join()
    assert stopped.stopped_by == "SIGINT" and stopped.exit_status == 130, stopped.message
    done = read(part)[1][STATE_KEY]["epoch"]
    assert 1 <= done < 400 and f"after epoch {done} of 400" in stopped.message

    total = done + 2
    resumed = run_training(job(resume=str(part), settings={"epochs": total}))
    uninterrupted = run_training(
        job(backend=name, save=str(full), settings={**settings, "epochs": total})
    )
    assert resumed.stopped_by is None and resumed.backend == uninterrupted.backend == name
    (a, meta_a), (b, meta_b) = read(part), read(full)
    assert meta_a[STATE_KEY]["epoch"] == meta_b[STATE_KEY]["epoch"] == total
    assert meta_a[STATE_KEY]["rng"] == meta_b[STATE_KEY]["rng"]
    for key, value in b.items():
        np.testing.assert_allclose(a[key], value, atol=1e-5, rtol=0, err_msg=key)
    assert [s["perplexity"] for s in meta_a[STATE_KEY]["history"]] == pytest.approx(
        [s["perplexity"] for s in meta_b[STATE_KEY]["history"]], rel=1e-4
    )


def test_the_signal_handler_only_records(capfd):
    """It must not write (a progress bar may be writing): the caller reports the signal."""
    trainer = Trainer(3, progress=False)
    with stop_on_signals(trainer) as caught:
        os.kill(os.getpid(), signal.SIGINT)
        time.sleep(0.05)
    assert caught.signum == signal.SIGINT and trainer.interrupted
    assert capfd.readouterr() == ("", "")


def _with_a_signal_inside_the_final_save(monkeypatch, second: bool) -> list[int]:
    """Make the last save receive SIGINT (``second``: a second one, which raises KeyboardInterrupt)
    mid-way."""
    calls, real = [], CheckpointSaver.save

    def save(self, path=None):
        calls.append(self.epoch)
        if self.epoch == 3:  # the final save of a 3-epoch run (the tests save no earlier epoch 3)
            os.kill(os.getpid(), signal.SIGINT)
            if second:
                os.kill(os.getpid(), signal.SIGINT)
        return real(self, path)

    monkeypatch.setattr(CheckpointSaver, "save", save)
    return calls


def test_a_signal_during_the_final_save_lets_it_finish(tmp_path, monkeypatch):
    _with_a_signal_inside_the_final_save(monkeypatch, second=False)
    logged = []
    final_only = job(backend="torch", save=str(tmp_path / "m.npz"), settings={"epochs": 3})
    final_only.save_every = 0
    result = run_training(final_only, log=logged.append)
    assert result.stopped_by is None and result.exit_status == 0 and result.samples
    assert read(tmp_path / "m.npz")[1][STATE_KEY]["epoch"] == 3
    assert any("saved a checkpoint to" in line and "the run is whole" in line for line in logged), (
        logged
    )


def test_a_second_signal_during_the_final_save_says_what_the_file_holds(tmp_path, monkeypatch):
    _with_a_signal_inside_the_final_save(monkeypatch, second=True)
    path = tmp_path / "m.npz"
    every_second = job(backend="torch", save=str(path), settings={"epochs": 3})
    every_second.save_every = 2  # epoch 2 is saved periodically, epoch 3 only by the final save
    result = run_training(every_second)
    assert result.exit_status == 130
    on_disk = read(path)[1][STATE_KEY]["epoch"]
    assert on_disk == 2  # the periodic save of epoch 2; the cancelled one left no trace
    assert (
        f"{path} still holds epoch {on_disk}, saved earlier" in result.message
        and "cancelled" in result.message
    )
    assert [p.name for p in tmp_path.iterdir()] == ["m.npz"]


def test_a_failed_final_save_keeps_the_results(tmp_path, monkeypatch):
    def disk_full(self, path=None):
        raise CheckpointError(
            f"Cannot write the checkpoint {path or self.path}: No space left on device."
        )

    monkeypatch.setattr(CheckpointSaver, "save", disk_full)
    final_only = job(backend="torch", save=str(tmp_path / "m.npz"), settings={"epochs": 2})
    final_only.save_every = 0
    result = run_training(final_only)
    assert result.exit_status == 2 and result.stopped_by is None
    assert result.summary["epochs"] == 2 and result.samples and result.checkpoint is None
    assert (
        "its checkpoint was not saved" in result.message
        and "No space left on device" in result.message
    )
    assert result.to_dict()["problem"] == result.message


def test_a_second_signal_during_training_says_what_the_file_holds(tmp_path, monkeypatch):
    """Ctrl-C twice quits at once (KeyboardInterrupt inside the training loop, here after epoch 2
    was saved)."""
    path, real = tmp_path / "m.npz", CheckpointSaver.__call__

    def then_quit(self, trainer, stats):
        real(self, trainer, stats)
        if trainer.epoch == 2:
            raise KeyboardInterrupt

    monkeypatch.setattr(CheckpointSaver, "__call__", then_quit)
    result = run_training(job(backend="torch", save=str(path), settings={"epochs": 5}))
    assert result.exit_status == 130 and result.stopped_by == "SIGINT"
    assert read(path)[1][STATE_KEY]["epoch"] == 2
    assert (
        f"{path} still holds epoch 2, saved earlier" in result.message
        and result.resume_from == str(path)
    )
    # the command line's advice
    assert f"Resume with: d2lrnn train --resume {path}" in stop_message(result)
