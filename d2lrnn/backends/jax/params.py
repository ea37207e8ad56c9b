"""Mutable parameter boxes over immutable JAX arrays, and the binding that makes a model a pure
function.

JAX arrays never change; a model keeps each weight in a :class:`Param` whose ``value`` is replaced
by an update. :func:`bound` puts other values (e.g. tracers of ``jax.jit`` or ``jax.grad``) into
the boxes for the duration of a call, so the same ``forward`` serves eager and compiled code.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import jax


class Param:
    """One trainable weight: ``value`` holds the current array."""

    __slots__ = ("value",)

    def __init__(self, value: jax.Array) -> None:
        self.value = value

    def __repr__(self) -> str:
        return f"Param(shape={tuple(self.value.shape)})"


@contextmanager
def bound(params: Sequence[Param], values: Sequence[Any]) -> Iterator[None]:
    """Inside, ``params[i].value`` is ``values[i]``; afterwards each box holds what it held before.
    """
    saved = [p.value for p in params]
    for param, value in zip(params, values, strict=True):
        param.value = value
    try:
        yield
    finally:
        for param, value in zip(params, saved):
            param.value = value


def pure(params: Sequence[Param], fn: Callable[..., Any]) -> Callable[..., Any]:
    """``fn(*args)`` as a function of the parameter values: ``run(values, *args)`` (ready for
    ``jax.jit``)."""

    def run(values: Sequence[Any], *args: Any) -> Any:
        with bound(params, values), jax.default_matmul_precision("float32"):
            return fn(*args)

    return run
