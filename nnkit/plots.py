"""PNG figures of a training run (matplotlib, Agg backend — no screen needed).

Each function takes numpy arrays, writes one file and returns its path.
"""

from __future__ import annotations

import math

import numpy as np

from nnkit import files


def _figure(*args, **kwargs):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt.subplots(*args, layout="constrained", **kwargs)


def _save(fig, path: str, crop=None) -> str:
    """Write ``fig`` as a PNG at ``path``, atomically (see :func:`nnkit.files.atomic_write`), cropped to what it
    draws: a label wider than its axes (a long x label beside an outside legend) is saved whole, not clipped;
    ``crop``: the part to save instead (a Bbox in inches)."""
    import matplotlib.pyplot as plt

    try:
        files.atomic_write(path, lambda f: fig.savefig(f, format="png", dpi=110, bbox_inches=crop or "tight",
                                                             pad_inches=0.2))
    finally:
        plt.close(fig)
    return path


def training_curves(history, path: str) -> str:
    """Loss (left) and accuracy (right) per epoch."""
    fig, (left, right) = _figure(1, 2, figsize=(10, 4))
    epochs = np.arange(1, len(history.loss) + 1)
    left.plot(epochs, history.loss, label="training (mean over the epoch's batches)")
    left.set(xlabel="epoch", ylabel="cross-entropy loss", yscale="log", title="Loss")
    left.legend()
    right.plot(epochs, np.multiply(history.train_accuracy, 100), label="training (running, during the epoch)")
    if history.val_accuracy:
        right.plot(epochs, np.multiply(history.val_accuracy, 100), label="validation (end of epoch)")
    right.set(xlabel="epoch", ylabel="accuracy (%)", title="Accuracy")
    right.legend()
    for ax in (left, right):
        ax.grid(alpha=0.3)
    return _save(fig, path)


def confusion_counts(labels: np.ndarray, predictions: np.ndarray, n_classes: int = 10) -> np.ndarray:
    """``counts[true, predicted]``: how many samples of each class went to each prediction."""
    counts = np.zeros((n_classes, n_classes), dtype=np.int64)
    np.add.at(counts, (labels, predictions), 1)
    return counts


def confusion_matrix(labels: np.ndarray, predictions: np.ndarray, path: str, n_classes: int = 10) -> str:
    """Counts of (true class, predicted class) on the test set, written in each cell."""
    counts = confusion_counts(labels, predictions, n_classes)
    fig, ax = _figure(figsize=(6, 5.5))
    image = ax.imshow(counts, cmap="Blues")
    for (i, j), c in np.ndenumerate(counts):
        if c:
            ax.text(j, i, str(c), ha="center", va="center", fontsize=8, color="white" if c > counts.max() / 2 else "black")
    ax.set(xticks=range(n_classes), yticks=range(n_classes), xlabel="predicted class", ylabel="true class",
           title=f"Test set: {np.trace(counts)} of {counts.sum()} correct")
    fig.colorbar(image, ax=ax, label="samples")
    return _save(fig, path)


def sample_predictions(dataset, predictions: np.ndarray, path: str, count: int = 24) -> str:
    """The first ``count`` test images, each titled with its prediction; mistakes in red."""
    count = min(count, len(predictions))
    cols = 8
    rows = -(-count // cols)
    fig, axes = _figure(rows, cols, figsize=(cols * 1.3, rows * 1.5), squeeze=False)
    for i, ax in enumerate(axes.flat):
        ax.axis("off")
        if i >= count:
            continue
        ax.imshow(dataset.images[i].reshape(dataset.image_shape), cmap="gray_r", vmin=0, vmax=dataset.pixel_max)
        wrong = dataset.labels is not None and predictions[i] != dataset.labels[i]
        title = f"{predictions[i]}" + (f" (true {dataset.labels[i]})" if wrong else "")
        ax.set_title(title, fontsize=9, color="red" if wrong else "black")
    fig.suptitle("Test images and the network's prediction (red: wrong)")
    return _save(fig, path)


def first_layer_weights(W1: np.ndarray, image_shape: tuple[int, int], path: str, count: int = 32) -> str:
    """Each of the first ``count`` hidden units' incoming weights (a row of ``W1``) drawn as an image.

    Red pixels excite the unit, blue ones inhibit it; one colour scale for all units."""
    count = min(count, W1.shape[0])
    cols = 8
    rows = -(-count // cols)
    limit = float(np.abs(W1[:count]).max()) or 1.0
    fig, axes = _figure(rows, cols, figsize=(cols * 1.2, rows * 1.2 + 0.6), squeeze=False)
    for i, ax in enumerate(axes.flat):
        ax.axis("off")
        if i < count:
            image = ax.imshow(W1[i].reshape(image_shape), cmap="RdBu_r", vmin=-limit, vmax=limit)
    shown = f"all {count}" if count == W1.shape[0] else f"the first {count} of {W1.shape[0]}"
    fig.suptitle(f"First-layer weights: {shown} hidden units (rows of W1 as {image_shape[0]}×{image_shape[1]} images)")
    fig.colorbar(image, ax=axes, shrink=0.6, label="weight")
    return _save(fig, path)


def curves(series: dict[str, dict], path: str, xlabel: str, ylabel: str, title: str, log: str = "",
           lines: dict[str, float] | None = None, ax=None, lower: frozenset[str] | set[str] = frozenset()) -> str:
    """One line per ``series`` entry (label → {x: y}); ``log`` holds "x" and/or "y" for log axes;
    ``lines`` draws labelled horizontal lines (a peak, a ratio of 1); the series labelled in ``lower`` — figures
    that are only lower bounds — are drawn dashed with hollow markers, and the legend says what hollow means.
    With ``ax`` given, draws into it and writes nothing (the caller saves the figure)."""
    unknown = sorted(set(lower) - set(series))
    if unknown:
        raise ValueError(f"curves: lower names no series: {unknown!r} (the series are {sorted(series)!r})")
    fig, ax = _figure(figsize=(7, 4.2)) if ax is None else (None, ax)
    for label, points in series.items():
        style = {"ls": "--", "mfc": "white", "mew": 1.2, "markersize": 5} if label in lower else {"markersize": 4}
        ax.plot(list(points), list(points.values()), **{"ls": "-", "marker": "o", **style}, label=label)
    if lower:
        ax.plot([], [], ls="--", marker="o", color="grey", mfc="white", mew=1.2,
                label="hollow, dashed: a lower bound (≥)")
    for (label, y), style in zip((lines or {}).items(), (":", "--", "-.")):
        ax.axhline(y, color="grey", ls=style, label=label)
    ax.set(xlabel=xlabel, ylabel=ylabel, title=title, xscale="log" if "x" in log else "linear",
           yscale="log" if "y" in log else "linear")
    xs = sorted({x for points in series.values() for x in points})
    if "x" in log and xs:
        labelled = [xs[0]]
        for x in xs[1:]:                  # leave out labels that would overlap the last one shown
            if x >= 1.3 * labelled[-1]:
                labelled.append(x)
        ax.set_xticks(labelled, [str(x) for x in labelled])
        ax.minorticks_off()
    if "y" in log:
        _label_short_log_axis(ax.yaxis, [y for points in series.values() for y in points.values()])
    ax.grid(alpha=0.3)
    legend_clear_of_points(ax, fontsize=8)
    return path if fig is None else _save(fig, path)


def legend_clear_of_points(ax, **kwargs):
    """Draw ``ax``'s legend where it covers the fewest lines ("best"); when it still covers a data
    point — a vertex of a line drawn in data coordinates, marker included — move it outside the
    axes, to their right (a constrained layout makes room). ``kwargs`` go to ``ax.legend``."""
    legend = ax.legend(loc="best", **kwargs)
    ax.figure.canvas.draw()
    if _covers_a_point(ax, legend):
        legend = ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0.0, **kwargs)
    return legend


def _covers_a_point(ax, legend) -> bool:
    box = legend.get_window_extent()
    for line in ax.get_lines():
        if line.get_transform() is not ax.transData:      # axhline, axvline: they cross any legend's row
            continue
        reach = line.get_markersize() * ax.figure.dpi / 72 / 2 if line.get_marker() not in (None, "", "None") else 0
        xy = line.get_transform().transform(line.get_xydata())
        xy = xy[np.isfinite(xy).all(axis=1)]
        if ((xy[:, 0] >= box.x0 - reach) & (xy[:, 0] <= box.x1 + reach)
                & (xy[:, 1] >= box.y0 - reach) & (xy[:, 1] <= box.y1 + reach)).any():
            return True
    return False


def _label_short_log_axis(axis, values: list[float]) -> None:
    """A log axis spanning under two decades shows one or no power of ten: label 1, 2 and 5 × each."""
    import matplotlib.ticker

    positive = [v for v in values if v > 0 and np.isfinite(v)]
    if positive and max(positive) / min(positive) < 100:
        axis.set_major_locator(matplotlib.ticker.LogLocator(subs=(1.0, 2.0, 5.0)))
        axis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda v, _: f"{v:g}"))
        axis.set_minor_formatter(matplotlib.ticker.NullFormatter())


def panels(count: int, path: str, draw, width: float = 5.0, height: float = 4.0) -> str:
    """A figure of ``count`` side-by-side panels; ``draw(axes)`` fills them; written to ``path``."""
    fig, axes = _figure(1, count, figsize=(width * count, height), squeeze=False)
    draw(list(axes.flat))
    return _save(fig, path)


GRAPH_WIDTH = 7.7   # inches; saved with 0.2-inch margins at 110 dpi: about 890 pixels, within the book's 900


def _corners(text):
    """A text's lower-left and upper-right corners (its frame's, where it has one), in its axes' data units."""
    ax = text.axes
    return ax.transData.inverted().transform((text.get_bbox_patch() or text).get_window_extent(
        ax.figure.canvas.get_renderer()))


def _row_of_boxes(ax, nodes: list[tuple[str, tuple]]) -> list:
    """``nodes`` (name, shape) as framed boxes in one row at height 0, spread over ``GRAPH_WIDTH``, joined left
    to right by black arrows: the forward pass. Returns each box's corners."""
    from matplotlib.patches import FancyArrowPatch

    boxes = [ax.text(0, 0, f"{name}\n{'×'.join(map(str, shape)) or 'a number'}", va="center", fontsize=10,
                     bbox={"boxstyle": "round,pad=0.2", "facecolor": "white" if i else "lightgrey"})
             for i, (name, shape) in enumerate(nodes)]
    ax.figure.canvas.draw()                                      # a frame is sized when drawn
    widths = [_corners(b)[1, 0] - _corners(b)[0, 0] for b in boxes]
    gap = (GRAPH_WIDTH - 0.1 - sum(widths)) / (len(nodes) - 1)
    if gap <= 0:
        raise ValueError(f"nodes: their boxes need {sum(widths):.1f} inches in one row; the graph is {GRAPH_WIDTH} wide")
    for i, box in enumerate(boxes):
        box.set_x(box.get_position()[0] - _corners(box)[0, 0] + 0.05 + sum(widths[:i]) + i * gap)
    ax.figure.canvas.draw()
    frames = [_corners(b) for b in boxes]
    for left, right in zip(frames, frames[1:]):
        ax.add_patch(FancyArrowPatch((left[1, 0], 0), (right[0, 0], 0), arrowstyle="->", mutation_scale=10))
    return frames


def _backward_arrow(ax, start, end, rule: str, computed: bool) -> None:
    """A red arrow from box ``start`` back to box ``end`` (their corners), ``rule`` written beside it: under the
    row where backpropagation computes that gradient, dashed over the row where it never does."""
    from matplotlib.patches import FancyArrowPatch
    from matplotlib.path import Path

    side, edge = (-1, 0) if computed else (1, 1)                 # under the row (the boxes' bottoms), or over it
    level = start[edge, 1] + 0.2 * side
    out, back = start[:, 0].mean() - 0.12, end[:, 0].mean() + 0.12
    path = Path([(out, start[edge, 1]), (out, level), (back, level), (back, end[edge, 1])])
    ax.add_patch(FancyArrowPatch(path=path, arrowstyle="->", mutation_scale=10, color="tab:red",
                                 linestyle="-" if computed else "--"))
    ax.text((out + back) / 2, level + 0.1 * side, rule, ha="center", va="top" if computed else "bottom",
            fontsize=10, color="tab:red")


def graph_figure(nodes: list[tuple[str, tuple]], backward: list[tuple[int, int, str, bool]]):
    """The network's graph: ``nodes`` in a row, the forward pass left to right; ``backward``: (from node, to node,
    rule, computed), the chain rule right to left. Returns the figure and the part of it to save, in inches: what
    it draws, with 0.2-inch margins. Boxes that do not fit in one row of ``GRAPH_WIDTH`` inches: ValueError.

    >>> fig, drawn = graph_figure([("x", (2, 1)), ("y = 2x", (2, 1))], [(1, 0, "dx = 2 dy", True)])
    >>> bool(drawn.width * 110 <= 900)     # pixels at the book's 110 dpi: shown unscaled
    True
    """
    import matplotlib
    from matplotlib.transforms import Bbox

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig = plt.figure(figsize=(GRAPH_WIDTH, 3.0))
    ax = fig.add_axes((0, 0, 1, 1), xlim=(0, GRAPH_WIDTH), ylim=(-2.0, 1.0))    # one unit: one inch
    ax.axis("off")
    try:
        frames = _row_of_boxes(ax, nodes)
    except ValueError:
        plt.close(fig)
        raise
    for start, end, rule, computed in backward:
        _backward_arrow(ax, frames[start], frames[end], rule, computed)
    ax.text(GRAPH_WIDTH / 2, max(_corners(t)[1, 1] for t in ax.texts) + 0.1, "Forward: black arrows, left to right. "
            "Backward, by the chain rule: red arrows, right to left\n(under the boxes: computed; dashed, over them: "
            "a step never computed)", ha="center", va="bottom", fontsize=10)
    fig.canvas.draw()
    drawn = Bbox.union([a.get_window_extent(fig.canvas.get_renderer()) for a in ax.texts + ax.patches])
    return fig, drawn.transformed(fig.dpi_scale_trans.inverted()).padded(0.2)


def computational_graph(nodes: list[tuple[str, tuple]], backward: list[tuple[int, int, str, bool]], path: str) -> str:
    """The network's graph (:func:`graph_figure`) written to ``path``, cropped to what it draws."""
    fig, drawn = graph_figure(nodes, backward)
    return _save(fig, path, crop=drawn)


def memory_strips(arrays: dict[str, np.ndarray], path: str, by_address: bool = False) -> str:
    """For each 2-D array: its elements as a grid, and below it the bytes of memory they live in, in address
    order — every element placed by its address, computed from the array's own strides
    (``nnkit.backends.layout.describe``). An element drawn in a cell that another element also uses (a stride of 0)
    counts them. Colours: each element's row in the grid; or, ``by_address``, the element's offset from the start of
    its block of memory (the lowest address of the arrays drawn, and their bases, that share memory with it), one
    colour scale over every panel — so an element keeps its colour in every view of its block, and a copy shows by
    its colours where it put each element. The figure's title says which."""
    from nnkit.backends.layout import describe

    fig, axes = _figure(len(arrays), 1, figsize=(9, 2.3 * len(arrays)), squeeze=False)
    span = max(sum(abs(s) * (n - 1) for s, n in zip(a.strides, a.shape)) // a.itemsize + 1 for a in arrays.values())
    width = max([span] + [a.shape[1] for a in arrays.values()])      # one cell size in every panel
    matplotlib = __import__("matplotlib")
    rows, spread = matplotlib.colormaps["tab10"], matplotlib.colormaps["viridis"]
    offsets = {name: _offsets_in_block(a, arrays.values()) for name, a in arrays.items()}
    most = max(max(cells.values()) for cells in offsets.values())     # one colour scale for every panel
    for ax, (name, a) in zip(axes.flat, arrays.items()):
        d = describe(a)
        addresses = {(i, j): d.address + i * d.strides[0] + j * d.strides[1] for i in range(a.shape[0]) for j in range(a.shape[1])}
        low = min(addresses.values())
        cells = (max(addresses.values()) - low) // d.itemsize + 1
        users: dict[int, list] = {}
        colour_of = (lambda i, j, name=name: spread(offsets[name][i, j] / max(most, 1))) if by_address \
            else (lambda i, j: rows(i % 10))
        for (i, j), address in addresses.items():
            users.setdefault((address - low) // d.itemsize, []).append((i, j))
            ax.add_patch(matplotlib.patches.Rectangle((j, 3 + (a.shape[0] - 1 - i) * 0.9), 0.95, 0.85, color=colour_of(i, j), alpha=0.5))
            ax.text(j + 0.47, 3.42 + (a.shape[0] - 1 - i) * 0.9, f"{a[i, j]:g}", ha="center", va="center", fontsize=7)
        for cell in range(cells):
            who = users.get(cell, [])
            colour = colour_of(*who[0]) if who else "white"
            ax.add_patch(matplotlib.patches.Rectangle((cell, 0), 0.95, 1.2, facecolor=colour, alpha=0.5 if who else 1, edgecolor="grey"))
            label = f"{a[who[0]]:g}" + (f"\n×{len(who)}" if len(who) > 1 else "") if who else ""
            ax.text(cell + 0.47, 0.6, label, ha="center", va="center", fontsize=7)
        skipped = ", blank: bytes between its elements that are not part of it" if len(users) < cells else ""
        ax.text(0, -0.5, f"memory, {d.itemsize}-byte cells from address {low:#x} →{skipped}", fontsize=7, va="top")
        ax.set_title(f"{name}: shape {d.shape}, strides {d.strides} bytes = {tuple(int(s) for s in d.element_strides)} cells"
                     f"{', C-contiguous' if d.c_contiguous else ''}{', F-contiguous' if d.f_contiguous else ''}", fontsize=9)
        ax.set(xlim=(-0.2, width + 0.2), ylim=(-1.2, 3 + a.shape[0] * 0.9 + 0.1))
        ax.axis("off")
    fig.suptitle(MEMORY_COLOURS[by_address], fontsize=9)
    return _save(fig, path)


MEMORY_COLOURS = {False: "colour: the element's row in its grid",
                  True: "colour: the element's offset from the start of its block of memory, dark purple (0) to "
                        "yellow (the largest offset drawn)\n— the same element, the same colour in every view of its block"}
"""What :func:`memory_strips`' colours mean, its figure's title: by row, or ``by_address``."""


def _offsets_in_block(a: np.ndarray, arrays) -> dict[tuple[int, int], int]:
    """Each element ``(i, j)`` of 2-D ``a``: its offset in cells from the start of its block of memory — the lowest
    address of the ``arrays`` and their bases (followed down ``.base``) that share memory with ``a``."""
    from nnkit.backends.layout import extent

    related = [candidate for drawn in arrays for candidate in (drawn, *_bases(drawn))]
    start = min(extent(candidate)[0] for candidate in related if np.shares_memory(candidate, a))
    first = a.__array_interface__["data"][0]
    return {(i, j): (first + i * a.strides[0] + j * a.strides[1] - start) // a.itemsize
            for i in range(a.shape[0]) for j in range(a.shape[1])}


def _bases(a: np.ndarray) -> list[np.ndarray]:
    """The ndarrays down ``a.base``, nearest first (a view's base, that one's base, …)."""
    found = []
    while isinstance(a.base, np.ndarray):
        a = a.base
        found.append(a)
    return found


def bars(values: dict[str, float], path: str, xlabel: str, title: str, log: bool = False,
         flagged: set[str] | frozenset[str] = frozenset(),
         flag_label: str = "hollow: flagged", flag_mark: str = "", marks: dict[str, float] | None = None,
         legend_inside: bool = False) -> str:
    """One row per entry (label → value), in the given order, top to bottom, each value written beside it: a bar
    from 0 on a linear axis; on a log axis (``log``) a dot, since a log axis has no zero and a bar's length would
    only say where the axis happens to start. Entries in ``flagged`` are drawn hollow, named in the legend by
    ``flag_label`` (what the flag means), their values written after ``flag_mark`` (e.g. "≥" for a lower bound);
    ``marks`` (legend label → value) are vertical lines across every row, each its own line style, named along the
    line by its label's words before any " (" (the legend holds the whole label). The legend goes under the axes,
    where it covers no row, or with ``legend_inside`` inside them where it covers no point (:func:`legend_clear_of_points`)."""
    fig, ax = _figure(figsize=(8, 0.5 * len(values) + 1.6))
    rows, hollow = range(len(values)), [label in flagged for label in values]
    for row, value, empty in zip(rows, values.values(), hollow):
        face = "white" if empty else "tab:blue"
        if log:
            ax.plot(value, row, "o", markersize=8, markerfacecolor=face, markeredgecolor="tab:blue", markeredgewidth=1.5)
        else:
            ax.barh(row, value, color=face, edgecolor="tab:blue", linewidth=1.5)
        ax.annotate(f"{flag_mark * empty}{value_text(value)}", (value, row), xytext=(8, 0), textcoords="offset points",
                    va="center", fontsize=8, zorder=3, bbox={"fc": "white", "ec": "none", "pad": 1})   # over a mark
    for number, (label, value) in enumerate((marks or {}).items()):
        ax.axvline(value, color="grey", ls=(":", "--", "-.", "-")[number % 4], label=label)
        ax.annotate(label.split(" (")[0], (value, 1), xycoords=("data", "axes fraction"), xytext=(3, -3),   # by its top
                    textcoords="offset points", rotation=90, ha="left", va="top", fontsize=7, color="dimgrey")
    if any(hollow):
        ax.plot([], [], "o" if log else "s", markerfacecolor="white", markeredgecolor="tab:blue", ls="none",
                label=flag_label)
    ax.set_yticks(rows, list(values))
    ax.set(xlabel=xlabel, title=title, xscale="log" if log else "linear")
    if log:   # from half the least value drawn to thrice the most: room for the values written right of the dots
        shown = list(values.values()) + list((marks or {}).values())
        ax.set_xlim(min(shown) / 2, max(shown) * 3)
    else:
        ax.margins(x=0.15)
    ax.invert_yaxis()
    ax.grid(alpha=0.3, axis="both" if log else "x")
    _room_for_labels(ax, ax.texts[:len(values)])
    if (marks or any(hollow)) and legend_inside:
        legend_clear_of_points(ax, fontsize=8)
    elif marks or any(hollow):
        fig.legend(loc="outside lower left", fontsize=8)   # under the axes: it covers no row
    return _save(fig, path)


def value_text(value: float) -> str:
    """``value`` to 3 significant figures as :func:`bars` writes it: below 1000 as ``.3g`` does (45.6, 0.0712),
    from 1000 on as a whole number grouped by thousands (1,230 for 1234.5), never with an exponent there."""
    rounded = float(f"{value:.3g}")           # 999.6 rounds to 1000: written 1,000, not 1e+03
    return f"{value:.3g}" if abs(rounded) < 1000 else f"{rounded:,.0f}"


def decimals_text(value: float, decimals: int, digits: int = 2) -> str:
    """``value`` with ``decimals`` decimals, or as many more as keep ``digits`` significant digits, never an exponent:
    a small rate keeps its figure instead of rounding to 0 (0.0048 GFLOP/s, not 0.00).

    >>> decimals_text(0.004812, 2), decimals_text(5.461, 2), decimals_text(13.7, 0), decimals_text(0.4, 0)
    ('0.0048', '5.46', '14', '0.40')
    """
    if not value or not math.isfinite(value):
        return f"{value:.{decimals}f}"
    return f"{value:.{max(decimals, digits - 1 - math.floor(math.log10(abs(value))))}f}"


def _room_for_labels(ax, labels, tries: int = 4) -> None:
    """Widen ``ax``'s x range on the right until every one of ``labels`` (annotations right of their points) ends
    inside the axes' frame. On the axis's own scale (log or linear) a point's place is linear in the scale's
    coordinate ``u``; a label ``w`` pixels wide after a point at ``u`` fits when ``u_hi ≥ u_lo + (u − u_lo) ÷
    (1 − w ÷ W)``, ``W`` the axes' width. Redrawn and checked again (a new range can change the layout)."""
    scale = ax.xaxis.get_transform()
    for _ in range(tries):
        renderer = ax.figure.canvas.get_renderer()
        ax.figure.draw_without_rendering()
        frame = ax.get_window_extent(renderer)
        overflow = [label for label in labels if label.get_window_extent(renderer).x1 > frame.x1 - 2]
        if not overflow:
            return
        low, high = (scale.transform([[x, 0]])[0][0] for x in ax.get_xlim())
        needed = high
        for label in overflow:
            box, at = label.get_window_extent(renderer), label.xy[0]
            point = ax.transData.transform([[at, 0]])[0][0]
            share = (box.x1 - point + 6) / frame.width          # the label's reach right of its point, + a margin
            u = scale.transform([[at, 0]])[0][0]
            needed = max(needed, low + (u - low) / max(1 - share, 0.2))
        ax.set_xlim(ax.get_xlim()[0], scale.inverted().transform([[needed, 0]])[0][0])


FILL_ALPHA = 0.5       # a filled roofline point's face: a point under it shows through
MARKER_REACH = 1.25    # points within this factor of each other in both x and y meet on a roofline's log axes
ROOFLINE_FLAG_LABEL = "hollow: a disturbed rate; filled: no flag"


def nested_sizes(points: dict[str, tuple[float, float]], base: float = 7.0, step: float = 3.0) -> dict[str, float]:
    """Each point's marker size (points): ``base``, or larger by ``step`` as many times as it takes to differ from
    every earlier point it meets (within ``MARKER_REACH`` in both coordinates) — so points that meet nest, none the
    size of another it meets, and a point that meets none keeps ``base``."""
    sizes: dict[str, float] = {}
    for label, (x, y) in points.items():
        taken = {sizes[other] for other, (u, v) in points.items() if other in sizes
                 and max(u / x, x / u) < MARKER_REACH and max(v / y, y / v) < MARKER_REACH}
        sizes[label] = next(base + step * k for k in range(len(points)) if base + step * k not in taken)
    return sizes


def roofline(points: dict[str, tuple[float, float]], peak: float, bandwidths: dict[str, float], path: str, title: str,
             bytes_are: str = "each input read once, each output once", named: bool = False,
             flagged: frozenset[str] = frozenset(), faded: frozenset[str] = frozenset()) -> str:
    """The roofline: for each memory level (label → GB/s) the roof min(peak, intensity × bandwidth),
    and each point (label → (FLOPs per byte, GFLOP/s)) where it ran; ``bytes_are`` says which
    bytes the intensity counts (a model, not a measurement); ``named``: each point's name (its label
    up to " (") also written beside it, joined to it by a line in its colour, for points that crowd one
    spot; ``flagged``: the points whose rate was disturbed, drawn hollow, every other point filled (translucent), as
    the book's other figures draw a flag; ``faded``: the levels (their labels) drawn grey, thin and dashed — roofs
    drawn for reference, not the bound of these points (a level slower than the one their data sit in). Points within a marker's reach of each other (:func:`nested_sizes`) are
    drawn nested, the larger under the smaller, so each stays visible. The legend sits under the axes, in as many
    columns as fit the figure's width; ticks print as plain numbers."""
    import matplotlib.colors

    fig, ax = _figure(figsize=(8, 4.2 + 0.16 * (len(points) + len(bandwidths))))
    xs = [x for x, _ in points.values()]
    ridges = [peak / bandwidth for bandwidth in bandwidths.values() if bandwidth > 0]
    ai = np.logspace(np.log10(min(xs + ridges) / 2), np.log10(max(xs + ridges) * 4), 200)
    for number, (label, bandwidth) in enumerate(bandwidths.items()):
        style = dict(color="silver", ls="--", lw=1) if label in faded else dict(color=f"C{number % 10}")
        ax.plot(ai, np.minimum(peak, ai * bandwidth), label=f"roof: {label}, {decimals_text(bandwidth, 0)} GB/s", **style)
    ax.axhline(peak, color="grey", ls=":", lw=1, label=f"flat roof (every level): {decimals_text(peak, 0)} GFLOP/s")
    # each point its own marker and colour, named in the legend; filled (translucent) or, flagged, hollow; where
    # points meet, nested: a larger marker lower, so a smaller one on top leaves its edge in view
    sizes = nested_sizes(points)
    for number, ((label, (intensity, rate)), marker) in enumerate(zip(points.items(), "osD^v<>pPX*h8" * 4)):
        colour = f"C{number % 10}"
        face = "none" if label in flagged else matplotlib.colors.to_rgba(colour, FILL_ALPHA)
        ax.plot(intensity, rate, marker, color=colour, markeredgecolor=colour, markerfacecolor=face,
                markersize=sizes[label], markeredgewidth=1.5, ls="none", label=label, zorder=3 + 1 / sizes[label])
    if flagged:
        ax.plot([], [], "o", color="grey", markerfacecolor="none", markeredgewidth=1.5, ls="none",
                label=ROOFLINE_FLAG_LABEL)
    ax.set(xscale="log", yscale="log", xlabel=f"arithmetic intensity: FLOPs ÷ bytes (a model: {bytes_are})",
           ylabel="GFLOP/s (measured)", title=title)
    _plain_log_ticks(ax)
    ax.grid(alpha=0.3)
    _legend_below(ax, fontsize=7)
    if named:      # the names are spaced in points on the final layout: fix it first
        fig.canvas.draw()
        fig.set_layout_engine("none")
        _name_points(ax, points)
    return _save(fig, path)


def _plain_log_ticks(ax) -> None:
    """``ax``'s log-axis tick labels as plain numbers ("40", not "4×10^1"), labelling the minor ticks the way
    matplotlib's default thins them."""
    import matplotlib.ticker

    class Plain(matplotlib.ticker.LogFormatter):
        """LogFormatter's choice of which ticks carry a label; the label itself the plain number."""
        def __call__(self, x, pos=None):
            return f"{x:g}" if super().__call__(x, pos) else ""

    for axis in (ax.xaxis, ax.yaxis):
        axis.set_major_formatter(Plain())
        axis.set_minor_formatter(Plain(labelOnlyBase=False))


def _legend_below(ax, **kwargs):
    """``ax``'s legend under its x label, centred, in the most columns (up to 3) that keep it within the figure's
    width; a constrained layout shrinks the axes to make room."""
    import matplotlib.transforms

    fig = ax.figure
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    under = (ax.bbox.y0 - ax.xaxis.get_tightbbox(renderer).y0) * 72 / fig.dpi + 4      # points: tick labels, x label
    anchor = matplotlib.transforms.offset_copy(ax.transAxes, fig=fig, y=-under, units="points")
    for columns in (3, 2, 1):
        legend = ax.legend(loc="upper center", bbox_to_anchor=(0.5, 0.0), bbox_transform=anchor, ncols=columns,
                           **kwargs)
        if columns == 1 or legend.get_window_extent(renderer).width <= 0.98 * fig.bbox.width:
            return legend


def _name_points(ax, points: dict[str, tuple[float, float]], gap: float = 11.0) -> None:
    """Write each point's name to the right of it and of its neighbours (the points within a factor 8 in x, a
    name's width), joined to it by a thin leader line; name and line take the point's colour (``roofline``'s
    ``C0, C1, …`` in ``points``' order), so a name leads to its own marker among crowded ones. Neighbours' names are
    moved apart upward to ``gap`` points; where two leaders would cross, the two names trade places (each trade
    shortens the leaders' total length, so the trading ends, with no two crossing)."""
    ax.autoscale_view()
    at = {label: ax.transData.transform(xy) * 72 / ax.figure.dpi for label, xy in points.items()}   # in points
    band = {label: int(np.floor(np.log2(x))) for label, (x, _) in points.items()}     # intensity in factors of 2
    colour = {label: f"C{number % 10}" for number, label in enumerate(points)}
    last: dict[int, float] = {}     # per band, the height of the last name written
    spot = {}                       # each name's place (left edge, middle), in points
    for label, (x, y) in sorted(points.items(), key=lambda p: p[1][1]):
        near = range(band[label] - 3, band[label] + 4)
        height = max(at[label][1], max(last.get(b, -np.inf) for b in near) + gap)
        last[band[label]] = height
        spot[label] = (max(at[name][0] for name in points if band[name] in near) + 14, height)
    side = lambda a, b, c: np.sign((b[0] - a[0]) * (c[1] - a[1]) - (b[1] - a[1]) * (c[0] - a[0]))
    cross = lambda a, b: (side(at[a], spot[a], at[b]) * side(at[a], spot[a], spot[b]) < 0
                          and side(at[b], spot[b], at[a]) * side(at[b], spot[b], spot[a]) < 0)
    labels = list(points)
    while crossing := [(a, b) for i, a in enumerate(labels) for b in labels[i + 1:] if cross(a, b)]:
        a, b = crossing[0]
        spot[a], spot[b] = spot[b], spot[a]
    for label, (x, y) in points.items():
        ax.annotate(label.split(" (")[0], (x, y), xytext=(spot[label][0] - at[label][0], spot[label][1] - at[label][1]),
                    textcoords="offset points", fontsize=7, va="center", color=colour[label],
                    arrowprops={"arrowstyle": "-", "color": colour[label], "lw": 0.7, "shrinkA": 1, "shrinkB": 0,
                                   "relpos": (0, 0.5)})    # the leader leaves the name's left middle: its place
