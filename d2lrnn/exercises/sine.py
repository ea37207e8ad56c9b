"""The autoregressive toy problem of the book's sequence section, framework-free.

A noisy sine wave ``x_t = sin(0.01 t) + noise``; a model sees the last ``tau`` values and predicts
the next. This module makes the data, cuts it into windows, shuffles minibatches and computes
one-step and k-step-ahead predictions for *any* model given as a NumPy function, so the models
themselves (an MLP, an RNN) can be written in any framework.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence

import numpy as np

#: maps windows ``(n, tau)`` of past values to predictions of the next value ``(n,)``
Predictor = Callable[[np.ndarray], np.ndarray]


def noisy_sine(
    num_points: int = 1000, noise: float = 0.2, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Times ``1..num_points`` and ``sin(0.01 t) + N(0, noise^2)`` as float32 arrays."""
    time = np.arange(1, num_points + 1, dtype=np.float32)
    rng = np.random.default_rng(seed)
    x = np.sin(0.01 * time) + rng.normal(0.0, noise, num_points)
    return time, x.astype(np.float32)


def windows(x: np.ndarray, tau: int) -> tuple[np.ndarray, np.ndarray]:
    """Features ``(len(x) - tau, tau)`` (row ``i`` is ``x[i:i+tau]``) and labels ``x[tau:]``."""
    x = np.asarray(x, dtype=np.float32)
    if not 0 < tau < len(x):
        raise ValueError(f"tau must be between 1 and {len(x) - 1}, got {tau}.")
    features = np.lib.stride_tricks.sliding_window_view(x[:-1], tau).copy()
    return features, x[tau:].copy()


def minibatches(features: np.ndarray, labels: np.ndarray, batch_size: int,
                rng: np.random.Generator) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """One epoch of shuffled ``(X, y)`` minibatches (the last one may be smaller)."""
    order = rng.permutation(len(features))
    for start in range(0, len(order), batch_size):
        idx = order[start : start + batch_size]
        yield features[idx], labels[idx]


def k_step_predictions(predict: Predictor, x: np.ndarray, tau: int, max_steps: int) -> np.ndarray:
    """Predictions ``(len(x) - tau - max_steps + 1, max_steps)``: column ``k-1`` is ``k`` steps
    ahead.

    Row ``i`` starts from the observed ``x[i:i+tau]`` and feeds each prediction back as input, so
    column ``k-1`` estimates ``x[i + tau + k - 1]`` having seen nothing after ``x[i + tau - 1]``.
    """
    n = len(x) - tau - max_steps + 1
    if n <= 0:
        raise ValueError("The series is too short for this tau and number of steps.")
    buf = np.zeros((n, tau + max_steps), dtype=np.float32)
    for i in range(tau):
        buf[:, i] = x[i : i + n]
    for k in range(max_steps):
        buf[:, tau + k] = np.asarray(predict(buf[:, k : k + tau]), dtype=np.float32).reshape(-1)
    return buf[:, tau:]


def k_step_targets(x: np.ndarray, tau: int, max_steps: int) -> np.ndarray:
    """The true values that :func:`k_step_predictions` estimates, in the same layout."""
    n = len(x) - tau - max_steps + 1
    return np.stack([x[tau + k : tau + k + n] for k in range(max_steps)], axis=1)


def mse(predictions: np.ndarray, targets: np.ndarray) -> float:
    """Mean squared error."""
    diff = np.asarray(predictions, dtype=np.float64) - np.asarray(targets, dtype=np.float64)
    return float(np.mean(diff * diff))


def k_step_errors(
    predict: Predictor, x: np.ndarray, tau: int, steps: Sequence[int], start: int = 0
) -> dict[int, float]:
    """Mean squared error of ``k``-step-ahead predictions for each ``k`` in ``steps``.

    Only rows whose first predicted value lies at index ``>= start`` count (``start`` = the
    first test index keeps the score on data the model was not trained on).
    """
    max_steps = max(steps)
    preds = k_step_predictions(predict, x, tau, max_steps)
    targets = k_step_targets(x, tau, max_steps)
    first = max(0, start - tau)
    return {k: mse(preds[first:, k - 1], targets[first:, k - 1]) for k in steps}


__all__ = [
    "Predictor",
    "k_step_errors",
    "k_step_predictions",
    "k_step_targets",
    "minibatches",
    "mse",
    "noisy_sine",
    "windows",
]
