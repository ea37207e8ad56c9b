"""Checkpoints during training: epoch snapshots, periodic atomic saves, and resuming a run exactly.

A resumable checkpoint is an ordinary checkpoint (see :mod:`d2lrnn.checkpoint`) whose metadata
also holds ``train_state``: the completed epochs, their history, the data loader's random state and
the settings of the run. Restoring all of it makes an interrupted-and-resumed run end with the
same weights as an uninterrupted one.
"""

from __future__ import annotations

import os
from collections.abc import Callable
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


def training_state(
    trainer: Trainer, rng: np.random.Generator, settings: dict[str, Any] | None = None
) -> dict[str, Any]:
    """What :func:`restore_training_state` needs, JSON-ready."""
    return {
        "epoch": trainer.epoch,
        "max_epochs": trainer.max_epochs,
        "history": [
            {f.name: getattr(s, f.name) for f in fields(EpochStats)} for s in trainer.history
        ],
        "rng": rng.bit_generator.state,
        "settings": dict(settings or {}),
    }


def restore_training_state(
    trainer: Trainer, rng: np.random.Generator, state: dict[str, Any]
) -> None:
    """Continue ``trainer`` (epoch count, history) and ``rng`` (the data order) from a saved state.
    """
    try:
        history = [EpochStats(**entry) for entry in state["history"]]
        rng.bit_generator.state = state["rng"]
        epoch = int(state["epoch"])
    except (KeyError, TypeError, ValueError) as exc:
        raise CheckpointError(
            f"The checkpoint's training state is damaged ({exc.__class__.__name__}: {exc})."
        ) from None
    trainer.epoch, trainer.history = epoch, history


def resumable_state(meta: dict[str, Any], path: str | os.PathLike) -> dict[str, Any]:
    """The ``train_state`` of a checkpoint's metadata, or a :class:`CheckpointError` saying why it
    cannot resume."""
    state = meta.get(STATE_KEY)
    if not isinstance(state, dict) or not {"epoch", "history", "rng", "settings"} <= set(state):
        raise CheckpointError(
            f"The checkpoint {path} holds a model but no training state, so training cannot resume "
            "from it "
            "(it can still generate text). Checkpoints saved while training, with their training "
            "state, can resume."
        )
    return state


class CheckpointSaver:
    """A :class:`~d2lrnn.Trainer` callback that keeps the last good epoch and writes it atomically.

    After every epoch it snapshots the weights, the trainer's progress and ``rng``'s state (in
    memory; non-finite weights are never taken), and every ``every`` epochs (0: never) writes the
    snapshot to ``path``. :meth:`save` writes the latest snapshot at any time, e.g. after an
    interrupt; the snapshot always describes a whole number of epochs, so resuming from it is exact.

    A periodic save that fails (a full disk) does not stop training: the reason goes to ``log``,
    the file keeps the last good checkpoint, :attr:`failures` counts it, and the next save is tried
    as scheduled. With ``final_save`` the caller writes the last epoch itself, so the periodic
    save skips it.
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
        log: Callable[[str], None] | None = None,
        final_save: bool = False,
    ) -> None:
        self.model = model
        self.vocab = vocab
        self.rng = rng
        self.backend = backend
        self.path = path
        self.every = every
        self.settings = dict(settings or {})
        self.log = log or (lambda message: None)
        self.final_save = final_save  # the caller saves after the last epoch: no periodic save then
        self.saved_epoch: int | None = None
        self.failures = 0
        self.snapshot: tuple[dict[str, np.ndarray], dict[str, Any]] | None = None
        self.take(trainer)

    def take(self, trainer: Trainer) -> bool:
        """Snapshot the current state; returns False (keeping the previous one) for non-finite
        weights."""
        weights = self.model.get_weights()
        if not all(np.isfinite(w).all() for w in weights.values()):
            return False
        self.snapshot = (weights, training_state(trainer, self.rng, self.settings))
        return True

    def __call__(self, trainer: Trainer, stats: EpochStats) -> None:
        last = self.final_save and trainer.epoch >= trainer.max_epochs
        if (
            self.take(trainer)
            and self.path
            and self.every
            and trainer.epoch % self.every == 0
            and not last
        ):
            try:
                self.save()
            except CheckpointError as exc:
                self.failures += 1
                self.log(self._failure_note(exc, trainer))

    def _failure_note(self, exc: CheckpointError, trainer: Trainer) -> str:
        held = (f"{self.path} still holds epoch {self.saved_epoch}" if self.saved_epoch is not None
                else f"nothing has been saved to {self.path} yet")
        upcoming = trainer.epoch + self.every
        if upcoming < trainer.max_epochs or (
            upcoming == trainer.max_epochs and not self.final_save
        ):
            nxt = f"the next save is at epoch {upcoming}"
        else:
            nxt = (
                "the final save comes at the end"
                if self.final_save
                else "no later save is scheduled"
            )
        return (f"the checkpoint of epoch {trainer.epoch} was not saved: {exc} Now {held}; "
                f"training goes on, and {nxt}.")

    @property
    def epoch(self) -> int:
        """The number of completed epochs in the snapshot."""
        return self.snapshot[1]["epoch"] if self.snapshot else 0

    def save(self, path: str | os.PathLike | None = None) -> Path:
        """Write the latest snapshot to ``path`` (default: the saver's path) atomically."""
        target = path or self.path
        if target is None or self.snapshot is None:
            raise CheckpointError(
                "There is nothing to save or nowhere to save it; give a checkpoint path."
            )
        weights, state = self.snapshot
        written = save_weights(
            target,
            weights,
            self.vocab,
            backend=self.backend.name,
            model=self.model.kind,
            hparams=self.model.hparams,
            cell=getattr(self.model, "cell_name", "rnn"),
            **{STATE_KEY: state},
        )
        self.saved_epoch = state["epoch"]
        return written
