"""The notebook route: a tutorial read by jupytext has the very code cells ``nnkit tutorial`` runs,
and executes in a real IPython kernel, its figures shown as the outputs of the cells that wrote them.
(Every tutorial executes as a notebook in the book's full build: tests/test_book.py, ``-m long``.)"""

import os
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

import pytest
from hypothesis import strategies as st

from generators import drawn
from myst_files import myst
from nnkit import notebooks, tutorials

for _module in ("jupytext", "nbclient", "ipykernel"):
    pytest.importorskip(_module, reason="the notebooks extra is not installed (pip install -e '.[notebooks]')")

ALL = tutorials.available()


def same_code(path) -> bool:
    """Does jupytext read the code cells ``nnkit tutorial`` runs (up to blank lines around them, which
    jupytext drops)?"""
    return [c.strip("\n") for c in notebooks.code_cells(notebooks.convert(path))] == [c.strip("\n") for c in tutorials.cells(path)]


@pytest.mark.parametrize("path", ALL, ids=[p.stem for p in ALL])
def test_a_tutorials_notebook_has_the_cells_the_terminal_runs(path):
    assert same_code(path)


_LINE = st.sampled_from(["x = 1", "", "    y = [i for i in range(3)]", "# a comment: `code` and ``more``", "s = '```'",
                         "print(f'{x:>4}')", "def f():", "\tpass", "z = x  # trailing", "``` not a closing fence"])
_OPTIONS = st.sampled_from(["", ":tags: [hide-input]\n", "---\ntags: [hide-output]\n---\n"])  # a cell's metadata


@drawn(30, 200, cells=st.lists(st.tuples(_OPTIONS, st.lists(_LINE, min_size=1, max_size=6).map("\n".join)
                                         .filter(str.strip)).map("".join), min_size=1, max_size=5),
       prose=st.sampled_from(["Prose.", "Prose with `code` and **bold**.", "A list:\n\n- one\n- two"]))
def test_any_myst_file_gives_the_notebook_the_same_code_as_the_terminal(cells, prose):
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "t.md"
        path.write_text(myst(*cells, prose=prose))
        assert same_code(path)


def test_a_notebook_runs_seeded_like_the_terminal_and_shows_each_figure_once(tmp_path):
    draw = textwrap.dedent("""\
        import os
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        def draw(name, n):
            fig, ax = plt.subplots(figsize=(2, 2))
            ax.plot(range(n))
            fig.savefig(os.path.join(OUT, name))
            plt.close(fig)""")
    path = tmp_path / "figures.md"
    path.write_text(myst(draw + "\ndraw('a.png', 3); draw('b.png', 4)", "print('QUICK is', QUICK)", "draw('b.png', 5)"))
    notebook = notebooks.execute(path, quick=True, out=tmp_path / "out")
    first, second, third = (cell for cell in notebook.cells if cell.cell_type == "code")
    assert [len(c.outputs) for c in (first, second, third)] == [2, 1, 1]   # the seed cell is gone; b.png redrawn once
    assert second.outputs[0].text == "QUICK is True\n"
    assert notebooks.figures(notebook) == 3
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["a.png", "b.png"]


def test_a_failing_cell_names_the_file_and_the_cell(tmp_path):
    path = tmp_path / "broken.md"
    path.write_text(myst("x = 1", "raise ValueError('the tutorial is wrong')", "print('never')"))
    with pytest.raises(notebooks.NotebookFailed, match=r"^broken\.md, code cell 2: ValueError: the tutorial is wrong$"):
        notebooks.execute(path, quick=True, out=tmp_path / "out")
    children = subprocess.run(["ps", "--ppid", str(os.getpid()), "-o", "args="], capture_output=True, text=True).stdout
    assert "ipykernel" not in children   # the kernel is stopped, not left behind


def test_a_kernel_that_dies_is_named_not_waited_for(tmp_path):
    path = tmp_path / "crash.md"
    path.write_text(myst("import os, signal", "os.kill(os.getpid(), signal.SIGKILL)"))
    with pytest.raises(notebooks.NotebookFailed, match=r"^crash\.md: the kernel died while a cell ran"):
        notebooks.execute(path, quick=True, out=tmp_path / "out")


def test_the_command_writes_an_executed_notebook(tmp_path):
    import nbformat

    first = ALL[0]
    done = subprocess.run([sys.executable, "-m", "nnkit.notebooks", "--quick", "--out", str(tmp_path), first.stem],
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    notebook = nbformat.read(tmp_path / f"{first.stem}.ipynb", as_version=4)
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    assert [cell.source for cell in code] == notebooks.code_cells(notebooks.convert(first))
    assert all(cell.execution_count for cell in code) and not any(o.output_type == "error" for c in code for o in c.outputs)


def test_the_command_refuses_an_unknown_tutorial_in_one_line(tmp_path):
    done = subprocess.run([sys.executable, "-m", "nnkit.notebooks", "--out", str(tmp_path), "no-such-tutorial"],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 1 and done.stderr.count("\n") == 1
    assert done.stderr.startswith("python -m nnkit.notebooks: error: tutorial 'no-such-tutorial': expected one of")
