"""d2l 1.0.3's API (the published book) on the core: unit tests of the pieces the sections use."""

from __future__ import annotations

import math

import numpy as np
import pytest

from d2lrnn.errors import D2LRNNError
from d2lrnn.metrics import NUMPY_MATH, clip_gradients, global_norm
from d2lrnn.trainer import Trainer as CoreTrainer
from d2lrnn.vocab import SortedVocab, Vocab

from .conftest import installed, needs_corpus

torch_only = pytest.mark.skipif(not installed("torch"), reason="torch not installed")


def test_sorted_vocab_orders_tokens_and_finds_unk() -> None:
    tokens = list("the time machine")
    vocab = SortedVocab(tokens)
    assert vocab.idx_to_token == sorted(set(tokens) | {"<unk>"})
    assert vocab.idx_to_token[0] == " " and vocab.unk == vocab.token_to_idx["<unk>"] != 0
    assert vocab["z"] == vocab.unk and vocab.to_tokens(vocab[["t", "h"]]) == ["t", "h"]
    assert vocab.token_freqs[0] == ("e", 3)  # frequencies are still counted, most frequent first
    assert SortedVocab(tokens, min_freq=2).idx_to_token == [" ", "<unk>", "e", "h", "i", "m", "t"]
    assert Vocab(tokens).idx_to_token[:2] == ["<unk>", "e"]  # the 0.x order is unchanged


def test_save_hyperparameters_and_add_to_class() -> None:
    from d2lrnn.book.v1 import HyperParameters, add_to_class

    class Thing(HyperParameters):
        def __init__(self, a, b=2, _private=3, skip=4):
            self.save_hyperparameters(ignore=["skip"])

    thing = Thing(1)
    assert (
        thing.hparams == {"a": 1, "b": 2}
        and (thing.a, thing.b) == (1, 2)
        and not hasattr(thing, "skip")
    )

    @add_to_class(Thing)
    def total(self):
        return self.a + self.b

    assert thing.total() == 3


def test_progress_board_averages_every_n_points(tmp_path) -> None:
    from d2lrnn.book.v1 import ProgressBoard

    board = ProgressBoard(xlabel="epoch")
    for i in range(5):
        board.draw(i, float(i * 10), "train_ppl", every_n=2)
    # the fifth point waits for a partner
    assert board.data["train_ppl"] == [(0.5, 5.0), (2.5, 25.0)]
    board.draw(1, 7.0, "val_ppl", every_n=0)  # every_n below 1 still records
    assert board.data["val_ppl"] == [(1.0, 7.0)]
    path = board.savefig(tmp_path / "board.png")
    assert (tmp_path / "board.png").stat().st_size > 0 and path.endswith("board.png")


def test_download_serves_only_the_corpus() -> None:
    from d2lrnn.book.v1 import DATA_URL, download

    with pytest.raises(D2LRNNError, match="serves only"):
        download(DATA_URL + "fra-eng.zip")
    with pytest.raises(D2LRNNError, match="SHA-1"):
        download(DATA_URL + "timemachine.txt", sha1_hash="0" * 40)


def test_the_book_trainer_has_no_loop_of_its_own() -> None:
    from d2lrnn.book.v1 import Trainer

    assert Trainer._train_epoch is CoreTrainer._train_epoch
    # fit only prepares, then the core runs
    assert "fit" not in vars(CoreTrainer) or Trainer.fit is not CoreTrainer.fit


@torch_only
def test_rnnscratch_is_the_layer_and_refuses_the_draft_call() -> None:
    import torch

    from d2lrnn import torch as d2l

    rnn = d2l.RNNScratch(16, 32)
    outputs, state = rnn(torch.ones((5, 2, 16)))
    assert (
        len(outputs) == 5 and tuple(outputs[0].shape) == (2, 32) and tuple(state.shape) == (2, 32)
    )
    with pytest.raises(d2l.BookAPIError, match="d2lrnn.draft import torch"):
        d2l.RNNScratch(num_inputs=28, num_outputs=28, num_hiddens=32, lr=1)
    with pytest.raises(d2l.BookAPIError, match="cannot be called"):
        d2l.RNN(16)  # the PyTorch tab's RNN needs num_inputs and num_hiddens
    from d2lrnn.draft import torch as draft

    model = draft.RNNScratch(num_inputs=28, num_outputs=28, num_hiddens=8, lr=1)
    assert model.num_outputs == 28 and not isinstance(model, d2l.Module)


def _toy_data(d2l, num_train=64, num_val=32, batch_size=16, num_steps=6):
    class Toy(d2l.DataModule):
        def __init__(self):
            super().__init__()
            self.batch_size = batch_size
            self.num_train = num_train
            self.num_val = num_val
            rng = np.random.default_rng(0)
            tokens = rng.integers(0, 5, size=num_train + num_val + num_steps + 1)
            windows = np.lib.stride_tricks.sliding_window_view(tokens, num_steps + 1)[
                : num_train + num_val
            ]
            self.X, self.Y = d2l.tensor(windows[:, :-1].copy()), d2l.tensor(windows[:, 1:].copy())

        def get_dataloader(self, train):
            rows = (
                slice(0, self.num_train)
                if train
                else slice(self.num_train, self.num_train + self.num_val)
            )
            return self.get_tensorloader([self.X, self.Y], train, rows)

    return Toy()


@torch_only
def test_trainer_calls_the_replaced_hooks_from_the_core_loop() -> None:
    from d2lrnn import torch as d2l

    calls = {"clip": 0, "batch": 0}

    class Trainer(d2l.Trainer):
        pass

    @d2l.add_to_class(Trainer)
    def clip_gradients(self, grad_clip_val, model):
        calls["clip"] += 1

    @d2l.add_to_class(Trainer)
    def prepare_batch(self, batch):
        calls["batch"] += 1
        return batch

    data = _toy_data(d2l)
    model = d2l.RNNLMScratch(d2l.RNNScratch(5, 8), vocab_size=5, lr=1)
    trainer = Trainer(max_epochs=2, gradient_clip_val=1)
    trainer.fit(model, data)
    batches = len(data.train_dataloader())
    assert calls == {"clip": 2 * batches, "batch": 2 * (batches + len(data.val_dataloader()))}
    assert trainer.train_batch_idx == 2 * batches and len(trainer.history) == 2
    assert len(model.board.data["train_ppl"]) == 4 and len(model.board.data["val_ppl"]) == 2
    assert trainer.history[-1].val_perplexity is not None


@torch_only
def test_default_clip_gradients_is_the_core_clipping_in_place() -> None:
    import torch

    from d2lrnn import torch as d2l

    model = d2l.RNNLMScratch(d2l.RNNScratch(5, 8), vocab_size=5, lr=1)
    for p in model.parameters():
        p.grad = torch.randn_like(p) * 10
    before = [p.grad.numpy().copy() for p in model.parameters()]
    d2l.Trainer(max_epochs=1).clip_gradients(1.0, model)
    expected = clip_gradients(before, 1.0, NUMPY_MATH)
    for p, want in zip(model.parameters(), expected):
        np.testing.assert_allclose(p.grad.numpy(), want, rtol=1e-5)
    assert float(
        global_norm([p.grad.numpy() for p in model.parameters()], NUMPY_MATH)
    ) == pytest.approx(1.0, rel=1e-5)


@torch_only
def test_a_second_fit_starts_again_from_epoch_zero() -> None:
    from d2lrnn import torch as d2l

    data = _toy_data(d2l)
    trainer = d2l.Trainer(max_epochs=1)
    for _ in range(2):
        trainer.fit(d2l.RNNLMScratch(d2l.RNNScratch(5, 8), vocab_size=5, lr=1), data)
        assert trainer.epoch == 1 and len(trainer.history) == 1


@torch_only
@needs_corpus
def test_time_machine_cuts_overlapping_windows() -> None:
    from d2lrnn import torch as d2l

    data = d2l.TimeMachine(batch_size=1024, num_steps=32)
    X, Y = data.X.numpy(), data.Y.numpy()
    assert X.shape[1] == 32 and (X[1:, :-1] == X[:-1, 1:]).all() and (X[:, 1:] == Y[:, :-1]).all()
    assert len(data.train_dataloader()) == math.ceil(10000 / 1024) and len(
        data.val_dataloader()
    ) == math.ceil(5000 / 1024)
    assert data.vocab.idx_to_token[:3] == [" ", "<unk>", "a"]
    Xb, Yb = next(iter(data.val_dataloader()))
    # validation is not shuffled
    assert type(Xb).__name__ == "Tensor" and (Xb.numpy() == X[10000 : 10000 + 1024]).all()


@torch_only
def test_fit_epoch_runs_one_more_epoch_of_the_core_loop() -> None:
    from d2lrnn import torch as d2l

    data = _toy_data(d2l)
    trainer = d2l.Trainer(max_epochs=1)
    trainer.fit(d2l.RNNLMScratch(d2l.RNNScratch(5, 8), vocab_size=5, lr=1), data)
    trainer.fit_epoch()
    assert trainer.epoch == 2 and [s.epoch for s in trainer.history] == [1, 2]


def test_plot_draws_one_line_per_series() -> None:
    from d2lrnn.book.v1 import plot

    assert len(plot(np.arange(5.0)).axes[0].lines) == 1
    figure = plot([1, 2, 3], [[1, 2, 3], [3, 2, 1]], legend=["up", "down"], yscale="log")
    assert len(figure.axes[0].lines) == 2 and figure.axes[0].get_yscale() == "log"


def _stacked_scratch(d2l, num_layers: int):
    """The book's ``StackedRNNScratch`` as the MXNet and TensorFlow tabs write it: layers in a plain
    list."""

    class StackedRNNScratch(d2l.Module):
        def __init__(self, num_inputs, num_hiddens, num_layers, sigma=0.01):
            super().__init__()
            self.save_hyperparameters()
            self.rnns = [d2l.RNNScratch(num_inputs if i == 0 else num_hiddens, num_hiddens, sigma)
                         for i in range(num_layers)]

    return StackedRNNScratch(num_inputs=5, num_hiddens=4, num_layers=num_layers)


@pytest.mark.skipif(not installed("mxnet"), reason="mxnet not installed")
def test_mxnet_scratch_parameters_include_layers_held_in_a_list() -> None:
    from d2lrnn import mxnet as d2l

    block = _stacked_scratch(d2l, num_layers=3)
    model = d2l.RNNLMScratch(block, vocab_size=5, lr=1)
    params = model.get_scratch_params()
    inner = [layer.W_xh for layer in block.rnns]
    assert len(params) == 3 * 3 + 2  # W_xh, W_hh, b_h per layer; W_hq, b_q
    assert all(any(p is w for p in params) for w in inner)
    model.set_scratch_params_device(d2l.cpu())
    assert all(layer.W_hh.grad is not None for layer in block.rnns)
    assert isinstance(model.configure_optimizers(), d2l.SGD)
    assert len(model.configure_optimizers().params) == len(params)


@pytest.mark.skipif(
    not (installed("tensorflow") and installed("tf_keras")), reason="tensorflow not installed"
)
def test_tensorflow_trains_layers_held_in_a_list() -> None:
    """In a process of its own: the tab selects Keras 2 only if TensorFlow is not imported yet."""
    from d2lrnn.book.cells import run_cells

    from .test_book_cells import REPO

    check = """
from d2lrnn import tensorflow as d2l
class StackedRNNScratch(d2l.Module):
    def __init__(self, num_inputs, num_hiddens, num_layers, sigma=0.01):
        super().__init__()
        self.save_hyperparameters()
        self.rnns = [d2l.RNNScratch(num_inputs if i == 0 else num_hiddens, num_hiddens, sigma)
                     for i in range(num_layers)]
block = StackedRNNScratch(num_inputs=5, num_hiddens=4, num_layers=2)
model = d2l.RNNLMScratch(block, vocab_size=5, lr=1)
ids = {id(v) for v in model.trainable_variables}
print('TRACKED', all(id(layer.W_xh) in ids and id(layer.b_h) in ids for layer in block.rnns), len(ids))
"""  # noqa: E501
    code, out, err = run_cells([check], REPO)
    assert code == 0, err[-3000:]
    assert "TRACKED True 8" in out, out
