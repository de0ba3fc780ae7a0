"""The notebook route: each tutorial as a Jupyter notebook, executed by a real IPython kernel.

jupytext reads a tutorial's MyST markdown as a notebook — its code cells are the very
``{code-cell}`` blocks ``nnkit tutorial`` runs — and nbclient executes it, the kernel's namespace
seeded as the terminal route seeds it (``QUICK``, ``OUT``). Every image the tutorial writes into
``OUT`` during a cell becomes an output of that cell, so the executed notebook carries its figures.

``python -m nnkit.notebooks [--quick] [--out DIR] [NAME ...]`` writes ``DIR/NAME.ipynb`` (default
DIR: ``tutorials/out/notebooks``). Needs the ``notebooks`` extra: ``pip install -e '.[notebooks]'``.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path
from typing import Sequence

from nnkit import tutorials

FIGURE_SUFFIXES = (".png", ".svg", ".jpg", ".jpeg")
_SEED = """\
import warnings
warnings.filterwarnings("ignore", message="IProgress not found")  # tqdm.auto without ipywidgets: a text bar is fine
from nnkit.notebooks import show_figures_as_outputs
show_figures_as_outputs(get_ipython())
del show_figures_as_outputs, warnings
QUICK, OUT, THREADS = {quick!r}, {out!r}, None
"""


class NotebookFailed(RuntimeError):
    """A tutorial's cell raised while its notebook ran: names the file and the cell."""


def convert(path: Path):
    """The tutorial at ``path`` as an in-memory notebook (``nbformat.NotebookNode``), not yet run."""
    import jupytext

    return jupytext.read(path)


def code_cells(notebook) -> list[str]:
    """The source of every code cell, in order."""
    return [cell.source for cell in notebook.cells if cell.cell_type == "code"]


def figures(notebook) -> int:
    """How many images the notebook's outputs carry."""
    return sum(any(kind.startswith("image/") for kind in output.get("data", {}))
               for cell in notebook.cells if cell.cell_type == "code" for output in cell.outputs)


def execute(path: Path, quick: bool, out: Path, timeout: int = 1800):
    """Run the tutorial at ``path`` as a notebook in a fresh kernel (working directory and ``OUT``:
    ``out``, created) and return the executed notebook; a cell that raises → :class:`NotebookFailed`.
    ``timeout`` bounds each cell, in seconds."""
    import nbformat
    from jupyter_client import AsyncKernelManager
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError, DeadKernelError

    notebook = convert(path)
    out.mkdir(parents=True, exist_ok=True)
    notebook.cells.insert(0, nbformat.v4.new_code_cell(_SEED.format(quick=quick, out=str(out))))
    with tempfile.TemporaryDirectory(prefix="nnkit-kernel-") as sockets:  # the kernel's sockets: files, no TCP port
        kernel = AsyncKernelManager(kernel_name="python3", transport="ipc", ip=os.path.join(sockets, "k"))
        client = NotebookClient(notebook, km=kernel, timeout=timeout, resources={"metadata": {"path": str(out)}})
        try:
            client.execute(cleanup_kc=True)  # stop the kernel it was handed, as it would one of its own
        except CellExecutionError as error:
            cell = _failed_cell(notebook)
            raise NotebookFailed(f"{path.name}, code cell {cell}: {error.ename}: {error.evalue}") from None
        except DeadKernelError:
            raise NotebookFailed(f"{path.name}: the kernel died while a cell ran (killed, or a crash in native code)") from None
    del notebook.cells[0]
    return notebook


def _failed_cell(notebook) -> int:
    """The number (from 1, the seed cell not counted) of the code cell whose output is an error."""
    cells = [cell for cell in notebook.cells if cell.cell_type == "code"]
    return next(n for n, cell in enumerate(cells) if any(o.output_type == "error" for o in cell.outputs))


def show_figures_as_outputs(shell) -> None:
    """After every cell, display each image file written or rewritten under the namespace's ``OUT``
    folder during it (oldest first), as that cell's output. Runs inside the kernel."""
    from IPython.display import SVG, Image, display

    shown: dict[Path, tuple[int, int]] = {}

    def after_cell(result) -> None:
        folder = shell.user_ns.get("OUT")
        if not isinstance(folder, (str, os.PathLike)) or not os.path.isdir(folder):
            return
        files = [p for p in Path(folder).rglob("*") if p.suffix.lower() in FIGURE_SUFFIXES and p.is_file()]
        for path in sorted(files, key=lambda p: p.stat().st_mtime_ns):
            stamp = (path.stat().st_mtime_ns, path.stat().st_size)
            if shown.get(path) != stamp:
                shown[path] = stamp
                display(SVG(filename=path) if path.suffix.lower() == ".svg" else Image(filename=path))

    shell.events.register("post_run_cell", after_cell)


def read(path: Path):
    """The notebook (.ipynb) at ``path``."""
    import nbformat

    return nbformat.read(path, as_version=4)


def write(notebook, target: Path) -> None:
    """Write ``notebook`` to ``target`` (.ipynb) atomically."""
    import nbformat

    from nnkit.files import atomic_write

    atomic_write(target, lambda f: f.write(nbformat.writes(notebook).encode()))


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m nnkit.notebooks``: execute tutorials as notebooks; one line per notebook."""
    parser = argparse.ArgumentParser(prog="python -m nnkit.notebooks", description="Run the tutorials as Jupyter notebooks.")
    parser.add_argument("names", nargs="*", metavar="NAME", help="tutorials by number or part of a name (default: all)")
    parser.add_argument("--quick", action="store_true", help="small sizes (what the test suite runs)")
    parser.add_argument("--out", type=Path, default=tutorials.FOLDER / "out" / "notebooks", help="where the .ipynb files go")
    args = parser.parse_args(argv)
    try:
        paths = [tutorials.find(name) for name in args.names] or tutorials.available()
        for path in paths:
            notebook = execute(path, args.quick, args.out / path.stem)
            write(notebook, args.out / f"{path.stem}.ipynb")
            print(f"{args.out / path.stem}.ipynb: {len(code_cells(notebook))} cells run, {figures(notebook)} figures")
    except ModuleNotFoundError as error:
        print(f"{parser.prog}: error: {error.name} is missing: pip install -e '.[notebooks]'", file=sys.stderr)
        return 1
    except (ValueError, OSError, NotebookFailed) as error:
        print(f"{parser.prog}: error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
