"""Run one training job: checkpoints, resume and a graceful stop (what ``d2lrnn train`` calls).

:func:`run_training` takes a :class:`TrainJob` and returns a :class:`TrainResult`. Everything that
can be checked without a framework (settings, seed, checkpoint and figure paths, corpus,
vocabulary, memory) is checked before the backend is imported. Bad input raises a typed
:class:`~d2lrnn.D2LRNNError` (:class:`ResumeMismatch`, :class:`AlreadyTrained`,
:class:`~d2lrnn.DivergenceError`, ...) whose attributes say what went wrong; a run that stopped
early or in part returns its result with the reason. Progress goes to ``log``; nothing here prints,
and nothing here knows the command line's flags or advice (:mod:`d2lrnn.cli.train` adds them).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

from . import checks
from . import plot as figures  # called as figures.plot_perplexity: a test can stand in for it
from .backends import check_installed, get_backend
from .cells import CELLS, KINDS, get_cell, make_model
from .checkpoint import check_writable, read
from .data import SAMPLINGS, TOKENS, TimeMachine
from .errors import CheckpointError, D2LRNNError, DivergenceError
from .memory import check_fits, estimate_training_memory
from .predict import default_prefixes
from .resume import CheckpointSaver, restore_training_state, resumable_state
from .signals import stop_on_signals
from .threads import ThreadGovernor, apply_threads, start_threads
from .trainer import Trainer

#: train settings a checkpoint records; on resume they come from it (those in RESUME_OVERRIDES may
#: be changed)
TRAIN_DEFAULTS: dict[str, Any] = {
    "model": "concise",
    "cell": "rnn",
    "epochs": 500,
    "batch_size": 32,
    "num_steps": 35,
    "num_hiddens": 256,
    "num_layers": 1,
    "lr": 1.0,
    "clip": 1.0,
    "max_tokens": 10000,
    "num_val": 5000,
    "sampling": "sequential",
    "token": "char",
    "seed": None,
    "corpus": None,
}
RESUME_OVERRIDES = ("epochs", "lr", "clip", "corpus")
#: the book's sample prefixes; those the corpus's vocabulary cannot spell are left out
SAMPLE_PREFIXES = ("time traveller", "traveller")

Log = Callable[[str], None]
Rule = Callable[[str, Any], Any]


def _choice(choices: tuple[str, ...]) -> Rule:
    return lambda name, value: checks.one_of(name, value, choices)


def _counted(rule: Callable[..., Any], zero_means: str) -> Rule:
    return lambda name, value: rule(name, value, zero_means)


#: the one check of each setting of :data:`TRAIN_DEFAULTS`, applied where the settings enter (the
#: command line's converters and :func:`run_training`); the layers below take the checked values
RULES: dict[str, Rule] = {
    "model": _choice(KINDS),
    "cell": _choice(tuple(CELLS)),
    "epochs": checks.positive_int,
    "batch_size": checks.positive_int,
    "num_steps": checks.positive_int,
    "num_hiddens": checks.positive_int,
    "num_layers": checks.positive_int,
    "lr": checks.positive_float,
    "clip": _counted(checks.non_negative_float, "no clipping"),
    "max_tokens": checks.positive_int,
    "num_val": _counted(checks.non_negative_int, "no validation"),
    "sampling": _choice(SAMPLINGS),
    "token": _choice(TOKENS),
    "seed": checks.seed,
    "corpus": lambda name, value: value,
}
#: the job's other settings and their one check
JOB_RULES: dict[str, Rule] = {
    "save_every": _counted(checks.non_negative_int, "only at the end"),
    "num_preds": checks.positive_int,
    "device": _choice(("auto", "cpu", "gpu")),
}


class ResumeMismatch(CheckpointError):
    """Settings given for a resumed run that differ from those the checkpoint was trained with.

    ``clashes`` maps each setting to ``(given, trained)``; only :data:`RESUME_OVERRIDES` may change.
    """

    def __init__(self, path: str, clashes: dict[str, tuple[Any, Any]]) -> None:
        self.path, self.clashes = path, clashes
        listed = "; ".join(
            f"{k} {given} (it was trained with {trained})"
            for k, (given, trained) in clashes.items()
        )
        super().__init__(
            f"The checkpoint {path} does not fit the requested model or data: {listed}. Only "
            f"{', '.join(RESUME_OVERRIDES)} may change when a run is resumed."
        )


class AlreadyTrained(CheckpointError):
    """A resumed run whose checkpoint has already trained all the epochs asked for."""

    def __init__(self, path: str, done: int, epochs: int) -> None:
        self.path = path
        self.done = done
        self.epochs = epochs
        super().__init__(f"The checkpoint {path} has already trained {done} epochs of {epochs}; "
                         "ask for more epochs to train on.")


@dataclass
class TrainJob:
    """What to train and where to keep it. ``settings`` holds only the keys of
    :data:`TRAIN_DEFAULTS` given."""

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
    #: the framework's CPU threads: "auto" (follow the free cores), a whole number or None (the
    #: framework's own)
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
    #: the checkpoint that continues a run that stopped early (None when none was saved)
    resume_from: str | None = None
    cell: str = "rnn"  #: the recurrent cell (see :mod:`d2lrnn.cells`)
    exit_status: int = 0
    message: str = ""

    def to_dict(self) -> dict[str, Any]:
        """The JSON report: backend, model, the trainer's summary, wall time, samples, checkpoint,
        plot."""
        report = asdict(self)
        summary, message = report.pop("summary"), report.pop("message")
        report.pop("exit_status")
        report.pop("resume_from")
        return {**{k: report.pop(k) for k in ("backend", "model", "cell")}, **summary, **report,
                **({"problem": message} if message and not self.stopped_by else {})}


def resolve_settings(job: TrainJob) -> tuple[dict[str, Any], dict[str, Any] | None, Any]:
    """The run's settings (defaults, or the checkpoint's on resume), the saved training state and
    weights."""
    given = {k: v for k, v in job.settings.items() if v is not None}
    unknown = sorted(set(given) - set(TRAIN_DEFAULTS))
    if unknown:
        raise D2LRNNError(
            f"Unknown training settings {', '.join(unknown)}; known: {', '.join(TRAIN_DEFAULTS)}."
        )
    if not job.resume:
        return {**TRAIN_DEFAULTS, **given}, None, None
    weights, meta = read(job.resume)
    state = resumable_state(meta, job.resume)
    settings = {**TRAIN_DEFAULTS, **state["settings"]}
    clashes = {
        k: (v, settings[k])
        for k, v in given.items()
        if k not in RESUME_OVERRIDES and v != settings[k]
    }
    if clashes:
        raise ResumeMismatch(job.resume, clashes)
    settings.update(given)
    if settings["epochs"] <= state["epoch"]:
        raise AlreadyTrained(job.resume, state["epoch"], settings["epochs"])
    return settings, {"meta": meta, "state": state}, weights


def run_training(job: TrainJob, log: Log = lambda message: None) -> TrainResult:
    """Train as ``job`` says, saving checkpoints; a signal stops after the current batch and saves.

    Bad input raises a :class:`~d2lrnn.D2LRNNError` before any framework is imported; a diverging
    run raises :class:`~d2lrnn.DivergenceError`. A step after training that fails never loses the
    results: the result carries the reason in ``message`` and ``exit_status`` 2 for the final
    checkpoint (a periodic save that fails is only logged; training goes on), 1 for the figure.
    """
    wall = time.perf_counter()
    ready = _prepare(job)
    s = ready.settings
    data = ready.data
    resumed = ready.resumed
    save_path = job.save or job.resume
    engine = start_backend(ready.backend_name, job.threads, s["seed"], log)
    backend = engine.backend
    device = choose_device(backend, job.device, log)
    model, trainer = build_model_and_trainer(
        backend, s, len(data.vocab), device, governor=engine.governor, progress=job.progress
    )
    if job.group is not None:  # this worker's rows of each batch; only rank 0 writes checkpoints
        job.group.attach(trainer, data)
        save_path = save_path if job.group.rank == 0 else None
    if resumed:
        model.set_weights(ready.weights)
        restore_training_state(trainer, data.train_loader.rng, resumed["state"])
        log(f"resuming {job.resume} after epoch {trainer.epoch} of {trainer.max_epochs}")
    stored = {**s, "corpus": str(s["corpus"]) if s["corpus"] else None}
    saver = CheckpointSaver(
        model,
        data.vocab,
        data.train_loader.rng,
        trainer,
        backend=backend,
        path=save_path,
        every=job.save_every,
        settings=stored,
        log=log,
        final_save=True,
    )
    if resumed and save_path == job.resume:
        saver.saved_epoch = trainer.epoch  # the file already holds the resumed epoch
    trainer.callbacks.append(saver)

    def result(**extra: Any) -> TrainResult:
        return TrainResult(backend.name, s["model"], trainer.summary(), {}, save_path, None,
                           time.perf_counter() - wall, cell=s["cell"], **extra)

    stop = _train_and_save(
        trainer, model, data, saver, save_path, log, backend.device_name(device)
    )
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
        _plot(
            outcome,
            trainer,
            job.plot,
            f"{backend.name}, {s['model']} {get_cell(s['cell']).title}",
            log,
        )
    return outcome


@dataclass
class _Prepared:
    """What :func:`_prepare` found and made, before any framework is imported."""

    settings: dict[str, Any]
    resumed: dict[str, Any] | None  #: the checkpoint's metadata and training state, on resume
    weights: Any  #: the checkpoint's weights, on resume
    backend_name: str
    data: TimeMachine


def _prepare(job: TrainJob) -> _Prepared:
    """Every check that needs no framework, in order; then the data."""
    s, resumed, weights = resolve_settings(job)
    # the checkpoint's own cell (older ones hold an RNN and their settings do not name it)
    if resumed:
        s["cell"] = resumed["meta"].get("cell", s["cell"])
    get_cell(s["cell"])  # a cell this version does not know gets the registry's own message
    s = {key: RULES[key](key, value) for key, value in s.items()}
    for key, rule in JOB_RULES.items():
        rule(key, getattr(job, key))
    save_path = job.save or job.resume
    if save_path:
        check_writable(save_path, "save" if job.save else "resume",
                       known_checkpoint=save_path == job.resume)
    if job.plot:
        figures.check_figure_path(job.plot)
    name = check_installed(job.backend or (resumed["meta"]["backend"] if resumed else None))
    data = TimeMachine(
        s["batch_size"],
        s["num_steps"],
        num_train=s["max_tokens"],
        num_val=s["num_val"],
        sampling=s["sampling"],
        token=s["token"],
        corpus=s["corpus"],
        data_dir=job.data_dir,
        seed=s["seed"],
    )
    if resumed and data.vocab.idx_to_token != resumed["meta"]["vocab"]["idx_to_token"]:
        raise CheckpointError(
            f"The vocabulary of {job.resume} does not fit the corpus "
            f"({len(resumed['meta']['vocab']['idx_to_token'])} "
            f"tokens in the checkpoint, {len(data.vocab)} in the corpus); resume with the corpus "
            "it was trained on."
        )
    check_fits(
        estimate_training_memory(
            len(data.vocab),
            s["num_hiddens"],
            s["num_layers"],
            s["batch_size"],
            s["num_steps"],
            s["cell"],
        )
    )
    return _Prepared(s, resumed, weights, name, data)


@dataclass
class Engine:
    """A backend started for training: its CPU threads at the start and the governor that follows
    them."""

    backend: Any
    threads: int | None  #: None: the framework's own count
    governor: ThreadGovernor | None


def start_backend(name: str, threads: int | str | None, seed: int | None, log: Log) -> Engine:
    """Import backend ``name`` with its CPU threads set first (frameworks read them at import) and
    seed it.

    Raises :class:`~d2lrnn.BackendError` when the framework cannot be imported.
    """
    count = start_threads(threads, name)
    if count and threads == "auto":
        log(
            f"note: other processes keep CPU cores busy; {name} starts with {count} thread(s) "
            "(threads: auto)"
        )
    backend = get_backend(name)
    apply_threads(count, backend)
    governor = ThreadGovernor.for_setting(threads, backend, count)
    if seed is not None:
        backend.seed(seed)
    return Engine(backend, count, governor)


def build_model_and_trainer(
    backend: Any,
    settings: dict[str, Any],
    vocab_size: int,
    device: Any,
    *,
    governor: ThreadGovernor | None = None,
    **trainer_options: Any,
) -> tuple[Any, Trainer]:
    """The model and the trainer that checked ``settings`` describe, on ``device``.

    Training and the benchmark build theirs here, so both measure the same thing. ``settings``
    needs ``model``, ``cell``, ``num_hiddens``, ``num_layers``, ``lr``, ``epochs`` and ``clip``.
    """
    model = make_model(
        backend,
        settings["model"],
        settings["cell"],
        num_inputs=vocab_size,
        num_outputs=vocab_size,
        num_hiddens=settings["num_hiddens"],
        lr=settings["lr"],
        num_layers=settings["num_layers"],
    )
    trainer = Trainer(settings["epochs"], settings["clip"], device=device,
                      batch_callbacks=[governor] if governor else (), **trainer_options)
    return model, trainer


def _train_and_save(
    trainer: Any,
    model: Any,
    data: Any,
    saver: Any,
    save_path: str | None,
    log: Log,
    device_name: str,
) -> dict[str, Any] | None:
    """Fit under the signal guard, then write the last checkpoint; None when the run went through
    whole.

    Otherwise the fields of the stopped :class:`TrainResult`: which signal, the exit status and a
    message that says what the checkpoint on disk holds.
    """
    with stop_on_signals(trainer) as caught:
        log(f"training epochs {trainer.epoch + 1}-{trainer.max_epochs} on {device_name}; "
            "Ctrl-C stops and saves a checkpoint")
        try:
            trainer.fit(model, data)
        except DivergenceError as exc:
            if saver.saved_epoch is not None:
                exc = exc.kept(save_path, saver.saved_epoch)
            raise exc from None
        except KeyboardInterrupt:  # a second signal before the batch ended
            return _quit_at_once(
                saver, save_path, "training was stopped at once by a second signal"
            )
        finished = trainer.epoch >= trainer.max_epochs
        target = save_path
        if caught.signum is not None and not finished and target is None:
            target = f"d2lrnn-interrupted-{time.strftime('%Y%m%d-%H%M%S')}.npz"
        if caught.signum is not None and target:
            log(f"{caught.name} received; saving a checkpoint (a second Ctrl-C quits at once)...")
        try:
            if target:
                saver.save(target)
        except CheckpointError as exc:  # e.g. the disk filled up during training
            held = (f" {target} still holds epoch {saver.saved_epoch}, the last checkpoint saved."
                    if saver.saved_epoch is not None and target == save_path else "")
            if not finished:
                raise CheckpointError(
                    f"{caught.name or 'a signal'} stopped training after epoch {saver.epoch}, but "
                    f"its checkpoint was not saved: {exc}{held}"
                ) from None
            return {
                "exit_status": 2,
                "message": f"the run finished, but its checkpoint was not saved: {exc}{held}",
            }
        except KeyboardInterrupt:
            return _quit_at_once(saver, target, "the final save was cancelled by a second signal")
    if caught.signum is None or finished:
        if target:
            extra = (
                f" ({caught.name} came after the last epoch; the run is whole)"
                if caught.signum
                else ""
            )
            log(f"saved a checkpoint to {target}{extra}")
        return None
    return {
        "stopped_by": caught.name,
        "exit_status": caught.exit_status,
        "resume_from": target,
        "message": f"interrupted ({caught.name}) after epoch {saver.epoch} of "
                   f"{trainer.max_epochs}; saved a checkpoint to "
        f"{target}.",
    }


def _quit_at_once(saver: Any, path: str | None, what: str) -> dict[str, Any]:
    """The stopped result after a second signal: what the checkpoint file holds now."""
    resume_from = path if path and saver.saved_epoch is not None else None
    if resume_from:
        held = f"{path} still holds epoch {saver.saved_epoch}, saved earlier"
    else:
        held = (
            f"nothing was written to {path}"
            if path
            else "nothing was saved (no checkpoint file was given)"
        )
    return {"stopped_by": "SIGINT", "exit_status": 130, "resume_from": resume_from,
            "message": f"{what} after epoch {saver.epoch}; {held}."}


def _sample_prefixes(data: Any) -> list[str | list[str]]:
    return default_prefixes(
        SAMPLE_PREFIXES, data.vocab, data.vocab.to_tokens(data.train_corpus[:10])
    )


def _plot(outcome: TrainResult, trainer: Any, path: str, title: str, log: Log) -> None:
    """Save the perplexity figure; a failure is reported in ``outcome``, never raised (the run is
    done)."""
    try:
        outcome.plot = figures.plot_perplexity(trainer.history, path, title=title)
    except Exception as exc:  # noqa: BLE001 - any failure of a figure writer must not lose the run
        outcome.exit_status = outcome.exit_status or 1
        problem = (f"the run finished, but the perplexity plot could not be saved to {path} "
                   f"({exc.__class__.__name__}: {exc}); the results above are complete.")
        outcome.message = f"{outcome.message} {problem}".strip()
        return
    log(f"saved the perplexity plot to {path}")


def choose_device(backend: Any, kind: str, log: Log) -> Any:
    """``backend.device(kind)``; for ``"auto"`` on a machine without a GPU, ``log`` says so."""
    device = backend.device(kind)
    if kind == "auto" and backend.num_gpus() == 0:
        log(f"note: {backend.name} sees no GPU; training on the CPU.")
    return device
