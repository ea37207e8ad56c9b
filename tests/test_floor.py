"""Every backend's benchmark floor is the library's concise model doing the same work.

From the same initial weights, the floor and the library's Trainer must compute the same losses,
epoch after epoch (so the same model, the same frozen bias, the same clipping and update).
"""

from __future__ import annotations

import importlib
import inspect
import math

import numpy as np
import pytest

from d2lrnn import Trainer, get_backend
from d2lrnn.backends import NAMES, is_installed, spec

VOCAB = 11
HIDDEN = 8
BATCH = 4
STEPS = 5


def _floor_module(name: str):
    if not is_installed(name):
        pytest.skip(f"{name} is not installed")
    try:
        return importlib.import_module(f"{spec(name).module}.floor")
    except ModuleNotFoundError:
        pytest.skip(f"{name} has no floor.py")


def _batches() -> list[tuple[np.ndarray, np.ndarray]]:
    rng = np.random.default_rng(0)
    return [
        (rng.integers(0, VOCAB, (BATCH, STEPS)), rng.integers(0, VOCAB, (BATCH, STEPS)))
        for _ in range(3)
    ]


@pytest.mark.parametrize("clip", [0.05, 0.0], ids=["clipped", "unclipped"])
@pytest.mark.parametrize("name", NAMES)
def test_floor_computes_the_library_losses(name: str, clip: float) -> None:
    floor = _floor_module(name)
    backend = get_backend(name)
    backend.seed(0)
    model = backend.RNN(num_inputs=VOCAB, num_outputs=VOCAB, num_hiddens=HIDDEN, lr=0.5)
    weights = model.get_weights()
    batches = _batches()
    trainer = Trainer(3, clip, device=backend.cpu(), progress=False)
    library = [math.log(s.perplexity) for s in trainer.fit(model, batches)]
    epochs = floor.train_floor(batches, VOCAB, HIDDEN, 0.5, clip, 3, weights=weights)
    assert [e["tokens"] for e in epochs] == [3 * BATCH * STEPS] * 3
    assert [e["loss"] for e in epochs] == pytest.approx(library, rel=1e-4)
    assert library[-1] < library[0]  # it trained: a floor that skipped the update would not match


@pytest.mark.parametrize("name", NAMES)
def test_floor_calls_on_first_batch_once(name: str) -> None:
    floor = _floor_module(name)
    calls: list[int] = []
    floor.train_floor(
        _batches(), VOCAB, HIDDEN, 0.5, 1.0, 2, on_first_batch=lambda: calls.append(1)
    )
    assert calls == [1]


@pytest.mark.parametrize("cell", ["gru", "lstm"])
@pytest.mark.parametrize("name", NAMES)
def test_a_gated_floor_trains_the_framework_layer(name: str, cell: str) -> None:
    """The gated cells' floor rows (the most the framework's own GRU/LSTM layer gives against the
    book)."""
    floor = _floor_module(name)
    if "cell" not in inspect.signature(floor.train_floor).parameters:
        pytest.skip(f"{name}'s floor is a vanilla RNN")
    epochs = floor.train_floor(_batches(), VOCAB, HIDDEN, 0.5, 1.0, 4, cell=cell)
    losses = [e["loss"] for e in epochs]
    assert [e["tokens"] for e in epochs] == [3 * BATCH * STEPS] * 4
    assert all(math.isfinite(v) for v in losses) and losses[-1] < losses[0], losses
    with pytest.raises(ValueError, match="vanilla RNN"):
        floor.train_floor(_batches(), VOCAB, HIDDEN, 0.5, 1.0, 1, cell=cell, weights={})
