"""Figures a reader can read: a log axis names at least two values on it, a roofline's points are
each named once."""

import os
import re
import tempfile
from unittest import mock

import numpy as np
import pytest

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
from hypothesis import given, settings
from hypothesis import strategies as st

from generators import drawn, examples, seeds
from nnkit import plots


@drawn(5, 15, st.floats(1e-3, 1e3), st.floats(1.05, 1e4), st.integers(2, 8))
def test_a_log_y_axis_names_at_least_two_values_inside_the_data(low, span, count):
    values = {i: low * span ** (i / (count - 1)) for i in range(count)}
    fig, ax = plt.subplots()
    try:
        plots.curves({"series": values}, "", "x", "y", "t", log="y", ax=ax)
        ax.set_ylim(low, low * span)
        fig.canvas.draw()
        shown = [t.get_text() for t in ax.yaxis.get_ticklabels()
                 if t.get_text() and low * (1 - 1e-9) <= t.get_position()[1] <= low * span * (1 + 1e-9)]
        # 1-2-5 ticks are 2×, 2.5× and 2× apart: two of them fall inside any range of 5× (2 → 5 → 10), not
        # always inside a shorter one (51 … 102 holds only 100)
        assert len(shown) >= 2 or span < 5, (low, span, shown)
    finally:
        plt.close(fig)


def _legend_labels(monkeypatch) -> dict:
    """A dict whose "labels" will hold the legend texts of the next figure plots saves."""
    seen = {}
    real_save = plots._save

    def keep(fig, path):
        seen["labels"] = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
        return real_save(fig, path)

    monkeypatch.setattr(plots, "_save", keep)
    return seen


def test_every_roofline_point_is_named_once_in_the_legend(tmp_path, monkeypatch):
    points = {f"op{i}": (0.05 + 0.001 * i, 0.1 + 0.01 * i) for i in range(12)}   # all at about one intensity
    seen = _legend_labels(monkeypatch)
    path = plots.roofline(points, 80.0, {"L2": 45.0}, str(tmp_path / "roof.png"), "t")
    assert open(path, "rb").read(4) == b"\x89PNG"
    assert [label for label in seen["labels"] if label in points] == list(points)


@pytest.mark.parametrize("trials", examples(4, 12))
def test_a_rooflines_ticks_are_plain_numbers_and_its_flagged_points_are_hollow(tmp_path, monkeypatch, trials):
    """Reader 29 (c13): tutorial 8's roofline printed its y ticks as "4×10^1"; reader 32 (c2): its points were all
    hollow, flags a ×, where the book's other figures draw a flagged point hollow and every other filled. Every tick
    label is a plain number; each flagged point, and only it, is hollow, every other filled; no × is drawn; one short
    legend entry says what hollow and filled mean exactly when something is flagged."""
    from matplotlib.colors import same_color

    rng = np.random.default_rng(29)
    for trial in range(trials):
        points = {f"op{i}": (float(rng.uniform(0.1, 30)), float(rng.uniform(1, 60))) for i in range(5)}
        flagged = frozenset(label for label in points if rng.random() < 0.4)
        seen = {}

        def keep(fig, path):
            fig.canvas.draw()
            ax = fig.axes[0]
            seen["ticks"] = [t.get_text() for axis in (ax.xaxis, ax.yaxis)
                             for t in axis.get_majorticklabels() + axis.get_minorticklabels()]
            seen["lines"] = ax.get_lines()
            seen["labels"] = [t.get_text() for t in ax.get_legend().get_texts()]
            plt.close(fig)
            return str(path)

        monkeypatch.setattr(plots, "_save", keep)
        plots.roofline(points, 80.0, {"L2": 45.0}, str(tmp_path / f"roof{trial}.png"), "t", flagged=flagged)
        assert all(re.fullmatch(r"[\d.]*", tick) for tick in seen["ticks"]) and any(seen["ticks"])
        drawn = {line.get_label(): line for line in seen["lines"] if line.get_label() in points}
        assert len(drawn) == len(points) and not [line for line in seen["lines"] if line.get_marker() == "x"]
        for label, line in drawn.items():
            face = line.get_markerfacecolor()
            if label in flagged:
                assert face == "none"
            else:     # filled in the point's own colour, translucent: a point under it shows through
                assert same_color(face[:3], line.get_markeredgecolor()) and 0 < face[3] < 1
        assert ("hollow: a disturbed rate; filled: no flag" in seen["labels"]) == bool(flagged)
        assert not any("×" in label or "every point" in label for label in seen["labels"])


@pytest.mark.parametrize("seed", seeds(24, 4))
def test_roofline_points_that_meet_nest_each_visible_in_the_figure(seed, monkeypatch):
    """Reader 32 (c3): "+ SIMD" and "+ packing" near one intensity were hard to read under their × marks. Points that
    meet (within ``MARKER_REACH`` both ways) never share a size, the larger drawn under the smaller; in the drawn
    figure, around their spot, each one's own colour shows, flagged (hollow) or filled, named or not."""
    import matplotlib.colors

    rng = np.random.default_rng(seed)
    spot = (float(rng.uniform(0.1, 10)), float(rng.uniform(1, 40)))
    count = int(rng.integers(2, 6))
    points = {f"op{i}": (spot[0] * float(rng.uniform(0.97, 1.03)), spot[1] * float(rng.uniform(0.97, 1.03)))
              for i in range(count)}
    points["far"] = (spot[0] * 40, spot[1] / 8)
    flagged = frozenset(label for label in points if rng.random() < 0.4)
    sizes = plots.nested_sizes(points)
    near = [label for label in points if label != "far"]
    assert len({sizes[label] for label in near}) == len(near) and sizes["far"] == min(sizes.values())
    seen = {}

    def keep(fig, path):
        ax = fig.axes[0]
        fig.canvas.draw()
        seen["lines"] = {line.get_label(): line for line in ax.get_lines() if line.get_label() in points}
        seen["at"] = ax.transData.transform(spot)
        seen["pixels"] = np.asarray(fig.canvas.buffer_rgba())[..., :3] / 255   # rows from the top
        plt.close(fig)
        return path

    monkeypatch.setattr(plots, "_save", keep)
    plots.roofline(points, 80.0, {"L2": 45.0}, "unused.png", "t", flagged=flagged, named=seed % 2 == 1)
    lines = seen["lines"]
    by_size = sorted(near, key=lambda label: sizes[label])
    assert [lines[label].get_zorder() for label in by_size] == sorted((lines[l].get_zorder() for l in near),
                                                                      reverse=True)
    x, y = seen["at"]
    reach = int(max(sizes.values()) * 100 / 72)      # the largest marker's size in pixels, and more
    row = seen["pixels"].shape[0] - int(y)
    around = seen["pixels"][max(row - reach, 0):row + reach, max(int(x) - reach, 0):int(x) + reach]
    for label in near:
        colour = np.array(matplotlib.colors.to_rgb(lines[label].get_color()))
        assert np.all(np.abs(around - colour) < 0.03, axis=-1).sum() >= 3, label   # its edge, opaque, its colour


BOOK_PX = 980 - 80          # docs/book/conf.py: page 1240 px less the 260 px sidebar, less the page's padding


names = st.text(alphabet="abcXYZ019 =·+()Σᵀ⊙−", min_size=1, max_size=22).map(str.strip).filter(bool)
rules = st.lists(st.text(alphabet="dWbZ= ·Σⱼ()+−/:,ᵀ", min_size=1, max_size=50).map(str.strip).filter(bool),
                 min_size=1, max_size=3).map("\n".join)


@drawn(10, 25, nodes=st.lists(st.tuples(names, st.lists(st.integers(1, 9999), max_size=2).map(tuple)), min_size=2,
                              max_size=8), data=st.data())
def test_a_computational_graph_reads_in_one_row_at_the_books_width_or_says_it_cannot(nodes, data):
    """Any chain of nodes with a rule back from each to the one before (one of them, perhaps, never computed):
    the boxes in one row, left to right, apart, within the book's width at 10-point text, the rule never computed
    dashed and only it — or, where the boxes cannot fit one row, a ValueError naming ``nodes``, no figure left open."""
    never = data.draw(st.sets(st.integers(0, len(nodes) - 2), max_size=1))
    backward = [(i + 1, i, data.draw(rules), i not in never) for i in range(len(nodes) - 1)]
    before = plt.get_fignums()
    try:
        fig, drawn = plots.graph_figure(nodes, backward)
    except ValueError as error:
        assert str(error).startswith("nodes: their boxes need") and plt.get_fignums() == before
        return
    try:
        ax = fig.axes[0]
        frames = [t.get_bbox_patch().get_window_extent() for t in ax.texts[:len(nodes)]]
        assert all(left.x1 < right.x0 for left, right in zip(frames, frames[1:]))
        red = ax.patches[len(nodes) - 1:]                        # after the forward pass's black arrows
        assert [arrow.get_linestyle() == "--" for arrow in red] == [not computed for *_, computed in backward]
        assert drawn.width * 110 <= BOOK_PX                       # plots._save writes 110 dpi: shown unscaled
        assert min(t.get_fontsize() for t in ax.texts) >= 10
    finally:
        plt.close(fig)


def _points_under_legend(fig) -> list:
    """Every line's data point (in pixels, after the figure's final layout) inside its axes' legend."""
    fig.canvas.draw()
    covered = []
    for ax in fig.axes:
        box = ax.get_legend().get_window_extent()
        for line in ax.get_lines():
            if line.get_transform() is ax.transData:
                covered += [tuple(p) for p in line.get_transform().transform(line.get_xydata()) if box.contains(*p)]
    return covered


series = st.dictionaries(st.text(alphabet="abcdefgh ,+=()", min_size=1, max_size=40).map(str.strip).filter(bool),
                         st.lists(st.floats(0.1, 1e3), min_size=2, max_size=6), min_size=1, max_size=11)


@drawn(5, 15, series, st.sampled_from(["", "x", "y", "xy"]), st.booleans())
def test_a_curves_legend_never_covers_a_point(drawn, log, peak_line):
    seen = []
    with mock.patch.object(plots, "_save", lambda fig, path: seen.append(fig) or path):
        plots.curves({label: {2 ** i: y for i, y in enumerate(ys)} for label, ys in drawn.items()}, "unused.png",
                     "n", "rate", "t", log=log, lines={"peak": 500.0} if peak_line else None)
    try:
        assert _points_under_legend(seen[0]) == []
    finally:
        plt.close(seen[0])


def _drawn_span(fig) -> tuple[float, float]:
    """The width and height (pixels at the figure's dpi) of the smallest box holding every axes with all it draws
    around it: its title, axis labels, tick labels and legend."""
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    boxes = [ax.get_tightbbox(renderer) for ax in fig.axes]
    return (max(b.x1 for b in boxes) - min(b.x0 for b in boxes), max(b.y1 for b in boxes) - min(b.y0 for b in boxes))


@drawn(2, 4, st.integers(0, 120), st.integers(0, 90), st.integers(1, 3))
def test_a_saved_figure_holds_every_text_it_draws(label_chars, legend_chars, title_lines):
    """Reader 20 c6: the roofline's x label, wider than its axes beside an outside legend, was clipped on the left.
    Whatever the labels' lengths, the saved PNG is at least as wide and tall as the box of every text drawn."""
    from matplotlib.image import imread

    seen = {}
    real_save = plots._save

    def measure(fig, path):
        seen["span"], seen["dpi"] = _drawn_span(fig), fig.dpi
        return real_save(fig, path)

    points = {"a" * legend_chars + "b": (0.3, 2.0), "c": (20.0, 50.0)}
    with mock.patch.object(plots, "_save", measure), tempfile.TemporaryDirectory() as folder:
        path = plots.roofline(points, 80.0, {"L2 — DISTURBED sweeps": 45.0}, os.path.join(folder, "roof.png"),
                              "\n".join(["a title line"] * title_lines), "x" * label_chars)
        height, width = imread(path).shape[:2]
    scale = 110 / seen["dpi"]   # plots._save writes 110 dpi
    assert width >= seen["span"][0] * scale - 2 and height >= seen["span"][1] * scale - 2, (width, height, seen["span"])


@settings(max_examples=10, deadline=None)
@given(series, st.data())
def test_curves_draws_the_series_it_is_told_are_lower_bounds_hollow_and_dashed(drawn, data):
    """Reader 21 c3: a figure marks every flagged (lower-bound) series. The series named in ``lower`` are drawn dashed
    with hollow markers, every other one solid and filled, and the legend says what hollow means exactly when some
    series is a lower bound; without ``lower`` nothing changes."""
    lower = data.draw(st.sets(st.sampled_from(sorted(drawn))))
    seen = []
    with mock.patch.object(plots, "_save", lambda fig, path: seen.append(fig) or path):
        plots.curves({label: {2 ** i: y for i, y in enumerate(ys)} for label, ys in drawn.items()}, "unused.png",
                     "n", "rate", "t", log="xy", lines={"peak": 500.0}, lower=lower)
    try:
        ax = seen[0].axes[0]
        lines = {line.get_label(): line for line in ax.get_lines() if len(line.get_xdata())}
        for label in drawn:
            hollow = lines[label].get_markerfacecolor() == "white"
            assert hollow == (label in lower) and (lines[label].get_linestyle() == "--") == (label in lower)
        legend = [text.get_text() for text in ax.get_legend().get_texts()]
        assert ("hollow, dashed: a lower bound (≥)" in legend) == bool(lower)
    finally:
        plt.close(seen[0])


def test_curves_refuses_a_lower_bound_it_has_no_series_for():
    """A ``lower`` label that names no series is a precise ValueError, never a figure silently missing its flag."""
    import pytest

    with pytest.raises(ValueError, match=r"lower names no series: \['b'\]"):
        plots.curves({"a": {1: 1.0, 2: 2.0}}, "unused.png", "x", "y", "t", lower={"b"})


def _drawn_bars(values, log, flagged, marks, inside: bool = False):
    """The figure ``plots.bars`` draws for these arguments (not saved)."""
    seen = []
    with mock.patch.object(plots, "_save", lambda fig, path: seen.append(fig) or path):
        plots.bars(values, "unused.png", "x", "t", log=log, flagged=flagged, flag_label="hollow: flagged",
                   flag_mark="≥", marks=marks, legend_inside=inside)
    return seen[0]


@pytest.mark.parametrize("examples", examples(5, 30))
def test_bars_draw_dots_on_a_log_axis_bars_on_a_linear_one_and_each_flagged_entry_hollow(examples):
    """Reader 21 c4: on a log axis a bar's length depends on where the axis starts, so there each entry is a dot;
    on a linear axis a bar from 0. Flagged entries (and only they) are hollow, their value written after the flag's
    mark; the legend names the flag only when something is flagged, and every mark line, which its name runs along
    too (reader 24 c2: a legend below the axes is far from the lines it names)."""

    @settings(max_examples=examples, deadline=None)
    @given(st.lists(st.floats(1e-3, 1e6), min_size=1, max_size=8), st.booleans(), st.data())
    def check(rates, log, data):
        values = {f"rung {i}": rate for i, rate in enumerate(rates)}
        flagged = set(data.draw(st.lists(st.sampled_from(list(values)), max_size=len(values))))
        marks = {f"peak {i}": value for i, value in enumerate(data.draw(st.lists(st.floats(1e-2, 1e3), max_size=3)))}
        fig = _drawn_bars(values, log, flagged, marks)
        try:
            ax = fig.axes[0]
            assert ax.get_xscale() == ("log" if log else "linear")
            assert [t.get_text() for t in ax.get_yticklabels()] == list(values)
            if log:
                assert not ax.patches
                dots = [line for line in ax.get_lines() if line.get_marker() == "o" and len(line.get_xdata()) == 1]
                assert [(line.get_xdata()[0], line.get_ydata()[0]) for line in dots] == [
                    (value, row) for row, value in enumerate(values.values())]
                faces = [matplotlib.colors.to_hex(line.get_markerfacecolor()) for line in dots]
            else:
                assert [bar.get_width() for bar in ax.patches] == list(values.values())
                faces = [matplotlib.colors.to_hex(bar.get_facecolor()) for bar in ax.patches]
            assert [face == "#ffffff" for face in faces] == [label in flagged for label in values]
            assert [t.get_text() for t in ax.texts] == [("≥" if label in flagged else "") + plots.value_text(value)
                                                        for label, value in values.items()] + list(marks)   # each mark named
            assert [line.get_xdata()[0] for line in ax.get_lines() if line.get_linestyle() != "None"] == list(marks.values())
            inside = data.draw(st.booleans())   # the same figure drawn again, its legend inside the axes
            plt.close(fig)
            fig = _drawn_bars(values, log, flagged, marks, inside)
            ax = fig.axes[0]
            shown = ax.get_legend() if inside else (fig.legends or [None])[0]
            assert not (fig.legends if inside else ax.get_legend())            # one legend, where it was asked for
            legend = [t.get_text() for t in shown.get_texts()] if shown else []
            assert legend == list(marks) + ["hollow: flagged"] * bool(flagged)
        finally:
            plt.close(fig)

    check()


@drawn(3, 8, st.lists(st.integers(1, 90), min_size=1, max_size=12), st.lists(st.integers(1, 100), min_size=1, max_size=3),
       st.booleans())
def test_a_rooflines_legend_sits_under_its_x_label_and_names_lead_to_their_own_points(point_chars, roof_chars, named):
    """Reader 21 c5: beside the axes, the roofline's legend took more than half the figure's width. Whatever its
    labels' lengths and counts, it sits under the axes and their x label, within the figure's width unless one label
    alone is wider, and the axes keep most of the figure's width; named, each name and its leader line take the
    colour of the point they lead to, so crowded points are told apart."""
    from matplotlib.colors import same_color

    points = {f"op{i}" + "a" * n + " (x)": (0.05 * (1 + 0.03 * i), 0.5 * (1 + 0.05 * i)) for i, n in enumerate(point_chars)}
    roofs = {"b" * n + str(i): 10.0 * (i + 1) for i, n in enumerate(roof_chars)}
    seen = []
    with mock.patch.object(plots, "_save", lambda fig, path: seen.append(fig) or path):
        plots.roofline(points, 80.0, roofs, "unused.png", "t", named=named)
    fig = seen[0]
    try:
        fig.canvas.draw()
        renderer = fig.canvas.get_renderer()
        ax = fig.axes[0]
        legend = ax.get_legend()
        box = legend.get_window_extent(renderer)
        assert box.y1 <= ax.xaxis.get_tightbbox(renderer).y0 + 1          # under the tick labels and the x label
        widest = max(t.get_window_extent(renderer).width for t in legend.get_texts())
        assert box.width <= fig.bbox.width or widest > 0.8 * fig.bbox.width
        assert ax.bbox.width >= 0.7 * fig.bbox.width
        colour = {line.get_label().split(" (")[0]: line.get_color() for line in ax.get_lines()}
        names = [t for t in ax.texts if t.get_text()]
        assert len(names) == (len(points) if named else 0)
        for name in names:
            assert same_color(name.get_color(), colour[name.get_text()])
            assert same_color(name.arrow_patch.get_edgecolor(), colour[name.get_text()])
    finally:
        plt.close(fig)


@pytest.mark.parametrize("view", ["F", "T", "sliced"])
def test_memory_strips_by_address_give_each_byte_one_colour_in_every_view_of_it(view):
    """Reader 22 c1: coloured by row, the same bytes took two colours in tutorial 5's two strips; by address, every
    memory cell (and every grid cell on it) has the one colour of its address, whichever view draws it."""
    small = np.arange(12.0).reshape(3, 4)
    other = {"F": np.ndarray((4, 3), dtype=small.dtype, buffer=small, order="F"), "T": small.T, "sliced": small[:, 1::2]}[view]
    seen = []
    with mock.patch.object(plots, "_save", lambda fig, path: seen.append(fig) or path):
        plots.memory_strips({"a": small, "b": other}, "unused.png", by_address=True)
    try:
        colour_of_value: dict[str, set] = {}
        for ax in seen[0].axes:
            for patch, text in zip(ax.patches, [t for t in ax.texts if not t.get_text().startswith("memory")]):
                if text.get_text():
                    colour_of_value.setdefault(text.get_text().split("\n")[0], set()).add(
                        matplotlib.colors.to_hex(patch.get_facecolor()))
        assert colour_of_value and all(len(colours) == 1 for colours in colour_of_value.values()), colour_of_value
    finally:
        plt.close(seen[0])


def _memory_figure(arrays: dict, by_address: bool):
    """The figure ``plots.memory_strips`` draws for ``arrays`` (not saved)."""
    seen = []
    with mock.patch.object(plots, "_save", lambda fig, path: seen.append(fig) or path):
        plots.memory_strips(arrays, "unused.png", by_address=by_address)
    return seen[0]


def _grid_colours(ax, shape) -> list[str]:
    """The colours of a panel's grid cells (drawn first, row by row), as hex."""
    return [matplotlib.colors.to_hex(patch.get_facecolor()) for patch in ax.patches[:shape[0] * shape[1]]]


@pytest.mark.parametrize("seed", seeds(20, 8))
def test_memory_colours_follow_each_elements_place_in_its_block_beside_a_copy_elsewhere(seed):
    """Tutorial 2's four arrays (any shape): an element of ``a`` keeps its colour in ``a.T`` and a slice of ``a``;
    a copy far away in memory does not squash the scale (``a``'s elements stay as many colours as elements); the
    title says what the colours mean."""
    rng = np.random.default_rng(seed)
    rows, columns = (int(n) for n in rng.integers(2, 6, 2))
    a = np.arange(float(rows * columns)).reshape(rows, columns)
    arrays = {"a": a, "F": np.asfortranarray(a), "T": a.T, "sliced": a[1:, ::2]}
    fig = _memory_figure(arrays, by_address=True)
    try:
        colours = [dict(zip(array.ravel().tolist(), _grid_colours(ax, array.shape)))
                   for ax, array in zip(fig.axes, arrays.values())]
        by_value, copied, transposed, sliced = colours
        assert len(set(by_value.values())) == a.size
        assert all(by_value[value] == colour for view in (transposed, sliced) for value, colour in view.items())
        assert copied[a[0, 0]] == by_value[a[0, 0]] and copied != by_value    # its own order: other offsets
        assert fig._suptitle.get_text() == plots.MEMORY_COLOURS[True]
    finally:
        plt.close(fig)


def test_memory_colours_by_row_are_said_so():
    fig = _memory_figure({"a": np.arange(6.0).reshape(2, 3)}, by_address=False)
    try:
        assert fig._suptitle.get_text() == plots.MEMORY_COLOURS[False] == "colour: the element's row in its grid"
        assert len(set(_grid_colours(fig.axes[0], (2, 3)))) == 2
    finally:
        plt.close(fig)


def test_a_value_is_written_to_3_significant_figures_and_from_1000_on_without_an_exponent():
    rng = np.random.default_rng(3)
    for value in [999.4, 999.5, 999.6, 1000.0, 1234.5] + list(10 ** rng.uniform(-3, 9, 300)):
        text = plots.value_text(value)
        assert float(text.replace(",", "")) == pytest.approx(float(f"{value:.3g}"))
        if float(f"{value:.3g}") >= 1000:
            assert "e" not in text and text == f"{round(float(text.replace(',', ''))):,}"
    assert plots.value_text(1234.5) == "1,230" and plots.value_text(999.6) == "1,000" and plots.value_text(45.61) == "45.6"


@drawn(5, 15, st.lists(st.floats(1e-4, 1e8), min_size=1, max_size=8), st.booleans(), st.booleans())
def test_every_value_label_ends_inside_the_axes_frame(rates, log, flag):
    """A label written right of its dot or bar, ``≥`` and a grouped number included, never leaves the frame —
    on a log axis spanning many decades too."""
    values = {f"rung {i}": rate for i, rate in enumerate(rates)}
    fig = _drawn_bars(values, log, set(values) if flag else set(), {})
    try:
        ax = fig.axes[0]
        renderer = fig.canvas.get_renderer()
        fig.draw_without_rendering()
        frame = ax.get_window_extent(renderer)
        for text in ax.texts[:len(values)]:
            assert text.get_window_extent(renderer).x1 <= frame.x1, (text.get_text(), ax.get_xlim())
    finally:
        plt.close(fig)


def test_decimals_text_keeps_its_decimals_and_never_rounds_a_small_value_away():
    """Reader 30 (c5): a rate of about 0.005 was printed 0.00. At least ``decimals`` decimals, at least ``digits``
    significant digits, never an exponent, and the figure reads back to within its last digit."""
    rng = np.random.default_rng(30)
    for value in list(10 ** rng.uniform(-9, 6, 400)) + [0.004812, 0.00996, 0.4, 13.7, 99.96]:
        for decimals, digits in ((0, 2), (2, 2), (1, 2), (0, 3), (2, 3)):
            text = plots.decimals_text(value, decimals, digits)
            shown = text.partition(".")[2]
            assert "e" not in text and len(shown) >= decimals and len(text.replace(".", "").lstrip("0")) >= digits
            assert abs(float(text) - value) <= 0.5 * 10 ** -len(shown) * (1 + 1e-9)
    assert [plots.decimals_text(v, 2) for v in (0.004812, 5.461)] == ["0.0048", "5.46"]


@pytest.mark.parametrize("scale", [1.0, 1e-2, 1e-4])
def test_a_rooflines_legend_never_prints_a_roof_as_zero(tmp_path, monkeypatch, scale):
    """The roofs' legend wrote its GB/s and GFLOP/s with no decimals: a roof below 0.5 printed 0. Each keeps at least
    two significant digits, however low."""
    seen = _legend_labels(monkeypatch)
    plots.roofline({"op": (0.1, 0.5 * scale)}, 46.3 * scale, {"L2": 86.9 * scale, "main memory": 13.7 * scale},
                   str(tmp_path / "roof.png"), "t")
    figures = [re.search(r"[,:] ([\d.]+) (?:GB|GFLOP)/s$", label).group(1) for label in seen["labels"] if "roof" in label]
    assert len(figures) == 3 and all(len(f.replace(".", "").lstrip("0")) >= 2 for f in figures), figures
    if scale == 1.0:
        assert figures == ["87", "14", "46"]    # as before for roofs above 10: whole numbers
