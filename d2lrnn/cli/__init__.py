"""The ``d2lrnn`` command line: ``train``, ``predict`` and ``bench``, one module each."""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence

from ..errors import D2LRNNError, DivergenceError
from . import bench, predict, train
from .common import Parser, Stopped


def build_parser() -> Parser:
    parser = Parser(prog="d2lrnn", description="Recurrent language models of Dive into Deep Learning, "
                    "on every framework d2lrnn has a backend for.")
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
        return stop.status
    except D2LRNNError as exc:
        print(f"d2lrnn {args.command}: {exc}", file=sys.stderr)
        return 1 if isinstance(exc, DivergenceError) else 2
    if args.json and result is not None:
        print(json.dumps(result, default=float))
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
