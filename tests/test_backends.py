import subprocess
import sys

import pytest

import d2lrnn
from d2lrnn.backends import NAMES, REGISTRY, canonical_name, get_backend
from d2lrnn.errors import BackendError

from .conftest import BACKENDS, FRAMEWORK_MODULES, ROOT


def test_importing_the_library_imports_no_framework():
    code = ("import d2lrnn, sys; print(sorted(m for m in sys.modules "
            f"if m.split('.')[0] in {set(FRAMEWORK_MODULES)!r}))")
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "[]"


@pytest.mark.parametrize("name", BACKENDS)
def test_choosing_a_backend_imports_only_that_framework(name):
    """No other framework than the ones the chosen framework imports itself (TensorFlow's tf.lite
    imports JAX)."""
    others = sorted({REGISTRY[n].framework for n in NAMES} - {REGISTRY[name].framework})
    code = (
        f"import d2lrnn, sys, importlib; importlib.import_module({REGISTRY[name].framework!r}); "
        f"before = {{m for m in {others!r} if m in sys.modules}}; d2lrnn.get_backend({name!r}); "
        f"print(sorted(m for m in {others!r} if m in sys.modules and m not in before))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip().splitlines()[-1] == "[]"


@pytest.mark.parametrize(
    "given, expected",
    [
        ("torch", "torch"),
        ("pytorch", "torch"),
        ("PyTorch", "torch"),
        ("tf", "tensorflow"),
        ("tensorflow", "tensorflow"),
        ("gluon", "mxnet"),
        ("mxnet", "mxnet"),
        ("JAX", "jax"),
        ("flax", "jax"),
    ],
)
def test_names_and_aliases(given, expected):
    assert canonical_name(given) == expected


def test_precedence_explicit_then_environment_then_torch(monkeypatch):
    monkeypatch.delenv("D2LRNN_BACKEND", raising=False)
    assert canonical_name() == "torch"
    monkeypatch.setenv("D2LRNN_BACKEND", "mxnet")
    assert canonical_name() == "mxnet"
    assert canonical_name("tf") == "tensorflow"


def test_unknown_name_lists_the_valid_ones(monkeypatch):
    with pytest.raises(BackendError) as err:
        get_backend("caffe")
    assert all(n in str(err.value) for n in NAMES)
    assert isinstance(err.value, ValueError)
    monkeypatch.setenv("D2LRNN_BACKEND", "nope")
    with pytest.raises(BackendError, match=r"'nope' \(from \$D2LRNN_BACKEND\)"):
        get_backend()


def test_known_but_uninstalled_backend_names_the_extra(monkeypatch):
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda n, *a: None if n == "mxnet" else real(n, *a)
    )
    monkeypatch.delitem(d2lrnn.backends._instances, "mxnet", raising=False)
    with pytest.raises(BackendError, match=r"pip install 'd2lrnn\[mxnet\]'"):
        get_backend("mxnet")


@pytest.mark.parametrize("name", BACKENDS)
def test_adapter_primitives(name):
    import numpy as np

    backend = get_backend(name)
    array = np.arange(6, dtype=np.float32).reshape(2, 3)
    t = backend.tensor(array, backend.cpu())
    np.testing.assert_array_equal(backend.to_numpy(t), array)
    assert backend.to_float(backend.math.sum(t)) == 15.0
    assert backend.try_gpu() is not None
    assert backend.device("cpu") is not None
    if backend.num_gpus() == 0:
        with pytest.raises(BackendError, match="GPU"):
            backend.device("gpu")


def test_mxnet_after_tensorflow_is_a_clear_error_not_a_crash():
    code = (
        "import d2lrnn\nd2lrnn.get_backend('tensorflow')\ntry:\n    d2lrnn.get_backend('mxnet')\n"
        "except d2lrnn.BackendError as e:\n    print('refused:', e)\n"
    )
    if not all(__import__("importlib.util").util.find_spec(m) for m in ("mxnet", "tensorflow")):
        pytest.skip("needs mxnet and tensorflow")
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 0, out.stderr[-2000:]
    assert "refused: MXNet 1.9 crashes" in out.stdout
