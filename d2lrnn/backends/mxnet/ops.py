"""MXNet primitives for the core (Gluon with NumPy-style arrays; devices are ``mx.Context``
objects)."""

from __future__ import annotations

from typing import Any

import mxnet as mx
import numpy as onp
from mxnet import autograd, gluon, np, npx

from ...metrics import ArrayMath
from ..base import Backend
from .models import RNN, RNNScratch, build_deferred, is_deferred


def _cross_entropy(logits: np.ndarray, Y: np.ndarray) -> np.ndarray:
    """Mean token cross-entropy of time-major ``logits`` against batch-major labels ``Y``."""
    return -npx.pick(npx.log_softmax(logits), Y.T, axis=-1).mean()


class MXNetBackend(Backend):
    """Gluon with NumPy-style arrays (``npx.set_np()``); devices are ``mx.Context`` objects."""

    name = "mxnet"
    math = ArrayMath(np.sum, np.sqrt, np.maximum)
    RNN = RNN
    RNNScratch = RNNScratch

    def tensor(self, array: onp.ndarray, device: Any = None) -> np.ndarray:
        array = onp.asarray(array)
        return np.array(array, dtype=array.dtype, ctx=device or mx.cpu())

    def to_numpy(self, tensor: np.ndarray) -> onp.ndarray:
        return tensor.asnumpy()

    def cpu(self) -> mx.Context:
        return mx.cpu()

    def num_gpus(self) -> int:
        try:
            return mx.context.num_gpus()
        except mx.MXNetError:
            return 0

    def gpu(self, i: int = 0) -> mx.Context:
        return mx.gpu(i)

    def synchronize(self) -> None:
        mx.nd.waitall()

    def seed(self, seed: int) -> None:
        mx.random.seed(seed)
        onp.random.seed(seed)


    def model_device(self, model: gluon.Block) -> Any:
        for param in model.collect_params().values():
            return param.list_ctx()[0]
        return None

    def to_device(self, model: gluon.Block, device: Any) -> gluon.Block:
        model.collect_params().reset_ctx(device)
        return model

    def parameters(self, model: gluon.Block, sample: Any = None) -> list[gluon.Parameter]:
        params = [p for p in model.collect_params().values() if p.grad_req != "null"]
        if sample is None:
            build_deferred(model)
        elif any(is_deferred(p) for p in params):
            with autograd.pause():
                model(sample)
        return params

    def loss(
        self, model: gluon.Block, X: np.ndarray, Y: np.ndarray, state: Any
    ) -> tuple[np.ndarray, Any]:
        with autograd.pause():
            logits, state = model(X, state)
            return _cross_entropy(logits, Y), state

    def loss_and_grads(self, model: gluon.Block, params: list[Any], X: np.ndarray, Y: np.ndarray,
                       state: Any) -> tuple[np.ndarray, list[np.ndarray], Any]:
        with autograd.record():
            logits, state = model(X, state)
            loss = _cross_entropy(logits, Y)
        loss.backward()
        return loss.detach(), [p.grad() for p in params], state

    def sgd_update(self, params: list[Any], grads: list[np.ndarray], lr: float) -> None:
        for p, g in zip(params, grads, strict=True):
            data = p.data()
            data -= lr * g

    def detach_tensor(self, tensor: np.ndarray) -> np.ndarray:
        return tensor.detach()

    def forward(self, model: gluon.Block, X: np.ndarray, state: Any) -> tuple[np.ndarray, Any]:
        with autograd.pause():
            return model(X, state)

