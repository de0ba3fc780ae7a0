"""Run the tutorials: markdown files (MyST, openable as notebooks with jupytext) whose
``{code-cell}`` blocks run in order, in one namespace, like a notebook from top to bottom.

``nnkit tutorial`` lists them; ``nnkit tutorial NAME`` runs one and prints its prose (the markdown,
rendered for a terminal) with each cell's output in its place.
Tutorials read ``QUICK`` (true under the test suite: small sizes), ``OUT`` (where to write
figures) and ``THREADS`` (``nnkit tutorial --threads N``, else None) from their namespace.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import shutil
import textwrap
from pathlib import Path

FOLDER = Path(__file__).resolve().parent.parent / "tutorials"
# A cell: its fence, MyST options (``:tags: …`` lines or a ``---`` block: metadata, not code), the code,
# and a closing fence alone on its line (CommonMark: "``` text" does not close a block).
_CELL = re.compile(r"^```\{code-cell\}[^\n]*\n(?:---\n.*?^---\n|(?::[\w-]+:[^\n]*\n)*)(.*?)^```[ \t]*$", re.S | re.M)
_FRONT_MATTER = re.compile(r"\A---\n.*?^---\n", re.S | re.M)
_BOLD, _CODE = re.compile(r"\*\*(.+?)\*\*"), re.compile(r"`([^`]+)`")
_MARKS = ("\ue000", "\ue001", "\ue002", "\ue003")   # bold, italic, code start; end of any
_ITALIC = re.compile(r"(?<![*\w])\*([^*\s][^*]*?)\*(?![*\w])")


def available() -> list[Path]:
    """The tutorial files, in their numbered order."""
    return sorted(FOLDER.glob("[0-9][0-9]-*.md"))


def find(name: str) -> Path:
    """A tutorial by number (``"5"``), file stem (``"05-np-dot-to-dgemm"``) or any unique part of it."""
    exact = [p for p in available() if name in (p.stem, p.stem[:2], p.stem[:2].lstrip("0"))]
    matches = exact or [p for p in available() if name in p.stem]
    if len(matches) != 1:
        names = ", ".join(p.stem for p in available())
        raise ValueError(f"tutorial {name!r}: expected one of {names}" + (f" (matches {len(matches)})" if matches else ""))
    return matches[0]


def cells(path: Path) -> list[str]:
    """The code of every ``{code-cell}`` block, in order."""
    return [match.group(1) for match in _CELL.finditer(path.read_text())]


def prose(path: Path) -> list[str]:
    """The markdown before each code cell, and after the last one (one more than ``cells``)."""
    return _CELL.split(_FRONT_MATTER.sub("", path.read_text()))[::2]


def render(markdown: str, color: bool = False, width: int | None = None) -> str:
    """Markdown as terminal text: headings underlined, paragraphs and list items wrapped to
    ``width`` columns; with ``color``, bold, italic and `code` in ANSI bold, italic and cyan instead
    of their marks (without, only the bold and italic marks go)."""
    width = width or min(100, shutil.get_terminal_size((100, 24)).columns)
    # Marks become one private-use character each before wrapping (so a bold phrase may wrap),
    # and their escape codes (or nothing) after it.
    codes = dict(zip(_MARKS, ("\033[1m", "\033[3m", "\033[36m", "\033[0m") if color else ("", "", "", "")))
    start_bold, start_italic, start_code, end = _MARKS
    lines = []
    for block in re.split(r"\n\s*\n", markdown.strip()):
        heading = re.match(r"(#+) (.*)", block)
        if heading:
            title = _CODE.sub(lambda m: m.group(1), heading.group(2))
            rule = "=" if len(heading.group(1)) == 1 else "-"
            lines += ["", f"\033[1m{title}\033[0m" if color else title, rule * len(title), ""]
            continue
        for item in re.split(r"\n(?=- |\*\*)", block):     # list items, and lines that open in bold
            bullet = item.startswith("- ")
            text = " ".join(item[2 if bullet else 0:].split())
            text = _CODE.sub(lambda m: start_code + (m.group(1) if color else m.group(0)) + end, text)
            text = _ITALIC.sub(lambda m: start_italic + m.group(1) + end, _BOLD.sub(lambda m: start_bold + m.group(1) + end, text))
            wrapped = textwrap.fill(text, width, initial_indent="- " if bullet else "", subsequent_indent="  " if bullet else "",
                                    break_on_hyphens=False)
            lines.append("".join(codes.get(c, c) for c in wrapped))
        lines.append("")
    return "\n" + "\n".join(lines).strip("\n") + "\n"


WIDTH = 118   # the columns a printed line may fill: fit's default (the tests narrow it with NNKIT_TEST_FIT_WIDTH)


def fit(output: str, width: int | None = None) -> str:
    """A cell's printed ``output`` with every line longer than ``width`` columns (default :data:`WIDTH`)
    wrapped at spaces, its continuation indented 4 columns past the line's own indent; shorter lines stay as printed.

    >>> fit("a " * 5, width=6)
    'a a a\n    a\n    a'
    """
    width = width or WIDTH

    def wrapped(line: str) -> str:
        indent = " " * (len(line) - len(line.lstrip(" ")))
        return textwrap.fill(line.strip(), width, initial_indent=indent, subsequent_indent=indent + "    ",
                             break_on_hyphens=False, break_long_words=False)
    return "\n".join(wrapped(line) if len(line) > width else line for line in output.split("\n"))


def run(path: Path, quick: bool = False, out: str | None = None, echo=print, text=None, threads: int | None = None) -> dict:
    """Execute the tutorial's cells in one namespace; ``echo`` gets each cell's printed output, and
    ``text`` (when given) the markdown before each cell and after the last, in order.
    Returns the namespace (the tests read the values the tutorial computed)."""
    out = out or str(FOLDER / "out" / path.stem)
    os.makedirs(out, exist_ok=True)
    namespace = {"__name__": "__main__", "QUICK": quick, "OUT": out, "THREADS": threads}
    between = prose(path)
    for number, code in enumerate(cells(path), start=1):
        if text and between[number - 1].strip():
            text(between[number - 1])
        buffer = io.StringIO()
        with contextlib.redirect_stdout(buffer):
            exec(compile(code, f"{path.name}, cell {number}", "exec"), namespace)  # noqa: S102 — our own files
        if buffer.getvalue():
            echo(buffer.getvalue().rstrip())
    if text and between[-1].strip():
        text(between[-1])
    return namespace
