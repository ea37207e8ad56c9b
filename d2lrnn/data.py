"""Minibatch iterators over a token-index corpus and the two data APIs of the book.

Batches are NumPy ``int64`` arrays ``(X, Y)`` of shape ``(batch_size, num_steps)`` where ``Y`` is
``X`` shifted by one token; adapters turn them into framework tensors.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import numpy as np

from . import checks
from .corpus import load_corpus_text
from .errors import CorpusError
from .vocab import Vocab, preprocess, tokenize

Batch = tuple[np.ndarray, np.ndarray]
SAMPLINGS = ("sequential", "random")
TOKENS = ("char", "word")


def min_tokens(batch_size: int, num_steps: int) -> int:
    """The fewest tokens that give one batch of ``batch_size`` x ``num_steps`` (any sampling, any
    offset)."""
    return batch_size * num_steps + num_steps + 1


def _check_length(num_tokens: int, batch_size: int, num_steps: int, what: str = "corpus") -> None:
    needed = min_tokens(batch_size, num_steps)
    if num_tokens < needed:
        raise CorpusError(
            f"The {what} has {num_tokens} tokens, but one batch of {batch_size} x {num_steps} "
            "needs at "
            f"least {needed} (batch_size * num_steps + num_steps + 1). Use a longer text, or a "
            "smaller "
            "batch_size or num_steps."
        )


def random_batches(
    corpus: np.ndarray, batch_size: int, num_steps: int, rng: np.random.Generator
) -> Iterator[Batch]:
    """Random sampling: non-overlapping subsequences from a random start, in shuffled order.

    Neighbouring batches are not adjacent in the text, so the state must be reset per batch.
    """
    start = int(rng.integers(0, num_steps))
    num_subseqs = (len(corpus) - start - 1) // num_steps
    starts = start + num_steps * rng.permutation(num_subseqs)
    offsets = np.arange(num_steps)
    for first in range(0, (num_subseqs // batch_size) * batch_size, batch_size):
        rows = starts[first : first + batch_size, None] + offsets
        yield corpus[rows], corpus[rows + 1]


def sequential_batches(
    corpus: np.ndarray, batch_size: int, num_steps: int, rng: np.random.Generator | None
) -> Iterator[Batch]:
    """Sequential partitioning: row ``i`` of each batch continues row ``i`` of the previous one.

    With ``rng`` the start is a random offset in ``[0, num_steps]``; without, it is 0.
    """
    start = int(rng.integers(0, num_steps + 1)) if rng is not None else 0
    usable = ((len(corpus) - start - 1) // batch_size) * batch_size
    inputs = corpus[start : start + usable].reshape(batch_size, -1)
    labels = corpus[start + 1 : start + 1 + usable].reshape(batch_size, -1)
    for col in range(0, (inputs.shape[1] // num_steps) * num_steps, num_steps):
        yield inputs[:, col : col + num_steps], labels[:, col : col + num_steps]


class SeqDataLoader:
    """Iterable over ``(X, Y)`` batches of a corpus; each ``iter()`` is a new epoch.

    ``sampling`` is ``'sequential'`` (state carries across batches) or ``'random'``.
    A ``seed`` makes the sequence of epochs reproducible; ``rng.bit_generator.state`` can be saved
    and restored to continue the same sequence. ``what`` names the corpus in error messages. The
    arguments are checked here; :class:`TimeMachine` and :func:`load_data_time_machine`, which
    check their own, build their loaders with :meth:`trusted`.
    """

    def __init__(
        self,
        corpus: np.ndarray,
        batch_size: int,
        num_steps: int,
        sampling: str = "sequential",
        seed: int | None = None,
        *,
        what: str = "corpus",
    ) -> None:
        batch_size = checks.positive_int("batch_size", batch_size)
        num_steps = checks.positive_int("num_steps", num_steps)
        sampling = checks.one_of("sampling", sampling, SAMPLINGS)
        self._setup(corpus, batch_size, num_steps, sampling, seed, what)

    @classmethod
    def trusted(
        cls,
        corpus: np.ndarray,
        batch_size: int,
        num_steps: int,
        sampling: str = "sequential",
        seed: int | None = None,
        *,
        what: str = "corpus",
    ) -> SeqDataLoader:
        """A loader from arguments the caller has already checked (only the corpus length is
        checked)."""
        loader = cls.__new__(cls)
        loader._setup(corpus, batch_size, num_steps, sampling, seed, what)
        return loader

    def _setup(
        self,
        corpus: np.ndarray,
        batch_size: int,
        num_steps: int,
        sampling: str,
        seed: int | None,
        what: str,
    ) -> None:
        self.batch_size = batch_size
        self.num_steps = num_steps
        self.sampling = sampling
        self.corpus = np.asarray(corpus, dtype=np.int64)
        _check_length(len(self.corpus), batch_size, num_steps, what)
        self.rng = np.random.default_rng(seed)

    @property
    def carries_state(self) -> bool:
        """Whether the hidden state may flow from one batch into the next."""
        return self.sampling == "sequential"

    def __iter__(self) -> Iterator[Batch]:
        make = sequential_batches if self.carries_state else random_batches
        return make(self.corpus, self.batch_size, self.num_steps, self.rng)

    def __len__(self) -> int:
        if self.carries_state:  # the largest random offset bounds the count from below
            return (len(self.corpus) - self.num_steps - 1) // self.batch_size // self.num_steps
        return (len(self.corpus) - self.num_steps) // self.num_steps // self.batch_size


def build_corpus(
    text: str, token: str = "char", max_tokens: int = -1, vocab: Vocab | None = None
) -> tuple[np.ndarray, Vocab]:
    """Preprocess and tokenize ``text``; return its index array and the vocabulary."""
    tokens = tokenize(preprocess(text), token)
    vocab = vocab or Vocab(tokens)
    corpus = np.asarray(vocab[tokens], dtype=np.int64)
    if max_tokens and max_tokens > 0:
        corpus = corpus[:max_tokens]
    return corpus, vocab


def load_data_time_machine(
    batch_size: int,
    num_steps: int,
    use_random_iter: bool = False,
    max_tokens: int = 10000,
    *,
    corpus: str | os.PathLike | None = None,
    data_dir: str | os.PathLike | None = None,
    token: str = "char",
    seed: int | None = None,
) -> tuple[SeqDataLoader, Vocab]:
    """The d2l 0.x API: a batch iterator over the first ``max_tokens`` tokens and the vocabulary."""
    batch_size = checks.positive_int("batch_size", batch_size)
    num_steps = checks.positive_int("num_steps", num_steps)
    checks.one_of("token", token, TOKENS)
    indices, vocab = build_corpus(load_corpus_text(corpus, data_dir), token, max_tokens)
    sampling = "random" if use_random_iter else "sequential"
    return SeqDataLoader.trusted(indices, batch_size, num_steps, sampling, seed), vocab


class TimeMachine:
    """The d2l 1.0 style data module with a train/validation split.

    The first ``num_train`` tokens train the model, the next ``num_val`` validate it. Training
    batches follow ``sampling``; validation batches are always sequential from offset 0.
    """

    def __init__(
        self,
        batch_size: int = 32,
        num_steps: int = 35,
        num_train: int = 10000,
        num_val: int = 5000,
        *,
        sampling: str = "sequential",
        token: str = "char",
        corpus: str | os.PathLike | None = None,
        data_dir: str | os.PathLike | None = None,
        seed: int | None = None,
    ) -> None:
        self.batch_size = checks.positive_int("batch_size", batch_size)
        self.num_steps = checks.positive_int("num_steps", num_steps)
        self.num_train = checks.positive_int("num_train", num_train)
        self.num_val = checks.non_negative_int("num_val", num_val, "no validation")
        self.sampling = checks.one_of("sampling", sampling, SAMPLINGS)
        checks.one_of("token", token, TOKENS)
        indices, self.vocab = build_corpus(load_corpus_text(corpus, data_dir), token)
        self.corpus = indices
        self.train_corpus = indices[: self.num_train]
        self.val_corpus = indices[self.num_train : self.num_train + self.num_val]
        what = "corpus"
        if len(indices) > self.num_train:
            what = f"training part (its first {self.num_train} tokens: max_tokens / num_train)"
        shape = (self.batch_size, self.num_steps)
        self.train_loader = SeqDataLoader.trusted(
            self.train_corpus, *shape, self.sampling, seed, what=what
        )
        has_val = len(self.val_corpus) >= min_tokens(*shape)
        self.val_loader = (
            SeqDataLoader.trusted(self.val_corpus, *shape, what="validation part")
            if has_val
            else None
        )

    def train_dataloader(self) -> SeqDataLoader:
        return self.train_loader

    def val_dataloader(self) -> Iterator[Batch]:
        """Validation batches (empty when the held-out part is shorter than one batch)."""
        if self.val_loader is None:
            return iter(())
        return sequential_batches(self.val_loader.corpus, self.batch_size, self.num_steps, None)
