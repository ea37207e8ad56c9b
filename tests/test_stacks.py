"""The environments d2lrnn promises: the pins agree with the extras, and a plain ``import mxnet``
works."""

from __future__ import annotations

import os
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
    found.update(
        {k: [Requirement(r) for r in v] for k, v in project["optional-dependencies"].items()}
    )
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


def test_both_stacks_carry_all_four_frameworks_and_the_newest_has_numpy_2():
    newest, readme = pins("constraints-newest.txt"), pins("constraints.txt")
    assert int(newest["numpy"].split(".")[0]) >= 2
    for stack in (newest, readme):
        assert {"mxnet", "torch", "tensorflow", "tf-keras", "jax", "jaxlib", "flax"} <= set(
            stack
        ), sorted(stack)
    # MXNet's metadata says numpy<2: the newest stack installs it apart, with --no-deps (README,
    # .ci/run)
    assert "--no-deps mxnet==" + newest["mxnet"] in (ROOT / ".ci" / "run").read_text()
    assert "--no-deps mxnet==" + newest["mxnet"] in (ROOT / "README.md").read_text()


LINEN = """
import jax, jax.numpy as jnp
from flax import linen as nn
x = jnp.ones((3, 5, 4))  # (batch, time, features)
rnn = nn.RNN(nn.GRUCell(features=6))
params = rnn.init(jax.random.PRNGKey(0), x)
print("RNN", rnn.apply(params, x).shape)

class Scanned(nn.Module):
    @nn.compact
    def __call__(self, carry, xs):
        cell = nn.scan(nn.LSTMCell, variable_broadcast="params", split_rngs={"params": False}, in_axes=1, out_axes=1)
        return cell(features=6)(carry, xs)

carry = nn.LSTMCell(features=6).initialize_carry(jax.random.PRNGKey(1), (3, 4))
model = Scanned()
variables = model.init(jax.random.PRNGKey(2), carry, x)
(c, h), ys = model.apply(variables, carry, x)
print("SCAN", ys.shape, h.shape, bool(jnp.allclose(ys[:, -1], h)))
"""  # noqa: E501


@pytest.mark.skipif(not (installed("jax") and installed("flax")), reason="jax/flax not installed")
def test_flax_linen_rnn_and_scan_work_with_the_pinned_jax():
    """Flax's own RNN documentation, and the book's JAX GRU/LSTM, use linen's nn.RNN and nn.scan: a
    JAX/Flax pair that does not fit (JAX 0.4.38 with Flax 0.10.4) fails in both."""
    out = _run(LINEN)
    assert out.returncode == 0, out.stderr[-3000:]
    assert out.stdout.splitlines() == ["RNN (3, 5, 6)", "SCAN (3, 5, 6) (3, 6) True"], out.stdout


CI_SKIPS = """
import pytest

def test_corpus():
    pytest.skip("no timemachine.txt: set D2LRNN_DATA_DIR or D2LRNN_SHARED")

@pytest.mark.skipif(True, reason="mxnet not installed")
def test_framework():
    pass

def test_browser():
    pytest.skip("Chromium is not installed (apt-get install chromium; see .ci/install-system-packages)")

def test_other():
    pytest.skip("Flax before 0.7 still has the book's API")
"""  # noqa: E501


@pytest.mark.parametrize("ci", ["true", ""])
def test_under_ci_a_missing_corpus_framework_or_browser_fails_instead_of_skipping(tmp_path, ci):
    (tmp_path / "conftest.py").write_text(
        "from tests.conftest import pytest_make_collect_report, pytest_runtest_makereport"
        "  # noqa: F401\n"
    )
    (tmp_path / "test_skips.py").write_text(CI_SKIPS)
    (
        tmp_path / "test_module_skip.py"
    ).write_text(  # what pytest.importorskip("mxnet") says without MXNet
        "import pytest\npytest.skip(\"could not import 'mxnet': No module named 'mxnet'\", "
        "allow_module_level=True)\n"
    )
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-p",
            "no:cacheprovider",
            "-p",
            "no:warnings",
            "-rA",
            "-q",
            "--continue-on-collection-errors",
            str(tmp_path),
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "PYTHONPATH": str(ROOT), "CI": ci},
    )
    summary = out.stdout.strip().splitlines()[-1]
    if ci:
        # a skip at setup (a skipif mark) is reported as an error, one in the test's body as a
        # failure
        assert "2 failed, 1 skipped, 2 errors" in summary, out.stdout[-3000:]
        assert "CI=true: this environment must run this test" in out.stdout
    else:
        assert "5 skipped" in summary and "failed" not in summary, out.stdout[-3000:]


def _run(code: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT.parent,
        capture_output=True,
        text=True,
        timeout=300,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
    )


#: what a plain `import mxnet` shows once Python has processed d2lrnn's .pth file (as site.py does)
PLAIN_IMPORT = f"""
import site, sys
site.addpackage({str(ROOT / "d2lrnn" / "backends" / "mxnet")!r}, {PTH!r}, set())
print("at start:", sorted(m for m in ("numpy", "d2lrnn", "mxnet") if m in sys.modules))
import numpy
before = numpy.__dict__.get("__getattr__")
import mxnet
print("mxnet", mxnet.__version__, "numpy getattr kept:", numpy.__dict__.get("__getattr__") is before)
"""  # noqa: E501


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

    out = _run(
        "import sys; sys.meta_path[:] = [f for f in sys.meta_path if type(f).__name__ != "
        "'StartupFinder']; "
        "import mxnet"
    )
    modern = tuple(int(p) for p in numpy.__version__.split(".")[:2]) >= (1, 24)
    assert (out.returncode != 0) == modern, out.stderr[-2000:]


def test_an_installed_d2lrnn_ships_the_startup_hook():
    try:
        files = metadata.files("d2lrnn") or []
    except metadata.PackageNotFoundError:
        pytest.skip("d2lrnn is not installed in this environment (tests run from the checkout)")
    assert PTH in {str(f) for f in files}
