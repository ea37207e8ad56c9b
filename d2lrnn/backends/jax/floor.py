"""The benchmark's bare JAX floor: the concise model trained with nothing of d2lrnn around it
(the contract is in ``backends/floor.py``; the d2l package 0.17.6 has no JAX module, so no
``train_book``)."""

from __future__ import annotations

import time
from collections.abc import Callable
from functools import partial
from typing import Any

import numpy as np

from ...model import canonical_to_concise
from ..floor import LIBRARY, Batches, Epoch, Lever, Variant, host_read_lever, patched


def train_floor(
    batches: Batches,
    vocab_size: int,
    num_hiddens: int,
    lr: float,
    clip: float,
    epochs: int,
    device: str = "cpu",
    on_first_batch: Callable[[], None] | None = None,
    weights: dict[str, np.ndarray] | None = None,
) -> list[Epoch]:
    """JAX + Flax: ``nnx.RNN(nnx.SimpleCell)`` + ``nnx.Linear``; one ``jax.jit`` holds forward,
    gradients,
    ``optax.clip_by_global_norm`` and the SGD update (the adapter's compile level)."""
    import jax
    import jax.numpy as jnp
    import optax
    from flax import nnx

    from . import models, ops
    from .models import GLOROT, Projected

    dev = jax.devices("gpu" if device == "gpu" else "cpu")[0]
    project = models.PROJECT_INPUTS  # the adapter's levers, read as its models and steps read them

    class Net(nnx.Module):
        def __init__(self, rngs: nnx.Rngs) -> None:
            # the adapter's initialisers
            cell = nnx.SimpleCell(vocab_size, num_hiddens, kernel_init=GLOROT, rngs=rngs)
            self.input = cell.dense_i
            if project:  # the input layer for all steps at once: a row gather, outside the scan
                cell.dense_i = Projected()
            self.rnn = nnx.RNN(cell, time_major=True, return_carry=True, unroll=models.UNROLL)
            self.linear = nnx.Linear(num_hiddens, vocab_size, kernel_init=GLOROT, rngs=rngs)

        def __call__(self, X: jax.Array, state: jax.Array) -> tuple[jax.Array, jax.Array]:
            inputs = (self.input.kernel.value[X.T] + self.input.bias.value if project
                      else jax.nn.one_hot(X.T, vocab_size))
            state, outputs = self.rnn(inputs, initial_carry=state)
            return models.dense(self.linear, outputs), state

    with jax.default_device(dev):
        net = Net(nnx.Rngs(0))
        if weights is not None:
            (layer,), (w_out, b_out) = canonical_to_concise(weights, 1, out_in=False)
            cell = net.rnn.cell
            for param, value in (
                (net.input.kernel, layer["W_ih"]),
                (cell.dense_h.kernel, layer["W_hh"]),
                (net.input.bias, layer["b_ih"]),
                (net.linear.kernel, w_out),
                (net.linear.bias, b_out),
            ):
                param.value = jnp.asarray(value)
        graphdef, params, rest = nnx.split(net, nnx.Param, ...)
    optimizer = (
        optax.chain(optax.clip_by_global_norm(clip), optax.sgd(lr)) if clip > 0 else optax.sgd(lr)
    )
    opt_state = optimizer.init(params)

    def loss_fn(
        params: Any, X: jax.Array, Y: jax.Array, state: jax.Array
    ) -> tuple[jax.Array, jax.Array]:
        logits, state = nnx.merge(graphdef, params, rest)(X, state)
        return optax.softmax_cross_entropy_with_integer_labels(logits, Y.T).mean(), state

    @partial(jax.jit, donate_argnums=(0, 1) if ops.DONATE else ())
    def step(params: Any, opt_state: Any, X: jax.Array, Y: jax.Array, state: jax.Array) -> Any:
        (loss, state), grads = jax.value_and_grad(loss_fn, has_aux=True)(params, X, Y, state)
        updates, opt_state = optimizer.update(grads, opt_state, params)
        return optax.apply_updates(params, updates), opt_state, loss, state

    data = [(jax.device_put(X, dev), jax.device_put(Y, dev)) for X, Y in batches]
    out: list[Epoch] = []
    for _ in range(epochs):
        state, total = jax.device_put(jnp.zeros((batches[0][0].shape[0], num_hiddens)), dev), None
        start = time.perf_counter()
        for X, Y in data:
            params, opt_state, loss, state = step(params, opt_state, X, Y, state)
            total = loss if total is None else total + loss
            if on_first_batch is not None:
                loss.block_until_ready()
                on_first_batch()
                on_first_batch = None
        mean = float(total) / len(data)  # the epoch's only synchronisation, as in the Trainer
        out.append(
            {
                "tokens": sum(int(Y.size) for _, Y in batches),
                "seconds": time.perf_counter() - start,
                "loss": mean,
            }
        )
    return out


def levers(backend: Any) -> list[Lever]:
    """JAX's fast paths (``scripts/levers.py``): the input layer before the scan, 2-D output
    products, donated buffers, the scan's unroll, and one host read per epoch; each against the
    adapter's other setting."""
    from . import models, ops

    def flag(module: Any, name: str, value: Any) -> Variant:
        return Variant(f"{name}={value}", lambda b: patched(module, name, value))

    unroll = flag(models, "UNROLL", 1 if models.UNROLL != 1 else 5)
    return [
        Lever(
            f"input layer before the scan (PROJECT_INPUTS={models.PROJECT_INPUTS})",
            "RNN",
            flag(models, "PROJECT_INPUTS", not models.PROJECT_INPUTS),
            LIBRARY,
        ),
        *(
            Lever(
                f"2-D output products (FLATTEN_PRODUCTS={models.FLATTEN_PRODUCTS})",
                kind,
                flag(models, "FLATTEN_PRODUCTS", not models.FLATTEN_PRODUCTS),
                LIBRARY,
            )
            for kind in ("RNN", "RNNScratch")
        ),
        Lever(
            f"donated parameter buffers (DONATE={ops.DONATE})",
            "RNN",
            flag(ops, "DONATE", not ops.DONATE),
            LIBRARY,
        ),
        *(
            Lever(f"scan unroll (UNROLL={models.UNROLL})", kind, unroll, LIBRARY)
            for kind in ("RNN", "RNNScratch")
        ),
        host_read_lever(),
    ]
