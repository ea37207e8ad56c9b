"""Figures: perplexity against epoch."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .errors import ResourceError

#: formats matplotlib writes without extra software (it lists "pgf" too, which needs LaTeX)
_NEEDS_LATEX = {"pgf"}


def figure_formats() -> list[str]:
    """The file extensions :func:`plot_perplexity` can write."""
    from matplotlib.backend_bases import FigureCanvasBase

    return sorted(set(FigureCanvasBase.get_supported_filetypes()) - _NEEDS_LATEX)


def check_figure_path(path: str | os.PathLike, setting: str = "plot") -> Path:
    """Fail before training, not after it, when ``path`` cannot take a figure (folder, extension,
    permissions)."""
    target = Path(path)
    formats = figure_formats()
    extension = target.suffix.lower().lstrip(".")
    if target.is_dir():
        raise ResourceError(
            f"{{{setting}:{path}}} is a directory; give a file name, e.g. "
            f"{target / 'perplexity.png'}.",
            settings=[setting],
        )
    if extension not in formats:
        what = (
            f"its extension .{extension} is not a figure format"
            if extension
            else "it has no extension"
        )
        raise ResourceError(
            f"{{{setting}:{path}}} cannot be written: {what}. Use one of: "
            f"{', '.join('.' + f for f in formats)}.",
            settings=[setting],
        )
    folder = target.parent
    if not folder.is_dir():
        raise ResourceError(
            f"{{{setting}:{path}}} cannot be written: the folder {folder} does not exist. Create "
            "it first.",
            settings=[setting],
        )
    try:
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as exc:
        raise ResourceError(
            f"{{{setting}:{path}}} cannot be written ({exc.strerror or exc}); choose a writable "
            "folder.",
            settings=[setting],
        ) from None
    return target


def new_figure(figsize: tuple[float, float] = (6, 4), dpi: int = 120) -> tuple[Any, Any]:
    """A matplotlib figure and axes made without pyplot, so no GUI backend is chosen or changed."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=figsize, dpi=dpi)
    return fig, fig.subplots()


def style_axes(
    ax: Any,
    xlabel: str | None,
    ylabel: str | None,
    xscale: str = "linear",
    yscale: str = "linear",
    xlim: Sequence[float] | None = None,
    ylim: Sequence[float] | None = None,
) -> None:
    """Labels, scales and limits of one axes, as the book's plotting helpers set them."""
    ax.set_xlabel(xlabel or "")
    ax.set_ylabel(ylabel or "")
    ax.set_xscale(xscale)
    ax.set_yscale(yscale)
    if xlim:
        ax.set_xlim(*xlim)
    if ylim:
        ax.set_ylim(*ylim)


def plot_perplexity(
    history: Sequence[Any], path: str | os.PathLike, title: str | None = None
) -> str:
    """Save training (and validation, where measured) perplexity per epoch as a PNG; return the
    path."""
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
