"""The training loop, written once for every backend."""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from . import checks, live
from .backends import backend_for
from .backends.base import Backend
from .errors import D2LRNNError, DivergenceError
from .metrics import clip_gradients, perplexity


@dataclass
class EpochStats:
    """What one epoch measured."""

    epoch: int
    perplexity: float
    val_perplexity: float | None
    tokens: int
    seconds: float

    @property
    def tokens_per_sec(self) -> float:
        return self.tokens / self.seconds if self.seconds > 0 else math.inf

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "tokens_per_sec": self.tokens_per_sec}


Callback = Callable[["Trainer", EpochStats], Any]
#: an epoch running longer than this (seconds) gets a per-batch progress bar
BATCH_BAR_AFTER = 3.0


def sgd_step(
    backend: Backend,
    model: Any,
    params: list[Any],
    X: Any,
    Y: Any,
    state: Any,
    lr: float,
    clip: float,
    reduce: Callable[[Any, list[Any]], Any] | None = None,
):
    """One minibatch SGD step with gradient clipping; returns the (detached) loss and the new state.

    ``reduce(loss, grads)`` (a :class:`d2lrnn.distributed.Group`) averages both over the workers
    before clipping, so clipping sees the global norm; None in one process.
    """
    loss, grads, state = backend.loss_and_grads(model, params, X, Y, state)
    if reduce is not None:
        loss, grads = reduce(loss, grads)
    backend.sgd_update(params, clip_gradients(grads, clip, backend.math), lr)
    return loss, state


def make_train_step(backend: Backend, model: Any, lr: float, clip: float,
                    compile: bool = True, reduce: Callable[[Any, list[Any]], Any] | None = None,
                    ) -> Callable[[Any, Any, Any], Any]:
    """A step function ``step(X, Y, state) -> (loss, state)``, compiled by the backend on first use
    (unless ``compile`` is False: Python-level model code that graph compilers cannot trace).

    The parameters are collected on the first batch (frameworks such as Keras build lazily).
    """
    compiled = None

    def step(X: Any, Y: Any, state: Any) -> Any:
        nonlocal compiled
        if compiled is None:
            params = backend.parameters(model, X)
            def update(X: Any, Y: Any, state: Any) -> Any:
                return sgd_step(backend, model, params, X, Y, state, lr, clip, reduce)

            compiled = backend.compile_step(update) if compile else update
        return compiled(X, Y, state)

    return step


def _batches(data: Any, split: str) -> Iterable[Any]:
    getter = getattr(data, f"{split}_dataloader", None)
    if getter is not None:
        return getter()
    return data if split == "train" else ()


def _carries_state(loader: Any) -> bool:
    return bool(getattr(loader, "carries_state", True))


def _host_batches(loader: Any) -> Iterable[Any]:
    """NumPy ``(X, Y)`` batches: a loader that yields framework tensors offers them as
    ``host_batches()``."""
    host = getattr(loader, "host_batches", None)
    return host() if host is not None else loader


class Trainer:
    """Minibatch SGD for a language model of any backend.

    ``Trainer(max_epochs=500, gradient_clip_val=1).fit(model, data)`` trains ``model`` (any
    adapter's ``RNN`` / ``RNNScratch`` or a subclass) on ``data`` (a :class:`~d2lrnn.TimeMachine`,
    or any iterable of NumPy ``(X, Y)`` batches). The learning rate is ``lr`` or ``model.lr``.
    Every epoch records the training perplexity, the validation perplexity (every ``val_every``
    epochs, when ``data`` has a validation split) and tokens/second; ``callbacks`` are called with
    ``(trainer, stats)`` after each epoch, ``batch_callbacks`` with ``(trainer,)`` after each batch
    (keep them cheap: e.g. :class:`~d2lrnn.threads.ThreadGovernor` reads a clock). ``plot`` draws
    the perplexity curve live in a Jupyter notebook (:mod:`d2lrnn.live`): None, the default, draws
    it only inside a notebook; True or False force it on or off.

    Setting :attr:`stop_requested` ends training after the current epoch; :meth:`interrupt` ends it
    after the current batch and leaves the unfinished epoch out of :attr:`epoch` and
    :attr:`history` (:attr:`interrupted` tells ``fit``'s caller it happened; set it back to False
    to continue with another ``fit``). A non-finite loss
    (or one whose perplexity overflows) raises :class:`~d2lrnn.DivergenceError` before any callback
    sees the epoch.
    """

    def __init__(
        self,
        max_epochs: int,
        gradient_clip_val: float = 0.0,
        *,
        lr: float | None = None,
        device: Any = None,
        num_gpus: int = 0,
        callbacks: Sequence[Callback] = (),
        batch_callbacks: Sequence[Callable[[Trainer], None]] = (),
        progress: bool | None = None,
        val_every: int = 1,
        plot: bool | None = None,
    ) -> None:
        self.max_epochs = checks.positive_int("max_epochs", max_epochs)
        self.gradient_clip_val = checks.non_negative_float(
            "gradient_clip_val", gradient_clip_val or 0.0, "no clipping"
        )
        self.lr = None if lr is None else checks.positive_float("lr", lr)
        self.device, self.num_gpus = device, num_gpus
        self.callbacks = list(callbacks)
        self.batch_callbacks = list(batch_callbacks)
        self.progress, self.val_every = progress, checks.positive_int("val_every", val_every)
        self.plot = plot
        self.history: list[EpochStats] = []
        self.epoch = 0
        self.stop_requested = False
        self.interrupted = False
        self.backend: Backend | None = None
        #: whether the backend may compile the training step (e.g. ``tf.function``)
        self.compile_steps = True
        #: the data-parallel worker group (:mod:`d2lrnn.distributed`); None in one process
        self.collective: Any = None
        #: : with a group: this worker was asked to stop (see interrupt)
        self.stop_requested_by_signal = False

    # --- public ---------------------------------------------------------------------------
    def fit(self, model: Any, data: Any, *, epochs: int | None = None) -> list[EpochStats]:
        """Train for the remaining epochs (from :attr:`epoch` to ``max_epochs``), or for ``epochs``
        more
        (beyond ``max_epochs`` if need be); return the history."""
        backend = self.backend = backend_for(model)
        if self.device is None:
            self.device = backend.try_gpu() if self.num_gpus else backend.cpu()
        backend.to_device(model, self.device)
        lr = float(self.lr if self.lr is not None else getattr(model, "lr", 1.0))
        clip = self.gradient_clip_val
        train = _batches(data, "train")
        step = self._make_step(backend, model, lr, clip)
        self.stop_requested = False
        callbacks = [*self.callbacks, *live.live_callbacks(self.plot)]

        last = self.max_epochs if epochs is None else self.epoch + epochs
        bar = _progress(range(self.epoch, last), self.progress, backend.name)
        for epoch in bar:
            result = None if self.interrupted else self._train_epoch(step, train)
            if result is None:  # interrupted: the unfinished epoch is not recorded
                break
            train_loss, tokens, seconds = result
            stats = EpochStats(epoch + 1, perplexity(train_loss), None, tokens, seconds)
            # a NaN/inf loss, or one so large exp() overflows
            if not math.isfinite(stats.perplexity):
                raise DivergenceError(
                    f"Training diverged in epoch {epoch + 1} of {self.max_epochs}: the loss became "
                    f"{train_loss:.4g} (perplexity {stats.perplexity}). Lower the learning rate "
                    f"(now {lr:g}) or enable gradient clipping "
                    f"(now {f'{clip:g}' if clip else 'off'}).",
                    epoch=epoch + 1,
                    lr=lr,
                    clip=clip,
                )
            if (epoch + 1) % self.val_every == 0 or epoch + 1 == last:
                stats.val_perplexity = self.evaluate(model, data)
            self.history.append(stats)
            self.epoch = epoch + 1
            if hasattr(bar, "set_postfix"):
                bar.set_postfix(ppl=f"{stats.perplexity:.2f}", tok_s=f"{stats.tokens_per_sec:,.0f}")
            for callback in callbacks:
                callback(self, stats)
            if self.stop_requested:
                break
        return self.history

    def interrupt(self) -> None:
        """Stop ``fit`` after the current batch (safe to call from a signal handler).

        With a worker group the request waits for the next batch's agreement (:meth:`Group.any`), so
        every worker stops after the same batch.
        """
        if self.collective is not None:
            self.stop_requested_by_signal = True
        else:
            self.interrupted = True

    def evaluate(self, model: Any, data: Any) -> float | None:
        """Perplexity on ``data``'s validation batches (state carried across them), or None."""
        backend = self.backend or backend_for(model)
        total = None
        count = 0
        state = None
        val = _batches(data, "val")
        carry = _carries_state(val)
        for X, Y in _host_batches(val):
            state = backend.detach(state) if carry else None
            loss, state = backend.loss(
                model, backend.tensor(X, self.device), backend.tensor(Y, self.device), state
            )
            total = loss if total is None else total + loss
            count += 1
        return perplexity(backend.to_float(total) / count) if count else None

    def summary(self) -> dict[str, Any]:
        """The last perplexities, training speed and time.

        ``tokens_per_sec`` leaves out the first epoch when there are more (it includes one-off work
        such as graph compilation, reported as ``first_epoch_seconds``).
        """
        if not self.history:
            return {}
        steady = self.history[1:] or self.history
        tokens, seconds = sum(s.tokens for s in steady), sum(s.seconds for s in steady)
        last = self.history[-1]
        val = next(
            (s.val_perplexity for s in reversed(self.history) if s.val_perplexity is not None), None
        )
        return {
            "epochs": last.epoch,
            "perplexity": last.perplexity,
            "val_perplexity": val,
            "tokens_per_sec": tokens / seconds if seconds else math.inf,
            "train_seconds": sum(s.seconds for s in self.history),
            "first_epoch_seconds": self.history[0].seconds,
            "device": self.backend.device_name(self.device) if self.backend else str(self.device),
        }

    # --- internals ------------------------------------------------------------------------
    def _make_step(
        self, backend: Backend, model: Any, lr: float, clip: float
    ) -> Callable[[Any, Any, Any], Any]:
        """The per-batch step ``step(X, Y, state) -> (loss, state)`` (the book's Trainer supplies
        its own)."""
        if self.collective is not None:  # a worker group may run the step's primitives its own way
            backend = self.collective.step_backend(backend)
        return make_train_step(backend, model, lr, clip, self.compile_steps, self.collective)

    def _train_epoch(
        self, step: Callable[..., Any], train: Iterable[Any]
    ) -> tuple[float, int, float] | None:
        backend = self.backend
        carry = _carries_state(train)
        total = None
        batches = 0
        tokens = 0
        state = None
        bar = None
        start = time.perf_counter()
        for X_np, Y_np in _host_batches(train):
            X, Y = backend.tensor(X_np, self.device), backend.tensor(Y_np, self.device)
            state = backend.detach(state) if carry and state is not None else None
            loss, state = step(X, Y, state)
            if self.collective is not None:  # every worker stops after the same batch
                self.interrupted = self.collective.any(self.stop_requested_by_signal)
            total = loss if total is None else total + loss
            batches += 1
            tokens += Y_np.size
            for callback in self.batch_callbacks:
                callback(self)
            if bar is not None:
                bar.update()
            elif self.progress is not False and time.perf_counter() - start > BATCH_BAR_AFTER:
                bar = _batch_bar(train, batches, self.progress)
            if self.interrupted:
                break
        if bar is not None:
            bar.close()
        if self.interrupted:
            return None
        if not batches:
            raise D2LRNNError(
                "The training data gave no batches this epoch. Pass something that can be iterated "
                "once per "
                "epoch (a TimeMachine, a SeqDataLoader or a list of (X, Y) batches), not a used-up "
                "generator."
            )
        mean_loss = backend.to_float(total) / batches  # the epoch's only host synchronisation
        return mean_loss, tokens, time.perf_counter() - start


def _batch_bar(train: Any, done: int, enabled: bool | None) -> Any:
    """A per-batch progress bar for an epoch that has run longer than :data:`BATCH_BAR_AFTER`
    seconds."""
    total = len(train) if hasattr(train, "__len__") else None
    return live.progress_bar(
        None,
        enabled,
        total=total,
        initial=done,
        desc="batches",
        unit="batch",
        leave=False,
        dynamic_ncols=True,
    )


def _progress(epochs: range, enabled: bool | None, label: str) -> Iterable[int]:
    if enabled is False:
        return epochs
    return live.progress_bar(
        epochs, enabled, desc=f"training ({label})", unit="epoch", leave=False, dynamic_ncols=True
    )
