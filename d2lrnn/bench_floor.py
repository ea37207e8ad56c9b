"""The bare framework floor of the benchmark: BASELINES, not library code paths.

Each function here trains the concise model (the framework's own RNN layer, then a dense output
layer) with nothing of d2lrnn around it: one-hot input, forward, mean cross-entropy, backward,
global-norm clipping and an SGD update, on tensors built once before the first epoch. It is
written directly with the framework, at the compile level the adapter uses (PyTorch eager, MXNet
hybridized, TensorFlow ``tf.function`` over the whole step), so that the benchmark can show how
much the library's own code costs on top of it. Nothing in d2lrnn calls these functions except
:mod:`d2lrnn.bench_worker`; each imports its framework lazily.

Every function takes the same arguments and returns one ``{"tokens", "seconds", "loss"}`` dict
per epoch; ``on_first_batch`` is called once, after the first step has finished computing.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

Batches = Sequence[tuple[np.ndarray, np.ndarray]]
Epoch = dict[str, float]


def floor_torch(batches: Batches, vocab_size: int, num_hiddens: int, lr: float, clip: float, epochs: int,
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


def floor_mxnet(batches: Batches, vocab_size: int, num_hiddens: int, lr: float, clip: float, epochs: int,
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


def floor_tensorflow(batches: Batches, vocab_size: int, num_hiddens: int, lr: float, clip: float, epochs: int,
                     device: str = "cpu", on_first_batch: Callable[[], None] | None = None) -> list[Epoch]:
    """TensorFlow + Keras 3: ``SimpleRNN`` + ``Dense``; one ``tf.function`` holds forward, tape,
    ``clip_by_global_norm`` and the ``assign_sub`` updates."""
    import keras
    import tensorflow as tf

    batch_size = batches[0][0].shape[0]
    rnn = keras.layers.SimpleRNN(num_hiddens, return_sequences=True, return_state=True, unroll=True)  # as the adapter
    dense = keras.layers.Dense(vocab_size)
    zeros = tf.zeros((batch_size, num_hiddens))
    dense(rnn(tf.zeros((batch_size, 1, vocab_size)), initial_state=zeros)[0])  # build the weights
    variables = [*rnn.trainable_variables, *dense.trainable_variables]

    @tf.function
    def step(X: Any, Y: Any, state: Any) -> Any:
        with tf.GradientTape() as tape:
            outputs, state = rnn(tf.one_hot(X, vocab_size), initial_state=state)
            logits = dense(outputs)
            loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(Y, logits))
        grads = tape.gradient(loss, variables)
        if clip > 0:
            grads, _ = tf.clip_by_global_norm(grads, clip)
        for var, grad in zip(variables, grads):
            var.assign_sub(lr * grad)
        return loss, state

    data = [(tf.constant(X), tf.constant(Y)) for X, Y in batches]
    out: list[Epoch] = []
    for _ in range(epochs):
        state, total = zeros, None
        start = time.perf_counter()
        for X, Y in data:
            loss, state = step(X, Y, state)
            total = loss if total is None else total + loss
            if on_first_batch is not None:
                float(loss)
                on_first_batch()
                on_first_batch = None
        mean = float(total) / len(data)
        out.append({"tokens": sum(int(Y.size) for _, Y in batches), "seconds": time.perf_counter() - start,
                    "loss": mean})
    return out


FLOORS: dict[str, Callable[..., list[Epoch]]] = {
    "torch": floor_torch,
    "mxnet": floor_mxnet,
    "tensorflow": floor_tensorflow,
}
