"""The ``d2lrnn`` command line: ``train``, ``predict`` and ``bench``, one module each."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from typing import Any

from .. import __version__
from ..backends import SPECS
from ..errors import D2LRNNError, DivergenceError
from . import bench, predict, train
from .common import Parser, Stopped, message


def versions() -> str:
    """d2lrnn's version and each registered framework's installed version (read from metadata,
    nothing imported)."""
    lines = [f"d2lrnn {__version__}"]
    lines += [f"{spec.label} ({spec.name}): {spec.version() or 'not installed'}" for spec in SPECS]
    return "\n".join(lines)


class VersionAction(argparse.Action):
    def __init__(self, option_strings: Sequence[str], dest: str, **kwargs: Any) -> None:
        super().__init__(
            option_strings,
            dest,
            nargs=0,
            default=argparse.SUPPRESS,
            help="print the versions of d2lrnn and of every framework it supports, then exit",
        )

    def __call__(self, parser: argparse.ArgumentParser, *args: Any) -> None:
        print(versions())
        parser.exit()


def build_parser() -> Parser:
    parser = Parser(
        prog="d2lrnn",
        description="Recurrent language models of Dive into Deep Learning, "
        "on every framework d2lrnn has a backend for.",
    )
    parser.add_argument("--version", action=VersionAction)
    sub = parser.add_subparsers(dest="command", parser_class=Parser, required=True)
    for command in (train, predict, bench):
        command.add_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status (2 for bad input, 1 for a failed run)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        result = args.run(args)
    except KeyboardInterrupt:
        print("d2lrnn: interrupted.", file=sys.stderr)
        return 130
    except Stopped as stop:
        print(stop, file=sys.stderr)
        if args.json and stop.report is not None:
            print(json.dumps(stop.report, default=float))
        return stop.status
    except D2LRNNError as exc:
        print(f"d2lrnn {args.command}: {message(exc)}", file=sys.stderr)
        return 1 if isinstance(exc, DivergenceError) else 2
    if args.json and result is not None:
        print(json.dumps(result, default=float))
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
