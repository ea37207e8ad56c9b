"""d2l 0.x's MXNet tab: ``from d2lrnn.v0 import mxnet as d2l``.

``load_data_time_machine``, ``RNNModel``, ``RNNModelScratch``, ``predict_ch8``, ``train_ch8``,
``grad_clipping``, ``sgd``, ``try_gpu``, ``Timer``, ``Accumulator``, ``Animator``, the text names
of :mod:`d2lrnn.book.v0.text` and the tensor aliases. Importing this module switches MXNet to
NumPy mode (``npx.set_np()``), as the book's MXNet cells do;
gluonbook's ``nd`` code needs :mod:`d2lrnn.gluonbook` in a process of its own.
"""

# ruff: noqa: E402  (MXNet imports only after the NumPy compatibility layer is in place)
from __future__ import annotations

from typing import Any

from ...backends.mxnet import import_mxnet

mx = import_mxnet()  # on current NumPy, MXNet imports only through this

from mxnet import gluon, np, npx
from mxnet.gluon import nn

from ...backends.mxnet import BACKEND
from ...backends.mxnet.arrays import ArrayParameters
from ...data import load_data_time_machine as _load_numpy
from ...timing import Timer
from ..aliases import tensor_aliases
from . import Accumulator, Animator, Tab, assign_slice, clip_in_place, tensor_loader
from .text import NAMES as TEXT_NAMES
from .text import scratch_arguments, text_names

globals().update(tensor_aliases(mx))  # d2l.reshape, d2l.zeros, ...
# d2l.read_time_machine, d2l.Vocab, d2l.seq_data_iter_random, ...
globals().update(text_names(np.array))
tensor = np.array
load_data_time_machine = tensor_loader(_load_numpy, np.array)

float32 = np.float32
int32 = np.int32
int64 = np.int64


class RNNModel(nn.Block):
    """A Gluon recurrent layer (``rnn.RNN``, ``GRU``, ``LSTM``) under one-hot inputs and a dense
    output.

    ``forward(inputs, state)`` takes token indices ``(batch, num_steps)`` and returns logits
    flattened to ``(num_steps * batch, vocab_size)`` and the new state (Gluon's list of arrays);
    ``begin_state(batch_size=..., ctx=...)`` is the recurrent layer's.
    """

    def __init__(self, rnn_layer: gluon.Block, vocab_size: int, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.rnn, self.vocab_size = rnn_layer, vocab_size
        self.dense = nn.Dense(vocab_size, flatten=False)

    def forward(
        self, inputs: np.ndarray, state: list[np.ndarray]
    ) -> tuple[np.ndarray, list[np.ndarray]]:
        Y, state = self.rnn(npx.one_hot(inputs.T, self.vocab_size), state)
        return self.dense(Y).reshape(-1, self.vocab_size), state

    def begin_state(self, *args: Any, **kwargs: Any) -> list[np.ndarray]:
        """The recurrent layer's zero state, e.g. ``begin_state(batch_size=32, ctx=mx.cpu())``."""
        return self.rnn.begin_state(*args, **kwargs)


class RNNModelScratch:
    """d2l 0.x's from-scratch model (MXNet signature): ``get_params(vocab_size, num_hiddens,
    device)`` gives
    :attr:`params` (arrays with ``attach_grad``), ``init_state(batch_size, num_hiddens, ctx)`` the
    state,
    ``forward_fn(X, state, params)`` the steps on one-hot, time-major inputs."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        a = scratch_arguments("mxnet", args, kwargs)
        self.vocab_size, self.num_hiddens = a["vocab_size"], a["num_hiddens"]
        self.params = a["get_params"](self.vocab_size, self.num_hiddens, a["device"])
        self.init_state, self.forward_fn = a["init_state"], a["forward_fn"]

    def __call__(self, X: np.ndarray, state: Any) -> Any:
        return self.forward_fn(npx.one_hot(X.T, self.vocab_size), state, self.params)

    def begin_state(self, batch_size: int, ctx: Any) -> Any:
        return self.init_state(batch_size, self.num_hiddens, ctx)


def sgd(params: list[np.ndarray], lr: float, batch_size: int) -> None:
    """Minibatch SGD in place on arrays with attached gradients: ``param -= lr * grad /
    batch_size``."""
    for param in params:
        param[:] = param - lr * param.grad / batch_size


class _ScratchParams:
    """Shows a scratch model's ``params`` (arrays with ``attach_grad``) to the adapter as Gluon-like
    parameters."""

    def collect_params(self, *args: Any, **kwargs: Any) -> Any:
        params = getattr(self.net, "params", None)
        if params is not None and not isinstance(self.net, gluon.Block):
            return ArrayParameters(params)
        return super().collect_params(*args, **kwargs)


_TAB = Tab(
    BACKEND, nn.Block, lambda net, X: net.begin_state(batch_size=X.shape[0], ctx=X.ctx), np.reshape
)
_TAB.BookNet = type(_TAB.BookNet.__name__, (_ScratchParams, _TAB.BookNet), {})
predict_ch8, try_gpu = _TAB.predict_ch8, BACKEND.try_gpu
recorded_perplexities = _TAB.recorded_perplexities


def train_ch8(net: Any, train_iter: Any, vocab: Any, lr: float, num_epochs: int, device: Any = None,
              use_random_iter: bool = False) -> None:
    """d2l 0.x's ``train_ch8`` for the MXNet tab: a Gluon model is (re)initialised first, as the
    book does."""
    if isinstance(net, gluon.Block):
        net.initialize(
            ctx=device or BACKEND.try_gpu(), force_reinit=True, init=mx.init.Normal(0.01)
        )
    _TAB.train_ch8(net, train_iter, vocab, lr, num_epochs, device, use_random_iter)


def grad_clipping(net: gluon.Block | Any, theta: float) -> None:
    """Clip the gradients of ``net`` (a Block, or an object with ``params``) in place to norm
    ``theta``."""
    if isinstance(net, gluon.Block):
        grads = [p.grad() for p in net.collect_params().values() if p.grad_req != "null"]
    else:
        grads = [p.grad for p in net.params]
    clip_in_place(grads, theta, BACKEND.math, assign_slice)


def to(x: np.ndarray, ctx: mx.Context) -> np.ndarray:
    """``x`` on device ``ctx`` (the book's ``d2l.to``)."""
    return x.as_in_context(ctx)


__all__ = [
    "Accumulator", "Animator", "RNNModel", "RNNModelScratch", "Timer", "float32", "grad_clipping",
    "int32", "int64", "load_data_time_machine", "predict_ch8", "recorded_perplexities", "sgd",
    "tensor", "to", "train_ch8", "try_gpu", *tensor_aliases(mx), *TEXT_NAMES,
]
