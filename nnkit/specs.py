"""Build example matrices from short descriptions, for ``nnkit explain`` and the tutorials.

A spec is ``ROWSxCOLS`` followed by ``:``-separated layout words::

    7x4            C-ordered (the default)        7x4:F       Fortran-ordered
    7x4:T          transposed view of a C-ordered (4, 7) array
    7x4:sub        rows 1.. and columns 2.. of a wider C array (row-strided sub-block, ld = cols + 5)
    7x4:colsub     the same in a taller Fortran array (column-strided sub-block)
    7x4:step       every second column of a (7, 8) array (no unit stride)
    7x4:rev        rows reversed (negative stride)     7x4:bcast   one row broadcast (zero stride)
    7x4:misaligned shifted one byte off an 8-byte boundary
    7x4:f32        float32 (combine: ``7x4:F:f32``)

and ``A.T`` as the second operand means the first operand's transpose on the same buffer.

>>> matrix("3x4:sub").strides
(72, 8)
"""

from __future__ import annotations

import math
import re

import numpy as np

_SHAPE = re.compile(r"([0-9]{1,18})x([0-9]{1,18})")


def matrix(spec: str, seed: int = 0) -> np.ndarray:
    """The (rows, cols) matrix ``spec`` describes, filled with seeded random values."""
    rng = np.random.default_rng(seed)

    def draw(shape, dtype, order="C", misaligned=False):
        values = np.array(rng.standard_normal(shape), dtype=dtype, order=order)
        if not misaligned:
            return values
        raw = np.zeros(values.nbytes + 1, np.uint8)[1:]  # a buffer starting one byte past its allocation
        out = raw.view(dtype).reshape(shape)
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


def _no_memory(shape: tuple[int, int], dtype: np.dtype, order: str = "C", misaligned: bool = False) -> np.ndarray:
    """Strides of a contiguous ``shape`` array in ``order`` over a single element (never read)."""
    one = np.zeros(16, np.uint8)[int(misaligned) :][: dtype.itemsize].view(dtype)
    rows, cols = shape
    strides = (cols * dtype.itemsize, dtype.itemsize) if order == "C" else (dtype.itemsize, rows * dtype.itemsize)
    return np.lib.stride_tricks.as_strided(one, shape, strides, writeable=False)


def _parse(spec: str) -> tuple[int, int, str, np.dtype]:
    """``(rows, cols, layout word, dtype)`` of ``spec``, checked."""
    shape, *words = spec.split(":")
    match = _SHAPE.fullmatch(shape)
    if not match:
        raise ValueError(f"{spec!r}: expected ROWSxCOLS[:layout…] (at most 18 digits each), e.g. 7x4:F")
    dtype = np.dtype(np.float32 if "f32" in words else np.float64)
    layouts = [w for w in words if w != "f32"]
    if len(layouts) > 1:
        raise ValueError(f"{spec!r}: one layout word at most, got {layouts}")
    layout = layouts[0] if layouts else "C"
    if layout not in _BUILDERS:
        raise ValueError(f"{spec!r}: unknown layout {layout!r}; choose one of {', '.join(_BUILDERS)}")
    return int(match[1]), int(match[2]), layout, dtype


def _build(spec: str, draw) -> np.ndarray:
    rows, cols, layout, dtype = _parse(spec)

    def checked(shape, order="C", misaligned=False):
        _check_size(spec, shape, dtype)
        return draw(shape, dtype, order, misaligned)

    _check_size(spec, (rows, cols), dtype)  # the view too: a broadcast one spans more than it draws
    return _BUILDERS[layout][0](checked, rows, cols)


def _check_size(spec: str, shape: tuple[int, int], dtype: np.dtype) -> None:
    if math.prod(shape) * dtype.itemsize > _MAX_BYTES:
        raise ValueError(f"{spec!r}: needs a {shape[0]}x{shape[1]} {dtype} array, more than the "
                         f"{_MAX_BYTES:,} bytes any array can span")


_MAX_BYTES = np.iinfo(np.intp).max  # numpy's limit on an array's size in bytes


# layout word → (builder, how it is built, as Python a reader can type; r, c = rows, cols)
_BUILDERS = {
    "C": (lambda draw, r, c: draw((r, c)), "x = random(({r}, {c}))"),
    "F": (lambda draw, r, c: draw((r, c), "F"), "x = np.asfortranarray(random(({r}, {c})))"),
    "T": (lambda draw, r, c: draw((c, r)).T, "x = random(({c}, {r})).T"),
    "sub": (lambda draw, r, c: draw((r + 3, c + 5))[1 : 1 + r, 2 : 2 + c], "x = random(({r3}, {c5}))[1:{r1}, 2:{c2}]"),
    "colsub": (lambda draw, r, c: draw((r + 5, c + 3), "F")[2 : 2 + r, 1 : 1 + c],
               "x = np.asfortranarray(random(({r5}, {c3})))[2:{r2}, 1:{c1}]"),
    "step": (lambda draw, r, c: draw((r, 2 * c))[:, ::2], "x = random(({r}, {c2x}))[:, ::2]"),
    "rev": (lambda draw, r, c: draw((r, c))[::-1], "x = random(({r}, {c}))[::-1]"),
    "bcast": (lambda draw, r, c: np.broadcast_to(draw((1, c)), (r, c)), "x = np.broadcast_to(random((1, {c})), ({r}, {c}))"),
    "misaligned": (lambda draw, r, c: draw((r, c), misaligned=True),
                   "x = a ({r}, {c}) float view of a uint8 buffer starting 1 byte past an 8-byte boundary"),
}


def how(spec: str) -> str:
    """How :func:`matrix` builds ``spec``, as a line of Python (``random`` is a seeded generator)."""
    rows, cols, layout, dtype = _parse(spec)
    text = _BUILDERS[layout][1].format(r=rows, c=cols, r3=rows + 3, c5=cols + 5, r1=1 + rows, c2=2 + cols, r5=rows + 5,
                                       c3=cols + 3, r2=2 + rows, c1=1 + cols, c2x=2 * cols)
    return text + (".astype(np.float32)" if dtype == np.float32 else "")


def operands(spec_a: str, spec_b: str, *, allocate: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """Both operands; ``spec_b == "A.T"`` gives the transpose of A on A's own buffer. Without
    ``allocate``, :func:`phantom` operands: the layouts alone."""
    A = matrix(spec_a, seed=0) if allocate else phantom(spec_a)
    if spec_b == "A.T":
        return A, A.T
    return A, matrix(spec_b, seed=1) if allocate else phantom(spec_b)
