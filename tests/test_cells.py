"""The cell registry and the equal-weights matrix: every backend x model kind x cell x 1-2 layers
against NumPy."""

from __future__ import annotations

import math

import numpy as np
import pytest

import d2lrnn
from d2lrnn import cells
from d2lrnn.errors import CheckpointError, D2LRNNError
from d2lrnn.memory import estimate_training_memory, parameter_count
from d2lrnn.model import canonical_to_concise, concise_to_canonical

from .conftest import BACKENDS, options

V, H = 7, 12
CELLS = list(cells.CELLS)
KINDS = list(cells.KINDS)


def random_weights(
    cell: str, num_layers: int, seed: int = 0, scale: float = 0.4
) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    return {
        k: (scale * rng.standard_normal(s)).astype(np.float32)
        for k, s in cells.canonical_shapes(V, V, H, num_layers, cell).items()
    }


def state_parts(state, cell: str) -> list:
    """The parts of a state (``[h]`` or ``[h, c]``), whether it came bare or in Gluon's one-element
    list."""
    if cell == "lstm":
        return list(state)
    return [state[0] if isinstance(state, (list, tuple)) else state]


def make(name: str, kind: str, cell: str, num_layers: int, weights=None):
    backend = d2lrnn.get_backend(name)
    model = cells.make_model(
        backend, kind, cell, num_inputs=V, num_outputs=V, num_hiddens=H, lr=1, num_layers=num_layers
    )
    if weights is not None:
        model.set_weights(weights)
    return backend, model


# --- the registry, without a framework
# ---------------------------------------------------------------------------------
@pytest.mark.parametrize("cell", CELLS)
@pytest.mark.parametrize("num_layers", [1, 3])
def test_parameter_count_is_the_sum_of_the_canonical_shapes(cell, num_layers):
    shapes = cells.canonical_shapes(29, 29, 16, num_layers, cell)
    assert parameter_count(29, 16, num_layers, cell) == sum(math.prod(s) for s in shapes.values())


def test_the_rnn_keeps_its_canonical_names_and_old_memory_estimate():
    assert list(cells.canonical_shapes(5, 5, 4, 2)) == [
        "W_xh.0",
        "W_hh.0",
        "b_h.0",
        "W_xh.1",
        "W_hh.1",
        "b_h.1",
        "W_hq",
        "b_q",
    ]
    estimate = estimate_training_memory(28, 256, 1, 32, 35)
    assert estimate.activations == 32 * 35 * (3 * 28 + 2 * 256) * 4


def test_gated_cells_need_more_memory_than_the_rnn():
    sizes = [
        estimate_training_memory(28, 256, 2, 32, 35, cell).total for cell in ("rnn", "gru", "lstm")
    ]
    assert sizes == sorted(sizes) and len(set(sizes)) == 3


def test_gru_keeps_both_biases_and_lstm_one():
    assert set(cells.canonical_shapes(3, 3, 2, 1, "gru")) == {
        "W_x.0",
        "W_h.0",
        "b_x.0",
        "b_h.0",
        "W_hq",
        "b_q",
    }
    assert cells.canonical_shapes(3, 3, 2, 1, "lstm")["b.0"] == (8,)


def test_an_unknown_cell_is_a_clear_error():
    with pytest.raises(D2LRNNError, match="Unknown cell 'tcn'; d2lrnn knows rnn, gru, lstm"):
        cells.get_cell("tcn")
    with pytest.raises(D2LRNNError, match="Unknown model kind"):
        cells.model_class(object(), "fancy")


def test_the_gru_reset_gate_multiplies_the_recurrent_bias():
    """With a zero input and zero state, only the biases act: ``n = tanh(b_xn + r * b_hn)``."""
    w = {k: np.zeros(s) for k, s in cells.canonical_shapes(2, 2, 1, 1, "gru").items()}
    w["b_x.0"][:] = [-50.0, -50.0, 0.2]  # reset gate closed, update gate open to the candidate
    w["b_h.0"][:] = [0.0, 0.0, 3.0]
    w["W_hq"][:] = 1.0
    _, h = cells.reference_forward(w, np.zeros((1, 1), int), 1, "gru")
    np.testing.assert_allclose(h.ravel(), [np.tanh(0.2)], atol=1e-12)  # b_hn is gated out entirely
    w["b_x.0"][0] = 50.0  # reset gate open
    _, h = cells.reference_forward(w, np.zeros((1, 1), int), 1, "gru")
    np.testing.assert_allclose(h.ravel(), [np.tanh(3.2)], atol=1e-12)


def test_lstm_reference_step_by_hand():
    """One step of one unit, written out: c = σ(i) tanh(g) (c0 = 0), h = σ(o) tanh(c)."""
    w = {k: np.zeros(s) for k, s in cells.canonical_shapes(2, 2, 1, 1, "lstm").items()}
    w["b.0"][:] = [0.5, -1.0, 0.3, 2.0]  # i, f, g, o
    _, (h, c) = cells.reference_forward(w, np.zeros((1, 1), int), 1, "lstm")
    sig = lambda a: 1 / (1 + np.exp(-a))  # noqa: E731
    np.testing.assert_allclose(c.ravel(), [sig(0.5) * np.tanh(0.3)])
    np.testing.assert_allclose(h.ravel(), [sig(2.0) * np.tanh(sig(0.5) * np.tanh(0.3))])


@pytest.mark.parametrize("order", [("z", "r", "n"), ("n", "z", "r")])
def test_gate_orders_round_trip_through_a_framework_layout(order):
    weights = random_weights("gru", 2, seed=3)
    layers, dense = canonical_to_concise(weights, 2, True, ("b_ih", "b_hh"), "gru", order)
    assert layers[0]["W_ih"].shape == (3 * H, V)
    np.testing.assert_array_equal(
        layers[0]["b_hh"][order.index("n") * H :][:H], weights["b_h.0"][2 * H :]
    )
    back = concise_to_canonical(layers, dense, True, "gru", order)
    for key, value in weights.items():
        np.testing.assert_array_equal(back[key], value, err_msg=key)


def test_one_bias_cells_fold_two_framework_biases():
    weights = random_weights("lstm", 1)
    layers, dense = canonical_to_concise(weights, 1, False, ("b_ih", "b_hh"), "lstm")
    layers[0]["b_ih"], layers[0]["b_hh"] = layers[0]["b_ih"] - 1.0, layers[0]["b_hh"] + 1.0
    np.testing.assert_allclose(
        concise_to_canonical(layers, dense, False, "lstm")["b.0"], weights["b.0"], atol=1e-6
    )


# --- the equal-weights matrix: every backend, both kinds, every cell, one and two layers
# ------------------------------
@pytest.mark.parametrize("cell", CELLS)
@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("name", BACKENDS)
@pytest.mark.parametrize("num_layers", [1, 2])
def test_equal_weights_give_the_numpy_reference(name, kind, cell, num_layers):
    weights = random_weights(cell, num_layers, seed=num_layers)
    backend, model = make(name, kind, cell, num_layers, weights)
    assert model.kind == kind and model.cell_name == cell
    X = np.random.default_rng(1).integers(0, V, size=(3, 5))
    logits, state = backend.forward(model, backend.tensor(X), None)
    want_logits, want_state = cells.reference_forward(weights, X, num_layers, cell)
    np.testing.assert_allclose(backend.to_numpy(logits), want_logits, atol=1e-5, rtol=1e-5)
    got_parts, want_parts = state_parts(state, cell), state_parts(want_state, cell)
    assert len(got_parts) == len(want_parts) == len(cells.get_cell(cell).state_parts)
    for got, want in zip(got_parts, want_parts):
        assert backend.to_numpy(got).shape == (num_layers, 3, H)
        np.testing.assert_allclose(backend.to_numpy(got), want, atol=1e-5, rtol=1e-5)
    # the state carries: two halves give what the whole sequence gives
    _, mid = backend.forward(model, backend.tensor(X[:, :2]), None)
    second, _ = backend.forward(model, backend.tensor(X[:, 2:]), mid)
    np.testing.assert_allclose(backend.to_numpy(second), want_logits[2:], atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("cell", ["gru", "lstm"])
@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("name", BACKENDS)
def test_weights_round_trip_and_wrong_cells_are_refused(name, kind, cell):
    weights = random_weights(cell, 2, seed=5)
    _, model = make(name, kind, cell, 2, weights)
    got = model.get_weights()
    assert set(got) == set(weights)
    for key, value in weights.items():
        np.testing.assert_array_equal(got[key], value, err_msg=key)
    with pytest.raises(CheckpointError, match=f"do not fit a {cell.upper()} model"):
        model.set_weights(random_weights("rnn", 2))


@pytest.mark.parametrize("cell", ["gru", "lstm"])
@pytest.mark.parametrize("name", BACKENDS)
def test_concise_and_scratch_take_the_same_sgd_steps(name, cell):
    """Gradients agree too: three clipped SGD steps from equal weights end at equal weights."""
    from d2lrnn.trainer import make_train_step

    weights = random_weights(cell, 2, seed=7, scale=0.3)
    rng = np.random.default_rng(2)
    batches = [(rng.integers(0, V, (4, 6)), rng.integers(0, V, (4, 6))) for _ in range(3)]
    results = []
    for kind in KINDS:
        backend, model = make(name, kind, cell, 2, weights)
        step = make_train_step(backend, model, 1.0, 1.0)
        state = None
        for X, Y in batches:
            state = backend.detach(state)
            _, state = step(backend.tensor(X), backend.tensor(Y), state)
        results.append(model.get_weights())
    for key in weights:
        np.testing.assert_allclose(results[0][key], results[1][key], atol=2e-5, err_msg=key)
    # the steps did change the weights
    assert any(not np.allclose(results[0][k], weights[k]) for k in weights)


# --- the benchmark's cell axis
# ------------------------------------------------------------------------------------------
def test_bench_measures_each_gated_cell_against_the_book():
    from d2lrnn.bench.config import BenchConfig, Job, condition_settings
    from d2lrnn.bench.runner import worker_command

    config = BenchConfig(
        backends=["torch"], models=["concise"], cells=["gru", "lstm"], busy=False, scaling=False
    )
    jobs = config.jobs()
    assert {
        Job("torch", m, c) for m in ("concise", "book", "floor") for c in ("gru", "lstm")
    } <= set(jobs)
    no_floor = BenchConfig(
        backends=["torch"], models=["concise"], cells=["gru"], floor=False, busy=False
    )
    assert Job("torch", "floor", "gru") not in no_floor.jobs()
    assert condition_settings("lstm", config) == {"cell": "lstm"}
    command = worker_command(Job("torch", "book", "gru"), 0, config)
    assert command[command.index("--cell") + 1] == "gru"
    assert not [j for j in BenchConfig(backends=["torch"]).jobs() if j.condition in ("gru", "lstm")]


def test_bench_worker_trains_the_cell(tmp_path):
    pytest.importorskip("torch")
    from d2lrnn.bench.worker import build_parser, measure

    corpus = tmp_path / "text.txt"
    corpus.write_text("the time traveller for so it will be convenient to speak of him " * 20)
    args = build_parser().parse_args(
        options(
            backend="torch",
            model="concise",
            cell="lstm",
            epochs=2,
            num_hiddens=8,
            batch_size=4,
            num_steps=5,
            max_tokens=600,
            corpus=str(corpus),
            threads=1,
        )
    )
    args.t0 = 0.0
    result = measure(args)
    assert result["status"] == "ok" and result["cell"] == "lstm" and result["perplexity"] > 1
