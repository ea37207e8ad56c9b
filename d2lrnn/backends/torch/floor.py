"""The benchmark's bare PyTorch floor: the concise model trained with nothing of d2lrnn around it.

A baseline, not a library code path: only :mod:`d2lrnn.bench.worker` calls it. It takes the same
arguments as every backend's floor and returns one ``{"tokens", "seconds", "loss"}`` dict per epoch;
``on_first_batch`` is called once, after the first step has finished computing.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from ..floor import Batches, Epoch


def train_floor(batches: Batches, vocab_size: int, num_hiddens: int, lr: float, clip: float, epochs: int,
                device: str = "cpu", on_first_batch: Callable[[], None] | None = None) -> list[Epoch]:
    """PyTorch eager: ``nn.RNN`` + ``nn.Linear``, ``clip_grad_norm_`` and ``optim.SGD`` (foreach)."""
    import torch
    from torch import nn
    from torch.nn import functional as F

    dev = torch.device("cuda" if device == "gpu" else "cpu")
    rnn, linear = nn.RNN(vocab_size, num_hiddens).to(dev), nn.Linear(num_hiddens, vocab_size).to(dev)
    params = [*rnn.parameters(), *linear.parameters()]
    opt = torch.optim.SGD(params, lr=lr, foreach=True)
    data = [(torch.from_numpy(X).to(dev), torch.from_numpy(Y).to(dev)) for X, Y in batches]
    sync = torch.cuda.synchronize if dev.type == "cuda" else (lambda: None)
    out: list[Epoch] = []
    for _ in range(epochs):
        state = torch.zeros((1, data[0][0].shape[0], num_hiddens), device=dev)
        total: Any = 0.0
        start = time.perf_counter()
        for X, Y in data:
            outputs, state = rnn(F.one_hot(X.T, vocab_size).to(torch.float32), state.detach())
            loss = F.cross_entropy(linear(outputs).reshape(-1, vocab_size), Y.T.reshape(-1))
            opt.zero_grad(set_to_none=True)
            loss.backward()
            if clip > 0:
                nn.utils.clip_grad_norm_(params, clip, foreach=True)
            opt.step()
            total = total + loss.detach()
            if on_first_batch is not None:
                sync()
                on_first_batch()
                on_first_batch = None
        mean = float(total) / len(data)  # the epoch's only synchronisation, as in the Trainer
        out.append({"tokens": sum(int(Y.numel()) for _, Y in data), "seconds": time.perf_counter() - start,
                    "loss": mean})
    return out
