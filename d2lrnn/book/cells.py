"""Run the book's code cells as a reader types them, with only the import line swapped and epochs cut.

A cell file (``tests/book_cells/<generation>/<section>/<tab>.py``) holds a section's cells in
jupytext's percent format (``# %%`` starts a cell) and ``# expect: REGEX`` lines, each a line the
output must contain. :func:`run_cells` runs the cells in a fresh interpreter (one framework per
process: MXNet after TensorFlow crashes) and, as Jupyter does, prints each cell's last expression.
"""

from __future__ import annotations

import ast
import json
import os
import re
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

#: the settings that say how long training runs; :func:`prepare` sets them to the epochs asked for
EPOCH_SETTINGS = ("num_epochs", "max_epochs", "pred_period")
#: the import namespace of each generation (``d2lrnn.<ns>``; "" is the default namespace)
NAMESPACES = {"v0": "v0", "v1": "", "draft": "draft", "gluonbook": ""}
_D2L_IMPORT = re.compile(r"^from d2l import (torch|mxnet|tensorflow|jax) as d2l\s*$", re.M)

RUNNER = """
import ast, json, linecache, sys
ns = {"__name__": "__main__"}
for i, source in enumerate(json.load(open(sys.argv[1], encoding="utf-8"))):
    name = f"<cell {i}>"
    linecache.cache[name] = (len(source), None, source.splitlines(True), name)  # source for tf.function, as IPython
    tree = ast.parse(source)
    last = tree.body.pop() if tree.body and isinstance(tree.body[-1], ast.Expr) else None
    exec(compile(tree, name, "exec"), ns)
    if last is not None:  # Jupyter shows the value of a cell's last expression
        value = eval(compile(ast.Expression(last.value), name, "eval"), ns)
        if value is not None:
            print(repr(value), flush=True)
"""


class Shrink(ast.NodeTransformer):
    """Set ``num_epochs``/``max_epochs``/``pred_period`` to ``epochs``, in assignments and keywords."""

    def __init__(self, epochs: int) -> None:
        self.epochs = epochs

    def visit_Assign(self, node: ast.Assign) -> ast.Assign:
        self.generic_visit(node)
        for target in node.targets:
            if isinstance(target, ast.Name) and target.id in EPOCH_SETTINGS:
                node.value = ast.Constant(self.epochs)
            elif isinstance(target, ast.Tuple) and isinstance(node.value, ast.Tuple):
                for i, elt in enumerate(target.elts):
                    if isinstance(elt, ast.Name) and elt.id in EPOCH_SETTINGS:
                        node.value.elts[i] = ast.Constant(self.epochs)
        return node

    def visit_keyword(self, node: ast.keyword) -> ast.keyword:
        if node.arg in EPOCH_SETTINGS:
            node.value = ast.Constant(self.epochs)
        return node


def _mentions_setting(node: ast.AST) -> bool:
    if isinstance(node, ast.keyword):
        return node.arg in EPOCH_SETTINGS
    return any(isinstance(n, ast.Name) and n.id in EPOCH_SETTINGS for t in node.targets for n in ast.walk(t))


def shrink_epochs(cell: str, epochs: int) -> str:
    """``cell`` with its epoch settings set to ``epochs``; a cell without any is returned as written."""
    tree = ast.parse(cell)
    if not any(isinstance(n, (ast.Assign, ast.keyword)) and _mentions_setting(n) for n in ast.walk(tree)):
        return cell
    return ast.unparse(ast.fix_missing_locations(Shrink(epochs).visit(tree)))


def swap_import(cell: str, generation: str) -> str:
    """``from d2l import X as d2l`` -> the generation's d2lrnn namespace."""
    namespace = NAMESPACES[generation]
    package = f"d2lrnn.{namespace}" if namespace else "d2lrnn"
    return _D2L_IMPORT.sub(rf"from {package} import \1 as d2l", cell)


@dataclass
class CellFile:
    """One section's cells on one tab of one generation, and what their output must contain."""

    path: Path
    generation: str
    section: str
    tab: str
    cells: list[str] = field(default_factory=list)
    expect: list[str] = field(default_factory=list)
    #: ``# known-issue: WHEN: WHY`` lines (``WHEN`` is ``numpy>=2``): the book's code itself fails there
    known_issues: dict[str, str] = field(default_factory=dict)

    def prepared(self, epochs: int) -> list[str]:
        return [shrink_epochs(swap_import(c, self.generation), epochs) for c in self.cells]


def read_cell_file(path: Path) -> CellFile:
    """Parse ``<generation>/<section>/<tab>.py``: ``# %%`` cells and ``# expect:`` lines."""
    text = path.read_text(encoding="utf-8")
    expect = [m[1].strip() for m in re.finditer(r"^# expect: (.*)$", text, re.M)]
    issues = {m[1].strip(): m[2].strip() for m in re.finditer(r"^# known-issue: ([^:]+): (.*)$", text, re.M)}
    body = re.sub(r"^# (expect|known-issue): .*$\n?", "", text, flags=re.M)
    cells = [c.strip("\n") for c in re.split(r"^# %%.*$", body, flags=re.M)[1:]]
    return CellFile(path, path.parent.parent.name, path.parent.name, path.stem, [c for c in cells if c.strip()], expect,
                    issues)


def cell_files(root: Path) -> list[CellFile]:
    """Every cell file under ``root`` (``<generation>/<section>/<tab>.py``), sorted."""
    return [read_cell_file(p) for p in sorted(root.glob("*/*/*.py"))]


@dataclass
class Outcome:
    returncode: int
    output: str
    errors: str
    missing: list[str]

    @property
    def ok(self) -> bool:
        return self.returncode == 0 and not self.missing


def run_cells(cells: list[str], repo: Path, timeout: float = 600, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    """Run ``cells`` in a new interpreter with ``repo`` first on the path; return (status, stdout, stderr)."""
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "cells.json").write_text(json.dumps(cells), encoding="utf-8")
        (Path(tmp) / "runner.py").write_text(RUNNER, encoding="utf-8")
        full_env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(repo), os.environ.get("PYTHONPATH", "")]),
                    "MPLBACKEND": "Agg", "TF_CPP_MIN_LOG_LEVEL": "2", **(env or {})}
        full_env.pop("TF_USE_LEGACY_KERAS", None)  # the tab module chooses Keras 2 itself
        try:
            proc = subprocess.run([sys.executable, "runner.py", "cells.json"], cwd=tmp, env=full_env,
                                  capture_output=True, text=True, timeout=timeout)
        except subprocess.TimeoutExpired as exc:
            return 124, str(exc.stdout or ""), f"timed out after {timeout} s"
    return proc.returncode, proc.stdout, proc.stderr


def run_cell_file(cell_file: CellFile, repo: Path, epochs: int, timeout: float = 600) -> Outcome:
    """Run a cell file and check its ``# expect:`` lines against the output."""
    code, out, err = run_cells(cell_file.prepared(epochs), repo, timeout)
    lines = [line.replace("<unk>", "?") for line in out.splitlines()]  # an untrained model may emit <unk>
    missing = [e for e in cell_file.expect if not any(re.search(e, line) for line in lines)]
    return Outcome(code, out, err, missing)


def falling(values: list[float]) -> bool:
    """Whether the last value is below the first (a perplexity that falls)."""
    return len(values) >= 2 and values[-1] < values[0]


def known_issue_applies(when: str) -> bool:
    """Whether a ``# known-issue: WHEN`` holds here: ``WHEN`` is ``package>=version`` (e.g. ``flax>=0.7``)
    and that version is installed. Other conditions (``epochs<2``) are the tests' to judge: False."""
    import importlib.metadata

    from packaging.version import InvalidVersion, Version

    name, sep, version = when.partition(">=")
    if not sep:
        return False
    try:
        return Version(importlib.metadata.version(name.strip())) >= Version(version.strip())
    except (importlib.metadata.PackageNotFoundError, InvalidVersion):
        return False
