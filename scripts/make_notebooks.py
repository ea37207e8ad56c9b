"""Generate one Jupyter notebook per framework from docs/examples/chapter_<framework>.py (jupytext).

The scripts use jupytext's percent format (``# %%`` cells); the snippet markers that the pages
use to include parts of them are dropped, and a first code cell that installs d2lrnn is added,
commented out so that the notebook also runs offline. ``--execute`` runs every notebook with
nbclient; ``--quick`` shortens the run the way the test suite does (``scripts/run_example.py``).
The site build (``docs/hooks/course.py``) calls :func:`build_notebook` to ship the notebooks with
the pages, and ``tests/test_notebooks.py`` executes each one through a Jupyter kernel. In a
notebook, ``d2lrnn.Trainer`` draws the perplexity curve live, so an executed notebook holds it as
an image.

    python scripts/make_notebooks.py [--out notebooks] [--execute] [--quick]
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # d2lrnn from the source tree
sys.path.insert(0, str(ROOT / "scripts"))

from run_example import quick_settings, shorten_text  # noqa: E402  (scripts/ beside this file)

from d2lrnn.backends import NAMES, REGISTRY  # noqa: E402

EXAMPLES = ROOT / "docs" / "examples"
FRAMEWORKS = tuple(fw for fw in NAMES if (EXAMPLES / f"chapter_{fw}.py").is_file())
MARKER = re.compile(r"^\s*# --8<-- \[(start|end):[\w-]+\]\s*$")


def install_cell(framework: str) -> str:
    """The source of a commented-out code cell that installs d2lrnn with ``framework``."""
    spec = REGISTRY[framework]
    return (
        f"# Uncomment the next line to install d2lrnn with {spec.label} (needs a network "
        "connection):\n"
        f'# %pip install "d2lrnn[{spec.extra}]"'
    )


def notebook_source(framework: str) -> str:
    """The chapter script of ``framework`` without snippet markers."""
    text = (EXAMPLES / f"chapter_{framework}.py").read_text()
    return "\n".join(line for line in text.splitlines() if not MARKER.match(line)) + "\n"


def build_notebook(framework: str) -> Any:
    """The notebook of ``framework``: the chapter script's cells, the install cell first among the
    code cells.

    The install cell is added to the notebook itself: jupytext would turn a commented magic of the
    script back into a live one.
    """
    import jupytext
    from nbformat.v4 import new_code_cell

    notebook = jupytext.reads(notebook_source(framework), fmt="py:percent")
    first_code = next(i for i, cell in enumerate(notebook.cells) if cell.cell_type == "code")
    notebook.cells.insert(first_code, new_code_cell(install_cell(framework)))
    notebook.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    return notebook


def make_notebook(framework: str, out_dir: Path) -> Path:
    """Write ``out_dir/chapter_<framework>.ipynb``; return its path."""
    import jupytext

    notebook = build_notebook(framework)
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"chapter_{framework}.ipynb"
    jupytext.write(notebook, path, fmt="ipynb")
    return path


def execute(path: Path, timeout: int = 1800, quick: bool = False) -> None:
    """Run every cell of the notebook at ``path`` in a fresh kernel (cwd: the repository root); save
    outputs.

    ``quick`` applies the test suite's smoke-test sizes to the cells (the saved notebook shows
    them).
    """
    import nbformat
    from nbclient import NotebookClient

    notebook = nbformat.read(path, as_version=4)
    if quick:
        settings = quick_settings(path.stem)
        for cell in notebook.cells:
            if cell.cell_type == "code":
                cell.source = shorten_text(cell.source, settings)
    # d2lrnn first, so that MXNet imports through its compatibility hook; the cell is not saved
    notebook.cells.insert(0, nbformat.v4.new_code_cell("import d2lrnn"))
    NotebookClient(
        notebook,
        timeout=timeout,
        kernel_name="python3",
        resources={"metadata": {"path": str(ROOT)}},
    ).execute()
    del notebook.cells[0]
    nbformat.write(notebook, path)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=ROOT / "notebooks")
    parser.add_argument(
        "--execute", action="store_true", help="run the notebooks after writing them"
    )
    parser.add_argument(
        "--quick", action="store_true", help="with --execute: two epochs instead of 500"
    )
    parser.add_argument("--frameworks", nargs="*", default=list(FRAMEWORKS), choices=FRAMEWORKS)
    args = parser.parse_args(argv)
    os.environ["PYTHONPATH"] = os.pathsep.join(
        filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])
    )
    for framework in args.frameworks:
        path = make_notebook(framework, args.out)
        print(f"wrote {path}")
        if args.execute:
            execute(path, quick=args.quick)
            print(f"executed {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
