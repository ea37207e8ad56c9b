"""PyTorch's data-parallel engine: a ``torch.distributed`` process group (gloo on CPU) and its
all-reduce.

A worker joins with the variables ``torchrun`` sets (``RANK``, ``WORLD_SIZE``, ``MASTER_ADDR``,
``MASTER_PORT``), or those d2lrnn's local launcher sets (``D2LRNN_RANK``, ``D2LRNN_WORKERS``,
``D2LRNN_PEERS``: rank 0's address is the rendezvous).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

import torch
import torch.distributed as dist

from ...distributed.group import Group


def _rendezvous() -> tuple[int, int, str]:
    if "WORLD_SIZE" in os.environ and "MASTER_ADDR" in os.environ:  # torchrun
        return int(os.environ["RANK"]), int(os.environ["WORLD_SIZE"]), "env://"
    peers = os.environ["D2LRNN_PEERS"].split(",")
    return int(os.environ["D2LRNN_RANK"]), int(os.environ["D2LRNN_WORKERS"]), f"tcp://{peers[0]}"


class TorchGroup(Group):
    """One process of a gloo (CPU) or NCCL (GPU) process group."""

    def __init__(self, timeout: float) -> None:
        rank, workers, init = _rendezvous()
        backend = "nccl" if torch.cuda.is_available() else "gloo"
        dist.init_process_group(backend, init_method=init, rank=rank, world_size=workers,
                                timeout=timedelta(seconds=timeout))
        self.rank, self.workers = dist.get_rank(), dist.get_world_size()

    def all_reduce_mean(self, tensors: Sequence[Any]) -> list[Any]:
        """One all-reduce over the tensors laid end to end, then divided by the number of workers.
        """
        flat = torch.cat([t.reshape(-1) for t in tensors])
        dist.all_reduce(flat, op=dist.ReduceOp.SUM)
        flat /= self.workers
        return [
            part.view_as(t) for part, t in zip(flat.split([t.numel() for t in tensors]), tensors)
        ]

    def any(self, flag: bool) -> bool:
        value = torch.tensor([1.0 if flag else 0.0])
        dist.all_reduce(value, op=dist.ReduceOp.MAX)
        return bool(value.item() > 0)

    def close(self) -> None:
        if dist.is_initialized():
            dist.destroy_process_group()


def join(workers: int = 1, timeout: float = 120.0) -> TorchGroup:
    """Join the process group described by the environment."""
    return TorchGroup(timeout)
