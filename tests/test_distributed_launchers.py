"""The engines' own multi-machine launchers start the same entry point as ``--workers``.

Two "machines" on 127.0.0.1: two ``torchrun --nnodes 2`` (one process per node), two processes with
a ``TF_CONFIG`` each, two processes with JAX's coordinator variables. Rank 0 reports one JSON line
whose perplexity is the single-process run's. Every process has a timeout and is killed at the end.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from d2lrnn.distributed.launch import free_port

from .conftest import ROOT, WORKER_RUN, backend_param, needs_corpus, options

pytestmark = needs_corpus
TINY = options(**{**WORKER_RUN, "epochs": 2}, json=True)
TIMEOUT = 400


def _env(**extra: str) -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1", **extra}


def _commands(name: str) -> list[tuple[list[str], dict[str, str]]]:
    """Each node's command line and environment, as the engine's multi-machine docs start them."""
    port = str(free_port())
    train = ["-m", "d2lrnn", "train", "--backend", name, *TINY]
    if name == "torch":
        torchrun = shutil.which("torchrun", path=str(Path(sys.executable).parent)) or "torchrun"
        return [
            (
                [
                    torchrun,
                    "--nnodes",
                    "2",
                    "--node-rank",
                    str(rank),
                    "--nproc-per-node",
                    "1",
                    "--master-addr",
                    "127.0.0.1",
                    "--master-port",
                    port,
                    *train,
                ],
                _env(),
            )
            for rank in (0, 1)
        ]
    if name == "tensorflow":
        cluster = {"worker": [f"127.0.0.1:{port}", f"127.0.0.1:{free_port()}"]}
        return [
            (
                [sys.executable, *train],
                _env(
                    TF_CONFIG=json.dumps(
                        {"cluster": cluster, "task": {"type": "worker", "index": i}}
                    )
                ),
            )
            for i in (0, 1)
        ]
    return [
        (
            [sys.executable, *train],
            _env(
                JAX_COORDINATOR_ADDRESS=f"127.0.0.1:{port}",
                JAX_NUM_PROCESSES="2",
                JAX_PROCESS_ID=str(i),
            ),
        )
        for i in (0, 1)
    ]


@pytest.mark.parametrize(
    "name",
    [
        backend_param("torch"),
        pytest.param(
            *backend_param("jax").values, marks=[*backend_param("jax").marks, pytest.mark.slow]
        ),
        pytest.param(
            *backend_param("tensorflow").values,
            marks=[*backend_param("tensorflow").marks, pytest.mark.slow],
        ),
    ],
)
def test_the_engines_own_launcher_trains_the_single_process_run(name: str) -> None:
    one = subprocess.run(
        [sys.executable, "-m", "d2lrnn", "train", "--backend", name, *TINY],
        cwd=ROOT,
        env=_env(),
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
    )
    assert one.returncode == 0, one.stderr
    nodes = [
        subprocess.Popen(
            cmd,
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,
        )
        for cmd, env in _commands(name)
    ]
    try:
        outputs = [node.communicate(timeout=TIMEOUT) for node in nodes]
    finally:
        for node in nodes:
            if node.poll() is None:
                node.kill()
                node.wait()
    for node, (_, err) in zip(nodes, outputs):
        assert node.returncode == 0, err[-3000:]
    reports = [line for out, _ in outputs for line in out.splitlines() if line.startswith("{")]
    assert len(reports) == 1, outputs  # rank 0 alone reports
    a, b = json.loads(one.stdout.splitlines()[-1]), json.loads(reports[0])
    assert b["workers"] == 2 and b["epochs"] == a["epochs"] == 2
    assert b["perplexity"] == pytest.approx(a["perplexity"], rel=1e-5)
