"""How the workers' measurements are reduced: rows, ratios of alternating pairs, and the checks."""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Sequence
from typing import Any

from ..backends import LABELS
from ..threads import AUTO
from .config import (
    BOOK,
    BOOK_RATIO_TARGETS,
    BUSY,
    BUSY_KEEP,
    CELL_BOOK_RATIO_TARGETS,
    DEFAULT_THREADS,
    FLOOR,
    KINDS,
    LIMIT_CONDITION,
    LIMIT_TARGET,
    MAX_PERPLEXITY,
    MOONSHOT_TOKENS_PER_SEC,
    OVERHEAD_BOUNDS,
    PEER_TARGETS,
    PERPLEXITY_EPOCHS,
    SCALING,
    SCRATCH_RATIO,
    SEED,
    THREADS_KEEP,
    WORKERS_PREFIX,
    BenchConfig,
    condition_settings,
)


def median(values: Iterable[float | None]) -> float | None:
    """The median of the values that are not None (None when there are none)."""
    kept = [float(v) for v in values if v is not None]
    return statistics.median(kept) if kept else None


def repeat_rate(epochs: Sequence[dict[str, float]], warmup: int = 1) -> float | None:
    """tokens/s of one repeat: the median over epochs of ``tokens / seconds``, the first ``warmup``
    dropped.

    The same rule for every row (library, floor, book). With no epoch past the warm-up the warm-up
    epochs are used rather than nothing.
    """
    kept = list(epochs[warmup:]) or list(epochs)
    return median(e["tokens"] / e["seconds"] for e in kept if e["seconds"] > 0)


def overhead(library: float | None, floor: float | None) -> float | None:
    """The library's share of time over the floor: ``1 - library / floor`` (negative when faster).
    """
    if not library or not floor:
        return None
    return 1.0 - library / floor


def spread(values: Sequence[float]) -> dict[str, Any]:
    """Median, smallest and largest of ``values`` (all None when empty), and how many there are."""
    if not values:
        return {"median": None, "low": None, "high": None, "n": 0}
    return {
        "median": statistics.median(values),
        "low": min(values),
        "high": max(values),
        "n": len(values),
    }


def combine(runs: Sequence[dict[str, Any]], warmup: int = 1) -> dict[str, Any]:
    """Reduce the worker results of one row over its repeats (a failed repeat stays a None rate)."""
    ok = [r for r in runs if r.get("status") == "ok"]
    if not ok:
        bad = runs[0] if runs else {}
        return {"status": bad.get("status", "failed"), "reason": bad.get("reason", "no run")}
    rates = [repeat_rate(r["epochs"], warmup) if r.get("status") == "ok" else None for r in runs]
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


def attach_limits(rows: dict[str, dict[str, Any]], roofline: dict[str, Any]) -> None:
    """Give every row its condition's limit (``limit_tokens_per_sec``) and ``fraction_of_limit`` =
    tokens/s / limit."""
    for row in rows.values():
        key = roofline.get("conditions", {}).get(row["condition"])
        rate = roofline.get("shapes", {}).get(key, {}).get("limit_tokens_per_sec") if key else None
        row["limit_tokens_per_sec"] = rate
        ok = row.get("status") == "ok" and row.get("tokens_per_sec") and rate
        row["fraction_of_limit"] = row["tokens_per_sec"] / rate if ok else None


def pair_ratios(top: dict[str, Any], bottom: dict[str, Any]) -> list[float]:
    """``top / bottom`` tokens/s of the repeats that ran side by side (repeat i of both rows)."""
    a, b = top.get("repeat_tokens_per_sec") or [], bottom.get("repeat_tokens_per_sec") or []
    return [x / y for x, y in zip(a, b) if x and y]


#: the share of the pairs that must pass (or fail) for a verdict beyond "within noise"
MAJORITY = 2 / 3


def verdict(passes: Sequence[bool], median_passes: bool) -> str:
    """The verdict of one comparison from its pairs.

    ``met``: the median passes and at least two thirds of the pairs pass. ``not met``: the median
    fails
    and at least two thirds of the pairs fail. Anything else (the pairs straddle the target) is
    ``within noise``. A single pair is too few to be more than noise.
    """
    n = len(passes)
    if n < 2:
        return "within noise"
    passed = sum(passes)
    if median_passes and passed >= MAJORITY * n:
        return "met"
    if not median_passes and n - passed >= MAJORITY * n:
        return "not met"
    return "within noise"


def _verdict_ratio(
    values: Sequence[float], stats: dict[str, Any], target: float | None
) -> str | None:
    if target is None or stats["median"] is None:
        return None
    return verdict([v >= target for v in values], stats["median"] >= target)


def _verdict_overhead(values: Sequence[float], stats: dict[str, Any]) -> str | None:
    """As :func:`verdict`, a pair passing inside the bounds; ``anomaly`` when the whole spread lies
    outside them."""
    if stats["median"] is None:
        return None
    low, high = OVERHEAD_BOUNDS
    if stats["high"] < low or stats["low"] > high:
        return "anomaly"
    return verdict([low <= v <= high for v in values], low <= stats["median"] <= high)


def compares_identical(config: BenchConfig) -> bool:
    """Whether "threads auto / framework default" would compare one configuration with itself: with
    ``auto`` (or no setting) on a quiet machine the framework keeps its own thread count."""
    return config.threads in (None, AUTO)


def comparisons(rows: dict[str, dict[str, Any]], config: BenchConfig) -> list[dict[str, Any]]:
    """Every pair the page reports, per backend: ratios per alternating pair, their median and
    spread."""
    out = []

    def add(
        backend: str, name: str, top: str, bottom: str, target: float | None, kind: str = "ratio"
    ) -> None:
        a, b = rows.get(top, {}), rows.get(bottom, {})
        if a.get("status") != "ok" or b.get("status") != "ok":
            return
        ratios = pair_ratios(a, b)
        values = [1.0 - r for r in ratios] if kind == "overhead" else ratios
        stats = spread(values)
        judged = (
            _verdict_overhead(values, stats)
            if kind == "overhead"
            else _verdict_ratio(values, stats, target)
        )
        out.append({"backend": backend, "name": name, "kind": kind, "top": top, "bottom": bottom,
                    "values": values, **stats, "target": target, "verdict": judged})

    def add_share(backend: str, name: str, key: str, reference: float | None,
                  target: float | None) -> None:
        """Each repeat's tokens/s over ``reference`` (None: the row's own limit)."""
        row = rows.get(key, {})
        reference = reference or row.get("limit_tokens_per_sec")
        if row.get("status") != "ok" or not reference:
            return
        values = [rate / reference for rate in row.get("repeat_tokens_per_sec") or [] if rate]
        stats = spread(values)
        out.append({"backend": backend, "name": name, "kind": "share", "top": key, "bottom": None,
                    "reference": reference, "values": values, **stats, "target": target,
                    "verdict": _verdict_ratio(values, stats, target)})

    seed_targets = config.seed_hyperparameters()
    for backend in config.backends:
        key = f"{backend}/{{}}/{{}}".format
        add(backend, "d2lrnn / book", key("concise", SEED), key(BOOK, SEED),
            BOOK_RATIO_TARGETS.get(backend) if seed_targets else None)
        # the most any library on this framework's layer could reach against the book's code
        add(backend, "floor / book", key(FLOOR, SEED), key(BOOK, SEED), None)
        add(
            backend,
            "overhead over the floor",
            key("concise", SEED),
            key(FLOOR, SEED),
            None,
            "overhead",
        )
        add(backend, "scratch / concise", key("scratch", SEED), key("concise", SEED), SCRATCH_RATIO)
        add(backend, "one core busy / quiet", key("concise", BUSY), key("concise", SEED), BUSY_KEEP)
        if not compares_identical(config):  # a fixed thread count against the framework's own
            add(
                backend,
                f"quiet: threads {config.threads} / framework default",
                key("concise", SEED),
                key("concise", DEFAULT_THREADS),
                THREADS_KEEP,
            )
        add(backend, "book: one core busy / quiet", key(BOOK, BUSY), key(BOOK, SEED), None)
        add(backend, "d2lrnn / book, one core busy", key("concise", BUSY), key(BOOK, BUSY), None)
        for cell in config.cells:  # each gated cell against the book's own code for that cell
            add(backend, f"{cell.upper()}: d2lrnn / book", key("concise", cell), key(BOOK, cell),
                CELL_BOOK_RATIO_TARGETS.get(backend) if seed_targets else None)
            add(backend, f"{cell.upper()}: floor / book", key(FLOOR, cell), key(BOOK, cell), None)
            add(
                backend,
                f"{cell.upper()}: overhead over the floor",
                key("concise", cell),
                key(FLOOR, cell),
                None,
                "overhead",
            )
        # the cost of the collectives (no speed-up is expected on shared CPU cores)
        for n in config.workers:
            add(
                backend,
                f"{n} workers / one process",
                key("concise", f"{WORKERS_PREFIX}{n}"),
                key("concise", SEED),
                None,
            )
    _limit_comparisons(config, add, add_share, seed_targets)
    return out


def setting_name(condition: str, config: BenchConfig) -> str:
    """``512 hidden``, ``word tokens``: what a condition of "how cost grows" (or the seed) changes.
    """
    settings = condition_settings(condition, config)
    if settings.get("token") == "word":
        return "word tokens"
    return f"{settings.get('num_hiddens', config.num_hiddens)} hidden"


def _limit_comparisons(config: BenchConfig, add: Any, add_share: Any, seed_targets: bool) -> None:
    """Issue 20's targets: a backend against its peer at every setting, the share of the limit at
    :data:`LIMIT_CONDITION` (beside the floor's, which bounds it) and the moonshot."""
    settings = [SEED, *(c for c in SCALING if config.scaling)]
    for backend, (peer, target) in PEER_TARGETS.items():
        if peer not in config.backends:
            continue
        for condition in settings:
            for model in (*KINDS, FLOOR):
                add(backend,
                    f"{model}, {setting_name(condition, config)}: {LABELS[backend]} / "
                    f"{LABELS[peer]}",
                    f"{backend}/{model}/{condition}", f"{peer}/{model}/{condition}",
                    None if model == FLOOR else target)
    for backend in config.backends:
        key = f"{backend}/{{}}/{LIMIT_CONDITION}".format
        name = setting_name(LIMIT_CONDITION, config)
        add_share(backend, f"concise, {name}: share of the limit", key("concise"), None,
                  LIMIT_TARGET)
        add_share(backend, f"floor, {name}: share of the limit (bounds the concise model)",
                  key(FLOOR), None, None)
        add(backend, f"overhead over the floor, {name}", key("concise"), key(FLOOR), None,
            "overhead")
        if seed_targets:
            add_share(backend, f"concise, quiet: share of {MOONSHOT_TOKENS_PER_SEC // 1000}k "
                      "tokens/s", f"{backend}/concise/{SEED}", MOONSHOT_TOKENS_PER_SEC, 1.0)


def perplexity_checks(rows: dict[str, dict[str, Any]], config: BenchConfig) -> list[dict[str, Any]]:
    """Final perplexity against the book's target, for runs long enough to reach it."""
    if config.epochs < PERPLEXITY_EPOCHS:
        return []
    return [{"row": key, "perplexity": row["perplexity"], "target": MAX_PERPLEXITY,
             "verdict": "met" if row["perplexity"] <= MAX_PERPLEXITY else "not met"}
            for key, row in rows.items() if row.get("status") == "ok" and key.endswith(f"/{SEED}")
            and row["model"] in ("concise", "scratch")]
