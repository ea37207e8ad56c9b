"""The adapter contract: the primitives a framework supplies to the backend-neutral core.

The core (data, training loop, clipping, perplexity, prediction, checkpoints) is written once
against this class. An adapter implements tensors, devices, the model classes, gradients, the
SGD update and optional compilation, and nothing else.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from ..errors import BackendError
from ..metrics import ArrayMath

Tensor = Any
State = Any


class Backend:
    """Base class of the adapters; every method here is a framework primitive."""

    name: str = ""
    #: the concise model class (framework RNN layer) and the from-scratch one
    RNN: type
    RNNScratch: type
    #: whether :meth:`set_threads` works while training (threads ``auto`` then follows the free
    #: cores)
    runtime_threads: bool = False

    # --- tensors and devices -------------------------------------------------------------
    def tensor(self, array: np.ndarray, device: Any = None) -> Tensor:
        """Turn a NumPy array into a framework tensor on ``device``."""
        raise NotImplementedError

    def to_numpy(self, tensor: Tensor) -> np.ndarray:
        raise NotImplementedError

    def to_float(self, tensor: Tensor) -> float:
        """Read a scalar tensor on the host (a synchronisation point)."""
        return float(self.to_numpy(tensor))

    def cpu(self) -> Any:
        raise NotImplementedError

    def num_gpus(self) -> int:
        return 0

    def set_threads(self, threads: int) -> None:
        """Use ``threads`` CPU threads from now on, where the framework allows (its variables cover
        the rest)."""

    def gpu(self, i: int = 0) -> Any:
        raise NotImplementedError

    def try_gpu(self, i: int = 0) -> Any:
        """The ``i``-th GPU if there is one, else the CPU (the book's helper)."""
        return self.gpu(i) if self.num_gpus() > i else self.cpu()

    def device(self, kind: str = "auto") -> Any:
        """``'cpu'``, ``'gpu'`` (an error without one) or ``'auto'`` (:meth:`try_gpu`)."""
        if kind == "cpu":
            return self.cpu()
        if kind == "gpu":
            if self.num_gpus() == 0:
                raise BackendError(
                    f"A GPU was requested, but {self.name} sees none on this machine. "
                    "Use {device:cpu}, or {device:auto} to take a GPU only when there is one.",
                    settings=["device"],
                )
            return self.gpu()
        if kind == "auto":
            return self.try_gpu()
        raise BackendError(f"Unknown device {kind!r}; use auto, cpu or gpu.")

    def synchronize(self) -> None:
        """Wait until queued device work is done (for timing; asynchronous frameworks override it).
        """

    def device_name(self, device: Any) -> str:
        return str(device)

    def seed(self, seed: int) -> None:
        """Seed the framework's own random generators (weight initialisation)."""

    #: the array operations the core's clipping is written with (see
    #: :class:`d2lrnn.metrics.ArrayMath`)
    math: ArrayMath

    # --- models --------------------------------------------------------------------------
    def to_device(self, model: Any, device: Any) -> Any:
        """Place the model's parameters on ``device``; return the model."""
        return model

    def model_device(self, model: Any) -> Any:
        """The device ``model``'s parameters live on (None: the framework's default placement)."""
        return None

    def parameters(self, model: Any, sample: Tensor | None = None) -> list[Any]:
        """The trainable parameters (``sample`` is a batch for frameworks that build lazily)."""
        raise NotImplementedError

    def is_model(self, model: Any) -> bool:
        """Whether ``model`` is an object of this framework (its classes come from the framework's
        modules)."""
        from . import REGISTRY

        roots = {cls.__module__.split(".")[0] for cls in type(model).__mro__}
        return bool(roots & set(REGISTRY[self.name].module_roots))

    # --- training primitives ------------------------------------------------------------------
    def forward(self, model: Any, X: Tensor, state: State) -> tuple[Tensor, State]:
        """Run the model; return time-major logits ``(num_steps, batch, vocab)`` and the state."""
        return model(X, state)

    def loss(self, model: Any, X: Tensor, Y: Tensor, state: State) -> tuple[Tensor, State]:
        """Mean token cross-entropy of one batch without recording gradients."""
        raise NotImplementedError

    def loss_and_grads(
        self, model: Any, params: list[Any], X: Tensor, Y: Tensor, state: State
    ) -> tuple[Tensor, list[Tensor], State]:
        """Mean token cross-entropy of one batch, its gradients w.r.t. ``params``, and the state."""
        raise NotImplementedError

    def sgd_update(self, params: list[Any], grads: list[Tensor], lr: float) -> None:
        """``param -= lr * grad`` in place for every parameter."""
        raise NotImplementedError

    def detach(self, state: State) -> State:
        """Cut the state (a tensor, or a list/tuple of them, e.g. an LSTM's) from the graph of its
        batch."""
        if state is None:
            return None
        if isinstance(state, (list, tuple)):
            return type(state)(self.detach(s) for s in state)
        return self.detach_tensor(state)

    def detach_tensor(self, tensor: Tensor) -> Tensor:
        """One tensor without its autograd history (frameworks that record no tape keep it as it
        is)."""
        return tensor

    def compile_step(self, step: Callable[..., Any]) -> Callable[..., Any]:
        """Optionally compile a training step (``tf.function`` and the like)."""
        return step
