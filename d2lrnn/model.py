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


def concise_to_canonical(layers: list[dict[str, np.ndarray]], dense: tuple[np.ndarray, np.ndarray],
                         out_in: bool) -> dict[str, np.ndarray]:
    """Canonical weights from a framework's recurrent layer and dense output layer.

    ``layers[l]`` holds ``W_ih``, ``W_hh``, ``b_ih`` and, in cuDNN-style layers, a second recurrent
    bias ``b_hh``; the two biases fold into one ``b_h``. ``out_in`` says the framework keeps
    matrices as ``(outputs, inputs)`` (PyTorch, Gluon), which the canonical layout transposes.
    """
    orient = (lambda w: w.T) if out_in else (lambda w: w)
    out: dict[str, np.ndarray] = {}
    for layer, p in enumerate(layers):
        out[f"W_xh.{layer}"], out[f"W_hh.{layer}"] = orient(p["W_ih"]), orient(p["W_hh"])
        out[f"b_h.{layer}"] = p["b_ih"] + p["b_hh"] if "b_hh" in p else p["b_ih"]
    out["W_hq"], out["b_q"] = orient(dense[0]), dense[1]
    return out


def canonical_to_concise(weights: dict[str, np.ndarray], num_layers: int, out_in: bool,
                         second_bias: bool) -> tuple[list[dict[str, np.ndarray]], tuple[np.ndarray, np.ndarray]]:
    """The inverse of :func:`concise_to_canonical`: the bias goes to ``b_ih``, a second one (if any) is zero."""
    orient = (lambda w: np.ascontiguousarray(w.T)) if out_in else (lambda w: w)
    layers = []
    for layer in range(num_layers):
        p = {"W_ih": orient(weights[f"W_xh.{layer}"]), "W_hh": orient(weights[f"W_hh.{layer}"]),
             "b_ih": weights[f"b_h.{layer}"]}
        if second_bias:
            p["b_hh"] = np.zeros_like(p["b_ih"])
        layers.append(p)
    return layers, (orient(weights["W_hq"]), weights["b_q"])


class ModelMixin:
    """Hyperparameters and prediction shared by the models of every adapter.

    An adapter's ``RNNScratch`` inherits from this class first and from the framework's module
    class second. The constructor, shared by every adapter, initialises the module, checks and
    stores ``num_inputs``, ``num_outputs``, ``num_hiddens``, ``lr`` and ``num_layers``, then calls
    ``init_params()``, as d2l's ``RNNScratch`` does.
    """

    #: "scratch" for tensor-level models, "concise" for the framework-layer ones
    kind: str = "scratch"
    #: the registry name of the adapter that made the class (how the core finds a model's backend)
    backend_name: str = ""
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

    # --- weight layouts: the scratch one (canonical parameters) and the concise one (a framework layer) ---
    def _concise_layout(self) -> bool:
        """Whether the model keeps its weights in a framework RNN layer ``self.rnn`` and a dense ``self.linear``."""
        return isinstance(getattr(self, "rnn", None), self._rnn_layer_type) and hasattr(self, "linear")

    def _export_weights(self) -> dict[str, Any]:
        if self._concise_layout():
            self._build_weights()
            layers = [{k: self._read(p) for k, p in self._layer_params(layer).items()} for layer in range(self.num_layers)]
            return concise_to_canonical(layers, tuple(self._read(p) for p in self._dense_params()), self._out_in)
        return {k: self._read(p) for k, p in self._canonical_params().items()}

    def _import_weights(self, weights: dict[str, np.ndarray]) -> None:
        if self._concise_layout():
            self._build_weights()
            targets = [self._layer_params(layer) for layer in range(self.num_layers)]
            layers, dense = canonical_to_concise(weights, self.num_layers, self._out_in, "b_hh" in targets[0])
            for target, values in zip(targets, layers):
                for key, param in target.items():
                    self._write(param, values[key])
            for param, value in zip(self._dense_params(), dense):
                self._write(param, value)
            return
        for k, p in self._canonical_params().items():
            self._write(p, weights[k])

    # --- primitives each adapter's model classes supply -----------------------------------------
    #: the framework's recurrent layer class (``torch.nn.RNN``, ...), recognised as the concise layout
    _rnn_layer_type: type | tuple[type, ...] = ()
    #: whether that layer and the dense layer keep matrices as (outputs, inputs)
    _out_in: bool = False

    def _layer_params(self, layer: int) -> dict[str, Any]:
        """The parameter objects of one layer of ``self.rnn``: ``W_ih``, ``W_hh``, ``b_ih`` (and ``b_hh``)."""
        raise NotImplementedError

    def _dense_params(self) -> tuple[Any, Any]:
        """The output layer's weight and bias parameter objects."""
        raise NotImplementedError

    def _read(self, param: Any) -> np.ndarray:
        """A parameter's value as a NumPy array."""
        raise NotImplementedError

    def _write(self, param: Any, value: np.ndarray) -> None:
        """Set a parameter's value in place."""
        raise NotImplementedError

    def _build_weights(self) -> None:
        """Create weights a framework builds lazily (nothing to do for most)."""

    def predict(self, prefix: str, num_preds: int, vocab: Vocab, device: Any = None, **kwargs: Any) -> str:
        """Continue ``prefix`` by ``num_preds`` tokens (see :func:`d2lrnn.predict.predict`)."""
        from .predict import predict

        return predict(self, prefix, num_preds, vocab, device, **kwargs)
