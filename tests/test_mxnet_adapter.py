"""MXNet-specific behaviour: the book's Gluon subclass, list states, deferred initialisation, graph
rebuilds."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("mxnet")

import d2lrnn  # noqa: E402
from d2lrnn.model import canonical_shapes  # noqa: E402
from d2lrnn.trainer import sgd_step  # noqa: E402

from .conftest import assert_greedy  # noqa: E402

V, H = 12, 16


@pytest.fixture(scope="module")
def mx():
    return d2lrnn.get_backend("mxnet")


def book_subclass(mx, activation: str = "relu"):
    """The MXNet tab of the book's concise chapter, subclassing the adapter's RNNScratch."""
    from mxnet import npx
    from mxnet.gluon import nn, rnn

    class BookRNN(mx.RNNScratch):
        def init_params(self):
            # no input_size: deferred init
            self.rnn = rnn.RNN(self.num_hiddens, activation=activation)
            self.linear = nn.Dense(self.num_outputs, flatten=False)
            self.initialize()

        def forward(self, X, state=None):
            if state is None:
                state = self.init_state(X)
            embs = npx.one_hot(X.T, self.num_inputs)
            Y, state = self.rnn(embs, state)
            return self.linear(Y), state

        def init_state(self, X):
            return [s.as_in_context(X.context) for s in self.rnn.begin_state(batch_size=X.shape[0])]

    return BookRNN


def batches(n: int = 4, batch: int = 4, steps: int = 6) -> list[tuple[np.ndarray, np.ndarray]]:
    rng = np.random.default_rng(0)
    seq = rng.integers(0, V, n * batch * steps + 1)
    X = seq[:-1].reshape(n, batch, steps)
    Y = seq[1:].reshape(n, batch, steps)
    return list(zip(X, Y, strict=True))


def test_book_subclass_trains_predicts_and_exports(mx):
    model = book_subclass(mx)(V, num_hiddens=H)
    weights = model.get_weights()  # before any forward: Gluon's deferred shapes are resolved
    assert {k: v.shape for k, v in weights.items()} == canonical_shapes(V, V, H, 1)
    X = mx.tensor(batches()[0][0])
    logits, state = model(X)
    assert isinstance(state, list) and state[0].shape == (1, 4, H) and logits.shape == (6, 4, V)
    history = d2lrnn.Trainer(max_epochs=3, gradient_clip_val=1, progress=False).fit(
        model, batches()
    )
    assert history[-1].perplexity < history[0].perplexity
    vocab = d2lrnn.Vocab(list("abcdefghij "))
    assert_greedy(
        model, model.predict("abc", 5, vocab), "abc", 5, vocab, mx.tensor, lambda a: a.asnumpy()
    )


def test_book_subclass_matches_rnn_given_the_same_weights(mx):
    book = book_subclass(mx, activation="tanh")(V, num_hiddens=H)
    ref = mx.RNN(V, num_hiddens=H)
    book.set_weights(ref.get_weights())  # set_weights on a fresh (deferred) model
    np.testing.assert_allclose(book.get_weights()["W_xh.0"], ref.get_weights()["W_xh.0"])
    X = mx.tensor(batches()[0][0])
    (a, sa), (b, sb) = book(X), ref(X)
    np.testing.assert_allclose(a.asnumpy(), b.asnumpy(), atol=1e-6)
    np.testing.assert_allclose(sa[0].asnumpy(), sb.asnumpy(), atol=1e-6)


@pytest.mark.parametrize("kind", ["RNN", "RNNScratch"])
def test_list_and_bare_states_agree(mx, kind):
    model = getattr(mx, kind)(V, num_hiddens=H, num_layers=2)
    X = mx.tensor(batches()[0][0])
    s0 = mx.tensor(np.random.default_rng(1).normal(size=(2, 4, H)).astype(np.float32))
    bare_logits, bare = model(X, s0)
    list_logits, listed = model(X, [s0])
    assert isinstance(listed, list) and not isinstance(bare, list)
    np.testing.assert_allclose(bare_logits.asnumpy(), list_logits.asnumpy(), atol=1e-6)
    np.testing.assert_allclose(bare.asnumpy(), listed[0].asnumpy(), atol=1e-6)
    assert isinstance(mx.detach(listed), list)


def test_scratch_graph_follows_num_steps(mx):
    """The unrolled graph is rebuilt when num_steps changes: one call over 6 steps = 6 calls over 1.
    """
    model = mx.RNNScratch(V, num_hiddens=H, sigma=0.3)
    X = mx.tensor(batches()[0][0])
    whole, state_whole = mx.forward(model, X, None)
    state, steps = None, []
    for t in range(X.shape[1]):
        logits, state = mx.forward(model, X[:, t : t + 1], state)
        steps.append(logits.asnumpy())
    np.testing.assert_allclose(np.concatenate(steps), whole.asnumpy(), atol=1e-5)
    np.testing.assert_allclose(state.asnumpy(), state_whole.asnumpy(), atol=1e-5)


@pytest.mark.parametrize("kind", ["RNN", "RNNScratch"])
def test_sgd_step_updates_in_place_and_lowers_loss(mx, kind):
    model = getattr(mx, kind)(V, num_hiddens=H)
    X, Y = (mx.tensor(a) for a in batches()[0])
    params = mx.parameters(model, X)
    before = model.get_weights()
    losses = [mx.to_float(sgd_step(mx, model, params, X, Y, None, 1.0, 1.0)[0]) for _ in range(5)]
    assert losses[-1] < losses[0]
    assert any(not np.allclose(before[k], v) for k, v in model.get_weights().items())
