"""Every public import path of the book's code works, in both spellings, and names the one module
behind it.

The public names (``d2lrnn.torch``, ``d2lrnn.v1.jax``, ``d2lrnn.v0.mxnet``,
``d2lrnn.draft.tensorflow``,
``d2lrnn.gluonbook``, ...) have no files; :data:`d2lrnn.book.PUBLIC_PATHS` maps them to the
generation
modules under ``d2lrnn/book/``. The paths of each framework are checked together in a fresh
interpreter (MXNet cannot follow TensorFlow), gluonbook in one of its own (it needs MXNet outside
NumPy mode).
"""

from __future__ import annotations

import functools
import json
import subprocess
import sys
from pathlib import Path

import pytest

from d2lrnn.book import PUBLIC_PATHS, TABS

from .conftest import ROOT, installed

BOOK = ROOT / "d2lrnn" / "book"

#: what each public path needs installed, and the script that imports it both ways
CHECK = """
import importlib, json, sys
import d2lrnn
before = sorted(m for m in ("torch", "mxnet", "tensorflow", "jax") if m in sys.modules)
found = {}
for public, served in json.loads(sys.argv[1]):
    parent, _, last = public.rpartition(".")
    exec(f"import {public}")
    by_import = eval(public)
    by_from = getattr(importlib.import_module(parent), last)
    real = importlib.import_module(served)
    missing = [n for n in getattr(real, "__all__", ()) if not hasattr(real, n)]
    found[public] = {"before": before, "same": by_import is by_from is real is sys.modules[public],
                     "spec": real.__spec__.name, "name": real.__name__, "missing": missing}
print(json.dumps(found))
"""


def _framework(public: str) -> str | None:
    """The framework a public path imports (None for a generation's shared package)."""
    last = public.rsplit(".", 1)[-1]
    return (
        "mxnet"
        if last == "gluonbook"
        else last
        if last in ("torch", "mxnet", "tensorflow", "jax")
        else None
    )


def _process(public: str) -> str:
    """The interpreter a public path is checked in: its framework's, gluonbook's own, or none's."""
    return "gluonbook" if public.endswith(".gluonbook") else _framework(public) or "none"


@functools.cache
def _check_process(process: str) -> dict[str, dict]:
    """Import every public path of ``process`` in one fresh interpreter; what each import found."""
    paths = [(p, PUBLIC_PATHS[p]) for p in sorted(PUBLIC_PATHS) if _process(p) == process]
    result = subprocess.run(
        [sys.executable, "-c", CHECK, json.dumps(paths)],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=ROOT,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("public", sorted(PUBLIC_PATHS))
def test_each_public_path_is_the_module_behind_it(public: str) -> None:
    framework = _framework(public)
    if framework is not None and not installed(framework):
        pytest.skip(f"{framework} not installed")
    served = PUBLIC_PATHS[public]
    found = _check_process(_process(public))[public]
    assert found["before"] == []  # import d2lrnn imported no framework
    assert found["same"], f"{public} and {served} are different objects"
    assert found["spec"] == found["name"] == served  # the module keeps its own name and spec
    assert found["missing"] == [], f"{served}.__all__ names what it lacks"


def test_every_tab_module_has_its_public_paths_and_nothing_else_does() -> None:
    files = {f"{gen.name}.{tab.stem}" for gen in BOOK.iterdir() if (gen / "__init__.py").is_file()
             for tab in gen.glob("*.py") if tab.stem in ("torch", "mxnet", "tensorflow", "jax")}
    assert files == {f"{gen}.{tab}" for gen, tabs in TABS.items() for tab in tabs}
    for gen, tabs in TABS.items():
        for tab in tabs:
            assert PUBLIC_PATHS[f"d2lrnn.{gen}.{tab}"] == f"d2lrnn.book.{gen}.{tab}"
    assert {PUBLIC_PATHS[f"d2lrnn.{tab}"] for tab in TABS["v1"]} == {
        f"d2lrnn.book.v1.{t}" for t in TABS["v1"]
    }
    for public in PUBLIC_PATHS:  # no file shadows a public name
        rel = Path(*public.split("."))
        assert not (ROOT / rel.with_suffix(".py")).exists() and not (ROOT / rel).is_dir(), public


def test_a_name_outside_the_table_is_not_found() -> None:
    import d2lrnn  # noqa: F401  (puts the finder in place)

    with pytest.raises(ModuleNotFoundError):
        __import__("d2lrnn.v1.numpy")
    with pytest.raises(ModuleNotFoundError):
        __import__("d2lrnn.v0.jax")  # d2l 0.x had no JAX tab
    import d2lrnn.v0.text  # a generation's other modules: the same object, not a second copy

    import d2lrnn.book.v0.text

    assert d2lrnn.v0.text is d2lrnn.book.v0.text
