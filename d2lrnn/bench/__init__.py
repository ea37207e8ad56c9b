"""The comparative benchmark (``d2lrnn bench``, ``scripts/benchmark.py``).

Framework-free: the rows run in fresh worker processes (:mod:`.worker`, the only module that
imports a framework). :mod:`.config` says what a run measures, :mod:`.runner` runs it (rows
alternating, one core busy where asked), :mod:`.stats` reduces it to rows and pairs,
:mod:`.report` and :mod:`.charts` write the Markdown and the charts, :mod:`.pages` keeps the
history and updates ``docs/results.md``. The method is on the results page (``report.METHOD``).
"""

from .config import PAGE_END, PAGE_START, BenchConfig, Job
from .pages import append_history, history_record, history_table, publish, read_history, write_all
from .report import (
    comparisons_table,
    machine_text,
    markdown_report,
    rows_table,
    scaling_table,
    warnings,
)
from .runner import busy_core, run_benchmark, run_worker
from .stats import combine, comparisons, median, overhead, pair_ratios, repeat_rate, spread

__all__ = [
    "PAGE_END",
    "PAGE_START",
    "BenchConfig",
    "Job",
    "append_history",
    "busy_core",
    "combine",
    "comparisons",
    "comparisons_table",
    "history_record",
    "history_table",
    "machine_text",
    "markdown_report",
    "median",
    "overhead",
    "pair_ratios",
    "publish",
    "read_history",
    "repeat_rate",
    "rows_table",
    "run_benchmark",
    "run_worker",
    "scaling_table",
    "spread",
    "warnings",
    "write_all",
]
