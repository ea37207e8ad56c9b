"""``d2lrnn train``: train a language model, with checkpoints, resume and a graceful stop."""

from __future__ import annotations

import argparse
from typing import Any

from .. import checks
from ..cells import CELLS, KINDS
from ..session import TRAIN_DEFAULTS
from .common import Stopped, add_common, checked, flag, note, positive_int, threads_option


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """The ``train`` subcommand."""
    train = subparsers.add_parser("train", help="train a character-level RNN language model on The Time Machine",
                           epilog="Ctrl-C (or SIGTERM) saves a checkpoint and says how to resume; "
                           "--resume FILE continues the run with the settings stored in FILE.")
    add_common(train)
    pos_int = positive_int
    d = TRAIN_DEFAULTS

    def add(key: str, help: str = "", **kwargs: Any) -> None:
        default = f"default: {d[key]}" if d[key] is not None else ""
        text = "; ".join(part for part in (help, default) if part)
        train.add_argument(flag(key), default=None, help=f"{text} (from the checkpoint with --resume)", **kwargs)

    add("model", "the framework's own layer or the equations in tensor operations", choices=KINDS)
    add("cell", "the recurrent cell", choices=tuple(CELLS))
    add("epochs", "the total number of epochs", type=pos_int("--epochs"))
    add("batch_size", type=pos_int("--batch-size"))
    add("num_steps", type=pos_int("--num-steps"))
    add("num_hiddens", type=pos_int("--num-hiddens"))
    add("num_layers", type=pos_int("--num-layers"))
    add("lr", "learning rate, above 0", type=checked(checks.positive_float, "--lr"))
    add("clip", "gradient clipping norm, 0 is off", type=checked(checks.non_negative_float, "--clip", "no clipping"))
    add("max_tokens", "training tokens taken from the start of the corpus", type=pos_int("--max-tokens"))
    add("num_val", "held-out tokens after the training part, for validation perplexity",
        type=checked(checks.non_negative_int, "--num-val", "no validation"))
    add("sampling", choices=("sequential", "random"))
    add("token", choices=("char", "word"))
    add("seed", "makes the run reproducible, 0 to 2**32 - 1", type=checked(checks.seed, "--seed"))
    add("corpus", "a UTF-8 text file to train on instead of The Time Machine", metavar="FILE")
    train.add_argument("--data-dir", help="a folder that already holds timemachine.txt (offline use)")
    train.add_argument("--plot", metavar="FILE.png", help="save the perplexity curves")
    train.add_argument("--save", metavar="FILE", help="write a checkpoint atomically every --save-every epochs and "
                       "at the end (default with --resume: the resumed file)")
    train.add_argument("--save-every", metavar="N", type=checked(checks.non_negative_int, "--save-every",
                       "only at the end"), default=10, help="epochs between checkpoints (default: 10; 0: only at the end)")
    train.add_argument("--resume", metavar="FILE", help="continue the run saved in FILE (same settings, data order "
                       "and epoch count; --epochs, --lr, --clip may be changed)")
    train.add_argument("--num-preds", type=pos_int("--num-preds"), default=50)
    train.add_argument("--quiet", action="store_true", help="no progress bar")
    train.add_argument("--threads", type=threads_option, default="auto", metavar="N|auto",
                       help="the framework's CPU threads (default: auto, one per core that other processes leave "
                       "free, followed while training)")
    train.add_argument("--workers", type=pos_int("--workers"), default=1, metavar="N",
                       help="data-parallel workers on this machine, each with its share of the batch's streams "
                       "(default: 1; MXNet: N CPU contexts in one process)")
    train.add_argument("--port", type=checked(checks.non_negative_int, "--port", "a free port"), default=0,
                       help="rank 0's port on 127.0.0.1 with --workers (default: a free one)")
    train.set_defaults(run=cmd_train)

    return train


def cmd_train(args: argparse.Namespace) -> dict[str, Any]:
    from .. import distributed
    from ..session import TrainJob

    job = TrainJob(settings={k: getattr(args, k) for k in TRAIN_DEFAULTS}, backend=args.backend, device=args.device,
                   data_dir=args.data_dir, save=args.save, save_every=args.save_every, resume=args.resume,
                   plot=args.plot, num_preds=args.num_preds, progress=False if args.quiet else None,
                   threads=args.threads)
    try:
        result = distributed.train(job, args.workers, args.port, json=args.json, log=note)
    except distributed.WorkersStopped as stop:  # rank 0 said why; its exit status is the run's
        raise Stopped(str(stop), stop.status) from None
    if result is None:  # another process reported (the launcher's rank 0), or this is a silent worker
        return None
    report = result.to_dict()
    if result.stopped_by:
        raise Stopped(result.message, result.exit_status, report)
    summary = result.summary
    print(f"perplexity {summary['perplexity']:.1f}, {summary['tokens_per_sec']:.1f} tokens/sec on {summary['device']}")
    for text in result.samples.values():
        print(text)
    if result.exit_status:
        raise Stopped(result.message, result.exit_status, report)
    return report
