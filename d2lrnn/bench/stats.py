"""How the workers' measurements are reduced and checked against the targets."""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Sequence
from typing import Any

from .config import D2L_REFERENCE, FLOOR, MAX_OVERHEAD, MAX_PERPLEXITY, PERPLEXITY_EPOCHS, SCRATCH_RATIO, TARGETS, BenchConfig


# --- maths ---------------------------------------------------------------------------------
def median(values: Iterable[float | None]) -> float | None:
    """The median of the values that are not None (None when there are none)."""
    kept = [float(v) for v in values if v is not None]
    return statistics.median(kept) if kept else None


def repeat_rate(epochs: Sequence[dict[str, float]], warmup: int = 1) -> float | None:
    """tokens/s of one repeat: the median over epochs of ``tokens / seconds``, the first ``warmup`` dropped.

    With no epoch past the warm-up the warm-up epochs are used rather than nothing.
    """
    kept = list(epochs[warmup:]) or list(epochs)
    return median(e["tokens"] / e["seconds"] for e in kept if e["seconds"] > 0)


def overhead(library: float | None, floor: float | None) -> float | None:
    """The library's share of time over the floor: ``1 - library / floor`` (negative when faster)."""
    if not library or not floor:
        return None
    return 1.0 - library / floor


def combine(runs: Sequence[dict[str, Any]], warmup: int = 1) -> dict[str, Any]:
    """Reduce the worker results of one (backend, model) over repeats."""
    ok = [r for r in runs if r.get("status") == "ok"]
    if not ok:
        bad = runs[0] if runs else {}
        return {"status": bad.get("status", "failed"), "reason": bad.get("reason", "no run")}
    rates = [repeat_rate(r["epochs"], warmup) for r in ok]
    return {
        "status": "ok",
        "tokens_per_sec": median(rates),
        "repeat_tokens_per_sec": rates,
        "perplexity": median(r["perplexity"] for r in ok),
        "wall_s": median(r["wall_s"] for r in ok),
        "first_batch_s": median(r.get("first_batch_s") for r in ok),
        "peak_rss_mib": max(r["peak_rss_mib"] for r in ok),
        "framework_version": ok[0].get("framework_version"),
        "device": ok[0].get("device"),
        "repeats": len(ok),
        "failed_repeats": len(runs) - len(ok),
        "epochs": len(ok[0]["epochs"]),
    }


def check_rows(rows: list[dict[str, Any]], config: BenchConfig) -> list[dict[str, Any]]:
    """Attach floor tokens/s, overhead, the targets and ``checks`` (name, target, value, met) to every row."""
    by_key = {(r["backend"], r["model"]): r for r in rows}
    for row in rows:
        row["checks"] = []
        if row.get("status") != "ok" or row["model"] == FLOOR:
            row["met"] = None
            continue
        backend = row["backend"]
        floor = by_key.get((backend, FLOOR), {})
        row["floor_tokens_per_sec"] = floor.get("tokens_per_sec") if floor.get("status") == "ok" else None
        checks = row["checks"]
        if row["model"] == "concise":
            row["overhead"] = overhead(row["tokens_per_sec"], row["floor_tokens_per_sec"])
            row["target_tokens_per_sec"] = TARGETS.get(backend)
            row["d2l_tokens_per_sec"] = D2L_REFERENCE.get(backend)
            if config.seed_hyperparameters() and backend in TARGETS:
                checks.append({"name": "speed", "target": f">= {TARGETS[backend]:,} tokens/s",
                               "value": row["tokens_per_sec"], "met": row["tokens_per_sec"] >= TARGETS[backend]})
            if row["overhead"] is not None:
                checks.append({"name": "overhead", "target": f"<= {MAX_OVERHEAD:.0%} over the floor",
                               "value": row["overhead"], "met": row["overhead"] <= MAX_OVERHEAD})
        else:
            concise = by_key.get((backend, "concise"), {})
            if concise.get("status") == "ok":
                ratio = row["tokens_per_sec"] / concise["tokens_per_sec"]
                row["ratio_to_concise"] = ratio
                row["target_tokens_per_sec"] = SCRATCH_RATIO * concise["tokens_per_sec"]
                checks.append({"name": "scratch/concise", "target": f">= {SCRATCH_RATIO:g} x concise",
                               "value": ratio, "met": ratio >= SCRATCH_RATIO})
        if config.epochs >= PERPLEXITY_EPOCHS:
            checks.append({"name": "perplexity", "target": f"<= {MAX_PERPLEXITY} after {PERPLEXITY_EPOCHS} epochs",
                           "value": row["perplexity"], "met": row["perplexity"] <= MAX_PERPLEXITY})
        row["met"] = all(c["met"] for c in checks) if checks else None
    return rows


