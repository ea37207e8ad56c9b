"""What the benchmark measures: its settings, targets and constants."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from ..backends import NAMES

KINDS = ("concise", "scratch")
FLOOR = "floor"
#: tokens/s targets for the concise model on 2 CPU cores, and d2l's own implementation (issue 4)
TARGETS = {"torch": 120_000, "mxnet": 100_000, "tensorflow": 80_000}
D2L_REFERENCE = {"torch": 99_000, "mxnet": 81_000, "tensorflow": 10_800}
MAX_OVERHEAD = 0.10
SCRATCH_RATIO = 0.5
MAX_PERPLEXITY = 1.4
PERPLEXITY_EPOCHS = 500
#: libraries whose versions a run records beside the frameworks
OTHER_DISTS = {"keras": ("keras",), "tf_keras": ("tf_keras", "tf-keras"), "numpy": ("numpy",)}
PAGE_START, PAGE_END = "<!-- bench:start -->", "<!-- bench:end -->"
REPO_ROOT = Path(__file__).resolve().parents[2]



@dataclass
class BenchConfig:
    """What to measure; the defaults are the seed hyperparameters of issue 4."""

    backends: list[str] = field(default_factory=lambda: list(NAMES))
    models: list[str] = field(default_factory=lambda: list(KINDS))
    floor: bool = True
    epochs: int = 20
    repeats: int = 3
    batch_size: int = 32
    num_steps: int = 35
    num_hiddens: int = 256
    lr: float = 1.0
    clip: float = 1.0
    max_tokens: int = 10000
    device: str = "cpu"
    data_dir: str | None = None
    corpus: str | None = None
    threads: int | None = None
    timeout: float = 3600.0

    def seed_hyperparameters(self) -> bool:
        """Whether the speed targets apply (they are stated for the seed hyperparameters on the CPU)."""
        return (self.batch_size, self.num_steps, self.num_hiddens, self.lr, self.clip, self.max_tokens,
                self.device, self.corpus) == (32, 35, 256, 1.0, 1.0, 10000, "cpu", None)


