"""Checkpoints during training: epoch snapshots, periodic atomic saves, and resuming a run exactly.

A resumable checkpoint is an ordinary checkpoint (see :mod:`d2lrnn.checkpoint`) whose metadata
also holds ``train_state``: the completed epochs, their history, the data loader's random state and
the settings of the run. Restoring all of it makes an interrupted-and-resumed run end with the
same weights as an uninterrupted one.
"""

from __future__ import annotations

import os
from dataclasses import fields
from pathlib import Path
from typing import Any

import numpy as np

from .backends.base import Backend
from .checkpoint import save_weights
from .errors import CheckpointError
from .trainer import EpochStats, Trainer
from .vocab import Vocab

STATE_KEY = "train_state"


def training_state(trainer: Trainer, rng: np.random.Generator, settings: dict[str, Any] | None = None) -> dict[str, Any]:
    """What :func:`restore_training_state` needs, JSON-ready."""
    return {
        "epoch": trainer.epoch,
        "max_epochs": trainer.max_epochs,
        "history": [{f.name: getattr(s, f.name) for f in fields(EpochStats)} for s in trainer.history],
        "rng": rng.bit_generator.state,
        "settings": dict(settings or {}),
    }


def restore_training_state(trainer: Trainer, rng: np.random.Generator, state: dict[str, Any]) -> None:
    """Continue ``trainer`` (epoch count, history) and ``rng`` (the data order) from a saved state."""
    try:
        history = [EpochStats(**entry) for entry in state["history"]]
        rng.bit_generator.state = state["rng"]
        epoch = int(state["epoch"])
    except (KeyError, TypeError, ValueError) as exc:
        raise CheckpointError(f"The checkpoint's training state is damaged ({exc.__class__.__name__}: {exc}).") from None
    trainer.epoch, trainer.history = epoch, history


def resumable_state(meta: dict[str, Any], path: str | os.PathLike) -> dict[str, Any]:
    """The ``train_state`` of a checkpoint's metadata, or a :class:`CheckpointError` saying why it cannot resume."""
    state = meta.get(STATE_KEY)
    if not isinstance(state, dict) or not {"epoch", "history", "rng", "settings"} <= set(state):
        raise CheckpointError(
            f"The checkpoint {path} holds a model but no training state, so training cannot resume from it "
            "(it still works with 'd2lrnn predict'). Checkpoints written by 'd2lrnn train --save' can resume."
        )
    return state


class CheckpointSaver:
    """A :class:`~d2lrnn.Trainer` callback that keeps the last good epoch and writes it atomically.

    After every epoch it snapshots the weights, the trainer's progress and ``rng``'s state (in
    memory; non-finite weights are never taken), and every ``every`` epochs (0: never) writes the
    snapshot to ``path``. :meth:`save` writes the latest snapshot at any time, e.g. after an
    interrupt; the snapshot always describes a whole number of epochs, so resuming from it is exact.
    """

    def __init__(
        self,
        model: Any,
        vocab: Vocab,
        rng: np.random.Generator,
        trainer: Trainer,
        *,
        backend: Backend,
        path: str | os.PathLike | None = None,
        every: int = 0,
        settings: dict[str, Any] | None = None,
    ) -> None:
        self.model, self.vocab, self.rng = model, vocab, rng
        self.backend, self.path, self.every = backend, path, every
        self.settings = dict(settings or {})
        self.saved_epoch: int | None = None
        self.snapshot: tuple[dict[str, np.ndarray], dict[str, Any]] | None = None
        self.take(trainer)

    def take(self, trainer: Trainer) -> bool:
        """Snapshot the current state; returns False (keeping the previous one) for non-finite weights."""
        weights = self.model.get_weights()
        if not all(np.isfinite(w).all() for w in weights.values()):
            return False
        self.snapshot = (weights, training_state(trainer, self.rng, self.settings))
        return True

    def __call__(self, trainer: Trainer, stats: EpochStats) -> None:
        if self.take(trainer) and self.path and self.every and trainer.epoch % self.every == 0:
            self.save()

    @property
    def epoch(self) -> int:
        """The number of completed epochs in the snapshot."""
        return self.snapshot[1]["epoch"] if self.snapshot else 0

    def save(self, path: str | os.PathLike | None = None) -> Path:
        """Write the latest snapshot to ``path`` (default: the saver's path) atomically."""
        target = path or self.path
        if target is None or self.snapshot is None:
            raise CheckpointError("There is nothing to save or nowhere to save it; give --save FILE.")
        weights, state = self.snapshot
        written = save_weights(target, weights, self.vocab, backend=self.backend.name, model=self.model.kind,
                               hparams=self.model.hparams, cell=getattr(self.model, "cell_name", "rnn"),
                               **{STATE_KEY: state})
        self.saved_epoch = state["epoch"]
        return written
