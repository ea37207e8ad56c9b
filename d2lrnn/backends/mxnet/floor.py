"""The benchmark's bare MXNet floor: the concise model trained with nothing of d2lrnn around it.

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
    """MXNet Gluon, hybridized: ``rnn.RNN`` + ``nn.Dense`` and the loss in one HybridBlock,
    ``clip_global_norm`` (without its host check) and a ``gluon.Trainer`` with SGD."""
    import mxnet as mx
    from mxnet import autograd, gluon
    from mxnet.gluon import nn, rnn

    ctx = mx.gpu() if device == "gpu" else mx.cpu()

    class Step(gluon.HybridBlock):
        def __init__(self) -> None:
            super().__init__()
            self.rnn = rnn.RNN(num_hiddens, activation="tanh")
            self.dense = nn.Dense(vocab_size, flatten=False)
            self.ce = gluon.loss.SoftmaxCrossEntropyLoss()

        def hybrid_forward(self, F: Any, X: Any, Y: Any, state: Any) -> Any:
            outputs, states = self.rnn(F.one_hot(F.transpose(X), vocab_size), [state])
            loss = self.ce(self.dense(outputs), F.transpose(Y)).mean()
            return loss, states[0]

    net = Step()
    net.initialize(ctx=ctx)
    net.hybridize(static_alloc=True, static_shape=True)
    params = [p for p in net.collect_params().values() if p.grad_req != "null"]
    trainer = gluon.Trainer(net.collect_params(), "sgd", {"learning_rate": lr})
    data = [(mx.nd.array(X, ctx=ctx, dtype="int64"), mx.nd.array(Y, ctx=ctx, dtype="int64")) for X, Y in batches]
    out: list[Epoch] = []
    for _ in range(epochs):
        state = mx.nd.zeros((1, batches[0][0].shape[0], num_hiddens), ctx=ctx)
        total: Any = None
        start = time.perf_counter()
        for X, Y in data:
            with autograd.record():
                loss, state = net(X, Y, state.detach())
            loss.backward()
            if clip > 0:
                gluon.utils.clip_global_norm([p.grad(ctx) for p in params], clip, check_isfinite=False)
            trainer.step(1)
            total = loss if total is None else total + loss
            if on_first_batch is not None:
                mx.nd.waitall()
                on_first_batch()
                on_first_batch = None
        mean = float(total.asscalar()) / len(data)
        out.append({"tokens": sum(int(Y.size) for _, Y in batches), "seconds": time.perf_counter() - start,
                    "loss": mean})
    return out
