"""The JAX adapter: the compiled step, seeding, devices, and the book's interface on Flax's nnx
layers."""

from __future__ import annotations

import numpy as np
import pytest

import d2lrnn
from d2lrnn.trainer import make_train_step, sgd_step

from .test_matrix import V, build, random_weights

pytest.importorskip("flax")


@pytest.fixture(scope="module")
def backend():
    return d2lrnn.get_backend("jax")


def batches(count: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    return [(rng.integers(0, V, (4, 6)), rng.integers(0, V, (4, 6))) for _ in range(count)]


@pytest.mark.parametrize("kind", ["RNN", "RNNScratch"])
def test_the_compiled_step_traces_once_and_matches_eager_steps(backend, kind):
    weights = random_weights(1, seed=1)
    _, compiled_model = build("jax", kind, 1, weights)
    _, eager_model = build("jax", kind, 1, weights)
    calls = []
    traced = backend.compile_step(lambda X, Y, state: (calls.append(1), sgd_step(
        backend, compiled_model, backend.parameters(compiled_model), X, Y, state, 1.0, 0.3))[1])
    eager_params = backend.parameters(eager_model)
    compiled_state = eager_state = None
    for i, (X, Y) in enumerate(batches(6)):
        if i == 3:  # a second epoch starts without a state
            compiled_state = eager_state = None
            first_epoch = len(calls)
        X, Y = backend.tensor(X), backend.tensor(Y)
        loss, compiled_state = traced(X, Y, compiled_state)
        want, eager_state = sgd_step(
            backend, eager_model, eager_params, X, Y, eager_state, 1.0, 0.3
        )
        np.testing.assert_allclose(backend.to_float(loss), backend.to_float(want), rtol=1e-5)
    # one eager call (no state yet), its signature traced at once, one trace with a state: the
    # other four steps, the next epoch's first (no state) included, run compiled code
    assert first_epoch == len(calls) == 3
    for key, value in eager_model.get_weights().items():
        np.testing.assert_allclose(compiled_model.get_weights()[key], value, atol=1e-5)


def test_clipping_runs_inside_the_compiled_step(backend):
    weights = random_weights(1, seed=2, scale=1.0)
    data = batches(4, seed=3)

    def losses(clip: float) -> list[float]:
        _, model = build("jax", "RNNScratch", 1, weights)
        step = make_train_step(backend, model, lr=1.0, clip=clip)
        state = None
        out = []
        for X, Y in data:
            loss, state = step(backend.tensor(X), backend.tensor(Y), state)
            out.append(backend.to_float(loss))
        return out

    clipped, unclipped = losses(0.1), losses(0.0)
    assert clipped[0] == pytest.approx(unclipped[0], rel=1e-6)  # the same start
    # clipping changed the later steps
    assert not np.allclose(clipped[1:], unclipped[1:], rtol=1e-3)


@pytest.mark.parametrize("kind", ["RNN", "RNNScratch"])
def test_seeding_makes_initial_weights_reproducible(backend, kind):
    def weights(seed: int) -> dict[str, np.ndarray]:
        backend.seed(seed)
        return build("jax", kind, 2)[1].get_weights()

    first = weights(7)
    again = weights(7)
    other = weights(8)
    for key in first:
        np.testing.assert_array_equal(first[key], again[key])
    assert any(not np.array_equal(first[k], other[k]) for k in first if first[k].any())


def test_concise_model_is_flax_nnx_rnn_with_one_trainable_bias_per_layer(backend):
    from flax import nnx

    from d2lrnn.backends.jax.models import Projected

    _, model = build("jax", "RNN", 2)
    stack = model.rnn.module()
    cells = [getattr(stack, f"layer{layer}") for layer in range(2)]
    assert all(isinstance(c, nnx.RNN) and isinstance(c.cell, nnx.SimpleCell) for c in cells)
    biases = [name for name in model.rnn.params if name.endswith("bias")]
    # the cells' input layers run before the scan (models.PROJECT_INPUTS), kept as input{layer}
    assert biases == ["input0/bias", "input1/bias"]
    assert all(isinstance(c.cell.dense_i, Projected) for c in cells)
    assert len(backend.parameters(model)) == 3 * 2 + 2


def test_devices_and_placement(backend):
    import jax

    _, model = build("jax", "RNN", 1)
    device = backend.device("auto")
    assert device.platform == ("gpu" if backend.num_gpus() else "cpu")
    backend.to_device(model, backend.cpu())
    assert backend.model_device(model) == jax.devices("cpu")[0]
    assert backend.device_name(backend.cpu()) == "cpu:0"
    X = backend.tensor(np.zeros((2, 3), dtype=np.int64), backend.cpu())
    logits, _ = backend.forward(model, X, None)
    assert next(iter(logits.devices())).platform == "cpu"


@pytest.mark.skipif(
    "not __import__('d2lrnn').get_backend('jax').num_gpus()", reason="JAX sees no GPU"
)
def test_training_on_the_gpu(backend):
    vocab = d2lrnn.Vocab(list("abcdef"))
    _, model = build("jax", "RNN", 1, random_weights(1))
    gpu = backend.device("gpu")
    trainer = d2lrnn.Trainer(max_epochs=3, gradient_clip_val=1, device=gpu, progress=False)
    history = trainer.fit(model, [(X, Y) for X, Y in batches(5)])
    assert backend.model_device(model) == gpu and history[-1].perplexity < history[0].perplexity
    assert model.predict("abc", 5, vocab).startswith("abc")
    assert trainer.summary()["device"].startswith("gpu")


def test_greedy_and_temperature_prediction(backend):
    vocab = d2lrnn.Vocab(list("abcdef"))
    _, model = build("jax", "RNN", 1, random_weights(1, scale=1.5))
    greedy = model.predict(list("abc"), 15, vocab)
    assert (
        greedy == model.predict(list("abc"), 15, vocab)
        and greedy.startswith("a b c")
        and len(greedy.split()) == 18
    )
    sampled = [model.predict("abc", 15, vocab, temperature=2.0, seed=s) for s in (1, 1, 2)]
    assert sampled[0] == sampled[1] and len(set(sampled)) == 2
