"""``d2lrnn train``: train a language model, with checkpoints, resume and a graceful stop."""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from .. import checks
from ..backends import check_installed
from ..errors import CheckpointError, D2LRNNError, DivergenceError
from ..threads import apply_threads, parse_threads
from .bench import threads_option
from .common import Stopped, add_common, checked, flag, positive_int, select_device

PREFIXES = ("time traveller", "traveller")

#: train settings a checkpoint records; on --resume they come from it (those in RESUME_OVERRIDES may be changed)
TRAIN_DEFAULTS: dict[str, Any] = {
    "model": "concise", "epochs": 500, "batch_size": 32, "num_steps": 35, "num_hiddens": 256, "num_layers": 1,
    "lr": 1.0, "clip": 1.0, "max_tokens": 10000, "num_val": 5000, "sampling": "sequential", "token": "char",
    "seed": None, "corpus": None,
}
RESUME_OVERRIDES = ("epochs", "lr", "clip", "corpus")


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

    add("model", choices=("concise", "scratch"))
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
    add("seed", "makes the run reproducible", type=checked(checks.non_negative_int, "--seed"))
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
    train.add_argument("--threads", type=threads_option, default=None, metavar="N|auto",
                       help="the framework's CPU threads (auto: half the usable cores; default: the framework's)")
    train.set_defaults(run=cmd_train)

    return train


def _check_writable(flag: str, path: str) -> None:
    """Fail now, not after hours of training, when ``path`` cannot take a checkpoint."""
    target = Path(path)
    if target.is_dir():
        raise D2LRNNError(f"{flag} {path} is a directory; give a file name, e.g. {target / 'model.npz'}.")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=target.parent):
            pass
    except OSError as exc:
        raise D2LRNNError(f"{flag} {path} cannot be written ({exc.strerror or exc}); choose a writable folder.") from None


def _train_settings(args: argparse.Namespace) -> tuple[dict[str, Any], dict[str, Any] | None, Any]:
    """The run's settings (defaults, or the checkpoint's with --resume), the train state and weights."""
    given = {k: getattr(args, k) for k in TRAIN_DEFAULTS if getattr(args, k) is not None}
    if not args.resume:
        return {**TRAIN_DEFAULTS, **given}, None, None
    from ..checkpoint import read
    from ..resume import resumable_state

    weights, meta = read(args.resume)
    state = resumable_state(meta, args.resume)
    settings = {**TRAIN_DEFAULTS, **state["settings"]}
    clashes = [f"{flag(k)} {v} (it was trained with {settings[k]})" for k, v in given.items()
               if k not in RESUME_OVERRIDES and v != settings[k]]
    if clashes:
        raise CheckpointError(
            f"The checkpoint {args.resume} does not fit the requested model or data: {'; '.join(clashes)}. "
            f"Leave these options out to resume (only {', '.join(map(flag, RESUME_OVERRIDES))} may change), "
            "or start a new run without --resume."
        )
    settings.update(given)
    if settings["epochs"] <= state["epoch"]:
        raise CheckpointError(
            f"The checkpoint {args.resume} has already trained {state['epoch']} epochs of {settings['epochs']}; "
            f"give a larger --epochs to train on."
        )
    return settings, {"meta": meta, "state": state}, weights


def cmd_train(args: argparse.Namespace) -> dict[str, Any]:
    from ..backends import get_backend
    from ..data import TimeMachine
    from ..trainer import Trainer

    settings, resumed, weights = _train_settings(args)  # every check here comes before any framework import
    s = settings
    save_path = args.save or args.resume
    if save_path:
        _check_writable("--save", save_path)
    name = check_installed(args.backend or (resumed["meta"]["backend"] if resumed else None))
    wall = time.perf_counter()
    data = TimeMachine(s["batch_size"], s["num_steps"], num_train=s["max_tokens"], num_val=s["num_val"],
                       sampling=s["sampling"], token=s["token"], corpus=s["corpus"], data_dir=args.data_dir,
                       seed=s["seed"])
    if resumed and data.vocab.idx_to_token != resumed["meta"]["vocab"]["idx_to_token"]:
        raise CheckpointError(
            f"The vocabulary of {args.resume} does not fit the corpus ({len(resumed['meta']['vocab']['idx_to_token'])} "
            f"tokens in the checkpoint, {len(data.vocab)} in the corpus); resume with the corpus it was trained on."
        )
    apply_threads(parse_threads(args.threads))  # before the framework is imported: it reads the variables
    backend = get_backend(name)
    apply_threads(parse_threads(args.threads), backend)
    if s["seed"] is not None:
        backend.seed(s["seed"])
    device = select_device(backend, args.device)
    cls = backend.RNN if s["model"] == "concise" else backend.RNNScratch
    vocab_size = len(data.vocab)
    model = cls(num_inputs=vocab_size, num_outputs=vocab_size, num_hiddens=s["num_hiddens"], lr=s["lr"],
                num_layers=s["num_layers"])
    trainer = Trainer(s["epochs"], s["clip"], device=device, progress=False if args.quiet else None)
    rng = data.train_loader.rng
    if resumed:
        from ..resume import restore_training_state

        model.set_weights(weights)
        restore_training_state(trainer, rng, resumed["state"])
        print(f"resuming {args.resume} after epoch {trainer.epoch} of {trainer.max_epochs}", file=sys.stderr)
    from ..resume import CheckpointSaver
    from .signals import stop_on_signals

    stored = {**settings, "corpus": str(s["corpus"]) if s["corpus"] else None}
    saver = CheckpointSaver(model, data.vocab, rng, trainer, backend=backend, path=save_path,
                            every=args.save_every, settings=stored)
    if resumed and save_path == args.resume:
        saver.saved_epoch = trainer.epoch  # the file already holds the resumed epoch
    trainer.callbacks.append(saver)
    notice = "d2lrnn train: stopping after this batch and saving a checkpoint (press Ctrl-C again to quit at once)..."
    with stop_on_signals(trainer, message=notice) as caught:
        print(f"training epochs {trainer.epoch + 1}-{trainer.max_epochs} on {backend.device_name(device)}; "
              "Ctrl-C stops and saves a checkpoint", file=sys.stderr, flush=True)
        try:
            trainer.fit(model, data)
        except DivergenceError as exc:
            if saver.saved_epoch is not None:
                exc = DivergenceError(
                    f"{exc} The checkpoint {save_path} from epoch {saver.saved_epoch} is intact; resume from it with "
                    f"a lower rate, e.g.: d2lrnn train --resume {save_path} --lr {s['lr'] / 2:g}"
                )
            raise exc from None
        if trainer.interrupted and trainer.epoch < trainer.max_epochs:  # a signal after the last epoch changes nothing
            target = save_path or f"d2lrnn-interrupted-{time.strftime('%Y%m%d-%H%M%S')}.npz"
            saver.save(target)
            raise Stopped(
                f"d2lrnn train: interrupted ({caught.name or 'stopped'}) after epoch {saver.epoch} of "
                f"{trainer.max_epochs}; saved a checkpoint to {target}. Resume with: d2lrnn train --resume {target}",
                caught.exit_status if caught.signum else 130,
            )
    if save_path:
        saver.save()
        print(f"saved a checkpoint to {save_path}", file=sys.stderr)
    summary = trainer.summary()
    print(f"perplexity {summary['perplexity']:.1f}, {summary['tokens_per_sec']:.1f} tokens/sec on {summary['device']}")
    prefixes = PREFIXES if s["token"] == "char" else tuple(p.split() for p in PREFIXES)
    samples = {}
    for prefix in prefixes:
        text = model.predict(prefix, args.num_preds, data.vocab, device)
        samples[prefix if isinstance(prefix, str) else " ".join(prefix)] = text
        print(text)
    if args.plot:
        from ..plot import plot_perplexity

        plot_perplexity(trainer.history, args.plot, title=f"{backend.name}, {s['model']} RNN")
        print(f"saved the perplexity plot to {args.plot}", file=sys.stderr)
    return {"backend": backend.name, "model": s["model"], **summary, "wall_seconds": time.perf_counter() - wall,
            "samples": samples, "checkpoint": save_path}


