"""MkDocs hooks for the course pages: framework tabs from the backend registry, formulas as MathML.

* A line ``<!-- framework tabs: docs/examples/chapter_{framework}.py:setup -->`` becomes one content
  tab per registered framework (``d2lrnn.backends.NAMES``, labelled with ``LABELS``) whose example
  file exists, each including that section of the file. A new framework's tab is therefore its
  example file, nothing else.
* A line ``<!-- notebook tabs -->`` becomes one tab per framework with a link to that framework's
  chapter notebook; the notebooks themselves (``notebooks/chapter_<framework>.ipynb``) are written
  into the site from the lessons by ``scripts/make_notebooks.py`` while the site is built.
* A line ``<!-- laptop times -->`` becomes a table of how long the chapter's training takes per
  framework, computed from the published benchmark (``docs/bench/results.json``).
* Formulas that ``pymdownx.arithmatex`` marks (``\\(...\\)`` and ``\\[...\\]``) are converted to
  MathML while the site is built (``latex2mathml``): browsers typeset MathML themselves, so
  viewing a page needs no script and no network.
"""

from __future__ import annotations

import html
import json
import re
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))  # d2lrnn from the source tree when it is not installed

from d2lrnn.backends import LABELS, NAMES  # noqa: E402  (the registry imports no framework)

NOTEBOOK_TABS = re.compile(r"^<!-- notebook tabs -->[ \t]*$", re.M)
LAPTOP_TIMES = re.compile(r"^<!-- laptop times -->[ \t]*$", re.M)
NOTEBOOKS = "notebooks"
#: the chapter's training run: 500 epochs of (at most) the first 10,000 characters (the lessons'
#: settings)
CHAPTER_EPOCHS, CHAPTER_TOKENS = 500, 10_000
TABS = re.compile(
    r"^<!-- framework tabs: (?P<path>[\w./{}-]+)(?::(?P<section>[\w-]+))? -->[ \t]*$", re.M
)
#: latex2mathml writes ``\sim`` as a tilde; ``\thicksim`` is the relation symbol the TeX means
SYMBOLS = {re.compile(r"\\sim(?![A-Za-z])"): r"\\thicksim"}
MATH = re.compile(
    r'<(?P<tag>span|div) class="arithmatex">\s*\\(?P<open>[(\[])(?P<tex>.*?)\\[)\]]\s*</(?P=tag)>',
    re.S,
)


def framework_tabs(markdown: str) -> str:
    """Expand every framework-tabs line of ``markdown`` into tab blocks (see the module docstring).
    """

    def tabs(match: re.Match[str]) -> str:
        section = f":{match['section']}" if match["section"] else ""
        blocks = []
        for name in NAMES:
            path = match["path"].format(framework=name)
            if (ROOT / path).is_file():
                blocks.append(
                    f'=== "{LABELS[name]}"\n\n    ```python\n    --8<-- "{path}{section}"\n    '
                    '```\n'
                )
        if not blocks:
            raise ValueError(
                f"no example file matches {match['path']!r} for any of {', '.join(NAMES)}"
            )
        return "\n".join(blocks)

    return TABS.sub(tabs, markdown)


def notebook_frameworks() -> list[str]:
    """The registered frameworks that have a chapter lesson, hence a notebook."""
    return [name for name in NAMES if (ROOT / "docs" / "examples" / f"chapter_{name}.py").is_file()]


def notebook_tabs(markdown: str, page_url: str = "") -> str:
    """Expand ``<!-- notebook tabs -->`` into one tab per framework linking to its notebook."""
    prefix = "../" * page_url.count("/")  # the link is relative to the page's own URL

    def tabs(_: re.Match[str]) -> str:
        blocks = []
        for name in notebook_frameworks():
            href = f"{prefix}{NOTEBOOKS}/chapter_{name}.ipynb"
            blocks.append(
                f'=== "{LABELS[name]}"\n\n    <a class="notebook-link" href="{href}" download>'
                f"Download the {LABELS[name]} notebook</a> (<code>chapter_{name}.ipynb</code>): "
                "open it in "
                "Jupyter and run the cells from the top.\n"
            )
        return "\n".join(blocks)

    return NOTEBOOK_TABS.sub(tabs, markdown)


def laptop_times(results: dict[str, Any]) -> str:
    """A Markdown table: per framework, the minutes the chapter's 500 epochs take at the benchmark's
    speed.

    The speed is the concise model's tokens/s at the seed settings with the machine quiet; the
    machine, its load and the date come with it, so a reader can judge how far it carries.
    """
    rows = [
        r
        for r in results["rows"]
        if r["model"] == "concise"
        and r["condition"] == "seed"
        and r.get("status") == "ok"
        and r.get("tokens_per_sec")
    ]
    speed = {r["backend"]: r["tokens_per_sec"] for r in rows}
    # the tokens one epoch trains on (whole minibatches of the 10,000 characters), as the benchmark
    # counted them
    epoch_tokens = {
        r["backend"]: next(
            (e["tokens"] for run in r.get("runs", []) for e in run.get("epochs", [])),
            CHAPTER_TOKENS,
        )
        for r in rows
    }
    if not speed:
        return "The benchmark has no measured speed yet (`d2lrnn bench --publish docs/`)."
    m, c = results["machine"], results["config"]
    rows = ["| framework | tokens/s | 1 epoch | 500 epochs |", "|---|---:|---:|---:|"]
    for name in (n for n in NAMES if n in speed):
        seconds = epoch_tokens[name] / speed[name]
        rows.append(
            f"| {LABELS[name]} | {speed[name] / 1000:,.0f}k | {seconds:.2f} s | "
            f"{_duration(seconds * CHAPTER_EPOCHS)} |"
        )
    load = m.get("load_average_before") or ["?"]
    rows += [
        "",
        f"Measured by the project's benchmark on {m['date'][:10]} ({m['cpu']}, {m['usable_cores']} "
        "cores, "
        f"1-minute load {load[0]} before the run) with the book's model: {c['num_hiddens']} hidden "
        "units, "
        f"batch {c['batch_size']}, {c['num_steps']} steps, which is what `d2lrnn train` runs. The "
        "times count "
        "training only: starting the framework and checking the validation text after each epoch "
        "add a few "
        "seconds to a minute, and a busy laptop or one on battery is slower. See the "
        "[benchmark results](results.md).",
    ]
    return "\n".join(rows)


def _duration(seconds: float) -> str:
    """``40 s`` under two minutes, ``7 min`` above (rounded)."""
    return f"{seconds:.0f} s" if seconds < 120 else f"{seconds / 60:.0f} min"


def laptop_times_markdown(markdown: str) -> str:
    """Expand ``<!-- laptop times -->`` from ``docs/bench/results.json``."""
    if not LAPTOP_TIMES.search(markdown):
        return markdown
    results = json.loads((ROOT / "docs" / "bench" / "results.json").read_text())
    return LAPTOP_TIMES.sub(lambda _: laptop_times(results), markdown)


def notebook_files(config: Any) -> list[Any]:
    """The chapter notebooks as files of the site, one per framework, made from the lessons now."""
    import nbformat
    from mkdocs.structure.files import File

    sys.path.insert(0, str(ROOT / "scripts"))
    try:
        import make_notebooks
    finally:
        sys.path.remove(str(ROOT / "scripts"))
    return [File.generated(config, f"{NOTEBOOKS}/chapter_{name}.ipynb",
                           content=nbformat.writes(make_notebooks.build_notebook(name)))
            for name in notebook_frameworks()]


def mathml(page_html: str) -> str:
    """Replace arithmatex's TeX spans and divs in ``page_html`` by MathML."""
    from latex2mathml.converter import convert

    def render(match: re.Match[str]) -> str:
        display = "block" if match["open"] == "[" else "inline"
        tex = html.unescape(match["tex"]).strip()
        for pattern, replacement in SYMBOLS.items():
            tex = pattern.sub(replacement, tex)
        return convert(tex, display=display)

    return MATH.sub(render, page_html)


def on_files(files: Any, config: Any, **_: Any) -> Any:
    for file in notebook_files(config):
        files.append(file)
    return files


def on_page_markdown(markdown: str, page: Any = None, **_: Any) -> str:
    url = page.url if page is not None else ""
    return laptop_times_markdown(notebook_tabs(framework_tabs(markdown), url))


def on_page_content(content: str, **_: Any) -> str:
    return mathml(content)
