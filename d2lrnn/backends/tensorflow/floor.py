"""The benchmark's bare TensorFlow floor: the concise model trained with nothing of d2lrnn around it.

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
