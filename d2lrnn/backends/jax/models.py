"""JAX models: Flax's ``nnx.RNN`` over its cells (concise) and the from-scratch model of every cell
in ``jax.numpy``.

The models are plain Python objects whose weights sit in :class:`~.params.Param` boxes. The concise
model keeps its Flax layers in functional form (graph definition plus boxes, :class:`FlaxLayer`)
and rebuilds them with ``nnx.merge`` on each call, which works the same eagerly and under
``jax.jit``. Flax's ``nnx`` API is used because its ``RNN`` runs on every supported JAX: Linen's
``nn.RNN`` of Flax 0.10.4 fails on JAX 0.4.38 (``jax.api_util.debug_info`` is missing there).
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from flax import nnx

from ...cells import Ops, get_cell, scratch_forward
from ...model import ModelMixin
from .params import Param


class KeyStream:
    """Fresh PRNG seeds for weight initialisation; :meth:`reset` makes the next models reproducible.
    """

    def __init__(self, seed: int = 0) -> None:
        self.reset(seed)

    def reset(self, seed: int) -> None:
        self._rng = np.random.default_rng(seed)

    def next_seed(self) -> int:
        return int(self._rng.integers(2**31 - 1))

    def next_key(self) -> jax.Array:
        return jax.random.PRNGKey(self.next_seed())


#: where every JAX model of d2lrnn draws its initial weights from (``backend.seed`` resets it)
KEYS = KeyStream()


class Module:
    """The base of d2lrnn's JAX models: ``model(X, state)`` runs ``forward``; weights are
    :class:`Param` boxes."""

    def __call__(self, X: jax.Array, state: Any = None) -> tuple[jax.Array, Any]:
        return self.forward(X, state)

    def forward(self, X: jax.Array, state: Any = None) -> tuple[jax.Array, Any]:
        raise NotImplementedError

    def parameters(self) -> list[Param]:
        """Every :class:`Param` among the attributes (directly, in lists, or in a
        :class:`FlaxLayer`), in order."""
        found: list[Param] = []
        for value in vars(self).values():
            items = value if isinstance(value, (list, tuple)) else [value]
            for item in items:
                if isinstance(item, Param):
                    found.append(item)
                elif isinstance(item, FlaxLayer):
                    found.extend(item.params.values())
        return found


class FlaxLayer:
    """A Flax ``nnx`` module held functionally: its graph definition and one :class:`Param` per
    weight.

    Calling it merges the boxes' current values into a module and calls that module.
    """

    def __init__(self, module: nnx.Module) -> None:
        self.graphdef, state, self.rest = nnx.split(module, nnx.Param, ...)
        leaves, self.treedef = jax.tree_util.tree_flatten_with_path(state)
        self.params: dict[str, Param] = {_path(path): Param(leaf) for path, leaf in leaves}

    def module(self) -> nnx.Module:
        values = jax.tree_util.tree_unflatten(self.treedef, [p.value for p in self.params.values()])
        return nnx.merge(self.graphdef, values, self.rest)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.module()(*args, **kwargs)


def _path(path: tuple[Any, ...]) -> str:
    """``layer0/cell/dense_i/kernel`` from a pytree key path (the trailing ``.value`` left out)."""
    names = [str(getattr(k, "key", getattr(k, "name", getattr(k, "idx", k)))) for k in path]
    return "/".join(names[:-1] if names and names[-1] == "value" else names)


#: the speed levers (``scripts/levers.py`` measures each against its alternative; read when a model
#: is built
#: or a step compiled): time steps per iteration of the compiled scan loop (1: a plain loop); the
#: input
#: projection of every layer for all steps at once before the scan, a row gather for the tokens
#: (else
#: Flax's cells multiply one-hot vectors inside the scan)
UNROLL = 1
PROJECT_INPUTS = True
#: a lever: products whose left operand has several leading axes (the output layer over ``(steps,
#: batch, hidden)``) run as one 2-D product over the flattened rows. XLA's CPU code for the 3-D
#: form was a third slower at word tokens (4,580 outputs), forward and backward
FLATTEN_PRODUCTS = True


def _over_rows(apply: Any, x: jax.Array) -> jax.Array:
    """``apply`` on ``x`` seen as the 2-D matrix of its rows, the result given ``x``'s leading axes
    back."""
    return apply(x.reshape(-1, x.shape[-1])).reshape(*x.shape[:-1], -1)


def matmul(a: jax.Array, b: jax.Array) -> jax.Array:
    """``a @ b``; with :data:`FLATTEN_PRODUCTS` an ``a`` of more than two axes is multiplied as
    the 2-D matrix of its rows."""
    if a.ndim <= 2 or b.ndim != 2 or not FLATTEN_PRODUCTS:
        return jnp.matmul(a, b)
    return _over_rows(lambda rows: jnp.matmul(rows, b), a)


def dense(layer: Any, x: jax.Array) -> jax.Array:
    """A Flax ``Linear`` (or :class:`FlaxLayer` of one) over ``x``'s last axis, flattened as
    :func:`matmul` flattens."""
    if x.ndim <= 2 or not FLATTEN_PRODUCTS:
        return layer(x)
    return _over_rows(layer, x)


def _scan_loop(
    step: Any, state: Any, xp: jax.Array, output: Any, stack: Any
) -> tuple[Any, jax.Array]:
    """The recurrence as one ``jax.lax.scan`` over the time steps."""

    def body(s: Any, xp_t: jax.Array) -> tuple[Any, jax.Array]:
        s = step(s, xp_t)
        return s, output(s)

    return jax.lax.scan(body, state, xp, unroll=UNROLL)


OPS = Ops(matmul, jax.nn.sigmoid, jnp.tanh, lambda a, n: jnp.split(a, n, axis=-1))


class Model(ModelMixin, Module):
    """What the concise and the scratch model share: the state and the weight-mapping primitives."""

    backend_name = "jax"
    _out_in = False

    def init_state(self, X: jax.Array) -> Any:
        """Zeros ``(num_layers, batch, num_hiddens)``; a tuple ``(h, c)`` of them for an LSTM."""
        parts = [jnp.zeros((self.num_layers, X.shape[0], self.num_hiddens))
                 for _ in get_cell(self.cell_name).state_parts]
        return tuple(parts) if len(parts) > 1 else parts[0]

    def _layer_params(self, layer: int) -> dict[str, Param]:
        params = self.rnn.params
        cell = f"layer{layer}/cell"
        dense_i = f"input{layer}" if f"input{layer}/kernel" in params else f"{cell}/dense_i"
        found = {
            "W_ih": f"{dense_i}/kernel",
            "W_hh": f"{cell}/dense_h/kernel",
            "b_ih": f"{dense_i}/bias",
            "b_hh": f"{cell}/dense_h/bias",
        }
        return {key: params[path] for key, path in found.items() if path in params}

    def _dense_params(self) -> tuple[Param, Param]:
        return self.linear.params["kernel"], self.linear.params["bias"]

    def _read(self, param: Param) -> np.ndarray:
        return np.asarray(param.value)

    def _write(self, param: Param, value: np.ndarray) -> None:
        old = param.value
        param.value = jax.device_put(jnp.asarray(value, dtype=old.dtype), next(iter(old.devices())))


class RNNScratch(Model):
    """A recurrent model written with ``jax.numpy``, with d2l's ``RNNScratch`` interface.

    ``forward(X, state=None)`` (also ``model(X, state)``) takes token indices ``(batch, num_steps)``
    and returns time-major logits ``(num_steps, batch, num_outputs)`` and the state
    ``(num_layers, batch, num_hiddens)`` (a tuple ``(h, c)`` for an LSTM). The step equations are
    the cell's (:mod:`d2lrnn.cells`), scanned over time. Subclasses override ``init_params``,
    ``forward`` and ``init_state``.
    """

    def init_params(self) -> None:
        def init(name: str, shape: tuple[int, ...]) -> Param:
            if name.startswith("b"):
                return Param(jnp.zeros(shape))
            return Param(jax.random.normal(KEYS.next_key(), shape) * self.sigma)

        spec = get_cell(self.cell_name)
        for name in spec.layer_names():
            setattr(
                self,
                name,
                [
                    init(
                        name,
                        spec.layer_shapes(
                            self.num_inputs if i == 0 else self.num_hiddens, self.num_hiddens
                        )[name],
                    )
                    for i in range(self.num_layers)
                ],
            )
        self.W_hq = init("W_hq", (self.num_hiddens, self.num_outputs))
        self.b_q = init("b_q", (self.num_outputs,))

    def forward(self, X: jax.Array, state: Any = None) -> tuple[jax.Array, Any]:
        if state is None:
            state = self.init_state(X)
        spec = get_cell(self.cell_name)
        params: dict[str, Any] = {
            name: [p.value for p in getattr(self, name)] for name in spec.layer_names()
        }
        params["W_hq"], params["b_q"] = self.W_hq.value, self.b_q.value
        # one-hot rows times W_x: a gather
        xp0 = params[spec.input_weight][0][X.T] + params[spec.input_bias][0]
        return scratch_forward(self.cell_name, OPS, params, xp0, state, jnp.stack, _scan_loop)


#: Keras's initialisers (Glorot-uniform input and output kernels, orthogonal recurrent kernel, zero
#: biases) instead of Flax's LeCun-normal ones, so that default-initialised models train alike
#: everywhere
GLOROT = nnx.initializers.glorot_uniform()
#: Flax's default for recurrent kernels, named here: Flax 0.12.8's GRUCell no longer keeps it as an
#: attribute
ORTHOGONAL = nnx.initializers.orthogonal()


def flax_cell(cell: str, num_in: int, num_hiddens: int, rngs: nnx.Rngs) -> nnx.Module:
    """Flax's own cell for ``cell``: ``SimpleCell``, ``GRUCell`` or ``OptimizedLSTMCell`` (gates i,
    f, g, o).

    Flax's ``GRUCell`` keeps no bias in its recurrent dense layer, so the reset gate could not
    multiply a recurrent bias as in PyTorch, Keras and Gluon: its ``dense_h`` is replaced by the
    same ``nnx.Linear`` with a bias, which the cell's own equations then use.
    """
    if cell == "rnn":
        return nnx.SimpleCell(num_in, num_hiddens, kernel_init=GLOROT, rngs=rngs)
    if cell == "lstm":
        return nnx.OptimizedLSTMCell(num_in, num_hiddens, kernel_init=GLOROT, rngs=rngs)
    gru = nnx.GRUCell(
        num_in, num_hiddens, kernel_init=GLOROT, recurrent_kernel_init=ORTHOGONAL, rngs=rngs
    )
    gru.dense_h = nnx.Linear(
        num_hiddens, 3 * num_hiddens, use_bias=True, kernel_init=ORTHOGONAL, rngs=rngs
    )
    return gru


class Projected(nnx.Module):
    """Stands in for a cell's input layer when its inputs arrive projected already: returns them."""

    def __call__(self, inputs: jax.Array) -> jax.Array:
        return inputs


class RecurrentStack(nnx.Module):
    """``num_layers`` Flax ``nnx.RNN`` layers over Flax's cell for ``cell``, time-major.

    Called with token indices ``(num_steps, batch)``. With ``project`` each cell's input layer
    (``dense_i``, used once per step by all of Flax's cells) is taken out of the cell as
    ``input{layer}`` and applied to all steps at once before the scan: a row gather for the tokens,
    one ``(steps * batch, hidden)`` product above them; the scan then runs only the recurrent part.
    """

    def __init__(
        self,
        num_inputs: int,
        num_hiddens: int,
        num_layers: int,
        rngs: nnx.Rngs,
        cell: str = "rnn",
        project: bool = True,
    ) -> None:
        self.num_layers = num_layers
        self.lstm = cell == "lstm"
        self.num_inputs = num_inputs
        self.project = project
        for layer in range(num_layers):
            unit = flax_cell(cell, num_inputs if layer == 0 else num_hiddens, num_hiddens, rngs)
            if project:
                setattr(self, f"input{layer}", unit.dense_i)
                unit.dense_i = Projected()
            setattr(
                self,
                f"layer{layer}",
                nnx.RNN(unit, time_major=True, return_carry=True, unroll=UNROLL),
            )

    def _inputs(self, layer: int, inputs: jax.Array) -> jax.Array:
        if not self.project:
            return jax.nn.one_hot(inputs, self.num_inputs) if layer == 0 else inputs
        layer_in = getattr(self, f"input{layer}")
        if layer == 0:  # one-hot rows times the kernel: the kernel's rows
            rows = layer_in.kernel.value[inputs]
            # Flax's LSTM keeps its bias in dense_h
            return rows if layer_in.bias is None else rows + layer_in.bias.value
        return dense(layer_in, inputs)

    def __call__(self, inputs: jax.Array, state: Any) -> tuple[jax.Array, Any]:
        carries = []
        for layer in range(self.num_layers):
            inputs = self._inputs(layer, inputs)
            # Flax's LSTM carry is (c, h); d2lrnn's state is (h, c), as in PyTorch
            carry = (state[1][layer], state[0][layer]) if self.lstm else state[layer]
            carry, inputs = getattr(self, f"layer{layer}")(inputs, initial_carry=carry)
            carries.append(carry[::-1] if self.lstm else carry)
        if self.lstm:
            return inputs, (jnp.stack([c[0] for c in carries]), jnp.stack([c[1] for c in carries]))
        return inputs, jnp.stack(carries)


class RNN(Model):
    """The concise model: Flax's ``nnx.RNN`` over its ``SimpleCell``, ``GRUCell`` or LSTM cell, then
    ``nnx.Linear``."""

    kind = "concise"
    _rnn_layer_type = FlaxLayer

    def init_params(self) -> None:
        rngs = nnx.Rngs(KEYS.next_seed())
        self.rnn = FlaxLayer(
            RecurrentStack(
                self.num_inputs,
                self.num_hiddens,
                self.num_layers,
                rngs,
                self.cell_name,
                PROJECT_INPUTS,
            )
        )
        self.linear = FlaxLayer(
            nnx.Linear(self.num_hiddens, self.num_outputs, kernel_init=GLOROT, rngs=rngs)
        )

    def forward(self, X: jax.Array, state: Any = None) -> tuple[jax.Array, Any]:
        if state is None:
            state = self.init_state(X)
        outputs, state = self.rnn(X.T, state)
        return dense(self.linear, outputs), state
