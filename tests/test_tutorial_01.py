"""Tutorial 1's graph (reader 32 c13): the figure had a large empty area on its right, the forward pass ran down and
the backward rules stood apart from their arrows, with ``dZ2`` drawn between ``Z2`` and ``A2``. It is now one row
read left to right (forward) and right to left (backward, each rule under its own arrow), the gradient of the loss
going straight to ``Z2``, the step never computed dashed over the row — spread over the book's width, nothing
overlapping. The figure is drawn by ``plots.graph_figure`` from the tutorial's own cell's lists, not a copy."""

import ast
import re
import os

import matplotlib
import numpy as np
import pytest

from nnkit import plots, tutorials

matplotlib.use("Agg")
import matplotlib.pyplot as plt           # noqa: E402  (after choosing the backend)

BOOK_PX = 900               # tests/test_plots.py: the book's page width in pixels, figures shown unscaled at 110 dpi
SHAPES = {"X": (64, 5), "Z1": (16, 5), "A1": (16, 5), "Z2": (10, 5), "A2": (10, 5)}    # the network of Step 1


def _graph_cell() -> str:
    return next(cell for cell in tutorials.cells(tutorials.find("the-network")) if "plots.computational_graph(" in cell)


def _figure():
    """The figure the tutorial's cell draws, with the live arrays' shapes of Step 1; its axes; the part saved."""
    tree = ast.parse(_graph_cell())
    kept = [node for node in tree.body            # what it defines, not what it draws and saves
            if not isinstance(node, ast.Expr) and ast.unparse(node).split(" = ")[0] != "fig, drawn"]
    scope = {"os": os, "OUT": "unused"} | {name: np.zeros(shape) for name, shape in SHAPES.items()}
    exec(compile(ast.Module(kept, []), "01-the-network.md", "exec"), scope)
    fig, saved = plots.graph_figure(scope["nodes"], scope["backward"])
    return fig, fig.axes[0], saved, scope


@pytest.fixture(scope="module")
def graph():
    fig, ax, saved, scope = _figure()
    fig.canvas.draw()
    yield fig, ax, saved, scope
    plt.close(fig)


def _split(ax, scope):
    """The boxes (in the order of the nodes), the rules' words, the title; the black arrows, the red ones."""
    n = len(scope["nodes"])
    boxes, rules, title = ax.texts[:n], ax.texts[n:-1], ax.texts[-1]
    black = [p for p in ax.patches if p.get_edgecolor()[:3] == (0, 0, 0)]
    red = [p for p in ax.patches if p not in black]
    return boxes, rules, title, black, red


def _drawn(arrow) -> np.ndarray:
    """The points an arrow's line and head pass through, in pixels: its path's vertices and 50 points between each
    two (its head included)."""
    points = arrow.get_transform().transform(arrow.get_path().vertices)
    steps = np.linspace(0, 1, 50)[:, None]
    return np.vstack([a + steps * (b - a) for a, b in zip(points, points[1:])])


def _ends(arrow):
    """An arrow's line's first point and its head's tip, in pixels."""
    points = arrow.get_transform().transform(arrow.get_path().vertices)
    return points[0], points[-2]         # the head is drawn last: one side, the tip, the other side


def test_the_forward_pass_reads_left_to_right_in_one_row(graph):
    fig, ax, saved, scope = graph
    boxes, _, _, black, _ = _split(ax, scope)
    frames = [b.get_bbox_patch().get_window_extent() for b in boxes]
    assert all(a.x1 < b.x0 for a, b in zip(frames, frames[1:]))
    assert max(f.y0 for f in frames) - min(f.y0 for f in frames) < 1      # pixels: the glyphs' depths differ
    assert len(black) == len(boxes) - 1
    for arrow, left, right in zip(black, frames, frames[1:]):
        start, end = _ends(arrow)
        assert left.x1 <= start[0] < end[0] <= right.x0


def test_the_backward_pass_reads_right_to_left_each_rule_under_its_own_arrow(graph):
    """A computed gradient: a solid red arrow under the row, from its box back to an earlier one, its rule under
    it and within its span; the step never computed: dashed, over the row. The loss's gradient reaches ``Z2``
    directly: no red arrow ends at ``A2`` but the dashed one."""
    fig, ax, saved, scope = graph
    boxes, rules, _, _, red = _split(ax, scope)
    frames = [b.get_bbox_patch().get_window_extent() for b in boxes]
    assert len(red) == len(rules) == len(scope["backward"])
    for (start, end, rule, computed), arrow, words in zip(scope["backward"], red, rules):
        first, last = _ends(arrow)
        span = arrow.get_window_extent()
        assert frames[end].x0 < last[0] < first[0] < frames[start].x1
        assert words.get_text() == rule
        where = words.get_window_extent()
        if computed:
            assert arrow.get_linestyle() == "-" and span.y1 <= frames[start].y0 and where.y1 <= span.y0
        else:
            assert arrow.get_linestyle() == "--" and span.y0 >= frames[start].y1 and where.y0 >= span.y1
        assert span.x0 <= (where.x0 + where.x1) / 2 <= span.x1
    names = [name.split(" =")[0] for name, _ in scope["nodes"]]
    into = {names[end]: computed for _, end, _, computed in scope["backward"]}
    assert into["A2"] is False and into["Z2"] is True
    assert [name for _, end, _, _ in scope["backward"] for name in [names[end]]] == ["A2", "Z2", "A1", "Z1", "X"]


def test_nothing_overlaps_and_the_figure_fills_the_books_width(graph):
    """Every box, rule and title apart, and no arrow passing through one; the saved part at most the book's width,
    10-point text; and no dead area: every eighth of the width holds a box and a red arrow or its rule."""
    fig, ax, saved, scope = graph
    boxes, rules, title, black, red = _split(ax, scope)
    shown = [(b.get_text(), b.get_bbox_patch().get_window_extent()) for b in boxes]
    shown += [(t.get_text(), t.get_window_extent()) for t in rules + [title]]
    for i, (what, box) in enumerate(shown):
        for other_what, other in shown[i + 1:]:
            assert not box.overlaps(other), (what, other_what)
        for k, arrow in enumerate(black + red):
            x, y = _drawn(arrow).T
            assert not np.any((box.x0 < x) & (x < box.x1) & (box.y0 < y) & (y < box.y1)), (what, k)
    assert saved.width * 110 <= BOOK_PX
    assert min(t.get_fontsize() for t in ax.texts) >= 10
    backward = [p.get_window_extent() for p in red] + [t.get_window_extent() for t in rules]
    frames = [b.get_bbox_patch().get_window_extent() for b in boxes]
    left, right = saved.x0 * fig.dpi, saved.x1 * fig.dpi
    for k in range(8):
        band = (left + k * (right - left) / 8, left + (k + 1) * (right - left) / 8)
        assert any(f.x0 < band[1] and band[0] < f.x1 for f in frames), k
        assert any(u.x0 < band[1] and band[0] < u.x1 for u in backward), k


def test_the_prose_says_how_the_graph_reads():
    prose = " ".join(" ".join(tutorials.prose(tutorials.find("the-network"))).split())
    assert ("The forward pass reads left to right (black arrows); the backward pass reads right to left under the "
            "boxes (red arrows), each rule written under its own arrow.") in prose
    assert "the dashed arrow over the boxes is `dA2`, the step the first rule skips" in prose


@pytest.fixture
def network(plain_run):
    """Tutorial 1's quick run (the plain one the other test files read): its namespace and what it printed."""
    return plain_run("the-network")[:2]


def _initials(total: int) -> list[float]:
    """Untrained losses to check (1) against: each side of ln 10 ± the tolerance, the printed marks themselves (2.303
    ± 0.5 as printed), and a seeded spread from 1 to 4."""
    marks = [2.303 + 0.5, 2.303 - 0.5, 2.8025, 2.8035, 1.8025, 1.8035, 2.384, 2.302585]
    return marks + list(np.random.default_rng(12).uniform(1.0, 4.0, total))


@pytest.mark.parametrize("total", [40, pytest.param(400, marks=pytest.mark.long)])
def test_the_initial_loss_check_prints_its_tolerance_and_flags_from_it(network, total):
    """The "loss before training ≈ ln 10" check (1) printed the loss and ln 10 but not the tolerance it allows (0.5,
    in code only): the line now prints how far apart the two lie, as printed, and the check's tolerance, read from
    the variable the check uses; it flags them exactly where that printed distance reaches the tolerance."""
    ns, text = network
    tolerance = ns["LN10_TOLERANCE"]
    said = lambda initial: ns["initial_loss_said"](initial, tolerance)
    for initial in _initials(total):
        line = said(initial)
        shown, ln10, apart, limit = re.match(r"\(1\) loss before training (\d+\.\d{3}); ln 10 = (\d\.\d{3}); "
                                             r"(\d+\.\d{3}) apart, (?:within|at or beyond) the check's tolerance of "
                                             r"([\d.]+)", line).groups()
        assert float(apart) == pytest.approx(abs(float(shown) - float(ln10)), abs=1e-9) and float(limit) == tolerance
        assert ("FAR from ln 10" in line) == ("at or beyond" in line) == (float(apart) >= tolerance)
        assert all(len(row) <= 118 for row in line.split("\n"))
    assert re.search(rf"^\(1\) loss before training [\d.]+; ln 10 = 2\.303; [\d.]+ apart, within the check's "
                     rf"tolerance of {tolerance:g}$", text, re.M)
    prose = " ".join(" ".join(tutorials.prose(tutorials.find("the-network"))).split())
    assert f"`LN10_TOLERANCE`, which it prints: {tolerance:g} as shipped" in prose
