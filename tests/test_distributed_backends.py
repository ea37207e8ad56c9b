"""Data-parallel training on every backend with an engine: 2 workers (MXNet: 2 devices) equal one
process.

Each test starts real workers of the framework's own engine (torch.distributed with gloo,
MultiWorkerMirroredStrategy, jax.distributed with gloo) on free loopback ports, or MXNet's two CPU
contexts in one process, and kills every process it started when it ends.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from d2lrnn import distributed
from d2lrnn.backends import NAMES
from d2lrnn.distributed.launch import Launcher

from .conftest import ROOT, WORKER_RUN, backend_param, needs_corpus, options

pytestmark = needs_corpus
#: every backend with an engine: processes on 127.0.0.1, or (MXNet) devices in one process
ENGINE_BACKENDS = [backend_param(n) for n in NAMES if distributed.engine_mode(n)]
PROBE = ROOT / "tests" / "distributed_probe.py"
TINY = options(**WORKER_RUN)
TIMEOUT = 400


def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}


def _probe(name: str, out: Path, workers: int) -> dict[str, np.ndarray]:
    if workers == 1 or distributed.engine_mode(name) == "devices":
        subprocess.run(
            [sys.executable, str(PROBE), name, str(out), str(workers)],
            env=_env(),
            check=True,
            timeout=TIMEOUT,
        )
    else:
        saved = dict(os.environ)
        os.environ.update(_env())
        try:
            launcher = Launcher([sys.executable, str(PROBE), name, str(out)], workers)
            assert launcher.run() == 0
        finally:
            os.environ.clear()
            os.environ.update(saved)
    with np.load(out) as data:
        return dict(data)


def _train(*args: str, timeout: float = TIMEOUT) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "d2lrnn", "train", *args],
        cwd=ROOT,
        env=_env(),
        capture_output=True,
        text=True,
        timeout=timeout,
    )


@pytest.mark.parametrize("name", ENGINE_BACKENDS)
def test_two_workers_see_the_same_batch_losses_and_end_with_the_same_weights(
    name: str, tmp_path: Path
) -> None:
    one = _probe(name, tmp_path / "one.npz", 1)
    two = _probe(name, tmp_path / "two.npz", 2)
    assert len(one["losses"]) == len(two["losses"]) > 10
    np.testing.assert_allclose(two["losses"], one["losses"], rtol=1e-5)
    assert one["losses"][-1] < one["losses"][0]  # it trained
    for key in one:
        np.testing.assert_allclose(two[key], one[key], rtol=1e-4, atol=1e-5, err_msg=key)


#: TensorFlow's workers run the strategy eagerly: a minute or more for the 3 tiny epochs on a busy
#: machine
CLI_BACKENDS = [
    pytest.param(*p.values, marks=[*p.marks, pytest.mark.slow])
    if p.values[0] in ("tensorflow", "jax")  # the per-batch test covers them in the default suite
    else p
    for p in ENGINE_BACKENDS
]


@pytest.mark.parametrize("name", CLI_BACKENDS)
def test_train_with_two_workers_reports_the_perplexity_of_one_process(
    name: str, tmp_path: Path
) -> None:
    one = _train("--backend", name, *TINY, "--json")
    two = _train(
        "--backend", name, *TINY, "--json", "--workers", "2", "--save", str(tmp_path / "two.npz")
    )
    assert one.returncode == 0, one.stderr
    assert two.returncode == 0, two.stderr
    lines = [line for line in two.stdout.splitlines() if line.startswith("{")]
    assert len(lines) == 1  # one report, from rank 0
    a, b = json.loads(one.stdout.splitlines()[-1]), json.loads(lines[0])
    assert b["workers"] == 2 and b["epochs"] == a["epochs"] == 3
    assert b["perplexity"] == pytest.approx(a["perplexity"], rel=1e-5)
    assert b["val_perplexity"] == pytest.approx(a["val_perplexity"], rel=1e-5)
    assert two.stdout.count("perplexity ") == 1 and (tmp_path / "two.npz").is_file()


def test_a_run_saved_by_two_workers_resumes_in_one_process_exactly(tmp_path: Path) -> None:
    whole, part = tmp_path / "whole.npz", tmp_path / "part.npz"
    assert _train("--backend", "torch", *_with_epochs(3), "--save", str(whole)).returncode == 0
    assert (
        _train(
            "--backend", "torch", *_with_epochs(2), "--workers", "2", "--save", str(part)
        ).returncode
        == 0
    )
    resumed = _train(*options(resume=str(part), epochs=3, threads=1, quiet=True, json=True))
    assert resumed.returncode == 0, resumed.stderr
    _same_weights(part, whole)


def test_a_run_saved_in_one_process_resumes_on_two_workers_exactly(tmp_path: Path) -> None:
    whole, part = tmp_path / "whole.npz", tmp_path / "part.npz"
    assert _train("--backend", "torch", *_with_epochs(3), "--save", str(whole)).returncode == 0
    assert _train("--backend", "torch", *_with_epochs(2), "--save", str(part)).returncode == 0
    resumed = _train(
        *options(resume=str(part), epochs=3, workers=2, threads=1, quiet=True, json=True)
    )
    assert resumed.returncode == 0, resumed.stderr
    assert json.loads(resumed.stdout.splitlines()[-1])["workers"] == 2
    _same_weights(part, whole)


def _with_epochs(epochs: int) -> list[str]:
    args = list(TINY)
    args[args.index("--epochs") + 1] = str(epochs)
    return args


def _same_weights(a: Path, b: Path) -> None:
    with np.load(a) as x, np.load(b) as y:
        keys = [k for k in x.files if not k.startswith("__")]
        assert keys and set(keys) == {k for k in y.files if not k.startswith("__")}
        for key in keys:
            if x[key].dtype.kind == "f":
                np.testing.assert_allclose(x[key], y[key], rtol=1e-4, atol=1e-5, err_msg=key)


def _start(*args: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "d2lrnn", "train", *args],
        cwd=ROOT,
        env=_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )


def _children(pid: int) -> dict[int, int]:
    """The launcher's workers: rank -> pid (read from /proc)."""
    ranks = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            if int(stat[1]) != pid:
                continue
            env = dict(
                item.split("=", 1)
                for item in (entry / "environ").read_text().split("\0")
                if "=" in item
            )
        except (OSError, IndexError, ValueError):
            continue
        if "D2LRNN_RANK" in env:
            ranks[int(env["D2LRNN_RANK"])] = int(entry.name)
    return ranks


def _wait_for(predicate, timeout: float) -> None:  # noqa: ANN001
    end = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < end, "timed out"
        time.sleep(0.2)


def test_sigterm_on_the_launcher_stops_every_worker_and_leaves_one_checkpoint(
    tmp_path: Path,
) -> None:
    path = tmp_path / "run.npz"
    proc = _start(
        "--backend",
        "torch",
        *_with_epochs(500),
        "--workers",
        "2",
        "--save",
        str(path),
        "--save-every",
        "1",
    )
    try:
        _wait_for(path.is_file, TIMEOUT)  # a first epoch was saved: every worker is training
        workers = _children(proc.pid)
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=120)
    finally:
        proc.kill()
    assert proc.returncode == 143, err
    assert "saved a checkpoint" in err and f"--resume {path}" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run.npz"]
    assert len(workers) == 2 and not any(Path(f"/proc/{pid}").exists() for pid in workers.values())


def test_a_killed_worker_ends_the_run_with_a_message_that_names_it(tmp_path: Path) -> None:
    path = tmp_path / "run.npz"
    proc = _start(
        "--backend",
        "torch",
        *_with_epochs(500),
        "--workers",
        "2",
        "--save",
        str(path),
        "--save-every",
        "1",
    )
    try:
        _wait_for(path.is_file, TIMEOUT)
        workers = _children(proc.pid)
        os.kill(workers[1], signal.SIGKILL)
        out, err = proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert proc.returncode == 2, err
    assert f"worker 1 of 2 (pid {workers[1]}) was killed by SIGKILL" in err
    assert not Path(f"/proc/{workers[0]}").exists()


def test_mxnet_multi_machine_mode_is_refused_with_one_sentence() -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "d2lrnn",
            "train",
            "--backend",
            "mxnet",
            "--workers",
            "2",
            *_with_epochs(1),
        ],
        cwd=ROOT,
        env={**_env(), "DMLC_ROLE": "worker"},
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
    )
    assert (
        result.returncode == 2
        and "multi-machine mode" in result.stderr
        and "Traceback" not in result.stderr
    )


def test_a_bench_row_on_two_workers_reports_the_whole_batch() -> None:
    from d2lrnn.bench.worker import MARKER

    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "d2lrnn.bench.worker",
            "--backend",
            "torch",
            "--model",
            "concise",
            "--epochs",
            "2",
            "--batch-size",
            "8",
            "--num-steps",
            "10",
            "--num-hiddens",
            "16",
            "--max-tokens",
            "2000",
            "--threads",
            "1",
            "--workers",
            "2",
        ],
        cwd=ROOT,
        env=_env(),
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
    )
    lines = [line for line in result.stdout.splitlines() if line.startswith(MARKER)]
    assert result.returncode == 0 and len(lines) == 1, result.stderr
    row = json.loads(lines[0][len(MARKER) :])
    assert row["status"] == "ok" and row["workers"] == 2
    # both workers' rows, every batch
    assert [epoch["tokens"] for epoch in row["epochs"]] == [24 * 8 * 10] * 2


@pytest.mark.parametrize("name", [backend_param("torch")])
def test_a_signal_during_the_agreement_is_kept_for_the_next_batch(name: str) -> None:
    """The stop request that lands while the workers agree is sent with the next batch, never
    lost."""
    from d2lrnn.backends import get_backend
    from d2lrnn.cells import make_model
    from d2lrnn.data import TimeMachine
    from d2lrnn.trainer import Trainer

    class SignalDuringAgreement(distributed.Group):
        calls = 0

        def any(self, flag: bool) -> bool:
            self.calls += 1
            if self.calls == 3:  # the handler runs while this batch's agreement is under way
                trainer.interrupt()
            return flag

    backend = get_backend(name)
    data = TimeMachine(8, 10, num_train=2000, num_val=0, seed=0)
    model = make_model(
        backend,
        "concise",
        "rnn",
        num_inputs=len(data.vocab),
        num_outputs=len(data.vocab),
        num_hiddens=8,
    )
    trainer = Trainer(2, 1.0, device=backend.cpu(), progress=False)
    group = SignalDuringAgreement()
    group.attach(trainer, data)
    trainer.fit(model, data)
    assert trainer.interrupted and group.calls == 4 and trainer.epoch == 0
