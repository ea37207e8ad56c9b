"""Library errors name settings, not flags: the library spells them as arguments, the command line
as its options, and no message the library raises names an option of ``d2lrnn``."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

import d2lrnn
from d2lrnn.checkpoint import check_writable
from d2lrnn.cli import build_parser
from d2lrnn.cli.common import message
from d2lrnn.distributed.placement import check_workers
from d2lrnn.errors import D2LRNNError
from d2lrnn.memory import MemoryEstimate, check_fits

from .conftest import ROOT

PACKAGE = Path(d2lrnn.__file__).parent
#: the command lines themselves: the CLI, and the benchmark (its worker, its tools and the pages
#: that give its commands)
COMMAND_LINES = ("cli/", "bench/")


def _options() -> set[str]:
    parser = build_parser()
    found: set[str] = set()
    for action in parser._subparsers._group_actions[0].choices.values():  # noqa: SLF001
        for option in action._actions:  # noqa: SLF001
            found.update(s for s in option.option_strings if s.startswith("--"))
    return found - {"--help"}


def test_a_message_spells_its_settings_for_the_library_and_for_the_command_line() -> None:
    exc = D2LRNNError("Use {device:cpu}, lower {num_hiddens}; {other} stays.",
                      settings=["device", "num_hiddens"])
    assert str(exc) == "Use device='cpu', lower num_hiddens; {other} stays."
    assert message(exc) == "Use --device cpu, lower --num-hiddens; {other} stays."
    # a value with braces (a path) passes through untouched
    odd = D2LRNNError("{save:/tmp/{x}.npz} is odd", settings=["save"])
    assert "/tmp/{x}.npz" in str(odd)


def test_library_errors_name_arguments_and_the_cli_names_options(tmp_path: Path) -> None:
    with pytest.raises(D2LRNNError) as workers:
        check_workers(3, 32, "torch")
    assert "batch_size=32" in str(workers.value) and "--" not in str(workers.value)
    assert "--batch-size 32" in message(workers.value)
    with pytest.raises(D2LRNNError) as memory:
        check_fits(MemoryEstimate(10**12, 10**12, 10**12), available=10**9)
    assert "Lower num_hiddens, num_layers, batch_size or num_steps." in str(memory.value)
    cli = message(memory.value)
    assert "Lower --num-hiddens, --num-layers, --batch-size or --num-steps." in cli
    with pytest.raises(D2LRNNError) as folder:
        check_writable(tmp_path, "resume")
    assert str(folder.value).startswith(f"resume={str(tmp_path)!r} is a directory")
    assert message(folder.value).startswith(f"--resume {tmp_path} is a directory")


def test_the_command_line_prints_its_own_option_names(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "d2lrnn", "train", "--backend", "torch", "--plot", str(tmp_path),
         "--epochs", "1"],
        capture_output=True, text=True, cwd=ROOT, timeout=120,
    )
    assert proc.returncode == 2, proc.stderr
    assert f"--plot {tmp_path} is a directory" in proc.stderr


def _strings(tree: ast.AST) -> list[tuple[int, str]]:
    """Every string in a module: messages, docstrings, comments' neighbours in code."""
    return [
        (node.lineno, node.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str)
    ]


def test_no_string_of_the_library_names_a_command_line_option() -> None:
    options = _options()
    assert {"--save", "--workers", "--num-hiddens", "--device"} <= options  # the scan can see them
    named = []
    for path in sorted(PACKAGE.rglob("*.py")):
        relative = path.relative_to(PACKAGE).as_posix()
        if relative.startswith(COMMAND_LINES):
            continue
        for line, text in _strings(ast.parse(path.read_text())):
            for option in options:
                if option in text.replace("{", " ").split() or f"{option} " in text:
                    named.append(f"{relative}:{line}: {option}")
    assert not named, named
