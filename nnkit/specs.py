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

import re

import numpy as np

_SHAPE = re.compile(r"^(\d+)x(\d+)$")


def matrix(spec: str, seed: int = 0) -> np.ndarray:
    """The (rows, cols) matrix ``spec`` describes, filled with seeded random values."""
    shape, *words = spec.split(":")
    match = _SHAPE.match(shape)
    if not match:
        raise ValueError(f"{spec!r}: expected ROWSxCOLS[:layout…], e.g. 7x4:F")
    rows, cols = int(match[1]), int(match[2])
    dtype = np.float32 if "f32" in words else np.float64
    layouts = [w for w in words if w != "f32"]
    if len(layouts) > 1:
        raise ValueError(f"{spec!r}: one layout word at most, got {layouts}")
    layout = layouts[0] if layouts else "C"
    if layout not in _BUILDERS:
        raise ValueError(f"{spec!r}: unknown layout {layout!r}; choose one of {', '.join(_BUILDERS)}")
    rng = np.random.default_rng(seed)
    return _BUILDERS[layout][0](lambda shape, order="C": np.array(rng.standard_normal(shape), dtype=dtype, order=order), rows, cols)


def _misaligned(draw, rows: int, cols: int) -> np.ndarray:
    values = draw((rows, cols))
    raw = np.zeros(values.nbytes + 1, np.uint8)[1:]
    out = raw.view(values.dtype).reshape(rows, cols)
    out[...] = values
    return out


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
    "misaligned": (_misaligned, "x = a ({r}, {c}) float view of a uint8 buffer starting 1 byte past an 8-byte boundary"),
}


def how(spec: str) -> str:
    """How :func:`matrix` builds ``spec``, as a line of Python (``random`` is a seeded generator)."""
    shape, *words = spec.split(":")
    rows, cols = (int(v) for v in shape.split("x"))
    layout = next((w for w in words if w != "f32"), "C")
    text = _BUILDERS[layout][1].format(r=rows, c=cols, r3=rows + 3, c5=cols + 5, r1=1 + rows, c2=2 + cols, r5=rows + 5,
                                       c3=cols + 3, r2=2 + rows, c1=1 + cols, c2x=2 * cols)
    return text + (".astype(np.float32)" if "f32" in words else "")


def operands(spec_a: str, spec_b: str) -> tuple[np.ndarray, np.ndarray]:
    """Both operands; ``spec_b == "A.T"`` gives the transpose of A on A's own buffer."""
    A = matrix(spec_a, seed=0)
    return A, (A.T if spec_b == "A.T" else matrix(spec_b, seed=1))
