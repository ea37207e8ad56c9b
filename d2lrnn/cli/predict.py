"""``d2lrnn predict``: continue a prefix with a saved model, on any backend."""

from __future__ import annotations

import argparse
from typing import Any

from .. import checks
from ..backends import check_installed
from .common import add_common, checked, positive_int, select_device


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """The ``predict`` subcommand."""
    predict = subparsers.add_parser("predict", help="continue a prefix with a saved model, on any backend")
    add_common(predict)
    predict.add_argument("--checkpoint", required=True, metavar="FILE")
    predict.add_argument("--prefix", default="time traveller")
    predict.add_argument("--num-preds", type=positive_int("--num-preds"), default=50)
    predict.add_argument("--temperature", type=checked(checks.temperature, "--temperature"), default=None,
                         help="sample with this temperature, above 0 (default: greedy, the most likely token)")
    predict.add_argument("--seed", type=checked(checks.non_negative_int, "--seed"), default=None,
                         help="makes sampling reproducible")
    predict.set_defaults(run=cmd_predict)

    return predict


def cmd_predict(args: argparse.Namespace) -> dict[str, Any]:
    from ..backends import get_backend
    from ..checkpoint import load, read
    from ..predict import check_prefix
    from ..vocab import Vocab

    _, meta = read(args.checkpoint)  # a bad file or prefix fails before any framework import
    vocab = Vocab.from_dict(meta["vocab"])
    prefix = args.prefix if vocab.char_level else args.prefix.split()
    check_prefix(prefix, vocab)
    name = check_installed(args.backend or meta["backend"])
    backend = get_backend(name)
    device = select_device(backend, args.device)
    model, vocab, meta = load(args.checkpoint, name, device)
    text = model.predict(prefix, args.num_preds, vocab, device, temperature=args.temperature, seed=args.seed)
    print(text)
    return {"backend": backend.name, "trained_on": meta["backend"], "prefix": args.prefix, "text": text}


