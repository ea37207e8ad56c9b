"""``d2lrnn train``: train a language model, with checkpoints, resume and a graceful stop."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from .. import checks, distributed
from ..cells import CELLS, KINDS
from ..data import SAMPLINGS, TOKENS
from ..errors import CheckpointError, DivergenceError
from ..train_job import (
    JOB_RULES,
    RESUME_OVERRIDES,
    RULES,
    TRAIN_DEFAULTS,
    AlreadyTrained,
    ResumeMismatch,
    TrainJob,
    TrainResult,
)
from .common import (
    Stopped,
    add_common,
    checked,
    flag,
    message,
    note,
    positive_int,
    threads_option,
)

#: how this command names itself in the messages it prints
PROG = "d2lrnn train"


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """The ``train`` subcommand."""
    train = subparsers.add_parser(
        "train",
        help="train a character-level RNN language model on The Time Machine",
        epilog="Ctrl-C (or SIGTERM) saves a checkpoint and says how to resume; "
        "--resume FILE continues the run with the settings stored in FILE.",
    )
    add_common(train)
    d = TRAIN_DEFAULTS

    def add(key: str, help: str = "", **kwargs: Any) -> None:
        default = f"default: {d[key]}" if d[key] is not None else ""
        text = "; ".join(part for part in (help, default) if part)
        train.add_argument(
            flag(key), default=None, help=f"{text} (from the checkpoint with --resume)", **kwargs
        )

    add("model", "the framework's own layer or the equations in tensor operations", choices=KINDS)
    add("cell", "the recurrent cell", choices=tuple(CELLS))
    add("epochs", "the total number of epochs", type=rule("epochs"))
    add("batch_size", type=rule("batch_size"))
    add("num_steps", type=rule("num_steps"))
    add("num_hiddens", type=rule("num_hiddens"))
    add("num_layers", type=rule("num_layers"))
    add("lr", "learning rate, above 0", type=rule("lr"))
    add("clip", "gradient clipping norm, 0 is off", type=rule("clip"))
    add("max_tokens", "training tokens taken from the start of the corpus", type=rule("max_tokens"))
    add(
        "num_val",
        "held-out tokens after the training part, for validation perplexity",
        type=rule("num_val"),
    )
    add("sampling", choices=SAMPLINGS)
    add("token", choices=TOKENS)
    add("seed", "makes the run reproducible, 0 to 2**32 - 1", type=rule("seed"))
    add("corpus", "a UTF-8 text file to train on instead of The Time Machine", metavar="FILE")
    train.add_argument(
        "--data-dir", help="a folder that already holds timemachine.txt (offline use)"
    )
    train.add_argument("--plot", metavar="FILE.png", help="save the perplexity curves")
    train.add_argument(
        "--save",
        metavar="FILE",
        help="write a checkpoint atomically every --save-every epochs and "
        "at the end (default with --resume: the resumed file)",
    )
    train.add_argument("--save-every", metavar="N", type=rule("save_every"), default=10,
                       help="epochs between checkpoints (default: 10; 0: only at the end)")
    train.add_argument(
        "--resume",
        metavar="FILE",
        help="continue the run saved in FILE (same settings, data order "
        "and epoch count; --epochs, --lr, --clip may be changed)",
    )
    train.add_argument("--num-preds", type=rule("num_preds"), default=50)
    train.add_argument("--quiet", action="store_true", help="no progress bar")
    train.add_argument(
        "--threads",
        type=threads_option,
        default="auto",
        metavar="N|auto",
        help="the framework's CPU threads (default: auto, one per core that other processes leave "
        "free, followed while training)",
    )
    train.add_argument(
        "--workers",
        type=positive_int("--workers"),
        default=1,
        metavar="N",
        help="data-parallel workers on this machine, each with its share of the batch's streams "
        "(default: 1; MXNet: N CPU contexts in one process)",
    )
    train.add_argument(
        "--port",
        type=checked(checks.non_negative_int, "--port", "a free port"),
        default=0,
        help="rank 0's port on 127.0.0.1 with --workers (default: a free one)",
    )
    train.set_defaults(run=cmd_train)

    return train


def command_line(job: TrainJob, json: bool = False) -> list[str]:
    """The ``d2lrnn train`` arguments that run ``job`` again (each data-parallel worker's command
    line)."""
    args = [
        arg
        for key, value in job.settings.items()
        if value is not None and key in TRAIN_DEFAULTS
        for arg in (flag(key), str(value))
    ]
    options = {
        "backend": job.backend,
        "device": job.device,
        "data_dir": job.data_dir,
        "save": job.save,
        "save_every": job.save_every,
        "resume": job.resume,
        "plot": job.plot,
        "num_preds": job.num_preds,
        "threads": job.threads,
    }
    args += [
        arg
        for key, value in options.items()
        if value is not None
        for arg in (flag(key), str(value))
    ]
    return args + (["--quiet"] if job.progress is False else []) + (["--json"] if json else [])


def rule(key: str) -> Any:
    """The argparse converter of a setting: its one rule (:data:`d2lrnn.train_job.RULES`), named by
    its flag."""
    return checked(RULES.get(key) or JOB_RULES[key], flag(key))


def cmd_train(args: argparse.Namespace) -> dict[str, Any] | None:

    job = TrainJob(
        settings={k: getattr(args, k) for k in TRAIN_DEFAULTS},
        backend=args.backend,
        device=args.device,
        data_dir=args.data_dir,
        save=args.save,
        save_every=args.save_every,
        resume=args.resume,
        plot=args.plot,
        num_preds=args.num_preds,
        progress=False if args.quiet else None,
        threads=args.threads,
    )
    try:
        worker = command_line(job, args.json)
        result = distributed.train(
            job,
            args.workers,
            args.port,
            worker_command=[sys.executable, "-m", "d2lrnn", "train", *worker],
            others=[] if "--quiet" in worker else ["--quiet"],
            log=note,
        )
    except distributed.WorkersStopped as stop:  # rank 0 said why; its exit status is the run's
        raise Stopped(f"{PROG}: {message(stop)}", stop.status) from None
    except ResumeMismatch as exc:
        raise CheckpointError(resume_mismatch_advice(exc)) from None
    except AlreadyTrained as exc:
        raise CheckpointError(
            f"The checkpoint {exc.path} has already trained {exc.done} epochs of {exc.epochs}; "
            "give a larger --epochs to train on."
        ) from None
    except DivergenceError as exc:
        raise DivergenceError(divergence_advice(exc)) from None
    # another process reported (the launcher's rank 0), or this is a silent worker
    if result is None:
        return None
    report = result.to_dict()
    if result.stopped_by:
        raise Stopped(stop_message(result), result.exit_status, report)
    summary = result.summary
    print(
        f"perplexity {summary['perplexity']:.1f}, {summary['tokens_per_sec']:.1f} tokens/sec on "
        f"{summary['device']}"
    )
    for text in result.samples.values():
        print(text)
    if result.exit_status:
        raise Stopped(stop_message(result), result.exit_status, report)
    return report


def stop_message(result: TrainResult) -> str:
    """The one paragraph printed for a run that stopped early or in part, with the command that
    resumes it."""
    resume = f" Resume with: {PROG} --resume {result.resume_from}" if result.resume_from else ""
    return f"{PROG}: {result.message}{resume}"


def resume_mismatch_advice(exc: ResumeMismatch) -> str:
    """A :class:`ResumeMismatch` in the options' own spelling."""
    clashes = "; ".join(
        f"{flag(k)} {given} (it was trained with {trained})"
        for k, (given, trained) in exc.clashes.items()
    )
    return (
        f"The checkpoint {exc.path} does not fit the requested model or data: {clashes}. Leave "
        "these options out "
        f"to resume (only {', '.join(map(flag, RESUME_OVERRIDES))} may change), or start a new run "
        "without --resume."
    )


def divergence_advice(exc: DivergenceError) -> str:
    """A :class:`~d2lrnn.DivergenceError` with the options that try again: a lower ``--lr``,
    ``--clip 1``."""
    lr = exc.lr
    if lr is None:
        return message(exc)
    advice = f"{message(exc)} E.g. --lr {lr / 10:g} --clip 1."
    if exc.checkpoint:
        return f"{advice} To resume: {PROG} --resume {exc.checkpoint} --lr {lr / 2:g}"
    return advice
