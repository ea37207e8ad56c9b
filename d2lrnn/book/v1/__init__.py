"""d2l 1.0.3, the published book: the helpers every tab of it shares (``d2lrnn.v1``).

A tab module (``d2lrnn.book.v1.torch`` and its siblings, served as ``d2lrnn.torch`` and
``d2lrnn.v1.torch``) binds these pieces to its framework: it supplies the tensor conversion, the
framework's module class and one primitive per model, ``_book_update(trainer, batch)`` (autograd
around ``training_step``, the trainer's ``clip_gradients`` hook and the optimizer step). The
epochs and batches are run by the core loop, :class:`d2lrnn.trainer.Trainer`, under this
module's :class:`Trainer`; nothing here loops over data to train.
"""

from __future__ import annotations

import inspect
import math
import os
import re
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import numpy as np

from ...backends import backend_for
from ...backends.base import Backend
from ...corpus import TIME_MACHINE_NAME, TIME_MACHINE_SHA1, read_text, time_machine_path
from ...errors import D2LRNNError
from ...metrics import ArrayMath, clip_gradients, perplexity
from ...trainer import Trainer as CoreTrainer
from ...vocab import SortedVocab

#: where the book's data files live; :func:`download` serves the corpus from the library's cache
DATA_URL = "http://d2l-data.s3-accelerate.amazonaws.com/"


class BookAPIError(D2LRNNError, TypeError):
    """A call that fits none of the book generations this namespace serves."""


def download(url: str, folder: str | os.PathLike = "../data", sha1_hash: str | None = None) -> str:
    """The book's ``download``: the local path of a data file.

    Only *The Time Machine* is served, from the library's verified cache (or ``D2LRNN_DATA_DIR``);
    ``folder`` is accepted for the book's signature and not used.
    """
    name = str(url).rstrip("/").rsplit("/", 1)[-1]
    if name != TIME_MACHINE_NAME:
        raise D2LRNNError(
            f"d2lrnn's download() serves only the corpus of the RNN chapter ({TIME_MACHINE_NAME}), "
            f"not {url!r}. "
            "Download other files yourself."
        )
    if sha1_hash is not None and sha1_hash != TIME_MACHINE_SHA1:
        raise D2LRNNError(
            f"The SHA-1 {sha1_hash} is not that of {TIME_MACHINE_NAME} ({TIME_MACHINE_SHA1})."
        )
    return str(time_machine_path())


def add_to_class(Class: type) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Decorator: install the decorated function as a method of ``Class`` (the book's way to grow a
    class)."""

    def install(function: Callable[..., Any]) -> Callable[..., Any]:
        setattr(Class, function.__name__, function)
        return function

    return install


class HyperParameters:
    """``save_hyperparameters()`` stores the calling ``__init__``'s arguments as attributes and in
    ``hparams``."""

    def save_hyperparameters(self, ignore: Sequence[str] = ()) -> None:
        frame = inspect.currentframe()
        caller = frame.f_back if frame is not None else None
        names = dict(caller.f_locals) if caller is not None else {}
        skip = set(ignore) | {"self"}
        self.hparams = {k: v for k, v in names.items() if k not in skip and not k.startswith("_")}
        for key, value in self.hparams.items():
            setattr(self, key, value)


class ProgressBoard(HyperParameters):
    """The book's live plot, recorded instead of displayed.

    ``draw(x, y, label, every_n)`` averages every ``every_n`` points of a line into one, as the
    book's board does; :attr:`data` maps each label to its ``(x, y)`` points, :meth:`figure`
    renders them with matplotlib (no display) and :meth:`savefig` writes the figure.
    """

    def __init__(
        self,
        xlabel: str | None = None,
        ylabel: str | None = None,
        xlim: Sequence[float] | None = None,
        ylim: Sequence[float] | None = None,
        xscale: str = "linear",
        yscale: str = "linear",
        ls: Sequence[str] = ("-", "--", "-.", ":"),
        colors: Sequence[str] = ("C0", "C1", "C2", "C3"),
        fig: Any = None,
        axes: Any = None,
        figsize: tuple[float, float] = (3.5, 2.5),
        display: bool = True,
    ) -> None:
        self.save_hyperparameters()
        self.data: dict[str, list[tuple[float, float]]] = defaultdict(list)
        self._pending: dict[str, list[tuple[float, float]]] = defaultdict(list)

    def draw(self, x: float, y: Any, label: str, every_n: int = 1) -> None:
        """Record ``(x, y)`` on line ``label``; every ``every_n`` points become their mean."""
        pending = self._pending[label]
        pending.append((float(x), float(y)))
        if len(pending) < max(int(every_n), 1):
            return
        xs, ys = zip(*pending)
        self.data[label].append((sum(xs) / len(xs), sum(ys) / len(ys)))
        pending.clear()

    def figure(self) -> Any:
        """A matplotlib figure of the recorded lines."""
        from ...plot import new_figure, style_axes

        fig, ax = new_figure(tuple(self.figsize), dpi=100)
        for (label, points), ls, color in zip(
            self.data.items(), _cycle(self.ls), _cycle(self.colors)
        ):
            if points:
                xs, ys = zip(*points)
                ax.plot(xs, ys, linestyle=ls, color=color, label=label)
        style_axes(ax, self.xlabel, self.ylabel, self.xscale, self.yscale, self.xlim, self.ylim)
        if self.data:
            ax.legend()
        fig.tight_layout()
        return fig

    def savefig(self, path: str | os.PathLike, **kwargs: Any) -> str:
        self.figure().savefig(path, **kwargs)
        return os.fspath(path)


def _cycle(items: Sequence[Any]) -> Iterator[Any]:
    while True:
        yield from items


def plot(
    X: Any,
    Y: Any = None,
    xlabel: str | None = None,
    ylabel: str | None = None,
    legend: Sequence[str] = (),
    xlim: Any = None,
    ylim: Any = None,
    xscale: str = "linear",
    yscale: str = "linear",
    fmts: Sequence[str] = ("-", "m--", "g-.", "r:"),
    figsize: tuple[float, float] = (3.5, 2.5),
    axes: Any = None,
) -> Any:
    """The book's ``plot``: one or more lines on one axes; returns the matplotlib figure (no
    display)."""
    from ...plot import new_figure, style_axes

    def as_lines(values: Any) -> list[Any]:
        """``values`` as a list of lines: one line (a flat sequence) or several."""
        if values is None:
            return []
        if np.ndim(values[0] if len(values) else values) == 0:
            return [values]
        return list(values)

    X, Y = as_lines(X), as_lines(Y)
    if not Y:
        X, Y = [[]] * len(X), X
    elif len(X) != len(Y):
        X = X * len(Y)
    fig, ax = (axes.figure, axes) if axes is not None else new_figure(figsize, dpi=100)
    for x, y, fmt in zip(X, Y, _cycle(fmts)):
        y = np.asarray(y, dtype=float)
        ax.plot(np.asarray(x, dtype=float), y, fmt) if len(x) else ax.plot(y, fmt)
    style_axes(ax, xlabel, ylabel, xscale, yscale, xlim, ylim)
    if legend:
        ax.legend(legend)
    return fig


class TensorLoader:
    """Minibatches of rows of NumPy arrays (the book's ``get_tensorloader``), reshuffled every epoch
    when training.

    Iterating yields framework tensors (``to_tensor``); :meth:`host_batches` yields the NumPy rows,
    which is what the core loop reads. Batches never carry a hidden state into the next.
    """

    carries_state = False

    def __init__(self, arrays: Sequence[np.ndarray], batch_size: int, shuffle: bool,
                 to_tensor: Callable[[np.ndarray], Any]) -> None:
        self.arrays = list(arrays)
        self.batch_size = int(batch_size)
        self.shuffle = shuffle
        self.to_tensor = to_tensor
        self.rng = np.random.default_rng()

    def __len__(self) -> int:
        return math.ceil(len(self.arrays[0]) / self.batch_size)

    def host_batches(self) -> Iterator[tuple[np.ndarray, ...]]:
        n = len(self.arrays[0])
        order = self.rng.permutation(n) if self.shuffle else np.arange(n)
        for start in range(0, n, self.batch_size):
            rows = order[start : start + self.batch_size]
            yield tuple(a[rows] for a in self.arrays)

    def __iter__(self) -> Iterator[tuple[Any, ...]]:
        for batch in self.host_batches():
            yield tuple(self.to_tensor(a) for a in batch)


def data_classes(
    to_tensor: Callable[[Any], Any], to_host: Callable[[Any], np.ndarray]
) -> tuple[type, type]:
    """The tab's ``DataModule`` and ``TimeMachine`` classes, making tensors with ``to_tensor``.

    ``TimeMachine`` derives from ``DataModule`` directly, so the book's
    ``super(d2l.TimeMachine, self).__init__()`` reaches ``DataModule.__init__``.
    """

    class DataModule(HyperParameters):
        """The book's data module: ``train_dataloader()`` / ``val_dataloader()`` from
        ``get_dataloader(train)``."""

        def __init__(self, root: str = "../data", num_workers: int = 4) -> None:
            self.save_hyperparameters()

        def get_dataloader(self, train: bool) -> Any:
            raise NotImplementedError

        def train_dataloader(self) -> Any:
            return self.get_dataloader(train=True)

        def val_dataloader(self) -> Any:
            return self.get_dataloader(train=False)

        def get_tensorloader(
            self, tensors: Sequence[Any], train: bool, indices: Any = slice(0, None)
        ) -> TensorLoader:
            """Minibatches of ``self.batch_size`` rows of ``tensors[indices]``, shuffled when
            ``train``."""
            return TensorLoader(
                [to_host(t)[indices] for t in tensors], self.batch_size, train, to_tensor
            )

    class TimeMachine(DataModule):
        """d2l 1.0's corpus: every window of ``num_steps + 1`` characters is one example.

        ``X``/``Y`` hold all windows (inputs and the targets shifted by one); the first
        ``num_train`` windows train, the next ``num_val`` validate. ``vocab`` is sorted.
        """

        def __init__(
            self, batch_size: int, num_steps: int, num_train: int = 10000, num_val: int = 5000
        ) -> None:
            super().__init__()
            self.save_hyperparameters()
            corpus, self.vocab = self.build(self._download())
            if len(corpus) <= num_steps:
                raise D2LRNNError(
                    f"The corpus has {len(corpus)} tokens, fewer than num_steps + 1 = "
                    f"{num_steps + 1}."
                )
            windows = np.lib.stride_tricks.sliding_window_view(
                np.asarray(corpus, dtype=np.int64), num_steps + 1
            )
            array = to_tensor(np.ascontiguousarray(windows[: len(corpus) - num_steps]))
            self.X, self.Y = array[:, :-1], array[:, 1:]

        def _download(self) -> str:
            return read_text(
                download(
                    DATA_URL + TIME_MACHINE_NAME,
                    getattr(self, "root", "../data"),
                    TIME_MACHINE_SHA1,
                )
            )

        def _preprocess(self, text: str) -> str:
            return re.sub("[^A-Za-z]+", " ", text).lower()

        def _tokenize(self, text: str) -> list[str]:
            return list(text)

        def build(
            self, raw_text: str, vocab: SortedVocab | None = None
        ) -> tuple[list[int], SortedVocab]:
            """``(corpus, vocab)``: the token indices of ``raw_text`` and the (given or new)
            vocabulary."""
            tokens = self._tokenize(self._preprocess(raw_text))
            vocab = vocab if vocab is not None else SortedVocab(tokens)
            return [vocab[t] for t in tokens], vocab

        def get_dataloader(self, train: bool) -> TensorLoader:
            rows = (
                slice(0, self.num_train)
                if train
                else slice(self.num_train, self.num_train + self.num_val)
            )
            return self.get_tensorloader([self.X, self.Y], train, rows)

    return DataModule, TimeMachine


class ModuleSteps(HyperParameters):
    """What d2l 1.0.3's ``Module`` does the same on every tab; a tab's ``Module`` adds the framework
    class.

    A tab supplies ``_scalar(value) -> float`` (a tensor on the host) and the primitives the
    trainer calls: ``_book_update``, ``_book_validate``, ``_book_grads``, ``_book_set_grads``.
    """

    plot_train_per_epoch: int
    plot_valid_per_epoch: int

    def __init__(self, plot_train_per_epoch: int = 2, plot_valid_per_epoch: int = 1) -> None:
        super().__init__()
        self.save_hyperparameters()
        self._setup_board()

    def _setup_board(self) -> None:
        self.board = ProgressBoard()

    def loss(self, y_hat: Any, y: Any) -> Any:
        raise NotImplementedError

    def forward(self, X: Any) -> Any:
        assert hasattr(self, "net"), "Neural network is defined"
        return self.net(X)

    def plot(self, key: str, value: Any, train: bool) -> None:
        """Record ``value`` on :attr:`board`: per training batch (x in epochs), per epoch for
        validation."""
        assert hasattr(self, "trainer"), "Trainer is not inited"
        self.board.xlabel = "epoch"
        if train:
            x = self.trainer.train_batch_idx / self.trainer.num_train_batches
            n = self.trainer.num_train_batches / self.plot_train_per_epoch
        else:
            x = self.trainer.epoch + 1
            n = self.trainer.num_val_batches / self.plot_valid_per_epoch
        self.board.draw(
            x, self._scalar(value), ("train_" if train else "val_") + key, every_n=int(n)
        )

    def _scalar(self, value: Any) -> float:
        return float(np.asarray(value))

    def training_step(self, batch: Any) -> Any:
        loss = self.loss(self(*batch[:-1]), batch[-1])
        self.plot("loss", loss, train=True)
        return loss

    def validation_step(self, batch: Any) -> Any:
        loss = self.loss(self(*batch[:-1]), batch[-1])
        self.plot("loss", loss, train=False)
        return loss


class CheckedCall:
    """Checks every call against the constructor's signature (:func:`check_call`) before building
    anything."""

    def __new__(cls, *args: Any, **kwargs: Any) -> Any:
        check_call(cls, args, kwargs)
        base_new = super().__new__
        return base_new(cls) if base_new is object.__new__ else base_new(cls, *args, **kwargs)


class RecurrentLayerSteps(CheckedCall):
    """d2l 1.0.3's ``RNNScratch``, the recurrent layer alone, on every tab: ``forward(inputs,
    state=None)``
    takes time-major ``(num_steps, batch, num_inputs)`` floats and returns the list of hidden states
    and
    the last one. A tab supplies the weights (``_init_weights``), the zero state
    (``_zero_state(inputs)``)
    and one step of the cell (``_cell(X, state)``)."""

    def __init__(self, num_inputs: int, num_hiddens: int, sigma: float = 0.01) -> None:
        super().__init__()
        self.save_hyperparameters()
        self._init_weights()

    def forward(self, inputs: Any, state: Any = None) -> tuple[list[Any], Any]:
        if state is None:
            state = self._zero_state(inputs)
        elif isinstance(state, (tuple, list)):
            (state,) = state
        outputs = []
        for X in inputs:
            state = self._cell(X, state)
            outputs.append(state)
        return outputs, state


class LanguageModelSteps:
    """``RNNLMScratch``'s constructor and steps on every tab: the loss, with its perplexity plotted.
    """

    def __init__(self, rnn: Any, vocab_size: int, lr: float = 0.01) -> None:
        super().__init__()
        self.save_hyperparameters()
        self.init_params()

    def training_step(self, batch: Any) -> Any:
        loss = self.loss(self(*batch[:-1]), batch[-1])
        self.plot("ppl", math.exp(self._scalar(loss)), train=True)
        return loss

    def validation_step(self, batch: Any) -> Any:
        loss = self.loss(self(*batch[:-1]), batch[-1])
        self.plot("ppl", math.exp(self._scalar(loss)), train=False)
        return loss


def is_book_module(model: Any) -> bool:
    """Whether ``model`` trains through the book's hooks (it has ``training_step``)."""
    return callable(getattr(model, "training_step", None)) and callable(
        getattr(model, "_book_update", None)
    )


class Trainer(CoreTrainer):
    """d2l 1.0.3's ``Trainer(max_epochs, num_gpus=0, gradient_clip_val=0)``, one layer over the core
    loop.

    ``fit(model, data)`` with a book model (a ``d2l.Module``) calls ``prepare_data``,
    ``prepare_model`` and the model's ``configure_optimizers`` as the book does, then runs
    :meth:`d2lrnn.trainer.Trainer.fit`, whose per-batch step becomes ``prepare_batch`` and the
    model's ``_book_update`` (``training_step``, autograd, :meth:`clip_gradients`, the optimizer)
    and whose validation calls ``validation_step`` (:class:`BookSteps`). Any of these methods can
    be replaced with :func:`add_to_class`. Any other model trains as in the core. Like the book,
    ``fit`` returns nothing (the epochs are in :attr:`history`).
    """

    #: a tab whose gradients come as a list, without a model, names its array operations here
    math: ArrayMath | None = None

    def __init__(self, max_epochs: int, num_gpus: int = 0, gradient_clip_val: float = 0,
                 **kwargs: Any) -> None:
        kwargs.setdefault("progress", False)
        super().__init__(max_epochs, gradient_clip_val, num_gpus=num_gpus, **kwargs)
        self.hparams = {"max_epochs": max_epochs, "num_gpus": num_gpus,
                        "gradient_clip_val": gradient_clip_val}
        self.train_batch_idx = 0
        self.val_batch_idx = 0
        self.num_train_batches = 0
        self.num_val_batches = 0
        #: how the core loop's step and validation reach the model (chosen by ``fit``)
        self.steps: BookSteps | None = None

    def prepare_data(self, data: Any) -> None:
        self.train_dataloader = data.train_dataloader()
        self.val_dataloader = data.val_dataloader()
        self.num_train_batches = len(self.train_dataloader)
        self.num_val_batches = len(self.val_dataloader) if self.val_dataloader is not None else 0

    def prepare_model(self, model: Any) -> None:
        model.trainer = self
        model.board.xlim = [0, self.max_epochs]
        self.model = model

    def prepare_batch(self, batch: Any) -> Any:
        return batch

    def fit(self, model: Any, data: Any) -> None:  # type: ignore[override]
        self.steps = BookSteps(self, model, data) if is_book_module(model) else None
        super().fit(model, data)

    def fit_epoch(self) -> None:
        """One more epoch of the core loop on the model and data that ``fit`` prepared."""
        super().fit(self.model, _Prepared(self), epochs=1)

    def clip_gradients(self, grad_clip_val: float, model_or_grads: Any) -> Any:
        """Rescale the gradients to global norm at most ``grad_clip_val``
        (:func:`d2lrnn.clip_gradients`).

        Given a model, its gradients are rescaled in place; given a list of gradients (the
        TensorFlow tab), the rescaled list is returned.
        """
        if isinstance(model_or_grads, (list, tuple)):
            return clip_gradients(list(model_or_grads), grad_clip_val, self._math())
        grads = model_or_grads._book_grads()
        model_or_grads._book_set_grads(
            clip_gradients(grads, grad_clip_val, self._math(model_or_grads))
        )
        return None

    def _math(self, model: Any = None) -> ArrayMath:
        """The array operations of the backend training now (or of ``model``, or the tab's
        :attr:`math`)."""
        if self.math is not None:
            return self.math
        return (self.backend or backend_for(model)).math

    def start_book_model(self, model: Any) -> None:
        """Called once the device is set, before the first step of a book model (JAX: its state)."""

    def _make_step(
        self, backend: Backend, model: Any, lr: float, clip: float
    ) -> Callable[[Any, Any, Any], Any]:
        if self.steps is None:
            return super()._make_step(backend, model, lr, clip)
        self.start_book_model(model)
        return self.steps.step

    def evaluate(self, model: Any, data: Any) -> float | None:
        """Validation perplexity: the book model's ``validation_step`` (:meth:`BookSteps.evaluate`)
        or the core's."""
        return super().evaluate(model, data) if self.steps is None else self.steps.evaluate(data)


class BookSteps:
    """The core loop's per-batch step and validation, answered by a book model's own methods.

    Built by :meth:`Trainer.fit`, which first prepares the data, the model and the optimizer, and
    restarts from epoch 0, as the book's ``fit`` does.
    """

    def __init__(self, trainer: Trainer, model: Any, data: Any) -> None:
        self.trainer = trainer
        self.model = model
        trainer.prepare_data(data)
        trainer.prepare_model(model)
        trainer.optim = model.configure_optimizers()
        trainer.train_batch_idx = 0
        trainer.val_batch_idx = 0
        trainer.epoch = 0
        trainer.history = []

    def step(self, X: Any, Y: Any, state: Any) -> tuple[Any, None]:
        """``_book_update`` on the prepared batch; the book's models keep no state across batches.
        """
        trainer = self.trainer
        loss = self.model._book_update(trainer, trainer.prepare_batch((X, Y)))
        trainer.train_batch_idx += 1
        return loss, None

    def evaluate(self, data: Any) -> float | None:
        """``validation_step`` on every batch of ``data.val_dataloader()``; their mean loss as a
        perplexity."""
        trainer = self.trainer
        losses = []
        loader = data.val_dataloader()
        for batch in loader if loader is not None else ():
            loss = self.model._book_validate(trainer, trainer.prepare_batch(tuple(batch)))
            trainer.val_batch_idx += 1
            if loss is not None:
                losses.append(float(np.asarray(trainer.backend.to_numpy(loss))))
        return perplexity(sum(losses) / len(losses)) if losses else None


class _Prepared:
    """The data the trainer prepared, as ``fit`` expects it."""

    def __init__(self, trainer: Trainer) -> None:
        self.trainer = trainer

    def train_dataloader(self) -> Any:
        return self.trainer.train_dataloader

    def val_dataloader(self) -> Any:
        return self.trainer.val_dataloader


def fits(function: Callable[..., Any], args: tuple, kwargs: dict) -> bool:
    """Whether ``function(*args, **kwargs)`` binds to its signature."""
    try:
        inspect.signature(function).bind(None, *args, **kwargs)
    except TypeError:
        return False
    return True


def check_call(
    cls: type,
    args: tuple,
    kwargs: dict,
    draft_names: Sequence[str] = ("num_outputs", "lr", "num_layers"),
) -> None:
    """A clear error for a d2l 1.0.3 constructor called the 1.0 draft's way (or any other wrong
    way)."""
    if fits(cls.__init__, args, kwargs):
        return
    signature = inspect.signature(cls.__init__)
    hint = ""
    if set(kwargs) & set(draft_names):
        tab = (
            cls.__module__.rsplit(".", 1)[-1]
            if cls.__module__.startswith(__name__ + ".")
            else "torch"
        )
        hint = (
            " This is the 1.0 draft's call (a whole language model with num_outputs and lr): use "
            f"`from d2lrnn.draft import {tab} as d2l` for the draft's code."
        )
    raise BookAPIError(
        f"{cls.__name__}{signature} is d2l 1.0.3's class (the published book); it cannot be called "
        "with "
        f"args={args!r}, kwargs={kwargs!r}.{hint}"
    )


#: the names every tab re-exports as they are (``from .v1 import *`` in a tab module)
#: the names each tab defines for itself on its framework (beside ``__all__`` here, the d2l 0.x
#: names and the tensor aliases)
TAB_NAMES = (
    "RNN",
    "RNNLM",
    "Classifier",
    "DataModule",
    "Module",
    "RNNLMScratch",
    "RNNScratch",
    "TimeMachine",
    "Trainer",
    "Vocab",
    "cpu",
    "float32",
    "gpu",
    "int32",
    "int64",
    "num_gpus",
    "try_gpu",
)

__all__ = [
    "DATA_URL",
    "BookAPIError",
    "HyperParameters",
    "ProgressBoard",
    "add_to_class",
    "download",
    "plot",
]
