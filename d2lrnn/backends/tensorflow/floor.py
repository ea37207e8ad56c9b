"""TensorFlow baselines of the benchmark: the bare floor and the book's own code (see
``backends/floor.py``)."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from ..floor import LIBRARY, Batches, Epoch, Lever, Variant, eager, patched, time_epochs

#: the book's (d2l 0.17.6) module for this framework
BOOK_MODULE = "d2l.tensorflow"


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
    """TensorFlow + Keras, as the adapter: ``RNN(SimpleRNNCell, unroll=True)``, ``GRU`` or ``LSTM``
    +
    ``Dense`` on one-hot inputs; one ``tf.function`` holds forward, tape, branch-free clipping and
    the
    ``assign_sub`` updates. ``weights`` (canonical, vanilla RNN only) start it where a test wants.
    """
    import tensorflow as tf

    from ..tensorflow.models import UNROLL, keras

    if weights is not None and cell != "rnn":
        raise ValueError("the floor's starting weights are a vanilla RNN's")
    batch_size = batches[0][0].shape[0]
    if cell == "rnn":
        rnn = keras.layers.RNN(keras.layers.SimpleRNNCell(num_hiddens), return_sequences=True,
                               return_state=True, unroll=UNROLL)
    else:
        layer = {"gru": keras.layers.GRU, "lstm": keras.layers.LSTM}[cell]
        rnn = layer(num_hiddens, return_sequences=True, return_state=True, unroll=UNROLL)
    dense = keras.layers.Dense(vocab_size)
    zeros = [tf.zeros((batch_size, num_hiddens))] * (2 if cell == "lstm" else 1)
    dense(rnn(tf.zeros((1, 1, vocab_size)))[0])  # build the weights
    if weights is not None:
        cell = rnn.cell
        for var, name in (
            (cell.kernel, "W_xh.0"),
            (cell.recurrent_kernel, "W_hh.0"),
            (cell.bias, "b_h.0"),
            (dense.kernel, "W_hq"),
            (dense.bias, "b_q"),
        ):
            var.assign(weights[name])
    variables = [*rnn.trainable_variables, *dense.trainable_variables]

    @tf.function
    def step(X: Any, Y: Any, state: Any) -> Any:
        with tf.GradientTape() as tape:
            outputs, *state = rnn(tf.one_hot(X, vocab_size), initial_state=state)
            logits = tf.transpose(dense(outputs), (1, 0, 2))
            loss = tf.reduce_mean(
                tf.nn.sparse_softmax_cross_entropy_with_logits(tf.transpose(Y), logits)
            )
        grads = tape.gradient(loss, variables)
        if clip > 0:
            norm = tf.sqrt(tf.add_n([tf.reduce_sum(g * g) for g in grads]))
            grads = [g * (clip / tf.maximum(norm, clip)) for g in grads]
        for var, grad in zip(variables, grads):
            var.assign_sub(lr * grad)
        return loss, state

    data = [(tf.constant(X), tf.constant(Y)) for X, Y in batches]

    def epoch() -> tuple[float, int]:
        nonlocal on_first_batch
        state, total = zeros, None
        for X, Y in data:
            loss, state = step(X, Y, state)
            total = loss if total is None else total + loss
            if on_first_batch is not None:
                float(loss)
                on_first_batch()
                on_first_batch = None
        # one host read per epoch
        return float(total) / len(data), sum(int(Y.size) for _, Y in batches)

    return time_epochs(epochs, epoch)


def train_book(d2l: Any, data: Any, num_hiddens: int, lr: float, epochs: int, device: str = "cpu",
               cell: str = "rnn") -> list[Epoch]:
    """The book's concise TensorFlow model (``d2l.RNNModel`` over a time-major Keras 2 ``RNN`` of a
    ``SimpleRNNCell``, ``GRUCell`` or ``LSTMCell``), trained
    eagerly as ``train_ch8`` does, in a ``OneDeviceStrategy`` scope.

    Needs ``tf.keras`` to be Keras 2: the worker sets ``TF_USE_LEGACY_KERAS=1`` for book runs."""
    import tensorflow as tf

    name = "/GPU:0" if device == "gpu" else "/CPU:0"
    strategy = tf.distribute.OneDeviceStrategy(name)
    with strategy.scope():
        kind = {"rnn": "SimpleRNNCell", "gru": "GRUCell", "lstm": "LSTMCell"}[cell]
        unit = getattr(tf.keras.layers, kind)(num_hiddens, kernel_initializer="glorot_uniform")
        layer = tf.keras.layers.RNN(unit, time_major=True, return_sequences=True, return_state=True)
        net = d2l.RNNModel(layer, vocab_size=len(data.vocab))
        loss = tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True)
        updater = tf.keras.optimizers.SGD(lr)

    def epoch() -> tuple[float, int]:
        ppl, _ = d2l.train_epoch_ch8(net, data, loss, updater, False)
        return math.log(ppl), data.tokens

    return time_epochs(epochs, epoch)


def levers(backend: Any) -> list[Lever]:
    """TensorFlow's fast paths: the compiled step, the unrolled recurrence; XLA, which the adapter
    leaves off."""
    import sys

    def flag(name: str, value: bool, module: str) -> Callable[[Any], Any]:
        return lambda b: patched(sys.modules[f"{__package__}.{module}"], name, value)

    return [
        Lever("tf.function step", "RNN", Variant("eager", eager), LIBRARY),
        Lever("tf.function step", "RNNScratch", Variant("eager", eager), LIBRARY),
        Lever(
            "unroll=True", "RNN", Variant("while loop", flag("UNROLL", False, "models")), LIBRARY
        ),
        Lever(
            "XLA jit_compile (off)",
            "RNN",
            Variant("jit_compile", flag("JIT_COMPILE", True, "ops")),
            LIBRARY,
        ),
    ]
