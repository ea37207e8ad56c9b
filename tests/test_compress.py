"""The arithmetic coder: exact round trips and a code length close to the model's information
content."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from d2lrnn.exercises.compress import (
    bits_per_char,
    decode,
    encode,
    fixed_model,
    ideal_bits,
    quantize,
    uniform_model,
)

FIXED = np.array([0.5, 0.2, 0.1, 0.1, 0.05, 0.03, 0.019, 0.001])


def _context_model(alphabet: int):
    """A model that depends on the history (favours repeating the last symbol)."""

    def model(history):
        p = np.ones(alphabet)
        if history:
            p[history[-1]] += 3 * alphabet
        return p / p.sum()

    return model


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(0, len(FIXED) - 1), max_size=400))
def test_round_trip_fixed_model(symbols):
    model = fixed_model(FIXED)
    data = encode(symbols, model)
    assert decode(data, len(symbols), model) == symbols


@settings(max_examples=60, deadline=None)
@given(
    st.integers(2, 300).flatmap(
        lambda n: st.tuples(st.just(n), st.lists(st.integers(0, n - 1), max_size=300))
    )
)
def test_round_trip_uniform_model(case):
    n, symbols = case
    model = uniform_model(n)
    assert decode(encode(symbols, model), len(symbols), model) == symbols


@settings(max_examples=40, deadline=None)
@given(st.lists(st.integers(0, 5), max_size=300))
def test_round_trip_context_model(symbols):
    model = _context_model(6)
    assert decode(encode(symbols, model), len(symbols), model) == symbols


def test_round_trip_text_and_carries():
    # long runs of a near-certain symbol push low towards 0xFF.. and force carry propagation
    rng = np.random.default_rng(0)
    p = np.array([0.999, 0.0005, 0.0005])
    symbols = list(rng.choice(3, size=20000, p=p))
    symbols += [1, 2] * 50 + [0] * 5000
    model = fixed_model(p)
    assert decode(encode(symbols, model), len(symbols), model) == symbols


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_code_length_close_to_cross_entropy(seed):
    rng = np.random.default_rng(seed)
    symbols = list(rng.choice(len(FIXED), size=5000, p=FIXED / FIXED.sum()))
    model = fixed_model(FIXED)
    bits = 8 * len(encode(symbols, model))
    ideal = ideal_bits(symbols, model)
    assert ideal <= bits <= ideal * 1.01 + 64


def test_uniform_model_needs_log2_alphabet_bits():
    rng = np.random.default_rng(3)
    symbols = list(rng.integers(0, 28, size=4000))
    bits = 8 * len(encode(symbols, uniform_model(28)))
    assert bits == pytest.approx(4000 * math.log2(28), rel=0.01, abs=64)


def test_quantize_and_errors():
    freqs = quantize(np.array([1.0, 0.0, 1e-12]))
    assert freqs.min() >= 1 and freqs.sum() <= 1 << 16
    with pytest.raises(ValueError):
        quantize(np.array([np.nan, 1.0]))
    with pytest.raises(ValueError):
        encode([5], fixed_model([0.5, 0.5]))


def test_bits_per_char_is_log2_perplexity():
    assert bits_per_char(math.log(28)) == pytest.approx(math.log2(28))
    assert bits_per_char(0.0) == 0.0


def test_rnn_probability_model_round_trip():
    import importlib.util

    if importlib.util.find_spec("torch") is None:
        pytest.skip("needs torch")
    from d2lrnn import get_backend
    from d2lrnn.exercises.compress import RNNProbabilityModel

    backend = get_backend("torch")
    backend.seed(0)
    model = backend.RNN(num_inputs=10, num_hiddens=16)
    pm = RNNProbabilityModel(model, backend)
    symbols = list(np.random.default_rng(0).integers(0, 10, size=300))
    data = encode(symbols, pm)
    assert decode(data, len(symbols), RNNProbabilityModel(model, backend)) == symbols
    # the same object, reused, replays from scratch
    assert decode(data, len(symbols), pm) == symbols
