"""Generate one Jupyter notebook per framework from docs/examples/chapter_<framework>.py (jupytext).

The scripts use jupytext's percent format (``# %%`` cells); the snippet markers that the pages
use to include parts of them are dropped. ``--execute`` runs every notebook with nbclient.

    python scripts/make_notebooks.py [--out notebooks] [--execute] [--quick]
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # d2lrnn from the source tree

from d2lrnn.backends import NAMES  # noqa: E402

EXAMPLES = ROOT / "docs" / "examples"
FRAMEWORKS = NAMES
MARKER = re.compile(r"^\s*# --8<-- \[(start|end):[\w-]+\]\s*$")


def notebook_source(framework: str) -> str:
    """The chapter script of ``framework`` without snippet markers."""
    text = (EXAMPLES / f"chapter_{framework}.py").read_text()
    return "\n".join(line for line in text.splitlines() if not MARKER.match(line)) + "\n"


def make_notebook(framework: str, out_dir: Path) -> Path:
    """Write ``out_dir/chapter_<framework>.ipynb``; return its path."""
    import jupytext

    notebook = jupytext.reads(notebook_source(framework), fmt="py:percent")
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"chapter_{framework}.ipynb"
    jupytext.write(notebook, path, fmt="ipynb")
    return path


def execute(path: Path, timeout: int = 1800) -> None:
    """Run every cell of the notebook at ``path`` in a fresh kernel (cwd: the repository root); save outputs."""
    import nbformat
    from nbclient import NotebookClient

    notebook = nbformat.read(path, as_version=4)
    NotebookClient(notebook, timeout=timeout, kernel_name="python3", resources={"metadata": {"path": str(ROOT)}}).execute()
    nbformat.write(notebook, path)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=ROOT / "notebooks")
    parser.add_argument("--execute", action="store_true", help="run the notebooks after writing them")
    parser.add_argument("--quick", action="store_true", help="with --execute: two epochs instead of 500")
    parser.add_argument("--frameworks", nargs="*", default=list(FRAMEWORKS), choices=FRAMEWORKS)
    args = parser.parse_args(argv)
    os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
    if args.quick:
        os.environ["D2LRNN_DOCS_QUICK"] = "1"
    for framework in args.frameworks:
        path = make_notebook(framework, args.out)
        print(f"wrote {path}")
        if args.execute:
            execute(path)
            print(f"executed {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
