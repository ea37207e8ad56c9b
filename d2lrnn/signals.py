"""Turn Ctrl-C (SIGINT) and SIGTERM into a graceful stop of a training run."""

from __future__ import annotations

import signal
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from .trainer import Trainer

#: the conventional exit status of a process ended by each signal
EXIT_STATUS = {signal.SIGINT: 130, signal.SIGTERM: 143}


class Caught:
    """Which signal stopped the run (None if none did)."""

    signum: int | None = None

    @property
    def exit_status(self) -> int:
        return EXIT_STATUS.get(self.signum, 128 + (self.signum or 0))

    @property
    def name(self) -> str:
        return signal.Signals(self.signum).name if self.signum else ""


@contextmanager
def stop_on_signals(trainer: Trainer) -> Iterator[Caught]:
    """While inside, SIGINT/SIGTERM ask ``trainer`` to stop after its current batch.

    The handler only records the signal (it never prints: a progress bar may be writing); the
    caller reports it from the main flow. A second signal raises :class:`KeyboardInterrupt` at
    once. The previous handlers come back on exit. Handlers can only be installed from the main
    thread; elsewhere this does nothing.
    """
    caught = Caught()

    def handler(signum: int, frame: Any) -> None:
        if caught.signum is not None:
            raise KeyboardInterrupt
        caught.signum = signum
        trainer.interrupt()

    try:
        previous = {sig: signal.signal(sig, handler) for sig in EXIT_STATUS}
    except ValueError:  # not the main thread
        yield caught
        return
    try:
        yield caught
    finally:
        for sig, old in previous.items():
            # None: a handler not installed from Python, which cannot be restored
            if old is not None:
                signal.signal(sig, old)
