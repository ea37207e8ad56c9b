"""The contract of every backend's benchmark baselines (``backends/<name>/floor.py``).

Each adapter folder may hold a ``floor.py`` with two functions that only :mod:`d2lrnn.bench.worker`
calls, each in a fresh process:

``train_floor(batches, vocab_size, num_hiddens, lr, clip, epochs, device="cpu", on_first_batch=None,
weights=None) -> list[Epoch]``
    The concise model written directly in the framework, at the adapter's compile level and doing
    the adapter's work: the same layers and input path (one-hot into the framework's RNN layer), the
    same frozen second recurrent bias, the same loss, branch-free global-norm clipping and plain SGD
    update, the state carried across batches and reset each epoch, one host read per epoch.
    ``weights`` (canonical names, :func:`d2lrnn.model.canonical_names`) replaces the framework's
    initial weights, so that a test can check it computes the library's losses.

``train_book(d2l, data, num_hiddens, lr, epochs, device="cpu") -> list[Epoch]`` (optional)
    The book's own concise model trained by the ``d2l`` package's ``train_epoch_ch8`` (the loop
    ``train_ch8`` runs), on ``data`` from :func:`book_batches`.

Both return one ``{"tokens", "seconds", "loss"}`` dict per epoch (``loss``: the mean cross-entropy).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any

import numpy as np

#: the training batches, NumPy ``(X, Y)`` pairs built once before the first epoch
Batches = Sequence[tuple[np.ndarray, np.ndarray]]
#: one epoch's measurement: ``{"tokens", "seconds", "loss"}``
Epoch = dict[str, float]


class BookBatches:
    """The book's sequential minibatches, drawn afresh (with the book's random offset) every epoch.

    Built with the ``d2l`` package's own ``tokenize``, ``Vocab`` and ``seq_data_iter_sequential``,
    as its ``load_corpus_time_machine`` does, but for characters or words. ``on_first_batch`` is
    called once, when the loop asks for the second batch (the first step has been dispatched; a
    caller that needs it finished synchronises in the callback). :attr:`tokens` counts the labels
    handed out in the last pass.
    """

    def __init__(self, d2l: Any, lines: list[str], token: str, batch_size: int, num_steps: int, max_tokens: int,
                 on_first_batch: Callable[[], None] | None = None) -> None:
        tokens = d2l.tokenize(lines, token)
        self.vocab = d2l.Vocab(tokens)
        self.corpus = [self.vocab[t] for line in tokens for t in line][:max_tokens]
        self.d2l, self.batch_size, self.num_steps = d2l, batch_size, num_steps
        self.on_first_batch, self.tokens = on_first_batch, 0

    def __iter__(self) -> Iterator[Any]:
        self.tokens = 0
        for X, Y in self.d2l.seq_data_iter_sequential(self.corpus, self.batch_size, self.num_steps):
            yield X, Y
            self.tokens += self.batch_size * self.num_steps
            if self.on_first_batch is not None:
                self.on_first_batch()
                self.on_first_batch = None


def book_lines(d2l: Any, path: str) -> list[str]:
    """The book's ``read_time_machine`` lines of the text at ``path`` (its download step pointed at it)."""
    d2l.download = lambda *args, **kwargs: path
    return d2l.read_time_machine()


def time_epochs(epochs: int, run_epoch: Callable[[], tuple[float, int]]) -> list[Epoch]:
    """Call ``run_epoch() -> (mean loss, tokens)`` ``epochs`` times, timing each call."""
    import time

    out: list[Epoch] = []
    for _ in range(epochs):
        start = time.perf_counter()
        loss, tokens = run_epoch()
        out.append({"tokens": tokens, "seconds": time.perf_counter() - start, "loss": loss})
    return out
