"""One benchmark measurement in a fresh process: ``python -m d2lrnn.bench.worker ...``.

It trains one backend's ``concise`` or ``scratch`` model with the library's
:class:`~d2lrnn.Trainer`,
runs the bare framework ``floor`` or the ``book``'s own code (the ``d2l`` package; both in
``d2lrnn/backends/<name>/floor.py``), and prints one line
``D2LRNN-BENCH {json}`` on standard output: the per-epoch tokens and seconds, the final training
perplexity, the time to the first finished batch (measured from ``--t0``, the parent's wall-clock
time just before it started this process, so interpreter start, imports, data and model are
included), the wall time and the peak resident memory. :mod:`d2lrnn.bench` runs it and parses it.

Each kind of row imports what it needs inside its own function: the book's and the floor's rows must
not pay, in their time to the first batch, for importing the library they are compared with.
"""

from __future__ import annotations

import time

_T_IMPORT = time.time()  # noqa: E402  (before anything heavy is imported)

import argparse  # noqa: E402
import inspect  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import resource  # noqa: E402
import sys  # noqa: E402
from collections.abc import Callable, Iterator, Sequence  # noqa: E402
from typing import Any  # noqa: E402

from d2lrnn.backends import spec  # noqa: E402
from d2lrnn.cells import CELLS  # noqa: E402
from d2lrnn.metrics import perplexity  # noqa: E402

MARKER = "D2LRNN-BENCH "
MODELS = ("concise", "scratch", "floor", "book")


def peak_rss_mib() -> float:
    """This process's peak resident set size in MiB (``ru_maxrss`` is KiB on Linux, bytes on macOS).
    """
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


class _FirstBatchClock:
    """Wraps a training loader; notes the wall-clock time once the first step has finished."""

    def __init__(self, loader: Any, sync: Callable[[], None]) -> None:
        self.loader, self.sync = loader, sync
        self.done_at: float | None = None
        self.carries_state = getattr(loader, "carries_state", True)

    def __iter__(self) -> Iterator[Any]:
        for batch in self.loader:
            yield batch  # resumed when the Trainer asks for the next batch: the step is dispatched
            if self.done_at is None:
                self.sync()
                self.done_at = time.time()

    def __len__(self) -> int:
        return len(self.loader)


class _Data:
    """The data module with its training loader clocked."""

    def __init__(self, data: Any, clock: _FirstBatchClock) -> None:
        self.data, self.clock = data, clock

    def train_dataloader(self) -> _FirstBatchClock:
        return self.clock

    def val_dataloader(self) -> Iterator[Any]:
        return self.data.val_dataloader()


def _unused_modules_stubbed(names: Sequence[str]) -> list[str]:
    """Put empty modules in place of those ``names`` that are not installed; return the stubbed
    ones.

    The book's ``d2l`` package imports some libraries at the top that its RNN chapters never use
    (pandas, torchvision); installing it without its pinned dependencies leaves them out.
    """
    import importlib.util
    import types

    stubbed = []
    for name in names:
        parent = name.rpartition(".")[0]
        if name in sys.modules or (not parent and importlib.util.find_spec(name) is not None):
            continue
        if parent and parent not in stubbed:
            continue
        module = types.ModuleType(name)
        sys.modules[name] = module
        if parent:
            setattr(sys.modules[parent], name.rpartition(".")[2], module)
        stubbed.append(name)
    return stubbed


#: what ``d2l`` 0.17.6 imports at the top but its RNN chapters never use
BOOK_UNUSED = ("pandas", "torchvision", "torchvision.transforms")
#: set before any framework is imported in a book run: d2l 0.17.6's TensorFlow code builds a
#: time-major
#: Keras 2 layer, so ``tf.keras`` must be tf-keras there (the other frameworks ignore the variable)
BOOK_ENV = {"TF_USE_LEGACY_KERAS": "1"}


def _book(
    args: argparse.Namespace, baselines: Any, on_first_batch: Callable[[], None]
) -> tuple[list[dict], list[str]]:
    """The book's own code (the ``d2l`` package) on this backend: its epochs and what was stubbed.
    """
    import importlib
    import random

    import numpy as np

    from ..backends.floor import BookBatches, book_lines
    from ..corpus import time_machine_path

    stubbed = _unused_modules_stubbed(BOOK_UNUSED)
    try:
        d2l = importlib.import_module(baselines.BOOK_MODULE)
    finally:  # nothing else may take the stubs for the real libraries
        for name in stubbed:
            sys.modules.pop(name, None)
    random.seed(args.seed)
    np.random.seed(args.seed)
    path = args.corpus or str(time_machine_path(args.data_dir))
    data = BookBatches(
        d2l,
        book_lines(d2l, path),
        args.token,
        args.batch_size,
        args.num_steps,
        args.max_tokens,
        on_first_batch,
    )
    # the book's RNN rows call it as they always did
    cell = {"cell": args.cell} if args.cell != "rnn" else {}
    return baselines.train_book(
        d2l, data, args.num_hiddens, args.lr, args.epochs, device=args.device, **cell
    ), stubbed


def measure(args: argparse.Namespace) -> dict[str, Any]:
    """Run one measurement; return the result dict (``status`` is ok, or skipped with a reason)."""
    from ..backends import is_installed
    from ..threads import start_threads

    name = spec(args.backend).name
    result: dict[str, Any] = {
        "backend": name,
        "model": args.model,
        "cell": args.cell,
        "seed": args.seed,
    }
    if not is_installed(name):
        return {**result, "status": "skipped", "reason": f"{name} is not installed"}
    first_batch: list[float] = []
    if args.model == "book" or args.model == "floor":
        # before the framework is imported: it reads them then
        threads = start_threads(args.threads, name)
        run = _baseline(args, name, lambda: first_batch.append(time.time()))
    else:
        run = _library(args, name, first_batch)
        threads = run.pop("threads", None)
    if run.get("status") == "skipped":
        return {**result, **run}
    history = run.pop("history")
    governor = run.pop("governor", None)
    return {
        **result,
        **run,
        "status": "ok",
        "framework_version": spec(name).version(),
        "threads_setting": args.threads,
        "threads": threads,  # at the start; None: the framework's own count
        "thread_changes": governor.changes[1:] if governor else [],
        "epochs": history,
        "perplexity": history[-1]["perplexity"],
        "first_batch_s": first_batch[0] - args.t0 if first_batch else None,
        "import_to_first_batch_s": first_batch[0] - _T_IMPORT if first_batch else None,
        "wall_s": time.time() - args.t0,
        "peak_rss_mib": peak_rss_mib(),
    }


def _skipped(reason: str) -> dict[str, Any]:
    return {"status": "skipped", "reason": reason}


def _data(args: argparse.Namespace) -> Any:
    """The measured text: the first ``--max-tokens`` tokens, no validation part."""
    from ..data import TimeMachine

    return TimeMachine(
        args.batch_size,
        args.num_steps,
        num_train=args.max_tokens,
        num_val=0,
        token=args.token,
        corpus=args.corpus,
        data_dir=args.data_dir,
        seed=args.seed,
    )


def _library(args: argparse.Namespace, name: str, first_batch: list[float]) -> dict[str, Any]:
    """The library's ``concise`` or ``scratch`` model, built and trained as ``d2lrnn train`` builds
    it."""
    from ..errors import BackendError
    from ..train_job import build_model_and_trainer, start_backend

    data = _data(args)
    try:
        engine = start_backend(name, args.threads, args.seed, log=lambda message: None)
    except BackendError as exc:
        return _skipped(str(exc))
    backend = engine.backend
    group = _group(name, args.workers)  # before the model: TensorFlow's strategy comes first
    device = backend.device(args.device)
    settings = {
        "model": args.model,
        "cell": args.cell,
        "num_hiddens": args.num_hiddens,
        "num_layers": 1,
        "lr": args.lr,
        "epochs": args.epochs,
        "clip": args.clip,
    }
    model, trainer = build_model_and_trainer(
        backend,
        settings,
        len(data.vocab),
        device,
        governor=engine.governor,
        progress=False,
        val_every=args.epochs,
    )
    workers = {}
    if group is not None:
        group.attach(trainer, data)
        workers = {"workers": group.workers}
    clock = _FirstBatchClock(data.train_dataloader(), backend.synchronize)
    trainer.fit(model, _Data(data, clock))
    if clock.done_at is not None:
        first_batch.append(clock.done_at)
    share = group.workers if group is not None and _processes(name) else 1
    history = [{"tokens": s.tokens * share, "seconds": s.seconds, "perplexity": s.perplexity}
               for s in trainer.history]  # tokens: the whole batch's, every worker trained a share
    if group is not None:
        group.close()
    return {
        "history": history,
        "device": str(backend.device_name(trainer.device)),
        "vocab_size": len(data.vocab),
        "threads": engine.threads,
        "governor": engine.governor,
        **workers,
    }


def _processes(name: str) -> bool:
    from ..distributed import engine_mode

    return engine_mode(name) == "processes"


def _group(name: str, workers: int) -> Any:
    """The data-parallel group of a ``--workers`` row (a worker process, or MXNet's devices), else
    None."""
    from .. import distributed

    if distributed.is_worker(name) or (workers > 1 and not _processes(name)):
        return distributed.join(name, workers)
    return None


def _launch(args: argparse.Namespace, argv: Sequence[str]) -> int | None:
    """Start ``--workers`` processes of this measurement (rank 0 prints the result line); None when
    not needed."""
    from ..distributed import is_worker
    from ..distributed.launch import Launcher

    name = spec(args.backend).name
    if (
        args.workers < 2
        or not _processes(name)
        or is_worker(name)
        or args.model not in ("concise", "scratch")
    ):
        return None
    return Launcher([sys.executable, "-m", "d2lrnn.bench.worker", *argv], args.workers).run()


def _baseline(
    args: argparse.Namespace, name: str, on_first_batch: Callable[[], None]
) -> dict[str, Any]:
    """The bare framework (``floor``) or the book's own code (``book``), from the backend's
    ``floor.py``."""
    import importlib
    import importlib.util

    from ..data import sequential_batches

    baselines_name = f"{spec(name).module}.floor"
    if importlib.util.find_spec(baselines_name) is None:
        return _skipped(f"{name} has no floor.py")
    baselines = importlib.import_module(baselines_name)
    if (
        args.model == "floor"
        and args.cell != "rnn"
        and "cell" not in inspect.signature(baselines.train_floor).parameters
    ):
        return _skipped(f"{name}'s floor is a vanilla RNN")
    if args.model == "book":
        if not hasattr(baselines, "train_book"):
            return _skipped(f"the book has no {name} implementation")
        if importlib.util.find_spec("d2l") is None:
            return _skipped("the d2l package is not installed: pip install --no-deps d2l==0.17.6")
        epochs, stubbed = _book(args, baselines, on_first_batch)
        return {"history": _history(epochs), "device": str(args.device), "stubbed_modules": stubbed}
    data = _data(args)
    batches = [
        (X.copy(), Y.copy())
        for X, Y in sequential_batches(data.train_corpus, args.batch_size, args.num_steps, None)
    ]
    # a floor may know the vanilla RNN only
    cell = {"cell": args.cell} if args.cell != "rnn" else {}
    epochs = baselines.train_floor(
        batches,
        len(data.vocab),
        args.num_hiddens,
        args.lr,
        args.clip,
        args.epochs,
        device=args.device,
        on_first_batch=on_first_batch,
        **cell,
    )
    return {"history": _history(epochs), "device": str(args.device), "vocab_size": len(data.vocab)}


def _history(epochs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """A baseline's epochs in the library's terms: tokens, seconds and the training perplexity."""
    return [
        {"tokens": e["tokens"], "seconds": e["seconds"], "perplexity": perplexity(e["loss"])}
        for e in epochs
    ]


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m d2lrnn.bench.worker", description=__doc__.splitlines()[0]
    )
    p.add_argument("--backend", required=True)
    p.add_argument("--model", choices=MODELS, required=True)
    p.add_argument("--cell", choices=tuple(CELLS), default="rnn")
    p.add_argument("--epochs", type=int, default=10)
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--num-steps", type=int, default=35)
    p.add_argument("--num-hiddens", type=int, default=256)
    p.add_argument("--lr", type=float, default=1.0)
    p.add_argument("--clip", type=float, default=1.0)
    p.add_argument("--max-tokens", type=int, default=10000)
    p.add_argument("--token", choices=("char", "word"), default="char")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--device", choices=("cpu", "gpu"), default="cpu")
    p.add_argument("--data-dir")
    p.add_argument("--corpus", help="a UTF-8 text to train on instead of The Time Machine")
    p.add_argument("--threads", help="auto or a whole number (left out: the framework's own count)")
    p.add_argument(
        "--workers", type=int, default=1, help="data-parallel workers (d2lrnn.distributed)"
    )
    p.add_argument(
        "--t0",
        type=float,
        default=None,
        help="the parent's time.time() when it started this process",
    )
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.t0 is None:
        args.t0 = _T_IMPORT
    if args.model == "book":
        os.environ.update(BOOK_ENV)
    launched = _launch(args, list(sys.argv[1:] if argv is None else argv))
    if launched is not None:
        return launched
    result = measure(args)
    print(MARKER + json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
