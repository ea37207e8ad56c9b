"""Argument checks shared by the Python API and the command line (no framework imported)."""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from typing import Any

from .errors import D2LRNNError

_WHOLE = re.compile(r"[+-]?[0-9]+")


def positive_int(name: str, value: Any) -> int:
    """``value`` as an int >= 1, or a :class:`D2LRNNError` that names ``name``."""
    number = _as_whole(name, value, "a positive whole number")
    if number < 1:
        raise D2LRNNError(f"{name} must be a positive whole number, got {value!r}.")
    return number


def non_negative_int(name: str, value: Any, zero_means: str = "") -> int:
    """``value`` as an int >= 0 (``zero_means`` explains what 0 does)."""
    hint = f" (0 means {zero_means})" if zero_means else ""
    number = _as_whole(name, value, f"a whole number, 0 or more{hint}")
    if number < 0:
        raise D2LRNNError(f"{name} must be a whole number, 0 or more{hint}, got {value!r}.")
    return number


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


def temperature(name: str, value: Any) -> float | None:
    """A sampling temperature: None means greedy decoding, otherwise a finite float > 0."""
    if value is None:
        return None
    number = _as_float(name, value)
    if number <= 0:
        raise D2LRNNError(
            f"{name} must be greater than 0, got {value!r}. Leave it out for greedy decoding; "
            "values above 0 sample (small values are close to greedy, 1 samples from the model's "
            "distribution)."
        )
    return number


#: seeds every backend accepts: NumPy, PyTorch, MXNet and TensorFlow all take 32-bit unsigned seeds
SEED_LIMIT = 2**32


def seed(name: str, value: Any) -> int | None:
    """A random seed: None (not seeded) or a whole number with ``0 <= value < 2**32``, one rule for
    every backend."""
    if value is None:
        return None
    number = _as_whole(name, value, f"a whole number from 0 to {SEED_LIMIT - 1}")
    if not 0 <= number < SEED_LIMIT:
        raise D2LRNNError(
            f"{name} must be a whole number from 0 to {SEED_LIMIT - 1} (2**32 - 1), got {value!r}."
        )
    return number


def one_of(name: str, value: Any, choices: Sequence[str]) -> str:
    """``value`` if it is one of ``choices``."""
    if value not in choices:
        raise D2LRNNError(f"{name} must be one of {', '.join(map(repr, choices))}, got {value!r}.")
    return value


def _as_whole(name: str, value: Any, what: str) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and _WHOLE.fullmatch(value.strip()):  # exact, however many digits
        return int(value)
    try:
        number = float(value)
    except (TypeError, ValueError, OverflowError):
        number = math.nan
    if isinstance(value, bool) or not math.isfinite(number) or number != int(number):
        raise D2LRNNError(f"{name} must be {what}, got {value!r}.")
    return int(number)


def _as_float(name: str, value: Any) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError, OverflowError):
        raise D2LRNNError(f"{name} must be a number, got {value!r}.") from None
    if isinstance(value, bool) or not math.isfinite(number):
        raise D2LRNNError(f"{name} must be a finite number, got {value!r}.")
    return number
