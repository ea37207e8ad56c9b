"""The worker group the training loop talks to: one all-reduce per batch, and agreeing to stop."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .shard import ShardedLoader


class Group:
    """The workers of one data-parallel run, as the core sees them; adapters subclass it (alone: one
    process).

    The trainer calls the group once per batch with the local loss and gradients and gets back
    their means over all workers (:meth:`all_reduce_mean`, the engine's own all-reduce), before it
    clips: clipping sees the global gradient norm, and the loss (hence perplexity) is the whole
    batch's. :meth:`any` lets every worker stop after the same batch when one of them is asked to.
    """

    rank: int = 0
    workers: int = 1
    #: whether the trainer may compile the step with the all-reduce inside it
    compile_step: bool = True

    def all_reduce_mean(self, tensors: Sequence[Any]) -> list[Any]:
        """The element-wise mean of ``tensors`` over all workers, through the engine's collective.

        The base class is the group of one process: the tensors come back as they are.
        """
        return list(tensors)

    def any(self, flag: bool) -> bool:
        """Whether ``flag`` is true on at least one worker (every worker gets the same answer)."""
        return flag

    def step_backend(self, backend: Any) -> Any:
        """The backend whose primitives the training step calls (adapters may compile or split
        them)."""
        return backend

    def close(self) -> None:
        """Leave the group (the engine's shutdown)."""

    def __call__(self, loss: Any, grads: Sequence[Any]) -> tuple[Any, list[Any]]:
        loss, *grads = self.all_reduce_mean([loss, *grads])
        return loss, grads

    def attach(self, trainer: Any, data: Any) -> None:
        """Give ``data``'s training loader this worker's rows and ``trainer`` this group."""
        data.train_loader = ShardedLoader(data.train_loader, self.workers, self.rank)
        trainer.collective = self
        trainer.compile_steps = trainer.compile_steps and self.compile_step

    @property
    def label(self) -> str:
        return f"worker {self.rank} of {self.workers}"
