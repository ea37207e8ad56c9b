"""d2l 0.x's PyTorch tab: ``from d2lrnn.v0 import torch as d2l``.

``load_data_time_machine``, ``RNNModel``, ``RNNModelScratch``, ``predict_ch8``, ``train_ch8``,
``grad_clipping``, ``sgd``, ``try_gpu``, ``Timer``, ``Accumulator``, ``Animator``, the text names
of :mod:`d2lrnn.book.v0.text` and the tensor aliases. All of them run on the library's core.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn
from torch.nn import functional as F

from ...backends.torch import BACKEND
from ...data import load_data_time_machine as _load_numpy
from ...timing import Timer
from ..aliases import tensor_aliases
from . import Accumulator, Animator, Tab, clip_in_place, tensor_loader
from .text import NAMES as TEXT_NAMES
from .text import scratch_arguments, text_names

globals().update(tensor_aliases(torch))  # d2l.reshape, d2l.zeros, ...
# d2l.read_time_machine, d2l.Vocab, d2l.seq_data_iter_random, ...
globals().update(text_names(torch.from_numpy))
load_data_time_machine = tensor_loader(_load_numpy, torch.from_numpy)
tensor = torch.tensor

float32 = torch.float32
int32 = torch.int32
int64 = torch.int64


class RNNModel(nn.Module):
    """A ``torch.nn`` recurrent layer (RNN, GRU or LSTM) under one-hot inputs and a linear output.

    ``forward(inputs, state)`` takes token indices ``(batch, num_steps)`` and returns logits
    flattened to ``(num_steps * batch, vocab_size)`` and the new state. A bidirectional layer
    feeds ``2 * hidden_size`` features to the output layer; an LSTM's state is the tuple ``(H, C)``.
    """

    def __init__(self, rnn_layer: nn.RNNBase, vocab_size: int, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.rnn, self.vocab_size = rnn_layer, vocab_size
        self.num_hiddens = rnn_layer.hidden_size
        self.num_directions = 2 if rnn_layer.bidirectional else 1
        self.linear = nn.Linear(self.num_directions * self.num_hiddens, vocab_size)

    def forward(self, inputs: torch.Tensor, state: Any) -> tuple[torch.Tensor, Any]:
        embs = F.one_hot(inputs.T.long(), self.vocab_size).to(torch.float32)
        Y, state = self.rnn(embs, state)
        return self.linear(Y.reshape(-1, Y.shape[-1])), state

    def begin_state(
        self, device: Any, batch_size: int = 1
    ) -> torch.Tensor | tuple[torch.Tensor, torch.Tensor]:
        """Zeros of shape ``(num_directions * num_layers, batch_size, num_hiddens)``; ``(H, C)`` for
        an LSTM."""
        shape = (self.num_directions * self.rnn.num_layers, batch_size, self.num_hiddens)
        if isinstance(self.rnn, nn.LSTM):
            return torch.zeros(shape, device=device), torch.zeros(shape, device=device)
        return torch.zeros(shape, device=device)


class RNNModelScratch:
    """d2l 0.x's from-scratch model: parameters from ``get_params``, state from ``init_state``, step
    ``forward_fn``.

    ``net(X, state)`` one-hot encodes ``X`` (token indices ``(batch, num_steps)``) time-major and
    returns ``forward_fn``'s flattened logits and state; ``params`` is the parameter list.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        a = scratch_arguments("torch", args, kwargs)
        self.vocab_size, self.num_hiddens = a["vocab_size"], a["num_hiddens"]
        self.params = a["get_params"](self.vocab_size, self.num_hiddens, a["device"])
        self.init_state, self.forward_fn = a["init_state"], a["forward_fn"]

    def __call__(self, X: torch.Tensor, state: Any) -> Any:
        return self.forward_fn(
            F.one_hot(X.T.long(), self.vocab_size).type(torch.float32), state, self.params
        )

    def begin_state(self, batch_size: int, device: Any) -> Any:
        return self.init_state(batch_size, self.num_hiddens, device)


def sgd(params: list[torch.Tensor], lr: float, batch_size: int) -> None:
    """Minibatch SGD in place: ``param -= lr * grad / batch_size``, then zero the gradients."""
    with torch.no_grad():
        for param in params:
            param -= lr * param.grad / batch_size
            param.grad.zero_()


class _ScratchParams:
    """Shows a model's plain ``params`` list (d2l 0.x scratch models) to the core as its parameters.
    """

    def parameters(self, recurse: bool = True) -> Any:
        params = getattr(self.net, "params", None)
        return (
            iter(params)
            if params is not None and not isinstance(self.net, nn.Module)
            else super().parameters(recurse)
        )


_TAB = Tab(
    BACKEND,
    nn.Module,
    lambda net, X: net.begin_state(batch_size=X.shape[0], device=X.device),
    torch.reshape,
)
_TAB.BookNet = type(_TAB.BookNet.__name__, (_ScratchParams, _TAB.BookNet), {})
predict_ch8 = _TAB.predict_ch8
train_ch8 = _TAB.train_ch8
try_gpu = BACKEND.try_gpu
recorded_perplexities = _TAB.recorded_perplexities


def grad_clipping(net: nn.Module | Any, theta: float) -> None:
    """Clip the gradients of ``net`` (a module, or an object with ``params``) in place to norm
    ``theta``."""
    params = net.parameters() if isinstance(net, nn.Module) else net.params
    grads = [p.grad for p in params if p.requires_grad and p.grad is not None]
    with torch.no_grad():
        clip_in_place(grads, theta, BACKEND.math, torch.Tensor.copy_)


def to(x: torch.Tensor, *args: Any, **kwargs: Any) -> torch.Tensor:
    """``x.to(...)``, the book's device/dtype move."""
    return x.to(*args, **kwargs)


__all__ = [
    "Accumulator", "Animator", "RNNModel", "RNNModelScratch", "Timer", "float32", "grad_clipping",
    "int32", "int64", "load_data_time_machine", "predict_ch8", "recorded_perplexities", "sgd",
    "tensor", "to", "train_ch8", "try_gpu", *tensor_aliases(torch), *TEXT_NAMES,
]
