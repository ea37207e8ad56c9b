"""Each worker's share of a batch: a contiguous block of the batch's streams (rows)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np


def shard_rows(batch_size: int, workers: int, rank: int) -> slice:
    """The rows of a batch that worker ``rank`` of ``workers`` trains on (``batch_size`` divides
    evenly).

    With sequential sampling row ``i`` continues row ``i`` of the previous batch, so a contiguous
    block keeps every stream, and its hidden state, on one worker. With random sampling the rows are
    disjoint windows drawn by the shared, seeded generator, so the shares are disjoint and seeded
    too.
    """
    if workers < 1 or not 0 <= rank < workers or batch_size % workers:
        raise ValueError(f"cannot split {batch_size} rows among {workers} workers (rank {rank})")
    size = batch_size // workers
    return slice(rank * size, (rank + 1) * size)


class ShardedLoader:
    """A data loader that yields only this worker's rows of each batch of ``loader``.

    Every worker draws the same batches from the same generator (``rng`` is the wrapped loader's,
    so checkpoints save and restore it as in one process) and keeps its own block of rows.
    """

    def __init__(self, loader: Any, workers: int, rank: int) -> None:
        self.loader = loader
        self.workers = workers
        self.rank = rank
        self.rows = shard_rows(loader.batch_size, workers, rank)

    # rng, batch_size, num_steps, carries_state, corpus ...
    def __getattr__(self, name: str) -> Any:
        return getattr(self.loader, name)

    def __len__(self) -> int:
        return len(self.loader)

    def __iter__(self) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        for X, Y in self.loader:
            yield X[self.rows], Y[self.rows]
