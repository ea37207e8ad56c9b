"""N workers on one machine: start them on 127.0.0.1 and watch them.

Rank 0 writes to this terminal (its progress bar, its summary, its result line); the other
workers are silent unless they fail. A signal to the launcher goes to rank 0 only: its stop travels
through the engine's collective, so every worker ends after the same batch and rank 0 saves one
checkpoint. A worker that dies makes the launcher stop the others and name it (exit status 2).
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ..errors import D2LRNNError
from .placement import PEERS_VAR, RANK_VAR, WORKERS_VAR

HOST = "127.0.0.1"
#: seconds the others may take to finish after the first worker has ended
GRACE = 60.0
POLL = 0.1


def free_port(port: int = 0) -> int:
    """``port`` if nothing listens on it on 127.0.0.1 (0: any free port), else a
    :class:`D2LRNNError`."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind((HOST, port))
        except OSError:
            raise D2LRNNError(
                f"Port {port} on {HOST} is in use; choose another with {{port}}, or leave {{port}} "
                "out to take a free one.",
                settings=["port"],
            ) from None
        return sock.getsockname()[1]


def worker_env(rank: int, workers: int, peers: Sequence[str]) -> dict[str, str]:
    """The variables that make ``d2lrnn train`` worker ``rank`` of ``workers``."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("TF_CONFIG", "TORCHELASTIC_RUN_ID", "WORLD_SIZE")
    }
    return {**env, RANK_VAR: str(rank), WORKERS_VAR: str(workers), PEERS_VAR: ",".join(peers)}


def _describe(code: int) -> str:
    if code < 0:
        try:
            return f"was killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"was killed by signal {-code}"
    return f"exited with status {code}"


def _tail(path: Path, lines: int = 5) -> str:
    try:
        text = path.read_text(errors="replace").strip().splitlines()[-lines:]
    except OSError:
        return ""
    return ("; its last words: " + " | ".join(text)) if text else ""


class Launcher:
    """N worker processes of one command line and the rules for ending them.

    Every worker runs ``command`` (the program and its arguments); the ranks above 0 add ``others``
    (what keeps them quiet, in the caller's own terms), write their standard error to a log and
    discard their standard output.
    """

    def __init__(
        self, command: Sequence[str], workers: int, port: int = 0, others: Sequence[str] = ()
    ) -> None:
        self.command = list(command)
        self.workers = workers
        self.others = list(others)
        self.peers = [f"{HOST}:{free_port(port)}"] + [
            f"{HOST}:{free_port()}" for _ in range(workers - 1)
        ]
        self.procs: list[subprocess.Popen[Any]] = []
        self.signals = 0
        self.logs = Path(tempfile.mkdtemp(prefix="d2lrnn-workers-"))

    def start(self) -> None:
        for rank in range(self.workers):
            quiet = rank > 0
            err = open(self.logs / f"worker{rank}.err", "wb") if quiet else None  # noqa: E501, SIM115 - closed below
            extra = self.others if quiet else []
            self.procs.append(subprocess.Popen(
                [*self.command, *extra],
                env=worker_env(rank, self.workers, self.peers), start_new_session=True,
                stdout=subprocess.DEVNULL if quiet else None, stderr=err))
            if err is not None:
                err.close()

    def _on_signal(self, signum: int, frame: Any) -> None:
        """The first signal goes to rank 0 (it stops after its batch, as one process would); a
        second stops it at once."""
        self.signals += 1
        if self.procs and self.procs[0].poll() is None:
            self.procs[0].send_signal(signum if self.signals == 1 else signal.SIGINT)

    def kill(self, *, gently: bool = False) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM if gently else signal.SIGKILL)
        for proc in self.procs:
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()

    def watch(self) -> int:
        """Wait for the workers; rank 0's exit status, or a :class:`D2LRNNError` naming a worker
        that died."""
        first_end = None
        while True:
            codes = [proc.poll() for proc in self.procs]
            if all(code is not None for code in codes):
                break
            failed = [rank for rank, code in enumerate(codes) if code not in (None, 0)]
            if failed and not self.signals:
                rank = failed[0]
                self.kill()
                raise D2LRNNError(f"worker {rank} of {self.workers} (pid {self.procs[rank].pid}) "
                                  f"{_describe(codes[rank])}; the other workers were stopped"
                                  f"{_tail(self.logs / f'worker{rank}.err') if rank else ''}.")
            if any(code is not None for code in codes):
                first_end = first_end or time.monotonic()
                if time.monotonic() - first_end > GRACE:
                    hung = [rank for rank, code in enumerate(codes) if code is None]
                    self.kill()
                    raise D2LRNNError(
                        f"worker(s) {', '.join(map(str, hung))} of {self.workers} did not finish "
                        f"within {GRACE:g} s of the others and were stopped."
                    )
            time.sleep(POLL)
        return codes[0]

    def run(self) -> int:
        try:
            previous = {
                sig: signal.signal(sig, self._on_signal) for sig in (signal.SIGINT, signal.SIGTERM)
            }
        except ValueError:  # not the main thread: signals stay with their handlers
            previous = {}
        try:
            self.start()
            return self.watch()
        finally:
            self.kill()
            for sig, old in previous.items():
                signal.signal(sig, old)
            for path in self.logs.iterdir():
                path.unlink()
            self.logs.rmdir()
