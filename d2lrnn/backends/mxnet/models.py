"""MXNet models (Gluon, NumPy style): ``gluon.rnn.RNN`` (concise) and a from-scratch RNN."""

from __future__ import annotations

from typing import Any

import mxnet as mx
import numpy as onp
from mxnet import autograd, gluon, np, npx
from mxnet.gluon import nn, rnn

from ...model import ModelMixin, canonical_names

npx.set_np()


def _as_array(state: Any) -> Any:
    """The state as one array, whether it comes bare or as Gluon's one-element list."""
    return state[0] if isinstance(state, (list, tuple)) else state


def _like(state: Any, new: Any) -> Any:
    """``new`` in the form (bare array or list) the caller passed ``state`` in."""
    return [new] if isinstance(state, (list, tuple)) else new


def is_deferred(param: gluon.Parameter) -> bool:
    """Whether Gluon still waits for a first forward pass to learn this parameter's shape."""
    try:
        param.data()
    except gluon.parameter.DeferredInitializationError:
        return True
    return False


def build_deferred(model: gluon.Block) -> None:
    """Finish Gluon's deferred initialisation by running the model on a one-token batch."""
    pending = [p for p in model.collect_params().values() if is_deferred(p)]
    if pending:
        with autograd.pause():
            model(np.zeros((1, 1), dtype="int64", ctx=pending[0].list_ctx()[0]))


class RNNScratch(ModelMixin, gluon.HybridBlock):
    """An RNN written with array operations, with d2l's ``RNNScratch`` interface.

    ``forward(X, state=None)`` takes token indices ``(batch, num_steps)`` and returns time-major
    logits ``(num_steps, batch, num_outputs)`` and the state ``(num_layers, batch, num_hiddens)``
    (or ``[state]`` when the state came in as a list, Gluon's form). Subclasses override
    ``init_params``, ``forward`` and ``init_state``. The model is hybridized: ``hybrid_forward``
    runs as one compiled graph (unrolled over the time steps, rebuilt when their number changes).
    """

    _unrolled = True  # the graph depends on num_steps
    _num_steps: int | None = None  # the number the current graph was built for

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.hybridize(static_alloc=True, static_shape=True)

    def init_params(self) -> None:
        normal, H = mx.init.Normal(self.sigma), self.num_hiddens
        for layer in range(self.num_layers):
            n = self.num_inputs if layer == 0 else H
            self._param(f"W_xh{layer}", (n, H), normal)
            self._param(f"W_hh{layer}", (H, H), normal)
            self._param(f"b_h{layer}", (H,), "zeros")
        self._param("W_hq", (H, self.num_outputs), normal)
        self._param("b_q", (self.num_outputs,), "zeros")
        self.initialize()

    def _param(self, name: str, shape: tuple[int, ...], init: Any) -> None:
        setattr(self, name, self.params.get(name, shape=shape, init=init))  # registered for hybrid_forward

    def init_state(self, X: np.ndarray) -> np.ndarray:
        return np.zeros((self.num_layers, X.shape[0], self.num_hiddens), ctx=X.ctx)

    def forward(self, X: np.ndarray, state: Any = None) -> tuple[np.ndarray, Any]:
        if state is None:
            state = self.init_state(X)
        if self._unrolled and X.shape[1] != self._num_steps:
            self._num_steps = X.shape[1]
            self._clear_cached_op()
        logits, new = super().forward(X, _as_array(state))
        return logits, _like(state, new)

    def hybrid_forward(self, F: Any, X: Any, state: Any, **p: Any) -> tuple[Any, Any]:
        # np.split is slow in MXNet 1.9 (7 ms for a (35, 32, 256) array): split only the token ids,
        # gather each step's input rows, and keep per-step lists until the output layer
        H, L = self.num_hiddens, self.num_layers
        hidden = [state] if L == 1 else F.np.split(state, L)
        token_steps = F.np.split(F.np.transpose(X), self._num_steps)  # num_steps arrays (1, batch)
        inputs = [F.np.take(p["W_xh0"], x_t, axis=0) for x_t in token_steps]  # one-hot row times W_xh: a gather
        for layer in range(L):
            # npx's oneDNN kernels (weights (out, in)) beat np.dot by 1.5x and np.tanh by 5x
            W_hh_t = F.np.transpose(p[f"W_hh{layer}"])
            W_xh_t = F.np.transpose(p[f"W_xh{layer}"]) if layer > 0 else None
            h, outputs = hidden[layer], []
            for x_t in inputs:
                if layer > 0:
                    x_t = F.npx.fully_connected(x_t, W_xh_t, no_bias=True, num_hidden=H, flatten=False)
                hW = F.npx.fully_connected(h, W_hh_t, p[f"b_h{layer}"], num_hidden=H, flatten=False)
                h = F.npx.activation(x_t + hW, act_type="tanh")
                outputs.append(h)
            hidden[layer], inputs = h, outputs
        logits = F.np.dot(F.np.concatenate(inputs), p["W_hq"]) + p["b_q"]
        return logits, hidden[0] if L == 1 else F.np.concatenate(hidden)

    def _canonical_params(self) -> dict[str, gluon.Parameter]:
        return {name: getattr(self, name.replace(".", "")) for name in canonical_names(self.num_layers)}

    # primitives of the core's weight mapping (d2lrnn.model)
    backend_name = "mxnet"
    _rnn_layer_type, _out_in = rnn.RNN, True

    def _layer_params(self, layer: int) -> dict[str, gluon.Parameter]:
        return _rnn_layer_params(self, layer)

    def _dense_params(self) -> tuple[gluon.Parameter, gluon.Parameter]:
        return self.linear.weight, self.linear.bias

    def _read(self, param: gluon.Parameter) -> onp.ndarray:
        return param.data().asnumpy()

    def _write(self, param: gluon.Parameter, value: onp.ndarray) -> None:
        param.set_data(np.array(value))

    def _build_weights(self) -> None:
        build_deferred(self)


class RNN(RNNScratch):
    """The concise model: ``gluon.rnn.RNN`` followed by a dense output layer, hybridized."""

    kind = "concise"

    _unrolled = False

    def init_params(self) -> None:
        # tanh like the other backends and the book's equations (Gluon's default activation is relu)
        self.rnn = rnn.RNN(self.num_hiddens, num_layers=self.num_layers, activation="tanh", input_size=self.num_inputs)
        self.linear = nn.Dense(self.num_outputs, flatten=False, in_units=self.num_hiddens)
        self.initialize()
        # One recurrent bias per layer, as in the equations and Keras: Gluon's second one (h2h) is
        # zero and frozen, so every backend trains the same model (see docs/backends.md).
        for layer in range(self.num_layers):
            bias = _rnn_layer_params(self, layer)["b_hh"]
            bias.set_data(np.zeros(bias.shape))
            bias.grad_req = "null"

    def hybrid_forward(self, F: Any, X: Any, state: Any) -> tuple[Any, Any]:
        embs = F.npx.one_hot(F.np.transpose(X), self.num_inputs)
        Y, new = self.rnn(embs, [state])
        return self.linear(Y), new[0]


def _rnn_layer_params(model: Any, layer: int) -> dict[str, gluon.Parameter]:
    """One layer's parameters of ``model.rnn`` (a Gluon RNN) under the core's names."""
    names = {"W_ih": "i2h_weight", "W_hh": "h2h_weight", "b_ih": "i2h_bias", "b_hh": "h2h_bias"}
    return {key: getattr(model.rnn, f"l{layer}_{name}") for key, name in names.items()}
