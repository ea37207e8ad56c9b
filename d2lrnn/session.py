"""Train with checkpoints, resume and a graceful stop: the library function behind ``d2lrnn train``.

:func:`run_training` takes a :class:`TrainJob` and returns a :class:`TrainResult`. Everything that
can be checked without a framework (settings, seed, checkpoint and figure paths, corpus,
vocabulary, memory) is checked before the backend is imported. Progress messages go to ``log``;
the results are only returned, never printed.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

from . import checks
from .cells import get_cell, make_model
from .errors import CheckpointError, D2LRNNError, DivergenceError

#: train settings a checkpoint records; on resume they come from it (those in RESUME_OVERRIDES may be changed)
TRAIN_DEFAULTS: dict[str, Any] = {
    "model": "concise", "cell": "rnn", "epochs": 500, "batch_size": 32, "num_steps": 35, "num_hiddens": 256, "num_layers": 1,
    "lr": 1.0, "clip": 1.0, "max_tokens": 10000, "num_val": 5000, "sampling": "sequential", "token": "char",
    "seed": None, "corpus": None,
}
RESUME_OVERRIDES = ("epochs", "lr", "clip", "corpus")
#: the book's sample prefixes; those the corpus's vocabulary cannot spell are left out
SAMPLE_PREFIXES = ("time traveller", "traveller")

Log = Callable[[str], None]


def flag(key: str) -> str:
    """The command-line spelling of a setting: ``num_hiddens`` -> ``--num-hiddens``."""
    return "--" + key.replace("_", "-")


@dataclass
class TrainJob:
    """What to train and where to keep it. ``settings`` holds only the keys of :data:`TRAIN_DEFAULTS` given."""

    settings: dict[str, Any] = field(default_factory=dict)
    backend: str | None = None
    device: str = "auto"
    data_dir: str | None = None
    save: str | None = None
    save_every: int = 10
    resume: str | None = None
    plot: str | None = None
    num_preds: int = 50
    progress: bool | None = None
    #: the framework's CPU threads: "auto" (follow the free cores), a whole number or None (the framework's own)
    threads: int | str | None = "auto"
    #: the data-parallel worker group (:mod:`d2lrnn.distributed`); None trains in one process
    group: Any = None


@dataclass
class TrainResult:
    """What a run produced. ``exit_status`` is 0 for a whole run; ``message`` says why it is not."""

    backend: str
    model: str
    summary: dict[str, Any]
    samples: dict[str, str]
    checkpoint: str | None
    plot: str | None
    wall_seconds: float
    stopped_by: str | None = None  #: the signal that stopped the run early
    cell: str = "rnn"  #: the recurrent cell (see :mod:`d2lrnn.cells`)
    exit_status: int = 0
    message: str = ""

    def to_dict(self) -> dict[str, Any]:
        """The JSON report: backend, model, the trainer's summary, wall time, samples, checkpoint, plot."""
        report = asdict(self)
        summary, message = report.pop("summary"), report.pop("message")
        report.pop("exit_status")
        return {**{k: report.pop(k) for k in ("backend", "model", "cell")}, **summary, **report,
                **({"problem": message} if message and not self.stopped_by else {})}


def resolve_settings(job: TrainJob) -> tuple[dict[str, Any], dict[str, Any] | None, Any]:
    """The run's settings (defaults, or the checkpoint's on resume), the saved training state and weights."""
    given = {k: v for k, v in job.settings.items() if v is not None}
    unknown = sorted(set(given) - set(TRAIN_DEFAULTS))
    if unknown:
        raise D2LRNNError(f"Unknown training settings {', '.join(unknown)}; known: {', '.join(TRAIN_DEFAULTS)}.")
    if not job.resume:
        return {**TRAIN_DEFAULTS, **given}, None, None
    from .checkpoint import read
    from .resume import resumable_state

    weights, meta = read(job.resume)
    state = resumable_state(meta, job.resume)
    settings = {**TRAIN_DEFAULTS, **state["settings"]}
    clashes = [f"{flag(k)} {v} (it was trained with {settings[k]})" for k, v in given.items()
               if k not in RESUME_OVERRIDES and v != settings[k]]
    if clashes:
        raise CheckpointError(
            f"The checkpoint {job.resume} does not fit the requested model or data: {'; '.join(clashes)}. "
            f"Leave these options out to resume (only {', '.join(map(flag, RESUME_OVERRIDES))} may change), "
            "or start a new run without --resume."
        )
    settings.update(given)
    if settings["epochs"] <= state["epoch"]:
        raise CheckpointError(
            f"The checkpoint {job.resume} has already trained {state['epoch']} epochs of {settings['epochs']}; "
            f"give a larger --epochs to train on."
        )
    return settings, {"meta": meta, "state": state}, weights


def run_training(job: TrainJob, log: Log = lambda message: None) -> TrainResult:
    """Train as ``job`` says, saving checkpoints; a signal stops after the current batch and saves.

    Bad input raises a :class:`~d2lrnn.D2LRNNError` before any framework is imported; a diverging
    run raises :class:`~d2lrnn.DivergenceError`. A step after training that fails never loses the
    results: the result carries the reason in ``message`` and ``exit_status`` 2 for the final
    checkpoint (a periodic save that fails is only logged; training goes on), 1 for the figure.
    """
    wall = time.perf_counter()
    s, resumed, weights, name, data = _prepare(job)
    save_path = job.save or job.resume
    model, trainer, backend, device = _build(job, name, s, data, log)
    if job.group is not None:  # this worker's rows of each batch; only rank 0 writes checkpoints
        job.group.attach(trainer, data)
        save_path = save_path if job.group.rank == 0 else None
    if resumed:
        from .resume import restore_training_state

        model.set_weights(weights)
        restore_training_state(trainer, data.train_loader.rng, resumed["state"])
        log(f"resuming {job.resume} after epoch {trainer.epoch} of {trainer.max_epochs}")
    from .resume import CheckpointSaver

    stored = {**s, "corpus": str(s["corpus"]) if s["corpus"] else None}
    saver = CheckpointSaver(model, data.vocab, data.train_loader.rng, trainer, backend=backend, path=save_path,
                            every=job.save_every, settings=stored, log=log, final_save=True)
    if resumed and save_path == job.resume:
        saver.saved_epoch = trainer.epoch  # the file already holds the resumed epoch
    trainer.callbacks.append(saver)

    def result(**extra: Any) -> TrainResult:
        return TrainResult(backend.name, s["model"], trainer.summary(), {}, save_path, None,
                           time.perf_counter() - wall, cell=s["cell"], **extra)

    stop = _train_and_save(trainer, model, data, saver, save_path, s["lr"], log, backend.device_name(device))
    if stop is not None and stop.get("stopped_by"):
        return result(**stop)
    samples = {}
    for prefix in _sample_prefixes(data):
        key = prefix if isinstance(prefix, str) else " ".join(prefix)
        samples[key] = model.predict(prefix, job.num_preds, data.vocab, device)
    outcome = result(**(stop or {}))
    outcome.samples = samples
    if stop:  # the final save failed: the trained weights are not on disk, but the results are
        outcome.checkpoint = None
    if job.plot:
        _plot(outcome, trainer, job.plot, f"{backend.name}, {s['model']} {get_cell(s['cell']).title}", log)
    return outcome


def _prepare(job: TrainJob) -> tuple[dict[str, Any], dict[str, Any] | None, Any, str, Any]:
    """Every check that needs no framework, in order; then the data (settings, resume state, weights, backend, data)."""
    from .backends import check_installed
    from .checkpoint import check_writable
    from .data import TimeMachine
    from .memory import check_fits, estimate_training_memory

    s, resumed, weights = resolve_settings(job)
    if resumed:  # the checkpoint's own cell (older ones hold an RNN and their settings do not name it)
        s["cell"] = resumed["meta"].get("cell", s["cell"])
    get_cell(s["cell"])
    s["seed"] = checks.seed("seed", s["seed"])
    checks.non_negative_int("save_every", job.save_every, "only at the end")
    checks.positive_int("num_preds", job.num_preds)
    checks.one_of("device", job.device, ("auto", "cpu", "gpu"))
    save_path = job.save or job.resume
    if save_path:
        check_writable(save_path, known_checkpoint=save_path == job.resume)
    if job.plot:
        from .plot import check_figure_path

        check_figure_path(job.plot)
    name = check_installed(job.backend or (resumed["meta"]["backend"] if resumed else None))
    data = TimeMachine(s["batch_size"], s["num_steps"], num_train=s["max_tokens"], num_val=s["num_val"],
                       sampling=s["sampling"], token=s["token"], corpus=s["corpus"], data_dir=job.data_dir,
                       seed=s["seed"])
    if resumed and data.vocab.idx_to_token != resumed["meta"]["vocab"]["idx_to_token"]:
        raise CheckpointError(
            f"The vocabulary of {job.resume} does not fit the corpus ({len(resumed['meta']['vocab']['idx_to_token'])} "
            f"tokens in the checkpoint, {len(data.vocab)} in the corpus); resume with the corpus it was trained on."
        )
    check_fits(estimate_training_memory(len(data.vocab), s["num_hiddens"], s["num_layers"], s["batch_size"],
                                        s["num_steps"], s["cell"]))
    return s, resumed, weights, name, data


def _build(job: TrainJob, name: str, s: dict[str, Any], data: Any, log: Log) -> tuple[Any, Any, Any, Any]:
    """Import the backend; make the model and the trainer on the chosen device."""
    from .backends import get_backend
    from .threads import ThreadGovernor, apply_threads, start_threads
    from .trainer import Trainer

    threads = start_threads(job.threads, name)  # before the framework is imported: it reads the variables then
    if threads and job.threads == "auto":
        log(f"note: other processes keep CPU cores busy; {name} starts with {threads} thread(s) (--threads auto)")
    backend = get_backend(name)
    apply_threads(threads, backend)
    governor = ThreadGovernor.for_setting(job.threads, backend, threads)
    if s["seed"] is not None:
        backend.seed(s["seed"])
    device = backend.device(job.device)
    if job.device == "auto" and backend.num_gpus() == 0:
        log(f"note: {backend.name} sees no GPU; training on the CPU.")
    vocab_size = len(data.vocab)
    model = make_model(backend, s["model"], s["cell"], num_inputs=vocab_size, num_outputs=vocab_size,
                       num_hiddens=s["num_hiddens"], lr=s["lr"], num_layers=s["num_layers"])
    trainer = Trainer(s["epochs"], s["clip"], device=device, progress=job.progress,
                      batch_callbacks=[governor] if governor else ())
    return model, trainer, backend, device


def _train_and_save(trainer: Any, model: Any, data: Any, saver: Any, save_path: str | None, lr: float, log: Log,
                    device_name: str) -> dict[str, Any] | None:
    """Fit under the signal guard, then write the last checkpoint; None when the run went through whole.

    Otherwise the fields of the stopped :class:`TrainResult`: which signal, the exit status and a
    message that says what the checkpoint on disk holds.
    """
    from .signals import stop_on_signals

    with stop_on_signals(trainer) as caught:
        log(f"training epochs {trainer.epoch + 1}-{trainer.max_epochs} on {device_name}; "
            "Ctrl-C stops and saves a checkpoint")
        try:
            trainer.fit(model, data)
        except DivergenceError as exc:
            if saver.saved_epoch is not None:
                exc = DivergenceError(
                    f"{exc} The checkpoint {save_path} from epoch {saver.saved_epoch} is intact; resume from it with "
                    f"a lower rate, e.g.: d2lrnn train --resume {save_path} --lr {lr / 2:g}"
                )
            raise exc from None
        except KeyboardInterrupt:  # a second signal before the batch ended
            return _quit_at_once(saver, save_path, "training was stopped at once by a second signal")
        finished = trainer.epoch >= trainer.max_epochs
        target = save_path
        if caught.signum is not None and not finished and target is None:
            target = f"d2lrnn-interrupted-{time.strftime('%Y%m%d-%H%M%S')}.npz"
        if caught.signum is not None and target:
            log(f"d2lrnn train: {caught.name} received; saving a checkpoint (press Ctrl-C again to quit at once)...")
        try:
            if target:
                saver.save(target)
        except CheckpointError as exc:  # e.g. the disk filled up during training
            held = (f" {target} still holds epoch {saver.saved_epoch}, the last checkpoint saved."
                    if saver.saved_epoch is not None and target == save_path else "")
            if not finished:
                raise CheckpointError(f"{caught.name or 'a signal'} stopped training after epoch {saver.epoch}, but "
                                      f"its checkpoint was not saved: {exc}{held}") from None
            return {"exit_status": 2, "message": f"d2lrnn train: the run finished, but its checkpoint was not saved: "
                    f"{exc}{held}"}
        except KeyboardInterrupt:
            return _quit_at_once(saver, target, "the final save was cancelled by a second signal")
    if caught.signum is None or finished:
        if target:
            extra = f" ({caught.name} came after the last epoch; the run is whole)" if caught.signum else ""
            log(f"saved a checkpoint to {target}{extra}")
        return None
    return {"stopped_by": caught.name, "exit_status": caught.exit_status, "message":
            f"d2lrnn train: interrupted ({caught.name}) after epoch {saver.epoch} of {trainer.max_epochs}; saved a "
            f"checkpoint to {target}. Resume with: d2lrnn train --resume {target}"}


def _quit_at_once(saver: Any, path: str | None, what: str) -> dict[str, Any]:
    """The stopped result after a second signal: what the checkpoint file holds now."""
    if path and saver.saved_epoch is not None:
        held = f"{path} still holds epoch {saver.saved_epoch}, saved earlier; resume with: d2lrnn train --resume {path}"
    else:
        held = f"nothing was written to {path}" if path else "nothing was saved (no --save)"
    return {"stopped_by": "SIGINT", "exit_status": 130,
            "message": f"d2lrnn train: {what} after epoch {saver.epoch}; {held}."}


def _sample_prefixes(data: Any) -> list[str | list[str]]:
    from .predict import default_prefixes

    return default_prefixes(SAMPLE_PREFIXES, data.vocab, data.vocab.to_tokens(data.train_corpus[:10]))


def _plot(outcome: TrainResult, trainer: Any, path: str, title: str, log: Log) -> None:
    """Save the perplexity figure; a failure is reported in ``outcome``, never raised (the run is done)."""
    from .plot import plot_perplexity

    try:
        outcome.plot = plot_perplexity(trainer.history, path, title=title)
    except Exception as exc:  # noqa: BLE001 - any failure of a figure writer must not lose the run
        outcome.exit_status = outcome.exit_status or 1
        problem = (f"d2lrnn train: the run finished, but the perplexity plot could not be saved to {path} "
                   f"({exc.__class__.__name__}: {exc}); the results above are complete.")
        outcome.message = f"{outcome.message} {problem}".strip()
        return
    log(f"saved the perplexity plot to {path}")
