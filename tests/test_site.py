"""The course site as a student sees it: built strictly, served on 127.0.0.1, read in headless
Chromium.

Every page of the navigation is loaded in a 1300-pixel window and checked: the formulas are typeset
(no TeX left in the text), every image loaded, no code block scrolls sideways, every Python block
shows exactly a section of a lesson in docs/examples/ (the code tests/test_docs.py executes),
nothing is fetched from another host and the console stays free of errors. Every page is loaded
again at a phone's width (375 pixels): the page itself must not scroll sideways (wide tables,
formulas and, on a phone, code scroll inside their own boxes). The content tabs must switch
together on a page and the choice must carry to the next page. Every notebook link of the chapter
and the home page is
followed and must download a valid notebook of its framework. Screenshots (the chapter per tab,
every page at phone width) go to out/screenshots/ (git-ignored).

Chromium is the system's (Debian: ``apt-get install chromium``, see .ci/install-system-packages),
driven by Playwright; the test is skipped when either is missing.
"""

from __future__ import annotations

import functools
import os
import re
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

yaml = pytest.importorskip("yaml", reason="PyYAML is not installed (it comes with mkdocs)")

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "docs" / "examples"
SCREENSHOTS = ROOT / "out" / "screenshots"
WIDTH, HEIGHT = 1300, 900
PHONE = {"width": 375, "height": 740}
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
MARKER = re.compile(r"^\s*# --8<-- \[(start|end):([\w-]+)\]\s*$")
#: TeX that a typeset page no longer shows: \( \) \[ \] and commands such as \mathbf
RAW_TEX = re.compile(r"\\[()\[\]]|\\[A-Za-z]{2,}|\$\$")


def chromium() -> str | None:
    """The system's Chromium: ``$D2LRNN_CHROMIUM``, else ``chromium`` or ``chromium-browser`` on the
    PATH."""
    return (
        os.environ.get("D2LRNN_CHROMIUM")
        or shutil.which("chromium")
        or shutil.which("chromium-browser")
    )


def nav_pages() -> list[str]:
    """Site-relative URLs of every page in mkdocs.yml's navigation, in order."""

    def walk(entries: Any) -> Iterator[str]:
        for entry in entries:
            value = next(iter(entry.values())) if isinstance(entry, dict) else entry
            if isinstance(value, list):
                yield from walk(value)
            elif isinstance(value, str) and value.endswith(".md"):
                stem = value[: -len(".md")]
                yield (
                    ""
                    if stem == "index"
                    else (stem[: -len("/index")] if stem.endswith("/index") else stem) + "/"
                )

    return list(walk(yaml.safe_load((ROOT / "mkdocs.yml").read_text())["nav"]))


def lesson_sections() -> dict[str, str]:
    """Every snippet section of every lesson, as the pages include it: ``{"file.py:section":
    code}``."""
    sections: dict[str, str] = {}
    for path in sorted(EXAMPLES.glob("*.py")):
        open_: dict[str, list[str]] = {}
        for line in path.read_text().splitlines():
            marker = MARKER.match(line)
            if marker and marker[1] == "start":
                open_[marker[2]] = []
            elif marker:
                sections[f"{path.name}:{marker[2]}"] = "\n".join(open_.pop(marker[2])).strip("\n")
            else:
                for lines in open_.values():
                    lines.append(line)
    return sections


# --- the site, the server, the browser
# --------------------------------------------------------------------
@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Build the site strictly and serve it on an ephemeral port of 127.0.0.1; yield its base URL.
    """
    pytest.importorskip("mkdocs", reason="mkdocs is not installed (pip install 'd2lrnn[docs]')")
    out = tmp_path_factory.mktemp("site")
    proc = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "-q", "-d", str(out)],
        cwd=ROOT,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
        text=True,
        capture_output=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr

    class Quiet(SimpleHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=str(out)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """A fresh headless Chromium profile (a persistent context, so that a tab choice can carry
    between pages)."""
    executable = chromium()
    if executable is None:
        pytest.skip(
            "Chromium is not installed (apt-get install chromium; see .ci/install-system-packages)"
        )
    sync_api = pytest.importorskip(
        "playwright.sync_api", reason="playwright is not installed (pip install 'd2lrnn[docs]')"
    )
    with sync_api.sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(tmp_path_factory.mktemp("chromium-profile")),
            executable_path=executable,
            headless=True,
            args=CHROMIUM_FLAGS,
            viewport={"width": WIDTH, "height": HEIGHT},
        )
        try:
            yield context
        finally:
            context.close()


class Visit:
    """One page load with what went wrong on the way: console errors, failed or foreign requests."""

    def __init__(self, context: Any, url: str, viewport: dict[str, int] | None = None) -> None:
        self.problems: list[str] = []
        self.page = context.new_page()
        if viewport:
            self.page.set_viewport_size(viewport)
        self.page.on(
            "console", lambda m: m.type == "error" and self.problems.append(f"console: {m.text}")
        )
        self.page.on("pageerror", lambda e: self.problems.append(f"page error: {e}"))
        self.page.on(
            "requestfailed", lambda r: self.problems.append(f"request failed: {r.url} {r.failure}")
        )
        self.page.on(
            "response",
            lambda r: r.status >= 400 and self.problems.append(f"HTTP {r.status}: {r.url}"),
        )
        host = urlsplit(url).netloc
        self.page.route("**/*", lambda route: self._local_only(route, host))
        self.page.goto(url, wait_until="load")
        self.page.wait_for_load_state("networkidle")

    def _local_only(self, route: Any, host: str) -> None:
        if urlsplit(route.request.url).netloc in (host, ""):
            route.continue_()
        else:  # viewing the site must need no network
            self.problems.append(f"foreign request: {route.request.url}")
            route.abort()

    def close(self) -> None:
        self.page.close()


# --- every page
# --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("path", nav_pages(), ids=lambda p: p.rstrip("/") or "home")
def test_page(site: str, browser: Any, path: str) -> None:
    visit = Visit(browser, site + path)
    page = visit.page
    try:
        assert page.locator("article h1").count() >= 1, f"{path}: no page content"
        text = page.evaluate("""() => {
            const article = document.querySelector("article").cloneNode(true);
            article.querySelectorAll("pre, code").forEach(e => e.remove());
            return article.textContent;
        }""")
        assert not RAW_TEX.search(text), f"{path}: raw TeX in the text: {RAW_TEX.search(text)[0]!r}"
        unset = page.evaluate("""() => Array.from(document.querySelectorAll("article math"))
            .filter(m => m.getBoundingClientRect().width === 0 && m.closest(".tabbed-block, details") === null)
            .map(m => m.textContent)""")  # noqa: E501
        assert not unset, f"{path}: formulas not typeset: {unset}"

        broken = page.evaluate("""async () => {
            const images = Array.from(document.querySelectorAll("article img"));
            await Promise.all(images.map(i => i.decode().catch(() => null)));
            return images.filter(i => !(i.complete && i.naturalWidth > 0)).map(i => i.getAttribute("src"));
        }""")  # noqa: E501
        assert not broken, f"{path}: images that did not load: {broken}"

        wide = page.evaluate("""() => Array.from(document.querySelectorAll("article pre > code"))
            .filter(c => c.getClientRects().length && c.scrollWidth > c.clientWidth + 1)
            .map(c => c.textContent.split("\\n").reduce((a, b) => (b.length > a.length ? b : a), ""))""")  # noqa: E501
        assert not wide, f"{path}: code blocks that scroll sideways, longest lines: {wide}"

        shown = page.evaluate("""() => Array.from(document.querySelectorAll("article .language-python code"))
            .map(c => c.textContent)""")  # noqa: E501
        sections = set(lesson_sections().values())
        foreign = [code for code in shown if code.strip("\n") not in sections]
        assert not foreign, (
            f"{path}: Python blocks that are not a lesson section the tests run: "
            f"{foreign[0][:300]!r}"
        )
        assert not visit.problems, f"{path}: " + "; ".join(visit.problems)
    finally:
        visit.close()


def _slug(path: str) -> str:
    return re.sub(r"\W+", "-", path.strip("/")) or "home"


@pytest.mark.parametrize("path", nav_pages(), ids=lambda p: p.rstrip("/") or "home")
def test_page_at_phone_width(site: str, browser: Any, path: str) -> None:
    """At 375 px nothing widens the page: only a table, formula or code box may scroll, inside
    itself."""
    visit = Visit(browser, site + path, viewport=PHONE)
    page = visit.page
    try:
        widths = page.evaluate(
            "() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]"
        )
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / f"phone-{_slug(path)}.png"), full_page=True)
        # what sticks out of the viewport without a scrolling box around it (hidden, clipped content
        # counts too)
        culprits = page.evaluate("""() => {
            const width = document.documentElement.clientWidth, out = [];
            const scrolls = e => { for (let p = e.parentElement; p; p = p.parentElement) {
                const o = getComputedStyle(p).overflowX;
                if ((o === "auto" || o === "scroll") && p !== document.body
                    && p !== document.documentElement) return true; } return false; };  // clipped is not allowed
            for (const e of document.querySelectorAll("body *")) {
                const r = e.getBoundingClientRect();
                if (r.width && r.right > width + 1 && !scrolls(e)) out.push(`${e.tagName.toLowerCase()}.${e.className}`);
            }
            return out.slice(0, 8);
        }""")  # noqa: E501
        assert widths[0] <= widths[1] + 1, (
            f"{path}: the page scrolls sideways at 375 px ({widths}); {culprits}"
        )
        assert not culprits, (
            f"{path}: elements wider than a phone, outside any scrolling box: {culprits}"
        )
        tables = page.evaluate("""() => Array.from(document.querySelectorAll("article table"))
            .filter(t => t.getClientRects().length && t.scrollWidth > t.parentElement.clientWidth + 1)
            .map(t => getComputedStyle(t.parentElement).overflowX)""")  # noqa: E501
        assert all(o in ("auto", "scroll") for o in tables), (
            f"{path}: a wide table without its own scroll box: {tables}"
        )
        assert not visit.problems, f"{path}: " + "; ".join(visit.problems)
    finally:
        visit.close()


@pytest.mark.parametrize("path", ["", "chapter/"], ids=["home", "chapter"])
def test_notebook_links_download_valid_notebooks(site: str, browser: Any, path: str) -> None:
    """Click each framework's tab, follow its notebook link: the download is a valid notebook of
    that framework's lesson."""
    nbformat = pytest.importorskip(
        "nbformat", reason="nbformat is not installed (pip install 'd2lrnn[docs]')"
    )
    from d2lrnn.backends import LABELS, NAMES

    expected = {LABELS[n]: n for n in NAMES if (EXAMPLES / f"chapter_{n}.py").is_file()}
    visit = Visit(browser, site + path)
    page = visit.page
    try:
        links = page.locator("article a.notebook-link")
        assert links.count() == len(expected), (
            f"{path}: {links.count()} notebook links for {sorted(expected)}"
        )
        tabs = page.locator("article .tabbed-set", has=page.locator("a.notebook-link")).first
        for label, name in expected.items():
            tabs.locator(".tabbed-labels > label", has_text=label).first.click()
            visible = [i for i in range(links.count()) if links.nth(i).is_visible()]
            assert len(visible) == 1, f"{path}: {label} tab shows {len(visible)} notebook links"
            with page.expect_download() as info:
                links.nth(visible[0]).click()
            notebook = nbformat.read(info.value.path(), as_version=4)
            nbformat.validate(notebook)
            assert info.value.suggested_filename == f"chapter_{name}.ipynb"
            code = "\n".join(c.source for c in notebook.cells if c.cell_type == "code")
            lesson = lesson_sections()[f"chapter_{name}.py:model"]
            assert lesson in code, f"{path}: the {label} notebook does not hold its lesson's model"
        assert not visit.problems, f"{path}: " + "; ".join(visit.problems)
    finally:
        visit.close()


def test_every_lesson_section_on_some_page_is_what_the_tests_run() -> None:
    """The site test compares against the lessons the harness executes; make sure it knows them all.
    """
    sections = lesson_sections()
    names = {key.split(":")[0] for key in sections}
    assert names == {p.name for p in EXAMPLES.glob("*.py")} and all(sections.values())


# --- the tabs
# ----------------------------------------------------------------------------------------------
def _tab_state(page: Any) -> list[dict[str, Any]]:
    """For each tab set: its labels, the checked label and the labels of the blocks that are
    visible."""
    return page.evaluate("""() => Array.from(document.querySelectorAll("article .tabbed-set")).map(set => {
        const labels = Array.from(set.querySelectorAll(":scope > .tabbed-labels > label"));
        const blocks = Array.from(set.querySelectorAll(":scope > .tabbed-content > .tabbed-block"));
        const checked = labels.find(l => document.getElementById(l.htmlFor).checked);
        return {labels: labels.map(l => l.textContent.trim()), checked: checked ? checked.textContent.trim() : null,
                visible: blocks.map((b, i) => b.getClientRects().length ? labels[i].textContent.trim() : null)
                               .filter(x => x)};
    })""")  # noqa: E501


def _assert_all_show(page: Any, label: str, where: str) -> None:
    for i, state in enumerate(_tab_state(page)):
        if label in state["labels"]:
            assert state["checked"] == label and state["visible"] == [label], (
                f"{where}: tab set {i + 1} shows {state}"
            )


def test_tabs_switch_together_and_carry_to_the_next_page(site: str, browser: Any) -> None:
    tabbed = []
    for path in nav_pages():
        visit = Visit(browser, site + path)
        if _tab_state(visit.page):
            tabbed.append(path)
        visit.close()
    assert len(tabbed) >= 2, f"pages with framework tabs: {tabbed}"
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    chosen = None
    for path in tabbed:
        visit = Visit(browser, site + path)
        page = visit.page
        try:
            if chosen:  # the choice made on the previous page
                _assert_all_show(
                    page, chosen, f"{path} after choosing {chosen!r} on the previous page"
                )
            labels = _tab_state(page)[0]["labels"]
            assert len(labels) >= 2, f"{path}: a tab set with one tab: {labels}"
            # end on a tab other than the default
            for label in [*labels[1:], labels[0], labels[-1]]:
                page.locator("article .tabbed-set").first.locator(
                    ".tabbed-labels > label", has_text=label
                ).first.click()
                _assert_all_show(page, label, f"{path} after clicking {label!r}")
                if path.rstrip("/").endswith("chapter"):
                    slug = re.sub(r"\W+", "-", label.lower()).strip("-")
                    page.screenshot(path=str(SCREENSHOTS / f"chapter-{slug}.png"), full_page=True)
            chosen = labels[-1]
            assert not visit.problems, f"{path}: " + "; ".join(visit.problems)
        finally:
            visit.close()
