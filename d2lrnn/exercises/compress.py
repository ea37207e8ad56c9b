"""Text compression with a language model: an arithmetic (range) coder and bits per character.

A language model that assigns probability ``p`` to the next character can store it in about
``-log2 p`` bits. :func:`encode` and :func:`decode` turn that into real bytes: an integer range
coder (32-bit low/range, byte-wise output, carry propagation as in LZMA) driven by a
*probability model*, a callable that maps the symbols seen so far to a distribution over the
next one. Encoder and decoder ask the model the same questions in the same order, so the round
trip is exact as long as the model is deterministic.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from ..backends import backend_for
from ..metrics import perplexity
from ..predict import softmax

#: maps the symbols so far to the probabilities of the next symbol (a vector over the alphabet)
ProbabilityModel = Callable[[Sequence[int]], np.ndarray]

TOP = 1 << 24  # renormalise when the range falls below this
MASK32 = (1 << 32) - 1
#: the frequencies of one step sum to at most this (keeps range // total >= 256)
TOTAL_BITS = 16


def bits_per_char(mean_cross_entropy: float) -> float:
    """Bits per token of a model with this mean cross-entropy (nats): ``log2(perplexity)``."""
    return math.log2(perplexity(mean_cross_entropy))


def quantize(probs: np.ndarray, total_bits: int = TOTAL_BITS) -> np.ndarray:
    """Integer frequencies for ``probs``: every symbol at least 1, the sum at most
    ``2**total_bits``."""
    p = np.asarray(probs, dtype=np.float64).reshape(-1)
    if p.size == 0 or not np.all(np.isfinite(p)) or np.any(p < 0) or p.sum() <= 0:
        raise ValueError(
            "A probability model must return finite, non-negative probabilities with a positive "
            "sum."
        )
    budget = (1 << total_bits) - p.size
    if budget <= 0:
        raise ValueError(
            f"An alphabet of {p.size} symbols needs total_bits > {math.log2(p.size):.1f}."
        )
    return np.floor(p / p.sum() * budget).astype(np.int64) + 1


def uniform_model(alphabet_size: int) -> ProbabilityModel:
    """A model that knows nothing: every symbol equally likely (``log2(alphabet_size)`` bits each).
    """
    probs = np.full(alphabet_size, 1.0 / alphabet_size)
    return lambda history: probs


def fixed_model(probs: Sequence[float]) -> ProbabilityModel:
    """A model with the same distribution at every position (an order-0 model)."""
    p = np.asarray(probs, dtype=np.float64)
    return lambda history: p


class _Encoder:
    def __init__(self) -> None:
        self.low = 0
        self.range = MASK32
        self.cache = 0
        self.cache_size = 1
        self.out = bytearray()

    def _shift_low(self) -> None:
        # the top byte is settled (or a carry arrived)
        if self.low < 0xFF000000 or self.low > MASK32:
            carry = self.low >> 32
            byte = self.cache
            while True:
                self.out.append((byte + carry) & 0xFF)
                byte = 0xFF
                self.cache_size -= 1
                if self.cache_size == 0:
                    break
            self.cache = (self.low >> 24) & 0xFF
        self.cache_size += 1
        self.low = (self.low << 8) & MASK32

    def encode(self, start: int, freq: int, total: int) -> None:
        r = self.range // total
        self.low += start * r
        self.range = r * freq
        while self.range < TOP:
            self.range <<= 8
            self._shift_low()

    def finish(self) -> bytes:
        for _ in range(5):
            self._shift_low()
        return bytes(self.out)


class _Decoder:
    def __init__(self, data: bytes) -> None:
        self.data, self.pos = data, 0
        self.range, self.code = MASK32, 0
        for _ in range(5):
            self.code = ((self.code << 8) | self._byte()) & MASK32

    def _byte(self) -> int:
        byte = self.data[self.pos] if self.pos < len(self.data) else 0
        self.pos += 1
        return byte

    def decode(self, cum: np.ndarray) -> int:
        total = int(cum[-1])
        r = self.range // total
        value = min(self.code // r, total - 1)
        symbol = int(np.searchsorted(cum, value, side="right")) - 1
        start, freq = int(cum[symbol]), int(cum[symbol + 1] - cum[symbol])
        self.code -= start * r
        self.range = r * freq
        while self.range < TOP:
            self.code = ((self.code << 8) | self._byte()) & MASK32
            self.range <<= 8
        return symbol


def _cumulative(model: ProbabilityModel, history: Sequence[int], total_bits: int) -> np.ndarray:
    freqs = quantize(model(history), total_bits)
    return np.concatenate(([0], np.cumsum(freqs)))


def encode(symbols: Sequence[int], model: ProbabilityModel, total_bits: int = TOTAL_BITS) -> bytes:
    """Arithmetic-code ``symbols`` (integers in ``[0, alphabet_size)``) under ``model``."""
    encoder, history = _Encoder(), []
    for s in symbols:
        cum = _cumulative(model, history, total_bits)
        s = int(s)
        if not 0 <= s < len(cum) - 1:
            raise ValueError(
                f"Symbol {s} is outside the model's alphabet of {len(cum) - 1} symbols."
            )
        encoder.encode(int(cum[s]), int(cum[s + 1] - cum[s]), int(cum[-1]))
        history.append(s)
    return encoder.finish()


def decode(
    data: bytes, length: int, model: ProbabilityModel, total_bits: int = TOTAL_BITS
) -> list[int]:
    """Recover ``length`` symbols from ``data``; ``model`` must be the one :func:`encode` used."""
    decoder, history = _Decoder(data), []
    for _ in range(length):
        history.append(decoder.decode(_cumulative(model, history, total_bits)))
    return history


def ideal_bits(symbols: Sequence[int], model: ProbabilityModel) -> float:
    """The information content ``sum(-log2 p(symbol | history))``: what an ideal coder would need.
    """
    bits, history = 0.0, []
    for s in symbols:
        p = np.asarray(model(history), dtype=np.float64)
        bits -= math.log2(p[int(s)] / p.sum())
        history.append(int(s))
    return bits


class RNNProbabilityModel:
    """A :data:`ProbabilityModel` backed by a trained character RNN of any backend.

    It feeds the model one symbol at a time and keeps the hidden state, so each call costs one
    step when the history grew by one symbol (the case in :func:`encode` and :func:`decode`).
    The first symbol, which has no context, gets a uniform distribution.
    """

    def __init__(self, model: Any, backend: Any = None, device: Any = None) -> None:

        self.model, self.backend = model, backend or backend_for(model)
        self.device = device if device is not None else self.backend.model_device(model)
        self.vocab_size = int(model.num_outputs)
        self._seen = 0
        self._state: Any = None
        self._probs = np.full(self.vocab_size, 1.0 / self.vocab_size)

    def __call__(self, history: Sequence[int]) -> np.ndarray:
        if len(history) < self._seen or len(history) > self._seen + 1:  # not the next step: replay
            self._seen, self._state = 0, None
            self._probs = np.full(self.vocab_size, 1.0 / self.vocab_size)
            for i in range(len(history)):
                self._advance(history[i])
        elif len(history) == self._seen + 1:
            self._advance(history[-1])
        return self._probs

    def _advance(self, symbol: int) -> None:
        X = self.backend.tensor(np.asarray([[symbol]], dtype=np.int64), self.device)
        logits, self._state = self.backend.forward(self.model, X, self._state)
        self._probs = softmax(self.backend.to_numpy(logits))
        self._seen += 1


__all__ = [
    "ProbabilityModel",
    "RNNProbabilityModel",
    "bits_per_char",
    "decode",
    "encode",
    "fixed_model",
    "ideal_bits",
    "quantize",
    "uniform_model",
]
