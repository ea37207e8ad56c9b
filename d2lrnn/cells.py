"""The recurrent cells d2lrnn trains (vanilla RNN, GRU, LSTM), each defined once, without a
framework.

A :class:`Cell` says everything the core and the adapters need to know about a cell: its canonical
weights (names, shapes, gate order, which biases exist), its state (an LSTM's is ``(h, c)``), its
parameter count, and its step equations. The equations are written once against a small set of array
operations (:class:`Ops`), so the same code is the NumPy reference of the tests and the from-scratch
model of every adapter.

Canonical weights of layer ``l`` (matrices are ``(inputs, outputs)``; gates are stacked along the
outputs in the cell's ``gates`` order):

- ``rnn``: ``W_xh.l`` ``(n, H)``, ``W_hh.l`` ``(H, H)``, ``b_h.l`` ``(H,)``;
  ``h' = tanh(x W_xh + b_h + h W_hh)``.
- ``gru`` (gates ``r, z, n``): ``W_x.l`` ``(n, 3H)``, ``W_h.l`` ``(H, 3H)``, ``b_x.l`` and ``b_h.l``
``(3H,)``;
  ``r = σ(x W_xr + b_xr + h W_hr + b_hr)``, ``z`` likewise, ``n = tanh(x W_xn + b_xn + r ⊙ (h W_hn +
  b_hn))``,
  ``h' = (1 - z) ⊙ n + z ⊙ h``. Both biases are kept: the reset gate multiplies the recurrent one.
- ``lstm`` (gates ``i, f, g, o``): ``W_x.l`` ``(n, 4H)``, ``W_h.l`` ``(H, 4H)``, ``b.l`` ``(4H,)``;
  ``c' = σ(f) ⊙ c + σ(i) ⊙ tanh(g)``, ``h' = σ(o) ⊙ tanh(c')``. One bias: two would only add up.

Every model ends with ``W_hq`` ``(H, V)`` and ``b_q`` ``(V,)``. ``n`` is the vocabulary size for the
first layer and ``H`` above it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from .errors import D2LRNNError


@dataclass(frozen=True)
class Ops:
    """The array operations a cell's step is written with; each adapter supplies its framework's."""

    matmul: Callable[[Any, Any], Any]
    sigmoid: Callable[[Any], Any]
    tanh: Callable[[Any], Any]
    #: ``split(a, n)``: ``n`` equal parts along the last axis
    split: Callable[[Any, int], Any]


def _sigmoid(a: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * a))  # no overflow warning for large |a|


NUMPY_OPS = Ops(np.matmul, _sigmoid, np.tanh, lambda a, n: np.split(a, n, axis=-1))


def _rnn_step(ops: Ops, xp: Any, state: Any, W_h: Any, b_h: Any) -> Any:
    return ops.tanh(xp + ops.matmul(state, W_h))


def _gru_step(ops: Ops, xp: Any, state: Any, W_h: Any, b_h: Any) -> Any:
    xr, xz, xn = ops.split(xp, 3)
    hr, hz, hn = ops.split(ops.matmul(state, W_h) + b_h, 3)
    r, z = ops.sigmoid(xr + hr), ops.sigmoid(xz + hz)
    n = ops.tanh(xn + r * hn)
    return (1 - z) * n + z * state


def _lstm_step(ops: Ops, xp: Any, state: Any, W_h: Any, b_h: Any) -> Any:
    h, c = state
    i, f, g, o = ops.split(xp + ops.matmul(h, W_h), 4)
    c = ops.sigmoid(f) * c + ops.sigmoid(i) * ops.tanh(g)
    return ops.sigmoid(o) * ops.tanh(c), c


@dataclass(frozen=True)
class Cell:
    """One recurrent cell: its canonical weights, its state and its step (see the module's
    docstring)."""

    name: str
    title: str
    #: the gates in the canonical stacking order (a vanilla RNN has one block, ``h``)
    gates: tuple[str, ...]
    #: canonical per-layer names: input matrix, input bias, recurrent matrix, recurrent bias (None:
    #: none)
    input_weight: str
    input_bias: str
    recurrent_weight: str
    recurrent_bias: str | None
    #: ``step(ops, xp, state, W_h, b_h) -> new state``; ``xp`` is ``x W_x + b_x`` of one time step
    step: Callable[..., Any]
    #: the names of the parts of one layer's state (``("h",)`` or ``("h", "c")``)
    state_parts: tuple[str, ...] = ("h",)

    @property
    def num_gates(self) -> int:
        return len(self.gates)

    def layer_names(self) -> tuple[str, ...]:
        """The canonical weight names of one layer, without the ``.l`` suffix."""
        names = (self.input_weight, self.recurrent_weight, self.input_bias, self.recurrent_bias)
        return tuple(n for n in names if n is not None)

    def layer_shapes(self, num_in: int, num_hiddens: int) -> dict[str, tuple[int, ...]]:
        """The shapes of one layer's canonical weights, for ``num_in`` inputs."""
        width = self.num_gates * num_hiddens
        shapes = {self.input_weight: (num_in, width), self.recurrent_weight: (num_hiddens, width),
                  self.input_bias: (width,)}
        if self.recurrent_bias:
            shapes[self.recurrent_bias] = (width,)
        return shapes

    def output(self, state: Any) -> Any:
        """The hidden state ``h`` of one layer's state (what the next layer and the output read)."""
        return state[0] if len(self.state_parts) > 1 else state


CELLS: dict[str, Cell] = {
    "rnn": Cell("rnn", "RNN", ("h",), "W_xh", "b_h", "W_hh", None, _rnn_step),
    "gru": Cell("gru", "GRU", ("r", "z", "n"), "W_x", "b_x", "W_h", "b_h", _gru_step),
    "lstm": Cell(
        "lstm", "LSTM", ("i", "f", "g", "o"), "W_x", "b", "W_h", None, _lstm_step, ("h", "c")
    ),
}
DEFAULT_CELL = "rnn"

#: the model kinds: the framework's own layer, or the equations with tensor operations
KINDS = ("concise", "scratch")


def get_cell(name: str) -> Cell:
    """The cell called ``name``, or a :class:`D2LRNNError` that lists the known ones."""
    try:
        return CELLS[name]
    except (KeyError, TypeError):
        raise D2LRNNError(f"Unknown cell {name!r}; d2lrnn knows {', '.join(CELLS)}.") from None


def model_class(backend: Any, kind: str) -> type:
    """The adapter's model class of ``kind`` (``concise``: ``backend.RNN``, ``scratch``:
    ``backend.RNNScratch``)."""
    if kind not in KINDS:
        raise D2LRNNError(f"Unknown model kind {kind!r}; use {' or '.join(KINDS)}.")
    return backend.RNN if kind == "concise" else backend.RNNScratch


def make_model(backend: Any, kind: str, cell: str = DEFAULT_CELL, **hparams: Any) -> Any:
    """A new model of ``kind`` with ``cell`` on ``backend`` (an adapter object)."""
    return model_class(backend, kind)(cell=get_cell(cell).name, **hparams)


def canonical_shapes(num_inputs: int, num_outputs: int, num_hiddens: int, num_layers: int,
                     cell: str = DEFAULT_CELL) -> dict[str, tuple[int, ...]]:
    """The shape of every canonical weight of a model, in canonical order."""
    spec = get_cell(cell)
    shapes: dict[str, tuple[int, ...]] = {}
    for layer in range(num_layers):
        for name, shape in spec.layer_shapes(
            num_inputs if layer == 0 else num_hiddens, num_hiddens
        ).items():
            shapes[f"{name}.{layer}"] = shape
    shapes["W_hq"], shapes["b_q"] = (num_hiddens, num_outputs), (num_outputs,)
    return shapes


def parameter_count(
    vocab_size: int, num_hiddens: int, num_layers: int, cell: str = DEFAULT_CELL
) -> int:
    """The number of canonical weights of a model (without building the shapes of a big one)."""
    v = vocab_size
    h = num_hiddens
    g = get_cell(cell).num_gates
    biases = 2 if get_cell(cell).recurrent_bias else 1
    per_layer_rest = g * h * h + biases * g * h  # recurrent matrix and biases
    return v * g * h + (num_layers - 1) * h * g * h + num_layers * per_layer_rest + h * v + v


def zero_state(cell: str, num_layers: int, batch: int, num_hiddens: int) -> Any:
    """The NumPy zero state: an array ``(layers, batch, H)``, or a tuple ``(h, c)`` of them for an
    LSTM."""
    parts = [np.zeros((num_layers, batch, num_hiddens)) for _ in get_cell(cell).state_parts]
    return tuple(parts) if len(parts) > 1 else parts[0]


def reference_forward(
    weights: dict[str, np.ndarray],
    X: np.ndarray,
    num_layers: int,
    cell: str = DEFAULT_CELL,
    state: Any = None,
) -> tuple[np.ndarray, Any]:
    """The model in plain NumPy (float64), the tests' oracle.

    ``X`` holds token indices ``(batch, num_steps)``; returns time-major logits ``(num_steps, batch,
    V)``
    and the final state in the form :func:`zero_state` gives.
    """
    spec = get_cell(cell)
    w = {k: np.asarray(v, dtype=np.float64) for k, v in weights.items()}
    if state is None:
        state = zero_state(cell, num_layers, X.shape[0], w["W_hq"].shape[0])
    params: dict[str, Any] = {
        name: [w[f"{name}.{layer}"] for layer in range(num_layers)] for name in spec.layer_names()
    }
    params["W_hq"], params["b_q"] = w["W_hq"], w["b_q"]
    # one-hot rows times W_x: a gather
    xp0 = params[spec.input_weight][0][X.T] + params[spec.input_bias][0]
    return scratch_forward(cell, NUMPY_OPS, params, xp0, state, np.stack)


def reorder_gates(
    array: np.ndarray, source: tuple[str, ...], target: tuple[str, ...], axis: int = -1
) -> np.ndarray:
    """``array`` with its gate blocks (stacked along ``axis`` in ``source`` order) put in ``target``
    order."""
    if source == target:
        return array
    blocks = dict(zip(source, np.split(array, len(source), axis=axis)))
    return np.concatenate([blocks[g] for g in target], axis=axis)


def _python_loop(step: Callable[[Any, Any], Any], state: Any, xp: Any, output: Callable[[Any], Any],
                 stack: Callable[[list[Any]], Any]) -> tuple[Any, Any]:
    outputs = []
    for xp_t in xp:
        state = step(state, xp_t)
        outputs.append(output(state))
    return state, stack(outputs)


def scratch_forward(
    cell: str,
    ops: Ops,
    params: dict[str, Any],
    xp0: Any,
    state: Any,
    stack: Callable[[list[Any]], Any],
    loop: Callable[..., Any] | None = None,
) -> tuple[Any, Any]:
    """A from-scratch model's forward pass, written once for every adapter and cell.

    ``params`` maps each per-layer canonical name (``W_x``, ...) to a list over the layers, plus
    ``W_hq`` and ``b_q``, as the framework's arrays. ``xp0`` is the first layer's projected input
    ``x W_x + b_x``, time-major ``(T, B, G*H)`` (a gather of rows of ``W_x`` for one-hot inputs).
    ``state`` is an array ``(layers, B, H)`` or, for an LSTM, a tuple ``(h, c)`` of them. ``stack``
    stacks a list of arrays along a new first axis; ``loop(step, state, xp, output, stack)`` runs
    the
    recurrence over time (default: a Python loop over ``xp``'s first axis). Returns time-major
    logits and the new state in the form it came in.
    """
    spec = get_cell(cell)
    loop = loop or _python_loop
    multi = len(spec.state_parts) > 1
    parts = tuple(state) if multi else (state,)
    xp = xp0
    h_seq = None
    finals = []
    for layer in range(len(params[spec.input_weight])):
        if layer > 0:
            xp = (
                ops.matmul(h_seq, params[spec.input_weight][layer]) + params[spec.input_bias][layer]
            )
        W_h = params[spec.recurrent_weight][layer]
        b_h = params[spec.recurrent_bias][layer] if spec.recurrent_bias else None
        s0 = tuple(p[layer] for p in parts) if multi else parts[0][layer]

        def step(s: Any, xp_t: Any, W_h: Any = W_h, b_h: Any = b_h) -> Any:
            return spec.step(ops, xp_t, s, W_h, b_h)

        s, h_seq = loop(step, s0, xp, spec.output, stack)
        finals.append(s)
    logits = ops.matmul(h_seq, params["W_hq"]) + params["b_q"]
    if multi:
        return logits, tuple(stack([f[i] for f in finals]) for i in range(len(parts)))
    return logits, stack(finals)
