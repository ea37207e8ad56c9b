"""Where a batch's time goes, measured stage by stage on every backend (the 200k target's account).

    python scripts/batch_split.py [--rounds 3] [--epochs 6] [--model concise] [--hiddens 256]
                                  [--backends jax] [--out docs/generated/batch_split.md]

Each backend trains its model at the seed settings (batch 32, 35 steps, 10,000 characters) in
fresh processes, one per backend and round, the backends taking turns. Inside a process the same
model runs four steps through the library's own Trainer loop, an epoch of each in turn:

- ``loop``: the step does nothing; what is left is the loop (batches to tensors, the state's detach,
  Python);
- ``forward``: the backend's ``loss`` (forward pass and cross-entropy, no gradients), compiled as
  the training step is;
- ``gradients``: ``loss_and_grads`` and the gradients' global norm (the norm keeps a graph compiler
  from dropping gradients nobody reads);
- ``step``: the Trainer's own step (the above, clipping's rescale and the SGD update).

Each stage's milliseconds per batch are the median over its epochs after the first; the
differences between consecutive stages are the forward pass, the backward pass, and the update.
Beside them stand the products the same parts need at the machine's limit (``d2lrnn.bench.
roofline``, measured in this run), so each part says how much of it is not the products.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import d2lrnn  # noqa: E402
from d2lrnn.backends import spec  # noqa: E402
from d2lrnn.bench import roofline  # noqa: E402
from d2lrnn.bench.report import busy_loads  # noqa: E402
from d2lrnn.metrics import global_norm  # noqa: E402
from d2lrnn.trainer import Trainer, make_train_step  # noqa: E402

STAGES = ("loop", "forward", "gradients", "step")
#: the products of each part of a step (``roofline.products``' names)
FORWARD = ("input gather", "recurrent forward", "output forward")
ONE = "BATCH-SPLIT "


class StageTrainer(Trainer):
    """The library's Trainer whose step is one stage of the training step, made once and kept."""

    def __init__(self, stage: str, **options: Any) -> None:
        super().__init__(**options)
        self.stage, self._step = stage, None

    def _make_step(self, backend: Any, model: Any, lr: float, clip: float) -> Any:
        if self._step is None:
            self._step = stage_step(self.stage, backend, model, lr, clip)
        return self._step


def stage_step(stage: str, backend: Any, model: Any, lr: float, clip: float) -> Any:
    """``step(X, Y, state) -> (loss, state)`` doing the work up to ``stage``."""
    if stage == "step":
        return make_train_step(backend, model, lr, clip)
    if stage == "loop":
        zero = backend.math.sum(backend.tensor(np.zeros(1, "float32")))  # a 0-d tensor
        return lambda X, Y, state: (zero, state)
    params: list[Any] = []

    def forward(X: Any, Y: Any, state: Any) -> Any:
        return backend.loss(model, X, Y, state)

    def gradients(X: Any, Y: Any, state: Any) -> Any:
        if not params:
            params.extend(backend.parameters(model, X))
        loss, grads, state = backend.loss_and_grads(model, params, X, Y, state)
        return loss + 0 * global_norm(grads, backend.math), state

    return backend.compile_step(forward if stage == "forward" else gradients)


def child(args: argparse.Namespace) -> dict[str, Any]:
    """One process: every stage of one backend, ``args.epochs`` epochs each, in turn."""
    from d2lrnn.data import TimeMachine
    from d2lrnn.train_job import build_model_and_trainer, start_backend

    name = args.backends
    engine = start_backend(name, args.threads, 0, log=lambda message: None)
    backend = engine.backend
    data = TimeMachine(32, 35, num_train=10000, num_val=0, data_dir=args.data_dir)
    settings = {"model": args.model, "cell": "rnn", "num_hiddens": args.hiddens, "num_layers": 1,
                "lr": 1.0, "epochs": 1, "clip": 1.0}
    model, _ = build_model_and_trainer(backend, settings, len(data.vocab), backend.cpu())
    trainers = {s: StageTrainer(s, max_epochs=1, gradient_clip_val=1.0, progress=False, plot=False)
                for s in STAGES}
    for _ in range(args.epochs):
        for trainer in trainers.values():
            trainer.fit(model, data, epochs=1)
    batches = len(list(data.train_dataloader()))
    return {s: statistics.median(e.seconds for e in t.history[1:]) / batches * 1000
            for s, t in trainers.items()}


def run_child(args: argparse.Namespace, name: str) -> dict[str, float] | None:
    cmd = [sys.executable, __file__, "--child", "--backends", name, "--epochs", str(args.epochs),
           "--model", args.model, "--hiddens", str(args.hiddens), "--threads", args.threads]
    if args.data_dir:
        cmd += ["--data-dir", args.data_dir]
    done = subprocess.run(cmd, capture_output=True, text=True)
    line = next((x for x in done.stdout.splitlines() if x.startswith(ONE)), None)
    if line is None:
        print(f"{name}: failed\n{done.stderr[-2000:]}", file=sys.stderr)
        return None
    return json.loads(line[len(ONE):])


def parts(ms: dict[str, float]) -> dict[str, float]:
    """The measured parts of a batch from its cumulative stages."""
    return {"loop": ms["loop"], "forward": ms["forward"] - ms["loop"],
            "backward": ms["gradients"] - ms["forward"], "update": ms["step"] - ms["gradients"]}


def not_products(measured: float, products: float) -> str:
    """A part's milliseconds beyond its products at the limit, and their share of the part."""
    if measured <= 0:
        return "n/a"
    return f"{max(0.0, measured - products):.1f} ms ({(measured - products) / measured:.0%})"


def table(
    results: dict[str, list[dict[str, float]]], products: dict[str, float] | None
) -> str:
    head = ("| backend | whole step, ms | loop, ms | forward, ms | backward, ms "
            "| clip + update, ms | forward not products | backward not products | rounds |\n"
            "|---|---:|---:|---:|---:|---:|---:|---:|---:|\n")
    rows = []
    for name, runs in results.items():
        if not runs:
            rows.append(f"| {spec(name).label} | failed | | | | | | | 0 |")
            continue
        med = {k: statistics.median(parts(r)[k] for r in runs) for k in parts(runs[0])}
        whole = statistics.median(r["step"] for r in runs)
        spread = f"{min(r['step'] for r in runs):.1f} to {max(r['step'] for r in runs):.1f}"
        rest = ["", ""]
        if products:
            rest = [not_products(med[k], products[k]) for k in ("forward", "backward")]
        rows.append(f"| {spec(name).label} | {whole:.1f} ({spread}) | {med['loop']:.1f} | "
                    f"{med['forward']:.1f} | {med['backward']:.1f} | {med['update']:.1f} | "
                    f"{rest[0]} | {rest[1]} | {len(runs)} |")
    return head + "\n".join(rows)


def product_ms(args: argparse.Namespace) -> dict[str, float] | None:
    """The forward and backward products of one batch at the machine's limit, in ms."""
    shape = roofline.Shape(32, 35, args.hiddens, 28, "rnn")
    summary = roofline.measure_roofline([shape], args.threads)
    best = summary["shapes"].get(shape.key, {}).get("products")
    if not best:
        return None
    out = {"forward": 0.0, "backward": 0.0}
    for p in roofline.products(shape):
        out["forward" if p.name in FORWARD else "backward"] += best[p.name]["seconds"] * p.calls
    return {k: v * 1000 for k, v in out.items()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--backends", default=",".join(d2lrnn.available_backends()))
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=6, help="epochs of each stage per process")
    parser.add_argument("--model", default="concise", choices=("concise", "scratch"))
    parser.add_argument("--hiddens", type=int, default=256)
    parser.add_argument("--threads", default="auto")
    parser.add_argument("--data-dir", default=os.environ.get("D2LRNN_DATA_DIR"))
    parser.add_argument("--out", type=Path)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(ONE + json.dumps(child(args)), flush=True)
        return 0
    names = args.backends.split(",")
    before = os.getloadavg()
    results: dict[str, list[dict[str, float]]] = {n: [] for n in names}
    for _ in range(args.rounds):
        for name in names:  # the backends take turns
            measured = run_child(args, name)
            if measured:
                results[name].append(measured)
                print(f"{name}: {measured}", file=sys.stderr, flush=True)
    products = product_ms(args)
    after = os.getloadavg()
    cores = len(os.sched_getaffinity(0))
    busy = busy_loads(before, after, cores)
    stamp = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    versions = ", ".join(f"{n} {spec(n).version()}" for n in names)
    limit = (f"At the limit the forward products take {products['forward']:.2f} ms and the "
             f"backward ones {products['backward']:.2f} ms a batch (`d2lrnn.bench.roofline`, "
             "measured in this run)." if products else "The limit's products were not measured.")
    text = (
        f"<!-- generated by scripts/batch_split.py on {stamp}; do not edit -->\n"
        f"{args.model} model, {args.hiddens} hidden units, batch 32, 35 steps, 10,000 characters; "
        f"{args.epochs} epochs of each stage in {args.rounds} fresh processes per backend (the "
        f"first epoch of each stage left out); threads {args.threads}; {versions}; "
        f"{cores} usable cores; "
        f"load averages (1, 5 minutes) {before[0]:.2f}, {before[1]:.2f} before and {after[0]:.2f}, "
        f"{after[1]:.2f} after."
        + (f" **Caution:** the machine was busy ({busy}); these times are not reliable."
           if busy else "")
        + f" {limit}\n\n" + table(results, products) + "\n"
    )
    print(text)
    if args.out:
        args.out.write_text(text)
        history = args.out.with_name(f"{args.out.stem}_history{args.out.suffix}")
        with history.open("a") as handle:
            handle.write("\n" + text)
        raw = args.out.with_suffix(".jsonl")
        with raw.open("a") as handle:
            record = {"date": stamp, "model": args.model, "hiddens": args.hiddens,
                      "load": [before, after], "products_ms": products, "stages_ms": results}
            handle.write(json.dumps(record) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
