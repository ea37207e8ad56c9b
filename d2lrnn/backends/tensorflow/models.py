"""TensorFlow models: ``keras.layers.RNN(SimpleRNNCell)`` (concise) and a from-scratch RNN.

Works with the Keras that ``tf.keras`` resolves to: Keras 3 by default, tf-keras (Keras 2)
when ``TF_USE_LEGACY_KERAS=1`` was set before TensorFlow was imported. Models are batch-major
inside (Keras 3 has no ``time_major``) and return time-major logits like every other backend.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import tensorflow as tf

from ...model import ModelMixin

keras = tf.keras
#: unroll the recurrence of the concise model: ~0-20% faster than a while loop in a compiled step
UNROLL = True


class RNNScratch(ModelMixin, keras.layers.Layer):
    """An RNN written with tensor operations, with d2l's ``RNNScratch`` interface.

    ``forward(X, state=None)`` (also ``model(X, state)``) takes token indices
    ``(batch, num_steps)`` and returns time-major logits ``(num_steps, batch, num_outputs)`` and
    the state ``(num_layers, batch, num_hiddens)``. Subclasses override ``init_params``,
    ``forward`` and ``init_state``.
    """

    def call(self, X: tf.Tensor, state: Any = None) -> tuple[tf.Tensor, Any]:
        """Keras entry point: ``model(X, state)`` runs :meth:`forward`."""
        return self.forward(X, state)

    def init_params(self) -> None:
        def weight(name: str, shape: tuple[int, ...], init: Any = None) -> Any:
            # a fresh initializer per weight: tf-keras repeats the values of a reused unseeded one
            init = init or keras.initializers.RandomNormal(stddev=self.sigma)
            return self.add_weight(name=name, shape=shape, initializer=init, trainable=True)

        sizes = [self.num_inputs] + [self.num_hiddens] * (self.num_layers - 1)
        H = self.num_hiddens
        self.W_xh = [weight(f"W_xh_{i}", (n, H)) for i, n in enumerate(sizes)]
        self.W_hh = [weight(f"W_hh_{i}", (H, H)) for i in range(self.num_layers)]
        self.b_h = [weight(f"b_h_{i}", (H,), "zeros") for i in range(self.num_layers)]
        self.W_hq = weight("W_hq", (H, self.num_outputs))
        self.b_q = weight("b_q", (self.num_outputs,), "zeros")

    def init_state(self, X: tf.Tensor) -> tf.Tensor:
        return tf.zeros((self.num_layers, tf.shape(X)[0], self.num_hiddens))

    def forward(self, X: tf.Tensor, state: Any = None) -> tuple[tf.Tensor, tf.Tensor]:
        if state is None:
            state = self.init_state(X)
        num_steps = X.shape[1]
        # a one-hot row times W_xh is a row of W_xh: gather it, time-major
        inputs = tf.gather(self.W_xh[0], tf.transpose(X)) + self.b_h[0]
        steps = tf.unstack(inputs, num=num_steps)
        hidden = tf.unstack(state, num=self.num_layers)
        for layer in range(self.num_layers):
            if layer > 0:
                steps = tf.split(tf.matmul(tf.concat(steps, 0), self.W_xh[layer]) + self.b_h[layer], num_steps)
            h, outputs = hidden[layer], []
            for x_t in steps:
                h = tf.tanh(x_t + tf.matmul(h, self.W_hh[layer]))
                outputs.append(h)
            hidden[layer], steps = h, outputs
        logits = tf.matmul(tf.concat(steps, 0), self.W_hq) + self.b_q
        return tf.reshape(logits, (num_steps, -1, self.num_outputs)), tf.stack(hidden)

    # primitives of the core's weight mapping (d2lrnn.model)
    backend_name = "tensorflow"
    _rnn_layer_type, _out_in = keras.layers.RNN, False

    def _layer_params(self, layer: int) -> dict[str, Any]:
        cell = _cells(self.rnn)[layer]
        return {"W_ih": cell.kernel, "W_hh": cell.recurrent_kernel, "b_ih": cell.bias}

    def _dense_params(self) -> tuple[Any, Any]:
        return self.linear.kernel, self.linear.bias

    def _read(self, param: Any) -> np.ndarray:
        return np.asarray(param.numpy())

    def _write(self, param: Any, value: np.ndarray) -> None:
        param.assign(value)


def _cells(rnn: Any) -> list[Any]:
    """The ``SimpleRNNCell`` of each layer of a ``keras.layers.RNN``."""
    return list(getattr(rnn.cell, "cells", [rnn.cell]))


class RNN(RNNScratch):
    """The concise model: ``keras.layers.RNN(SimpleRNNCell)`` followed by a ``Dense`` output layer."""

    kind = "concise"

    def init_params(self) -> None:
        cells = [keras.layers.SimpleRNNCell(self.num_hiddens) for _ in range(self.num_layers)]
        self.rnn = keras.layers.RNN(cells if self.num_layers > 1 else cells[0], return_sequences=True,
                                    return_state=True, unroll=UNROLL)
        self.linear = keras.layers.Dense(self.num_outputs)
        # build now, so that the weights exist (and get/set_weights work) before the first batch
        self.rnn(tf.zeros((1, 1, self.num_inputs)))
        self.linear(tf.zeros((1, self.num_hiddens)))

    def forward(self, X: tf.Tensor, state: Any = None) -> tuple[tf.Tensor, tf.Tensor]:
        if state is None:
            state = self.init_state(X)
        embs = tf.one_hot(X, self.num_inputs)  # batch-major (batch, num_steps, vocab)
        Y, *state = self.rnn(embs, initial_state=tf.unstack(state, num=self.num_layers))
        return tf.transpose(self.linear(Y), (1, 0, 2)), tf.stack(state)
