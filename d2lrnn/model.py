"""What every d2lrnn model adds to its framework's module class, whatever the framework."""

from __future__ import annotations

from typing import Any

import numpy as np

from . import checks
from .errors import CheckpointError
from .vocab import Vocab


def canonical_names(num_layers: int) -> list[str]:
    """Weight names shared by every backend: per layer ``W_xh.l``, ``W_hh.l``, ``b_h.l``; then ``W_hq``, ``b_q``."""
    names = [f"{kind}.{layer}" for layer in range(num_layers) for kind in ("W_xh", "W_hh", "b_h")]
    return [*names, "W_hq", "b_q"]


def canonical_shapes(num_inputs: int, num_outputs: int, num_hiddens: int, num_layers: int) -> dict[str, tuple[int, ...]]:
    """The shape of every canonical weight."""
    shapes: dict[str, tuple[int, ...]] = {}
    for layer in range(num_layers):
        shapes[f"W_xh.{layer}"] = (num_inputs if layer == 0 else num_hiddens, num_hiddens)
        shapes[f"W_hh.{layer}"] = (num_hiddens, num_hiddens)
        shapes[f"b_h.{layer}"] = (num_hiddens,)
    shapes["W_hq"], shapes["b_q"] = (num_hiddens, num_outputs), (num_outputs,)
    return shapes


class ModelMixin:
    """Hyperparameters and prediction shared by the models of every adapter.

    An adapter's ``RNNScratch`` inherits from this class first and from the framework's module
    class second. The constructor, shared by every adapter, initialises the module, checks and
    stores ``num_inputs``, ``num_outputs``, ``num_hiddens``, ``lr`` and ``num_layers``, then calls
    ``init_params()``, as d2l's ``RNNScratch`` does.
    """

    #: "scratch" for tensor-level models, "concise" for the framework-layer ones
    kind: str = "scratch"
    num_inputs: int
    num_outputs: int
    num_hiddens: int
    num_layers: int
    lr: float

    def __init__(self, num_inputs: int, num_outputs: int | None = None, num_hiddens: int = 256, lr: float = 1.0,
                 num_layers: int = 1, sigma: float = 0.01) -> None:
        super().__init__()  # the framework's module class comes next in the MRO
        self._store_hparams(num_inputs, num_outputs, num_hiddens, lr, num_layers)
        self.sigma = sigma
        self.init_params()

    def init_params(self) -> None:
        raise NotImplementedError

    def _store_hparams(self, num_inputs: int, num_outputs: int | None, num_hiddens: int, lr: float, num_layers: int) -> None:
        self.num_inputs = checks.positive_int("num_inputs", num_inputs)
        self.num_hiddens = checks.positive_int("num_hiddens", num_hiddens)
        self.num_outputs = checks.positive_int("num_outputs", num_outputs if num_outputs is not None else num_inputs)
        self.lr = checks.positive_float("lr", lr)
        self.num_layers = checks.positive_int("num_layers", num_layers)

    @property
    def hparams(self) -> dict[str, Any]:
        """The constructor arguments, enough to rebuild the model on any backend."""
        return {
            "num_inputs": self.num_inputs,
            "num_outputs": self.num_outputs,
            "num_hiddens": self.num_hiddens,
            "num_layers": self.num_layers,
            "lr": self.lr,
        }

    def get_weights(self) -> dict[str, np.ndarray]:
        """All weights as float32 NumPy arrays under the canonical names (see ``docs/backends.md``).

        The arrays are copies: training on does not change them.
        """
        return {k: np.array(v, dtype=np.float32) for k, v in self._export_weights().items()}

    def set_weights(self, weights: dict[str, np.ndarray]) -> None:
        """Load canonical weights (from any backend); names and shapes must fit this model."""
        expected = canonical_shapes(self.num_inputs, self.num_outputs, self.num_hiddens, self.num_layers)
        missing = sorted(set(expected) - set(weights))
        extra = sorted(set(weights) - set(expected))
        wrong = sorted(k for k in expected if k in weights and tuple(np.shape(weights[k])) != expected[k])
        if missing or extra or wrong:
            details = "; ".join(
                part
                for part in (
                    f"missing {', '.join(missing)}" if missing else "",
                    f"unexpected {', '.join(extra)}" if extra else "",
                    ", ".join(f"{k} is {tuple(np.shape(weights[k]))} but the model needs {expected[k]}" for k in wrong),
                )
                if part
            )
            raise CheckpointError(
                f"These weights do not fit a model with {self.num_inputs} inputs, {self.num_hiddens} hidden "
                f"units, {self.num_layers} layer(s) and {self.num_outputs} outputs: {details}."
            )
        self._import_weights({k: np.asarray(weights[k], dtype=np.float32) for k in expected})

    def _canonical_params(self) -> dict[str, Any]:
        """A scratch model's parameter objects by canonical name (per-layer lists ``W_xh``, ``W_hh``, ``b_h``)."""
        try:
            params = {f"{kind}.{layer}": getattr(self, kind)[layer]
                      for layer in range(self.num_layers) for kind in ("W_xh", "W_hh", "b_h")}
            return {**params, "W_hq": self.W_hq, "b_q": self.b_q}
        except (AttributeError, IndexError, TypeError):
            raise CheckpointError(
                f"{type(self).__name__} keeps its weights in attributes of its own, so they have no portable "
                "form: give it per-layer lists W_xh, W_hh, b_h and W_hq, b_q (the scratch layout), or a framework "
                "RNN layer as self.rnn with a dense self.linear (the concise layout)."
            ) from None

    def _export_weights(self) -> dict[str, Any]:
        raise NotImplementedError(f"{type(self).__name__} does not export canonical weights")

    def _import_weights(self, weights: dict[str, np.ndarray]) -> None:
        raise NotImplementedError(f"{type(self).__name__} does not import canonical weights")

    def predict(self, prefix: str, num_preds: int, vocab: Vocab, device: Any = None, **kwargs: Any) -> str:
        """Continue ``prefix`` by ``num_preds`` tokens (see :func:`d2lrnn.predict.predict`)."""
        from .predict import predict

        return predict(self, prefix, num_preds, vocab, device, **kwargs)
