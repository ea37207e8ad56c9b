"""d2l 0.x (0.17.6; the Chinese edition 2.0.0): the training helpers every tab of it shares
(``d2lrnn.v0``).

Each tab module (``d2lrnn.book.v0.torch`` and its siblings, served as ``d2lrnn.v0.torch``) binds a
:class:`Tab` to its backend and re-exports what is here. Nothing in this module trains, clips or
predicts by itself: ``train_ch8`` drives :class:`d2lrnn.trainer.Trainer`, clipping is
:func:`d2lrnn.metrics.clip_gradients` and prediction is :func:`d2lrnn.predict.predict`.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from itertools import cycle
from typing import Any

from ...backends.base import Backend
from ...metrics import ArrayMath, clip_gradients, perplexity
from ...predict import predict
from ...timing import Accumulator as _CoreAccumulator
from ...trainer import EpochStats
from ...trainer import Trainer as CoreTrainer
from ...vocab import Vocab

#: ``(net, X) -> state``: how a tab asks a d2l 0.x model for its initial state
BeginState = Callable[[Any, Any], Any]
#: ``(tensor, shape) -> tensor``: the framework's reshape
Reshape = Callable[[Any, tuple[int, ...]], Any]


def as_float(value: Any) -> float:
    """A Python float from a number or a one-element framework tensor; a tensor that records
    gradients
    (PyTorch) is detached first, so the conversion neither warns nor keeps its graph."""
    detach = getattr(value, "detach", None)
    return float(detach() if callable(detach) else value)


def _values(value: Any) -> list[Any]:
    """The elements of a sequence or a tensor with at least one axis; anything else as a one-element
    list."""
    if isinstance(value, (list, tuple)) or len(getattr(value, "shape", ())) > 0:
        return list(value)
    return [value]


class Accumulator(_CoreAccumulator):
    """d2l's ``Accumulator(n)``: ``n`` running sums whose ``add`` also takes framework scalars.

    The book's training loops add loss tensors, e.g. ``metric.add(l * d2l.size(y), d2l.size(y))``
    with ``l`` still attached to the autograd graph; each value goes through :func:`as_float`.
    """

    def add(self, *args: Any) -> None:
        super().add(*(as_float(a) for a in args))


class Animator:
    """The book's live plot, recorded instead of displayed.

    ``add(x, y)`` appends one point per line (``y`` a number or one number per line, ``None``
    skips a line); :meth:`draw` renders a matplotlib figure (Agg, no display) and :meth:`savefig`
    writes it, e.g. as a PNG.
    """

    def __init__(
        self,
        xlabel: str | None = None,
        ylabel: str | None = None,
        legend: Sequence[str] | None = None,
        xlim: Sequence[float] | None = None,
        ylim: Sequence[float] | None = None,
        xscale: str = "linear",
        yscale: str = "linear",
        fmts: Sequence[str] = ("-", "m--", "g-.", "r:"),
        nrows: int = 1,
        ncols: int = 1,
        figsize: tuple[float, float] = (3.5, 2.5),
    ) -> None:
        self.xlabel = xlabel
        self.ylabel = ylabel
        self.legend = list(legend or [])
        self.xlim = xlim
        self.ylim = ylim
        self.xscale = xscale
        self.yscale = yscale
        self.fmts, self.figsize = list(fmts), figsize
        # accepted for the book's signature; one axes is drawn
        self.nrows, self.ncols = nrows, ncols
        self.X: list[list[float]] = []
        self.Y: list[list[float]] = []

    def add(self, x: Any, y: Any) -> None:
        """Append the point ``(x, y[i])`` to line ``i`` for every ``i``.

        ``y`` is a number or any sized sequence of them (a list, a NumPy array, a framework
        tensor); ``x`` is one number for every line or one per line. The points stay in
        :attr:`X` and :attr:`Y` (one list per line), so code after training can read the curve.
        """
        ys = _values(y)
        xs = _values(x)
        xs = xs * len(ys) if len(xs) == 1 else xs
        while len(self.X) < len(ys):
            self.X.append([])
            self.Y.append([])
        for i, (a, b) in enumerate(zip(xs, ys)):
            if a is not None and b is not None:
                self.X[i].append(as_float(a))
                self.Y[i].append(as_float(b))

    def draw(self) -> Any:
        """A :class:`matplotlib.figure.Figure` of the recorded lines (no pyplot, no display)."""
        from ...plot import new_figure, style_axes

        fig, ax = new_figure(self.figsize, dpi=100)
        for xs, ys, fmt in zip(self.X, self.Y, cycle(self.fmts)):
            ax.plot(xs, ys, fmt)
        style_axes(ax, self.xlabel, self.ylabel, self.xscale, self.yscale, self.xlim, self.ylim)
        if self.legend:
            ax.legend(self.legend[: len(self.X)] or self.legend)
        ax.grid(True, alpha=0.3)
        fig.tight_layout()
        return fig

    def savefig(self, path: str | os.PathLike, **kwargs: Any) -> str:
        """Draw and save the figure (format from the file name); return the path."""
        self.draw().savefig(path, **kwargs)
        return os.fspath(path)


class TensorBatches:
    """A d2l 0.x batch iterator that yields framework tensors, as the book's own training loops
    expect.

    ``host_batches()`` gives the NumPy batches to the core loop; ``carries_state`` and ``len``
    are those of the wrapped loader.
    """

    def __init__(self, loader: Any, to_tensor: Callable[[Any], Any]) -> None:
        self.loader, self.to_tensor = loader, to_tensor

    @property
    def carries_state(self) -> bool:
        return bool(getattr(self.loader, "carries_state", True))

    @property
    def vocab_size(self) -> int | None:
        return getattr(self.loader, "vocab_size", None)

    def __len__(self) -> int:
        return len(self.loader)

    def host_batches(self) -> Iterator[Any]:
        return iter(self.loader)

    def __iter__(self) -> Iterator[tuple[Any, Any]]:
        for X, Y in self.loader:
            yield self.to_tensor(X), self.to_tensor(Y)


def tensor_loader(
    load: Callable[..., tuple[Any, Vocab]], to_tensor: Callable[[Any], Any]
) -> Callable[..., tuple[TensorBatches, Vocab]]:
    """``load_data_time_machine`` whose batches are framework tensors (made by ``to_tensor``)."""

    def load_data_time_machine(*args: Any, **kwargs: Any) -> tuple[TensorBatches, Vocab]:
        loader, vocab = load(*args, **kwargs)
        return TensorBatches(loader, to_tensor), vocab

    load_data_time_machine.__doc__ = load.__doc__
    return load_data_time_machine


class FreshState:
    """A batch iterable whose hidden state is reset before every batch (``use_random_iter=True``).
    """

    carries_state = False

    def __init__(self, batches: Iterable[Any]) -> None:
        self.batches = batches

    def __iter__(self) -> Iterator[Any]:
        return iter(self.batches)

    def host_batches(self) -> Iterator[Any]:
        host = getattr(self.batches, "host_batches", None)
        return host() if host is not None else iter(self.batches)


def assign_slice(target: Any, value: Any) -> None:
    """``target[:] = value``: write into an existing array (MXNet gradients)."""
    target[:] = value


def clip_in_place(
    grads: Sequence[Any], theta: float, math_ops: ArrayMath, assign: Callable[[Any, Any], Any]
) -> None:
    """Clip ``grads`` to global norm ``theta`` with :func:`clip_gradients` and write them back with
    ``assign``."""
    for grad, clipped in zip(grads, clip_gradients(grads, theta, math_ops)):
        assign(grad, clipped)


def book_net_class(module_class: type, begin_state: BeginState, reshape: Reshape) -> type:
    """A module class of the framework that shows a d2l 0.x model to the core as a library model.

    d2l 0.x models return flattened logits ``(num_steps * batch, vocab)`` and need an explicit
    state from ``begin_state``; the core wants time-major logits and passes ``state=None`` first.
    The wrapper is a framework module (``torch.nn.Module``, Gluon ``Block``, Keras ``Layer``)
    holding the user's model, so the backends find its parameters as usual.
    """

    class BookNet(module_class):  # type: ignore[misc, valid-type]
        def __init__(self, net: Any) -> None:
            super().__init__()
            self.net = net

        def forward(self, X: Any, state: Any = None) -> tuple[Any, Any]:
            if state is None:
                state = begin_state(self.net, X)
            logits, state = self.net(X, state)
            if len(logits.shape) == 2:  # (num_steps * batch, vocab) -> (num_steps, batch, vocab)
                logits = reshape(logits, (X.shape[1], X.shape[0], -1))
            return logits, state

        call = forward  # the Keras entry point

    BookNet.__qualname__ = BookNet.__name__ = f"BookNet_{module_class.__module__.split('.')[0]}"
    return BookNet


class HalfEpochTrainer(CoreTrainer):
    """The core trainer, also recording the training perplexity of each half epoch.

    The per-batch losses stay on the device during the epoch (no extra synchronisation); they are
    read once the epoch ends, into :attr:`half_epoch_perplexities`.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.half_epoch_perplexities: list[float] = []
        self._losses: list[Any] = []
        self.callbacks.insert(0, HalfEpochTrainer._record)

    def _make_step(
        self, backend: Backend, model: Any, lr: float, clip: float
    ) -> Callable[[Any, Any, Any], Any]:
        step = super()._make_step(backend, model, lr, clip)

        def recorded(X: Any, Y: Any, state: Any) -> Any:
            loss, state = step(X, Y, state)
            self._losses.append(loss)
            return loss, state

        return recorded

    def _record(self, stats: EpochStats) -> None:
        losses = [self.backend.to_float(loss) for loss in self._losses]
        self._losses = []
        half = max(1, len(losses) // 2)
        for part in (losses[:half], losses[half:]):
            if part:
                self.half_epoch_perplexities.append(perplexity(sum(part) / len(part)))


class Tab:
    """The d2l 0.x training helpers bound to one backend.

    ``module_class`` is the framework's module base class; ``begin_state(net, X)`` calls the
    user model's ``begin_state`` with the tab's signature; ``reshape`` is the framework's reshape;
    ``resolve_device`` turns what the book passes as device (a device, a TensorFlow strategy or
    device scope) into a backend device. With ``compile_scratch=False`` a model that is not a
    framework module (a d2l 0.x scratch model: Python loops) trains without graph compilation.
    """

    def __init__(
        self,
        backend: Backend,
        module_class: type,
        begin_state: BeginState,
        reshape: Reshape,
        resolve_device: Callable[[Any], Any] | None = None,
        compile_scratch: bool = True,
    ) -> None:
        self.backend = backend
        self.module_class = module_class
        self.compile_scratch = compile_scratch
        self.BookNet = book_net_class(module_class, begin_state, reshape)
        self.resolve_device = resolve_device or (lambda device: device)
        #: one list per ``train_ch8`` call: the training perplexity of each half epoch, in order
        self.runs: list[list[float]] = []

    def recorded_perplexities(self) -> list[list[float]]:
        """The perplexities every ``train_ch8`` call so far recorded, two per epoch (first and
        second half)."""
        return [list(run) for run in self.runs]

    def wrap(self, net: Any) -> Any:
        """A d2l 0.x model (it has ``begin_state``) wrapped for the core; other models as they are.
        """
        if isinstance(net, self.BookNet) or not hasattr(net, "begin_state"):
            return net
        return self.BookNet(net)

    def predict_ch8(
        self, prefix: str, num_preds: int, net: Any, vocab: Vocab, device: Any = None
    ) -> str:
        """Greedily continue ``prefix`` by ``num_preds`` characters; return prefix and continuation.
        """
        return predict(
            self.wrap(net),
            prefix,
            num_preds,
            vocab,
            self.resolve_device(device),
            backend=self.backend,
        )

    def train_ch8(
        self,
        net: Any,
        train_iter: Iterable[Any],
        vocab: Vocab,
        lr: float,
        num_epochs: int,
        device: Any = None,
        use_random_iter: bool = False,
        *,
        animator: Animator | None = None,
    ) -> None:
        """Train with SGD and gradient clipping at 1, printing the book's lines.

        Every 10 epochs a continuation of ``'time traveller'`` is printed and the perplexity is
        added to ``animator``; at the end ``perplexity P, S tokens/sec on DEVICE`` and the
        continuations of ``'time traveller'`` and ``'traveller'``.
        """
        device = self.resolve_device(device)
        if device is None:
            device = self.backend.try_gpu()
        model = self.wrap(net)
        animator = animator or Animator(
            xlabel="epoch", ylabel="perplexity", legend=["train"], xlim=[10, num_epochs]
        )

        def continuation(prefix: str) -> str:
            return self.predict_ch8(prefix, 50, model, vocab, device)

        def every_tenth(trainer: CoreTrainer, stats: EpochStats) -> None:
            if stats.epoch % 10 == 0:
                print(continuation("time traveller"))
                animator.add(stats.epoch, [stats.perplexity])

        trainer = HalfEpochTrainer(
            num_epochs, 1.0, lr=lr, device=device, callbacks=[every_tenth], progress=False
        )
        self.runs.append(trainer.half_epoch_perplexities)
        trainer.compile_steps = self.compile_scratch or isinstance(net, self.module_class)
        trainer.fit(model, FreshState(train_iter) if use_random_iter else train_iter)
        if trainer.history:
            last = trainer.history[-1]
            name = self.backend.device_name(device)
            print(
                f"perplexity {last.perplexity:.1f}, {last.tokens_per_sec:.1f} tokens/sec on {name}"
            )
        print(continuation("time traveller"))
        print(continuation("traveller"))
