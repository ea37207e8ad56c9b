"""MkDocs hooks for the course pages: framework tabs from the backend registry, formulas as MathML.

* A line ``<!-- framework tabs: docs/examples/chapter_{framework}.py:setup -->`` becomes one content
  tab per registered framework (``d2lrnn.backends.NAMES``, labelled with ``LABELS``) whose example
  file exists, each including that section of the file. A new framework's tab is therefore its
  example file, nothing else.
* Formulas that ``pymdownx.arithmatex`` marks (``\\(...\\)`` and ``\\[...\\]``) are converted to
  MathML while the site is built (``latex2mathml``): browsers typeset MathML themselves, so
  viewing a page needs no script and no network.
"""

from __future__ import annotations

import html
import re
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))  # d2lrnn from the source tree when it is not installed

from d2lrnn.backends import LABELS, NAMES  # noqa: E402  (the registry imports no framework)

TABS = re.compile(r"^<!-- framework tabs: (?P<path>[\w./{}-]+)(?::(?P<section>[\w-]+))? -->[ \t]*$", re.M)
#: latex2mathml writes ``\sim`` as a tilde; ``\thicksim`` is the relation symbol the TeX means
SYMBOLS = {re.compile(r"\\sim(?![A-Za-z])"): r"\\thicksim"}
MATH = re.compile(r'<(?P<tag>span|div) class="arithmatex">\s*\\(?P<open>[(\[])(?P<tex>.*?)\\[)\]]\s*</(?P=tag)>', re.S)


def framework_tabs(markdown: str) -> str:
    """Expand every framework-tabs line of ``markdown`` into tab blocks (see the module docstring)."""

    def tabs(match: re.Match[str]) -> str:
        section = f":{match['section']}" if match["section"] else ""
        blocks = []
        for name in NAMES:
            path = match["path"].format(framework=name)
            if (ROOT / path).is_file():
                blocks.append(f'=== "{LABELS[name]}"\n\n    ```python\n    --8<-- "{path}{section}"\n    ```\n')
        if not blocks:
            raise ValueError(f"no example file matches {match['path']!r} for any of {', '.join(NAMES)}")
        return "\n".join(blocks)

    return TABS.sub(tabs, markdown)


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


def on_page_markdown(markdown: str, **_: Any) -> str:
    return framework_tabs(markdown)


def on_page_content(content: str, **_: Any) -> str:
    return mathml(content)
