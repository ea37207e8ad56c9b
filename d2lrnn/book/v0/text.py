"""d2l 0.x's text names ("Text Preprocessing", "Language Models and the Dataset"), for every 0.x
tab.

``read_time_machine``, ``tokenize``, ``count_corpus``, ``Vocab``, ``load_corpus_time_machine``,
``seq_data_iter_random``, ``seq_data_iter_sequential``, ``SeqDataLoader``, ``DATA_HUB``,
``download`` and ``plot``. The batching is the library's (:mod:`d2lrnn.data`); a tab module calls
:func:`text_names` with its framework's tensor constructor, so batches come as that framework's
tensors.
"""

from __future__ import annotations

import collections
import inspect
import os
import random
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import numpy as np

from ...corpus import TIME_MACHINE_NAME, TIME_MACHINE_SHA1, load_corpus_text
from ...data import load_data_time_machine as _load_numpy
from ...data import random_batches, sequential_batches
from ...vocab import Vocab as _Vocab
from ...vocab import preprocess
from ...vocab import tokenize as _tokenize_line
from ..v1 import DATA_URL, BookAPIError, plot
from ..v1 import download as _download_url
from . import TensorBatches

#: the book's registry of data files: name -> (url, SHA-1); only the corpus is served
DATA_HUB: dict[str, tuple[str, str]] = {
    "time_machine": (DATA_URL + TIME_MACHINE_NAME, TIME_MACHINE_SHA1)
}
#: the names :func:`text_names` gives a tab
NAMES = (
    "DATA_HUB",
    "DATA_URL",
    "SeqDataLoader",
    "Vocab",
    "count_corpus",
    "download",
    "load_corpus_time_machine",
    "plot",
    "read_time_machine",
    "seq_data_iter_random",
    "seq_data_iter_sequential",
    "tokenize",
)


def download(name: str, cache_dir: str | os.PathLike = "../data") -> str:
    """d2l 0.x's ``download(name)``: the local path of ``DATA_HUB[name]`` (only the time machine is
    served)."""
    if name not in DATA_HUB:
        raise BookAPIError(
            f"d2l 0.x's download() takes a key of d2l.DATA_HUB; {name!r} is none (d2lrnn serves "
            "'time_machine'). "
            "d2l 1.0's download(url) is `from d2lrnn import torch as d2l`."
        )
    url, sha1 = DATA_HUB[name]
    return _download_url(url, cache_dir, sha1)


def read_time_machine() -> list[str]:
    """The corpus as lines of lower-case letters and single spaces."""
    return [preprocess(line) for line in load_corpus_text().splitlines()]


def tokenize(lines: Sequence[str], token: str = "word") -> list[list[str]]:
    """Each line as a list of ``'word'`` or ``'char'`` tokens (the library's
    :func:`d2lrnn.vocab.tokenize`)."""
    if token not in ("word", "char"):
        raise BookAPIError(f"tokenize() splits into 'word' or 'char' tokens, not {token!r}.")
    return [_tokenize_line(line, token) for line in lines]


def _flat_tokens(tokens: Sequence[Any]) -> list[Any]:
    """A list of token lists flattened; a flat list (whose tokens may be tuples: n-grams) as it is.
    """
    if len(tokens) and isinstance(tokens[0], list):
        return [token for line in tokens for token in line]
    return list(tokens)


def count_corpus(tokens: Sequence[Any]) -> collections.Counter:
    """Token frequencies of a flat token list or a list of token lists."""
    return collections.Counter(_flat_tokens(tokens))


class Vocab(_Vocab):
    """The library's frequency-ordered :class:`d2lrnn.vocab.Vocab`; tuple tokens (n-grams) stay
    whole, as in 0.x."""

    def __init__(self, tokens: Sequence[Any] | None = None, min_freq: int = 0,
                 reserved_tokens: Sequence[str] | None = None) -> None:
        super().__init__([_flat_tokens(tokens or [])], min_freq, reserved_tokens)


def load_corpus_time_machine(max_tokens: int = -1) -> tuple[list[int], Vocab]:
    """The character indices of the corpus (the first ``max_tokens`` when positive) and their
    vocabulary."""
    tokens = tokenize(read_time_machine(), "char")
    vocab = Vocab(tokens)
    corpus = [vocab[token] for line in tokens for token in line]
    return (corpus[:max_tokens] if max_tokens > 0 else corpus), vocab


#: each tab's argument order of d2l 0.x's ``RNNModelScratch``
SCRATCH_ORDERS = {
    "torch": ("vocab_size", "num_hiddens", "device", "get_params", "init_state", "forward_fn"),
    "mxnet": ("vocab_size", "num_hiddens", "device", "get_params", "init_state", "forward_fn"),
    "tensorflow": ("vocab_size", "num_hiddens", "init_state", "forward_fn", "get_params"),
}


def scratch_arguments(tab: str, args: Sequence[Any], kwargs: dict[str, Any]) -> dict[str, Any]:
    """A ``RNNModelScratch`` call bound to ``tab``'s argument order; :class:`BookAPIError` when it
    fits it nowhere
    (e.g. another tab's order: the functions are then not where this tab expects them)."""
    order = SCRATCH_ORDERS[tab]
    signature = inspect.Signature(
        [inspect.Parameter(n, inspect.Parameter.POSITIONAL_OR_KEYWORD) for n in order]
    )
    try:
        bound = signature.bind(*args, **kwargs).arguments
    except TypeError as exc:
        bound = {"error": exc}
    functions = [bound.get(n) for n in ("get_params", "init_state", "forward_fn")]
    if "error" in bound or not all(callable(f) for f in functions) or callable(bound.get("device")):
        others = "; ".join(f"{t}: {', '.join(o)}" for t, o in SCRATCH_ORDERS.items() if o != order)
        raise BookAPIError(
            f"This call fits d2l 0.x's RNNModelScratch({', '.join(order)}) on the {tab} tab "
            "nowhere: the three "
            f"functions must be callables in those places (the other tabs' orders: {others})."
        )
    return bound


def _rng() -> np.random.Generator:
    """A generator seeded from Python's ``random`` (the book seeds that one)."""
    return np.random.default_rng(random.getrandbits(64))


def text_names(to_tensor: Callable[[Any], Any]) -> dict[str, Any]:
    """The names of :data:`NAMES` for a tab whose tensors ``to_tensor`` makes (from NumPy arrays).
    """

    def seq_data_iter_random(
        corpus: Sequence[int], batch_size: int, num_steps: int
    ) -> Iterator[tuple[Any, Any]]:
        """Random sampling: subsequences from a random offset, in shuffled order, as tensors."""
        for X, Y in random_batches(
            np.asarray(corpus, dtype=np.int64), batch_size, num_steps, _rng()
        ):
            yield to_tensor(X), to_tensor(Y)

    def seq_data_iter_sequential(
        corpus: Sequence[int], batch_size: int, num_steps: int
    ) -> Iterator[tuple[Any, Any]]:
        """Sequential partitioning from a random offset: each batch continues the previous one, as
        tensors."""
        for X, Y in sequential_batches(
            np.asarray(corpus, dtype=np.int64), batch_size, num_steps, _rng()
        ):
            yield to_tensor(X), to_tensor(Y)

    class SeqDataLoader(TensorBatches):
        """``SeqDataLoader(batch_size, num_steps, use_random_iter, max_tokens)``: the corpus
        batches, as tensors."""

        def __init__(
            self, batch_size: int, num_steps: int, use_random_iter: bool, max_tokens: int
        ) -> None:
            loader, self.vocab = _load_numpy(batch_size, num_steps, use_random_iter, max_tokens)
            super().__init__(loader, to_tensor)
            self.corpus = loader.corpus.tolist()
            self.batch_size = batch_size
            self.num_steps = num_steps

    return {
        "DATA_HUB": DATA_HUB,
        "DATA_URL": DATA_URL,
        "SeqDataLoader": SeqDataLoader,
        "Vocab": Vocab,
        "count_corpus": count_corpus,
        "download": download,
        "load_corpus_time_machine": load_corpus_time_machine,
        "plot": plot,
        "read_time_machine": read_time_machine,
        "seq_data_iter_random": seq_data_iter_random,
        "seq_data_iter_sequential": seq_data_iter_sequential,
        "tokenize": tokenize,
    }
