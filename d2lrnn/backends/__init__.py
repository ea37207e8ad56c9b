"""The backend registry: one :class:`BackendSpec` per framework, and backend selection.

Every list of frameworks in the package, the scripts and the tests comes from :data:`SPECS`.
Adding a framework is one folder ``backends/<name>/`` (exporting ``BACKEND``) and one entry here.
Each adapter package is imported only when it is chosen.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from importlib import metadata
from typing import Any

from ..errors import BackendError
from .base import Backend

ENV_VAR = "D2LRNN_BACKEND"
DEFAULT = "torch"


@dataclass(frozen=True)
class BackendSpec:
    """What the core knows about a framework before importing it."""

    name: str  #: canonical name, also the adapter folder ``d2lrnn/backends/<name>/``
    label: str  #: how people write it, e.g. "PyTorch"
    framework: str  #: the import name whose presence means "installed"
    extra: str  #: the pip extra that installs it: ``pip install 'd2lrnn[<extra>]'``
    aliases: tuple[str, ...] = ()
    #: top-level modules whose classes belong to this framework (to recognise a user's model)
    module_roots: tuple[str, ...] = ()
    #: pip distributions whose version describes the framework (first found wins)
    distributions: tuple[str, ...] = ()
    #: the framework's own thread variables for ``n`` threads, read when it is imported
    #: (``d2lrnn.threads``)
    thread_env: Callable[[int], dict[str, str]] | None = None
    #: data-parallel training (``d2lrnn.distributed``): "processes", "devices" (in one process) or
    #: "" (none)
    distributed: str = ""
    #: variables the engine's own launcher sets in each worker (their presence makes ``d2lrnn
    #: train`` a worker)
    worker_env: tuple[str, ...] = ()

    @property
    def module(self) -> str:
        return f"{__name__}.{self.name}"

    def version(self) -> str | None:
        """The installed framework's version (from package metadata, nothing imported)."""
        for dist in self.distributions or (self.framework,):
            try:
                return metadata.version(dist)
            except metadata.PackageNotFoundError:
                continue
        return None


def _variables(*names: str) -> Callable[[int], dict[str, str]]:
    return lambda n: {name: str(n) for name in names}


def _xla_flags(n: int) -> dict[str, str]:
    """XLA's CPU thread flags, after any the user set."""
    flags = f"--xla_cpu_multi_thread_eigen={str(n > 1).lower()} intra_op_parallelism_threads={n}"
    return {"XLA_FLAGS": " ".join(filter(None, (os.environ.get("XLA_FLAGS", ""), flags)))}


#: MXNet first: a test session or notebook that wants every framework imports it before TensorFlow
SPECS: tuple[BackendSpec, ...] = (
    BackendSpec(
        "mxnet",
        "MXNet",
        "mxnet",
        "mxnet",
        ("gluon", "mx"),
        ("mxnet",),
        ("mxnet",),
        _variables("MXNET_CPU_WORKER_NTHREADS"),
        distributed="devices",
    ),
    BackendSpec(
        "torch",
        "PyTorch",
        "torch",
        "torch",
        ("pytorch",),
        ("torch",),
        ("torch",),
        distributed="processes",
        worker_env=("TORCHELASTIC_RUN_ID",),
    ),
    BackendSpec(
        "tensorflow",
        "TensorFlow",
        "tensorflow",
        "tensorflow",
        ("tf", "keras"),
        ("tensorflow", "keras", "tf_keras"),
        ("tensorflow", "tensorflow-cpu"),
        _variables("TF_NUM_INTRAOP_THREADS", "TF_NUM_INTEROP_THREADS"),
        distributed="processes",
        worker_env=("TF_CONFIG",),
    ),
    BackendSpec(
        "jax",
        "JAX",
        "jax",
        "jax",
        ("flax",),
        ("jax", "jaxlib", "flax"),
        ("jax",),
        _xla_flags,
        distributed="processes",
        worker_env=("JAX_COORDINATOR_ADDRESS",),
    ),
)
REGISTRY: dict[str, BackendSpec] = {spec.name: spec for spec in SPECS}
ALIASES: dict[str, str] = {alias: spec.name for spec in SPECS for alias in spec.aliases}
NAMES: tuple[str, ...] = tuple(REGISTRY)
LABELS: dict[str, str] = {spec.name: spec.label for spec in SPECS}

_instances: dict[str, Backend] = {}


def canonical_name(name: str | None = None) -> str:
    """Resolve an explicit name, else ``$D2LRNN_BACKEND``, else ``torch``; check it is known."""
    chosen = name if name else os.environ.get(ENV_VAR) or DEFAULT
    key = chosen.strip().lower()
    key = ALIASES.get(key, key)
    if key not in REGISTRY:
        source = "" if name else f" (from ${ENV_VAR})"
        aliases = ", ".join(f"{a} = {c}" for a, c in ALIASES.items())
        raise BackendError(
            f"Unknown backend {chosen!r}{source}. Choose one of {', '.join(NAMES)} "
            f"(aliases: {aliases}) with {{backend:NAME}} or ${ENV_VAR}.",
            settings=["backend"],
        )
    return key


def spec(name: str | None = None) -> BackendSpec:
    """The registry entry of ``name`` (see :func:`canonical_name`)."""
    return REGISTRY[canonical_name(name)]


def is_installed(name: str) -> bool:
    """Whether the framework behind ``name`` can be found, without importing it."""
    return importlib.util.find_spec(spec(name).framework) is not None


def available_backends() -> list[str]:
    return [n for n in NAMES if is_installed(n)]


def check_installed(name: str | None = None) -> str:
    """The canonical name of an installed backend, else a :class:`BackendError`; imports nothing."""
    key = canonical_name(name)
    if key not in _instances and not is_installed(key):
        entry = REGISTRY[key]
        raise BackendError(
            f"The {key} backend is not installed: the package {entry.framework!r} cannot be found. "
            f"Install it with: pip install 'd2lrnn[{entry.extra}]' -c constraints.txt "
            f"(installed backends: {', '.join(available_backends()) or 'none'})."
        )
    return key


def get_backend(name: str | None = None) -> Backend:
    """The adapter for ``name`` (see :func:`canonical_name` for the precedence)."""
    key = check_installed(name)
    if key in _instances:
        return _instances[key]
    entry = REGISTRY[key]
    try:
        module = importlib.import_module(entry.module)
    except ImportError as exc:
        raise BackendError(
            f"The {key} backend is installed but failed to import ({exc.__class__.__name__}: "
            f"{exc}). "
            f"Reinstall it with the pinned versions: pip install 'd2lrnn[{entry.extra}]' -c "
            "constraints.txt."
        ) from None
    _instances[key] = module.BACKEND
    return module.BACKEND


def backend_for(model: Any) -> Backend:
    """The adapter a model belongs to.

    A library model names its backend (``model.backend_name``); any other object (e.g. the book's
    own subclass of ``torch.nn.Module``) is matched against the frameworks already imported.
    """
    name = getattr(model, "backend_name", None)
    if isinstance(name, str) and name in REGISTRY:
        return get_backend(name)
    for entry in SPECS:
        if any(root in sys.modules for root in entry.module_roots):
            backend = get_backend(entry.name)
            if backend.is_model(model):
                return backend
    raise BackendError(
        f"Cannot tell which framework a {type(model).__name__} belongs to; build the model from "
        "d2lrnn.get_backend(...).RNN or a framework module (torch.nn.Module, gluon Block, Keras "
        "layer)."
    )


__all__ = [
    "ALIASES",
    "Backend",
    "BackendSpec",
    "LABELS",
    "NAMES",
    "REGISTRY",
    "SPECS",
    "available_backends",
    "backend_for",
    "canonical_name",
    "check_installed",
    "get_backend",
    "is_installed",
    "spec",
]
