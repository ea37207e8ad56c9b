"""d2l 1.0.3's JAX tab (Flax linen models, a TrainState, the core loop): unit tests of the pieces
the sections use."""

from __future__ import annotations

import importlib.metadata

import numpy as np
import pytest

from d2lrnn.metrics import NUMPY_MATH, clip_gradients
from d2lrnn.trainer import Trainer as CoreTrainer

from .conftest import installed

pytestmark = pytest.mark.skipif(
    not (installed("jax") and installed("flax")), reason="jax/flax not installed"
)


def _counting_data(d2l, num_train=64, num_val=32, batch_size=16, num_steps=6, vocab=5):
    """Windows of a sequence that counts up modulo ``vocab``: every next token is predictable."""

    class Counting(d2l.DataModule):
        def __init__(self):
            super().__init__()
            self.batch_size = batch_size
            self.num_train = num_train
            self.num_val = num_val
            start = np.random.default_rng(0).integers(0, vocab, size=(num_train + num_val, 1))
            windows = (start + np.arange(num_steps + 1)) % vocab
            self.X, self.Y = d2l.tensor(windows[:, :-1]), d2l.tensor(windows[:, 1:])

        def get_dataloader(self, train):
            rows = (
                slice(0, self.num_train)
                if train
                else slice(self.num_train, self.num_train + self.num_val)
            )
            return self.get_tensorloader([self.X, self.Y], train, rows)

    return Counting()


def test_rnnscratch_is_the_flax_layer_and_refuses_other_calls() -> None:
    import jax

    from d2lrnn import jax as d2l

    rnn = d2l.RNNScratch(16, 32)
    (outputs, state), variables = rnn.init_with_output(
        jax.random.PRNGKey(0), d2l.ones((100, 2, 16))
    )
    assert len(outputs) == 100 and outputs[0].shape == (2, 32) and state.shape == (2, 32)
    assert variables["params"]["W_xh"].shape == (16, 32) and variables["params"]["W_hh"].shape == (
        32,
        32,
    )
    with pytest.raises(d2l.BookAPIError, match="RNNScratch"):
        d2l.RNNScratch(num_inputs=28, num_outputs=28, num_hiddens=32, lr=1)  # the 1.0 draft's call
    with pytest.raises(d2l.BookAPIError, match="RNN"):
        d2l.RNN(num_inputs=28, num_hiddens=32)  # the PyTorch tab's call
    assert d2l.RNN(32).num_hiddens == 32 and d2l.RNN(num_hiddens=32).clone().num_hiddens == 32


def test_concise_rnn_runs_a_flax_simple_cell() -> None:
    import jax

    from d2lrnn import jax as d2l

    rnn = d2l.RNN(num_hiddens=8)
    (outputs, H), variables = rnn.init_with_output(jax.random.PRNGKey(0), d2l.ones((5, 3, 4)))
    assert outputs.shape == (5, 3, 8) and H.shape == (3, 8)
    np.testing.assert_allclose(np.asarray(outputs[-1]), np.asarray(H), rtol=1e-6)
    # one cell: its weights are shared by every step
    assert set(variables["params"]) == {"SimpleCell_0"}
    again, _ = rnn.apply(variables, d2l.ones((2, 3, 4)), H)
    assert again.shape == (2, 3, 8)


def test_trainer_runs_the_book_hooks_on_the_core_loop_and_learns() -> None:
    from d2lrnn import jax as d2l

    calls = {"clip": 0, "batch": 0}

    class Trainer(d2l.Trainer):
        pass

    @d2l.add_to_class(Trainer)
    def clip_gradients(self, grad_clip_val, grads):
        calls["clip"] += 1  # traced once into the compiled update
        return d2l.Trainer.clip_gradients(self, grad_clip_val, grads)

    @d2l.add_to_class(Trainer)
    def prepare_batch(self, batch):
        calls["batch"] += 1
        return batch

    data = _counting_data(d2l)
    model = d2l.RNNLMScratch(d2l.RNNScratch(5, 16, sigma=0.1), vocab_size=5, lr=1)
    trainer = Trainer(max_epochs=6, gradient_clip_val=1)
    trainer.fit(model, data)
    batches = len(data.train_dataloader())
    assert Trainer._train_epoch is CoreTrainer._train_epoch  # no loop of its own
    assert calls["clip"] >= 1 and calls["batch"] == 6 * (batches + len(data.val_dataloader()))
    assert trainer.train_batch_idx == 6 * batches and int(trainer.state.step) == 6 * batches
    assert len(model.board.data["train_ppl"]) == 12 and len(model.board.data["val_ppl"]) == 6
    ppl = [s.perplexity for s in trainer.history]
    assert ppl[-1] < ppl[0] and trainer.history[-1].val_perplexity is not None
    text = model.predict("01", 3, _DigitVocab(), trainer.state.params)
    assert len(text) == 5 and text.startswith("01")
    with pytest.raises(d2l.BookAPIError, match="trainer.state.params"):
        model.predict("01", 3, _DigitVocab(), None)


class _DigitVocab:
    idx_to_token = list("01234")

    def __getitem__(self, token):
        return int(token)


def test_default_clip_gradients_is_the_core_clipping_on_the_pytree() -> None:
    import jax.numpy as jnp

    from d2lrnn import jax as d2l

    rng = np.random.default_rng(0)
    grads = {"a": rng.normal(size=(3, 4)) * 10, "b": {"c": rng.normal(size=5) * 10}}
    as_jax = {"a": jnp.asarray(grads["a"]), "b": {"c": jnp.asarray(grads["b"]["c"])}}
    clipped = d2l.Trainer(max_epochs=1).clip_gradients(1.0, as_jax)
    want = clip_gradients([grads["a"], grads["b"]["c"]], 1.0, NUMPY_MATH)
    np.testing.assert_allclose(np.asarray(clipped["a"]), want[0], rtol=1e-5)
    np.testing.assert_allclose(np.asarray(clipped["b"]["c"]), want[1], rtol=1e-5)


def test_an_update_is_clipped_to_lr_times_the_clip_value() -> None:
    import jax

    from d2lrnn import jax as d2l

    data = _counting_data(d2l, num_train=16, num_val=16)
    model = d2l.RNNLMScratch(d2l.RNNScratch(5, 16, sigma=1.0), vocab_size=5, lr=1)
    trainer = d2l.Trainer(max_epochs=1, gradient_clip_val=1e-3)
    trainer.fit(model, data, key=jax.random.PRNGKey(0))
    after = jax.tree_util.tree_leaves(trainer.state.params)
    trainer2 = d2l.Trainer(max_epochs=1)
    trainer2.train_dataloader = data.train_dataloader()
    trainer2.device = d2l.cpu()
    trainer2.optim = model.configure_optimizers()
    before = jax.tree_util.tree_leaves(trainer2.init_state(model, jax.random.PRNGKey(0)).params)
    step = np.sqrt(
        sum(float(((np.asarray(a) - np.asarray(b)) ** 2).sum()) for a, b in zip(after, before))
    )
    assert 0 < step <= 1e-3 * 1.0001  # one batch, lr 1: the step is the clipped gradient


def test_concise_language_model_switches_training_for_validation() -> None:
    from d2lrnn import jax as d2l

    seen = []

    class Probe(d2l.RNN):
        def __call__(self, inputs, H=None, training=False):
            seen.append(training)
            return super().__call__(inputs, H, training)

    data = _counting_data(d2l, num_train=16, num_val=16)
    model = d2l.RNNLM(Probe(num_hiddens=8), vocab_size=5, lr=1)
    d2l.Trainer(max_epochs=1, gradient_clip_val=1).fit(model, data)
    assert True in seen and False in seen  # validation ran with training=False
    # on a twin: the model itself (a static argument of jax.jit) is not changed
    assert model.training is True


def test_the_books_concise_gru_and_lstm_calls_fail_on_this_flax_and_d2lrnn_leaves_flax_alone() -> (
    None
):
    """The book's JAX ``GRU``/``LSTM`` call ``initialize_carry`` on the cell class as ``(rng,
    batch_dims,
    size)`` and build cells without ``features``: the API of Flax before 0.7. The cell files mark
    them as a
    known issue for ``flax>=0.7``; importing d2lrnn's JAX tab must not change Flax's cells."""
    import jax
    from flax import linen as nn
    from packaging.version import Version

    from d2lrnn import jax as d2l  # noqa: F401  (importing the tab must not patch Flax)

    if Version(importlib.metadata.version("flax")) < Version("0.7"):
        pytest.skip("Flax before 0.7 still has the book's API")
    key = jax.random.PRNGKey(0)
    for cell in (nn.GRUCell, nn.OptimizedLSTMCell):
        with pytest.raises(TypeError):
            cell.initialize_carry(key, (4,), 8)  # the book's call
        with pytest.raises(TypeError):
            cell()  # the book's nn.scan(cell, ...)() builds it without features
    carry = nn.GRUCell(features=8).initialize_carry(key, (4, 3))  # the current API is unchanged
    assert carry.shape == (4, 8)



def test_the_tabs_gru_is_the_registrys_gru() -> None:
    """``d2l.GRU`` (two layers) on one-hot inputs gives the hidden states of
    :func:`d2lrnn.cells.reference_forward`
    (read through an identity output layer) for the same canonical weights, and keeps its published
    call."""
    import jax

    from d2lrnn import jax as d2l
    from d2lrnn.cells import reference_forward

    vocab = 6
    hiddens = 5
    layers = 2
    tokens = np.random.default_rng(1).integers(0, vocab, size=(3, 7))  # (batch, num_steps)
    inputs = np.eye(vocab, dtype=np.float32)[tokens.T]  # time-major one-hot
    gru = d2l.GRU(num_hiddens=hiddens, num_layers=layers)
    params = gru.init(jax.random.PRNGKey(0), inputs)["params"]
    assert sorted(params) == sorted(
        f"{n}.{layer}" for n in ("W_x", "W_h", "b_x", "b_h") for layer in range(layers)
    )
    rng = np.random.default_rng(2)
    params = {
        name: rng.normal(scale=0.5, size=value.shape).astype(np.float32)
        for name, value in params.items()
    }
    outputs, state = gru.apply({"params": params}, inputs)
    want, want_state = reference_forward(
        {**params, "W_hq": np.eye(hiddens), "b_q": np.zeros(hiddens)}, tokens, layers, "gru"
    )
    np.testing.assert_allclose(np.asarray(outputs), want, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(np.asarray(state), want_state, rtol=1e-4, atol=1e-5)
    with pytest.raises(d2l.BookAPIError):
        d2l.GRU(num_inputs=6, num_hiddens=5)  # the PyTorch tab's call
