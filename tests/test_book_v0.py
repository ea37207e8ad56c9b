"""d2l 0.x's names beyond what the cell files print: n-gram vocabularies, ``download(name)``, the
scratch models' signatures, raw MXNet arrays trained by the core loop, and the recorded
perplexities."""

from __future__ import annotations

import importlib

import numpy as np
import pytest

from d2lrnn.book.v0.text import BookAPIError, Vocab, count_corpus, download, tokenize
from d2lrnn.errors import D2LRNNError

from .conftest import installed, needs_corpus


def test_vocab_keeps_ngram_tuples_whole_and_flattens_token_lists() -> None:
    bigrams = [("a", "b"), ("b", "c"), ("a", "b")]
    vocab = Vocab(bigrams)
    assert vocab.token_freqs[0] == (("a", "b"), 2)
    assert len(vocab) == 3  # <unk> and the two bigrams, not the letters
    assert count_corpus([["x", "y"], ["x"]]) == {"x": 2, "y": 1}
    assert count_corpus(bigrams)[("b", "c")] == 1


def test_tokenize_splits_lines_and_refuses_other_kinds() -> None:
    assert tokenize(["ab c"]) == [["ab", "c"]]
    assert tokenize(["ab"], "char") == [["a", "b"]]
    with pytest.raises(BookAPIError, match="'word' or 'char'"):
        tokenize(["ab"], "byte")


def test_download_takes_a_data_hub_key() -> None:
    with pytest.raises(BookAPIError, match="DATA_HUB"):
        download("fra-eng")


@needs_corpus
def test_download_serves_the_time_machine() -> None:
    with open(download("time_machine"), encoding="utf-8") as f:
        assert "Time Machine" in f.read(2000)


@pytest.mark.parametrize("tab", ["torch", "mxnet", "tensorflow"])
def test_scratch_model_refuses_another_tabs_argument_order(tab: str) -> None:
    if not installed(tab):
        pytest.skip(f"{tab} not installed")
    d2l = importlib.import_module(f"d2lrnn.v0.{tab}")

    def get_params(*args):  # noqa: ANN002, ANN202
        return []

    def init_state(*args):  # noqa: ANN002, ANN202
        return ()

    def forward(*args):  # noqa: ANN002, ANN202
        return None

    with pytest.raises(BookAPIError, match="RNNModelScratch"):
        if tab == "tensorflow":  # the PyTorch/MXNet order: a device before the functions
            d2l.RNNModelScratch(28, 8, "cpu", get_params, init_state)
        else:  # the TensorFlow order: no device, get_params last
            d2l.RNNModelScratch(28, 8, init_state, forward, get_params)


def _mxnet_scratch(d2l, mx, attach: bool = True):  # noqa: ANN001, ANN202
    np = mx.np

    def get_params(vocab_size, num_hiddens, device):  # noqa: ANN001, ANN202
        params = [np.random.normal(scale=0.01, size=(vocab_size, vocab_size), ctx=device),
                  np.zeros(vocab_size, ctx=device)]
        for param in params if attach else ():
            param.attach_grad()
        return params

    def init_state(batch_size, num_hiddens, device):  # noqa: ANN001, ANN202
        return ()

    def forward(inputs, state, params):  # noqa: ANN001, ANN202
        W, b = params
        return np.concatenate([np.dot(X, W) + b for X in inputs], axis=0), state

    return d2l.RNNModelScratch(28, 8, mx.cpu(), get_params, init_state, forward)


@needs_corpus
def test_mxnet_trains_raw_arrays_in_place_through_the_core_loop(
    capsys: pytest.CaptureFixture[str],
) -> None:
    if not installed("mxnet"):
        pytest.skip("mxnet not installed")
    d2l = importlib.import_module("d2lrnn.v0.mxnet")
    import mxnet as mx

    train_iter, vocab = d2l.load_data_time_machine(8, 8, max_tokens=2000)
    net = _mxnet_scratch(d2l, mx)
    arrays = list(net.params)
    before = [a.asnumpy().copy() for a in arrays]
    d2l.train_ch8(net, train_iter, vocab, 1, 2, mx.cpu())
    # the model's own arrays, updated in place
    assert all(a is b for a, b in zip(net.params, arrays))
    assert all(not np.allclose(a.asnumpy(), b) for a, b in zip(arrays, before))
    run = d2l.recorded_perplexities()[-1]
    assert len(run) == 4 and run[-1] < run[0]  # two halves per epoch, falling
    assert "perplexity" in capsys.readouterr().out

    with pytest.raises(D2LRNNError, match="attach_grad"):
        d2l.train_ch8(_mxnet_scratch(d2l, mx, attach=False), train_iter, vocab, 1, 1, mx.cpu())


@needs_corpus
def test_torch_train_ch8_records_two_perplexities_per_epoch() -> None:
    if not installed("torch"):
        pytest.skip("torch not installed")
    d2l = importlib.import_module("d2lrnn.v0.torch")
    from torch import nn

    train_iter, vocab = d2l.load_data_time_machine(8, 8, max_tokens=2000)
    runs_before = len(d2l.recorded_perplexities())
    d2l.train_ch8(
        d2l.RNNModel(nn.RNN(len(vocab), 16), len(vocab)), train_iter, vocab, 1, 3, d2l.try_gpu()
    )
    runs = d2l.recorded_perplexities()
    assert len(runs) == runs_before + 1 and len(runs[-1]) == 6
    assert all(np.isfinite(runs[-1]))


def test_animator_keeps_points_given_as_numbers_lists_and_arrays() -> None:
    from d2lrnn.book.v0 import Animator

    animator = Animator(xlabel="epoch", legend=["train", "val"])
    animator.add(1, [3.0, 4.0])
    animator.add(2, np.array([2.5, 3.5]))
    # a 0-d array counts as one number; None skips a line
    animator.add(np.float32(3), (np.array(2.0), None))
    assert animator.X == [[1.0, 2.0, 3.0], [1.0, 2.0]]
    assert animator.Y == [[3.0, 2.5, 2.0], [4.0, 3.5]]
    single = Animator()
    single.add(10, np.float64(7.25))
    assert single.Y == [[7.25]]


def test_book_accumulator_sums_framework_scalars_without_warning() -> None:
    import warnings

    from d2lrnn.book.v0 import Accumulator

    metric = Accumulator(2)
    if installed("torch"):
        import torch

        loss = (torch.ones(3, requires_grad=True) * 2).mean()  # still on the autograd graph
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            metric.add(loss * 4, torch.tensor(4))
        assert metric[0] == pytest.approx(8.0) and metric[1] == 4
    metric.add(np.float32(1.5), 1)
    assert metric[0] == pytest.approx(9.5 if installed("torch") else 1.5)


@needs_corpus
def test_torch_loader_yields_tensors_from_a_new_offset_each_epoch() -> None:
    if not installed("torch"):
        pytest.skip("torch not installed")
    d2l = importlib.import_module("d2lrnn.v0.torch")
    import torch

    train_iter, _ = d2l.load_data_time_machine(4, 5, max_tokens=2000)
    firsts = []
    for _ in range(6):
        X, Y = next(iter(train_iter))
        assert (
            isinstance(X, torch.Tensor)
            and X.shape == (4, 5)
            and bool((X[:, 1:] == Y[:, :-1]).all())
        )
        firsts.append(tuple(X[0].tolist()))
    # the book's loop re-iterates the loader every epoch: the offset is drawn anew
    assert len(set(firsts)) > 1
