"""JAX's data-parallel engine: ``jax.distributed.initialize`` and XLA's collectives (gloo on CPU).

A worker joins with ``JAX_COORDINATOR_ADDRESS``, ``JAX_NUM_PROCESSES`` and ``JAX_PROCESS_ID`` (the
coordinator address of the multi-machine docs), or the variables d2lrnn's local launcher sets
(``D2LRNN_RANK``, ``D2LRNN_WORKERS``, ``D2LRNN_PEERS``: rank 0's address is the coordinator). The
mean is one compiled program over the global devices (``multihost_utils.process_allgather``), so
XLA's own cross-process collective moves the gradients.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from jax.experimental import multihost_utils

from ...distributed.group import Group


def _coordinates() -> tuple[str, int, int]:
    if "JAX_COORDINATOR_ADDRESS" in os.environ:
        return (os.environ["JAX_COORDINATOR_ADDRESS"], int(os.environ["JAX_NUM_PROCESSES"]),
                int(os.environ["JAX_PROCESS_ID"]))
    peers = os.environ["D2LRNN_PEERS"].split(",")
    return peers[0], int(os.environ["D2LRNN_WORKERS"]), int(os.environ["D2LRNN_RANK"])


class CompiledGrads:
    """The JAX backend as a worker's step sees it: the loss and its gradients as one ``jax.jit``
    program.

    The gradients then leave the program for the cross-process mean; clipping and the update run
    as they are.
    """

    def __init__(self, backend: Any) -> None:
        self.backend = backend
        self.programs: dict[int, tuple[list[Any], Any]] = {}

    def __getattr__(self, name: str) -> Any:
        return getattr(self.backend, name)

    def loss_and_grads(self, model: Any, params: list[Any], X: Any, Y: Any, state: Any):
        from .ops import _loss
        from .params import pure

        key = id(model)
        if key not in self.programs or self.programs[key][0] != params:
            objective = pure(params, lambda X, Y, state: _loss(model, X, Y, state))
            self.programs[key] = (
                list(params),
                jax.jit(jax.value_and_grad(objective, has_aux=True)),
            )
        (loss, state), grads = self.programs[key][1]([p.value for p in params], X, Y, state)
        return loss, grads, state


class JaxGroup(Group):
    """One process of a ``jax.distributed`` cluster."""

    #: the gradients leave the compiled step for the cross-process program
    compile_step = False

    def __init__(self, timeout: float) -> None:
        address, workers, rank = _coordinates()
        # before the CPU client starts
        jax.config.update("jax_cpu_collectives_implementation", "gloo")
        jax.distributed.initialize(address, workers, rank, initialization_timeout=int(timeout))
        self.rank, self.workers = jax.process_index(), jax.process_count()

    def step_backend(self, backend: Any) -> CompiledGrads:
        return CompiledGrads(backend)

    def all_reduce_mean(self, tensors: Sequence[Any]) -> list[Any]:
        gathered = multihost_utils.process_allgather(list(tensors))
        return [jnp.asarray(np.mean(g, axis=0, dtype=g.dtype)) for g in gathered]

    def any(self, flag: bool) -> bool:
        return bool(np.any(multihost_utils.process_allgather(np.array([flag]))))

    def close(self) -> None:
        jax.distributed.shutdown()


def join(workers: int = 1, timeout: float = 120.0) -> JaxGroup:
    """Join the cluster described by the environment."""
    return JaxGroup(timeout)
