"""Run the tutorials: markdown files (MyST, openable as notebooks with jupytext) whose
``{code-cell}`` blocks run in order, in one namespace, like a notebook from top to bottom.

``nnkit tutorial`` lists them; ``nnkit tutorial NAME`` runs one and prints each cell's output.
Tutorials read ``QUICK`` (true under the test suite: small sizes) and ``OUT`` (where to write
figures) from their namespace.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
from pathlib import Path

FOLDER = Path(__file__).resolve().parent.parent / "tutorials"
_CELL = re.compile(r"^```\{code-cell\}[^\n]*\n(.*?)^```", re.S | re.M)


def available() -> list[Path]:
    """The tutorial files, in their numbered order."""
    return sorted(FOLDER.glob("[0-9][0-9]-*.md"))


def find(name: str) -> Path:
    """A tutorial by number (``"5"``), file stem (``"05-np-dot-to-dgemm"``) or any unique part of it."""
    matches = [p for p in available() if name in (p.stem, p.stem[:2], p.stem[:2].lstrip("0")) or name in p.stem]
    if len(matches) != 1:
        names = ", ".join(p.stem for p in available())
        raise ValueError(f"tutorial {name!r}: expected one of {names}" + (f" (matches {len(matches)})" if matches else ""))
    return matches[0]


def cells(path: Path) -> list[str]:
    """The code of every ``{code-cell}`` block, in order."""
    return [match.group(1) for match in _CELL.finditer(path.read_text())]


def run(path: Path, quick: bool = False, out: str | None = None, echo=print) -> dict:
    """Execute the tutorial's cells in one namespace; ``echo`` gets each cell's printed output.
    Returns the namespace (the tests read the values the tutorial computed)."""
    out = out or str(FOLDER / "out" / path.stem)
    os.makedirs(out, exist_ok=True)
    namespace = {"__name__": "__main__", "QUICK": quick, "OUT": out}
    for number, code in enumerate(cells(path), start=1):
        buffer = io.StringIO()
        with contextlib.redirect_stdout(buffer):
            exec(compile(code, f"{path.name}, cell {number}", "exec"), namespace)  # noqa: S102 — our own files
        if buffer.getvalue():
            echo(buffer.getvalue().rstrip())
    return namespace
