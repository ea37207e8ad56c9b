"""MXNet baselines of the benchmark: the bare floor and the book's own code (see
``backends/floor.py``)."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as onp

from ...model import canonical_to_concise
from ..floor import LIBRARY, Batches, Epoch, Lever, Variant, host_read_lever, patched, time_epochs

#: the book's (d2l 0.17.6) module for this framework
BOOK_MODULE = "d2l.mxnet"


def train_floor(
    batches: Batches,
    vocab_size: int,
    num_hiddens: int,
    lr: float,
    clip: float,
    epochs: int,
    device: str = "cpu",
    on_first_batch: Callable[[], None] | None = None,
    weights: dict[str, onp.ndarray] | None = None,
    cell: str = "rnn",
) -> list[Epoch]:
    """Gluon with NumPy arrays, as the adapter: a hybridized block of ``rnn.RNN`` (tanh, second bias
    frozen at zero), ``rnn.GRU`` or ``rnn.LSTM`` + ``nn.Dense`` on one-hot inputs; the loss,
    branch-free clipping and the in-place SGD update outside it. ``weights`` (canonical, vanilla RNN
    only) start it where a test wants."""
    import mxnet as mx
    from mxnet import autograd, gluon, np, npx
    from mxnet.gluon import nn, rnn

    if weights is not None and cell != "rnn":
        raise ValueError("the floor's starting weights are a vanilla RNN's")
    npx.set_np()
    ctx = mx.gpu() if device == "gpu" else mx.cpu()
    num_states = 2 if cell == "lstm" else 1

    class Net(gluon.HybridBlock):
        def __init__(self) -> None:
            super().__init__()
            if cell == "rnn":
                self.rnn = rnn.RNN(num_hiddens, activation="tanh", input_size=vocab_size)
            else:
                self.rnn = {"gru": rnn.GRU, "lstm": rnn.LSTM}[cell](
                    num_hiddens, input_size=vocab_size
                )
            self.dense = nn.Dense(vocab_size, flatten=False, in_units=num_hiddens)

        def hybrid_forward(self, F: Any, X: Any, *state: Any) -> Any:
            outputs, states = self.rnn(F.npx.one_hot(F.np.transpose(X), vocab_size), list(state))
            return (self.dense(outputs), *states)

    net = Net()
    net.initialize(ctx=ctx)
    if cell == "rnn":
        net.rnn.l0_h2h_bias.set_data(np.zeros(num_hiddens, ctx=ctx))
        net.rnn.l0_h2h_bias.grad_req = "null"
    if weights is not None:
        (layer,), (w_out, b_out) = canonical_to_concise(weights, 1, out_in=True)
        for param, value in (
            (net.rnn.l0_i2h_weight, layer["W_ih"]),
            (net.rnn.l0_h2h_weight, layer["W_hh"]),
            (net.rnn.l0_i2h_bias, layer["b_ih"]),
            (net.dense.weight, w_out),
            (net.dense.bias, b_out),
        ):
            param.set_data(np.array(value, ctx=ctx))
    net.hybridize(static_alloc=True, static_shape=True)
    params = [p for p in net.collect_params().values() if p.grad_req != "null"]
    data = [
        (np.array(X, dtype="int64", ctx=ctx), np.array(Y, dtype="int64", ctx=ctx))
        for X, Y in batches
    ]

    def epoch() -> tuple[float, int]:
        nonlocal on_first_batch
        state = [
            np.zeros((1, batches[0][0].shape[0], num_hiddens), ctx=ctx) for _ in range(num_states)
        ]
        total = None
        for X, Y in data:
            with autograd.record():
                logits, *state = net(X, *(s.detach() for s in state))
                loss = -npx.pick(npx.log_softmax(logits), Y.T, axis=-1).mean()
            loss.backward()
            grads = [p.grad() for p in params]
            if clip > 0:
                norm = np.sqrt(sum(np.sum(g * g) for g in grads))
                grads = [g * (clip / np.maximum(norm, clip)) for g in grads]
            for p, g in zip(params, grads):
                value = p.data()
                value -= lr * g
            total = loss.detach() if total is None else total + loss.detach()
            if on_first_batch is not None:
                mx.nd.waitall()
                on_first_batch()
                on_first_batch = None
        # one host read per epoch
        return float(total.item()) / len(data), sum(int(Y.size) for _, Y in batches)

    return time_epochs(epochs, epoch)


def train_book(d2l: Any, data: Any, num_hiddens: int, lr: float, epochs: int, device: str = "cpu",
               cell: str = "rnn") -> list[Epoch]:
    """The book's concise MXNet model (``d2l.RNNModel`` over Gluon's ``rnn.RNN``, ``rnn.GRU`` or
    ``rnn.LSTM``), initialised and trained as ``train_ch8`` does."""
    import mxnet as mx
    from mxnet import gluon, init, npx
    from mxnet.gluon import rnn

    npx.set_np()  # the first line of every MXNet notebook of the book
    ctx = mx.gpu() if device == "gpu" else mx.cpu()
    layer = {"rnn": rnn.RNN, "gru": rnn.GRU, "lstm": rnn.LSTM}[cell](num_hiddens)
    layer.initialize()
    net = d2l.RNNModel(layer, len(data.vocab))
    net.initialize(ctx=ctx, force_reinit=True, init=init.Normal(0.01))
    trainer = gluon.Trainer(net.collect_params(), "sgd", {"learning_rate": lr})
    loss = gluon.loss.SoftmaxCrossEntropyLoss()

    def epoch() -> tuple[float, int]:
        ppl, _ = d2l.train_epoch_ch8(
            net, data, loss, lambda batch_size: trainer.step(batch_size), ctx, False
        )
        return math.log(ppl), data.tokens

    return time_epochs(epochs, epoch)


def levers(backend: Any) -> list[Lever]:
    """MXNet's fast paths: ``hybridize()`` for both models; one host read per epoch."""
    init = backend.RNNScratch.__init__

    def init_then_unhybridize(self: Any, *args: Any, **kwargs: Any) -> None:
        init(self, *args, **kwargs)
        self.hybridize(active=False)

    imperative = Variant(
        "imperative", lambda b: patched(b.RNNScratch, "__init__", init_then_unhybridize)
    )
    return [
        Lever("hybridize()", "RNN", imperative, LIBRARY),
        Lever("hybridize()", "RNNScratch", imperative, LIBRARY),
        host_read_lever(),
    ]
