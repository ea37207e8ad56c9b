"""One epoch of tiny training that records every batch's loss: ``python tests/distributed_probe.py
BACKEND OUT.npz [N]``.

Run alone it trains in one process (on N devices of it with ``N``, MXNet's engine); started by
:class:`d2lrnn.distributed.launch.Launcher` it is one worker and trains its rows. The loss
recorded is what the trainer sees after the group's all-reduce. Rank 0 writes the losses and the
final weights to ``OUT.npz``.
"""

from __future__ import annotations

import importlib
import sys
from typing import Any

import numpy as np

from d2lrnn import distributed
from d2lrnn.backends import REGISTRY, get_backend
from d2lrnn.cells import make_model
from d2lrnn.data import TimeMachine
from d2lrnn.trainer import Trainer

#: small enough for a test, long enough for the clipping to matter (lr 1, clip 1)
SETTINGS = {"batch_size": 8, "num_steps": 10, "num_train": 2000, "num_hiddens": 16}


class Recording(distributed.Group):
    """A group that keeps each batch's reduced loss (steps run uncompiled, as in every worker)."""

    compile_step = False

    def __init__(self, inner: distributed.Group, backend: Any) -> None:
        self.inner = inner
        self.backend = backend
        self.losses = []
        self.rank, self.workers = inner.rank, inner.workers

    def all_reduce_mean(self, tensors: Any) -> list[Any]:
        out = self.inner.all_reduce_mean(tensors)
        self.losses.append(self.backend.to_float(out[0]))
        return out

    def any(self, flag: bool) -> bool:
        return self.inner.any(flag)

    def attach(self, trainer: Any, data: Any) -> None:
        self.inner.attach(trainer, data)
        trainer.collective, trainer.compile_steps = self, False

    def step_backend(self, backend: Any) -> Any:
        # one process: the same compiled gradients as a worker, where the adapter has them
        if self.workers == 1:
            compiled = getattr(
                importlib.import_module(f"{REGISTRY[backend.name].module}.collective"),
                "CompiledGrads",
                None,
            )
            return compiled(backend) if compiled else backend
        return self.inner.step_backend(backend)


def main(name: str, out: str, devices: int = 1) -> None:
    # a worker process, or several devices in this one
    if distributed.is_worker(name) or devices > 1:
        group = distributed.join(name, devices)
    else:
        group = distributed.Group()
    backend = get_backend(name)
    backend.seed(0)
    data = TimeMachine(
        SETTINGS["batch_size"],
        SETTINGS["num_steps"],
        num_train=SETTINGS["num_train"],
        num_val=0,
        seed=0,
    )
    vocab_size = len(data.vocab)
    model = make_model(backend, "concise", "rnn", num_inputs=vocab_size, num_outputs=vocab_size,
                       num_hiddens=SETTINGS["num_hiddens"], lr=1.0)
    trainer = Trainer(1, 1.0, device=backend.cpu(), progress=False)
    recording = Recording(group, backend)
    recording.attach(trainer, data)
    trainer.fit(model, data)
    if group.rank == 0:
        np.savez(
            out,
            losses=np.array(recording.losses),
            **{f"w_{k}": v for k, v in model.get_weights().items()},
        )
    group.close()


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], *map(int, sys.argv[3:]))
