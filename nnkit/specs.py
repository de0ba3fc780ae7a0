"""Build example arrays from short descriptions, for ``nnkit explain``, its oracle and the tutorials.

A spec is a shape — ``7`` (a vector), ``7x4`` (a matrix), ``2x7x4`` (a batch of matrices), any
number of axes, ``()`` a 0-d array — followed by ``:``-separated words, at most one layout and one dtype::

    7x4            C-ordered (the default)        7x4:F       Fortran-ordered
    7x4:T          the last two axes swapped: a view of a C-ordered (4, 7) array
    7x4:sub        a sub-block: from row 1 and column 2 of an array 3 rows and 5 columns bigger
    7x4:colsub     the same cut from a Fortran-ordered array (column-strided sub-block)
    7x4:step       every second element along the last axis (``step3``: every third, …)
    7x4:rev        the first axis reversed (negative stride)     7x4:bcast   the first axis broadcast (zero stride)
    7x4:misaligned one byte off the element boundary
    7x4:f32        the dtype: f16 f32 f64 (default) c64 c128 i32 i64  — combine: ``7x4:F:c128``

>>> matrix("3x4:sub").strides
(72, 8)
>>> matrix("2x3x4:T:f32").strides, matrix("5:step3").strides
((48, 4, 12), (24,))
"""

from __future__ import annotations

import math
import re

import numpy as np

_DIM = re.compile(r"[0-9]{1,18}")
_MAX_AXES = 8
DTYPES = {"f16": np.float16, "f32": np.float32, "f64": np.float64, "c64": np.complex64, "c128": np.complex128,
          "i32": np.int32, "i64": np.int64}
LAYOUTS = ("C", "F", "T", "sub", "colsub", "step", "rev", "bcast", "misaligned")
_STEP = re.compile(r"step([0-9]{1,3})")


def matrix(spec: str, seed: int = 0) -> np.ndarray:
    """The array ``spec`` describes (any number of axes), filled with seeded random values."""
    rng = np.random.default_rng(seed)

    def draw(shape, dtype, order="C", misaligned=False):
        values = rng.standard_normal(shape)
        if dtype.kind == "c":
            values = values + 1j * rng.standard_normal(shape)
        values = np.array(values, dtype=dtype, order=order)
        if not misaligned:
            return values
        raw = np.zeros(values.nbytes + 1, np.uint8)[1:]  # a buffer starting one byte past its allocation
        out = raw.view(dtype).reshape(shape, order=order)
        out[...] = values
        return out

    return _build(spec, draw)


def phantom(spec: str) -> np.ndarray:
    """A read-only array with the shape, dtype, strides and alignment of ``matrix(spec)``, and no
    memory behind it: for describing layouts too big to allocate. Never read its elements."""
    return _build(spec, _no_memory)


def nbytes(spec: str) -> int:
    """Bytes ``matrix(spec)`` allocates (the whole array a view is cut from), without allocating them."""
    total = []

    def count(shape, dtype, order="C", misaligned=False):
        total.append(math.prod(shape) * dtype.itemsize + misaligned)
        return _no_memory(shape, dtype, order, misaligned)

    _build(spec, count)
    return sum(total)


def _no_memory(shape: tuple[int, ...], dtype: np.dtype, order: str = "C", misaligned: bool = False) -> np.ndarray:
    """Strides of a contiguous ``shape`` array in ``order`` over a single element (never read)."""
    one = np.zeros(32, np.uint8)[int(misaligned) :][: dtype.itemsize].view(dtype)
    strides, step = [0] * len(shape), dtype.itemsize
    for axis in (reversed(range(len(shape))) if order == "C" else range(len(shape))):
        strides[axis], step = step, step * max(shape[axis], 1)
    return np.lib.stride_tricks.as_strided(one, shape, tuple(strides), writeable=False)


def parse(spec: str) -> tuple[tuple[int, ...], str, np.dtype]:
    """``(shape, layout word, dtype)`` of ``spec``, checked: a ValueError names what was expected."""
    shape_text, *words = spec.split(":")
    dims = shape_text.split("x") if shape_text != "()" else []
    if not shape_text or not all(_DIM.fullmatch(d) for d in dims) or len(dims) > _MAX_AXES:
        raise ValueError(f"{spec!r}: expected a shape (), N, ROWSxCOLS or BATCHxROWSxCOLS… (at most {_MAX_AXES} axes "
                         "of at most 18 digits) followed by :layout and :dtype words, e.g. 7x4:F or 2x7x4:c128")
    dtypes = [w for w in words if w in DTYPES]
    layouts = [w for w in words if w not in DTYPES]
    if len(dtypes) > 1 or len(layouts) > 1:
        raise ValueError(f"{spec!r}: one layout word and one dtype word at most, got {words}")
    layout = layouts[0] if layouts else "C"
    if layout not in LAYOUTS and not _STEP.fullmatch(layout):
        raise ValueError(f"{spec!r}: unknown word {layout!r}; layouts: {', '.join(LAYOUTS)}, stepN; "
                         f"dtypes: {', '.join(DTYPES)}")
    if layout.startswith("step") and _step(layout) < 1:
        raise ValueError(f"{spec!r}: a step is at least 1, got {layout!r}")
    if not dims and layout not in ("C", "misaligned"):
        raise ValueError(f"{spec!r}: a 0-d array (a scalar) takes no layout but misaligned, got {layout!r}")
    return tuple(int(d) for d in dims), layout, np.dtype(DTYPES[dtypes[0]] if dtypes else np.float64)


def _step(layout: str) -> int:
    return int(layout[4:] or 2)


def _build(spec: str, draw) -> np.ndarray:
    shape, layout, dtype = parse(spec)

    def checked(whole, order="C", misaligned=False):
        _check_size(spec, whole, dtype)
        return draw(whole, dtype, order, misaligned)

    _check_size(spec, shape, dtype)  # the view too: a broadcast one spans more than it draws
    return _view(layout, shape, checked)


def _check_size(spec: str, shape: tuple[int, ...], dtype: np.dtype) -> None:
    if math.prod(shape) * dtype.itemsize > _MAX_BYTES:
        raise ValueError(f"{spec!r}: needs a {'x'.join(map(str, shape))} {dtype} array, more than the "
                         f"{_MAX_BYTES:,} bytes any array can span")


_MAX_BYTES = np.iinfo(np.intp).max  # numpy's limit on an array's size in bytes


def _grown(shape: tuple[int, ...], rows: int, cols: int) -> tuple[tuple[int, ...], tuple[slice, ...]]:
    """A shape ``rows``/``cols`` bigger in its last two axes and the slices that cut ``shape`` from it:
    sub (3 rows, 5 columns more) starts at (1, 2), colsub (5 rows, 3 columns more) at (2, 1)."""
    if len(shape) == 1:
        return (shape[0] + cols,), (slice(2, 2 + shape[0]),)
    first, second = (1, 2) if rows == 3 else (2, 1)
    whole = shape[:-2] + (shape[-2] + rows, shape[-1] + cols)
    cut = (slice(None),) * (len(shape) - 2) + (slice(first, first + shape[-2]), slice(second, second + shape[-1]))
    return whole, cut


def _view(layout: str, shape: tuple[int, ...], draw) -> np.ndarray:
    """The array of ``shape`` laid out as ``layout`` says, cut from what ``draw`` allocates."""
    if layout == "F":
        return draw(shape, "F")
    if layout == "T":
        swapped = shape[:-2] + shape[-2:][::-1]
        return draw(swapped).swapaxes(-1, -2) if len(shape) >= 2 else draw(shape)
    if layout in ("sub", "colsub"):
        whole, cut = _grown(shape, 3, 5) if layout == "sub" else _grown(shape, 5, 3)
        return draw(whole, "C" if layout == "sub" else "F")[cut]
    if layout.startswith("step"):
        step = _step(layout)
        return draw(shape[:-1] + (shape[-1] * step,))[..., ::step] if shape else draw(shape)
    if layout == "rev":
        return draw(shape)[::-1]
    if layout == "bcast":
        return np.broadcast_to(draw((1,) + shape[1:]), shape)
    return draw(shape, "C", layout == "misaligned")


def how(spec: str) -> str:
    """How :func:`matrix` builds ``spec``, as a line of Python (``random`` is a seeded generator)."""
    shape, layout, dtype = parse(spec)
    text = _how(layout, shape)
    return text + (f".astype(np.{dtype})" if dtype != np.float64 else "")


def _how(layout: str, shape: tuple[int, ...]) -> str:
    s = str(shape)
    if layout == "F":
        return f"x = np.asfortranarray(random({s}))"
    if layout == "T" and len(shape) >= 2:
        return f"x = random({shape[:-2] + shape[-2:][::-1]}).swapaxes(-1, -2)"
    if layout in ("sub", "colsub"):
        whole, cut = _grown(shape, 3, 5) if layout == "sub" else _grown(shape, 5, 3)
        index = ", ".join(":" if c.start is None else f"{c.start}:{c.stop}" for c in cut)
        return f"x = random({whole})[{index}]" if layout == "sub" else f"x = np.asfortranarray(random({whole}))[{index}]"
    if layout.startswith("step") and shape:
        step = _step(layout)
        return f"x = random({shape[:-1] + (shape[-1] * step,)})[..., ::{step}]"
    if layout == "rev":
        return f"x = random({s})[::-1]"
    if layout == "bcast":
        return f"x = np.broadcast_to(random({(1,) + shape[1:]}), {s})"
    if layout == "misaligned":
        return f"x = a {s} view of a uint8 buffer starting 1 byte past an element boundary"
    return f"x = random({s})"


def operands(spec_a: str, spec_b: str, *, allocate: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """Both operands; ``spec_b == "A.T"`` gives the transpose of A on A's own buffer, ``"A"`` A itself.
    Without ``allocate``, :func:`phantom` operands: the layouts alone."""
    A = matrix(spec_a, seed=0) if allocate else phantom(spec_a)
    return A, operand(spec_b, {"A": A}, seed=1, allocate=allocate)


def operand(spec: str, named: dict[str, np.ndarray], seed: int, *, allocate: bool = True) -> np.ndarray:
    """The array ``spec`` describes, or a named earlier one (``A``), or its transpose (``A.T``)."""
    name, _, suffix = spec.partition(".")
    if name in named and suffix in ("", "T"):
        return named[name].T if suffix else named[name]
    return matrix(spec, seed=seed) if allocate else phantom(spec)
