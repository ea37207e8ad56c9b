"""TensorFlow models: the Keras recurrent layers (concise) and the from-scratch model of every cell.

Works with the Keras that ``tf.keras`` resolves to: Keras 3 by default, tf-keras (Keras 2)
when ``TF_USE_LEGACY_KERAS=1`` was set before TensorFlow was imported. Models are batch-major
inside (Keras 3 has no ``time_major``) and return time-major logits like every other backend.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import tensorflow as tf

from ...cells import Ops, get_cell, scratch_forward
from ...model import ModelMixin

keras = tf.keras
#: unroll the recurrence of the concise model: ~0-20% faster than a while loop in a compiled step
UNROLL = True


def _matmul(a: tf.Tensor, b: tf.Tensor) -> tf.Tensor:
    """``a @ b`` for a matrix or a time-major ``(T, B, n)`` stack of them."""
    if len(a.shape) == 3:
        return tf.reshape(
            tf.matmul(tf.reshape(a, (-1, a.shape[-1])), b), (a.shape[0], -1, b.shape[-1])
        )
    return tf.matmul(a, b)


OPS = Ops(_matmul, tf.sigmoid, tf.tanh, lambda a, n: tf.split(a, n, axis=-1))


def _unrolled_loop(
    step: Any, state: Any, xp: tf.Tensor, output: Any, stack: Any
) -> tuple[Any, tf.Tensor]:
    outputs = []
    for xp_t in tf.unstack(xp, num=xp.shape[0]):
        state = step(state, xp_t)
        outputs.append(output(state))
    return state, stack(outputs)


class Model(ModelMixin, keras.layers.Layer):
    """What the concise and the scratch model share: the Keras entry point and the weight-mapping
    primitives."""

    backend_name = "tensorflow"
    _out_in = False
    #: Keras stacks a GRU's gates as update, reset, candidate
    _gate_order = {"gru": ("z", "r", "n")}

    def call(self, X: tf.Tensor, state: Any = None) -> tuple[tf.Tensor, Any]:
        """Keras entry point: ``model(X, state)`` runs :meth:`forward`."""
        return self.forward(X, state)

    def init_state(self, X: tf.Tensor) -> Any:
        """Zeros ``(num_layers, batch, num_hiddens)``; a tuple ``(h, c)`` of them for an LSTM."""
        parts = [tf.zeros((self.num_layers, tf.shape(X)[0], self.num_hiddens))
                 for _ in get_cell(self.cell_name).state_parts]
        return tuple(parts) if len(parts) > 1 else parts[0]

    def _layer_params(self, layer: int) -> dict[str, Any]:
        cell = _cells(self.rnn)[layer]
        params = {"W_ih": cell.kernel, "W_hh": cell.recurrent_kernel}
        # a GRU with reset_after: input and recurrent bias in one variable
        if len(cell.bias.shape) == 2:
            return {**params, "b_ih": (cell.bias, 0), "b_hh": (cell.bias, 1)}
        return {**params, "b_ih": cell.bias}

    def _dense_params(self) -> tuple[Any, Any]:
        return self.linear.kernel, self.linear.bias

    def _read(self, param: Any) -> np.ndarray:
        if isinstance(param, tuple):
            variable, row = param
            return np.asarray(variable.numpy())[row]
        return np.asarray(param.numpy())

    def _write(self, param: Any, value: np.ndarray) -> None:
        if isinstance(param, tuple):
            variable, row = param
            full = np.array(variable.numpy())
            full[row] = value
            variable.assign(full)
            return
        param.assign(value)


class RNNScratch(Model):
    """A recurrent model written with tensor operations, with d2l's ``RNNScratch`` interface.

    ``forward(X, state=None)`` (also ``model(X, state)``) takes token indices
    ``(batch, num_steps)`` and returns time-major logits ``(num_steps, batch, num_outputs)`` and
    the state ``(num_layers, batch, num_hiddens)`` (a tuple ``(h, c)`` for an LSTM). The step
    equations are the cell's (:mod:`d2lrnn.cells`). Subclasses override ``init_params``,
    ``forward`` and ``init_state``.
    """

    def init_params(self) -> None:
        def weight(name: str, shape: tuple[int, ...]) -> Any:
            # a fresh initializer per weight: tf-keras repeats the values of a reused unseeded one
            init = (
                "zeros"
                if name.startswith("b")
                else keras.initializers.RandomNormal(stddev=self.sigma)
            )
            return self.add_weight(name=name, shape=shape, initializer=init, trainable=True)

        spec = get_cell(self.cell_name)
        for name in spec.layer_names():
            setattr(
                self,
                name,
                [
                    weight(
                        f"{name}_{i}",
                        spec.layer_shapes(
                            self.num_inputs if i == 0 else self.num_hiddens, self.num_hiddens
                        )[name],
                    )
                    for i in range(self.num_layers)
                ],
            )
        self.W_hq = weight("W_hq", (self.num_hiddens, self.num_outputs))
        self.b_q = weight("b_q", (self.num_outputs,))

    def forward(self, X: tf.Tensor, state: Any = None) -> tuple[tf.Tensor, Any]:
        if state is None:
            state = self.init_state(X)
        spec = get_cell(self.cell_name)
        params = {name: list(getattr(self, name)) for name in spec.layer_names()}
        params["W_hq"], params["b_q"] = self.W_hq, self.b_q
        # a one-hot row times W_x is a row of W_x: gather it, time-major
        xp0 = tf.gather(params[spec.input_weight][0], tf.transpose(X)) + params[spec.input_bias][0]
        return scratch_forward(self.cell_name, OPS, params, xp0, state, tf.stack, _unrolled_loop)


class LayerStack(keras.layers.Layer):
    """``num_layers`` Keras ``GRU`` or ``LSTM`` layers, one after the other, batch-major."""

    def __init__(self, layer: type, num_hiddens: int, num_layers: int) -> None:
        super().__init__()
        self.stack = [layer(num_hiddens, return_sequences=True, return_state=True, unroll=UNROLL)
                      for _ in range(num_layers)]

    def call(
        self, inputs: tf.Tensor, states: list[list[tf.Tensor]]
    ) -> tuple[tf.Tensor, list[list[tf.Tensor]]]:
        finals = []
        for layer, state in zip(self.stack, states):
            inputs, *final = layer(inputs, initial_state=state)
            finals.append(final)
        return inputs, finals


def _cells(rnn: Any) -> list[Any]:
    """The cell of each layer of a ``keras.layers.RNN`` over stacked cells, or of a
    :class:`LayerStack`."""
    if isinstance(rnn, LayerStack):
        return [layer.cell for layer in rnn.stack]
    return list(getattr(rnn.cell, "cells", [rnn.cell]))


class RNN(Model):
    """The concise model: Keras ``GRU`` or ``LSTM`` layers, or ``RNN(SimpleRNNCell)``, then a
    ``Dense`` layer."""

    kind = "concise"
    _rnn_layer_type = (keras.layers.RNN, LayerStack)

    def init_params(self) -> None:
        if self.cell_name == "rnn":
            cells = [keras.layers.SimpleRNNCell(self.num_hiddens) for _ in range(self.num_layers)]
            self.rnn = keras.layers.RNN(
                cells if self.num_layers > 1 else cells[0],
                return_sequences=True,
                return_state=True,
                unroll=UNROLL,
            )
        else:
            layer = {"gru": keras.layers.GRU, "lstm": keras.layers.LSTM}[self.cell_name]
            self.rnn = LayerStack(layer, self.num_hiddens, self.num_layers)
        self.linear = keras.layers.Dense(self.num_outputs)
        # build now, so that the weights exist (and get/set_weights work) before the first batch
        self.forward(tf.zeros((1, 1), dtype=tf.int32))

    def forward(self, X: tf.Tensor, state: Any = None) -> tuple[tf.Tensor, Any]:
        if state is None:
            state = self.init_state(X)
        embs = tf.one_hot(X, self.num_inputs)  # batch-major (batch, num_steps, vocab)
        L = self.num_layers
        if self.cell_name == "rnn":
            Y, *final = self.rnn(embs, initial_state=tf.unstack(state, num=L))
            return tf.transpose(self.linear(Y), (1, 0, 2)), tf.stack(final)
        parts = state if isinstance(state, tuple) else (state,)
        per_part = [tf.unstack(p, num=L) for p in parts]
        Y, finals = self.rnn(embs, [[p[layer] for p in per_part] for layer in range(L)])
        logits = tf.transpose(self.linear(Y), (1, 0, 2))
        stacked = tuple(tf.stack([f[i] for f in finals]) for i in range(len(parts)))
        return logits, stacked if len(parts) > 1 else stacked[0]
