"""How often a book section's perplexity falls over a given number of epochs (for ``judge-after``).

    python scripts/judge_after.py v0/rnn-concise/tensorflow --runs 12 --epochs 2,6

Runs the section's cell file (``tests/book_cells/<name>.py``) as the book matrix runs it, ``--runs``
times for each number of epochs, and prints each run's perplexities and whether the last was below
the first. The section's own ``judge-after`` header is ignored here, so that the shorter runs it
would lengthen can be measured; the header quotes what this script prints.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from d2lrnn.book.cells import falling, perplexities, read_cell_file, run_cell_file  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("section", help="a cell file under tests/book_cells, without .py")
    parser.add_argument("--runs", type=int, default=12)
    parser.add_argument("--epochs", default="2,6", help="comma-separated epoch counts")
    args = parser.parse_args(argv)
    cell_file = read_cell_file(ROOT / "tests" / "book_cells" / f"{args.section}.py")
    cell_file = dataclasses.replace(cell_file, min_epochs=0)
    for epochs in (int(e) for e in args.epochs.split(",")):
        fell = 0
        for run in range(args.runs):
            outcome = run_cell_file(cell_file, ROOT, epochs)
            trainings = [line for line in perplexities(outcome.output) if line]
            ok = bool(trainings) and all(falling(line) for line in trainings)
            fell += ok
            print(f"{epochs} epochs, run {run + 1}: exit {outcome.returncode}, perplexities "
                  f"{trainings}, {'fell' if ok else 'did not fall'}", flush=True)
        print(f"{epochs} epochs: the perplexity fell in {fell} of {args.runs} runs", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
