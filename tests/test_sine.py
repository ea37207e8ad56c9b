"""The noisy-sine data and k-step-ahead prediction helpers."""

from __future__ import annotations

import numpy as np
import pytest

from d2lrnn.exercises.sine import (
    k_step_errors,
    k_step_predictions,
    k_step_targets,
    minibatches,
    mse,
    noisy_sine,
    windows,
)


def test_windows_shapes_and_content():
    _, x = noisy_sine(50, seed=1)
    f, y = windows(x, 4)
    assert f.shape == (46, 4) and y.shape == (46,)
    np.testing.assert_array_equal(f[3], x[3:7])
    assert y[3] == x[7]
    with pytest.raises(ValueError):
        windows(x, 0)


def test_noisy_sine_is_reproducible():
    np.testing.assert_array_equal(noisy_sine(100, seed=3)[1], noisy_sine(100, seed=3)[1])
    t, x = noisy_sine(1000, noise=0.0)
    np.testing.assert_allclose(x, np.sin(0.01 * t), atol=1e-6)


def test_minibatches_cover_every_example_once():
    f, y = windows(np.arange(30, dtype=np.float32), 3)
    seen = np.concatenate([yb for _, yb in minibatches(f, y, 8, np.random.default_rng(0))])
    assert sorted(seen.tolist()) == y.tolist()


def test_k_step_with_an_exact_model_is_exact():
    # x_t = x_{t-1} + 1 is predicted exactly by "last value + 1", however far ahead
    x = np.arange(40, dtype=np.float32)
    preds = k_step_predictions(lambda w: w[:, -1] + 1, x, 4, 8)
    np.testing.assert_array_equal(preds, k_step_targets(x, 4, 8))
    assert k_step_errors(lambda w: w[:, -1] + 1, x, 4, [1, 4, 8], start=20) == {
        1: 0.0,
        4: 0.0,
        8: 0.0,
    }


def test_errors_grow_with_horizon_for_a_biased_model():
    x = np.zeros(60, dtype=np.float32)
    errors = k_step_errors(lambda w: w[:, -1] + 0.1, x, 4, [1, 2, 4])
    assert errors[1] == pytest.approx(0.01) and errors[1] < errors[2] < errors[4]
    assert mse(np.ones(3), np.zeros(3)) == 1.0
