"""Run a lesson script from docs/examples/ as a student would, its length chosen from outside.

The lessons hold only the book's code. This harness shortens them without touching them: it parses
the script, replaces the values of named top-level assignments (``EPOCHS = 500`` becomes
``EPOCHS = 2``), and executes the result. With ``--record`` it also writes what the figure script
needs as JSON: every plain top-level value of the script (numbers, strings, lists, dicts, NumPy
arrays) and the history and summary of every ``d2lrnn.Trainer`` that ran.

    python scripts/run_example.py docs/examples/chapter_torch.py --quick
    python scripts/run_example.py docs/examples/ex1_overfitting.py --set EPOCHS=40 --record out.json

``d2lrnn`` is imported before the lesson, so MXNet loads through the library's compatibility hook.
"""

from __future__ import annotations

import argparse
import ast
import fnmatch
import json
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "docs" / "examples"

#: the smoke-test sizes: example-name pattern -> {assigned name: value}; the test suite runs these
QUICK: dict[str, dict[str, Any]] = {
    "chapter_*": {"EPOCHS": 2},
    "cells_*": {"EPOCHS": 1, "NUM_HIDDENS": 16},
    "ex1_overfitting": {"EPOCHS": 2, "CLIP_EPOCHS": 2, "HIDDEN_SIZES": (8, 16), "CLIP_HIDDENS": 32},
    "ex2_layers": {"EPOCHS": 1, "NUM_HIDDENS": 16},
    "ex3_autoregression_*": {"EPOCHS": 1},
    "ex4_compression": {"EPOCHS": 2, "HELD_OUT": 300, "NUM_HIDDENS": 32},
    "ex5_speed": {"EPOCHS": 1, "NUM_TRAIN": 2000},
}


class ExampleError(Exception):
    """An override names an assignment the lesson does not have."""


def quick_settings(name: str) -> dict[str, Any]:
    """The smoke-test overrides for the example called ``name`` (file stem)."""
    return {
        k: v
        for pattern, values in QUICK.items()
        if fnmatch.fnmatch(name, pattern)
        for k, v in values.items()
    }


def _literal(value: Any, like: ast.AST) -> ast.expr:
    return ast.copy_location(ast.parse(repr(value), mode="eval").body, like)


def _override(node: ast.stmt, overrides: Mapping[str, Any]) -> set[str]:
    """Give the names that ``node`` (``A = ...`` or ``A, B = ..., ...``) assigns their new values;
    return them."""
    if not (isinstance(node, ast.Assign) and len(node.targets) == 1):
        return set()
    target, value = node.targets[0], node.value
    if isinstance(target, ast.Name) and target.id in overrides:
        node.value = _literal(overrides[target.id], value)
        return {target.id}
    done = set()
    if (
        isinstance(target, ast.Tuple)
        and isinstance(value, ast.Tuple)
        and len(target.elts) == len(value.elts)
    ):
        for i, name in enumerate(target.elts):
            if isinstance(name, ast.Name) and name.id in overrides:
                value.elts[i] = _literal(overrides[name.id], value.elts[i])
                done.add(name.id)
    return done


def shorten(source: str, overrides: Mapping[str, Any], filename: str = "<lesson>") -> ast.Module:
    """Parse ``source`` and give each top-level assignment to a name in ``overrides`` its new value.
    """
    tree = ast.parse(source, filename)
    missing = set(overrides)
    for node in tree.body:
        missing -= _override(node, overrides)
    if missing:
        raise ExampleError(
            f"{filename} has no top-level assignment to {', '.join(sorted(missing))}; "
            "rename the override or restore the assignment in the lesson"
        )
    return ast.fix_missing_locations(tree)


def shorten_text(source: str, overrides: Mapping[str, Any]) -> str:
    """Like :func:`shorten` for code shown again as text (a notebook cell): only the assignments
    change."""
    lines = source.splitlines(keepends=True)
    for node in reversed(ast.parse(source).body):
        if _override(node, overrides):
            lines[node.lineno - 1:node.end_lineno] = [ast.unparse(node) + "\n"]
    return "".join(lines)


def plain(value: Any) -> Any:
    """``value`` as JSON data, or raise ``TypeError`` when it is not plain data."""
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value)  # json writes NaN and Infinity as JavaScript does, and reads them back
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if type(value).__module__ == "numpy":  # arrays and scalars, without importing NumPy here
        return plain(value.tolist())
    raise TypeError(type(value).__name__)


def _record_trainers(trainers: list[Any]) -> Callable[[], None]:
    """Patch ``d2lrnn.Trainer.fit`` so that every trainer that runs lands in ``trainers``; return
    the undo."""
    import d2lrnn

    original = d2lrnn.Trainer.fit

    def fit(self: Any, *args: Any, **kwargs: Any) -> Any:
        trainers.append(self)
        return original(self, *args, **kwargs)

    d2lrnn.Trainer.fit = fit
    return lambda: setattr(d2lrnn.Trainer, "fit", original)


def run(path: Path, overrides: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Execute the lesson at ``path`` with ``overrides``; return its plain globals and its trainers.
    """
    import d2lrnn  # noqa: F401  (first: MXNet imports through its hook)

    tree = shorten(path.read_text(), overrides or {}, str(path))
    namespace: dict[str, Any] = {"__name__": "__main__", "__file__": str(path)}
    trainers: list[Any] = []
    undo = _record_trainers(trainers)
    try:
        exec(compile(tree, str(path), "exec"), namespace)
    finally:
        undo()
    values = {}
    for name, value in namespace.items():
        if not name.startswith("__"):
            try:
                values[name] = plain(value)
            except TypeError:
                continue
    runs = [
        {
            "summary": plain(t.summary()) if t.history else None,
            "history": [s.to_dict() for s in t.history],
        }
        for t in trainers
    ]
    return {
        "example": path.stem,
        "settings": plain(dict(overrides or {})),
        "globals": values,
        "trainers": runs,
    }


def _setting(text: str) -> tuple[str, Any]:
    name, _, value = text.partition("=")
    if not name.isidentifier() or not value:
        raise argparse.ArgumentTypeError(f"expected NAME=VALUE, got {text!r}")
    return name, ast.literal_eval(value)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("example", type=Path, help="a script in docs/examples/ (or its name)")
    parser.add_argument("--quick", action="store_true", help="the test suite's smoke-test sizes")
    parser.add_argument(
        "--set",
        dest="settings",
        type=_setting,
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="replace a top-level assignment of the lesson (a Python literal); repeatable",
    )
    parser.add_argument(
        "--record", type=Path, help="write the lesson's plain values and trainers here (JSON)"
    )
    args = parser.parse_args(argv)
    path = args.example if args.example.suffix == ".py" else EXAMPLES / f"{args.example}.py"
    overrides = {**(quick_settings(path.stem) if args.quick else {}), **dict(args.settings)}
    sys.path.insert(0, str(ROOT))  # d2lrnn from the source tree
    try:
        result = run(path, overrides)
    except ExampleError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    if args.record:
        args.record.write_text(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
