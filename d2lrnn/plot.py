"""Figures: perplexity against epoch."""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any


def new_figure(figsize: tuple[float, float] = (6, 4), dpi: int = 120) -> tuple[Any, Any]:
    """A matplotlib figure and axes made without pyplot, so no GUI backend is chosen or changed."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=figsize, dpi=dpi)
    return fig, fig.subplots()


def plot_perplexity(history: Sequence[Any], path: str | os.PathLike, title: str | None = None) -> str:
    """Save training (and validation, where measured) perplexity per epoch as a PNG; return the path."""
    epochs = [s.epoch for s in history]
    fig, ax = new_figure()
    ax.plot(epochs, [s.perplexity for s in history], label="train")
    val = [(s.epoch, s.val_perplexity) for s in history if s.val_perplexity is not None]
    if val:
        ax.plot(*zip(*val), label="validation")
    ax.set_xlabel("epoch")
    ax.set_ylabel("perplexity")
    ax.set_yscale("log")
    from matplotlib.ticker import LogFormatter

    ax.yaxis.set_major_formatter(LogFormatter(labelOnlyBase=False))
    ax.yaxis.set_minor_formatter(LogFormatter(labelOnlyBase=False, minor_thresholds=(2, 0.4)))
    ax.grid(True, which="both", alpha=0.3)
    ax.legend()
    if title:
        ax.set_title(title)
    fig.tight_layout()
    fig.savefig(path)
    return os.fspath(path)
