"""Running the measurements, each repeat in a fresh worker process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import asdict
from typing import Any

from ..backends import is_installed
from .config import FLOOR, REPO_ROOT, BenchConfig
from .machine import loadavg, machine_info
from .stats import check_rows, combine, repeat_rate

Log = Callable[[str], None]


# --- running --------------------------------------------------------------------------------
def worker_command(backend: str, model: str, seed: int, config: BenchConfig) -> list[str]:
    """The command line of one measurement (the parent's ``time.time()`` is added when it starts)."""
    cmd = [sys.executable, "-m", "d2lrnn.bench.worker", "--backend", backend, "--model", model,
           "--epochs", str(config.epochs), "--batch-size", str(config.batch_size), "--num-steps", str(config.num_steps),
           "--num-hiddens", str(config.num_hiddens), "--lr", repr(config.lr), "--clip", repr(config.clip),
           "--max-tokens", str(config.max_tokens), "--seed", str(seed), "--device", config.device]
    if config.data_dir:
        cmd += ["--data-dir", config.data_dir]
    if config.corpus:
        cmd += ["--corpus", config.corpus]
    return cmd


def run_worker(backend: str, model: str, seed: int, config: BenchConfig) -> dict[str, Any]:
    """Run one measurement in a fresh process; a crash or a timeout is returned as ``status: failed``."""
    from .worker import MARKER

    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO_ROOT), env.get("PYTHONPATH")) if p)
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    env.update(thread_env(config.threads))
    t0 = time.time()
    try:
        proc = subprocess.run([*worker_command(backend, model, seed, config), "--t0", repr(t0)], env=env,
                              capture_output=True, text=True, timeout=config.timeout)
    except subprocess.TimeoutExpired:
        return {"backend": backend, "model": model, "status": "failed", "reason": f"timed out after {config.timeout:g} s"}
    lines = [line for line in proc.stdout.splitlines() if line.startswith(MARKER)]
    if proc.returncode != 0 or not lines:
        tail = (proc.stderr.strip().splitlines() or ["(no output)"])[-1]
        return {"backend": backend, "model": model, "status": "failed",
                "reason": f"worker exited with status {proc.returncode}: {tail}"}
    return json.loads(lines[-1][len(MARKER):])


def thread_env(threads: int | None) -> dict[str, str]:
    """Environment variables that cap every framework's CPU threads (empty: the frameworks' defaults)."""
    if not threads:
        return {}
    names = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MXNET_CPU_WORKER_NTHREADS",
             "TF_NUM_INTRAOP_THREADS", "TF_NUM_INTEROP_THREADS")
    return {name: str(threads) for name in names}


def run_benchmark(config: BenchConfig, log: Log | None = None,
                  runner: Callable[[str, str, int, BenchConfig], dict[str, Any]] = run_worker) -> dict[str, Any]:
    """Measure everything ``config`` asks for; return the results dict that the writers take."""
    log = log or (lambda msg: print(msg, file=sys.stderr, flush=True))
    info = machine_info()
    models = list(config.models) + ([FLOOR] if config.floor else [])
    jobs = [(b, m) for b in config.backends for m in models]
    total, done = len(jobs) * config.repeats, 0
    rows: list[dict[str, Any]] = []
    start = time.perf_counter()
    for backend, model in jobs:
        if not is_installed(backend):
            rows.append({"backend": backend, "model": model, "status": "skipped", "reason": f"{backend} is not installed"})
            done += config.repeats
            log(f"[{done}/{total}] {backend} {model}: skipped ({backend} is not installed)")
            continue
        runs = []
        for repeat in range(config.repeats):
            result = runner(backend, model, repeat, config)
            runs.append(result)
            done += 1
            log(f"[{done}/{total}] {backend} {model} repeat {repeat + 1}/{config.repeats}: {_describe(result)}")
            if result.get("status") == "skipped":
                done += config.repeats - repeat - 1
                break
        rows.append({"backend": backend, "model": model, **combine(runs), "runs": runs})
    info["load_average_after"] = loadavg()
    return {
        "machine": info,
        "config": asdict(config),
        "seed_hyperparameters": config.seed_hyperparameters(),
        "total_seconds": time.perf_counter() - start,
        "rows": check_rows(rows, config),
    }


def _describe(result: dict[str, Any]) -> str:
    if result.get("status") != "ok":
        return f"{result.get('status')} ({result.get('reason')})"
    rate = repeat_rate(result["epochs"])
    return f"{rate:,.0f} tokens/s, perplexity {result['perplexity']:.2f}, {result['wall_s']:.1f} s"


