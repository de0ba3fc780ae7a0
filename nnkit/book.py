"""The book: the tutorials, executed as notebooks, beside the API reference — a static HTML site.

``python -m nnkit.book [--quick] [--out DIR] [NAME ...]`` runs every tutorial (or those named) as a
notebook (:mod:`nnkit.notebooks`: the cells ``nnkit tutorial`` runs, figures embedded), stages the
notebooks with ``docs/book/`` (the Sphinx configuration, the front page, the API pages) and has
Sphinx + myst-nb render the lot into ``DIR/html`` (default ``build/book``; open
``DIR/html/index.html``). Offline; needs the ``docs`` extra: ``pip install -e '.[docs]'``.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import time
from pathlib import Path
from typing import Callable, Sequence

from nnkit import notebooks, tutorials
from nnkit.files import quoted

ROOT = tutorials.FOLDER.parent
SOURCES = ROOT / "docs" / "book"
MARK = ".nnkit-book"  # in DIR: a folder this module built, so that it may clear it
PARTS = ("src", "html", "doctrees", "figures")
WARNINGS = "warnings.txt"


class BookFailed(RuntimeError):
    """Sphinx could not render the book."""


def build(out: Path, paths: Sequence[Path], quick: bool = False, echo: Callable[[str], None] = print) -> Path:
    """Execute the tutorials at ``paths`` and render the book into ``out/html``; return its front
    page. ``out`` must be empty, missing, or an earlier build (it is cleared). ``echo`` gets one
    line per tutorial."""
    _claim(out)
    shutil.copytree(SOURCES, out / "src")
    (out / "src" / "tutorials").mkdir()
    for path in paths:
        start = time.perf_counter()
        notebook = notebooks.execute(path, quick, out / "figures" / path.stem)
        notebooks.write(notebook, out / "src" / "tutorials" / f"{path.stem}.ipynb")
        echo(f"{path.stem}: {len(notebooks.code_cells(notebook))} cells, {notebooks.figures(notebook)} figures, "
             f"{time.perf_counter() - start:.1f} s")
    _render(out)
    return out / "html" / "index.html"


def _claim(out: Path) -> None:
    """Make ``out`` ours: refuse a file or a foreign non-empty folder; clear an earlier build."""
    if out.exists() and not out.is_dir():
        raise NotADirectoryError(f"--out {quoted(out)}: expected a folder, got a file")
    if out.is_dir() and any(out.iterdir()) and not (out / MARK).is_file():
        raise FileExistsError(f"--out {quoted(out)}: expected an empty folder or an earlier book build "
                              f"(with {MARK} inside), got a folder with other files")
    out.mkdir(parents=True, exist_ok=True)
    (out / MARK).touch()
    for part in PARTS:
        shutil.rmtree(out / part, ignore_errors=True)
    (out / WARNINGS).unlink(missing_ok=True)


def warnings(out: Path) -> list[str]:
    """The warnings of the last build in ``out`` (a docstring that is not valid reStructuredText, a broken
    reference…), one a line; the book is built all the same."""
    log = out / WARNINGS
    return log.read_text().splitlines() if log.is_file() else []


def _render(out: Path) -> None:
    """Sphinx: ``out/src`` → ``out/html``, its warnings to ``out/warnings.txt``."""
    from sphinx.cmd.build import build_main

    argv = ["-b", "html", "-q", "-w", str(out / WARNINGS), "-d", str(out / "doctrees"), str(out / "src"), str(out / "html")]
    if build_main(argv) != 0:
        raise BookFailed(f"Sphinx stopped on the error above (sources in {quoted(out / 'src')})")


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m nnkit.book``: build the book; the last line names its front page."""
    parser = argparse.ArgumentParser(prog="python -m nnkit.book", description="Build the book: executed tutorials and the API reference.")
    parser.add_argument("names", nargs="*", metavar="NAME", help="tutorials by number or part of a name (default: all)")
    parser.add_argument("--quick", action="store_true", help="small sizes (what the test suite runs)")
    parser.add_argument("--out", type=Path, default=ROOT / "build" / "book", help="the build folder (default: build/book)")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    try:
        paths = [tutorials.find(name) for name in args.names] or tutorials.available()
        index = build(args.out, paths, args.quick, echo=lambda line: print(line, file=sys.stderr))
    except ModuleNotFoundError as error:
        print(f"{parser.prog}: error: {error.name} is missing: pip install -e '.[docs]'", file=sys.stderr)
        return 1
    except (ValueError, OSError, notebooks.NotebookFailed, BookFailed) as error:
        print(f"{parser.prog}: error: {error}", file=sys.stderr)
        return 1
    flagged = len(warnings(args.out))
    print(f"book: {index} ({len(paths)} tutorials, {time.perf_counter() - start:.0f} s"
          + (f"; {flagged} Sphinx warnings in {args.out / WARNINGS})" if flagged else ")"))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
