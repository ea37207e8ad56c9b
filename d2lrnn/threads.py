"""How many CPU threads a framework may use (``--threads N|auto`` of ``d2lrnn train`` and ``d2lrnn bench``).

The frameworks read their thread counts from environment variables when they are imported, so
:func:`apply_threads` sets them before any framework is imported; a backend that can also change
its count later offers ``set_threads(n)`` (called by :func:`apply_threads` when given the backend).

``auto`` is one thread per two usable cores (at least one). On a small shared machine (a laptop,
a hosted notebook) the recurrent layer's small matrix products gain little from a second thread,
and a framework whose threads spin-wait on a busy core loses far more: see ``docs/results.md``,
"One core busy".
"""

from __future__ import annotations

import os
from typing import Any

from .errors import D2LRNNError

#: the variables that OpenMP, MKL, OpenBLAS, MXNet and TensorFlow read at import
THREAD_VARIABLES = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MXNET_CPU_WORKER_NTHREADS",
                    "TF_NUM_INTRAOP_THREADS", "TF_NUM_INTEROP_THREADS")


def usable_cores() -> int:
    """The cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # macOS, Windows
        return os.cpu_count() or 1


def auto_threads(cores: int | None = None) -> int:
    """The ``auto`` thread count: half the usable cores, at least one."""
    return max(1, (cores or usable_cores()) // 2)


def parse_threads(text: str | int | None) -> int | None:
    """``None``/``""`` (the frameworks' own defaults), ``"auto"`` or a whole number >= 1."""
    if text is None or text == "":
        return None
    if isinstance(text, str) and text.strip().lower() == "auto":
        return auto_threads()
    try:
        value = int(text)
    except (TypeError, ValueError):
        value = 0
    if value < 1:
        raise D2LRNNError(f"--threads must be 'auto' or a whole number >= 1, got {text!r}.")
    return value


def thread_env(threads: int | None) -> dict[str, str]:
    """The environment variables that cap every framework at ``threads`` (empty: their defaults)."""
    return {name: str(threads) for name in THREAD_VARIABLES} if threads else {}


def apply_threads(threads: int | None, backend: Any = None) -> None:
    """Cap this process's framework threads: the variables now, and ``backend.set_threads`` if it has one."""
    if not threads:
        return
    os.environ.update(thread_env(threads))
    setter = getattr(backend, "set_threads", None)
    if setter is not None:
        setter(threads)
