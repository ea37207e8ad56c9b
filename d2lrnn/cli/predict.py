"""``d2lrnn predict``: continue a prefix with a saved model, on any backend."""

from __future__ import annotations

import argparse
from typing import Any

from .. import checkpoint, checks
from ..backends import check_installed, get_backend
from ..predict import prepare_prefix
from ..vocab import Vocab
from .common import add_common, checked, note, positive_int, select_device


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """The ``predict`` subcommand."""
    predict = subparsers.add_parser(
        "predict", help="continue a prefix with a saved model, on any backend"
    )
    add_common(predict)
    predict.add_argument("--checkpoint", required=True, metavar="FILE")
    predict.add_argument(
        "--prefix",
        default="time traveller",
        help="the text to continue, as you would type it (it is preprocessed like the corpus)",
    )
    predict.add_argument("--num-preds", type=positive_int("--num-preds"), default=50)
    predict.add_argument(
        "--temperature",
        type=checked(checks.temperature, "--temperature"),
        default=None,
        help="sample with this temperature, above 0 (default: greedy, the most likely token)",
    )
    predict.add_argument("--seed", type=checked(checks.seed, "--seed"), default=None,
                         help="makes sampling reproducible, 0 to 2**32 - 1")
    predict.set_defaults(run=cmd_predict)

    return predict


def cmd_predict(args: argparse.Namespace) -> dict[str, Any]:

    # read once; a bad file or prefix fails before any framework import
    weights, meta = checkpoint.read(args.checkpoint)
    vocab = Vocab.from_dict(meta["vocab"])
    prefix, changed = prepare_prefix(args.prefix, vocab)
    if changed:
        shown = prefix if isinstance(prefix, str) else " ".join(prefix)
        note(f"note: the prefix {args.prefix!r} became {shown!r}, as the corpus was preprocessed "
             "(lower case, letters only, other characters as one space).")
    backend = get_backend(check_installed(args.backend or meta["backend"]))
    device = select_device(backend, args.device)
    model = checkpoint.build(weights, meta, backend.name, device)
    text = model.predict(
        prefix, args.num_preds, vocab, device, temperature=args.temperature, seed=args.seed
    )
    print(text)
    return {
        "backend": backend.name,
        "trained_on": meta["backend"],
        "cell": meta["cell"],
        "prefix": args.prefix,
        "text": text,
    }
