"""The course material: every example runs, every code block on a page comes from an example,
the site builds strictly, and the notebooks execute.

The examples run in subprocesses with ``D2LRNN_DOCS_QUICK=1`` (a couple of epochs). The default
run covers every framework tab of the chapter; the exercise scripts on every other backend, the
slower TensorFlow exercise and the notebooks are ``slow``.
"""

from __future__ import annotations

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
#: the frameworks that have a course tab (docs/examples/chapter_<name>.py); JAX has none yet
FRAMEWORKS = tuple(name for name in NAMES if (EXAMPLES / f"chapter_{name}.py").is_file())
SNIPPET = re.compile(r'^--8<-- "(?P<path>[^":]+)(?::(?P<section>[\w-]+))?"$')
FENCE = re.compile(r"^(?P<indent>[ \t]*)```(?P<lang>[\w-]*)[^\n]*\n(?P<body>.*?)^(?P=indent)```[ \t]*$", re.M | re.S)

SHAPES = r"Y: \(35, 32, 256\) state: \(1, 32, 256\)"
CHAPTER = [r"vocabulary: 28 tokens", SHAPES, r"^time traveller\w*", r"perplexity \d+\.\d \(validation \d+\.\d\)",
           r"tokens/sec on"]
#: what each example must print (regular expressions, searched line by line)
EXPECT = {
    **{f"chapter_{fw}": CHAPTER for fw in FRAMEWORKS},
    **{f"ex3_autoregression_{fw}": [r"MLP: test MSE 1-step \d\.\d+, 4-step", r"RNN: test MSE 1-step .*64-step"]
       for fw in FRAMEWORKS},
    "ex1_overfitting": [r"8 hidden units: final train", r"best validation", r"clip  0\.1: train", r"clip  off: train"],
    "ex2_layers": [r"1 layer\(s\): perplexity", r"2 layer\(s\)", r"3 layer\(s\): .* s/epoch"],
    "ex4_compression": [r"held-out text: 300 characters; perplexity .* bits per character", r"round trip exact: True",
                        r"gzip -9:", r"bz2 -9:", r"lzma -9:", r"RNN \+ arithmetic coder:",
                        r"the model itself: [\d,]+ parameters"],
    "ex5_speed": [r"torch: concise .* tokens/s, scratch .* concise/scratch = \d"],
}
NEUTRAL = ("ex1_overfitting", "ex2_layers", "ex4_compression")


def _installed(framework: str) -> bool:
    return importlib.util.find_spec(framework) is not None


def _adapter(framework: str) -> bool:
    return _installed(REGISTRY[framework].framework) and importlib.util.find_spec(REGISTRY[framework].module) is not None


def run_example(name: str, backend: str | None = None) -> str:
    env = {"OMP_NUM_THREADS": "1", **os.environ, "D2LRNN_DOCS_QUICK": "1", "TF_CPP_MIN_LOG_LEVEL": "3",
           "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    env.pop("D2LRNN_DOCS_OUT", None)
    if backend:
        env["D2LRNN_BACKEND"] = backend
    proc = subprocess.run([sys.executable, str(EXAMPLES / f"{name}.py")], cwd=ROOT, env=env, text=True,
                          capture_output=True, timeout=600)
    assert proc.returncode == 0, f"{name} ({backend}) failed:\n{proc.stdout[-2000:]}\n{proc.stderr[-4000:]}"
    for pattern in EXPECT[name]:
        assert re.search(pattern, proc.stdout, re.M), f"{name} ({backend}) did not print {pattern!r}:\n{proc.stdout}"
    return proc.stdout


def _needs(framework: str, adapter: bool = True):
    ok = _adapter(framework) if adapter else _installed(framework)
    return pytest.mark.skipif(not ok, reason=f"{framework} or its d2lrnn adapter is not installed")


def _cases(prefix: str, adapter: bool, slow: tuple[str, ...] = ()):
    return [pytest.param(fw, marks=[_needs(fw, adapter), *([pytest.mark.slow] if fw in slow else [])])
            for fw in FRAMEWORKS]


# --- the examples ------------------------------------------------------------------------------
@pytest.mark.parametrize("framework", _cases("chapter", adapter=True))
def test_chapter_example(framework):
    run_example(f"chapter_{framework}")


@pytest.mark.parametrize("framework", _cases("ex3", adapter=False, slow=("tensorflow",)))
def test_autoregression_example(framework):
    run_example(f"ex3_autoregression_{framework}")


@pytest.mark.parametrize("name", NEUTRAL)
def test_exercise_example_default_backend(name):
    if not _adapter("torch"):
        pytest.skip("the default backend (torch) is not installed")
    run_example(name, "torch")


@pytest.mark.slow
@pytest.mark.parametrize("framework", [pytest.param(fw, marks=_needs(fw)) for fw in NAMES if fw != "torch"])
@pytest.mark.parametrize("name", NEUTRAL)
def test_exercise_example_other_backends(name, framework):
    run_example(name, framework)


@pytest.mark.slow
def test_speed_example():
    run_example("ex5_speed")


def test_every_example_is_tested():
    assert {p.stem for p in EXAMPLES.glob("*.py")} == set(EXPECT)


# --- the pages ---------------------------------------------------------------------------------
def _pages():
    return [p for p in DOCS.rglob("*.md") if "generated" not in p.parts]


def _sections(path: Path) -> set[str]:
    return set(re.findall(r"# --8<-- \[start:([\w-]+)\]", path.read_text()))


def test_every_python_block_is_an_executed_example():
    """A python block on a page must be exactly one snippet include of an existing example section."""
    seen = 0
    for page in _pages():
        for fence in FENCE.finditer(page.read_text()):
            lang, body = fence["lang"], fence["body"].strip()
            where = f"{page.relative_to(ROOT)}: ```{lang} block {body[:60]!r}"
            if lang == "text":  # program output; the EXPECT patterns check it
                continue
            if lang == "bash":  # commands; the scripts they name must exist
                for script in re.findall(r"(?:docs/examples|scripts)/[\w./]+\.py", body):
                    assert (ROOT / script).exists(), f"{where} names a missing {script}"
                continue
            assert lang == "python", f"{where}: only python (included), text and bash blocks are allowed"
            match = SNIPPET.match(body)
            assert match, f"{where}: a python block must only include a file from docs/examples/"
            target = ROOT / match["path"]
            assert target.parent == EXAMPLES and target.exists(), f"{where}: {match['path']} is not an example"
            assert match["section"] in _sections(target), f"{where}: no section {match['section']!r} in {target.name}"
            seen += 1
    assert seen >= 20


def test_generated_includes_exist():
    for page in _pages():
        for path in re.findall(r'^--8<-- "(docs/generated/[\w.]+)"$', page.read_text(), re.M):
            assert (ROOT / path).exists(), f"{page.name} includes {path}; run scripts/make_figures.py"
        for fig in re.findall(r"\]\(((?:\.\./)?figures/[\w.]+\.png)\)", page.read_text()):
            assert (page.parent / fig).resolve().exists(), f"{page.name} shows a missing {fig}"


def test_mkdocs_build_strict(tmp_path):
    if importlib.util.find_spec("mkdocs") is None or importlib.util.find_spec("material") is None:
        pytest.skip("mkdocs / mkdocs-material are not installed (pip install 'd2lrnn[docs]')")
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    proc = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "-q", "-d", str(tmp_path / "site")],
                          cwd=ROOT, env=env, text=True, capture_output=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert (tmp_path / "site" / "chapter" / "index.html").exists()
    html = (tmp_path / "site" / "chapter" / "index.html").read_text()
    assert "init_params" in html and "tabbed-set" in html  # the snippets were included, the tabs rendered


# --- the notebooks -----------------------------------------------------------------------------
def test_notebook_sources_drop_snippet_markers():
    sys.path.insert(0, str(ROOT / "scripts"))
    try:
        import make_notebooks
    finally:
        sys.path.pop(0)
    source = make_notebooks.notebook_source("torch")
    assert "--8<--" not in source and "# %%" in source and "class RNN(" in source


@pytest.mark.slow
@pytest.mark.parametrize("framework", [pytest.param(fw, marks=_needs(fw)) for fw in FRAMEWORKS])
def test_notebook_executes(framework, tmp_path, monkeypatch):
    for module in ("jupytext", "nbclient", "ipykernel"):
        if importlib.util.find_spec(module) is None:
            pytest.skip(f"{module} is not installed (pip install 'd2lrnn[docs]')")
    sys.path.insert(0, str(ROOT / "scripts"))
    try:
        import make_notebooks
    finally:
        sys.path.pop(0)
    monkeypatch.setenv("D2LRNN_DOCS_QUICK", "1")
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
    path = make_notebooks.make_notebook(framework, tmp_path)
    make_notebooks.execute(path, timeout=600)
    import nbformat

    notebook = nbformat.read(path, as_version=4)
    outputs = "".join(o.get("text", "") for c in notebook.cells if c.cell_type == "code" for o in c.get("outputs", []))
    assert re.search(SHAPES, outputs) and "perplexity" in outputs
    assert not any(o.get("output_type") == "error" for c in notebook.cells for o in c.get("outputs", []))
