"""Pieces every subcommand shares: the parser class, checked converters, the common options."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import Any

from .. import checks
from ..backends import NAMES
from ..errors import D2LRNNError
from ..threads import parse_threads
from ..train_job import choose_device

__all__ = [
    "Parser",
    "Stopped",
    "add_common",
    "checked",
    "flag",
    "message",
    "note",
    "positive_int",
    "select_device",
]


class Parser(argparse.ArgumentParser):
    """argparse that reports a bad argument in one paragraph, with exit status 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(
            2, f"{self.prog}: {message.rstrip('.')}. Run '{self.prog} --help' for the options.\n"
        )


def checked(check: Callable[..., Any], flag: str, *extra: Any) -> Callable[[str], Any]:
    def convert(text: str) -> Any:
        try:
            return check(flag, text, *extra)
        except D2LRNNError as exc:
            raise argparse.ArgumentTypeError(message(exc)) from None

    convert.__name__ = flag  # argparse names the converter in some messages
    return convert


def add_common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--backend", help=f"{' | '.join(NAMES)} (default: $D2LRNN_BACKEND, else torch)"
    )
    parser.add_argument("--device", choices=("auto", "cpu", "gpu"), default="auto",
                        help="auto takes a GPU when the backend sees one (default: auto)")
    parser.add_argument(
        "--json", action="store_true", help="end standard output with one JSON line"
    )


def note(message: str) -> None:
    """A progress message on stderr, written so that it never breaks a progress bar."""
    if "tqdm" in sys.modules:
        from tqdm.auto import tqdm

        tqdm.write(message, file=sys.stderr)
    else:
        print(message, file=sys.stderr)
    sys.stderr.flush()


def select_device(backend: Any, kind: str) -> Any:
    """The device ``--device`` names; a note on stderr when "auto" finds no GPU."""
    return choose_device(backend, kind, note)


def flag(key: str) -> str:
    """The command-line spelling of a setting: ``num_hiddens`` -> ``--num-hiddens``."""
    return "--" + key.replace("_", "-")


def option_spelling(name: str, value: str) -> str:
    """A setting a library message names, as this command line spells it: ``--device cpu``."""
    return f"{flag(name)} {value}" if value else flag(name)


def message(exc: D2LRNNError) -> str:
    """A library error's message in the options' own spelling."""
    return exc.spelled(option_spelling)


class Stopped(Exception):
    """A run that ended early or in part: ``message`` for stderr, ``status`` for the exit,
    ``report`` for --json."""

    def __init__(self, message: str, status: int, report: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.status, self.report = status, report


def positive_int(flag: str) -> Callable[[str], int]:
    """An argparse converter for a whole number >= 1 that names ``flag`` in its error."""
    return checked(checks.positive_int, flag)


def threads_option(text: str) -> int | str:
    """``--threads``: ``auto`` (kept as the word until the run resolves it) or a whole number >= 1.
    """
    try:
        parse_threads(text)
    except D2LRNNError as exc:
        raise argparse.ArgumentTypeError(message(exc)) from None
    return "auto" if text.strip().lower() == "auto" else int(text)
