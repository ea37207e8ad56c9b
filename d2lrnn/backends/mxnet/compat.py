"""Let MXNet 1.9.1 (the last release) import on NumPy >= 1.24, NumPy 2 included: the one mechanism.

Installing d2lrnn puts ``d2lrnn_mxnet.pth`` into ``site-packages``; its one line runs at every
interpreter start and puts a tiny finder (standard library only) first on ``sys.meta_path``, which
hands the first ``import mxnet`` of the process to :class:`ImportHook` here, whether or not d2lrnn
is imported. The MXNet backend and the
book's MXNet tabs import MXNet with :func:`import_mxnet`, the same hook.

While ``import mxnet`` runs, MXNet reads NumPy attributes that NumPy has since removed: type aliases
(``np.bool``, ``np.int``), constants (``np.PZERO``, ``np.NAN``) and functions it only re-exports
(``np.alltrue``, ``np.mirr``, ...). The hook wraps NumPy's module ``__getattr__`` for the duration
of that import only: a removed name resolves to what it meant, or, for a function
MXNet merely re-exports (a fixed list), to a stub that raises a clear error if it is ever called.
Afterwards NumPy's own ``__getattr__`` is restored, so nothing else in the process sees a changed
NumPy.
"""

from __future__ import annotations

import importlib
import importlib.abc
import math
import sys
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from importlib.machinery import ModuleSpec
from types import ModuleType
from typing import Any

import numpy

#: removed NumPy names that MXNet 1.9.1 uses, with what they meant
REMOVED_NAMES: dict[str, Any] = {
    "bool": numpy.bool_,
    "int": int,
    "float": float,
    "complex": complex,
    "object": object,
    "str": str,
    "PZERO": 0.0,
    "NZERO": -0.0,
    "NAN": math.nan,
    "NaN": math.nan,
    "PINF": math.inf,
    "NINF": -math.inf,
    "Inf": math.inf,
    "Infinity": math.inf,
    "infty": math.inf,
    "float_": numpy.float64,
    "complex_": numpy.complex128,
    "unicode_": numpy.str_,
    "string_": numpy.bytes_,
    "alltrue": numpy.all,
    "sometrue": numpy.any,
    "product": numpy.prod,
    "cumproduct": numpy.cumprod,
    "round_": numpy.round,
    "in1d": numpy.isin,
}
#: removed NumPy functions that MXNet 1.9.1 only re-exports (its ``numpy.fallback``); they become
#: stubs
REMOVED_FUNCTIONS = (
    "fv",
    "ipmt",
    "irr",
    "mirr",
    "msort",
    "nper",
    "npv",
    "pmt",
    "ppmt",
    "pv",
    "rate",
    "trapz",
)
#: what the last import needed (for the record: ``docs/backends.md`` lists it)
supplied: dict[str, str] = {}


def _removed(name: str) -> Callable[..., Any]:
    def stub(*args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError(
            f"numpy.{name} was removed in NumPy {numpy.__version__.split('.')[0]}.x; MXNet 1.9 "
            "only re-exports it."
        )

    stub.__name__ = name
    return stub


@contextmanager
def removed_names_supplied() -> Iterator[None]:
    """While inside, NumPy answers the names in :data:`REMOVED_NAMES` and :data:`REMOVED_FUNCTIONS`.
    """
    original = numpy.__dict__.get("__getattr__")

    def lookup(name: str) -> Any:
        try:
            if original is None:
                raise AttributeError(name)
            return original(name)
        except AttributeError:
            if name in REMOVED_NAMES:
                supplied[name] = "alias"
                return REMOVED_NAMES[name]
            if name in REMOVED_FUNCTIONS:
                supplied[name] = "stub"
                return _removed(name)
            raise

    numpy.__getattr__ = lookup
    try:
        with warnings.catch_warnings():
            # NumPy 1.2x warns about names it will re-add
            warnings.simplefilter("ignore", FutureWarning)
            yield
    finally:
        if original is None:
            del numpy.__getattr__
        else:
            numpy.__getattr__ = original


def import_mxnet() -> ModuleType:
    """``import mxnet`` through :class:`ImportHook` (installed here too, for a checkout that was
    never installed)."""
    if "mxnet" not in sys.modules:
        install_import_hook()
    return importlib.import_module("mxnet")


class _CompatLoader(importlib.abc.Loader):
    """Runs the real loader of the ``mxnet`` package inside :func:`removed_names_supplied`."""

    def __init__(self, loader: importlib.abc.Loader) -> None:
        self.loader = loader

    def create_module(self, spec: ModuleSpec) -> ModuleType | None:
        return self.loader.create_module(spec)

    def exec_module(self, module: ModuleType) -> None:
        with removed_names_supplied():
            self.loader.exec_module(module)


class ImportHook(importlib.abc.MetaPathFinder):
    """Makes a plain ``import mxnet`` (e.g. in the book's own cells) go through the compatibility
    layer."""

    def find_spec(self, name: str, path: Any = None, target: Any = None) -> ModuleSpec | None:
        if name != "mxnet":
            return None
        for finder in sys.meta_path:
            if finder is self or not hasattr(finder, "find_spec"):
                continue
            found = finder.find_spec(name, path, target)
            if found is not None and found.loader is not None:
                found.loader = _CompatLoader(found.loader)
                return found
        return None


def install_import_hook() -> ImportHook:
    """Put :class:`ImportHook` first on ``sys.meta_path`` (once; nothing is imported); return it.

    The start-up finder of ``d2lrnn_mxnet.pth`` only waits to hand MXNet to this hook, so it goes.
    """
    hook = next((f for f in sys.meta_path if isinstance(f, ImportHook)), None)
    if hook is None:
        hook = ImportHook()
        if "mxnet" not in sys.modules:
            sys.meta_path.insert(0, hook)
    sys.meta_path[:] = [f for f in sys.meta_path if type(f).__name__ != "StartupFinder"]
    return hook
