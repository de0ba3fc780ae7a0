"""Figures a reader can read: a log axis names at least two values on it, a roofline's points are
each named once."""

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
from hypothesis import given, settings
from hypothesis import strategies as st

from nnkit import plots


@settings(max_examples=40, deadline=None)
@given(st.floats(1e-3, 1e3), st.floats(1.05, 1e4), st.integers(2, 8))
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


def test_every_roofline_point_is_named_once_in_the_legend(tmp_path, monkeypatch):
    points = {f"op{i}": (0.05 + 0.001 * i, 0.1 + 0.01 * i) for i in range(12)}   # all at about one intensity
    seen = {}
    real_save = plots._save

    def keep(fig, path):
        seen["labels"] = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
        return real_save(fig, path)

    monkeypatch.setattr(plots, "_save", keep)
    path = plots.roofline(points, 80.0, {"L2": 45.0}, str(tmp_path / "roof.png"), "t")
    assert open(path, "rb").read(4) == b"\x89PNG"
    assert [label for label in seen["labels"] if label in points] == list(points)
