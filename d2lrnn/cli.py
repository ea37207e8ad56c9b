"""The ``d2lrnn`` command line: ``train`` and ``predict`` (``bench`` lives in :mod:`d2lrnn.bench`)."""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable, Sequence
from typing import Any

from . import checks
from .backends import NAMES, canonical_name
from .errors import D2LRNNError

PREFIXES = ("time traveller", "traveller")


class _Parser(argparse.ArgumentParser):
    """argparse that reports a bad argument in one paragraph, with exit status 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(2, f"{self.prog}: {message.rstrip('.')}. Run '{self.prog} --help' for the options.\n")


def _checked(check: Callable[..., Any], flag: str, *extra: Any) -> Callable[[str], Any]:
    def convert(text: str) -> Any:
        try:
            return check(flag, text, *extra)
        except D2LRNNError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None

    convert.__name__ = flag  # argparse names the converter in some messages
    return convert


def _add_common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--backend", help=f"{' | '.join(NAMES)} (default: $D2LRNN_BACKEND, else torch)")
    parser.add_argument("--device", choices=("auto", "cpu", "gpu"), default="auto",
                        help="auto takes a GPU when the backend sees one (default: auto)")
    parser.add_argument("--json", action="store_true", help="end standard output with one JSON line")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="d2lrnn", description="Recurrent language models of Dive into Deep Learning, "
                     "on MXNet, PyTorch or TensorFlow.")
    sub = parser.add_subparsers(dest="command", parser_class=_Parser, required=True)

    train = sub.add_parser("train", help="train a character-level RNN language model on The Time Machine")
    _add_common(train)
    pos_int = lambda flag: _checked(checks.positive_int, flag)  # noqa: E731
    train.add_argument("--model", choices=("concise", "scratch"), default="concise")
    train.add_argument("--epochs", type=pos_int("--epochs"), default=500)
    train.add_argument("--batch-size", type=pos_int("--batch-size"), default=32)
    train.add_argument("--num-steps", type=pos_int("--num-steps"), default=35)
    train.add_argument("--num-hiddens", type=pos_int("--num-hiddens"), default=256)
    train.add_argument("--num-layers", type=pos_int("--num-layers"), default=1)
    train.add_argument("--lr", type=_checked(checks.positive_float, "--lr"), default=1.0)
    train.add_argument("--clip", type=_checked(checks.non_negative_float, "--clip", "no clipping"), default=1.0)
    train.add_argument("--max-tokens", type=pos_int("--max-tokens"), default=10000,
                       help="training tokens taken from the start of the corpus (default: 10000)")
    train.add_argument("--num-val", type=_checked(checks.non_negative_float, "--num-val"), default=5000,
                       help="held-out tokens after the training part, for validation perplexity")
    train.add_argument("--sampling", choices=("sequential", "random"), default="sequential")
    train.add_argument("--token", choices=("char", "word"), default="char")
    train.add_argument("--seed", type=int, default=None)
    train.add_argument("--corpus", help="a UTF-8 text file to train on instead of The Time Machine")
    train.add_argument("--data-dir", help="a folder that already holds timemachine.txt (offline use)")
    train.add_argument("--plot", metavar="FILE.png", help="save the perplexity curves")
    train.add_argument("--save", metavar="FILE", help="save a checkpoint when training ends")
    train.add_argument("--num-preds", type=pos_int("--num-preds"), default=50)
    train.add_argument("--quiet", action="store_true", help="no progress bar")
    train.set_defaults(run=cmd_train)

    predict = sub.add_parser("predict", help="continue a prefix with a saved model, on any backend")
    _add_common(predict)
    predict.add_argument("--checkpoint", required=True, metavar="FILE")
    predict.add_argument("--prefix", default="time traveller")
    predict.add_argument("--num-preds", type=pos_int("--num-preds"), default=50)
    predict.add_argument("--temperature", type=_checked(checks.non_negative_float, "--temperature", "greedy"),
                         default=0.0, help="0 (default) is greedy; above 0 samples")
    predict.add_argument("--seed", type=int, default=None)
    predict.set_defaults(run=cmd_predict)

    try:
        from .bench import add_parser as add_bench
    except ImportError:
        pass
    else:
        add_bench(sub)
    return parser


def _select_device(backend: Any, kind: str) -> Any:
    device = backend.device(kind)
    if kind == "auto" and backend.num_gpus() == 0:
        print(f"note: {backend.name} sees no GPU; training on the CPU.", file=sys.stderr)
    return device


def cmd_train(args: argparse.Namespace) -> dict[str, Any]:
    from .backends import get_backend
    from .data import TimeMachine
    from .trainer import Trainer

    name = canonical_name(args.backend)  # a bad name fails before any data or framework work
    wall = time.perf_counter()
    data = TimeMachine(args.batch_size, args.num_steps, num_train=args.max_tokens, num_val=int(args.num_val),
                       sampling=args.sampling, token=args.token, corpus=args.corpus, data_dir=args.data_dir,
                       seed=args.seed)
    backend = get_backend(name)
    if args.seed is not None:
        backend.seed(args.seed)
    device = _select_device(backend, args.device)
    cls = backend.RNN if args.model == "concise" else backend.RNNScratch
    vocab_size = len(data.vocab)
    model = cls(num_inputs=vocab_size, num_outputs=vocab_size, num_hiddens=args.num_hiddens, lr=args.lr,
                num_layers=args.num_layers)
    trainer = Trainer(args.epochs, args.clip, device=device, progress=False if args.quiet else None)
    trainer.fit(model, data)
    summary = trainer.summary()
    print(f"perplexity {summary['perplexity']:.1f}, {summary['tokens_per_sec']:.1f} tokens/sec on {summary['device']}")
    prefixes = PREFIXES if args.token == "char" else tuple(p.split() for p in PREFIXES)
    samples = {}
    for prefix in prefixes:
        text = model.predict(prefix, args.num_preds, data.vocab, device)
        samples[prefix if isinstance(prefix, str) else " ".join(prefix)] = text
        print(text)
    if args.plot:
        from .plot import plot_perplexity

        plot_perplexity(trainer.history, args.plot, title=f"{backend.name}, {args.model} RNN")
        print(f"saved the perplexity plot to {args.plot}", file=sys.stderr)
    if args.save:
        from .checkpoint import save

        save(args.save, model, data.vocab)
        print(f"saved a checkpoint to {args.save}", file=sys.stderr)
    return {"backend": backend.name, "model": args.model, **summary, "wall_seconds": time.perf_counter() - wall,
            "samples": samples}


def cmd_predict(args: argparse.Namespace) -> dict[str, Any]:
    from .backends import get_backend
    from .checkpoint import load, read

    _, meta = read(args.checkpoint)  # a bad file fails before any framework import
    name = canonical_name(args.backend) if args.backend else meta["backend"]
    backend = get_backend(name)
    device = _select_device(backend, args.device)
    model, vocab, meta = load(args.checkpoint, name, device)
    text = model.predict(args.prefix, args.num_preds, vocab, device, temperature=args.temperature, seed=args.seed)
    print(text)
    return {"backend": backend.name, "trained_on": meta["backend"], "prefix": args.prefix, "text": text}


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status (2 for bad input, 1 for a failed run)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        result = args.run(args)
    except KeyboardInterrupt:
        print("d2lrnn: interrupted.", file=sys.stderr)
        return 130
    except D2LRNNError as exc:
        from .errors import DivergenceError

        print(f"d2lrnn {args.command}: {exc}", file=sys.stderr)
        return 1 if isinstance(exc, DivergenceError) else 2
    if args.json and result is not None:
        print(json.dumps(result, default=float))
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
