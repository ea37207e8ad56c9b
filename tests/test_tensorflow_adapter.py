"""TensorFlow-specific checks of the adapter (the cross-backend matrix lives elsewhere)."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("tensorflow")

import tensorflow as tf  # noqa: E402

import d2lrnn  # noqa: E402
from d2lrnn.model import canonical_shapes  # noqa: E402
from d2lrnn.trainer import sgd_step  # noqa: E402

from .conftest import assert_greedy  # noqa: E402

V, H = 12, 8
keras = tf.keras


@pytest.fixture(scope="module")
def backend():
    return d2lrnn.get_backend("tensorflow")


def batches(
    n: int = 3, batch: int = 4, steps: int = 5, seed: int = 0
) -> list[tuple[np.ndarray, np.ndarray]]:
    rng = np.random.default_rng(seed)
    corpus = rng.integers(0, V, batch * steps * n + 1)
    X = corpus[:-1].reshape(batch, -1)
    Y = corpus[1:].reshape(batch, -1)
    return [(X[:, i * steps:(i + 1) * steps], Y[:, i * steps:(i + 1) * steps]) for i in range(n)]


class SeedRNN(d2lrnn.get_backend("tensorflow").RNNScratch):
    """The book's TensorFlow tab, batch-major for Keras 3: only init_params/forward/init_state."""

    def init_params(self):
        cell = keras.layers.SimpleRNNCell(self.num_hiddens)
        self.rnn = keras.layers.RNN(cell, return_sequences=True, return_state=True)
        self.linear = keras.layers.Dense(self.num_outputs)

    def forward(self, X, state=None):
        if state is None:
            state = self.init_state(X)
        Y, *state = self.rnn(tf.one_hot(X, self.num_inputs), initial_state=state)
        return tf.transpose(self.linear(Y), (1, 0, 2)), state

    def init_state(self, X):
        return [tf.zeros((X.shape[0], self.num_hiddens))]


def test_registry(backend):
    assert backend.name == "tensorflow"
    assert d2lrnn.backend_for(backend.RNN(V, num_hiddens=H)) is backend
    assert d2lrnn.backend_for(SeedRNN(V, num_hiddens=H)) is backend


def test_seed_style_subclass_trains_and_predicts(backend):
    backend.seed(0)
    model = SeedRNN(num_inputs=V, num_outputs=V, num_hiddens=H, lr=1)
    trainer = d2lrnn.Trainer(max_epochs=3, gradient_clip_val=1, progress=False)
    history = trainer.fit(model, batches())
    assert history[-1].perplexity < history[0].perplexity
    vocab = d2lrnn.Vocab(list("abcdefghijk"))
    assert len(vocab) <= V
    assert_greedy(
        model,
        model.predict("abc", 4, vocab),
        "abc",
        4,
        vocab,
        backend.tensor,
        lambda a: np.asarray(a),
    )


@pytest.mark.parametrize("kind", ["RNN", "RNNScratch"])
def test_call_and_forward_agree(backend, kind):
    model = getattr(backend, kind)(V, num_hiddens=H, num_layers=2)
    X = tf.constant(batches()[0][0])
    logits, state = model(X)
    assert logits.shape == (5, 4, V) and state.shape == (2, 4, H)
    logits2, state2 = model.forward(X, state)
    logits3, state3 = model(X, state)
    np.testing.assert_allclose(logits2.numpy(), logits3.numpy(), atol=1e-6)
    np.testing.assert_allclose(state2.numpy(), state3.numpy(), atol=1e-6)


def test_compiled_step_handles_none_state_without_retracing(backend):
    model = backend.RNN(V, num_hiddens=H)
    X = backend.tensor(batches()[0][0])
    params = backend.parameters(model, X)
    step = backend.compile_step(lambda X, Y, s: sgd_step(backend, model, params, X, Y, s, 1.0, 1.0))
    state = None
    for X_np, Y_np in batches(n=4) * 2:  # sequential: None once, then a carried state
        loss, state = step(backend.tensor(X_np), backend.tensor(Y_np), backend.detach(state))
    for X_np, Y_np in batches(n=3):  # random sampling: always None
        loss, _ = step(backend.tensor(X_np), backend.tensor(Y_np), None)
    assert np.isfinite(backend.to_float(loss))
    assert step.experimental_get_tracing_count() == 2


def test_scratch_step_retraces_on_new_shapes(backend):
    model = backend.RNNScratch(V, num_hiddens=H)
    params = backend.parameters(model)
    step = backend.compile_step(lambda X, Y, s: sgd_step(backend, model, params, X, Y, s, 1.0, 1.0))
    # static shapes each time: the unrolled loop needs them
    for batch, steps in [(4, 5), (2, 3), (3, 7)]:
        X_np, Y_np = batches(batch=batch, steps=steps)[0]
        loss, state = step(backend.tensor(X_np), backend.tensor(Y_np), None)
        assert state.shape == (1, batch, H) and np.isfinite(backend.to_float(loss))


@pytest.mark.parametrize("kind", ["RNN", "RNNScratch"])
@pytest.mark.parametrize("num_layers", [1, 2])
def test_weights_on_fresh_model(backend, kind, num_layers):
    model = getattr(backend, kind)(V, num_hiddens=H, num_layers=num_layers)
    weights = model.get_weights()
    assert {k: v.shape for k, v in weights.items()} == canonical_shapes(V, V, H, num_layers)
    other = getattr(backend, kind)(V, num_hiddens=H, num_layers=num_layers)
    other.set_weights({k: v + 1 for k, v in weights.items()})
    assert all(np.array_equal(other.get_weights()[k], v + 1) for k, v in weights.items())
    assert len(backend.parameters(model)) == 3 * num_layers + 2


def test_concise_and_scratch_agree(backend):
    concise, scratch = (
        backend.RNN(V, num_hiddens=H, num_layers=2),
        backend.RNNScratch(V, num_hiddens=H, num_layers=2),
    )
    scratch.set_weights(concise.get_weights())
    X = tf.constant(batches()[0][0])
    for a, b in zip(concise(X), scratch(X), strict=True):
        np.testing.assert_allclose(a.numpy(), b.numpy(), atol=1e-5)


def test_scratch_init_is_random_normal_and_zero(backend):
    backend.seed(1)
    weights = backend.RNNScratch(V, num_hiddens=64, num_layers=2, sigma=0.01).get_weights()
    # every weight draws its own values
    assert not np.array_equal(weights["W_hh.0"], weights["W_hh.1"])
    assert (
        0.005 < weights["W_hh.0"].std() < 0.02
        and not weights["b_h.1"].any()
        and not weights["b_q"].any()
    )
