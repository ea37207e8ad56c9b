"""MXNet models (Gluon, NumPy style): ``gluon.rnn.RNN``/``GRU``/``LSTM`` (concise) and the
from-scratch model of every cell."""

from __future__ import annotations

from typing import Any

import mxnet as mx
import numpy as onp
from mxnet import autograd, gluon, np, npx
from mxnet.gluon import nn, rnn

from ...cells import Ops, get_cell, scratch_forward
from ...model import ModelMixin, canonical_names

npx.set_np()

#: the cells' primitives in MXNet's NumPy front end, run eagerly (the hybridized scratch model takes
#: the same ones from ``F``); the benchmark's roofline times ``OPS.matmul``
OPS = Ops(np.dot, npx.sigmoid, np.tanh, lambda a, n: np.split(a, n, axis=-1))


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


class Model(ModelMixin, gluon.HybridBlock):
    """What the concise and the scratch model share: the state forms, hybridization and the
    weight-mapping primitives.

    The state comes and goes as Gluon's list or as bare arrays, in the form the caller passed:
    an array ``(num_layers, batch, num_hiddens)`` (or ``[state]``), and for an LSTM ``(h, c)`` (or
    ``[h, c]``).
    """

    backend_name = "mxnet"
    _rnn_layer_type, _out_in = (rnn.RNN, rnn.GRU, rnn.LSTM), True
    _unrolled = True  # the graph depends on num_steps
    _num_steps: int | None = None  # the number the current graph was built for

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.hybridize(static_alloc=True, static_shape=True)

    def init_state(self, X: np.ndarray) -> Any:
        parts = [np.zeros((self.num_layers, X.shape[0], self.num_hiddens), ctx=X.ctx)
                 for _ in get_cell(self.cell_name).state_parts]
        return tuple(parts) if len(parts) > 1 else parts[0]

    def forward(self, X: np.ndarray, state: Any = None) -> tuple[np.ndarray, Any]:
        if state is None:
            state = self.init_state(X)
        if self._unrolled and X.shape[1] != self._num_steps:
            self._num_steps = X.shape[1]
            self._clear_cached_op()
        if len(get_cell(self.cell_name).state_parts) > 1:
            logits, *new = super().forward(X, *state)
            return logits, type(state)(new)
        logits, new = super().forward(X, _as_array(state))
        return logits, _like(state, new)

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


class RNNScratch(Model):
    """A recurrent model written with array operations, with d2l's ``RNNScratch`` interface.

    ``forward(X, state=None)`` takes token indices ``(batch, num_steps)`` and returns time-major
    logits ``(num_steps, batch, num_outputs)`` and the state ``(num_layers, batch, num_hiddens)``
    (a pair ``(h, c)`` for an LSTM; see :class:`Model` for the list forms). Subclasses override
    ``init_params``, ``forward`` and ``init_state``. The model is hybridized: ``hybrid_forward``
    runs as one compiled graph (unrolled over the time steps, rebuilt when their number changes).
    The gated cells run the cell's equations (:mod:`d2lrnn.cells`); the vanilla RNN has a tuned
    graph of its own.
    """

    def init_params(self) -> None:
        normal, spec = mx.init.Normal(self.sigma), get_cell(self.cell_name)
        for layer in range(self.num_layers):
            n = self.num_inputs if layer == 0 else self.num_hiddens
            for name, shape in spec.layer_shapes(n, self.num_hiddens).items():
                self._param(f"{name}{layer}", shape, "zeros" if name.startswith("b") else normal)
        self._param("W_hq", (self.num_hiddens, self.num_outputs), normal)
        self._param("b_q", (self.num_outputs,), "zeros")
        self.initialize()

    def _param(self, name: str, shape: tuple[int, ...], init: Any) -> None:
        # registered for hybrid_forward
        setattr(self, name, self.params.get(name, shape=shape, init=init))

    def hybrid_forward(self, F: Any, X: Any, *state: Any, **p: Any) -> tuple[Any, ...]:
        if self.cell_name != "rnn":
            return self._gated_forward(F, X, state, p)
        # np.split is slow in MXNet 1.9 (7 ms for a (35, 32, 256) array): split only the token ids,
        # gather each step's input rows, and keep per-step lists until the output layer
        H = self.num_hiddens
        L = self.num_layers
        state = state[0]
        hidden = [state] if L == 1 else F.np.split(state, L)
        token_steps = F.np.split(F.np.transpose(X), self._num_steps)  # num_steps arrays (1, batch)
        # one-hot row times W_xh: a gather
        inputs = [F.np.take(p["W_xh0"], x_t, axis=0) for x_t in token_steps]
        for layer in range(L):
            # npx's oneDNN kernels (weights (out, in)) beat np.dot by 1.5x and np.tanh by 5x
            W_hh_t = F.np.transpose(p[f"W_hh{layer}"])
            W_xh_t = F.np.transpose(p[f"W_xh{layer}"]) if layer > 0 else None
            h, outputs = hidden[layer], []
            for x_t in inputs:
                if layer > 0:
                    x_t = F.npx.fully_connected(
                        x_t, W_xh_t, no_bias=True, num_hidden=H, flatten=False
                    )
                hW = F.npx.fully_connected(h, W_hh_t, p[f"b_h{layer}"], num_hidden=H, flatten=False)
                h = F.npx.activation(x_t + hW, act_type="tanh")
                outputs.append(h)
            hidden[layer], inputs = h, outputs
        logits = F.np.dot(F.np.concatenate(inputs), p["W_hq"]) + p["b_q"]
        return logits, hidden[0] if L == 1 else F.np.concatenate(hidden)

    def _gated_forward(
        self, F: Any, X: Any, state: tuple[Any, ...], p: dict[str, Any]
    ) -> tuple[Any, ...]:
        spec = get_cell(self.cell_name)
        L = self.num_layers
        T = self._num_steps
        ops = Ops(F.np.dot, F.npx.sigmoid, F.np.tanh, lambda a, n: F.np.split(a, n, axis=-1))
        params: dict[str, Any] = {
            name: [p[f"{name}{layer}"] for layer in range(L)] for name in spec.layer_names()
        }
        params["W_hq"], params["b_q"] = p["W_hq"], p["b_q"]
        # per part, per layer (1, B, H)
        parts = [[s] if L == 1 else F.np.split(s, L) for s in state]
        parts = [[F.np.squeeze(x, axis=0) for x in part] for part in parts]
        token_steps = F.np.split(F.np.transpose(X), T)  # (1, batch) each
        xp0 = [
            F.np.take(params[spec.input_weight][0], F.np.squeeze(x_t, axis=0), axis=0)
            + params[spec.input_bias][0]
            for x_t in token_steps
        ]

        def loop(step: Any, s: Any, xp: Any, output: Any, stack: Any) -> tuple[Any, Any]:
            steps = (
                xp if isinstance(xp, list) else [F.np.squeeze(x, axis=0) for x in F.np.split(xp, T)]
            )
            outputs = []
            for xp_t in steps:
                s = step(s, xp_t)
                outputs.append(output(s))
            return s, stack(outputs)

        def stack(arrays: list[Any]) -> Any:
            return F.np.stack(arrays)

        logits, new = scratch_forward(
            self.cell_name,
            ops,
            params,
            xp0,
            tuple(parts) if len(parts) > 1 else parts[0],
            stack,
            loop,
        )
        return (logits, *new) if len(parts) > 1 else (logits, new)

    def _canonical_params(self) -> dict[str, gluon.Parameter]:
        return {
            name: getattr(self, name.replace(".", ""))
            for name in canonical_names(self.num_layers, self.cell_name)
        }


class RNN(Model):
    """The concise model: ``gluon.rnn.RNN``, ``GRU`` or ``LSTM`` followed by a dense output layer,
    hybridized."""

    kind = "concise"
    _unrolled = False

    def init_params(self) -> None:
        if self.cell_name == "rnn":
            # tanh like the other backends and the book's equations (Gluon's default activation is
            # relu)
            self.rnn = rnn.RNN(self.num_hiddens, num_layers=self.num_layers, activation="tanh",
                               input_size=self.num_inputs)
        else:
            layer = {"gru": rnn.GRU, "lstm": rnn.LSTM}[self.cell_name]
            self.rnn = layer(
                self.num_hiddens, num_layers=self.num_layers, input_size=self.num_inputs
            )
        self.linear = nn.Dense(self.num_outputs, flatten=False, in_units=self.num_hiddens)
        self.initialize()
        if not get_cell(self.cell_name).recurrent_bias:
            # One bias per layer, as in the canonical weights and Keras: Gluon's second one (h2h) is
            # zero and frozen, so every backend trains the same model (see docs/backends.md).
            for layer in range(self.num_layers):
                bias = _rnn_layer_params(self, layer)["b_hh"]
                bias.set_data(np.zeros(bias.shape))
                bias.grad_req = "null"

    def hybrid_forward(self, F: Any, X: Any, *state: Any) -> tuple[Any, ...]:
        embs = F.npx.one_hot(F.np.transpose(X), self.num_inputs)
        Y, new = self.rnn(embs, list(state))
        return (self.linear(Y), *new)


def _rnn_layer_params(model: Any, layer: int) -> dict[str, gluon.Parameter]:
    """One layer's parameters of ``model.rnn`` (a Gluon RNN) under the core's names."""
    names = {"W_ih": "i2h_weight", "W_hh": "h2h_weight", "b_ih": "i2h_bias", "b_hh": "h2h_bias"}
    return {key: getattr(model.rnn, f"l{layer}_{name}") for key, name in names.items()}
