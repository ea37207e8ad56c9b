"""The d2l 1.0 draft (seed 002 in ``../shared/seeds``): ``from d2lrnn.draft import torch as d2l``.

The draft came between 0.x and the published 1.0.3. Its code uses the 0.x names (each tab module
re-exports :mod:`d2lrnn.book.v0`'s tab) and four of its own: ``TimeMachine`` (the library's, where
``num_train`` counts tokens), ``RNNScratch`` (a whole language model with ``num_outputs`` and
``lr``), ``RNN`` (the framework's layer in the same model) and :class:`Trainer`, defined here.
"""

from __future__ import annotations

from typing import Any

from ...trainer import EpochStats
from ...trainer import Trainer as CoreTrainer
from ..v0 import Animator


class Trainer(CoreTrainer):
    """The draft's ``Trainer(max_epochs, num_gpus=0, gradient_clip_val=0)``.

    The core :class:`d2lrnn.trainer.Trainer` with the draft's argument order and no progress bar;
    each epoch's training and validation perplexity is also drawn on :attr:`board` (an
    :class:`~d2lrnn.book.v0.Animator`). Like the draft, ``fit`` returns nothing (the epochs are in
    :attr:`history`).
    """

    def __init__(self, max_epochs: int, num_gpus: int = 0, gradient_clip_val: float = 0,
                 **kwargs: Any) -> None:
        kwargs.setdefault("progress", False)
        super().__init__(max_epochs, gradient_clip_val, num_gpus=num_gpus, **kwargs)
        self.board = Animator(xlabel="epoch", ylabel="perplexity", legend=["train", "val"],
                              yscale="log")
        self.callbacks.append(_plot_epoch)

    def fit(self, model: Any, data: Any) -> None:  # type: ignore[override]
        """Train ``model`` on ``data`` (:meth:`d2lrnn.trainer.Trainer.fit`); return nothing, as the
        draft."""
        CoreTrainer.fit(self, model, data)


def _plot_epoch(trainer: Trainer, stats: EpochStats) -> None:
    trainer.board.add(stats.epoch, [stats.perplexity, stats.val_perplexity])


#: the names this generation adds to each 0.x tab
DRAFT_NAMES = ("RNN", "RNNScratch", "TimeMachine", "Trainer")
