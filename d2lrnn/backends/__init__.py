"""Backend selection. Each adapter module is imported only when it is chosen."""

from __future__ import annotations

import importlib
import importlib.util
import os
import sys
from typing import Any

from ..errors import BackendError
from .base import Backend

ENV_VAR = "D2LRNN_BACKEND"
DEFAULT = "torch"
#: canonical name -> (adapter module, framework import name, pip extra)
ADAPTERS = {
    "mxnet": ("d2lrnn.backends.mxnet_backend", "mxnet", "mxnet"),
    "torch": ("d2lrnn.backends.torch_backend", "torch", "torch"),
    "tensorflow": ("d2lrnn.backends.tensorflow_backend", "tensorflow", "tensorflow"),
}
ALIASES = {"pytorch": "torch", "tf": "tensorflow", "keras": "tensorflow", "gluon": "mxnet", "mx": "mxnet"}
NAMES = tuple(ADAPTERS)

_instances: dict[str, Backend] = {}


def canonical_name(name: str | None = None) -> str:
    """Resolve an explicit name, else ``$D2LRNN_BACKEND``, else ``torch``; check it is known."""
    chosen = name if name else os.environ.get(ENV_VAR) or DEFAULT
    key = chosen.strip().lower()
    key = ALIASES.get(key, key)
    if key not in ADAPTERS:
        source = "" if name else f" (from ${ENV_VAR})"
        aliases = ", ".join(f"{a} = {c}" for a, c in ALIASES.items())
        raise BackendError(
            f"Unknown backend {chosen!r}{source}. Choose one of {', '.join(NAMES)} "
            f"(aliases: {aliases}) with --backend, backend=... or ${ENV_VAR}."
        )
    return key


def is_installed(name: str) -> bool:
    """Whether the framework behind ``name`` can be found, without importing it."""
    return importlib.util.find_spec(ADAPTERS[canonical_name(name)][1]) is not None


def available_backends() -> list[str]:
    return [n for n in NAMES if is_installed(n)]


def check_installed(name: str | None = None) -> str:
    """The canonical name of an installed backend, else a :class:`BackendError`; imports nothing."""
    key = canonical_name(name)
    if key not in _instances and not is_installed(key):
        _, framework, extra = ADAPTERS[key]
        raise BackendError(
            f"The {key} backend is not installed: the package {framework!r} cannot be found. "
            f"Install it with: pip install 'd2lrnn[{extra}]' -c constraints.txt "
            f"(installed backends: {', '.join(available_backends()) or 'none'})."
        )
    return key


def get_backend(name: str | None = None) -> Backend:
    """The adapter for ``name`` (see :func:`canonical_name` for the precedence)."""
    key = check_installed(name)
    if key in _instances:
        return _instances[key]
    module_name, framework, extra = ADAPTERS[key]
    if key == "mxnet" and "mxnet" not in sys.modules and "tensorflow" in sys.modules:
        raise BackendError(
            "MXNet 1.9 crashes (a segmentation fault) when it is imported after TensorFlow in the same "
            "process. Choose the mxnet backend before tensorflow (import mxnet first), or use one backend "
            "per process, e.g. one 'd2lrnn train --backend ...' run each."
        )
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise BackendError(
            f"The {key} backend is installed but failed to import ({exc.__class__.__name__}: {exc}). "
            f"Reinstall it with the pinned versions: pip install 'd2lrnn[{extra}]' -c constraints.txt."
        ) from None
    _instances[key] = module.BACKEND
    return module.BACKEND


def backend_for(model: Any) -> Backend:
    """The adapter whose framework ``model`` belongs to (only imported frameworks are asked)."""
    for key, (_, framework, _) in ADAPTERS.items():
        if framework in sys.modules or (key == "tensorflow" and "tf_keras" in sys.modules):
            backend = get_backend(key)
            if backend.is_model(model):
                return backend
    raise BackendError(
        f"Cannot tell which framework a {type(model).__name__} belongs to; build the model from "
        "d2lrnn.get_backend(...).RNN or a framework module (torch.nn.Module, gluon Block, Keras layer)."
    )


__all__ = ["ADAPTERS", "ALIASES", "Backend", "NAMES", "available_backends", "backend_for", "canonical_name",
           "check_installed", "get_backend", "is_installed"]
