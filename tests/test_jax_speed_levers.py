"""The JAX adapter's speed levers change the speed, never the numbers: each setting against the
other
from equal weights (every cell, one and two layers), and each lever declared for
``scripts/levers.py``."""

from __future__ import annotations

import numpy as np
import pytest

from d2lrnn import cells
from d2lrnn.trainer import make_train_step

from .test_cells import V, make, random_weights

pytest.importorskip("flax")


def _train(
    kind: str, cell: str, num_layers: int, weights: dict[str, np.ndarray]
) -> tuple[list[float], dict]:
    """Three clipped SGD steps through the compiled step: the losses and the final weights."""
    backend, model = make("jax", kind, cell, num_layers, weights)
    step = make_train_step(backend, model, 1.0, 1.0)
    state = None
    losses = []
    rng = np.random.default_rng(3)
    for _ in range(3):
        X, Y = rng.integers(0, V, (4, 6)), rng.integers(0, V, (4, 6))
        loss, state = step(backend.tensor(X), backend.tensor(Y), state)
        losses.append(backend.to_float(loss))
    return losses, model.get_weights()


@pytest.mark.parametrize("num_layers", [1, 2])
@pytest.mark.parametrize("cell", cells.CELLS)
def test_the_input_layer_before_the_scan_computes_what_the_cells_own_input_layer_does(
        monkeypatch: pytest.MonkeyPatch, cell: str, num_layers: int) -> None:
    from d2lrnn.backends.jax import models

    weights = random_weights(cell, num_layers, seed=11, scale=0.3)
    runs = {}
    for project in (True, False):
        monkeypatch.setattr(models, "PROJECT_INPUTS", project)
        _, model = make("jax", "concise", cell, num_layers, weights)
        assert any(k.startswith("input0/") for k in model.rnn.params) == project
        runs[project] = _train("concise", cell, num_layers, weights)
    np.testing.assert_allclose(runs[True][0], runs[False][0], rtol=1e-5)
    for key, value in runs[False][1].items():
        np.testing.assert_allclose(runs[True][1][key], value, atol=2e-5, err_msg=key)
    # the steps did train
    assert any(not np.allclose(runs[True][1][k], weights[k]) for k in weights)


@pytest.mark.parametrize("kind", ["concise", "scratch"])
@pytest.mark.parametrize("cell", ["rnn", pytest.param("lstm", marks=pytest.mark.slow)])
def test_unrolling_the_scan_and_donating_buffers_keep_the_numbers(
    monkeypatch: pytest.MonkeyPatch, kind: str, cell: str
) -> None:
    from d2lrnn.backends.jax import models, ops

    weights = random_weights(cell, 2, seed=4, scale=0.3)
    monkeypatch.setattr(models, "UNROLL", 1)
    monkeypatch.setattr(ops, "DONATE", False)
    plain = _train(kind, cell, 2, weights)
    monkeypatch.setattr(models, "UNROLL", 5)
    monkeypatch.setattr(ops, "DONATE", True)
    fast = _train(kind, cell, 2, weights)
    np.testing.assert_allclose(fast[0], plain[0], rtol=1e-5)
    for key, value in plain[1].items():
        np.testing.assert_allclose(fast[1][key], value, atol=2e-5, err_msg=key)


def test_every_lever_is_declared_with_the_other_setting() -> None:
    import d2lrnn
    from d2lrnn.backends.jax import floor, models, ops

    found = floor.levers(d2lrnn.get_backend("jax"))
    names = " ".join(lever.name for lever in found)
    assert f"PROJECT_INPUTS={models.PROJECT_INPUTS}" in names and f"DONATE={ops.DONATE}" in names
    for lever_name in ("UNROLL", "FLATTEN_PRODUCTS"):
        kinds = {lever.kind for lever in found if lever_name in lever.name}
        assert kinds == {"RNN", "RNNScratch"}, lever_name
    lever, library = (
        next(lever for lever in found if "PROJECT_INPUTS" in lever.name),
        models.PROJECT_INPUTS,
    )
    assert lever.other.label == f"PROJECT_INPUTS={not library}"
    with lever.other.context(None):
        assert models.PROJECT_INPUTS is (not library)
    assert models.PROJECT_INPUTS is library


@pytest.mark.parametrize("kind", ["concise", "scratch"])
def test_flattened_output_products_keep_the_numbers(
    monkeypatch: pytest.MonkeyPatch, kind: str
) -> None:
    from d2lrnn.backends.jax import models

    weights = random_weights("rnn", 2, seed=5, scale=0.3)
    runs = {}
    for flat in (True, False):
        monkeypatch.setattr(models, "FLATTEN_PRODUCTS", flat)
        runs[flat] = _train(kind, "rnn", 2, weights)
    np.testing.assert_allclose(runs[True][0], runs[False][0], rtol=1e-5)
    for key, value in runs[False][1].items():
        np.testing.assert_allclose(runs[True][1][key], value, atol=2e-5, err_msg=key)


def test_matmul_flattens_only_a_left_operand_of_several_leading_axes(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import jax
    import jax.numpy as jnp

    from d2lrnn.backends.jax import models

    a, b = jnp.arange(2 * 3 * 4.0).reshape(2, 3, 4), jnp.arange(4 * 5.0).reshape(4, 5)
    monkeypatch.setattr(models, "FLATTEN_PRODUCTS", True)
    np.testing.assert_allclose(models.matmul(a, b), np.asarray(a) @ np.asarray(b))
    assert models.matmul(a, b).shape == (2, 3, 5)
    # the 3-D product becomes one 2-D dot over the 6 rows
    def lowered() -> str:  # a new function each time: jit caches traces by function
        return jax.jit(lambda x, y: models.matmul(x, y)).lower(a, b).as_text()

    assert "tensor<6x4xf32>" in lowered()
    monkeypatch.setattr(models, "FLATTEN_PRODUCTS", False)
    assert "tensor<6x4xf32>" not in lowered()
