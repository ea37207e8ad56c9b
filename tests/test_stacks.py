"""The environments d2lrnn promises: the pins agree with the extras, and a plain ``import mxnet`` works."""

from __future__ import annotations

import subprocess
import sys
from importlib import metadata

import pytest
from packaging.requirements import Requirement

from .conftest import ROOT, installed

tomllib = pytest.importorskip("tomllib")  # Python 3.11+

PTH = "d2lrnn_mxnet.pth"
CONSTRAINTS = ["constraints.txt", "constraints-newest.txt"]


def pins(name: str) -> dict[str, str]:
    lines = (ROOT / name).read_text().splitlines()
    pairs = (line.split("#")[0].strip().split("==") for line in lines)
    return {Requirement(p[0]).name.lower().replace("_", "-"): p[1] for p in pairs if len(p) == 2}


def extras() -> dict[str, list[Requirement]]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    found = {"core": [Requirement(r) for r in project["dependencies"]]}
    found.update({k: [Requirement(r) for r in v] for k, v in project["optional-dependencies"].items()})
    return found


@pytest.mark.parametrize("constraints", CONSTRAINTS)
def test_every_pin_satisfies_the_extras(constraints):
    pinned = pins(constraints)
    checked = 0
    for group, requirements in extras().items():
        for req in requirements:
            name = req.name.lower()
            if name in pinned:
                ok = req.specifier.contains(pinned[name], prereleases=True)
                assert ok, f"{constraints}: {name}=={pinned[name]} vs {group} {req}"
                checked += 1
    assert checked >= 8


def test_core_dependencies_have_no_upper_caps():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert "<" not in project["requires-python"]
    for req in extras()["core"]:
        assert not any(s.operator in ("<", "<=", "==", "~=") for s in req.specifier), req


def test_the_newest_stack_has_numpy_2_and_no_mxnet():
    newest = pins("constraints-newest.txt")
    assert int(newest["numpy"].split(".")[0]) >= 2 and "mxnet" not in newest
    assert "mxnet" in pins("constraints.txt")


def _run(code: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT.parent, capture_output=True, text=True, timeout=300,
                          env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"})


#: what a plain `import mxnet` shows once Python has processed d2lrnn's .pth file (as site.py does)
PLAIN_IMPORT = f"""
import site, sys
site.addpackage({str(ROOT / 'd2lrnn' / 'backends' / 'mxnet')!r}, {PTH!r}, set())
print("at start:", sorted(m for m in ("numpy", "d2lrnn", "mxnet") if m in sys.modules))
import numpy
before = numpy.__dict__.get("__getattr__")
import mxnet
print("mxnet", mxnet.__version__, "numpy getattr kept:", numpy.__dict__.get("__getattr__") is before)
"""


@pytest.mark.skipif(not installed("mxnet"), reason="mxnet not installed")
def test_the_startup_hook_makes_a_plain_import_mxnet_work_and_imports_nothing_itself():
    out = _run(PLAIN_IMPORT)
    assert out.returncode == 0, out.stderr[-3000:]
    lines = out.stdout.splitlines()
    assert lines[0] == "at start: []"
    assert lines[1].startswith("mxnet 1.") and lines[1].endswith("numpy getattr kept: True")


@pytest.mark.skipif(not installed("mxnet"), reason="mxnet not installed")
def test_without_the_startup_hook_mxnet_fails_on_this_numpy_or_imports_anyway():
    """The hook is needed exactly where NumPy removed MXNet's names (NumPy >= 1.24)."""
    import numpy

    out = _run("import sys; sys.meta_path[:] = [f for f in sys.meta_path if type(f).__name__ != 'StartupFinder']; "
               "import mxnet")
    modern = tuple(int(p) for p in numpy.__version__.split(".")[:2]) >= (1, 24)
    assert (out.returncode != 0) == modern, out.stderr[-2000:]


def test_an_installed_d2lrnn_ships_the_startup_hook():
    try:
        files = metadata.files("d2lrnn") or []
    except metadata.PackageNotFoundError:
        pytest.skip("d2lrnn is not installed in this environment (tests run from the checkout)")
    assert PTH in {str(f) for f in files}
