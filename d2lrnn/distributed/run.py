"""The one call ``d2lrnn train`` makes: one process, the launcher of N workers, or one of the
workers."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import fields
from typing import Any

from ..backends import check_installed
from ..errors import D2LRNNError
from ..train_job import Log, TrainJob, TrainResult, resolve_settings, run_training
from .launch import Launcher
from .placement import check_workers, engine_mode, is_worker, join


class WorkersStopped(D2LRNNError):
    """The launcher's workers ended early; ``status`` is rank 0's exit status (rank 0 said why)."""

    def __init__(self, status: int) -> None:
        super().__init__(
            f"The workers stopped early (rank 0's exit status {status})."
        )
        self.status = status


def backend_name(job: TrainJob) -> str:
    """The backend ``job`` trains on (given, from the checkpoint it resumes, or the default);
    imports nothing."""
    if job.backend or not job.resume:
        return check_installed(job.backend)
    _, resumed, _ = resolve_settings(job)
    return check_installed(resumed["meta"]["backend"])


def train(
    job: TrainJob,
    workers: int = 1,
    port: int = 0,
    *,
    worker_command: Sequence[str] | None = None,
    others: Sequence[str] = (),
    log: Log = lambda message: None,
) -> TrainResult | None:
    """Train ``job`` on ``workers`` workers; the result to report, or None where another process
    reports it.

    In one process this is :func:`~d2lrnn.train_job.run_training`. With ``workers`` > 1 and a
    backend
    that trains in processes, it starts the workers on 127.0.0.1, each running ``worker_command``
    (the caller's own command line for ``job``), ranks above 0 with ``others`` added
    (:class:`~d2lrnn.distributed.launch.Launcher`), and waits (rank 0 reports; a
    failure raises :class:`~d2lrnn.D2LRNNError`, an early stop :class:`WorkersStopped`). In a
    worker (started so, or by the engine's own launcher) it joins the group and trains its rows.
    """
    name = backend_name(job)
    if is_worker(name):
        return _work(job, name, log)
    settings, _, _ = resolve_settings(job)
    check_workers(workers, settings["batch_size"], name)
    if workers == 1:
        return run_training(job, log)
    if engine_mode(name) == "devices":  # several devices in one process
        return _finish(run_training(_with_group(job, join(name, workers)), log), workers, scale=1)

    if worker_command is None:
        raise D2LRNNError(
            "Starting worker processes needs the command line that runs this job (worker_command)."
        )
    status = Launcher(worker_command, workers, port, others).run()
    if status:
        raise WorkersStopped(status)
    return None


def _with_group(job: TrainJob, group: Any) -> TrainJob:
    return TrainJob(**{**{f.name: getattr(job, f.name) for f in fields(job)}, "group": group})


def _finish(result: TrainResult, workers: int, scale: int | None = None) -> TrainResult:
    """The whole run's speed: every worker trained as many tokens as rank 0 (``scale``: workers
    whose tokens
    rank 0 did not count)."""
    if "tokens_per_sec" in result.summary:
        result.summary = {
            **result.summary,
            "workers": workers,
            "tokens_per_sec": result.summary["tokens_per_sec"]
            * (workers if scale is None else scale),
        }
    return result


def _work(job: TrainJob, name: str, log: Log) -> TrainResult | None:
    group = join(name)
    rank = group.rank
    try:
        mine = _with_group(job, group)
        if rank:  # rank 0 alone reports, saves and draws
            mine.plot = None
        result = run_training(mine, log if rank == 0 else (lambda message: None))
    except D2LRNNError:
        raise
    except Exception as exc:  # the engine's error when a peer left (a closed connection, a timeout)
        raise D2LRNNError(
            f"{group.label} stopped: {exc.__class__.__name__}: {_last_line(exc)}"
        ) from None
    finally:
        group.close()
    return _finish(result, group.workers) if rank == 0 else None


__all__ = ["WorkersStopped", "train"]


def _last_line(exc: BaseException) -> str:
    """The informative end of an engine's (often multi-line) error."""
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    return lines[-1][:300] if lines else ""
