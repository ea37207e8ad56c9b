"""The cross-backend matrix: every backend x model kind against one NumPy reference and each other.
"""

from __future__ import annotations

import numpy as np
import pytest

import d2lrnn
from d2lrnn.model import canonical_shapes
from d2lrnn.trainer import make_train_step

from .conftest import BACKENDS, needs_corpus

KINDS = ["RNN", "RNNScratch"]
V, H = 7, 12


def random_weights(num_layers: int, seed: int = 0, scale: float = 0.4) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    return {k: (scale * rng.standard_normal(s)).astype(np.float32)
            for k, s in canonical_shapes(V, V, H, num_layers).items()}


def reference_forward(w: dict[str, np.ndarray], X: np.ndarray, num_layers: int):
    """The RNN in plain NumPy (float64): h_t = tanh(x_t W_xh + h_{t-1} W_hh + b_h), o_t = h_t W_hq +
    b_q."""
    inputs = np.eye(V)[X.T]  # (T, B, V) one-hot
    hidden = []
    for layer in range(num_layers):
        h = np.zeros((X.shape[0], H))
        outs = []
        for x_t in inputs:
            h = np.tanh(x_t @ w[f"W_xh.{layer}"] + h @ w[f"W_hh.{layer}"] + w[f"b_h.{layer}"])
            outs.append(h)
        inputs = np.stack(outs)
        hidden.append(h)
    return inputs @ w["W_hq"] + w["b_q"], np.stack(hidden)


def build(
    name: str, kind: str, num_layers: int = 1, weights=None, num_hiddens: int = H, vocab: int = V
):
    backend = d2lrnn.get_backend(name)
    model = getattr(backend, kind)(
        num_inputs=vocab, num_outputs=vocab, num_hiddens=num_hiddens, lr=1, num_layers=num_layers
    )
    if weights is not None:
        model.set_weights(weights)
    return backend, model


def as_state_array(backend, state) -> np.ndarray:
    if isinstance(state, (list, tuple)):
        state = state[0]
    return backend.to_numpy(state)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("name", BACKENDS)
@pytest.mark.parametrize("num_layers", [1, 2])
def test_shapes_and_agreement_with_numpy(name, kind, num_layers):
    weights = random_weights(num_layers)
    backend, model = build(name, kind, num_layers, weights)
    X = np.random.default_rng(1).integers(0, V, size=(3, 5))
    logits, state = backend.forward(model, backend.tensor(X), None)
    logits, state = backend.to_numpy(logits), as_state_array(backend, state)
    assert logits.shape == (5, 3, V) and state.shape == (num_layers, 3, H)
    want_logits, want_state = reference_forward(weights, X, num_layers)
    np.testing.assert_allclose(logits, want_logits, atol=1e-5, rtol=1e-5)
    np.testing.assert_allclose(state, want_state, atol=1e-5, rtol=1e-5)
    # the state carries: two halves give what the whole sequence gives
    _, mid = backend.forward(model, backend.tensor(X[:, :2]), None)
    second, _ = backend.forward(model, backend.tensor(X[:, 2:]), mid)
    np.testing.assert_allclose(backend.to_numpy(second), want_logits[2:], atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("name", BACKENDS)
def test_weights_round_trip(name, kind):
    weights = random_weights(2, seed=5)
    _, model = build(name, kind, 2, weights)
    got = model.get_weights()
    assert set(got) == set(weights)
    for key, value in weights.items():
        assert got[key].dtype == np.float32
        np.testing.assert_allclose(got[key], value, atol=1e-7)
    with pytest.raises(d2lrnn.CheckpointError, match="W_hh.0"):
        model.set_weights({**weights, "W_hh.0": np.zeros((H + 1, H), np.float32)})


def sgd_losses(
    name: str, kind: str, batches, weights, num_layers: int = 1, clip: float = 0.4
) -> list[float]:
    """Losses of SGD steps (lr 1) through the same compiled step the Trainer uses."""
    backend, model = build(name, kind, num_layers, weights)
    step = make_train_step(backend, model, lr=1.0, clip=clip)
    losses, state = [], None
    for X, Y in batches:
        state = backend.detach(state) if state is not None else None
        loss, state = step(backend.tensor(X), backend.tensor(Y), state)
        losses.append(backend.to_float(loss))
    return losses


@pytest.fixture(scope="module")
def twenty_batches():
    corpus = np.random.default_rng(2).integers(0, V, size=4 * 6 * 21 + 7)
    loader = d2lrnn.SeqDataLoader(corpus, 4, 6, seed=0)
    return list(loader)[:20]


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("name", BACKENDS)
def test_first_twenty_sgd_steps_match_the_reference(name, kind, twenty_batches):
    pytest.importorskip("torch")
    weights = random_weights(1, seed=3, scale=0.3)
    reference = sgd_losses("torch", "RNNScratch", twenty_batches, weights)
    unclipped = sgd_losses("torch", "RNNScratch", twenty_batches, weights, clip=0)
    # the clip of 0.4 changes the trajectory
    assert not np.allclose(reference, unclipped, rtol=1e-3)
    losses = sgd_losses(name, kind, twenty_batches, weights)
    assert len(losses) == 20
    np.testing.assert_allclose(losses, reference, rtol=1e-4)
    assert losses[-1] < losses[0]


@pytest.fixture(scope="module")
def small_data():
    if not d2lrnn.corpus.os.environ.get("D2LRNN_DATA_DIR"):
        pytest.skip("no corpus")
    return d2lrnn.TimeMachine(batch_size=16, num_steps=20, num_train=4000, num_val=1000, seed=0)


def train(name, kind, data, epochs, weights=None, num_hiddens=64, seed=0):
    backend = d2lrnn.get_backend(name)
    backend.seed(seed)
    data.train_loader.rng = np.random.default_rng(seed)  # the same data order on every backend
    _, model = build(name, kind, 1, weights, num_hiddens=num_hiddens, vocab=len(data.vocab))
    trainer = d2lrnn.Trainer(max_epochs=epochs, gradient_clip_val=1, progress=False)
    return trainer.fit(model, data), model


@needs_corpus
@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("name", BACKENDS)
def test_short_training_lowers_perplexity(name, kind, small_data):
    history, model = train(name, kind, small_data, epochs=8)
    assert history[-1].perplexity < 0.8 * history[0].perplexity
    assert model.predict("time traveller", 10, small_data.vocab).startswith("time traveller")


@needs_corpus
def test_same_start_same_data_same_perplexity(small_data):
    names = d2lrnn.available_backends()
    if len(names) < 2:
        pytest.skip("needs two installed backends")
    rng = np.random.default_rng(4)
    weights = {
        k: (0.1 * rng.standard_normal(s)).astype(np.float32)
        for k, s in canonical_shapes(len(small_data.vocab), len(small_data.vocab), 64, 1).items()
    }
    ppl = {n: train(n, "RNN", small_data, 3, weights)[0][-1].perplexity for n in names}
    assert max(ppl.values()) <= 1.01 * min(ppl.values()), ppl


@needs_corpus
@pytest.mark.slow  # 256 hidden units for 6 epochs on every backend
def test_default_initialisations_reach_comparable_perplexity(small_data):
    names = d2lrnn.available_backends()
    if len(names) < 2:
        pytest.skip("needs two installed backends")
    ppl = {n: train(n, "RNN", small_data, 6, num_hiddens=256)[0][-1].perplexity for n in names}
    low, high = min(ppl.values()), max(ppl.values())
    assert high <= 1.25 * low, ppl
