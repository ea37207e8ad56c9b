"""TensorFlow adapter: ``keras.layers.RNN(SimpleRNNCell)`` (concise) and a from-scratch RNN.

Works with the Keras that ``tf.keras`` resolves to: Keras 3 by default, tf-keras (Keras 2)
when ``TF_USE_LEGACY_KERAS=1`` was set before TensorFlow was imported. Models are batch-major
inside (Keras 3 has no ``time_major``) and return time-major logits like every other backend.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import tensorflow as tf

from ..model import ModelMixin
from .base import Backend

keras = tf.keras
#: unroll the recurrence of the concise model: ~0-20% faster than a while loop in a compiled step
UNROLL = True
#: compile the training step with XLA; measured about 3x slower than a plain graph on CPU
JIT_COMPILE = False


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

    def _export_weights(self) -> dict[str, Any]:
        if isinstance(getattr(self, "rnn", None), keras.layers.RNN):  # built from Keras layers, like the book's
            return RNN._export_weights(self)
        return {k: np.asarray(v.numpy()) for k, v in self._canonical_params().items()}

    def _import_weights(self, weights: dict[str, np.ndarray]) -> None:
        if isinstance(getattr(self, "rnn", None), keras.layers.RNN):
            return RNN._import_weights(self, weights)
        for k, v in self._canonical_params().items():
            v.assign(weights[k])


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

    def _export_weights(self) -> dict[str, Any]:
        out = {}
        for layer, cell in enumerate(_cells(self.rnn)):
            out[f"W_xh.{layer}"], out[f"W_hh.{layer}"] = cell.kernel.numpy(), cell.recurrent_kernel.numpy()
            out[f"b_h.{layer}"] = cell.bias.numpy()
        out["W_hq"], out["b_q"] = self.linear.kernel.numpy(), self.linear.bias.numpy()
        return out

    def _import_weights(self, weights: dict[str, np.ndarray]) -> None:
        for layer, cell in enumerate(_cells(self.rnn)):
            cell.kernel.assign(weights[f"W_xh.{layer}"])
            cell.recurrent_kernel.assign(weights[f"W_hh.{layer}"])
            cell.bias.assign(weights[f"b_h.{layer}"])
        self.linear.kernel.assign(weights["W_hq"])
        self.linear.bias.assign(weights["b_q"])


def _cross_entropy(logits: tf.Tensor, Y: tf.Tensor) -> tf.Tensor:
    """Mean token cross-entropy of time-major logits against batch-major labels."""
    return tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels=tf.transpose(Y), logits=logits))


@tf.function
def _eval_loss(model: Any, X: tf.Tensor, Y: tf.Tensor, state: Any) -> tuple[tf.Tensor, Any]:
    """Validation loss, compiled once per model (TensorFlow keys the trace on a weak reference)."""
    logits, state = model(X, state)
    return _cross_entropy(logits, Y), state


class TensorFlowBackend(Backend):
    name = "tensorflow"
    module_roots = ("tensorflow", "keras", "tf_keras")
    RNN = RNN
    RNNScratch = RNNScratch

    def tensor(self, array: np.ndarray, device: Any = None) -> tf.Tensor:
        if device is None or "CPU" in str(device).upper():
            return tf.constant(array)  # eager constants live on the host already
        with tf.device(device):
            return tf.identity(tf.constant(array))

    def to_numpy(self, tensor: tf.Tensor) -> np.ndarray:
        return np.asarray(tensor)

    def to_float(self, tensor: tf.Tensor) -> float:
        return float(tensor)

    def cpu(self) -> str:
        return "/CPU:0"

    def num_gpus(self) -> int:
        return len(tf.config.list_physical_devices("GPU"))

    def gpu(self, i: int = 0) -> str:
        return f"/GPU:{i}"

    def seed(self, seed: int) -> None:
        keras.utils.set_random_seed(seed)  # Python, NumPy and TensorFlow: Keras initialisers draw from all

    def sum(self, x: tf.Tensor) -> tf.Tensor:
        return tf.reduce_sum(x)

    def sqrt(self, x: tf.Tensor) -> tf.Tensor:
        return tf.sqrt(x)

    def maximum(self, x: tf.Tensor, y: float) -> tf.Tensor:
        return tf.maximum(x, y)

    def parameters(self, model: Any, sample: Any = None) -> list[Any]:
        if sample is not None:  # build layers a user subclass creates lazily
            model(sample)
        return list(model.trainable_variables)

    def loss(self, model: Any, X: tf.Tensor, Y: tf.Tensor, state: Any) -> tuple[tf.Tensor, Any]:
        return _eval_loss(model, X, Y, state)

    def loss_and_grads(self, model: Any, params: list[Any], X: tf.Tensor, Y: tf.Tensor, state: Any):
        with tf.GradientTape() as tape:
            logits, state = model(X, state)
            loss = _cross_entropy(logits, Y)
        grads = tape.gradient(loss, params, unconnected_gradients=tf.UnconnectedGradients.ZERO)
        return loss, [tf.convert_to_tensor(g) for g in grads], state  # gather gives IndexedSlices: densify

    def sgd_update(self, params: list[Any], grads: list[tf.Tensor], lr: float) -> None:
        for param, grad in zip(params, grads, strict=True):
            param.assign_sub(lr * grad)

    def compile_step(self, step: Callable[..., Any]) -> Callable[..., Any]:
        # exact shapes (no reduce_retracing): RNNScratch unrolls over a static num_steps. Fixed-shape
        # batches trace twice (first state None, then a state); random sampling (always None) once
        return tf.function(step, jit_compile=JIT_COMPILE)


BACKEND = TensorFlowBackend()
