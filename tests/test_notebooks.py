"""The notebooks as students run them, and the live training plot they show.

Every chapter notebook the site ships is executed here through a real Jupyter kernel (nbclient and
ipykernel) with the smoke-test sizes (two epochs), validated with nbformat, and searched for the
perplexity plot that ``d2lrnn.Trainer`` draws in a notebook. The unit tests below check the plot's
choices without a kernel: when it draws, that it updates one output in place, and which progress
bar a notebook gets.
"""

from __future__ import annotations

import importlib.util
import os
import re
import sys
import types
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from d2lrnn import live
from d2lrnn.backends import NAMES, REGISTRY

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "docs" / "examples"
PNG = b"\x89PNG\r\n\x1a\n"


# --- a stand-in for IPython, so that the plot's choices can be checked without a kernel
# -----------------------
class FakeHandle:
    def __init__(self, shown: list[Any]) -> None:
        self.shown = shown

    def update(self, obj: Any) -> None:
        self.shown.append(("update", obj))


def fake_ipython(monkeypatch: pytest.MonkeyPatch, shell: Any) -> list[Any]:
    """Make IPython report ``shell`` as the running shell; return the list its ``display`` records
    into."""
    ipython = pytest.importorskip("IPython")
    import IPython.display

    shown: list[Any] = []

    def display(obj: Any, display_id: bool = False) -> FakeHandle:
        assert display_id is True, (
            "the plot must ask for a display handle, to update the output in place"
        )
        shown.append(("display", obj))
        return FakeHandle(shown)

    monkeypatch.setitem(sys.modules, "IPython", ipython)
    monkeypatch.setattr(ipython, "get_ipython", lambda: shell)
    monkeypatch.setattr(IPython.display, "display", display)
    return shown


KERNEL = types.SimpleNamespace(kernel=object(), config={"IPKernelApp": {}})
TERMINAL = types.SimpleNamespace(config={"TerminalInteractiveShell": {}})


def test_no_notebook_in_a_script() -> None:
    assert live.in_notebook() is False
    assert live.live_callbacks(None) == [] and live.live_callbacks(False) == []
    assert len(live.live_callbacks(True)) == 1


@pytest.mark.parametrize(
    ("shell", "expected"),
    [
        (KERNEL, True),
        # the config alone
        (types.SimpleNamespace(config={"IPKernelApp": {"connection_file": "x"}}), True),
        (TERMINAL, False),  # terminal IPython: a script as far as plots go
        (None, False),  # IPython imported, no shell running
    ],
)
def test_in_notebook_detects_a_kernel(
    monkeypatch: pytest.MonkeyPatch, shell: Any, expected: bool
) -> None:
    fake_ipython(monkeypatch, shell)
    assert live.in_notebook() is expected
    assert (
        live.wants_plot(None) is expected and live.wants_plot(True) and not live.wants_plot(False)
    )


def _tiny_fit(plot: bool | None, epochs: int = 3) -> None:
    from d2lrnn import Trainer, get_backend

    pytest.importorskip("torch")
    backend = get_backend("torch")
    backend.seed(0)
    model = backend.RNN(num_inputs=5, num_outputs=5, num_hiddens=4)
    rng = np.random.default_rng(0)
    batches = [(rng.integers(0, 5, (2, 3)), rng.integers(0, 5, (2, 3))) for _ in range(3)]
    Trainer(epochs, 1, progress=False, plot=plot).fit(model, batches)


def test_in_a_notebook_the_trainer_updates_one_figure_per_epoch(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    shown = fake_ipython(monkeypatch, KERNEL)
    _tiny_fit(plot=None, epochs=3)
    assert [kind for kind, _ in shown] == ["display", "update", "update"]
    images = [obj.data for _, obj in shown]
    assert all(data.startswith(PNG) for data in images)
    assert len(set(images)) == 3, "every epoch must redraw the figure"


@pytest.mark.parametrize(
    ("shell", "plot", "expected"), [(KERNEL, False, 0), (TERMINAL, None, 0), (TERMINAL, True, 2)]
)
def test_plot_option_overrides_the_detection(
    monkeypatch: pytest.MonkeyPatch, shell: Any, plot: bool | None, expected: int
) -> None:
    shown = fake_ipython(monkeypatch, shell)
    _tiny_fit(plot=plot, epochs=2)
    assert len(shown) == expected


def test_the_plot_shows_validation_when_measured() -> None:
    plot = live.LivePlot()
    plot.add(1, 20.0)
    without = plot.png("one epoch")
    plot.add(2, 15.0, 18.0)
    assert without.startswith(PNG) and plot.png("two epochs").startswith(PNG)
    assert plot.val == [(2, 18.0)] and plot.train == [20.0, 15.0]


def test_progress_bar_front_end(monkeypatch: pytest.MonkeyPatch) -> None:
    """Notebook widget when ipywidgets is there; without it no text bar unless asked; a terminal
    keeps tqdm's rule."""
    from tqdm import notebook, std

    class Widget(std.tqdm):  # stands in for tqdm's notebook bar, which needs ipywidgets to exist
        pass

    monkeypatch.setattr(notebook, "tqdm", Widget)
    assert type(live.progress_bar(range(2))) is std.tqdm  # a script
    assert (
        live.progress_bar(range(2), False).disable and not live.progress_bar(range(2), True).disable
    )
    fake_ipython(monkeypatch, KERNEL)
    monkeypatch.setattr(live, "notebook_widgets", lambda: True)
    assert type(live.progress_bar(range(2))) is Widget
    assert type(live.progress_bar(range(2), False)) is std.tqdm
    monkeypatch.setattr(live, "notebook_widgets", lambda: False)
    assert live.progress_bar(range(2)).disable and list(live.progress_bar(range(2))) == [0, 1]
    assert not live.progress_bar(range(2), True).disable


# --- the notebooks through a real kernel
# --------------------------------------------------------------------------
def _make_notebooks() -> Any:
    sys.path.insert(0, str(ROOT / "scripts"))
    try:
        import make_notebooks
    finally:
        sys.path.pop(0)
    return make_notebooks


#: kernels that start slowly (TensorFlow's import, JAX's compilation): their lessons also run as
#: scripts in tests/test_docs.py
SLOW_NOTEBOOKS = ("jax", "tensorflow")


def _notebook_case(framework: str) -> Any:
    spec = REGISTRY[framework]
    marks = []
    if importlib.util.find_spec(spec.framework) is None:
        marks.append(pytest.mark.skip(reason=f"{spec.label} is not installed"))
    if not (EXAMPLES / f"chapter_{framework}.py").is_file():
        marks.append(pytest.mark.skip(reason=f"no lesson docs/examples/chapter_{framework}.py yet"))
    if framework in SLOW_NOTEBOOKS:
        marks.append(pytest.mark.slow)
    return pytest.param(framework, marks=marks)


@pytest.mark.parametrize("framework", [_notebook_case(fw) for fw in NAMES])
def test_notebook_runs_in_a_kernel_and_shows_the_live_plot(framework: str, tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    for module in ("jupytext", "nbclient", "nbformat", "ipykernel"):
        if importlib.util.find_spec(module) is None:
            pytest.skip(f"{module} is not installed (pip install 'd2lrnn[docs]')")
    import nbformat

    make_notebooks = _make_notebooks()
    monkeypatch.setenv(
        "PYTHONPATH", os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
    )
    monkeypatch.delenv("MPLBACKEND", raising=False)  # as in a student's Jupyter
    path = make_notebooks.make_notebook(framework, tmp_path)
    make_notebooks.execute(path, timeout=300, quick=True)

    notebook = nbformat.read(path, as_version=4)
    nbformat.validate(notebook)  # raises on an invalid notebook
    code = [c for c in notebook.cells if c.cell_type == "code"]
    outputs = [o for c in code for o in c.get("outputs", [])]
    assert not [o for o in outputs if o.get("output_type") == "error"]
    text = "".join(o.get("text", "") for o in outputs)
    assert re.search(r"Y: \(35, 32, 256\) state: \(1, 32, 256\)", text) and "perplexity" in text
    assert "IProgress" not in text, "the progress bar warned about missing widgets"

    train = next(c for c in code if "trainer.fit(" in c.source)
    images = [o for o in train.outputs if "image/png" in o.get("data", {})]
    assert len(images) == 1, (
        "one live plot, updated in place, expected; outputs: "
        f"{[o.output_type for o in train.outputs]}"
    )
    assert (
        images[0].get("transient", {}).get("display_id")
        or images[0]["output_type"] == "display_data"
    )
    import base64

    assert base64.b64decode(images[0]["data"]["image/png"]).startswith(PNG)
