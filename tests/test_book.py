"""The book as a reader meets it: the tutorials executed as notebooks beside the API reference, every
page opened in headless Chromium — no console error, no image missing, every figure a tutorial wrote
shown on its page, and the code on the page the code ``nnkit tutorial`` runs.

The default suite builds a small book (the first tutorial, a made-up one that draws two figures, the
whole API reference); ``pytest -m long`` builds the whole book with the README's command (quick sizes).
"""

import hashlib
import os
import pkgutil
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from urllib.parse import unquote, urlparse

import pytest

import chromium
from myst_files import myst
from nnkit import book, notebooks, tutorials

ALL = tutorials.available()
MODULES = ("nnkit", "nnkit.backends")


@pytest.fixture(scope="module")
def browser():
    executable = chromium.find()
    if executable is None:
        pytest.skip("Debian's chromium is not installed (.ci/run installs it: apt-get install chromium)")
    with chromium.Browser(executable) as opened:
        yield opened


@pytest.fixture(scope="module")
def docs_extra():
    for module in ("sphinx", "myst_nb", "jupytext", "nbclient", "ipykernel"):
        pytest.importorskip(module, reason="the docs extra is not installed (pip install -e '.[docs]')")


def made_up_tutorial(folder: Path) -> Path:
    """A tutorial of two cells, each drawing a figure into ``OUT`` as the real ones do."""
    cell = textwrap.dedent("""\
        import os
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        fig, ax = plt.subplots(figsize=(4, 3))
        ax.plot([1, 3, 2], lw=4)
        fig.savefig(os.path.join(OUT, "{name}.png"))""")
    path = folder / "99-made-up-figures.md"
    path.write_text(myst(cell.format(name="one"), cell.format(name="two"), title="Draw two figures"))
    return path


def pages_of(html: Path, browser) -> dict:
    """Every page of the built site (relative name → :class:`chromium.Page`), each opened in the browser."""
    files = sorted(p for p in html.rglob("*.html") if not {"_static", "_sources"} & set(p.relative_to(html).parts))
    return {p.relative_to(html).as_posix(): browser.open(p) for p in files}


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def check_book(out: Path, paths: list[Path], browser) -> dict:
    """Open every page and check it as a reader would; return the counts."""
    about_the_text = [line for line in book.warnings(out) if "/src/tutorials/" in line or "/src/index" in line]
    assert about_the_text == []   # the tutorials and the front page render cleanly (docstrings may warn: listed in the log)
    pages = pages_of(out / "html", browser)
    assert {name: page.errors for name, page in pages.items() if page.errors} == {}
    assert {name: page.missing for name, page in pages.items() if page.missing} == {}
    figures = 0
    for path in paths:
        page = pages[f"tutorials/{path.stem}.html"]
        written = [p for p in (out / "figures" / path.stem).rglob("*") if p.suffix.lower() in notebooks.FIGURE_SUFFIXES]
        shown = {digest(Path(unquote(urlparse(src).path))) for src in page.figures}
        assert {digest(p) for p in written} <= shown, f"{path.stem}: a figure it wrote is not on its page"
        executed = notebooks.read(out / "src" / "tutorials" / f"{path.stem}.ipynb")
        assert len(page.figures) == notebooks.figures(executed) >= len(written)
        assert [c.strip("\n") for c in page.code] == [c.strip("\n") for c in tutorials.cells(path)]
        figures += len(page.figures)
    expected = {f"api/{m.name}.html" for package in MODULES for m in _walk(package)} | {f"api/{p}.html" for p in MODULES}
    assert expected <= set(pages), f"modules without a page: {sorted(expected - set(pages))}"
    return {"pages": len(pages), "images": sum(len(p.images) for p in pages.values()), "figures": figures,
            "errors": sum(len(p.errors) for p in pages.values())}


def _walk(package: str):
    module = __import__(package, fromlist=["_"])
    return [m for m in pkgutil.walk_packages(module.__path__, package + ".") if not any(
        part.startswith("_") for part in m.name.split("."))]


def test_the_browser_check_sees_what_a_reader_would_see(browser, tmp_path):
    page = tmp_path / "page.html"
    page.write_text("""<!doctype html><html><body>
        <img src="nowhere.png">
        <div class="cell_output"><img src="data:image/svg+xml,<svg xmlns='http://www.w3.org/2000/svg' width='4' height='4'/>"></div>
        <div class="cell_input"><pre>x = 1</pre></div>
        <script>console.error("a console error"); undefined_function();</script></body></html>""")
    seen = browser.open(page)
    assert seen.missing == [(tmp_path / "nowhere.png").as_uri()] and len(seen.figures) == 1 and seen.code == ["x = 1"]
    assert any("a console error" in e for e in seen.errors) and any(e.startswith("exception") for e in seen.errors)
    assert any("nowhere.png" in e for e in seen.errors)  # the failed load, as a log entry


@pytest.mark.long   # ~30 s (Sphinx builds two pages, Chromium opens them): .ci/run's long stage runs it
def test_a_small_book_reads_right_in_chromium(docs_extra, browser, tmp_path):
    paths = [ALL[0], made_up_tutorial(tmp_path)]
    build = f"from pathlib import Path; from nnkit import book; book.build(Path({str(tmp_path / 'book')!r}), " \
            f"[Path(p) for p in {[str(p) for p in paths]!r}], quick=True)"
    done = subprocess.run([sys.executable, "-c", build], capture_output=True, text=True, timeout=600)  # Sphinx's globals stay there
    assert done.returncode == 0, done.stderr[-3000:]
    index = tmp_path / "book" / "html" / "index.html"
    counts = check_book(tmp_path / "book", paths, browser)
    assert counts["figures"] >= 2 and counts["errors"] == 0
    assert index.is_file() and "99-made-up-figures.html" in index.read_text()
    browser.open(tmp_path / "book" / "html" / "tutorials" / "99-made-up-figures.html")
    browser.screenshot(tmp_path / "shot.png", scroll_to=".cell_output img")
    import matplotlib.image

    pixels = matplotlib.image.imread(tmp_path / "shot.png")
    assert pixels.shape[1] == 1280 and pixels.std() > 0.05   # a page with a figure, not a blank window


@pytest.mark.long
def test_the_whole_book_builds_with_one_command_and_reads_right(docs_extra, browser, tmp_path):
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "nnkit.book", "--quick", "--out", str(tmp_path)],
                          capture_output=True, text=True, timeout=1800)
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.splitlines()[-1].startswith(f"book: {tmp_path / 'html' / 'index.html'} ({len(ALL)} tutorials")
    seconds = time.perf_counter() - start
    counts = check_book(tmp_path, ALL, browser)
    shots = Path(os.environ.get("NNKIT_BOOK_SHOTS", tmp_path / "shots"))
    shots.mkdir(parents=True, exist_ok=True)
    for path in ALL:
        browser.open(tmp_path / "html" / "tutorials" / f"{path.stem}.html")
        browser.screenshot(shots / f"{path.stem}.png", scroll_to=".cell_output img")
    print(f"\nbook: built in {seconds:.0f} s; {counts}; {len(ALL)} notebooks executed; screenshots in {shots}")


@pytest.mark.parametrize("make, expected", [
    (lambda out: out.write_text("a file"), "expected a folder, got a file"),
    (lambda out: (out.mkdir(), (out / "keep.txt").write_text("mine")), "expected an empty folder or an earlier book build"),
], ids=["file", "foreign-folder"])
def test_the_command_refuses_an_out_it_did_not_make_and_touches_nothing(tmp_path, make, expected):
    out = tmp_path / "out"
    make(out)
    before = {p: p.read_bytes() for p in [out, *out.rglob("*")] if p.is_file()} if out.exists() else {}
    done = subprocess.run([sys.executable, "-m", "nnkit.book", "--out", str(out)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 1 and done.stderr.count("\n") == 1 and expected in done.stderr
    assert {p: p.read_bytes() for p in [out, *out.rglob("*")] if p.is_file()} == before


def test_the_command_refuses_an_unknown_tutorial_in_one_line(tmp_path):
    done = subprocess.run([sys.executable, "-m", "nnkit.book", "--out", str(tmp_path), "no-such-tutorial"],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 1 and done.stderr.count("\n") == 1 and "expected one of" in done.stderr
