"""Pieces every subcommand shares: the parser class, checked converters, the common options."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import Any

from .. import checks
from ..backends import NAMES
from ..errors import D2LRNNError


class Parser(argparse.ArgumentParser):
    """argparse that reports a bad argument in one paragraph, with exit status 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(2, f"{self.prog}: {message.rstrip('.')}. Run '{self.prog} --help' for the options.\n")


def checked(check: Callable[..., Any], flag: str, *extra: Any) -> Callable[[str], Any]:
    def convert(text: str) -> Any:
        try:
            return check(flag, text, *extra)
        except D2LRNNError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None

    convert.__name__ = flag  # argparse names the converter in some messages
    return convert


def add_common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--backend", help=f"{' | '.join(NAMES)} (default: $D2LRNN_BACKEND, else torch)")
    parser.add_argument("--device", choices=("auto", "cpu", "gpu"), default="auto",
                        help="auto takes a GPU when the backend sees one (default: auto)")
    parser.add_argument("--json", action="store_true", help="end standard output with one JSON line")


def flag(key: str) -> str:
    return "--" + key.replace("_", "-")


def select_device(backend: Any, kind: str) -> Any:
    device = backend.device(kind)
    if kind == "auto" and backend.num_gpus() == 0:
        print(f"note: {backend.name} sees no GPU; training on the CPU.", file=sys.stderr)
    return device


class Stopped(Exception):
    """A run that ended early on purpose: ``message`` for stderr, ``status`` for the exit."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


def positive_int(flag: str) -> Callable[[str], int]:
    """An argparse converter for a whole number >= 1 that names ``flag`` in its error."""
    return checked(checks.positive_int, flag)
