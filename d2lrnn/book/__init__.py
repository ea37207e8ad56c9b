"""The book's own code, by generation and framework tab, running on the core.

Each generation is a package with one module per tab (``torch``, ``mxnet``, ``tensorflow``,
``jax`` where the generation has one); the package's ``__init__`` holds what its tabs share:

- :mod:`~d2lrnn.book.v1`: d2l 1.0.3, the published book (all four tabs; each also offers the
  d2l 0.x names listed in :data:`~d2lrnn.book.aliases.V0_NAMES`);
- :mod:`~d2lrnn.book.v0`: d2l 0.x (0.17.6, the Chinese edition 2.0.0), with ``v0/text.py``, the
  text pipeline its tabs share;
- :mod:`~d2lrnn.book.draft`: the d2l 1.0 draft, the 0.x names plus the draft's four classes;
- :mod:`~d2lrnn.book.gluonbook`: gluonbook, the pre-d2l book (MXNet ``nd`` arrays only).

``aliases.py`` holds the tensor aliases (``d2l.reshape``, ...) per framework, ``cells.py`` runs the
book's cells as a reader types them (tests and ``scripts/book_matrix.py``).

The public paths (``from d2lrnn import torch as d2l``, ``d2lrnn.v1.torch``, ``d2lrnn.v0.mxnet``,
``d2lrnn.draft.tensorflow``, ``d2lrnn.gluonbook``, ...) have no files of their own: ``import
d2lrnn``
puts :class:`PublicPaths` on ``sys.meta_path``, and each public name is the module in
:data:`PUBLIC_PATHS` itself (the same object, so ``d2lrnn.torch is d2lrnn.v1.torch``).
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.util
import sys
from importlib.machinery import ModuleSpec
from types import ModuleType
from typing import Any

#: the generations and, for each, the tabs it has
TABS = {
    "v1": ("torch", "mxnet", "tensorflow", "jax"),
    "v0": ("torch", "mxnet", "tensorflow"),
    "draft": ("torch", "mxnet", "tensorflow"),
}
#: each public module name -> the module that serves it
PUBLIC_PATHS: dict[str, str] = {
    **{f"d2lrnn.{tab}": f"d2lrnn.book.v1.{tab}" for tab in TABS["v1"]},
    "d2lrnn.gluonbook": "d2lrnn.book.gluonbook",
    **{f"d2lrnn.{gen}": f"d2lrnn.book.{gen}" for gen in TABS},
    **{
        f"d2lrnn.{gen}.{tab}": f"d2lrnn.book.{gen}.{tab}"
        for gen, tabs in TABS.items()
        for tab in tabs
    },
}


class _Alias(importlib.abc.Loader):
    """Loads a public name as the module it stands for (imported once, under its own name)."""

    def __init__(self, target: str) -> None:
        self.target = target
        self.spec: ModuleSpec | None = None

    def create_module(self, spec: ModuleSpec) -> ModuleType:
        module = importlib.import_module(self.target)
        self.spec = module.__spec__
        return module

    def exec_module(self, module: ModuleType) -> None:
        module.__spec__ = self.spec  # the import system gave it the public name's spec


class PublicPaths(importlib.abc.MetaPathFinder):
    """Finds the names of :data:`PUBLIC_PATHS` (and nothing else)."""

    def find_spec(self, name: str, path: Any = None, target: Any = None) -> ModuleSpec | None:
        served = PUBLIC_PATHS.get(name) or _inside_generation(name)
        return None if served is None else ModuleSpec(name, _Alias(served))


def _inside_generation(name: str) -> str | None:
    """``d2lrnn.v0.text`` -> ``d2lrnn.book.v0.text``: a generation's other modules keep one
    identity."""
    parent = name.rpartition(".")[0]
    if parent not in PUBLIC_PATHS or parent.count(".") != 1 or parent.split(".")[1] not in TABS:
        return None
    served = f"{PUBLIC_PATHS[parent]}{name[len(parent):]}"
    return served if importlib.util.find_spec(served) is not None else None


def install_public_paths() -> None:
    """Put one :class:`PublicPaths` on ``sys.meta_path`` (nothing is imported)."""
    if not any(isinstance(finder, PublicPaths) for finder in sys.meta_path):
        sys.meta_path.insert(0, PublicPaths())
