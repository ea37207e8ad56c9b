"""``from d2lrnn import mxnet as d2l``: the book's names for the MXNet tab (NumPy-style Gluon).

d2l 0.x: ``load_data_time_machine``, ``RNNModel``, ``predict_ch8``, ``train_ch8``,
``grad_clipping``, ``try_gpu``, ``Timer``, ``Accumulator``, ``Animator``. d2l 1.0:
``TimeMachine``, ``RNNScratch``, ``Trainer``. Importing this module switches MXNet to NumPy
mode (``npx.set_np()``), as the book's MXNet cells do; gluonbook's ``nd`` code needs
:mod:`d2lrnn.gluonbook` in a process of its own.
"""

# ruff: noqa: E402  (MXNet imports only after the NumPy compatibility layer is in place)
from __future__ import annotations

from typing import Any

from ..backends.mxnet import import_mxnet

mx = import_mxnet()  # on current NumPy, MXNet imports only through this

from mxnet import gluon, np, npx
from mxnet.gluon import nn

from ..backends.mxnet import BACKEND, RNN, RNNScratch
from ..data import TimeMachine
from ..data import load_data_time_machine as _load_numpy
from ..timing import Accumulator, Timer
from ..vocab import Vocab
from .common import Animator, Tab, Trainer, assign_slice, clip_in_place, tensor_loader
from .v0_aliases import tensor_aliases

globals().update(tensor_aliases(mx))  # d2l.reshape, d2l.zeros, ...
tensor = np.array
load_data_time_machine = tensor_loader(_load_numpy, np.array)

float32, int32, int64 = np.float32, np.int32, np.int64


class RNNModel(nn.Block):
    """A Gluon recurrent layer (``rnn.RNN``, ``GRU``, ``LSTM``) under one-hot inputs and a dense output.

    ``forward(inputs, state)`` takes token indices ``(batch, num_steps)`` and returns logits
    flattened to ``(num_steps * batch, vocab_size)`` and the new state (Gluon's list of arrays);
    ``begin_state(batch_size=..., ctx=...)`` is the recurrent layer's.
    """

    def __init__(self, rnn_layer: gluon.Block, vocab_size: int, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.rnn, self.vocab_size = rnn_layer, vocab_size
        self.dense = nn.Dense(vocab_size, flatten=False)

    def forward(self, inputs: np.ndarray, state: list[np.ndarray]) -> tuple[np.ndarray, list[np.ndarray]]:
        Y, state = self.rnn(npx.one_hot(inputs.T, self.vocab_size), state)
        return self.dense(Y).reshape(-1, self.vocab_size), state

    def begin_state(self, *args: Any, **kwargs: Any) -> list[np.ndarray]:
        """The recurrent layer's zero state, e.g. ``begin_state(batch_size=32, ctx=mx.cpu())``."""
        return self.rnn.begin_state(*args, **kwargs)


_TAB = Tab(BACKEND, nn.Block, lambda net, X: net.begin_state(batch_size=X.shape[0], ctx=X.ctx), np.reshape)
predict_ch8, try_gpu = _TAB.predict_ch8, BACKEND.try_gpu


def train_ch8(net: Any, train_iter: Any, vocab: Any, lr: float, num_epochs: int, device: Any = None,
              use_random_iter: bool = False) -> None:
    """d2l 0.x's ``train_ch8`` for the MXNet tab: a Gluon model is (re)initialised first, as the book does."""
    if isinstance(net, gluon.Block):
        net.initialize(ctx=device or BACKEND.try_gpu(), force_reinit=True, init=mx.init.Normal(0.01))
    _TAB.train_ch8(net, train_iter, vocab, lr, num_epochs, device, use_random_iter)


def grad_clipping(net: gluon.Block | Any, theta: float) -> None:
    """Clip the gradients of ``net`` (a Block, or an object with ``params``) in place to norm ``theta``."""
    if isinstance(net, gluon.Block):
        grads = [p.grad() for p in net.collect_params().values() if p.grad_req != "null"]
    else:
        grads = [p.grad for p in net.params]
    clip_in_place(grads, theta, BACKEND.math, assign_slice)


def to(x: np.ndarray, ctx: mx.Context) -> np.ndarray:
    """``x`` on device ``ctx`` (the book's ``d2l.to``)."""
    return x.as_in_context(ctx)


__all__ = [
    "RNN", "Accumulator", "Animator", "RNNModel", "RNNScratch", "TimeMachine", "Timer", "Trainer", "float32",
    "Vocab", "grad_clipping", "int32", "int64", "load_data_time_machine", "predict_ch8", "tensor", "to", "train_ch8",
    "try_gpu", *tensor_aliases(mx),
]
