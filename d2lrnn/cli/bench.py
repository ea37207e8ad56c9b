"""``d2lrnn bench``: the comparative benchmark from the command line (the work is in
:mod:`d2lrnn.bench`)."""

from __future__ import annotations

import argparse
import sys
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from ..backends import NAMES, canonical_name
from ..bench import BenchConfig, comparisons_table, publish, rows_table, run_benchmark, write_all
from ..bench.config import GATED_CELLS, KINDS, PERPLEXITY_EPOCHS
from ..corpus import time_machine_path
from ..errors import D2LRNNError
from ..threads import parse_threads
from .common import message, threads_option


def _names(text: str, allowed: Sequence[str], canon: Callable[[str], str] = str.strip) -> list[str]:
    names = [canon(t.strip()) for t in text.split(",") if t.strip()]
    bad = [n for n in names if n not in allowed]
    if bad or not names:
        raise argparse.ArgumentTypeError(
            f"choose from {', '.join(allowed)} (comma separated), got {text!r}"
        )
    return list(dict.fromkeys(names))


def _backend_names(text: str) -> list[str]:

    def canon(name: str) -> str:
        try:
            return canonical_name(name)
        except D2LRNNError as exc:
            raise argparse.ArgumentTypeError(message(exc)) from None

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
    parser.add_argument(
        "--backends",
        type=_backend_names,
        default=None,
        help=f"comma-separated, from {', '.join(NAMES)} (default: all; missing ones are skipped)",
    )
    parser.add_argument("--models", type=lambda t: _names(t, KINDS), default=list(KINDS),
                        help="comma-separated, from concise, scratch (default: both)")
    parser.add_argument(
        "--cells",
        type=lambda t: [] if t == "none" else _names(t, GATED_CELLS),
        default=list(GATED_CELLS),
        help="the gated cells measured against the book's own "
        f"(default: {','.join(GATED_CELLS)}; none: only the RNN)",
    )
    parser.add_argument(
        "--no-floor", dest="floor", action="store_false", help="skip the bare framework floor"
    )
    parser.add_argument(
        "--no-book", dest="book", action="store_false", help="skip the book's own code (d2l 0.17.6)"
    )
    parser.add_argument(
        "--no-busy", dest="busy", action="store_false", help="skip the rows with one core busy"
    )
    parser.add_argument("--no-scaling", dest="scaling", action="store_false",
                        help="skip the rows at more hidden units and on word tokens")
    parser.add_argument("--epochs", type=_at_least(2), default=d.epochs,
                        help=f"epochs per repeat; the first is warm-up (default: {d.epochs}; "
                             f"{PERPLEXITY_EPOCHS} checks the perplexity target)")
    parser.add_argument(
        "--repeats",
        type=_at_least(1),
        default=d.repeats,
        help=f"fresh processes per row, alternating with the other rows (default: {d.repeats})",
    )
    parser.add_argument("--scaling-epochs", type=_at_least(2), default=d.scaling_epochs,
                        help=f"epochs per scaling row (default: {d.scaling_epochs})")
    parser.add_argument("--scaling-repeats", type=_at_least(1), default=d.scaling_repeats,
                        help=f"repeats per scaling row (default: {d.scaling_repeats})")
    parser.add_argument(
        "--threads",
        type=threads_option,
        default="auto",
        metavar="N|auto",
        help="the CPU threads of d2lrnn's rows (default: auto, one per free core, followed while "
        "training; the book's rows then run at the frameworks' own counts, as the book does)",
    )
    parser.add_argument(
        "--cooldown",
        type=float,
        default=d.cooldown,
        metavar="SECONDS",
        help=f"idle time before the load after the run is read (default: {d.cooldown:g})",
    )
    parser.add_argument(
        "--out",
        default="bench-results",
        metavar="DIR",
        help="where results.json/.md, the charts and history.jsonl go (default: bench-results/)",
    )
    parser.add_argument(
        "--publish",
        metavar="DOCS_DIR",
        help="also put the run into DOCS_DIR/results.md, DOCS_DIR/bench/ and its history",
    )
    parser.add_argument("--device", choices=("cpu", "gpu"), default="cpu",
                        help="cpu (default; the targets are for the CPU) or gpu")
    parser.add_argument("--data-dir", help="a folder that already holds timemachine.txt")
    parser.add_argument("--corpus", help=argparse.SUPPRESS)  # another text (tests); no targets then
    parser.add_argument(
        "--json", action="store_true", help="end standard output with the results as JSON"
    )
    parser.add_argument(
        "--workers",
        type=lambda t: [] if t == "none" else [int(n) for n in t.split(",")],
        default=[],
        metavar="N[,N...]",
        help="also measure the concise model data-parallel on N "
        "workers (d2lrnn train --workers; default: none)",
    )
    # smaller sizes for tests and quick checks (the targets only apply to the defaults)
    for flag, typ, value in (
        ("--batch-size", int, d.batch_size),
        ("--num-steps", int, d.num_steps),
        ("--num-hiddens", int, d.num_hiddens),
        ("--max-tokens", int, d.max_tokens),
        ("--lr", float, d.lr),
        ("--clip", float, d.clip),
        ("--timeout", float, d.timeout),
    ):
        parser.add_argument(flag, type=typ, default=value, help=argparse.SUPPRESS)
    return parser


def config_from_args(args: argparse.Namespace) -> BenchConfig:
    return BenchConfig(
        backends=args.backends or list(NAMES),
        models=args.models,
        cells=args.cells,
        floor=args.floor,
        book=args.book,
        busy=args.busy,
        scaling=args.scaling,
        epochs=args.epochs,
        repeats=args.repeats,
        scaling_epochs=args.scaling_epochs,
        scaling_repeats=args.scaling_repeats,
        batch_size=args.batch_size,
        num_steps=args.num_steps,
        num_hiddens=args.num_hiddens,
        lr=args.lr,
        clip=args.clip,
        max_tokens=args.max_tokens,
        device=args.device,
        data_dir=args.data_dir,
        corpus=args.corpus,
        threads=parse_threads(args.threads),
        cooldown=args.cooldown,
        timeout=args.timeout,
        workers=[n for n in args.workers if n > 1],
    )


def _check_writable(flag: str, folder: str) -> None:
    """Fail before any measuring when ``folder`` cannot be created or written."""
    path = Path(folder)
    try:
        path.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=path):
            pass
    except OSError as exc:
        raise D2LRNNError(
            f"{flag} {folder} cannot take the results ({exc.strerror or exc}). Choose a folder you "
            "can write to; nothing was measured."
        ) from None


def check_inputs(args: argparse.Namespace) -> None:
    """Everything a run needs that can be checked before it starts: output folders and the corpus.
    """
    _check_writable("--out", args.out)
    if args.publish:
        _check_writable("--publish", args.publish)
        _check_writable("--publish", str(Path(args.publish) / "bench"))
    if args.corpus:
        if not Path(args.corpus).is_file():
            raise D2LRNNError(f"--corpus {args.corpus} is not a file; nothing was measured.")
    else:
        # a clear error for a bad --data-dir; downloads at most once
        time_machine_path(args.data_dir)


def cmd_bench(args: argparse.Namespace) -> dict[str, Any]:
    """Check the inputs, run the benchmark, write (and optionally publish) its results."""
    check_inputs(args)
    config = config_from_args(args)
    results = run_benchmark(config)
    files = write_all(results, args.out)
    print(rows_table(results) + "\n" + comparisons_table(results), end="")
    print(f"wrote {', '.join(str(p) for p in files.values())}", file=sys.stderr)
    if args.publish:
        page = publish(results, args.publish, files)
        print(f"published to {page}", file=sys.stderr)
    return results


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """The ``bench`` subcommand."""
    parser = subparsers.add_parser(
        "bench",
        help="compare training speed and memory: d2lrnn, the floor, the book",
        description="Measure d2lrnn's models against the bare framework floor and the "
        "book's own code, quiet and with one core busy, and how cost grows "
        "(see docs/results.md).",
    )
    configure(parser)
    parser.set_defaults(run=cmd_bench)
    return parser
