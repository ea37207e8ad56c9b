"""JAX models: Flax's ``nnx.RNN(nnx.SimpleCell)`` (concise) and a from-scratch RNN in ``jax.numpy``.

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

from ...model import ModelMixin
from .params import Param


class KeyStream:
    """Fresh PRNG seeds for weight initialisation; :meth:`reset` makes the next models reproducible."""

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
    """The base of d2lrnn's JAX models: ``model(X, state)`` runs ``forward``; weights are :class:`Param` boxes."""

    def __call__(self, X: jax.Array, state: Any = None) -> tuple[jax.Array, Any]:
        return self.forward(X, state)

    def forward(self, X: jax.Array, state: Any = None) -> tuple[jax.Array, Any]:
        raise NotImplementedError

    def parameters(self) -> list[Param]:
        """Every :class:`Param` among the attributes (directly, in lists, or in a :class:`FlaxLayer`), in order."""
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
    """A Flax ``nnx`` module held functionally: its graph definition and one :class:`Param` per weight.

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


class RNNScratch(ModelMixin, Module):
    """An RNN written with ``jax.numpy``, with d2l's ``RNNScratch`` interface.

    ``forward(X, state=None)`` (also ``model(X, state)``) takes token indices ``(batch, num_steps)``
    and returns time-major logits ``(num_steps, batch, num_outputs)`` and the state
    ``(num_layers, batch, num_hiddens)``. Subclasses override ``init_params``, ``forward`` and ``init_state``.
    """

    def init_params(self) -> None:
        def normal(*shape: int) -> Param:
            return Param(jax.random.normal(KEYS.next_key(), shape) * self.sigma)

        sizes = [self.num_inputs] + [self.num_hiddens] * (self.num_layers - 1)
        H = self.num_hiddens
        self.W_xh = [normal(n, H) for n in sizes]
        self.W_hh = [normal(H, H) for _ in sizes]
        self.b_h = [Param(jnp.zeros(H)) for _ in sizes]
        self.W_hq = normal(H, self.num_outputs)
        self.b_q = Param(jnp.zeros(self.num_outputs))

    def init_state(self, X: jax.Array) -> jax.Array:
        return jnp.zeros((self.num_layers, X.shape[0], self.num_hiddens))

    def forward(self, X: jax.Array, state: Any = None) -> tuple[jax.Array, jax.Array]:
        if state is None:
            state = self.init_state(X)
        layer_input = self.W_xh[0].value[X.T]  # a one-hot row times W_xh is a row of W_xh: gather it
        hidden = []
        for layer in range(self.num_layers):
            if layer > 0:
                layer_input = layer_input @ self.W_xh[layer].value
            W_hh = self.W_hh[layer].value

            def step(h: jax.Array, x_t: jax.Array, W_hh: jax.Array = W_hh) -> tuple[jax.Array, jax.Array]:
                h = jnp.tanh(x_t + h @ W_hh)
                return h, h

            h, layer_input = jax.lax.scan(step, state[layer], layer_input + self.b_h[layer].value)
            hidden.append(h)
        return layer_input @ self.W_hq.value + self.b_q.value, jnp.stack(hidden)

    # primitives of the core's weight mapping (d2lrnn.model)
    backend_name = "jax"
    _out_in = False

    def _layer_params(self, layer: int) -> dict[str, Param]:
        params = self.rnn.params
        cell = f"layer{layer}/cell"
        return {"W_ih": params[f"{cell}/dense_i/kernel"], "W_hh": params[f"{cell}/dense_h/kernel"],
                "b_ih": params[f"{cell}/dense_i/bias"]}

    def _dense_params(self) -> tuple[Param, Param]:
        return self.linear.params["kernel"], self.linear.params["bias"]

    def _read(self, param: Param) -> np.ndarray:
        return np.asarray(param.value)

    def _write(self, param: Param, value: np.ndarray) -> None:
        old = param.value
        param.value = jax.device_put(jnp.asarray(value, dtype=old.dtype), next(iter(old.devices())))


#: Keras's initialisers (Glorot-uniform input and output kernels, orthogonal recurrent kernel, zero
#: biases) instead of Flax's LeCun-normal ones, so that default-initialised models train alike everywhere
GLOROT = nnx.initializers.glorot_uniform()


class RecurrentStack(nnx.Module):
    """``num_layers`` Flax ``nnx.RNN(nnx.SimpleCell)`` layers (tanh, one recurrent bias each), time-major."""

    def __init__(self, num_inputs: int, num_hiddens: int, num_layers: int, rngs: nnx.Rngs) -> None:
        self.num_layers = num_layers
        for layer in range(num_layers):
            cell = nnx.SimpleCell(num_inputs if layer == 0 else num_hiddens, num_hiddens, kernel_init=GLOROT, rngs=rngs)
            setattr(self, f"layer{layer}", nnx.RNN(cell, time_major=True, return_carry=True))

    def __call__(self, inputs: jax.Array, state: jax.Array) -> tuple[jax.Array, jax.Array]:
        carries = []
        for layer in range(self.num_layers):
            carry, inputs = getattr(self, f"layer{layer}")(inputs, initial_carry=state[layer])
            carries.append(carry)
        return inputs, jnp.stack(carries)


class RNN(RNNScratch):
    """The concise model: Flax's ``nnx.RNN(nnx.SimpleCell)`` layers followed by ``nnx.Linear``."""

    kind = "concise"
    _rnn_layer_type = FlaxLayer

    def init_params(self) -> None:
        rngs = nnx.Rngs(KEYS.next_seed())
        self.rnn = FlaxLayer(RecurrentStack(self.num_inputs, self.num_hiddens, self.num_layers, rngs))
        self.linear = FlaxLayer(nnx.Linear(self.num_hiddens, self.num_outputs, kernel_init=GLOROT, rngs=rngs))

    def forward(self, X: jax.Array, state: Any = None) -> tuple[jax.Array, jax.Array]:
        if state is None:
            state = self.init_state(X)
        outputs, state = self.rnn(jax.nn.one_hot(X.T, self.num_inputs), state)
        return self.linear(outputs), state
