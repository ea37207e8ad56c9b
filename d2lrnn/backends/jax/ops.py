"""JAX primitives for the core: arrays, devices, gradients, the SGD update, ``jax.jit``.

JAX is functional, the core's training step is not: it updates parameters in place. The models keep
their weights in :class:`~.params.Param` boxes, and :meth:`JaxBackend.compile_step` turns the core's
step into a pure function of the parameter values (:func:`~.params.pure`) that ``jax.jit`` compiles
whole, the core's gradient clipping included. Its first call runs eagerly and records which boxes
the step trains.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import optax

from ...metrics import ArrayMath
from ..base import Backend
from .models import KEYS, RNN, FlaxLayer, Module, RNNScratch
from .params import Param, pure


def _cross_entropy(logits: jax.Array, Y: jax.Array) -> jax.Array:
    """Mean token cross-entropy of time-major logits against batch-major labels."""
    return optax.softmax_cross_entropy_with_integer_labels(logits, Y.T).mean()


def _loss(model: Any, X: jax.Array, Y: jax.Array, state: Any) -> tuple[jax.Array, Any]:
    logits, state = model(X, state)
    return _cross_entropy(logits, Y), state


#: a lever, off: hand the parameters' buffers to the compiled step, which may write the new values
#: into
#: them. Off because no quiet measurement has shown a gain yet, and an interrupt (a notebook's stop
#: button) between the step and the write-back would leave the model holding deleted arrays.
DONATE = False


class JaxBackend(Backend):
    name = "jax"
    math = ArrayMath(jnp.sum, jnp.sqrt, jnp.maximum)
    RNN = RNN
    RNNScratch = RNNScratch
    #: wraps a Flax ``nnx`` layer so its weights become d2lrnn parameters (for subclasses built from
    #: Flax layers)
    FlaxLayer = FlaxLayer

    def __init__(self) -> None:
        self._recording: list[Param] | None = None

    # --- arrays and devices -----------------------------------------------------------------
    def tensor(self, array: np.ndarray, device: Any = None) -> jax.Array:
        return jax.device_put(np.asarray(array), device)

    def to_numpy(self, tensor: jax.Array) -> np.ndarray:
        return np.asarray(tensor)

    def cpu(self) -> Any:
        # this process's own (several processes: jax.distributed)
        return jax.local_devices(backend="cpu")[0]

    def num_gpus(self) -> int:
        try:
            return len(jax.devices("gpu"))
        except RuntimeError:  # JAX raises when no GPU platform is present
            return 0

    def gpu(self, i: int = 0) -> Any:
        return jax.local_devices(backend="gpu")[i]

    def device_name(self, device: Any) -> str:
        return f"{device.platform}:{device.id}" if hasattr(device, "platform") else str(device)

    def seed(self, seed: int) -> None:
        KEYS.reset(seed)

    # --- models -------------------------------------------------------------------------------
    def to_device(self, model: Module, device: Any) -> Module:
        for param in model.parameters():
            param.value = jax.device_put(param.value, device)
        return model

    def model_device(self, model: Module) -> Any:
        return next((next(iter(p.value.devices())) for p in model.parameters()), None)

    def parameters(self, model: Module, sample: Any = None) -> list[Param]:
        return model.parameters()

    def _compiled(self, model: Module, name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        """``fn(model, *args)`` compiled once per model as a pure function of its parameter values.
        """
        cache = model.__dict__.setdefault("_d2lrnn_compiled", {})
        if name not in cache:
            params = model.parameters()
            run = jax.jit(pure(params, lambda *args: fn(model, *args)))
            cache[name] = lambda *args: run([p.value for p in params], *args)
        return cache[name]

    def forward(self, model: Module, X: jax.Array, state: Any) -> tuple[jax.Array, Any]:
        return self._compiled(model, "forward", lambda m, X, state: m(X, state))(X, state)

    def loss(self, model: Module, X: jax.Array, Y: jax.Array, state: Any) -> tuple[jax.Array, Any]:
        return self._compiled(model, "loss", _loss)(X, Y, state)

    # --- training primitives --------------------------------------------------------------------
    def loss_and_grads(
        self, model: Module, params: list[Param], X: jax.Array, Y: jax.Array, state: Any
    ):
        if self._recording is not None:
            self._recording.extend(p for p in params if p not in self._recording)
        objective = pure(params, lambda: _loss(model, X, Y, state))
        (loss, state), grads = jax.value_and_grad(objective, has_aux=True)(
            [p.value for p in params]
        )
        return loss, grads, state

    def sgd_update(self, params: list[Param], grads: list[jax.Array], lr: float) -> None:
        for param, grad in zip(params, grads, strict=True):
            param.value = param.value - lr * grad

    def compile_step(self, step: Callable[..., Any]) -> Callable[..., Any]:
        """``jax.jit`` over the whole step; the first call runs eagerly and records the parameters
        it trains."""
        compiled: Callable[..., Any] | None = None
        trained: list[Param] = []

        def functional(X: jax.Array, Y: jax.Array, state: Any) -> Any:
            loss, state = step(X, Y, state)
            return loss, state, [p.value for p in trained]

        def run(X: jax.Array, Y: jax.Array, state: Any) -> Any:
            nonlocal compiled
            if compiled is not None:
                loss, state, values = compiled([p.value for p in trained], X, Y, state)
                for param, value in zip(trained, values):
                    param.value = value
                return loss, state
            self._recording = trained
            try:
                result = step(X, Y, state)
            finally:
                self._recording = None
            compiled = jax.jit(pure(trained, functional), donate_argnums=(0,) if DONATE else ())
            _warm(compiled, trained, X, Y, state)
            return result

        return run


def _warm(compiled: Callable[..., Any], trained: list[Param], *args: Any) -> None:
    """Compile ``compiled`` for the first call's arguments now, its result discarded.

    The first batch of an epoch passes no state and the others a carried one: two signatures, each
    compiled on first sight. Without this the second would compile on the second epoch's first
    batch, in the middle of a timed epoch, for seconds at 512 hidden units and more.
    """
    values = [p.value for p in trained]
    if DONATE:  # the call may write into the buffers it is given
        values = [jnp.copy(value) for value in values]
    jax.block_until_ready(compiled(values, *args))
