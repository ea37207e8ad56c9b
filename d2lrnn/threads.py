"""How many CPU threads a framework may use: the ``threads`` setting (a whole number or ``auto``) of
training and of the benchmark.

``auto`` (the default) lets the threads follow the free cores. Before the framework is imported,
a short sample of the machine's CPU time tells how many cores other processes keep busy: with all
cores free the framework keeps its own thread count; otherwise it gets one thread per free core
(at least one). While training, a :class:`ThreadGovernor` repeats the sample about once a second
and moves a framework that can change its count at run time (``backend.runtime_threads``) to the
new number. The reason: a framework whose threads wait for each other on a core that another
process holds can lose three quarters of its speed, while one thread fewer costs little when that
core is not free anyway (``docs/results.md``, "one core busy").

The frameworks read their thread counts from environment variables when they are imported:
:func:`thread_env` gives the generic ones plus those the registry names for a backend
(``BackendSpec.thread_env``).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from typing import Any

from .backends import SPECS, spec
from .errors import D2LRNNError

AUTO = "auto"
#: variables read at import by the OpenMP, MKL and OpenBLAS runtimes under every framework
GENERIC_VARIABLES = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")
#: seconds of CPU-time sampling before the framework is imported, and between checks while training
START_SAMPLE_S, CHECK_EVERY_S = 0.3, 1.0
#: a thread setting: a count, "auto", or None (the framework's own count)
Threads = int | str | None


def usable_cores() -> int:
    """The cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # macOS, Windows
        return os.cpu_count() or 1


def parse_threads(text: Threads) -> Threads:
    """``None``/``""`` (the frameworks' own counts), ``"auto"``, or a whole number >= 1."""
    if text is None or text == "":
        return None
    if isinstance(text, str) and text.strip().lower() == AUTO:
        return AUTO
    try:
        value = int(text)
    except (TypeError, ValueError):
        value = 0
    if value < 1:
        raise D2LRNNError(
            f"{{threads}} must be 'auto' or a whole number >= 1, got {text!r}.",
            settings=["threads"],
        )
    return value


def thread_env(threads: int | None, backend: str | None = None) -> dict[str, str]:
    """The variables that cap a framework at ``threads`` (every registered one when ``backend`` is
    None)."""
    if not threads:
        return {}

    env = {name: str(threads) for name in GENERIC_VARIABLES}
    for entry in [spec(backend)] if backend else SPECS:
        if entry.thread_env is not None:
            env.update(entry.thread_env(threads))
    return env


class CpuSampler:
    """Cores that other processes kept busy since the last call, from the system's and this
    process's CPU times."""

    def __init__(self) -> None:
        import psutil

        self._psutil, self._process = psutil, psutil.Process()
        try:
            self._cpus = sorted(os.sched_getaffinity(0))
        except AttributeError:
            self._cpus = None
        self._last = self._read()

    def _read(self) -> tuple[float, float, float]:
        per_cpu = self._psutil.cpu_times(percpu=True)
        cpus = (
            per_cpu if self._cpus is None else [per_cpu[i] for i in self._cpus if i < len(per_cpu)]
        )
        busy = sum(t.user + t.nice + t.system + getattr(t, "irq", 0.0) + getattr(t, "softirq", 0.0)
                   + getattr(t, "steal", 0.0) for t in cpus)
        own = self._process.cpu_times()
        return time.perf_counter(), busy, own.user + own.system

    def others(self) -> float:
        """Average number of this process's cores that other processes used since the last call."""
        now, busy, own = self._read()
        then, busy0, own0 = self._last
        self._last = (now, busy, own)
        elapsed = now - then
        return max(0.0, (busy - busy0) - (own - own0)) / elapsed if elapsed > 0 else 0.0


def threads_for(others: float, cores: int) -> int:
    """One thread per core that other processes leave free (0.5 of a core taken counts as taken), at
    least one."""
    return max(1, cores - int(others + 0.5))


def start_threads(
    setting: Threads, backend: str | None = None, sampler: CpuSampler | None = None
) -> int | None:
    """Resolve ``setting`` before the framework is imported and set its variables; None: its own
    count.

    ``auto`` samples the CPU for :data:`START_SAMPLE_S` seconds; with every core free it returns
    None.
    """
    setting = parse_threads(setting)
    if setting == AUTO:
        cores = usable_cores()
        if sampler is None:
            sampler = CpuSampler()
            time.sleep(START_SAMPLE_S)
        threads = threads_for(sampler.others(), cores)
        setting = None if threads >= cores else threads
    os.environ.update(thread_env(setting, backend))
    return setting


def apply_threads(threads: int | None, backend: Any) -> None:
    """Tell an imported backend its count too (``backend.set_threads``), for frameworks that also
    read it then."""
    setter = getattr(backend, "set_threads", None)
    if threads and setter is not None:
        setter(threads)


class ThreadGovernor:
    """A per-batch callback that keeps a backend's threads at the free cores while training
    (``auto``).

    Checks at most every ``every`` seconds; :attr:`changes` records ``(seconds since start,
    threads)``.
    """

    def __init__(
        self,
        backend: Any,
        threads: int | None,
        sampler: CpuSampler | None = None,
        every: float = CHECK_EVERY_S,
        clock: Callable[[], float] = time.perf_counter,
    ) -> None:
        self.backend = backend
        self.cores = usable_cores()
        self.every = every
        self.clock = clock
        self.threads = threads or self.cores
        self.sampler = sampler or CpuSampler()
        self.start = self.next_check = clock()
        self.next_check += every
        self.changes: list[tuple[float, int]] = [(0.0, self.threads)]

    @classmethod
    def for_setting(
        cls, setting: Threads, backend: Any, threads: int | None
    ) -> ThreadGovernor | None:
        """A governor when ``setting`` is ``auto`` and the backend can change its count at run time.
        """
        if parse_threads(setting) != AUTO or not getattr(backend, "runtime_threads", False):
            return None
        return cls(backend, threads)

    def __call__(self, *_: Any) -> None:
        now = self.clock()
        if now < self.next_check:
            return
        self.next_check = now + self.every
        wanted = threads_for(self.sampler.others(), self.cores)
        if wanted != self.threads:
            self.backend.set_threads(wanted)
            self.threads = wanted
            self.changes.append((round(now - self.start, 2), wanted))
