"""Which engine a backend trains data-parallel with, whether this process is a worker, and joining
its group."""

from __future__ import annotations

import importlib
import os

from ..backends import LABELS, NAMES, REGISTRY
from ..errors import D2LRNNError
from .group import Group

#: how a backend trains data-parallel: worker processes, or several devices in one process
MODES = ("processes", "devices")
#: set by the local launcher (:mod:`.launch`) for each worker it starts
RANK_VAR = "D2LRNN_RANK"
WORKERS_VAR = "D2LRNN_WORKERS"
PEERS_VAR = "D2LRNN_PEERS"


def engine_mode(name: str) -> str:
    """``'processes'``, ``'devices'`` or ``''`` (no data-parallel engine) for the backend ``name``.
    """
    return REGISTRY[name].distributed


def is_worker(name: str) -> bool:
    """Whether this process was started as one worker of several (by d2lrnn's or the engine's own
    launcher)."""
    return WORKERS_VAR in os.environ or any(var in os.environ for var in REGISTRY[name].worker_env)


def join(name: str, workers: int = 1, timeout: float = 120.0) -> Group:
    """Join the group of the backend ``name`` (its ``collective.join``); ``workers`` counts devices
    in one process."""
    module = importlib.import_module(f"{REGISTRY[name].module}.collective")
    return module.join(workers=workers, timeout=timeout)


def check_workers(workers: int, batch_size: int, name: str) -> None:
    """Refuse, before any worker starts, a split the run cannot make exactly."""
    if workers < 1:
        raise D2LRNNError(f"{{workers}} must be 1 or more, not {workers}.", settings=["workers"])
    if workers == 1:
        return
    if not engine_mode(name):
        able = ", ".join(n for n in NAMES if engine_mode(n))
        raise D2LRNNError(
            f"The {LABELS[name]} backend has no data-parallel engine in d2lrnn; use one of {able}."
        )
    if workers > batch_size:
        raise D2LRNNError(
            f"{{workers:{workers}}} is more than the {batch_size} streams of a batch "
            "({batch_size}); every worker needs at least one stream.",
            settings=["workers", "batch_size"],
        )
    if batch_size % workers:
        raise D2LRNNError(
            f"{{batch_size:{batch_size}}} does not divide among {workers} workers; choose a "
            f"batch size that is a multiple of {workers}, e.g. "
            f"{batch_size + workers - batch_size % workers}.",
            settings=["batch_size"],
        )
