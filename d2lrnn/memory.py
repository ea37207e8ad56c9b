"""Will a model fit? An estimate of a training run's memory, and the memory the machine has (no
framework)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from . import cells
from .cells import DEFAULT_CELL, get_cell
from .errors import ResourceError

FLOAT_BYTES = 4  # every backend trains in float32


@dataclass(frozen=True)
class MemoryEstimate:
    """Bytes a training run needs: weights, their gradients, and the activations of one batch."""

    parameters: int
    gradients: int
    activations: int

    @property
    def total(self) -> int:
        return self.parameters + self.gradients + self.activations


def estimate_training_memory(vocab_size: int, num_hiddens: int, num_layers: int, batch_size: int,
                             num_steps: int, cell: str = DEFAULT_CELL) -> MemoryEstimate:
    """A lower bound of what minibatch SGD on an RNN language model holds at once.

    Parameters and gradients: one float32 each per canonical weight. Activations, per token of a
    batch (``batch_size * num_steps`` tokens): the one-hot input and the logits with their
    gradient (``3 * vocab_size``), and per layer the gates' inputs and the state after the step
    (a vanilla RNN: ``h`` before and after ``tanh``; an LSTM: four gates, ``h`` and ``c``).
    """
    spec = get_cell(cell)
    weights = parameter_count(vocab_size, num_hiddens, num_layers, cell)
    per_token = 3 * vocab_size + (spec.num_gates + len(spec.state_parts)) * num_hiddens * num_layers
    return MemoryEstimate(weights * FLOAT_BYTES, weights * FLOAT_BYTES,
                          batch_size * num_steps * per_token * FLOAT_BYTES)


def parameter_count(
    vocab_size: int, num_hiddens: int, num_layers: int, cell: str = DEFAULT_CELL
) -> int:
    """The number of canonical weights (see :func:`d2lrnn.cells.canonical_shapes`), without listing
    them."""
    return cells.parameter_count(vocab_size, num_hiddens, num_layers, cell)


def available_memory() -> int | None:
    """Bytes of memory available to a new allocation (``MemAvailable``), or None where it cannot be
    told."""
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (AttributeError, ValueError, OSError):
        return None


def check_fits(estimate: MemoryEstimate, available: int | None = None) -> None:
    """A :class:`ResourceError` with the estimate when it exceeds the available memory (None: look
    it up)."""
    available = available_memory() if available is None else available
    if available is None or estimate.total <= available:
        return
    raise ResourceError(
        f"This model does not fit in memory: training it needs about {human_bytes(estimate.total)} "
        f"(parameters {human_bytes(estimate.parameters)}, gradients "
        f"{human_bytes(estimate.gradients)}, "
        f"activations of one batch {human_bytes(estimate.activations)}), but "
        f"{human_bytes(available)} is available. "
        "Lower {num_hiddens}, {num_layers}, {batch_size} or {num_steps}.",
        settings=["num_hiddens", "num_layers", "batch_size", "num_steps"],
    )


def human_bytes(count: float) -> str:
    """``1536`` -> ``'1.5 KiB'``."""
    for unit in ("bytes", "KiB", "MiB", "GiB", "TiB", "PiB"):
        if count < 1024 or unit == "PiB":
            return f"{count:.0f} {unit}" if unit == "bytes" else f"{count:.1f} {unit}"
        count /= 1024
    raise AssertionError("unreachable")
