"""Text preprocessing, tokenization and the :class:`Vocab` that maps tokens to indices."""

from __future__ import annotations

import collections
import re
from collections.abc import Iterable, Sequence
from typing import Any

UNK = "<unk>"
_NON_LETTERS = re.compile(r"[^A-Za-z]+")


def preprocess(text: str) -> str:
    """Keep letters only, squeeze everything else into single spaces, and lower-case."""
    return _NON_LETTERS.sub(" ", text).strip().lower()


def tokenize(text: str, token: str = "char") -> list[str]:
    """Split preprocessed text into ``'char'`` or ``'word'`` tokens."""
    if token == "char":
        return list(text)
    if token == "word":
        return text.split()
    raise ValueError(f"Unknown token type {token!r}; use 'char' or 'word'.")


def _flatten(tokens: Iterable[Any]) -> list[str]:
    flat: list[str] = []
    for item in tokens:
        if isinstance(item, (list, tuple)):
            flat.extend(item)
        else:
            flat.append(item)
    return flat


class Vocab:
    """Map tokens to indices, most frequent first, with ``<unk>`` at index 0.

    Tokens seen fewer than ``min_freq`` times map to ``<unk>``. ``reserved_tokens`` follow
    ``<unk>`` in the given order. Accepts a flat token list or a list of token lists.
    """

    def __init__(
        self,
        tokens: Iterable[Any] = (),
        min_freq: int = 0,
        reserved_tokens: Sequence[str] | None = None,
    ) -> None:
        counter = collections.Counter(_flatten(tokens))
        self.token_freqs: list[tuple[str, int]] = sorted(
            counter.items(), key=lambda kv: (-kv[1], kv[0])
        )
        self.idx_to_token: list[str] = [UNK, *[t for t in (reserved_tokens or []) if t != UNK]]
        known = set(self.idx_to_token)
        for token, freq in self.token_freqs:
            if freq >= min_freq and token not in known:
                self.idx_to_token.append(token)
                known.add(token)
        self.idx_to_token = self._ordered(self.idx_to_token)
        self.token_to_idx: dict[str, int] = {t: i for i, t in enumerate(self.idx_to_token)}

    def _ordered(self, kept: list[str]) -> list[str]:
        """The index order of the kept tokens (``<unk>``, the reserved ones, then by frequency)."""
        return kept

    def __len__(self) -> int:
        return len(self.idx_to_token)

    def __getitem__(self, tokens: Any) -> Any:
        if isinstance(tokens, (list, tuple)):
            return [self[t] for t in tokens]
        return self.token_to_idx.get(tokens, self.unk)

    def __contains__(self, token: str) -> bool:
        return token in self.token_to_idx

    def to_tokens(self, indices: Any) -> Any:
        """Map an index, or a sequence of indices, back to tokens."""
        if hasattr(indices, "tolist"):
            indices = indices.tolist()
        if isinstance(indices, (list, tuple)):
            return [self.idx_to_token[int(i)] for i in indices]
        return self.idx_to_token[int(indices)]

    @property
    def char_level(self) -> bool:
        """Whether the counted tokens are single characters (rather than words)."""
        return all(len(token) == 1 for token, _ in self.token_freqs)

    @property
    def unk(self) -> int:
        return 0

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready description that :meth:`from_dict` restores exactly."""
        return {
            "idx_to_token": list(self.idx_to_token),
            "token_freqs": [list(p) for p in self.token_freqs],
        }

    @classmethod
    def from_dict(cls, state: dict[str, Any]) -> Vocab:
        vocab = cls.__new__(cls)
        vocab.idx_to_token = list(state["idx_to_token"])
        vocab.token_to_idx = {t: i for i, t in enumerate(vocab.idx_to_token)}
        vocab.token_freqs = [tuple(p) for p in state.get("token_freqs", [])]
        return vocab

    def __repr__(self) -> str:
        return f"Vocab(size={len(self)})"


class SortedVocab(Vocab):
    """d2l 1.0's vocabulary: the kept tokens and ``<unk>`` in sorted order (``' '`` before
    ``'<unk>'``).

    Frequencies are still counted (:attr:`token_freqs`, most frequent first); only the index
    order differs from :class:`Vocab`, so ``unk`` is wherever ``'<unk>'`` sorts.
    """

    def _ordered(self, kept: list[str]) -> list[str]:
        return sorted(set(kept))

    @property
    def unk(self) -> int:
        return self.token_to_idx[UNK]
