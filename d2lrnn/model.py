"""What every d2lrnn model adds to its framework's module class, whatever the framework."""

from __future__ import annotations

from typing import Any

import numpy as np

from . import checks
from .cells import DEFAULT_CELL, canonical_shapes, get_cell, reorder_gates
from .errors import CheckpointError
from .predict import predict
from .vocab import Vocab


def canonical_names(num_layers: int, cell: str = DEFAULT_CELL) -> list[str]:
    """Weight names shared by every backend: per layer the cell's names (``W_xh.l``, ``W_hh.l``,
    ``b_h.l`` for
    the RNN, see :mod:`d2lrnn.cells`); then ``W_hq``, ``b_q``."""
    return list(canonical_shapes(1, 1, 1, num_layers, cell))


def concise_to_canonical(layers: list[dict[str, np.ndarray]], dense: tuple[np.ndarray, np.ndarray],
                         out_in: bool, cell: str = DEFAULT_CELL,
                         gate_order: tuple[str, ...] | None = None) -> dict[str, np.ndarray]:
    """Canonical weights from a framework's recurrent layer and dense output layer.

    ``layers[l]`` holds ``W_ih``, ``W_hh`` and the biases the framework has, ``b_ih`` and/or
    ``b_hh``,
    with the gates stacked in ``gate_order`` (default: the canonical one). A cell without a
    recurrent bias in the canonical form (RNN, LSTM) folds the two into one. ``out_in`` says the
    framework keeps matrices as ``(outputs, inputs)`` (PyTorch, Gluon), which the canonical layout
    transposes.
    """
    spec = get_cell(cell)
    order = gate_order or spec.gates
    orient = (lambda w: w.T) if out_in else (lambda w: w)

    def gates(a: np.ndarray) -> np.ndarray:
        return reorder_gates(a, order, spec.gates)

    out: dict[str, np.ndarray] = {}
    for layer, p in enumerate(layers):
        out[f"{spec.input_weight}.{layer}"] = gates(orient(p["W_ih"]))
        out[f"{spec.recurrent_weight}.{layer}"] = gates(orient(p["W_hh"]))
        biases = [p[k] for k in ("b_ih", "b_hh") if k in p]
        if spec.recurrent_bias:
            out[f"{spec.input_bias}.{layer}"], out[f"{spec.recurrent_bias}.{layer}"] = (
                gates(p["b_ih"]),
                gates(p["b_hh"]),
            )
        else:
            out[f"{spec.input_bias}.{layer}"] = gates(sum(biases[1:], biases[0]))
    out["W_hq"], out["b_q"] = orient(dense[0]), dense[1]
    return out


def canonical_to_concise(weights: dict[str, np.ndarray], num_layers: int, out_in: bool,
                         biases: tuple[str, ...] = ("b_ih",), cell: str = DEFAULT_CELL,
                         gate_order: tuple[str, ...] | None = None,
                         ) -> tuple[list[dict[str, np.ndarray]], tuple[np.ndarray, np.ndarray]]:
    """The inverse of :func:`concise_to_canonical` for a layer with the bias parameters ``biases``.

    A canonical cell with one bias gives it to the first of ``biases``; the other (if any) is zero.
    """
    spec = get_cell(cell)
    order = gate_order or spec.gates
    orient = (lambda w: np.ascontiguousarray(w.T)) if out_in else (lambda w: w)

    def gates(a: np.ndarray) -> np.ndarray:
        return reorder_gates(a, spec.gates, order)

    layers = []
    for layer in range(num_layers):
        p = {"W_ih": orient(gates(weights[f"{spec.input_weight}.{layer}"])),
             "W_hh": orient(gates(weights[f"{spec.recurrent_weight}.{layer}"]))}
        bias = gates(weights[f"{spec.input_bias}.{layer}"])
        if spec.recurrent_bias:
            p["b_ih"], p["b_hh"] = bias, gates(weights[f"{spec.recurrent_bias}.{layer}"])
        else:
            p.update(
                {name: bias if i == 0 else np.zeros_like(bias) for i, name in enumerate(biases)}
            )
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

    #: the recurrent cell's registry name (see :mod:`d2lrnn.cells`)
    cell_name: str = DEFAULT_CELL

    def __init__(
        self,
        num_inputs: int,
        num_outputs: int | None = None,
        num_hiddens: int = 256,
        lr: float = 1.0,
        num_layers: int = 1,
        sigma: float = 0.01,
        cell: str = DEFAULT_CELL,
    ) -> None:
        super().__init__()  # the framework's module class comes next in the MRO
        self._store_hparams(num_inputs, num_outputs, num_hiddens, lr, num_layers)
        self.cell_name = get_cell(cell).name  # not self.cell: the book's models use that name
        self.sigma = sigma
        self.init_params()

    def init_params(self) -> None:
        raise NotImplementedError

    def _store_hparams(
        self, num_inputs: int, num_outputs: int | None, num_hiddens: int, lr: float, num_layers: int
    ) -> None:
        self.num_inputs = checks.positive_int("num_inputs", num_inputs)
        self.num_hiddens = checks.positive_int("num_hiddens", num_hiddens)
        self.num_outputs = checks.positive_int(
            "num_outputs", num_outputs if num_outputs is not None else num_inputs
        )
        self.lr = checks.positive_float("lr", lr)
        self.num_layers = checks.positive_int("num_layers", num_layers)

    @property
    def hparams(self) -> dict[str, Any]:
        """The numeric constructor arguments; with ``kind`` and ``cell_name``, enough to rebuild the
        model anywhere."""
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
        expected = canonical_shapes(
            self.num_inputs, self.num_outputs, self.num_hiddens, self.num_layers, self.cell_name
        )
        missing = sorted(set(expected) - set(weights))
        extra = sorted(set(weights) - set(expected))
        wrong = sorted(
            k for k in expected if k in weights and tuple(np.shape(weights[k])) != expected[k]
        )
        if missing or extra or wrong:
            details = "; ".join(
                part
                for part in (
                    f"missing {', '.join(missing)}" if missing else "",
                    f"unexpected {', '.join(extra)}" if extra else "",
                    ", ".join(
                        f"{k} is {tuple(np.shape(weights[k]))} but the model needs {expected[k]}"
                        for k in wrong
                    ),
                )
                if part
            )
            raise CheckpointError(
                f"These weights do not fit a {self.cell_name.upper()} model with {self.num_inputs} "
                "inputs, "
                f"{self.num_hiddens} hidden units, {self.num_layers} layer(s) and "
                f"{self.num_outputs} outputs: {details}."
            )
        self._import_weights({k: np.asarray(weights[k], dtype=np.float32) for k in expected})

    def _canonical_params(self) -> dict[str, Any]:
        """A scratch model's parameter objects by canonical name (one per-layer list per name of the
        cell)."""
        try:
            params = {
                f"{kind}.{layer}": getattr(self, kind)[layer]
                for layer in range(self.num_layers)
                for kind in get_cell(self.cell_name).layer_names()
            }
            return {**params, "W_hq": self.W_hq, "b_q": self.b_q}
        except (AttributeError, IndexError, TypeError):
            raise CheckpointError(
                f"{type(self).__name__} keeps its weights in attributes of its own, so they have "
                "no portable "
                "form: give it per-layer lists W_xh, W_hh, b_h and W_hq, b_q (the scratch layout), "
                "or a framework "
                "RNN layer as self.rnn with a dense self.linear (the concise layout)."
            ) from None

    # --- weight layouts: the scratch one (canonical parameters) and the concise one (a framework
    # layer) ---
    def _concise_layout(self) -> bool:
        """Whether the model keeps its weights in a framework RNN layer ``self.rnn`` and a dense
        ``self.linear``."""
        return isinstance(getattr(self, "rnn", None), self._rnn_layer_type) and hasattr(
            self, "linear"
        )

    def _export_weights(self) -> dict[str, Any]:
        if self._concise_layout():
            self._build_weights()
            layers = [
                {k: self._read(p) for k, p in self._layer_params(layer).items()}
                for layer in range(self.num_layers)
            ]
            return concise_to_canonical(
                layers,
                tuple(self._read(p) for p in self._dense_params()),
                self._out_in,
                self.cell_name,
                self._gate_order.get(self.cell_name),
            )
        return {k: self._read(p) for k, p in self._canonical_params().items()}

    def _import_weights(self, weights: dict[str, np.ndarray]) -> None:
        if self._concise_layout():
            self._build_weights()
            targets = [self._layer_params(layer) for layer in range(self.num_layers)]
            biases = tuple(k for k in ("b_ih", "b_hh") if k in targets[0])
            layers, dense = canonical_to_concise(
                weights,
                self.num_layers,
                self._out_in,
                biases,
                self.cell_name,
                self._gate_order.get(self.cell_name),
            )
            for target, values in zip(targets, layers):
                for key, param in target.items():
                    self._write(param, values[key])
            for param, value in zip(self._dense_params(), dense):
                self._write(param, value)
            return
        for k, p in self._canonical_params().items():
            self._write(p, weights[k])

    # --- primitives each adapter's model classes supply -----------------------------------------
    #: the framework's recurrent layer class (``torch.nn.RNN``, ...), recognised as the concise
    #: layout
    _rnn_layer_type: type | tuple[type, ...] = ()
    #: whether that layer and the dense layer keep matrices as (outputs, inputs)
    _out_in: bool = False
    #: the framework's gate stacking order per cell, where it differs from the canonical one
    _gate_order: dict[str, tuple[str, ...]] = {}

    def _layer_params(self, layer: int) -> dict[str, Any]:
        """The parameter objects of one layer of ``self.rnn``: ``W_ih``, ``W_hh`` and ``b_ih``
        and/or ``b_hh``."""
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

    def predict(
        self, prefix: str, num_preds: int, vocab: Vocab, device: Any = None, **kwargs: Any
    ) -> str:
        """Continue ``prefix`` by ``num_preds`` tokens (see :func:`d2lrnn.predict.predict`)."""
        return predict(self, prefix, num_preds, vocab, device, **kwargs)
