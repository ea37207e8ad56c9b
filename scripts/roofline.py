"""Measure the machine's limit for the benchmark's settings: the products of a training step timed
alone.

    python scripts/roofline.py [--hiddens 256,512,1024] [--cells rnn,gru,lstm] [--token word]
    [--threads auto]
                               [--out docs/generated/roofline.md]

The same measurement that ``d2lrnn bench`` makes after its rows (``d2lrnn/bench/roofline.py``).
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from d2lrnn.bench.roofline import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main())
