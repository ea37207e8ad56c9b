"""Run the book's code cells as a reader types them, with only the import line swapped and epochs
cut.

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
for i, source in enumerate(json.load(open(sys.argv[1], encoding="utf-8")), start=1):
    name = f"<cell {i}>"
    linecache.cache[name] = (len(source), None, source.splitlines(True), name)  # source for tf.function, as IPython
    tree = ast.parse(source)
    last = tree.body.pop() if tree.body and isinstance(tree.body[-1], ast.Expr) else None
    try:
        exec(compile(tree, name, "exec"), ns)
        if last is not None:  # Jupyter shows the value of a cell's last expression
            value = eval(compile(ast.Expression(last.value), name, "eval"), ns)
            if value is not None:
                print(repr(value), flush=True)
    except BaseException as exc:
        kind = type(exc).__module__ + "." + type(exc).__qualname__
        print(json.dumps({"cell": i, "type": kind.removeprefix("builtins."), "message": str(exc)}),
              file=open(sys.argv[2], "w", encoding="utf-8"))
        raise
"""  # noqa: E501


class Shrink(ast.NodeTransformer):
    """Set ``num_epochs``/``max_epochs``/``pred_period`` to ``epochs``, in assignments and keywords.
    """

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
    return any(
        isinstance(n, ast.Name) and n.id in EPOCH_SETTINGS
        for t in node.targets
        for n in ast.walk(t)
    )


def shrink_epochs(cell: str, epochs: int) -> str:
    """``cell`` with its epoch settings set to ``epochs``; a cell without any is returned as
    written."""
    tree = ast.parse(cell)
    if not any(
        isinstance(n, (ast.Assign, ast.keyword)) and _mentions_setting(n) for n in ast.walk(tree)
    ):
        return cell
    return ast.unparse(ast.fix_missing_locations(Shrink(epochs).visit(tree)))


def swap_import(cell: str, generation: str) -> str:
    """``from d2l import X as d2l`` -> the generation's d2lrnn namespace."""
    namespace = NAMESPACES[generation]
    package = f"d2lrnn.{namespace}" if namespace else "d2lrnn"
    return _D2L_IMPORT.sub(rf"from {package} import \1 as d2l", cell)


@dataclass(frozen=True)
class KnownIssue:
    """Where the book's own code fails: ``# known-issue: WHEN: WHY`` and, below it,
    ``# raises: EXCEPTION in cell N: FRAGMENT`` and ``# seen: VERSIONS``.

    ``when`` is a requirement (``flax>=0.7``, ``numpy>=2.4``) under which the book's code fails, or
    ``epochs<2`` (a perplexity that need not fall in one epoch: no exception). ``exception`` is the
    exception's name (``TypeError``), ``cell`` the 1-based number of the cell that raises it,
    ``fragment``
    a piece of its message, ``seen`` the installed versions where that exact failure was observed.
    """

    when: str
    why: str
    exception: str = ""
    cell: int = 0
    fragment: str = ""
    seen: str = ""

    @property
    def raises(self) -> bool:
        return bool(self.exception)


@dataclass
class CellFile:
    """One section's cells on one tab of one generation, and what their output must contain."""

    path: Path
    generation: str
    section: str
    tab: str
    cells: list[str] = field(default_factory=list)
    #: ``cell_expect[i]``: the ``# expect: REGEX`` lines written in cell ``i + 1``
    cell_expect: list[list[str]] = field(default_factory=list)
    known_issues: list[KnownIssue] = field(default_factory=list)
    #: ``# stand-in: WHAT`` lines: where the book has no working code for this tab, d2lrnn's own
    #: runs instead
    stand_ins: list[str] = field(default_factory=list)
    #: ``# book-skips: WHAT`` lines: what the book's own cells leave out on this tab (so nothing
    #: runs there)
    book_skips: list[str] = field(default_factory=list)
    #: ``# judge-after: N epochs: WHY``: the fewest epochs over which this section's perplexity
    #: falls reliably; a shorter run is lengthened to ``N`` (0: any length)
    min_epochs: int = 0

    def epochs_run(self, epochs: int) -> int:
        """How many epochs a run asked for ``epochs`` trains: at least :attr:`min_epochs`."""
        return max(epochs, self.min_epochs)

    @property
    def expect(self) -> list[str]:
        return [e for cell in self.cell_expect for e in cell]

    def prepared(self, epochs: int) -> list[str]:
        return [shrink_epochs(swap_import(c, self.generation), epochs) for c in self.cells]

    def failure_here(self) -> KnownIssue | None:
        """The known issue whose exception the book's code raises with the installed packages, if
        any."""
        return next(
            (k for k in self.known_issues if k.raises and known_issue_applies(k.when)), None
        )


_HEADER = re.compile(
    r"^# (known-issue|raises|seen|stand-in|book-skips|judge-after): (.*)$", re.M
)
_JUDGE_AFTER = re.compile(r"^(\d+) epochs: .+$")
_RAISES = re.compile(r"^([\w.]+) in cell (\d+): (.+)$")


def _known_issues(text: str, path: Path) -> list[KnownIssue]:
    issues: list[dict] = []
    for key, value in _HEADER.findall(text):
        if key == "known-issue":
            when, _, why = value.partition(": ")
            issues.append({"when": when.strip(), "why": why.strip()})
        elif key == "raises":
            match = _RAISES.match(value.strip())
            if not match or not issues:
                raise ValueError(
                    f"{path}: '# raises: {value}' must read 'EXCEPTION in cell N: FRAGMENT' below "
                    "a known issue"
                )
            issues[-1].update(exception=match[1], cell=int(match[2]), fragment=match[3])
        elif key == "seen" and issues:
            issues[-1]["seen"] = value.strip()
    return [KnownIssue(**issue) for issue in issues]


def read_cell_file(path: Path) -> CellFile:
    """Parse ``<generation>/<section>/<tab>.py``: ``# %%`` cells, their ``# expect:`` lines and the
    header."""
    text = path.read_text(encoding="utf-8")
    chunks = re.split(r"^# %%.*$", text, flags=re.M)
    header = chunks[0]
    cells = []
    expect = []
    for chunk in chunks[1:]:
        body = re.sub(r"^# expect: .*$\n?", "", chunk, flags=re.M).strip("\n")
        if body.strip():
            cells.append(body)
            expect.append([m.strip() for m in re.findall(r"^# expect: (.*)$", chunk, re.M)])
    notes = _HEADER.findall(header)
    judge_after = [_JUDGE_AFTER.match(v.strip()) for k, v in notes if k == "judge-after"]
    if not all(judge_after):
        raise ValueError(f"{path}: '# judge-after:' must read 'N epochs: WHY'")
    return CellFile(path, path.parent.parent.name, path.parent.name, path.stem, cells, expect,
                    _known_issues(header, path), [v.strip() for k, v in notes if k == "stand-in"],
                    [v.strip() for k, v in notes if k == "book-skips"],
                    max((int(m[1]) for m in judge_after if m), default=0))


def cell_files(root: Path) -> list[CellFile]:
    """Every cell file under ``root`` (``<generation>/<section>/<tab>.py``), sorted."""
    return [read_cell_file(p) for p in sorted(root.glob("*/*/*.py"))]


@dataclass
class Failure:
    """The exception a cell raised: its 1-based number, the exception's name and message."""

    cell: int
    exception: str
    message: str


@dataclass
class Outcome:
    returncode: int
    output: str
    errors: str
    missing: list[str]
    failure: Failure | None = None

    @property
    def ok(self) -> bool:
        return self.returncode == 0 and not self.missing


def run_cells_traced(cells: list[str], repo: Path, timeout: float = 600,
                     env: dict[str, str] | None = None) -> tuple[int, str, str, Failure | None]:
    """Run ``cells`` in a new interpreter with ``repo`` first on the path.

    Returns (status, stdout, stderr, the failure: which cell raised what, or None)."""
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "cells.json").write_text(json.dumps(cells), encoding="utf-8")
        (Path(tmp) / "runner.py").write_text(RUNNER, encoding="utf-8")
        full_env = {
            **os.environ,
            "PYTHONPATH": os.pathsep.join([str(repo), os.environ.get("PYTHONPATH", "")]),
            "MPLBACKEND": "Agg",
            "TF_CPP_MIN_LOG_LEVEL": "2",
            **(env or {}),
        }
        full_env.pop("TF_USE_LEGACY_KERAS", None)  # the tab module chooses Keras 2 itself
        try:
            proc = subprocess.run(
                [sys.executable, "runner.py", "cells.json", "failure.json"],
                cwd=tmp,
                env=full_env,
                capture_output=True,
                text=True,
                timeout=timeout,
            )
        except subprocess.TimeoutExpired as exc:
            return 124, str(exc.stdout or ""), f"timed out after {timeout} s", None
        record = Path(tmp) / "failure.json"
        failure = None
        if record.is_file() and record.read_text(encoding="utf-8").strip():
            data = json.loads(record.read_text(encoding="utf-8"))
            failure = Failure(data["cell"], data["type"], data["message"])
    return proc.returncode, proc.stdout, proc.stderr, failure


def run_cells(
    cells: list[str], repo: Path, timeout: float = 600, env: dict[str, str] | None = None
) -> tuple[int, str, str]:
    """Run ``cells`` in a new interpreter with ``repo`` first on the path; return (status, stdout,
    stderr)."""
    return run_cells_traced(cells, repo, timeout, env)[:3]


def _output_lines(output: str) -> list[str]:
    # an untrained model may emit <unk>
    return [line.replace("<unk>", "?") for line in output.splitlines()]


def run_cell_file(cell_file: CellFile, repo: Path, epochs: int, timeout: float = 600) -> Outcome:
    """Run a cell file and check its ``# expect:`` lines against the output.

    Where a known issue applies (:meth:`CellFile.failure_here`), only the cells before the one that
    raises must print their expected lines. The cells train for
    :meth:`CellFile.epochs_run` epochs."""
    code, out, err, failure = run_cells_traced(
        cell_file.prepared(cell_file.epochs_run(epochs)), repo, timeout
    )
    issue = cell_file.failure_here()
    expect = (
        [e for cell in cell_file.cell_expect[: issue.cell - 1] for e in cell]
        if issue
        else cell_file.expect
    )
    lines = _output_lines(out)
    missing = [e for e in expect if not any(re.search(e, line) for line in lines)]
    return Outcome(code, out, err, missing, failure)


def perplexities(output: str) -> list[list[float]]:
    """The perplexities of every ``PPL p1 p2 ...`` line a probe printed."""
    return [[float(v) for v in m[1].split()] for m in re.finditer(r"^PPL (.*)$", output, re.M)]


def falling(values: list[float]) -> bool:
    """Whether the last value is below the first (a perplexity that falls)."""
    return len(values) >= 2 and values[-1] < values[0]


def problems(cell_file: CellFile, outcome: Outcome, tolerate_flat: bool = False) -> list[str]:
    """Everything wrong with a run of ``cell_file``; empty when it did exactly what is expected
    here.

    Without a known issue that applies, every cell must run, print its expected lines, and every
    perplexity a probe printed must fall. With one, the run must fail exactly as recorded (the
    exception's name, the cell, the message fragment), and every cell before that one must have run
    and printed its expected lines, its perplexities falling. ``tolerate_flat``: an ``epochs<2``
    known issue excuses perplexities that did not fall."""
    found: list[str] = []
    issue = cell_file.failure_here()
    failure = outcome.failure
    if issue is None:
        if outcome.returncode != 0:
            where = (
                f" in cell {failure.cell}: {failure.exception}: {failure.message[:300]}"
                if failure
                else ""
            )
            found.append(
                f"the cells failed (exit {outcome.returncode}){where}\n{outcome.errors[-3000:]}"
            )
    elif failure is None:
        found.append(
            f"expected {issue.exception} in cell {issue.cell} ({issue.when}), but no cell raised "
            f"(exit {outcome.returncode})\n{outcome.errors[-2000:]}"
        )
    else:
        if (failure.cell, failure.exception) != (
            issue.cell,
            issue.exception,
        ) or issue.fragment not in failure.message:
            found.append(
                f"expected {issue.exception} in cell {issue.cell} with '{issue.fragment}' "
                f"({issue.when}), got "
                f"{failure.exception} in cell {failure.cell}: "
                f"{failure.message[:300]}\n{outcome.errors[-3000:]}"
            )
    if outcome.missing:
        found.append(f"output lacks {outcome.missing}:\n{outcome.output[-3000:]}")
    flat_ok = tolerate_flat and any(k.when == "epochs<2" for k in cell_file.known_issues)
    for run in perplexities(outcome.output):
        if not falling(run) and not flat_ok:
            found.append(f"the perplexity did not fall: {run}")
    return found


def known_issue_applies(when: str) -> bool:
    """Whether a known issue's ``WHEN`` holds here: ``WHEN`` is a requirement (``flax>=0.7``,
    ``numpy>=2.4,<3``) that the installed package meets. Other conditions (``epochs<2``) are the
    tests' to judge: False."""
    import importlib.metadata

    from packaging.requirements import InvalidRequirement, Requirement

    try:
        requirement = Requirement(when)
    except InvalidRequirement:
        return False
    if not requirement.specifier:
        return False
    try:
        version = importlib.metadata.version(requirement.name)
    except importlib.metadata.PackageNotFoundError:
        return False
    return requirement.specifier.contains(version, prereleases=True)
