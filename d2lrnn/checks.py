"""Argument checks shared by the Python API and the command line (no framework imported)."""

from __future__ import annotations

import math
from typing import Any

from .errors import D2LRNNError


def positive_int(name: str, value: Any) -> int:
    """``value`` as an int >= 1, or a :class:`D2LRNNError` that names ``name``."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        number = math.nan
    if isinstance(value, bool) or not math.isfinite(number) or number != int(number) or number < 1:
        raise D2LRNNError(f"{name} must be a positive whole number, got {value!r}.")
    return int(number)


def positive_float(name: str, value: Any) -> float:
    """``value`` as a finite float > 0."""
    number = _as_float(name, value)
    if number <= 0:
        raise D2LRNNError(f"{name} must be greater than 0, got {value!r}.")
    return number


def non_negative_float(name: str, value: Any, zero_means: str = "") -> float:
    """``value`` as a finite float >= 0 (``zero_means`` explains what 0 does)."""
    number = _as_float(name, value)
    if number < 0:
        hint = f" (0 means {zero_means})" if zero_means else ""
        raise D2LRNNError(f"{name} must be 0 or more{hint}, got {value!r}.")
    return number


def _as_float(name: str, value: Any) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise D2LRNNError(f"{name} must be a number, got {value!r}.") from None
    if isinstance(value, bool) or not math.isfinite(number):
        raise D2LRNNError(f"{name} must be a finite number, got {value!r}.")
    return number
