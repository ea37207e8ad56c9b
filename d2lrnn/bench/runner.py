"""Running the measurements: every repeat of every row in a fresh worker process, rows alternating.

Each repeat runs all rows once in the same order (A B C ... A B C ...), so a change in the
machine's load hits every row alike and repeat ``i`` of two rows forms a pair. Rows "one core
busy" run beside a busy-loop process that the runner starts for them and stops afterwards.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict
from typing import Any

from ..backends import is_installed
from ..threads import AUTO, thread_env
from .config import BOOK, BUSY, DEFAULT_THREADS, REPO_ROOT, BenchConfig, Job, condition_settings
from .machine import loadavg, machine_info
from .stats import attach_limits, combine, comparisons, perplexity_checks, repeat_rate
from .worker import MARKER

Log = Callable[[str], None]
Runner = Callable[[Job, int, BenchConfig], dict[str, Any]]
Roofline = Callable[[BenchConfig, Log], dict[str, Any]]


def worker_command(job: Job, seed: int, config: BenchConfig) -> list[str]:
    """The command line of one measurement (the parent's ``time.time()`` is added when it starts).
    """
    settings = {"epochs": config.epochs, "num_hiddens": config.num_hiddens, "token": "char",
                **condition_settings(job.condition, config)}
    cmd = [
        sys.executable,
        "-m",
        "d2lrnn.bench.worker",
        "--backend",
        job.backend,
        "--model",
        job.model,
        "--epochs",
        str(settings["epochs"]),
        "--batch-size",
        str(config.batch_size),
        "--num-steps",
        str(config.num_steps),
        "--num-hiddens",
        str(settings["num_hiddens"]),
        "--token",
        str(settings["token"]),
        "--lr",
        repr(config.lr),
        "--clip",
        repr(config.clip),
        "--max-tokens",
        str(config.max_tokens),
        "--seed",
        str(seed),
        "--device",
        config.device,
        "--cell",
        str(settings.get("cell", "rnn")),
    ]
    if settings.get("workers"):
        cmd += ["--workers", str(settings["workers"])]
    threads = worker_threads(job, config)
    if threads is not None:
        cmd += ["--threads", str(threads)]
    if config.data_dir:
        cmd += ["--data-dir", config.data_dir]
    if config.corpus:
        cmd += ["--corpus", config.corpus]
    return cmd


def worker_threads(job: Job, config: BenchConfig) -> int | str | None:
    """The ``--threads`` of a row: the run's setting, except the framework-default row and, under
    ``auto``, the book's rows, which run at the frameworks' own counts as the book's code does."""
    if job.condition == DEFAULT_THREADS or (job.model == BOOK and config.threads == AUTO):
        return None
    return config.threads


def run_worker(job: Job, seed: int, config: BenchConfig) -> dict[str, Any]:
    """Run one measurement in a fresh process; a crash or a timeout is returned as ``status:
    failed``."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO_ROOT), env.get("PYTHONPATH")) if p)
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    for name in thread_env(1):  # the worker sets what its --threads asks for; nothing is inherited
        env.pop(name, None)
    base = {"backend": job.backend, "model": job.model, "condition": job.condition}
    t0 = time.time()
    try:
        proc = subprocess.run([*worker_command(job, seed, config), "--t0", repr(t0)], env=env,
                              capture_output=True, text=True, timeout=config.timeout)
    except subprocess.TimeoutExpired:
        return {**base, "status": "failed", "reason": f"timed out after {config.timeout:g} s"}
    lines = [line for line in proc.stdout.splitlines() if line.startswith(MARKER)]
    if proc.returncode != 0 or not lines:
        tail = (proc.stderr.strip().splitlines() or ["(no output)"])[-1]
        return {
            **base,
            "status": "failed",
            "reason": f"worker exited with status {proc.returncode}: {tail}",
        }
    return {**base, **json.loads(lines[-1][len(MARKER):])}


@contextlib.contextmanager
def busy_core() -> Iterator[subprocess.Popen]:
    """Keep one core busy (a Python busy loop in its own process) while the block runs."""
    proc = subprocess.Popen([sys.executable, "-c", "while True: pass"], stdin=subprocess.DEVNULL)
    try:
        yield proc
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _clock(seconds: float) -> str:
    minutes, secs = divmod(int(seconds), 60)
    return f"{minutes}m{secs:02d}s"


def run_benchmark(
    config: BenchConfig,
    log: Log | None = None,
    runner: Runner = run_worker,
    sleep: Callable[[float], None] = time.sleep,
    roofline: Roofline | None = None,
) -> dict[str, Any]:
    """Measure everything ``config`` asks for; return the results dict that the writers take.

    ``roofline`` measures the machine's limit per row (:func:`.roofline.for_config`, after the rows,
    before the cool-down); with the real workers it runs unless given, with another runner only when
    given.
    """
    log = log or (lambda msg: print(msg, file=sys.stderr, flush=True))
    info = machine_info()
    rounds = [(config.jobs(), config.repeats), (config.scaling_jobs(), config.scaling_repeats)]
    runs: dict[Job, list[dict[str, Any]]] = {job: [] for jobs, _ in rounds for job in jobs}
    skipped = {
        job: f"{job.backend} is not installed" for job in runs if not is_installed(job.backend)
    }
    total = sum(len(jobs) * repeats for jobs, repeats in rounds)
    done = 0
    loads = []
    start = time.perf_counter()
    log(
        f"d2lrnn bench: {total} worker processes ({len(rounds[0][0])} rows x {config.repeats} "
        "repeats, "
        f"{len(rounds[1][0])} scaling rows x {config.scaling_repeats}); threads: "
        f"{config.threads or 'framework default'}"
    )
    for jobs, repeats in rounds:
        for repeat in range(repeats):
            for job in jobs:
                done += 1
                if job in skipped:
                    runs[job].append({"status": "skipped", "reason": skipped[job]})
                    continue
                loads.append(loadavg())
                with busy_core() if job.condition == BUSY else contextlib.nullcontext():
                    result = runner(job, repeat, config)
                runs[job].append(result)
                if result.get("status") == "skipped":
                    skipped[job] = result.get("reason", "skipped")
                elapsed = time.perf_counter() - start
                log(
                    f"[{done}/{total}] {job.key} repeat {repeat + 1}/{repeats}: "
                    f"{_describe(result)}; "
                    f"{_clock(elapsed)} elapsed, about {_clock(elapsed / done * (total - done))} "
                    "left"
                )
    if roofline is None and runner is run_worker:
        from .roofline import for_config as roofline
    limits = roofline(config, log) if roofline is not None else None
    if config.cooldown > 0:
        log(
            f"waiting {config.cooldown:g} s before reading the load after the run (its own load "
            "decays)"
        )
        sleep(config.cooldown)
    info["load_average_after"] = loadavg()
    info["load_average_during"] = loads
    rows = {
        job.key: {
            "backend": job.backend,
            "model": job.model,
            "condition": job.condition,
            **combine(r),
            "runs": r,
        }
        for job, r in runs.items()
    }
    if limits is not None:
        attach_limits(rows, limits)
    return {
        "machine": info,
        "config": asdict(config),
        "seed_hyperparameters": config.seed_hyperparameters(),
        "total_seconds": time.perf_counter() - start,
        "rows": list(rows.values()),
        "comparisons": comparisons(rows, config),
        "perplexity_checks": perplexity_checks(rows, config),
        **({"roofline": limits} if limits is not None else {}),
    }


def _describe(result: dict[str, Any]) -> str:
    if result.get("status") != "ok":
        return f"{result.get('status')} ({result.get('reason')})"
    rate = repeat_rate(result["epochs"])
    return f"{rate:,.0f} tokens/s, perplexity {result['perplexity']:.2f}, {result['wall_s']:.1f} s"
