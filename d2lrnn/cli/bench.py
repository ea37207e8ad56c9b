"""``d2lrnn bench``: the comparative benchmark from the command line (the work is in :mod:`d2lrnn.bench`)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from typing import Any

from ..backends import NAMES, canonical_name
from ..bench import BenchConfig, markdown_table, publish, run_benchmark, write_all
from ..bench.config import KINDS, PERPLEXITY_EPOCHS
from ..errors import D2LRNNError


def _names(text: str, allowed: Sequence[str], canon: Callable[[str], str] = str.strip) -> list[str]:
    names = [canon(t.strip()) for t in text.split(",") if t.strip()]
    bad = [n for n in names if n not in allowed]
    if bad or not names:
        raise argparse.ArgumentTypeError(f"choose from {', '.join(allowed)} (comma separated), got {text!r}")
    return list(dict.fromkeys(names))


def _backend_names(text: str) -> list[str]:

    def canon(name: str) -> str:
        try:
            return canonical_name(name)
        except D2LRNNError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None

    return _names(text, NAMES, canon)


def _at_least(minimum: int) -> Callable[[str], int]:
    def convert(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            value = minimum - 1
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be a whole number >= {minimum}, got {text!r}")
        return value

    return convert


def configure(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """Add the benchmark's options to ``parser``."""
    d = BenchConfig()
    parser.add_argument("--backends", type=_backend_names, default=None,
                        help=f"comma-separated, from {', '.join(NAMES)} (default: all; missing ones are skipped)")
    parser.add_argument("--models", type=lambda t: _names(t, KINDS), default=list(KINDS),
                        help="comma-separated, from concise, scratch (default: both)")
    parser.add_argument("--no-floor", dest="floor", action="store_false", help="skip the bare framework floor")
    parser.add_argument("--epochs", type=_at_least(2), default=d.epochs,
                        help=f"epochs per repeat; the first is warm-up (default: {d.epochs}; "
                             f"{PERPLEXITY_EPOCHS} checks the perplexity target)")
    parser.add_argument("--repeats", type=_at_least(1), default=d.repeats,
                        help=f"fresh processes per row (default: {d.repeats})")
    parser.add_argument("--out", default="bench-results", metavar="DIR",
                        help="where results.json/.md/.png go (default: bench-results/)")
    parser.add_argument("--publish", metavar="DOCS_DIR",
                        help="also put the table and chart into DOCS_DIR/results.md and DOCS_DIR/bench/")
    parser.add_argument("--device", choices=("cpu", "gpu"), default="cpu",
                        help="cpu (default; the targets are for the CPU) or gpu")
    parser.add_argument("--threads", type=_at_least(1), default=None,
                        help="cap the frameworks' CPU threads (OMP/MKL/TF/MXNet variables); default: theirs")
    parser.add_argument("--data-dir", help="a folder that already holds timemachine.txt")
    parser.add_argument("--corpus", help=argparse.SUPPRESS)  # another text (tests); no targets then
    parser.add_argument("--json", action="store_true", help="end standard output with the results as JSON")
    # smaller sizes for tests and quick checks (the targets only apply to the defaults)
    for flag, typ, value in (("--batch-size", int, d.batch_size), ("--num-steps", int, d.num_steps),
                             ("--num-hiddens", int, d.num_hiddens), ("--max-tokens", int, d.max_tokens),
                             ("--lr", float, d.lr), ("--clip", float, d.clip), ("--timeout", float, d.timeout)):
        parser.add_argument(flag, type=typ, default=value, help=argparse.SUPPRESS)
    return parser


def config_from_args(args: argparse.Namespace) -> BenchConfig:
    return BenchConfig(backends=args.backends or list(NAMES), models=args.models, floor=args.floor,
                       epochs=args.epochs, repeats=args.repeats, batch_size=args.batch_size,
                       num_steps=args.num_steps, num_hiddens=args.num_hiddens, lr=args.lr, clip=args.clip,
                       max_tokens=args.max_tokens, device=args.device, data_dir=args.data_dir, corpus=args.corpus,
                       threads=args.threads, timeout=args.timeout)


def cmd_bench(args: argparse.Namespace) -> dict[str, Any]:
    """Run the benchmark and write (and optionally publish) its results."""
    config = config_from_args(args)
    results = run_benchmark(config)
    files = write_all(results, args.out)
    print(markdown_table(results), end="")
    print(f"wrote {', '.join(str(p) for p in files.values())}", file=sys.stderr)
    if args.publish:
        page = publish(results, args.publish, files)
        print(f"published to {page}", file=sys.stderr)
    return results


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """The ``bench`` subcommand."""
    parser = subparsers.add_parser("bench", help="compare training speed, memory and overhead across backends",
                                   description="Compare training speed, memory and the library's overhead over the "
                                               "bare framework across backends (see docs/results.md).")
    configure(parser)
    parser.set_defaults(run=cmd_bench)
    return parser


