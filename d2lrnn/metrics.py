"""Gradient clipping and perplexity: the only place in the code base where either is computed."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np


@dataclass(frozen=True)
class ArrayMath:
    """The three array operations clipping needs, from one framework (or NumPy).

    Every backend has one (``backend.math``); the algorithms here are written against it.
    """

    sum: Callable[[Any], Any]
    sqrt: Callable[[Any], Any]
    maximum: Callable[[Any, float], Any]


#: :class:`ArrayMath` over NumPy arrays (a reference for tests and teaching)
NUMPY_MATH = ArrayMath(np.sum, np.sqrt, np.maximum)


def global_norm(grads: Sequence[Any], math_ops: ArrayMath) -> Any:
    """The L2 norm of all gradients taken together, as a tensor (no host synchronisation)."""
    return math_ops.sqrt(sum(math_ops.sum(g * g) for g in grads))


def clip_gradients(grads: Sequence[Any], max_norm: float, math_ops: ArrayMath) -> list[Any]:
    """Rescale ``grads`` so that their global L2 norm is at most ``max_norm``.

    ``g <- g * min(1, max_norm / ||g||)``, computed as ``max_norm / max(||g||, max_norm)`` so it
    needs no branch on the host and never divides by zero. ``max_norm <= 0`` disables clipping.
    """
    if not max_norm or max_norm <= 0:
        return list(grads)
    scale = max_norm / math_ops.maximum(global_norm(grads, math_ops), max_norm)
    return [g * scale for g in grads]


def perplexity(mean_cross_entropy: float) -> float:
    """``exp`` of the mean per-token cross-entropy (in nats); ``inf`` when it overflows."""
    try:
        return math.exp(mean_cross_entropy)
    except OverflowError:
        return math.inf
