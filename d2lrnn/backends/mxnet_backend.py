"""MXNet adapter (Gluon, NumPy style): ``gluon.rnn.RNN`` (concise) and a from-scratch RNN."""

from __future__ import annotations

from typing import Any

import mxnet as mx
import numpy as onp
from mxnet import autograd, gluon, np, npx
from mxnet.gluon import nn, rnn

from ..model import ModelMixin
from .base import Backend

npx.set_np()


def _as_array(state: Any) -> Any:
    """The state as one array, whether it comes bare or as Gluon's one-element list."""
    return state[0] if isinstance(state, (list, tuple)) else state


def _like(state: Any, new: Any) -> Any:
    """``new`` in the form (bare array or list) the caller passed ``state`` in."""
    return [new] if isinstance(state, (list, tuple)) else new


def _build(model: gluon.Block) -> None:
    """Finish Gluon's deferred initialisation by running the model on a one-token batch."""
    params = list(model.collect_params().values())
    pending = [p for p in params if p._data is None]
    if pending:
        with autograd.pause():
            model(np.zeros((1, 1), dtype="int64", ctx=pending[0].list_ctx()[0]))


class RNNScratch(ModelMixin, gluon.Block):
    """An RNN written with array operations, with d2l's ``RNNScratch`` interface.

    ``forward(X, state=None)`` takes token indices ``(batch, num_steps)`` and returns time-major
    logits ``(num_steps, batch, num_outputs)`` and the state ``(num_layers, batch, num_hiddens)``
    (or ``[state]`` when the state came in as a list, Gluon's form). Subclasses override
    ``init_params``, ``forward`` and ``init_state``.
    """

    def __init__(self, num_inputs: int, num_outputs: int | None = None, num_hiddens: int = 256, lr: float = 1.0,
                 num_layers: int = 1, sigma: float = 0.01) -> None:
        super().__init__()
        self._store_hparams(num_inputs, num_outputs, num_hiddens, lr, num_layers)
        self.sigma = sigma
        self.init_params()

    def init_params(self) -> None:
        normal, H = mx.init.Normal(self.sigma), self.num_hiddens

        def param(name: str, *shape: int, init: Any = normal) -> gluon.Parameter:
            return self.params.get(name, shape=shape, init=init)

        sizes = [self.num_inputs] + [H] * (self.num_layers - 1)
        self.W_xh = [param(f"W_xh{i}", n, H) for i, n in enumerate(sizes)]
        self.W_hh = [param(f"W_hh{i}", H, H) for i in range(self.num_layers)]
        self.b_h = [param(f"b_h{i}", H, init="zeros") for i in range(self.num_layers)]
        self.W_hq = param("W_hq", H, self.num_outputs)
        self.b_q = param("b_q", self.num_outputs, init="zeros")
        self.initialize()

    def init_state(self, X: np.ndarray) -> np.ndarray:
        return np.zeros((self.num_layers, X.shape[0], self.num_hiddens), ctx=X.ctx)

    def forward(self, X: np.ndarray, state: Any = None) -> tuple[np.ndarray, Any]:
        if state is None:
            state = self.init_state(X)
        hidden = list(_as_array(state))
        layer_input = np.take(self.W_xh[0].data(), X.T, axis=0)  # one-hot row times W_xh = a row gather
        for layer in range(self.num_layers):
            if layer > 0:
                layer_input = np.dot(layer_input, self.W_xh[layer].data())
            projected, W_hh = layer_input + self.b_h[layer].data(), self.W_hh[layer].data()
            h, outputs = hidden[layer], []
            for x_t in projected:
                h = np.tanh(x_t + np.dot(h, W_hh))
                outputs.append(h)
            hidden[layer], layer_input = h, np.stack(outputs)
        logits = np.dot(layer_input, self.W_hq.data()) + self.b_q.data()
        return logits, _like(state, np.stack(hidden))

    def _export_weights(self) -> dict[str, Any]:
        out = {}
        for layer in range(self.num_layers):
            out[f"W_xh.{layer}"] = self.W_xh[layer]
            out[f"W_hh.{layer}"] = self.W_hh[layer]
            out[f"b_h.{layer}"] = self.b_h[layer]
        out["W_hq"], out["b_q"] = self.W_hq, self.b_q
        return {k: p.data().asnumpy() for k, p in out.items()}

    def _import_weights(self, weights: dict[str, onp.ndarray]) -> None:
        for layer in range(self.num_layers):
            self.W_xh[layer].set_data(np.array(weights[f"W_xh.{layer}"]))
            self.W_hh[layer].set_data(np.array(weights[f"W_hh.{layer}"]))
            self.b_h[layer].set_data(np.array(weights[f"b_h.{layer}"]))
        self.W_hq.set_data(np.array(weights["W_hq"]))
        self.b_q.set_data(np.array(weights["b_q"]))


class RNN(RNNScratch):
    """The concise model: ``gluon.rnn.RNN`` followed by a dense output layer."""

    def init_params(self) -> None:
        # tanh like the other backends and the book's equations (Gluon's default activation is relu)
        self.rnn = rnn.RNN(self.num_hiddens, num_layers=self.num_layers, activation="tanh", input_size=self.num_inputs)
        self.linear = nn.Dense(self.num_outputs, flatten=False, in_units=self.num_hiddens)
        self.initialize()

    def forward(self, X: np.ndarray, state: Any = None) -> tuple[np.ndarray, Any]:
        if state is None:
            state = self.init_state(X)
        embs = npx.one_hot(X.T, self.num_inputs)
        Y, new = self.rnn(embs, [_as_array(state)])
        return self.linear(Y), _like(state, new[0])

    def _layer_params(self, layer: int) -> dict[str, gluon.Parameter]:
        return {n: getattr(self.rnn, f"l{layer}_{n}") for n in ("i2h_weight", "h2h_weight", "i2h_bias", "h2h_bias")}

    def _export_weights(self) -> dict[str, Any]:
        _build(self)
        out = {}
        for layer in range(self.num_layers):
            p = {n: v.data().asnumpy() for n, v in self._layer_params(layer).items()}
            out[f"W_xh.{layer}"], out[f"W_hh.{layer}"] = p["i2h_weight"].T, p["h2h_weight"].T
            out[f"b_h.{layer}"] = p["i2h_bias"] + p["h2h_bias"]  # two recurrent biases fold into one
        out["W_hq"] = self.linear.weight.data().asnumpy().T
        out["b_q"] = self.linear.bias.data().asnumpy()
        return out

    def _import_weights(self, weights: dict[str, onp.ndarray]) -> None:
        _build(self)
        for layer in range(self.num_layers):
            p = self._layer_params(layer)
            p["i2h_weight"].set_data(np.array(weights[f"W_xh.{layer}"].T))
            p["h2h_weight"].set_data(np.array(weights[f"W_hh.{layer}"].T))
            p["i2h_bias"].set_data(np.array(weights[f"b_h.{layer}"]))
            p["h2h_bias"].set_data(np.zeros(self.num_hiddens))
        self.linear.weight.set_data(np.array(weights["W_hq"].T))
        self.linear.bias.set_data(np.array(weights["b_q"]))


def _detach(state: Any) -> Any:
    if isinstance(state, (tuple, list)):
        return type(state)(_detach(s) for s in state)
    return state.detach()


def _cross_entropy(logits: np.ndarray, Y: np.ndarray) -> np.ndarray:
    """Mean token cross-entropy of time-major ``logits`` against batch-major labels ``Y``."""
    return -npx.pick(npx.log_softmax(logits), Y.T, axis=-1).mean()


class MXNetBackend(Backend):
    name = "mxnet"
    extra = "mxnet"
    module_roots = ("mxnet",)
    RNN = RNN
    RNNScratch = RNNScratch

    def tensor(self, array: onp.ndarray, device: Any = None) -> np.ndarray:
        array = onp.asarray(array)
        return np.array(array, dtype=array.dtype, ctx=device or mx.cpu())

    def to_numpy(self, tensor: np.ndarray) -> onp.ndarray:
        return tensor.asnumpy()

    def to_float(self, tensor: np.ndarray) -> float:
        return float(tensor.item())

    def cpu(self) -> mx.Context:
        return mx.cpu()

    def num_gpus(self) -> int:
        try:
            return mx.context.num_gpus()
        except mx.MXNetError:
            return 0

    def gpu(self, i: int = 0) -> mx.Context:
        return mx.gpu(i)

    def seed(self, seed: int) -> None:
        mx.random.seed(seed)
        onp.random.seed(seed)

    def sqrt(self, x: np.ndarray) -> np.ndarray:
        return np.sqrt(x)

    def maximum(self, x: np.ndarray, y: float) -> np.ndarray:
        return np.maximum(x, y)

    def to_device(self, model: gluon.Block, device: Any) -> gluon.Block:
        model.collect_params().reset_ctx(device)
        return model

    def parameters(self, model: gluon.Block, sample: Any = None) -> list[gluon.Parameter]:
        params = [p for p in model.collect_params().values() if p.grad_req != "null"]
        if sample is not None and any(p._data is None for p in params):
            with autograd.pause():
                model(sample)
        return params

    def loss(self, model: gluon.Block, X: np.ndarray, Y: np.ndarray, state: Any) -> tuple[np.ndarray, Any]:
        with autograd.pause():
            logits, state = model(X, state)
            return _cross_entropy(logits, Y), state

    def loss_and_grads(self, model: gluon.Block, params: list[Any], X: np.ndarray, Y: np.ndarray, state: Any):
        with autograd.record():
            logits, state = model(X, state)
            loss = _cross_entropy(logits, Y)
        loss.backward()
        return loss.detach(), [p.grad() for p in params], state

    def sgd_update(self, params: list[Any], grads: list[np.ndarray], lr: float) -> None:
        for p, g in zip(params, grads, strict=True):
            data = p.data()
            data -= lr * g

    def detach(self, state: Any) -> Any:
        return None if state is None else _detach(state)

    def forward(self, model: gluon.Block, X: np.ndarray, state: Any) -> tuple[np.ndarray, Any]:
        with autograd.pause():
            return model(X, state)


BACKEND = MXNetBackend()
