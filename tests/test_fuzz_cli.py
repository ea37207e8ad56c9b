"""Random command lines from the documented options and values: exit 0 or 2, never a traceback,
never a hang.

Every command line starts with tiny sizes (one epoch of an 8-unit model) that the drawn options
may override, so a run that trains takes a few seconds. The lines run in one long-lived driver
process (``tests/cli_driver.py``: it imports the CLI once and forks a child per line), and each
line has a time bound.
"""

from __future__ import annotations

import json
import os
import selectors
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import event, given
from hypothesis import strategies as st

from d2lrnn.train_job import TrainJob, run_training

from .conftest import installed, needs_corpus, options
from .fuzz_support import crafted_checkpoint, quick_and_long

ROOT = Path(__file__).resolve().parents[1]
BOUND_S = 90  # no tiny run takes this long; a line that does is a hang
pytestmark = [
    needs_corpus,
    pytest.mark.skipif(not installed("torch"), reason="torch not installed"),
]

TINY = options(
    epochs=1,
    num_hiddens=8,
    batch_size=2,
    num_steps=4,
    max_tokens=300,
    num_val=0,
    num_preds=3,
    quiet=True,
    threads=1,
)
COMMON = {
    "--backend": ["torch", "pytorch", "nope", ""],
    "--device": ["auto", "cpu", "gpu", "tpu"],
    "--json": None,
}
TRAIN = {
    **COMMON,
    "--model": ["concise", "scratch", "lstm"],
    "--epochs": ["1", "2", "0", "-1", "1.5", "x"],
    "--batch-size": ["1", "3", "0", "-2", "many"],
    "--num-steps": ["1", "5", "0", "2.5"],
    "--num-hiddens": ["1", "4", "0", "2000000"],
    "--num-layers": ["1", "2", "0", "10000000"],
    "--lr": ["0.5", "1", "0", "-1", "nan", "inf", "1e-300"],
    "--clip": ["0", "1", "-1", "nan"],
    "--max-tokens": ["50", "300", "2000", "0", "1"],
    "--num-val": ["0", "100", "-1"],
    "--sampling": ["sequential", "random", "shuffled"],
    "--token": ["char", "word", "byte"],
    "--seed": ["0", "7", "4294967296", "-1", "x"],
    "--corpus": ["{dir}/short.txt", "{dir}/latin1.txt", "{dir}/nope.txt", "{dir}", "/dev/null"],
    "--data-dir": ["{data}", "{dir}", "{dir}/none"],
    "--plot": ["{dir}/out/p.png", "{dir}/out/p.foo", "{dir}/out"],
    "--save": ["{dir}/out/m.npz", "{dir}/out", "{dir}/short.txt"],
    "--save-every": ["0", "1", "-1"],
    "--resume": ["{dir}/resumable.npz", "{dir}/bomb.npz", "{dir}/nope.npz"],
    "--num-preds": ["1", "0"],
    "--threads": ["auto", "1", "0", "x"],
}
PREDICT = {
    **COMMON,
    "--checkpoint": ["{dir}/resumable.npz", "{dir}/bomb.npz", "{dir}/short.txt", "{dir}/nope.npz"],
    "--prefix": ["time traveller", "", "1984", "Ωmega ", "a" * 200],
    "--num-preds": ["1", "20", "0", "-3"],
    "--temperature": ["0.5", "1", "0", "-1", "nan"],
    "--seed": ["0", "4294967296", "x"],
}


def _options(table: dict[str, list[str] | None]) -> st.SearchStrategy[list[str]]:
    one = st.sampled_from(sorted(table)).flatmap(
        lambda flag: (
            st.just([flag])
            if table[flag] is None
            else st.sampled_from(table[flag]).map(lambda v: [flag, v])
        )
    )
    return st.lists(one, max_size=4).map(lambda pairs: [word for pair in pairs for word in pair])


COMMAND_LINES = st.one_of(
    _options(TRAIN).map(lambda extra: ["train", *TINY, *extra]),
    _options(PREDICT).map(lambda extra: ["predict", "--checkpoint", "{dir}/resumable.npz", *extra]),
)


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory, corpus_path: Path) -> Path:
    """A resumable 1-epoch checkpoint, the crafted one, and a few corpora."""
    d = tmp_path_factory.mktemp("cli")
    (d / "out").mkdir()
    (d / "short.txt").write_text(corpus_path.read_text(encoding="utf-8")[:3000], encoding="utf-8")
    (d / "latin1.txt").write_bytes("caf\xe9 ".encode("latin-1") * 300)
    job = TrainJob(
        settings={
            "epochs": 1,
            "num_hiddens": 8,
            "batch_size": 2,
            "num_steps": 4,
            "max_tokens": 300,
            "num_val": 0,
            "seed": 0,
        },
        backend="torch",
        save=str(d / "resumable.npz"),
        num_preds=1,
        progress=False,
        threads=None,
    )
    assert run_training(job).exit_status == 0
    crafted_checkpoint(d / "bomb.npz", d / "resumable.npz")
    return d


class Driver:
    """``tests/cli_driver.py`` kept running: one JSON list of cases per line in, one list of results
    per line out."""

    LOOP = """import json, os, sys
sys.path.insert(0, sys.argv[1])
from cli_driver import run_cases
replies = os.fdopen(os.dup(1), "w")
os.dup2(os.open(os.devnull, os.O_WRONLY), 1)  # what the command lines print goes nowhere
for line in sys.stdin:
    replies.write(json.dumps(run_cases(json.loads(line))) + "\\n")
    replies.flush()
"""

    def __init__(self) -> None:
        env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
        self.proc = subprocess.Popen(
            [sys.executable, "-c", self.LOOP, str(ROOT / "tests")],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env=env,
            cwd=ROOT,
        )
        self.selector = selectors.DefaultSelector()
        self.selector.register(self.proc.stdout, selectors.EVENT_READ)

    def run(self, argv: list[str], cwd: Path) -> dict:
        self.proc.stdin.write(json.dumps([{"argv": argv, "cwd": str(cwd)}]) + "\n")
        self.proc.stdin.flush()
        if not self.selector.select(timeout=BOUND_S):
            self.close()
            raise AssertionError(f"d2lrnn {' '.join(argv)} ran past {BOUND_S} s (a hang)")
        return json.loads(self.proc.stdout.readline())[0]

    def close(self) -> None:
        self.proc.kill()
        self.proc.wait()


@pytest.fixture(scope="module")
def driver() -> Iterator[Driver]:
    running = Driver()
    yield running
    running.close()


def _any_command_line_exits_0_or_2(folder, driver, corpus_path, argv):
    argv = [
        a.replace("{dir}", str(folder)).replace("{data}", str(corpus_path.parent)) for a in argv
    ]
    result = driver.run(argv, folder)
    err = result["stderr"]
    assert "Traceback" not in err and "Exception ignored" not in err, err
    assert result["status"] in (0, 2), f"d2lrnn {argv}: exit {result['status']}: {err}"
    if result["status"] == 2:
        last = err.strip().splitlines()[-1]
        assert last.startswith("d2lrnn"), err
    event(f"{argv[0]}: exit {result['status']}")


_FUZZ = given(argv=COMMAND_LINES)
test_any_command_line_exits_0_or_2, test_any_command_line_exits_0_or_2_long = quick_and_long(
    _FUZZ, _any_command_line_exits_0_or_2, quick=12, long=300
)
