"""Run the book's code cells from ../shared/seeds as written, per framework tab, and check their
output.

Only the import line changes (``d2l``/``gluonbook`` -> the generation's namespace, ``d2lrnn.v0``
or ``d2lrnn.draft``, see :func:`generation`); ``sys.path`` hacks, ``%``
magics and the d2lbook tab-selection cell are dropped; ``num_epochs``/``max_epochs`` (and
``pred_period``, so the periodic report still prints) shrink to :data:`EPOCHS`. Each seed x tab
runs in its own subprocess, which also keeps TensorFlow's Keras choice out of this process. Like
Jupyter, the value of a cell's last expression is printed. Seeds that print nothing themselves get
a test-only probe cell appended (:data:`PROBES`). ``-m slow`` runs them for :data:`SLOW_EPOCHS`
and checks that they learn.
"""

from __future__ import annotations

import ast
import importlib.util
import json
import math
import os
import re
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from d2lrnn.book.cells import RUNNER, shrink_epochs

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("D2LRNN_SHARED") or REPO.parent / "shared")
SEEDS = SHARED / "seeds"
DATA_DIR = os.environ.get("D2LRNN_DATA_DIR") or str(SHARED / "data")
EPOCHS = 2
#: epochs of the slow run, which checks that the seeds really learn
SLOW_EPOCHS = 50
TIMEOUT = 300
#: framework tab -> the packages it needs
FRAMEWORKS = {"pytorch": ("torch",), "mxnet": ("mxnet",), "tensorflow": ("tensorflow", "tf_keras")}

#: the generation's d2lrnn namespace replaces the book's import line (see :func:`generation`)
IMPORTS = [
    (
        re.compile(r"^from d2l import (torch|mxnet|tensorflow) as d2l\s*$", re.M),
        r"from d2lrnn.{ns} import \1 as d2l",
    ),
    # d2l 0.x was MXNet-only
    (re.compile(r"^import d2l\s*$", re.M), "from d2lrnn.{ns} import mxnet as d2l"),
    (re.compile(r"^import gluonbook as gb\s*$", re.M), "from d2lrnn import gluonbook as gb"),
    (re.compile(r"^\s*sys\.path\.\w+\(.*\)\s*$\n?", re.M), ""),
    (re.compile(r"^\s*%.*$\n?", re.M), ""),
]
FENCE = re.compile(r"^```(?P<info>[^\n]*)\n(?P<body>.*?)^```[ \t]*$", re.M | re.S)
TAB_MAGIC = re.compile(r"^%%tab\s+(?P<tabs>[\w ,]+)$", re.M)


# --- reading the seeds ------------------------------------------------------------------------
def python_cells(text: str) -> list[str]:
    """The Python input cells of a d2lbook markdown file, in order."""
    cells = []
    for match in FENCE.finditer(text):
        info = match["info"].strip()
        if info == "python" or (".python" in info and ".input" in info):
            cells.append(match["body"])
    return cells


def cell_tabs(cell: str) -> set[str]:
    magic = TAB_MAGIC.search(cell)
    return {t for t in re.split(r"[\s,]+", magic["tabs"]) if t} if magic else {"all"}


def infer_tab(cells: list[str]) -> str:
    """The framework of a seed without ``%%tab`` cells, from its imports."""
    code = "\n".join(cells)
    for tab, pattern in (
        ("pytorch", r"\bimport torch\b|d2l import torch"),
        ("tensorflow", r"import tensorflow"),
        ("mxnet", r"\bmxnet\b|import gluonbook|^import d2l$"),
    ):
        if re.search(pattern, code, re.M):
            return tab
    raise ValueError("cannot tell the seed's framework from its imports")


def generation(cells: list[str]) -> str:
    """``draft`` for the d2l 1.0 draft (a ``d2l.RNNScratch`` model built with ``num_outputs``), else
    ``v0``."""
    code = "\n".join(cells)
    return "draft" if re.search(r"d2l\.RNNScratch\b", code) and "num_outputs" in code else "v0"


def prepare(cell: str, epochs: int = EPOCHS, namespace: str = "v0") -> str:
    for pattern, replacement in IMPORTS:
        cell = pattern.sub(replacement.replace("{ns}", namespace), cell)
    return shrink_epochs(cell, epochs)


@dataclass
class Seed:
    path: Path
    tabs: dict[str, list[str]] = field(default_factory=dict)  # tab -> its cells as written
    skip: str = ""

    @property
    def number(self) -> str:
        return self.path.name.split("_")[0]

    def cells(self, tab: str, epochs: int) -> list[str]:
        """The tab's cells ready to run for ``epochs`` epochs, with the seed's test-only probe."""
        namespace = generation(self.tabs[tab])
        cells = [prepare(c, epochs, namespace) for c in self.tabs[tab]]
        return cells + ([PROBES[self.number]] if self.number in PROBES else [])


def load_seed(path: Path) -> Seed:
    cells = python_cells(path.read_text(encoding="utf-8"))
    if not cells:
        return Seed(
            path,
            skip=f"{path.name} has no Python code cells (it is not Python code, e.g. Perl "
                 "AI::MXNet)",
        )
    # d2lbook's tab selection, not book code
    cells = [c for c in cells if "%load_ext d2lbook.tab" not in c]
    named = sorted({t for c in cells for t in cell_tabs(c)} - {"all"})
    tabs = named or [infer_tab(cells)]
    seed = Seed(path)
    for tab in tabs:
        mine = [c for c in cells if cell_tabs(c) & {tab, "all"}] if named else cells
        seed.tabs[tab] = mine
    return seed


def seed_params() -> list:
    if not SEEDS.is_dir():
        return [
            pytest.param(
                None,
                None,
                marks=pytest.mark.skip(reason=f"no seeds at {SEEDS} (set D2LRNN_SHARED)"),
            )
        ]
    params = []
    for path in sorted(SEEDS.glob("*.txt")):
        seed = load_seed(path)
        if seed.skip:
            params.append(
                pytest.param(seed, None, id=seed.number, marks=pytest.mark.skip(reason=seed.skip))
            )
            continue
        for tab in seed.tabs:
            missing = [pkg for pkg in FRAMEWORKS[tab] if importlib.util.find_spec(pkg) is None]
            marks = (
                [pytest.mark.skip(reason=f"{tab} tab: {', '.join(missing)} not installed")]
                if missing
                else []
            )
            params.append(pytest.param(seed, tab, id=f"{seed.number}-{tab}", marks=marks))
    return params


# --- running them -----------------------------------------------------------------------------
#: test-only cell appended to the d2l 1.0 seed (it prints nothing itself): what did fit() do?
PROBE_1_0 = """
last = trainer.history[-1]
print(f"PROBE epochs {trainer.epoch} perplexity {last.perplexity:.3f} val {last.val_perplexity:.3f}")
print("PROBE", repr(model.predict("time traveller", 10, data.vocab)))
"""  # noqa: E501


def run_cells(cells: list[str], tmp_path: Path) -> str:
    (tmp_path / "cells.json").write_text(json.dumps(cells), encoding="utf-8")
    (tmp_path / "runner.py").write_text(RUNNER, encoding="utf-8")
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]),
        "D2LRNN_DATA_DIR": DATA_DIR,
        "MPLBACKEND": "Agg",
        "TF_CPP_MIN_LOG_LEVEL": "2",
    }
    env.pop("TF_USE_LEGACY_KERAS", None)  # d2lrnn.tensorflow must choose Keras 2 itself
    proc = subprocess.run(
        [sys.executable, "runner.py", "cells.json"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
    )
    assert proc.returncode == 0, f"the cells failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-6000:]}"
    return proc.stdout


# --- checking what they printed ---------------------------------------------------------------
def lines_of(out: str) -> list[str]:
    """Output lines, with the unknown token counted as one character (a random model may emit it).
    """
    return [line.replace("<unk>", "?") for line in out.splitlines()]


def check_train_ch8(lines: list[str], device: str) -> float:
    """The book's last three lines: perplexity and speed, then two continuations; return the
    perplexity."""
    pattern = re.compile(rf"^perplexity (\d+\.\d), (\d+\.\d) tokens/sec on ({device})$")
    found = [i for i, line in enumerate(lines) if pattern.match(line)]
    assert found, "no 'perplexity P, S tokens/sec on DEVICE' line in:\n" + "\n".join(lines)
    i = found[-1]
    ppl, speed, _ = pattern.match(lines[i]).groups()
    assert 1.0 <= float(ppl) < 100 and float(speed) > 0
    assert (
        lines[i + 1].startswith("time traveller")
        and len(lines[i + 1]) == len("time traveller") + 50
    )
    assert lines[i + 2].startswith("traveller") and len(lines[i + 2]) == len("traveller") + 50
    return float(ppl)


def check_displayed_prediction(lines: list[str], prefix: str, num_preds: int) -> None:
    shown = [ast.literal_eval(line) for line in lines if line.startswith(f"'{prefix}")]
    assert shown, f"no displayed prediction for {prefix!r}"
    assert shown[0].startswith(prefix) and len(shown[0]) == len(prefix) + num_preds


def check_000(lines: list[str], epochs: int) -> float:
    assert "(1, (1, 1, 256))" in lines  # len(state), state[0].shape
    assert "((1, 1, 256), 1, (1, 1, 256))" in lines  # Y.shape, len(state_new), state_new[0].shape
    check_displayed_prediction(lines, "time traveller", 10)
    return check_train_ch8(lines, r"cpu\(0\)|gpu\(\d+\)")


def check_001(lines: list[str], epochs: int) -> float:
    assert "(1, 2, 256)" in lines  # state[0].shape
    assert "((35, 2, 256), 1, (1, 2, 256))" in lines
    check_displayed_prediction(lines, "traveller", 10)
    pattern = re.compile(rf"^epoch {epochs}, perplexity ([\d.]+), time [\d.]+ sec$")
    report = [i for i, line in enumerate(lines) if pattern.match(line)]
    assert report, "no 'epoch N, perplexity P, time T sec' line"
    ppl = float(pattern.match(lines[report[0]])[1])
    assert math.isfinite(ppl) and ppl >= 1
    after = lines[report[0] + 1 : report[0] + 3]
    assert after[0].startswith(" - traveller") and after[1].startswith(" - time traveller")
    assert len(after[0]) == len(" - traveller") + 50
    assert "PROBE NDArray (2, 5) (2, 5) 1" in lines
    return ppl


def check_002(lines: list[str], epochs: int) -> float:
    probe = next(line for line in lines if line.startswith("PROBE epochs"))
    numbers = re.match(r"PROBE epochs (\d+) perplexity ([\d.]+) val ([\d.]+)", probe).groups()
    assert int(numbers[0]) == epochs
    assert 1 <= float(numbers[1]) < 100 and 1 <= float(numbers[2]) < 100
    text = ast.literal_eval(
        next(line for line in lines if line.startswith("PROBE '")).split(" ", 1)[1]
    )
    assert text.startswith("time traveller") and len(text) == len("time traveller") + 10
    return float(numbers[1])


def check_004(lines: list[str], epochs: int) -> float:
    assert "torch.Size([1, 32, 256])" in lines
    assert "(torch.Size([35, 32, 256]), torch.Size([1, 32, 256]))" in lines
    check_displayed_prediction(lines, "time traveller", 10)
    return check_train_ch8(lines, r"cpu|cuda:\d+")


CHECKS = {"000": check_000, "001": check_001, "002": check_002, "004": check_004}
#: test-only cell appended to the gluonbook seed: the random iterator it does not call itself
PROBE_GLUONBOOK = """
X, Y = next(gb.data_iter_random(corpus_indices, 2, 5, ctx))
print("PROBE", type(X).__name__, X.shape, Y.shape, int((X[:, 1:] == Y[:, :-1]).min().asscalar()))
"""
PROBES = {"001": PROBE_GLUONBOOK, "002": PROBE_1_0}


# --- tests ------------------------------------------------------------------------------------
def run_and_check(seed: Seed, tab: str, epochs: int, tmp_path: Path) -> float:
    if seed.number not in CHECKS:
        pytest.skip(f"no expectations written for seed {seed.number}")
    out = run_cells(seed.cells(tab, epochs), tmp_path)
    return CHECKS[seed.number](lines_of(out), epochs)


@pytest.mark.parametrize(("seed", "tab"), seed_params())
def test_seed_runs_as_written(seed: Seed, tab: str, tmp_path: Path) -> None:
    run_and_check(seed, tab, EPOCHS, tmp_path)


@pytest.mark.slow
@pytest.mark.parametrize(("seed", "tab"), seed_params())
def test_seed_learns(seed: Seed, tab: str, tmp_path: Path) -> None:
    """With more epochs, every seed's model gets well below the ~28 of a uniform guess."""
    assert run_and_check(seed, tab, SLOW_EPOCHS, tmp_path) < 10


def test_cell_preparation() -> None:
    cell = ("import d2l\nimport sys\nsys.path.insert(0, '..')\n%matplotlib inline\nnum_epochs, lr "
            "= 500, 1\n")
    prepared = prepare(cell)
    assert (
        "from d2lrnn.v0 import mxnet as d2l" in prepared
        and "sys.path" not in prepared
        and "%" not in prepared
    )
    assert f"num_epochs, lr = ({EPOCHS}, 1)" in prepared
    assert f"max_epochs={EPOCHS}" in prepare("t = d2l.Trainer(max_epochs=500, gradient_clip_val=1)")
    assert (
        prepare("from d2l import torch as d2l\nx = 1\n", namespace="draft")
        == "from d2lrnn.draft import torch as d2l\nx = 1\n"
    )
    assert (
        generation(["class RNN(d2l.RNNScratch):\n    pass", "RNN(num_inputs=2, num_outputs=2)"])
        == "draft"
    )
    assert generation(["d2l.train_ch8(net, train_iter, vocab, lr, num_epochs, device)"]) == "v0"
    assert cell_tabs("%%tab pytorch, mxnet\nx = 1") == {"pytorch", "mxnet"} and cell_tabs(
        "x = 1"
    ) == {"all"}
