"""The comparative benchmark (``d2lrnn bench``, ``scripts/benchmark.py``).

For every backend and model kind (``concise``, ``scratch``) and for the bare framework floor
(``backends/<name>/floor.py``), each repeat runs in a fresh process (:mod:`d2lrnn.bench.worker`). This
module imports no framework: it starts the workers, reduces their measurements, checks them against
the targets of issue 4 and writes ``results.json``, ``results.md`` and ``results.png``.

How the numbers are reduced (also written into the results page):

* tokens/s of one repeat: the median over its epochs of ``tokens / seconds`` of the training loop,
  leaving out the first epoch (warm-up: lazy building, graph tracing, allocator);
  the reported tokens/s is the median over repeats of those;
* perplexity, wall time and time to first batch: medians over repeats; peak RSS: the largest;
* overhead (concise model only): ``1 - library tokens/s / floor tokens/s``.
"""

from .config import PAGE_END, PAGE_START, BenchConfig
from .report import machine_text, markdown_report, markdown_table, publish, write_all
from .runner import run_benchmark, run_worker, thread_env
from .stats import check_rows, combine, median, overhead, repeat_rate

__all__ = ["PAGE_END", "PAGE_START", "BenchConfig", "check_rows", "combine", "machine_text", "markdown_report",
           "markdown_table", "median", "overhead", "publish", "repeat_rate", "run_benchmark", "run_worker",
           "thread_env", "write_all"]
