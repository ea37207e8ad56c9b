"""Text generation from a trained language model, for any backend."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

import numpy as np

from . import checks
from .backends import backend_for
from .backends.base import Backend
from .errors import D2LRNNError
from .vocab import Vocab, preprocess

_ENDS_WITHOUT_LETTER = re.compile(r"[^A-Za-z]$")


def check_prefix(prefix: str | Sequence[str], vocab: Vocab) -> list[str]:
    """The prefix as tokens; an empty prefix or unknown tokens are a clear error."""
    tokens = list(prefix)
    if not tokens:
        raise D2LRNNError(
            "The prefix is empty; give at least one character to start from, e.g. 'time traveller'."
        )
    unknown = sorted({t for t in tokens if t not in vocab})
    if unknown:
        shown = ", ".join(repr(t) for t in unknown)
        known = [t for t in vocab.idx_to_token if t != vocab.to_tokens(vocab.unk)]
        holds = (f"holds only {''.join(sorted(known))!r}" if all(len(t) == 1 for t in known)
                 else f"holds {len(known)} words")
        raise D2LRNNError(
            f"The prefix {prefix if isinstance(prefix, str) else list(prefix)!r} has tokens "
            "outside the "
            f"vocabulary: {shown}. The model's vocabulary {holds} (the text is lower-cased and "
            "stripped of "
            "everything but letters before training)."
        )
    return tokens


def prepare_prefix(text: str, vocab: Vocab) -> tuple[str | list[str], bool]:
    """A prefix as a person types it, run through the corpus's preprocessing; also whether that
    changed it.

    Letters are lower-cased and every run of other characters becomes one space, as in the
    training text (a trailing run stays one space: it still says the next word is new). Word
    vocabularies get a list of words. Tokens still outside ``vocab`` are a :class:`D2LRNNError`.
    """
    cleaned = preprocess(text)
    if cleaned and _ENDS_WITHOUT_LETTER.search(text) and " " in vocab:
        cleaned += " "
    if text and not cleaned:
        raise D2LRNNError(
            f"The prefix {text!r} has no letters; the model only knows the lower-case letters and "
            "spaces its corpus "
            "kept after preprocessing. Give a prefix with letters, e.g. 'time traveller'."
        )
    prefix: str | list[str] = cleaned if vocab.char_level else cleaned.split()
    check_prefix(prefix, vocab)
    return prefix, cleaned != text


def default_prefixes(
    candidates: Sequence[str], vocab: Vocab, corpus_tokens: Sequence[str]
) -> list[str | list[str]]:
    """The ``candidates`` the vocabulary can spell, else one prefix taken from the start of the
    corpus itself."""
    usable: list[str | list[str]] = []
    for text in candidates:
        prefix = text if vocab.char_level else text.split()
        if prefix and all(token in vocab for token in prefix):
            usable.append(prefix)
    if usable or not corpus_tokens:
        return usable
    start = list(corpus_tokens[:2]) if not vocab.char_level else corpus_tokens[:10]
    return ["".join(start) if vocab.char_level else start]


def softmax(logits: Any, temperature: float = 1.0) -> np.ndarray:
    """``softmax(logits / temperature)`` over a flat vector, in float64 (one-hot at the maximum if
    that overflows)."""
    logits = np.asarray(logits, dtype=np.float64).reshape(-1)
    with np.errstate(over="ignore", invalid="ignore"):
        scaled = logits / temperature
        probs = np.exp(scaled - scaled.max())
        probs /= probs.sum()
    # a temperature so small that the logits overflow: the limit is greedy
    if not np.isfinite(probs).all():
        probs = np.zeros_like(logits)
        probs[int(np.argmax(logits))] = 1.0
    return probs


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
    seed = checks.seed("seed", seed)
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
