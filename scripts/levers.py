"""Measure each adapter's fast paths one lever at a time (off vs on, same process, same data).

    python scripts/levers.py [--epochs 12] [--rounds 3] [--threads auto] [--out docs/generated/levers.md]

Every variant trains the seed configuration (batch 32, 35 steps, 256 hidden units, lr 1, clip 1,
10,000 tokens, sequential) with the library's Trainer; a variant's speed is the median over rounds
of the median per-epoch tokens/s after the first epoch. Variants alternate round by round so that
a change in the machine's load hits all of them alike.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import d2lrnn  # noqa: E402
from d2lrnn.threads import apply_threads, parse_threads  # noqa: E402


@contextlib.contextmanager
def unchanged(backend: Any) -> Iterator[None]:
    yield


@contextlib.contextmanager
def patched(obj: Any, name: str, value: Any) -> Iterator[None]:
    old = getattr(obj, name)
    setattr(obj, name, value)
    try:
        yield
    finally:
        setattr(obj, name, old)


def sync_every_batch(backend: Any) -> contextlib.AbstractContextManager:
    """Read the loss on the host after every batch (as the book's loops do) instead of once per epoch."""
    compile_step = type(backend).compile_step

    def compile_and_sync(self: Any, step: Callable) -> Callable:
        compiled = compile_step(self, step)

        def run(X: Any, Y: Any, state: Any) -> Any:
            loss, state = compiled(X, Y, state)
            self.to_float(loss)
            return loss, state
        return run
    return patched(type(backend), "compile_step", compile_and_sync)


def eager(backend: Any) -> contextlib.AbstractContextManager:
    """No compiled step: the step runs op by op."""
    return patched(type(backend), "compile_step", lambda self, step: step)


def torch_one_hot_scratch(backend: Any) -> type:
    """The scratch model with the textbook one-hot matrix product instead of a row gather."""
    import torch
    from torch.nn import functional as F

    class OneHotScratch(backend.RNNScratch):
        def forward(self, X: Any, state: Any = None) -> Any:
            if state is None:
                state = self.init_state(X)
            inputs = F.one_hot(X.T, self.num_inputs).to(torch.float32) @ self.W_xh[0] + self.b_h[0]
            h, outputs = state[0], []
            for x_t in inputs:
                h = torch.tanh(x_t + h @ self.W_hh[0])
                outputs.append(h)
            return torch.stack(outputs) @ self.W_hq + self.b_q, h.unsqueeze(0)
    return OneHotScratch


def mxnet_not_hybridized(backend: Any) -> contextlib.AbstractContextManager:
    """Gluon blocks run imperatively (no ``hybridize()``)."""
    init = backend.RNNScratch.__init__

    def init_then_unhybridize(self: Any, *args: Any, **kwargs: Any) -> None:
        init(self, *args, **kwargs)
        self.hybridize(active=False)
    return patched(backend.RNNScratch, "__init__", init_then_unhybridize)


def tf_flag(name: str, value: bool, module: str) -> Callable[[Any], contextlib.AbstractContextManager]:
    """Set the flag ``name`` of the TensorFlow adapter's ``module`` (``models`` or ``ops``)."""
    def apply(backend: Any) -> contextlib.AbstractContextManager:
        return patched(sys.modules[f"d2lrnn.backends.tensorflow.{module}"], name, value)
    return apply


# backend -> [(lever, model kind, before-variant, after-variant)], a variant being (label, context, model class)
def levers(name: str, backend: Any) -> list[tuple[str, str, tuple, tuple]]:
    base = ("library", unchanged, None)
    if name == "torch":
        return [
            ("loss read once per epoch, not per batch", "RNN", ("per-batch read", sync_every_batch, None), base),
            ("row gather instead of one-hot matmul", "RNNScratch", ("one-hot matmul", unchanged,
                                                                     torch_one_hot_scratch(backend)), base),
        ]
    if name == "mxnet":
        return [
            ("hybridize()", "RNN", ("imperative", mxnet_not_hybridized, None), base),
            ("hybridize()", "RNNScratch", ("imperative", mxnet_not_hybridized, None), base),
            ("loss read once per epoch, not per batch", "RNN", ("per-batch read", sync_every_batch, None), base),
        ]
    return [
        ("tf.function step", "RNN", ("eager", eager, None), base),
        ("tf.function step", "RNNScratch", ("eager", eager, None), base),
        ("unroll=True", "RNN", ("while loop", tf_flag("UNROLL", False, "models"), None), base),
        ("XLA jit_compile (not used)", "RNN", base, ("jit_compile", tf_flag("JIT_COMPILE", True, "ops"), None)),
    ]


def measure(backend: Any, data: Any, kind: str, variant: tuple, epochs: int) -> float:
    _, context, cls = variant
    with context(backend):
        backend.seed(0)
        model = (cls or getattr(backend, kind))(num_inputs=len(data.vocab), num_outputs=len(data.vocab),
                                                num_hiddens=256, lr=1)
        history = d2lrnn.Trainer(max_epochs=epochs, gradient_clip_val=1, progress=False).fit(model, data)
    return statistics.median(s.tokens_per_sec for s in history[1:])


def verdict(ratios: list[float]) -> str:
    """library / other per round: all above 1 supports the library's choice, all below contradicts it."""
    if min(ratios) > 1:
        return "keeps it"
    if max(ratios) < 1:
        return "reconsider"
    return "no difference"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--backends", default=",".join(d2lrnn.available_backends()))
    parser.add_argument("--epochs", type=int, default=12)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--out", type=Path, help="also write the Markdown table here")
    parser.add_argument("--threads", default="auto", help="the frameworks' CPU threads, N or auto (default: auto)")
    args = parser.parse_args(argv)
    threads = parse_threads(args.threads)
    apply_threads(threads)  # before any framework is imported
    data = d2lrnn.TimeMachine(batch_size=32, num_steps=35, num_val=0, seed=0)
    load_before = os.getloadavg()[0]
    rows = ["| backend | lever | model | library | tokens/s | other | tokens/s | library / other (per round) "
            "| verdict |", "|---|---|---|---|---:|---|---:|---|---|"]
    for name in args.backends.split(","):
        backend = d2lrnn.get_backend(name)
        apply_threads(threads, backend)
        for lever, kind, before, after in levers(name, backend):
            library, other = (before, after) if before[0] == "library" else (after, before)
            speeds: dict[str, list[float]] = {before[0]: [], after[0]: []}
            for _ in range(args.rounds):
                for variant in (before, after):
                    speeds[variant[0]].append(measure(backend, data, kind, variant, args.epochs))
            ratios = [a / b for a, b in zip(speeds[library[0]], speeds[other[0]])]
            lib, oth = statistics.median(speeds[library[0]]), statistics.median(speeds[other[0]])
            rows.append(f"| {name} | {lever} | {kind} | {library[0]} | {lib:,.0f} | {other[0]} | {oth:,.0f} "
                        f"| {', '.join(f'{r:.2f}x' for r in ratios)} | {verdict(ratios)} |")
            print(rows[-1], file=sys.stderr, flush=True)
    load = f"1-minute load {load_before:.2f} before and {os.getloadavg()[0]:.2f} after, {os.cpu_count()} cores"
    stamp = (f"<!-- generated by scripts/levers.py on {time.strftime('%Y-%m-%d')}, {args.epochs} epochs x "
             f"{args.rounds} alternating rounds per variant, threads {threads or 'default'}, {load}; do not edit -->")
    table = "\n".join([stamp, *rows]) + "\n"
    print(table)
    if args.out:
        args.out.write_text(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
