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

``levers(backend) -> list[Lever]`` (optional)
    The adapter's fast paths, each against the variant without it, for ``scripts/levers.py``;
    built from the framework-free helpers at the end of this module.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
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

    def __init__(
        self,
        d2l: Any,
        lines: list[str],
        token: str,
        batch_size: int,
        num_steps: int,
        max_tokens: int,
        on_first_batch: Callable[[], None] | None = None,
    ) -> None:
        tokens = d2l.tokenize(lines, token)
        self.vocab = d2l.Vocab(tokens)
        self.corpus = [self.vocab[t] for line in tokens for t in line][:max_tokens]
        self.d2l = d2l
        self.batch_size = batch_size
        self.num_steps = num_steps
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
    """The book's ``read_time_machine`` lines of the text at ``path`` (its download step pointed at
    it)."""
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


# --- levers (scripts/levers.py) ----------------------------------------------------------------
#: switches one thing of a backend while a variant trains: ``context(backend)`` is a context manager
Context = Callable[[Any], contextlib.AbstractContextManager]


@dataclass(frozen=True)
class Variant:
    label: str
    context: Context
    model_class: type | None = None  # None: the backend's own class of the lever's kind


@dataclass(frozen=True)
class Lever:
    """One fast path: the library's variant against another, for one model kind
    (``RNN``/``RNNScratch``)."""

    name: str
    kind: str
    other: Variant
    library: Variant


@contextlib.contextmanager
def unchanged(backend: Any) -> Iterator[None]:
    yield


LIBRARY = Variant("library", unchanged)


@contextlib.contextmanager
def patched(obj: Any, name: str, value: Any) -> Iterator[None]:
    """``obj.name = value`` inside the block, restored after it."""
    old = getattr(obj, name)
    setattr(obj, name, value)
    try:
        yield
    finally:
        setattr(obj, name, old)


def sync_every_batch(backend: Any) -> contextlib.AbstractContextManager:
    """Read the loss on the host after every batch (as the book's loops do) instead of once per
    epoch."""
    compile_step = type(backend).compile_step

    def compile_and_sync(self: Any, step: Callable) -> Callable:
        compiled = compile_step(self, step)

        def run(X: Any, Y: Any, state: Any) -> Any:
            loss, state = compiled(X, Y, state)
            self.to_float(loss)
            return loss, state
        return run
    return patched(type(backend), "compile_step", compile_and_sync)


def eager(backend: Any) -> contextlib.AbstractContextManager:
    """No compiled step: the step runs op by op."""
    return patched(type(backend), "compile_step", lambda self, step: step)


def host_read_lever() -> Lever:
    """The loss read on the host once per epoch (the library) or after every batch."""
    return Lever(
        "loss read once per epoch, not per batch",
        "RNN",
        Variant("per-batch read", sync_every_batch),
        LIBRARY,
    )
