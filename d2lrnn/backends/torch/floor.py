"""PyTorch baselines of the benchmark: the bare floor and the book's own code (see
``backends/floor.py``)."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from ...model import canonical_to_concise
from ..floor import LIBRARY, Batches, Epoch, Lever, Variant, host_read_lever, time_epochs, unchanged

#: the book's (d2l 0.17.6) module for this framework
BOOK_MODULE = "d2l.torch"


def train_floor(
    batches: Batches,
    vocab_size: int,
    num_hiddens: int,
    lr: float,
    clip: float,
    epochs: int,
    device: str = "cpu",
    on_first_batch: Callable[[], None] | None = None,
    weights: dict[str, np.ndarray] | None = None,
    cell: str = "rnn",
) -> list[Epoch]:
    """Eager PyTorch: ``nn.RNN`` (second bias frozen at zero), ``nn.GRU`` or ``nn.LSTM`` +
    ``nn.Linear``
    on one-hot inputs, ``autograd.grad``, branch-free global-norm clipping and a ``_foreach_add_``
    SGD
    update. ``weights`` (canonical, vanilla RNN only) start it where a test wants."""
    import torch
    from torch import nn
    from torch.nn import functional as F

    from .models import LAYERS

    if weights is not None and cell != "rnn":
        raise ValueError("the floor's starting weights are a vanilla RNN's")
    dev = torch.device("cuda" if device == "gpu" else "cpu")
    rnn, linear = LAYERS[cell](vocab_size, num_hiddens), nn.Linear(num_hiddens, vocab_size)
    if cell == "rnn":
        rnn.bias_hh_l0.requires_grad_(False)
    with torch.no_grad():
        if cell == "rnn":
            rnn.bias_hh_l0.zero_()
        if weights is not None:
            (layer,), (w_out, b_out) = canonical_to_concise(weights, 1, out_in=True)
            for param, value in (
                (rnn.weight_ih_l0, layer["W_ih"]),
                (rnn.weight_hh_l0, layer["W_hh"]),
                (rnn.bias_ih_l0, layer["b_ih"]),
                (linear.weight, w_out),
                (linear.bias, b_out),
            ):
                param.copy_(torch.from_numpy(np.ascontiguousarray(value)))
    rnn, linear = rnn.to(dev), linear.to(dev)
    params = [p for p in (*rnn.parameters(), *linear.parameters()) if p.requires_grad]
    data = [(torch.from_numpy(X).to(dev), torch.from_numpy(Y).to(dev)) for X, Y in batches]
    sync = torch.cuda.synchronize if dev.type == "cuda" else (lambda: None)
    def epoch() -> tuple[float, int]:
        nonlocal on_first_batch
        zeros = torch.zeros((1, data[0][0].shape[0], num_hiddens), device=dev)
        state: Any = (zeros, zeros.clone()) if cell == "lstm" else zeros
        total: Any = 0.0
        for X, Y in data:
            state = tuple(s.detach() for s in state) if cell == "lstm" else state.detach()
            outputs, state = rnn(F.one_hot(X.T, vocab_size).to(torch.float32), state)
            loss = F.cross_entropy(linear(outputs).reshape(-1, vocab_size), Y.T.reshape(-1))
            grads = torch.autograd.grad(loss, params)
            if clip > 0:
                norm = torch.sqrt(sum((g * g).sum() for g in grads))
                grads = torch._foreach_mul(grads, clip / torch.clamp_min(norm, clip))
            with torch.no_grad():
                torch._foreach_add_(params, grads, alpha=-lr)
            total = total + loss.detach()
            if on_first_batch is not None:
                sync()
                on_first_batch()
                on_first_batch = None
        # one host read per epoch
        return float(total) / len(data), sum(int(Y.numel()) for _, Y in data)

    return time_epochs(epochs, epoch)


def train_book(d2l: Any, data: Any, num_hiddens: int, lr: float, epochs: int, device: str = "cpu",
               cell: str = "rnn") -> list[Epoch]:
    """The book's concise PyTorch model (``d2l.RNNModel`` over ``nn.RNN``, ``nn.GRU`` or
    ``nn.LSTM``), trained
    as ``train_ch8`` does."""
    import torch
    from torch import nn

    dev = torch.device("cuda" if device == "gpu" else "cpu")
    layer = {"rnn": nn.RNN, "gru": nn.GRU, "lstm": nn.LSTM}[cell]
    net = d2l.RNNModel(layer(len(data.vocab), num_hiddens), vocab_size=len(data.vocab)).to(dev)
    loss, updater = nn.CrossEntropyLoss(), torch.optim.SGD(net.parameters(), lr)

    def epoch() -> tuple[float, int]:
        ppl, _ = d2l.train_epoch_ch8(net, data, loss, updater, dev, False)
        return math.log(ppl), data.tokens

    return time_epochs(epochs, epoch)


def levers(backend: Any) -> list[Lever]:
    """PyTorch's fast paths: one host read per epoch; a row gather instead of the one-hot product.
    """
    import torch
    from torch.nn import functional as F

    class OneHotScratch(backend.RNNScratch):
        """The scratch model with the textbook one-hot matrix product instead of a row gather."""

        def forward(self, X: Any, state: Any = None) -> Any:
            if state is None:
                state = self.init_state(X)
            inputs = F.one_hot(X.T, self.num_inputs).to(torch.float32) @ self.W_xh[0] + self.b_h[0]
            h, outputs = state[0], []
            for x_t in inputs:
                h = torch.tanh(x_t + h @ self.W_hh[0])
                outputs.append(h)
            return torch.stack(outputs) @ self.W_hq + self.b_q, h.unsqueeze(0)

    return [
        host_read_lever(),
        Lever(
            "row gather instead of one-hot matmul",
            "RNNScratch",
            Variant("one-hot matmul", unchanged, OneHotScratch),
            LIBRARY,
        ),
    ]
