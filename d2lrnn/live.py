"""Training as a student watches it in Jupyter: a perplexity figure redrawn in place, a notebook
progress bar.

Nothing here imports a framework, and nothing imports IPython unless a kernel has already done so:
in a script or the CLI, :func:`in_notebook` is False and :class:`Trainer <d2lrnn.Trainer>` draws
nothing unless asked (``Trainer(plot=True)``).
"""

from __future__ import annotations

import importlib.util
import io
import sys
from collections.abc import Iterable
from typing import Any

from .backends import LABELS


def in_notebook() -> bool:
    """Whether this code runs inside a Jupyter kernel (not a terminal IPython, not a plain script).
    """
    # a kernel has imported it already; a script need not pay for it
    ipython = sys.modules.get("IPython")
    if ipython is None:
        return False
    try:
        shell = ipython.get_ipython()
    except Exception:  # a broken or partial IPython install: behave as in a script
        return False
    if shell is None:
        return False
    return getattr(shell, "kernel", None) is not None or "IPKernelApp" in getattr(
        shell, "config", {}
    )


def wants_plot(plot: bool | None) -> bool:
    """``plot`` itself when given; otherwise whether we are in a notebook."""
    return in_notebook() if plot is None else bool(plot)


def notebook_widgets() -> bool:
    """Whether ipywidgets is installed, which tqdm's notebook progress bar needs."""
    return importlib.util.find_spec("ipywidgets") is not None


def progress_bar(
    iterable: Iterable[Any] | None = None, enabled: bool | None = None, **kwargs: Any
) -> Any:
    """A tqdm bar in the front end that fits where the code runs.

    In a notebook with ipywidgets: tqdm's notebook widget, shown unless ``enabled`` is False. In a
    notebook without ipywidgets: tqdm's text bar only when ``enabled`` is True (by default the live
    plot shows the progress, and no text bar fills the cell's output). Elsewhere: the text bar,
    shown on a terminal when ``enabled`` is None, always when True, never when False. A hidden bar
    is a disabled tqdm, which still iterates and accepts ``update``/``set_postfix``.
    """
    if in_notebook() and notebook_widgets() and enabled is not False:
        from tqdm.notebook import tqdm as notebook_tqdm

        return notebook_tqdm(iterable, **kwargs)
    from tqdm.std import tqdm

    if in_notebook():
        disable = enabled is not True
    else:
        disable = None if enabled is None else not enabled
    return tqdm(iterable, disable=disable, **kwargs)


class LivePlot:
    """A trainer callback that draws training and validation perplexity per epoch into one notebook
    output.

    The first epoch displays a PNG with a display id; later epochs replace that same output
    (``handle.update``), so the cell holds one picture that grows, and a saved notebook keeps the
    final curve as an ``image/png`` output. The figure is made without pyplot, so no GUI backend is
    touched and the inline backend does not show a second copy at the end of the cell.
    """

    def __init__(
        self, title: str | None = None, figsize: tuple[float, float] = (5.0, 3.2), dpi: int = 100
    ) -> None:
        self.title = title
        self.figsize = figsize
        self.dpi = dpi
        self.epochs: list[int] = []
        self.train: list[float] = []
        self.val: list[tuple[int, float]] = []
        self.handle: Any = None

    def __call__(self, trainer: Any, stats: Any) -> None:
        self.add(stats.epoch, stats.perplexity, stats.val_perplexity)

        name = getattr(getattr(trainer, "backend", None), "name", None)
        label = LABELS.get(name, name)
        title = (
            self.title
            or (f"{label}: " if label else "") + f"epoch {stats.epoch} of {trainer.max_epochs}"
        )
        self.show(self.png(title, trainer.max_epochs))

    def add(self, epoch: int, perplexity: float, val_perplexity: float | None = None) -> None:
        """Record one epoch's perplexities."""
        self.epochs.append(epoch)
        self.train.append(perplexity)
        if val_perplexity is not None:
            self.val.append((epoch, val_perplexity))

    def png(self, title: str = "", max_epochs: int | None = None) -> bytes:
        """The current curves as PNG bytes (log-scale perplexity against epoch; the x axis runs to
        ``max_epochs``)."""
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
        from matplotlib.ticker import FormatStrFormatter, MaxNLocator

        fig = Figure(figsize=self.figsize, dpi=self.dpi)
        FigureCanvasAgg(fig)
        ax = fig.subplots()
        ax.plot(
            self.epochs, self.train, marker="." if len(self.epochs) < 30 else None, label="train"
        )
        if self.val:
            ax.plot(
                *zip(*self.val),
                ls="--",
                marker="." if len(self.val) < 30 else None,
                label="validation",
            )
        ax.set(xlabel="epoch", ylabel="perplexity (log scale)", yscale="log", title=title)
        last = max(max_epochs or 0, self.epochs[-1] if self.epochs else 1, 2)
        ax.set_xlim(0.5 if last < 20 else 0, last + (0.5 if last < 20 else 0))
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.yaxis.set_major_formatter(FormatStrFormatter("%g"))  # 12 and 20, not 1.2x10^1
        ax.yaxis.set_minor_formatter(FormatStrFormatter("%g"))
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(loc="upper right")
        fig.tight_layout()
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png")
        return buffer.getvalue()

    def show(self, png: bytes) -> None:
        """Display ``png`` the first time, then update that same output in place."""
        from IPython.display import Image, display

        image = Image(data=png, format="png")
        if self.handle is None:
            self.handle = display(image, display_id=True)
        else:
            self.handle.update(image)


def live_callbacks(plot: bool | None) -> list[LivePlot]:
    """The extra callbacks a trainer's ``fit`` adds: one :class:`LivePlot` when a plot is wanted,
    else none."""
    return [LivePlot()] if wants_plot(plot) else []
