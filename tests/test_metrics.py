import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from d2lrnn.metrics import NUMPY_MATH, clip_gradients, global_norm, perplexity

arrays = hnp.arrays(np.float64, st.integers(1, 6), elements=st.floats(-100, 100))


@given(st.lists(arrays, min_size=1, max_size=4), st.floats(0.01, 50))
def test_clipping_matches_a_direct_numpy_computation(grads, theta):
    norm = math.sqrt(sum(float((g**2).sum()) for g in grads))
    expected = [g * (theta / norm) if norm > theta else g for g in grads]
    clipped = clip_gradients(grads, theta, NUMPY_MATH)
    for got, want in zip(clipped, expected):
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)
    assert float(global_norm(clipped, NUMPY_MATH)) <= theta * (1 + 1e-9) or norm <= theta


def test_clipping_disabled_by_zero_and_leaves_small_gradients_alone():
    grads = [np.array([3.0, 4.0])]
    assert clip_gradients(grads, 0, NUMPY_MATH)[0] is grads[0]
    np.testing.assert_allclose(clip_gradients(grads, 10, NUMPY_MATH)[0], [3.0, 4.0])
    np.testing.assert_allclose(clip_gradients(grads, 1, NUMPY_MATH)[0], [0.6, 0.8])


def test_perplexity_by_hand():
    # a model that gives the true token probability 1/4 at every step has perplexity 4
    probs = np.array([0.25, 0.25, 0.25])
    assert perplexity(float(-np.log(probs).mean())) == pytest.approx(4.0)
    # mixed probabilities: the geometric mean of 1/p
    probs = np.array([0.5, 0.125])
    assert perplexity(float(-np.log(probs).mean())) == pytest.approx(4.0)
    assert perplexity(0.0) == 1.0
    assert perplexity(1e6) == math.inf
