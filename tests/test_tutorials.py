"""Every tutorial runs end to end (small sizes), and the values it claims hold — its own cells
assert them (the explanation equals the trace, the bridge equals np.dot, the view is no copy).
Each draws at least one figure, and every figure it names exists as a PNG; `nnkit tutorial N`
prints the prose between the outputs; the order is the one a learner needs."""

import functools
import re
import sys

import numpy as np
import pytest
from hypothesis import example, given, settings, strategies as st

from generators import drawn
from nnkit import tutorials
from tutorial_runs import quick

ALL = tutorials.available()


def test_there_are_tutorials_and_each_has_code():
    assert ALL and all(tutorials.cells(path) for path in ALL)


@pytest.mark.parametrize("path", ALL, ids=[p.stem for p in ALL])
def test_a_tutorial_runs_from_top_to_bottom_and_draws_what_it_names(path, plain_run):
    _, text, out = plain_run(path.stem)
    figures = re.findall(r"^figure: (.+\.png)$", text, re.M)
    assert figures, f"{path.stem} draws no figure"
    for figure in figures:
        with open(figure, "rb") as f:
            assert f.read(8) == b"\x89PNG\r\n\x1a\n", figure
    assert {f.name for f in out.glob("*.png")} >= {figure.rsplit("/", 1)[-1] for figure in figures}
    if path.stem in FIT_THE_BOOK:
        assert [line for line in text.splitlines() if not fits_the_book(line)] == []


# Tutorials whose output has been laid out for the book's code column (docs/book/conf.py: ~120 characters)
FIT_THE_BOOK = {"01-the-network", "02-the-ndarray", "05-np-dot-to-dgemm", "10-one-network-many-backends"}


def fits_the_book(line: str) -> bool:
    """At most 120 characters, unless one word (a path, a whole BLAS call) cannot be broken."""
    return len(line) <= 120 or len(line) - len(max(line.split(), key=len)) <= 20


def test_the_dgemm_tutorial_shows_the_real_call(plain_run):
    ns = plain_run("np-dot")[0]
    assert ns["real"].routine == "dgemm" and ns["real"].lda == ns["W1"].shape[1]
    assert (ns["C"] == ns["Z1"]).all()


def test_the_backends_tutorial_without_dask_says_what_to_install(monkeypatch, tmp_path):
    class Absent:                    # as after `pip install -e .` alone: dask and distributed cannot be imported
        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0] in ("dask", "distributed"):
                raise ModuleNotFoundError(f"No module named {name!r}", name=name)

    for name in [n for n in sys.modules if n.split(".")[0] in ("dask", "distributed")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setattr(sys, "meta_path", [Absent(), *sys.meta_path])
    printed, read = [], []
    tutorials.run(tutorials.find("backends"), quick=True, out=str(tmp_path), echo=printed.append,
                  text=lambda block: read.append(block) if printed and printed[-1].endswith("run this tutorial again)") else None)
    missing = [line for text in printed for line in text.splitlines() if "needs dask" in line]
    assert missing == ["Step 4 needs dask, which nnkit does not install by default: .venv/bin/pip install -q -e '.[dask]' "
                       "(then run this tutorial again)"]
    prose = re.sub(r"\s+", " ", "\n".join(read))           # the text after Step 4's printed lines, flattened
    assert not any("one cause at a time" in text for text in printed) and "the lines above measure" not in prose
    assert "Step 4's lines of causes — printed only where dask is installed — say whether each cause moved" in prose


def test_find_names_what_exists():
    with pytest.raises(ValueError, match="expected one of"):
        tutorials.find("no-such-tutorial")
    for number, path in enumerate(ALL, start=1):      # "1" is tutorial 1, not also 10
        assert tutorials.find(str(number)) == path == tutorials.find(path.stem)


def test_the_order_is_the_one_a_learner_needs():
    position = {re.sub(r"^\d\d-", "", p.stem): i for i, p in enumerate(ALL)}
    assert [p.stem[:2] for p in ALL] == [f"{i:02d}" for i in range(1, len(ALL) + 1)]
    assert position["the-network"] == 0                                   # what the others build on
    assert position["the-ndarray"] < position["broadcasting"] < position["np-dot-to-dgemm"]
    assert max(position["memory"], position["threads-and-simd"]) < position["the-speed-ladder"] < position["inside-dgemm"]
    assert position["inside-dgemm"] < position["training"]                # its roofline is used there


@pytest.mark.parametrize("path", ALL, ids=[p.stem for p in ALL])
def test_references_to_other_tutorials_name_the_right_one(path):
    titles = {i: p.stem for i, p in enumerate(ALL, start=1)}
    for number in re.findall(r"[Tt]utorials? (\d+)", path.read_text()):
        assert int(number) in titles, f"{path.stem} names tutorial {number}"


@pytest.mark.parametrize("path", ALL, ids=[p.stem for p in ALL])
def test_the_prose_comes_between_the_outputs(path):
    prose = tutorials.prose(path)
    assert len(prose) == len(tutorials.cells(path)) + 1 and "jupytext" not in prose[0]
    shown = tutorials.render("\n\n".join(prose), width=100)
    headings = re.findall(r"^#+ (.*)$", path.read_text(), re.M)
    assert headings and all(h.replace("`", "") in shown for h in headings)
    assert "**" not in shown and max(len(line) for line in shown.splitlines() if not line.startswith("|")) <= 100 + 40
    assert "\033[1m" in tutorials.render(prose[0], color=True)


def test_the_network_tutorial_says_of_dead_units_only_what_its_run_counts():
    """Reader 25 c5: "one or two dead units are common" was an aside no line measured; the prose now points at the
    line that counts them in this run, which the code prints."""
    path = tutorials.find("the-network")
    prose, code = " ".join(" ".join(tutorials.prose(path)).split()), "\n".join(tutorials.cells(path))
    assert "are common" not in prose
    assert "line (4) counts the units that fire for no sample" in prose
    assert 'print(f"(4) hidden ReLUs that fire for no sample: {int(np.sum(np.all(Zs0[0] <= 0, axis=1)))} of ' in code


def test_the_gradient_check_prints_the_epsilon_both_of_its_checks_use(plain_run):
    """Reader 29 c15: the "Try this" about float32 asks why ε must grow, so the run states the ε it nudged by, and
    both checks (the right backward pass and the seed's buggy one) use that ε."""
    ns, text, _ = plain_run("the-network")
    assert f"\nε = {ns['EPS']:g}, each parameter nudged by ±ε in float64\nW1: relative error" in text
    code = "\n".join(tutorials.cells(tutorials.find("the-network")))
    assert code.count("gradcheck.relative_errors(") == code.count("eps=EPS)") == 2


def test_the_network_graph_dashes_the_gradient_backpropagation_never_computes():
    """Reader 30 c12: the "dA2 = … never computed" arrow was drawn like the others; the tutorial names it as the
    step never computed, which the figure draws dashed (tests/test_tutorial_01.py), and the prose says so."""
    path = tutorials.find("the-network")
    code, prose = "\n".join(tutorials.cells(path)), " ".join(" ".join(tutorials.prose(path)).split())
    assert 'backward = [(5, 4, "dA2 = −Y/(n·A2): never computed (A2 may be 0)", False),' in code
    assert code.count("0)\", False)") == 1 and code.count("\", True)") == 4        # one dashed, four computed
    assert 'plots.computational_graph(nodes, backward, os.path.join(OUT, "graph.png"))' in code
    assert "the dashed arrow over the boxes is `dA2`, the step the first rule skips" in prose


@functools.cache   # parsed once: a generator calls these functions hundreds of times
def _network_functions() -> dict:
    """The functions the network tutorial defines, taken from its code cells alone (no run), side by side (one may
    call another), by name."""
    import ast
    code = "\n".join(tutorials.cells(tutorials.find("the-network")))
    nodes = [n for n in ast.walk(ast.parse(code)) if isinstance(n, ast.FunctionDef)]
    space = {"np": np}
    exec(compile(ast.Module(nodes, []), "01-the-network.md", "exec"), space)
    return space


def _network_function(name: str):
    """The function ``name`` the network tutorial defines (:func:`_network_functions`)."""
    return _network_functions()[name]


@settings(max_examples=30, deadline=None)
@given(diverged=st.lists(st.sampled_from(["0.001", "0.01", "0.1", "0.5", "1", "3"]), unique=True, max_size=3))
def test_the_learning_rate_figure_names_a_diverged_rate_only_when_one_diverged(diverged):
    """Reader 26 c7: the title said "(a rate whose loss diverged is left out)" when none diverged; it now names the
    rates the run printed as diverged, and says nothing of divergence when none did."""
    title = _network_function("sweep_title")(diverged)
    assert ("diverged" in title) == bool(diverged)
    assert all(rate in title for rate in diverged)
    code = "\n".join(tutorials.cells(tutorials.find("the-network")))
    assert "sweep_title(diverged)" in code and "if np.isfinite(final[lr])}" in code   # drawn: exactly those not left out


@drawn(30, 300, initial=st.floats(2.0, 2.6),
       losses=st.lists(st.one_of(st.floats(0.01, 3.0), st.just(float("nan")),
                                 st.sampled_from([2.26485, 2.26535, 0.20995, 0.2205])),
                       min_size=6, max_size=6).filter(lambda v: not all(map(np.isnan, v))))
@example(initial=2.384, losses=[2.26476, 2.26484, 0.2, 0.21004, 0.20996, float("nan")])   # each prints at its mark
def test_the_learning_rate_sweep_decides_on_the_losses_as_printed(initial, losses):
    """Reader 30 (the book's rule: a verdict is decided from the figures as printed): the sweep's best rates, its
    diverged ones and those that learned almost nothing follow from the 4-decimal losses and the 3-decimal initial
    loss the run prints — a loss that prints at the 5 % mark is on its printed side, never on the hidden one."""
    rates = (0.001, 0.01, 0.1, 0.3, 1.0, 10.0)
    best, diverged, stuck = _network_function("sweep_reading")(dict(zip(rates, losses)), initial)
    shown = {f"{lr:g}": float(f"{v:.4f}") for lr, v in zip(rates, losses)}
    lowest = min(v for v in shown.values() if not np.isnan(v))
    assert diverged == [lr for lr, v in shown.items() if np.isnan(v)]
    assert best == [lr for lr, v in shown.items() if v <= 1.05 * lowest] and best
    assert stuck == [lr for lr, v in shown.items() if v > 0.95 * float(f"{initial:.3f}")]
    untrained, mark = _network_function("sweep_marks")(initial).values()   # reader 31 c15: the figure draws this mark
    assert untrained == float(f"{initial:.3f}") and stuck == [lr for lr, v in shown.items() if v > mark]


def test_the_learning_rate_figure_draws_the_marks_its_verdict_reads(monkeypatch, tmp_path):
    """Reader 31 c15: the figure drew ln 10 while "learned almost nothing" reads the untrained loss; it now draws the
    untrained loss as printed and the 95 % of it the verdict reads, each labelled with its value, and no ln 10 — the
    rates named as having learned almost nothing are exactly those whose last printed loss ends above the mark."""
    from nnkit import plots
    drawn, real = [], plots.curves
    monkeypatch.setattr(plots, "curves", lambda *a, **k: (drawn.append(k["lines"]), real(*a, **k))[1])
    _, text = quick("the-network", tmp_path)
    initial = float(re.search(r"^\(1\) loss before training ([\d.]+);", text, re.M).group(1))
    (lines,) = drawn
    (untrained, at), (mark, above) = lines.items()
    assert at == initial and f"untrained loss, {initial:.3f}" in untrained and "ln 10" not in " ".join(lines)
    assert above == pytest.approx(0.95 * initial) and f"95% of it, {above:.3f}" in mark and "learned almost nothing" in mark
    last = {rate: float(losses.split(" → ")[-1]) for rate, losses in
            re.findall(r"^ +(\d+(?:\.\d+)?): ((?:\d+\.\d{4}(?: → )?)+)", text, re.M)}
    named = re.search(r"learned almost nothing \(within 5 % of the untrained loss, or worse\): (.*)$", text, re.M).group(1)
    assert named.split(", ") == ([rate for rate, loss in last.items() if loss > above] or ["none"])


def test_the_ndarray_tutorial_shows_the_write_through_a_view_that_its_figure_draws(plain_run):
    """Reader 31 c19: the run printed the changed array but not the line that changed it; it now prints the view it
    took and the assignment through it, with a[1, 0] before and after, right above the array — and the figure's
    array holds that 100, which Step 5's prose traces to the same line."""
    ns, text, _ = plain_run("ndarray")
    shown = re.search(r"^v = a\[1:, ::2\] +a view of a: np\.shares_memory\(v, a\) is True\n"
                      r"v\[0, 0\] = 100\.0 +v\[0, 0\] is a\[1, 0\]: a\[1, 0\] was (\S+), is 100 now\na:\n(\[\[.*?\]\])\n",
                      text, re.M | re.S)
    assert shown and float(shown[1]) == 4 and shown[2] == str(ns["a"])
    assert ns["a"][1, 0] == 100 and ns["shown"]["a (C order)"] is ns["a"]
    prose = " ".join(" ".join(tutorials.prose(tutorials.find("ndarray"))).split())
    assert "Step 4 wrote it through the view `v`, `v[0, 0] = 100.0`." in prose


def test_the_network_tutorial_says_it_prints_the_lowest_and_highest_class_probability():
    """Reader 26 c7: the run prints the lowest and highest of the classes' mean probabilities, not each one."""
    prose = " ".join(" ".join(tutorials.prose(tutorials.find("the-network"))).split())
    assert "prints each class's mean probability" not in prose
    assert "the run prints the lowest and the highest of the classes' mean probabilities" in prose


words = st.text(alphabet="abcdefghij ", min_size=1, max_size=12).filter(str.strip)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["", "**", "`", "*"]), words), min_size=1, max_size=30), st.integers(20, 120))
def test_rendering_keeps_every_word_and_drops_only_the_marks(pieces, width):
    markdown = " ".join(f"{mark}{text.strip()}{mark}" for mark, text in pieces)
    shown = tutorials.render(markdown, width=width)
    assert shown.split() == " ".join(text.strip() if mark != "`" else f"`{text.strip()}`" for mark, text in pieces).split()


@given(st.lists(st.tuples(st.integers(0, 12), st.lists(st.text("ab←:|", min_size=1, max_size=30), max_size=40)),
                min_size=1, max_size=6), st.integers(30, 160))
def test_output_lines_are_fitted_to_a_width_keeping_words_indent_and_short_lines(lines, width):
    output = "\n".join(" " * indent + " ".join(words) for indent, words in lines)
    shown = tutorials.fit(output, width)
    assert shown.split() == output.split()
    for line in shown.split("\n"):
        assert len(line) <= width or " " not in line.strip(), line
    for line in output.split("\n"):
        if len(line) <= width:
            assert line in shown.split("\n")
    assert all(len(line) <= width for line in shown.splitlines() if " " in line.strip())


def test_a_tutorial_reads_quick_out_and_the_threads_asked_for(tmp_path):
    """``nnkit tutorial --threads N`` reaches the tutorial as ``THREADS`` (None when not given), so a
    step that chooses threads as ``nnkit train`` does takes the reader's count."""
    from myst_files import myst

    path = tmp_path / "99-threads.md"
    path.write_text(myst("print('THREADS is', THREADS, 'QUICK is', QUICK)"))
    for threads in (None, 3):
        printed = []
        tutorials.run(path, quick=True, out=str(tmp_path), echo=printed.append, threads=threads)
        assert "".join(printed).strip() == f"THREADS is {threads} QUICK is True"
