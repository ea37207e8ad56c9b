"""Text generation from a trained language model, for any backend."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from . import checks
from .backends import backend_for
from .backends.base import Backend
from .errors import D2LRNNError
from .vocab import Vocab


def check_prefix(prefix: str | Sequence[str], vocab: Vocab) -> list[str]:
    """The prefix as tokens; an empty prefix or unknown tokens are a clear error."""
    tokens = list(prefix)
    if not tokens:
        raise D2LRNNError("The prefix is empty; give at least one character to start from, e.g. 'time traveller'.")
    unknown = sorted({t for t in tokens if t not in vocab})
    if unknown:
        shown = ", ".join(repr(t) for t in unknown)
        known = [t for t in vocab.idx_to_token if t != vocab.to_tokens(vocab.unk)]
        holds = (f"holds only {''.join(sorted(known))!r}" if all(len(t) == 1 for t in known)
                 else f"holds {len(known)} words")
        raise D2LRNNError(
            f"The prefix {''.join(prefix) if isinstance(prefix, str) else prefix!r} has tokens outside the "
            f"vocabulary: {shown}. The model's vocabulary {holds} (the text is lower-cased and stripped of "
            "everything but letters before training)."
        )
    return tokens


def softmax(logits: Any, temperature: float = 1.0) -> np.ndarray:
    """``softmax(logits / temperature)`` over a flat vector, in float64."""
    scaled = np.asarray(logits, dtype=np.float64).reshape(-1) / temperature
    probs = np.exp(scaled - scaled.max())
    return probs / probs.sum()


def next_token(logits: np.ndarray, temperature: float | None, rng: np.random.Generator) -> int:
    """Greedy choice (``temperature`` None) or a sample from ``softmax(logits / temperature)``."""
    if temperature is None:
        return int(np.argmax(np.asarray(logits).reshape(-1)))
    probs = softmax(logits, temperature)
    return int(rng.choice(len(probs), p=probs))


def predict(
    model: Any,
    prefix: str | Sequence[str],
    num_preds: int,
    vocab: Vocab,
    device: Any = None,
    *,
    temperature: float | None = None,
    seed: int | None = None,
    backend: Backend | None = None,
) -> str:
    """Continue ``prefix`` by ``num_preds`` tokens.

    The state is warmed up on the prefix, then each step feeds back the previous output and takes
    the argmax (``temperature=None``, the default) or samples from ``softmax(logits / temperature)``
    (``temperature > 0``; 0 or less is an error). Returns prefix and continuation joined
    (characters as they are, word tokens with spaces).
    """
    tokens = check_prefix(prefix, vocab)
    num_preds = checks.non_negative_int("num_preds", num_preds)
    temperature = checks.temperature("temperature", temperature)
    backend = backend or backend_for(model)
    device = device if device is not None else backend.model_device(model)
    rng = np.random.default_rng(seed)
    outputs = [vocab[t] for t in tokens]
    state = None
    if len(outputs) > 1:  # warm up on all but the last prefix token in one call
        warm = backend.tensor(np.asarray([outputs[:-1]], dtype=np.int64), device)
        _, state = backend.forward(model, warm, state)
    for _ in range(num_preds):
        step_input = backend.tensor(np.asarray([[outputs[-1]]], dtype=np.int64), device)
        logits, state = backend.forward(model, step_input, state)
        outputs.append(next_token(backend.to_numpy(logits)[-1, -1], temperature, rng))
    joiner = "" if isinstance(prefix, str) else " "
    return joiner.join(vocab.to_tokens(outputs))
