"""The course material: every example runs, every code block on a page comes from an example,
the site builds strictly with the notebooks and the generated numbers in it, the figures cover every
framework, and the results page opens with its chart (tests/test_notebooks.py executes the
notebooks).

The lessons in docs/examples/ hold only the book's code; ``scripts/run_example.py`` runs each one
in a subprocess with its smoke-test sizes (``--quick``: the harness rewrites ``EPOCHS = 500`` and
friends, the lesson stays as it is). The default run covers every framework tab of the chapter;
the exercise scripts on every other backend and the slower TensorFlow exercise are ``slow``.
"""

from __future__ import annotations

import fnmatch
import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from d2lrnn.backends import NAMES, REGISTRY

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
EXAMPLES = DOCS / "examples"
HARNESS = ROOT / "scripts" / "run_example.py"
SNIPPET = re.compile(r'^--8<-- "(?P<path>[^":]+)(?::(?P<section>[\w-]+))?"$')
FENCE = re.compile(
    r"^(?P<indent>[ \t]*)```(?P<lang>[\w-]*)[^\n]*\n(?P<body>.*?)^(?P=indent)```[ \t]*$",
    re.M | re.S,
)

SHAPES = r"Y: \(35, 32, 256\) state: \(1, 32, 256\)"
#: what each example must print (regular expressions, searched line by line), by file-name pattern
EXPECT = {
    "chapter_*": [
        r"vocabulary: 28 tokens",
        SHAPES,
        r"^time traveller\w*",
        r"perplexity \d+\.\d \(validation \d+\.\d\)",
        r"tokens/sec on",
    ],
    # time-major (35, 32, 256), or batch-major where the framework's layer is (Keras)
    "cells_*": [
        r"vocabulary: 28 tokens",
        r"GRU  Y: (\(35, 32, 256\)|\(32, 35, 256\)) state: (\(1, 32, 256\)|\(32, 256\))",
        r"LSTM Y: .* h: .* c: ",
        r"weights: GRU 21\d{4} LSTM 29\d{4}",
        r"^rnn: perplexity \d+\.\d\d",
        r"^gru: perplexity",
        r"^lstm: perplexity",
        r"^    time traveller",
    ],
    "ex3_autoregression_*": [
        r"MLP: test MSE 1-step \d\.\d+, 4-step",
        r"RNN: test MSE 1-step .*64-step",
    ],
    "ex1_overfitting": [
        r"8 hidden units: final train",
        r"best validation",
        r"clip  0\.1: train",
        r"clip  off: train",
    ],
    "ex2_layers": [r"1 layer\(s\): perplexity", r"2 layer\(s\)", r"3 layer\(s\): .* s/epoch"],
    "ex4_compression": [
        r"held-out text: 300 characters; perplexity .* bits per character",
        r"round trip exact: True",
        r"gzip -9:",
        r"bz2 -9:",
        r"lzma -9:",
        r"RNN \+ arithmetic coder:",
        r"the model itself: [\d,]+ parameters",
    ],
    "ex5_speed": [r"torch: concise .* tokens/s, scratch .* concise/scratch = \d"],
}
#: one lesson per framework: <prefix>_<framework>.py
PER_FRAMEWORK = ("chapter", "cells", "ex3_autoregression")
NEUTRAL = ("ex1_overfitting", "ex2_layers", "ex4_compression")


def _expected(name: str) -> list[str]:
    return [
        p
        for pattern, patterns in EXPECT.items()
        if fnmatch.fnmatch(name, pattern)
        for p in patterns
    ]


def _installed(framework: str) -> bool:
    return importlib.util.find_spec(REGISTRY[framework].framework) is not None


def _adapter(framework: str) -> bool:
    return (
        _installed(framework) and importlib.util.find_spec(REGISTRY[framework].module) is not None
    )


def run_example(name: str, backend: str | None = None) -> str:
    """Run docs/examples/<name>.py through the harness at smoke-test size; check what it prints."""
    env = {
        "OMP_NUM_THREADS": "1",
        **os.environ,
        "TF_CPP_MIN_LOG_LEVEL": "3",
        "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
    }
    if backend:
        env["D2LRNN_BACKEND"] = backend
    proc = subprocess.run(
        [sys.executable, str(HARNESS), str(EXAMPLES / f"{name}.py"), "--quick"],
        cwd=ROOT,
        env=env,
        text=True,
        capture_output=True,
        timeout=600,
    )
    assert proc.returncode == 0, (
        f"{name} ({backend}) failed:\n{proc.stdout[-2000:]}\n{proc.stderr[-4000:]}"
    )
    for pattern in _expected(name):
        assert re.search(pattern, proc.stdout, re.M), (
            f"{name} ({backend}) did not print {pattern!r}:\n{proc.stdout}"
        )
    return proc.stdout


def _needs(framework: str, adapter: bool = True):
    ok = _adapter(framework) if adapter else _installed(framework)
    return pytest.mark.skipif(not ok, reason=f"{framework} or its d2lrnn adapter is not installed")


def _lessons(prefix: str, adapter: bool, slow: tuple[str, ...] = ()):
    """One case per registered framework; a framework without its lesson file yet is skipped, with
    the reason."""
    cases = []
    for fw in NAMES:
        marks = [_needs(fw, adapter), *([pytest.mark.slow] if fw in slow else [])]
        if not (EXAMPLES / f"{prefix}_{fw}.py").is_file():
            reason = (
                f"no lesson docs/examples/{prefix}_{fw}.py yet (its tab appears once it exists)"
            )
            marks.append(pytest.mark.skip(reason=reason))
        cases.append(pytest.param(fw, marks=marks))
    return cases


# --- the examples ------------------------------------------------------------------------------
@pytest.mark.parametrize("framework", _lessons("chapter", adapter=True))
def test_chapter_example(framework):
    run_example(f"chapter_{framework}")


@pytest.mark.parametrize("framework", _lessons("cells", adapter=True, slow=("jax", "tensorflow")))
def test_cells_example(framework):
    run_example(f"cells_{framework}")


@pytest.mark.parametrize(
    "framework", _lessons("ex3_autoregression", adapter=False, slow=("tensorflow", "jax"))
)
def test_autoregression_example(framework):
    run_example(f"ex3_autoregression_{framework}")


@pytest.mark.parametrize("name", NEUTRAL)
def test_exercise_example_default_backend(name):
    if not _adapter("torch"):
        pytest.skip("the default backend (torch) is not installed")
    run_example(name, "torch")


@pytest.mark.slow
@pytest.mark.parametrize(
    "framework", [pytest.param(fw, marks=_needs(fw)) for fw in NAMES if fw != "torch"]
)
@pytest.mark.parametrize("name", NEUTRAL)
def test_exercise_example_other_backends(name, framework):
    run_example(name, framework)


@pytest.mark.slow
def test_speed_example():
    run_example("ex5_speed")


def test_every_example_is_tested():
    names = {p.stem for p in EXAMPLES.glob("*.py")}
    assert all(_expected(name) for name in names), [n for n in names if not _expected(n)]
    assert all(any(fnmatch.fnmatch(n, pattern) for n in names) for pattern in EXPECT)
    for name in names:
        prefix, _, framework = name.rpartition("_")
        if prefix in PER_FRAMEWORK:
            assert framework in NAMES, f"{name}.py: {framework!r} is not a registered backend"
        else:
            assert name in NEUTRAL or name == "ex5_speed", (
                f"{name}.py: add it to NEUTRAL or PER_FRAMEWORK"
            )


# --- the lessons hold the book's code only
# ----------------------------------------------------------
@pytest.mark.parametrize("path", sorted(EXAMPLES.glob("*.py")), ids=lambda p: p.stem)
def test_lessons_hold_no_test_plumbing(path):
    text = path.read_text()
    for plumbing in ("D2LRNN_DOCS", "QUICK", "import json", "import os", "os.environ"):
        assert plumbing not in text, (
            f"{path.name} contains {plumbing!r}; the harness shortens runs from outside"
        )


def test_harness_rewrites_named_assignments_only():
    sys.path.insert(0, str(ROOT / "scripts"))
    try:
        import run_example as harness
    finally:
        sys.path.pop(0)
    source = (
        "EPOCHS = 500\nA, B = 1, 2\ndef f():\n    EPOCHS = 7\n    return "
        "EPOCHS\nprint(EPOCHS, A, B, f())\n"
    )
    namespace: dict = {}
    exec(
        compile(harness.shorten(source, {"EPOCHS": 2, "B": (3, 4)}), "<lesson>", "exec"), namespace
    )
    assert (namespace["EPOCHS"], namespace["A"], namespace["B"], namespace["f"]()) == (
        2,
        1,
        (3, 4),
        7,
    )
    assert harness.shorten_text(source, {"EPOCHS": 2}).splitlines()[0] == "EPOCHS = 2"
    with pytest.raises(harness.ExampleError, match="NUM_LAYERS"):
        harness.shorten(source, {"NUM_LAYERS": 1})
    # every quick setting names a real assignment
    for name in (p.stem for p in EXAMPLES.glob("*.py")):
        harness.shorten((EXAMPLES / f"{name}.py").read_text(), harness.quick_settings(name), name)


# --- the pages ---------------------------------------------------------------------------------
def _hooks():
    sys.path.insert(0, str(DOCS / "hooks"))
    try:
        import course
    finally:
        sys.path.pop(0)
    return course


def _pages():
    return [p for p in DOCS.rglob("*.md") if "generated" not in p.parts]


def _sections(path: Path) -> set[str]:
    return set(re.findall(r"# --8<-- \[start:([\w-]+)\]", path.read_text()))


def test_framework_tabs_follow_the_registry():
    course = _hooks()
    text = course.framework_tabs(
        "<!-- framework tabs: docs/examples/chapter_{framework}.py:train -->\n"
    )
    from d2lrnn.backends import LABELS

    lessons = [fw for fw in NAMES if (EXAMPLES / f"chapter_{fw}.py").is_file()]
    assert re.findall(r'^=== "(.+)"$', text, re.M) == [LABELS[fw] for fw in lessons]
    assert text.count("--8<--") == len(lessons) and "chapter_{framework}" not in text


def test_every_python_block_is_an_executed_example():
    """A python block on a page must be exactly one snippet include of an existing example
    section."""
    course = _hooks()
    seen = 0
    for page in _pages():
        for fence in FENCE.finditer(course.framework_tabs(page.read_text())):
            lang, body = fence["lang"], fence["body"].strip()
            where = f"{page.relative_to(ROOT)}: ```{lang} block {body[:60]!r}"
            if lang == "text":  # program output; the EXPECT patterns check it
                continue
            if lang == "bash":  # commands; the scripts they name must exist
                for script in re.findall(r"(?:docs/examples|scripts)/[\w./]+\.py", body):
                    assert (ROOT / script).exists(), f"{where} names a missing {script}"
                continue
            assert lang == "python", (
                f"{where}: only python (included), text and bash blocks are allowed"
            )
            match = SNIPPET.match(body)
            assert match, f"{where}: a python block must only include a file from docs/examples/"
            target = ROOT / match["path"]
            assert target.parent == EXAMPLES and target.exists(), (
                f"{where}: {match['path']} is not an example"
            )
            assert match["section"] in _sections(target), (
                f"{where}: no section {match['section']!r} in {target.name}"
            )
            seen += 1
    assert seen >= 20


def test_generated_includes_exist():
    for page in _pages():
        for path in re.findall(r'^--8<-- "(docs/generated/[\w.]+)"$', page.read_text(), re.M):
            assert (ROOT / path).exists(), (
                f"{page.name} includes {path}; run scripts/make_figures.py"
            )
        for fig in re.findall(r"\]\(((?:\.\./)?figures/[\w.]+\.png)\)", page.read_text()):
            assert (page.parent / fig).resolve().exists(), f"{page.name} shows a missing {fig}"


def test_formulas_become_mathml():
    if importlib.util.find_spec("latex2mathml") is None:
        pytest.skip("latex2mathml is not installed (pip install 'd2lrnn[docs]')")
    course = _hooks()
    html = course.mathml(
        '<p><span class="arithmatex">\\(x_t &lt; 2^{\\text{bits}}\\)</span></p>'
        '<div class="arithmatex">\\[\n\\log_2 p\n\\]</div>'
    )
    assert (
        html.count("<math") == 2
        and 'display="block"' in html
        and "\\(" not in html
        and "arithmatex" not in html
    )
    assert "<mtext>bits</mtext>" in html and "&#x0003C;" in html


def test_mkdocs_build_strict(tmp_path):
    if importlib.util.find_spec("mkdocs") is None or importlib.util.find_spec("material") is None:
        pytest.skip("mkdocs / mkdocs-material are not installed (pip install 'd2lrnn[docs]')")
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    proc = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "-q", "-d", str(tmp_path / "site")],
        cwd=ROOT,
        env=env,
        text=True,
        capture_output=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    html = (tmp_path / "site" / "chapter" / "index.html").read_text()
    # the snippets were included, the tabs rendered
    assert "init_params" in html and "tabbed-set" in html
    assert "<math" in html and "arithmatex" not in html  # formulas typeset at build time
    # nothing is fetched from elsewhere to view a page
    for page in (tmp_path / "site").rglob("*.html"):
        external = re.findall(
            r'<(?:script|link|img)\b[^>]*\b(?:src|href)="(?:https?:)?//[^"]*"', page.read_text()
        )
        assert not external, f"{page.relative_to(tmp_path)} loads {external}"
    _check_notebooks_in_site(tmp_path / "site")
    _check_laptop_times(tmp_path / "site" / "index.html")


def _chapter_frameworks() -> list[str]:
    return [fw for fw in NAMES if (EXAMPLES / f"chapter_{fw}.py").is_file()]


def _check_notebooks_in_site(site: Path) -> None:
    """One valid notebook per chapter lesson in the built site, linked from the chapter's tabs and
    the home page."""
    import nbformat

    for framework in _chapter_frameworks():
        notebook = nbformat.read(site / "notebooks" / f"chapter_{framework}.ipynb", as_version=4)
        nbformat.validate(notebook)
        assert "EPOCHS = 500" in "".join(c.source for c in notebook.cells)
        for page, prefix in (("chapter/index.html", "../"), ("index.html", "")):
            assert (
                f'href="{prefix}notebooks/chapter_{framework}.ipynb"' in (site / page).read_text()
            ), page


def _check_laptop_times(index: Path) -> None:
    """The home page's run times are the published benchmark's: 500 epochs at its concise
    tokens/s."""
    import json

    results = json.loads((DOCS / "bench" / "results.json").read_text())
    text = re.sub(r"<[^>]+>", " ", index.read_text())
    rows = [
        r
        for r in results["rows"]
        if r["model"] == "concise" and r["condition"] == "seed" and r["status"] == "ok"
    ]
    assert rows, "the published benchmark has no concise row"
    for row in rows:
        tokens = row["runs"][0]["epochs"][0]["tokens"]
        seconds = 500 * tokens / row["tokens_per_sec"]
        shown = f"{seconds:.0f} s" if seconds < 120 else f"{seconds / 60:.0f} min"
        label = REGISTRY[row["backend"]].label
        assert re.search(
            rf"{label}\s+{row['tokens_per_sec'] / 1000:.0f}k\s+[\d.]+ s\s+{shown}", text
        ), label
    assert results["machine"]["date"][:10] in text


# --- the figures and the results page -----------------------------------------------------------
@pytest.mark.parametrize("table", ["chapter.md", "ex3.md", "ex5.md"])
def test_generated_comparisons_cover_every_framework(table: str) -> None:
    """Where a figure or table compares frameworks, every registered framework with a lesson is in
    it."""
    text = (DOCS / "generated" / table).read_text()
    missing = [
        REGISTRY[fw].label
        for fw in _chapter_frameworks()
        if not re.search(rf"^\| {REGISTRY[fw].label} \|", text, re.M)
    ]
    assert not missing, (
        f"docs/generated/{table} has no row for {missing}; run python scripts/make_figures.py"
    )
    assert re.match(r"<!-- generated by scripts/make_figures.py on \d{4}-\d{2}-\d{2} ", text), (
        "no date in the stamp"
    )


def test_speed_table_says_how_busy_the_machine_was() -> None:
    text = (DOCS / "generated" / "ex5.md").read_text()
    assert re.search(r"1-minute load of \d+\.\d+ before and \d+\.\d+ after", text)


def test_results_page_opens_with_the_headline_chart() -> None:
    """The first thing under the title is the chart, then the summary made from
    docs/bench/results.json, then the rest."""
    import json

    from d2lrnn.bench import PAGE_START
    from d2lrnn.bench.headline import HEADLINE_START, headline_block

    text = (DOCS / "results.md").read_text()
    title, _, rest = text.partition("\n")
    assert title == "# Benchmark results" and rest.lstrip("\n").startswith(HEADLINE_START + "\n![")
    results = json.loads((DOCS / "bench" / "results.json").read_text())
    assert headline_block(results, "bench/headline.png") in text, (
        "the headline is stale: python -m d2lrnn.bench.headline docs"
    )
    assert text.index(HEADLINE_START) < text.index("| backend |") and text.index(
        HEADLINE_START
    ) < text.index(PAGE_START)
    assert (DOCS / "bench" / "headline.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    # runs before issue 20 measured none
    limit = any(r.get("limit_tokens_per_sec") for r in results["rows"])
    headline = text.split(PAGE_START)[0].lower()
    assert ("the machine's limit at these settings" if limit else "not measured yet") in headline


def test_headline_summary_follows_the_numbers(tmp_path) -> None:
    """Another run gives another summary and chart; a backend without the book's code says so; a
    template gets one."""
    import json

    from d2lrnn.bench import pages
    from d2lrnn.bench.headline import (
        HEADLINE_START,
        headline_summary,
        place_headline,
        write_headline_chart,
    )

    results = json.loads((DOCS / "bench" / "results.json").read_text())
    for row in results["rows"]:
        if row["model"] == "book" and row["backend"] == "torch":
            row["status"], row["tokens_per_sec"] = "skipped", None
    results["comparisons"] = [c for c in results["comparisons"] if c["backend"] != "torch"]
    summary = headline_summary(results)
    assert "**PyTorch**: d2lrnn" in summary and "has no PyTorch code" in summary
    assert "**TensorFlow**: d2lrnn" in summary and "x (pairs" in summary
    page = place_headline(pages.page_template(), "BODY\n")
    assert page.index(HEADLINE_START) < page.index("One `d2lrnn bench`") and page.count("BODY") == 1
    assert write_headline_chart(results, tmp_path / "h.png").read_bytes()[:4] == b"\x89PNG"


# --- the notebooks -----------------------------------------------------------------------------
def _make_notebooks():
    sys.path.insert(0, str(ROOT / "scripts"))
    try:
        import make_notebooks
    finally:
        sys.path.pop(0)
    return make_notebooks


def test_notebooks_show_the_clean_lesson():
    if importlib.util.find_spec("jupytext") is None:
        pytest.skip("jupytext is not installed (pip install 'd2lrnn[docs]')")
    make_notebooks = _make_notebooks()
    for framework in (fw for fw in NAMES if (EXAMPLES / f"chapter_{fw}.py").is_file()):
        cells = [c for c in make_notebooks.build_notebook(framework).cells if c.cell_type == "code"]
        code = "\n".join(c.source for c in cells[1:])
        assert (
            "--8<--" not in code
            and "class RNN(" in code
            and "EPOCHS = 500" in code
            and "D2LRNN_DOCS" not in code
        )
        install = cells[0].source  # the first code cell
        assert re.search(rf"^# %pip install .*d2lrnn\[{REGISTRY[framework].extra}\]", install, re.M)
        assert all(line.startswith("#") for line in install.splitlines()), (
            "the install cell must stay commented out"
        )
