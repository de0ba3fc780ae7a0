"""``np.dot(A, B, out=None)``: numpy 2.4's rules, read from ``PyArray_MatrixProduct2``
(``multiarraymodule.c``) and ``cblas_matrixproduct`` (``cblasfuncs.c``).

Operands of at most 2 dimensions go to ``cblas_matrixproduct`` (gemm, gemv, dot, axpy, syrk);
higher ones to a loop that calls the dtype's ``dot`` function — one ``?dot`` per output element.
"""

from __future__ import annotations

import itertools
import math

import numpy as np

from .explain_model import PREFIX, ROW, COL, N, T, BlasCall, Operand, Prediction, blas_stride, cast_or_align, indices, is_aligned

MAX_LISTED = 10_000  # calls listed in a prediction; the count is always exact


def predict_dot(A, B, out=None, roots: dict[str, np.ndarray] | None = None) -> Prediction:
    """What ``np.dot(A, B, out=out)`` calls. ``roots`` names the caller's arrays (default A, B, out)."""
    A, B = np.asarray(A), np.asarray(B)
    roots = roots if roots is not None else {k: v for k, v in (("A", A), ("B", B), ("out", out)) if v is not None}
    dtype = np.result_type(A, B)
    p = Prediction("dot")
    x, y = (cast_or_align(Operand.of(v, roots), dtype, p.copies, label) for v, label in ((A, "A"), (B, "B")))
    blas = A.ndim <= 2 and B.ndim <= 2 and dtype in PREFIX
    if not blas and (A.ndim == 0 or B.ndim == 0):
        _multiply(A, B, out, dtype, p)
        return p
    if A.ndim and B.ndim and A.shape[-1] != B.shape[-2 if B.ndim >= 2 else 0]:
        p.reason = f"numpy raises ValueError: shapes {A.shape} and {B.shape} not aligned"
        return p
    target = Operand.of(out, roots) if out is not None else None
    if target is not None and not _acceptable(target, out.flags.writeable, _result_shape(A.shape, B.shape), dtype):
        p.reason = (f"numpy raises ValueError: output array is not acceptable (np.dot needs a C-contiguous, aligned, "
                    f"writeable {dtype} array of shape {_result_shape(A.shape, B.shape)}; got {target.dtype}, "
                    f"{target.shape}, strides {target.strides}{'' if out.flags.writeable else ', read-only'})")
        return p
    if dtype not in PREFIX:
        p.reason = f"dtype {dtype}: numpy's own loop, no BLAS (BLAS takes float32, float64, complex64, complex128)"
    elif blas:
        _matrix_product(x, y, target, p)
    else:
        _loop_of_dots(x, y, p)
    return p


def _multiply(A: np.ndarray, B: np.ndarray, out, dtype: np.dtype, p: Prediction) -> None:
    """A 0-d operand beside one BLAS does not take (beyond 2-D, or not a BLAS dtype): numpy calls
    ``np.multiply(A, B, out)``, a ufunc, with a ufunc's rules for ``out``."""
    shape = np.broadcast_shapes(A.shape, B.shape)
    if out is None:
        p.reason = "a 0-d operand with an operand BLAS does not take: np.multiply, no BLAS"
    elif not out.flags.writeable:
        p.reason = "numpy raises ValueError: output array is read-only (np.dot calls np.multiply here)"
    elif not np.can_cast(dtype, out.dtype, "same_kind"):
        p.reason = f"numpy raises UFuncTypeError: np.multiply cannot cast its {dtype} result into out of dtype {out.dtype}"
    elif _broadcast_to(shape, out.shape) != out.shape:
        p.reason = f"numpy raises ValueError: np.multiply's result {shape} does not fit out of shape {out.shape}"
    else:
        p.reason = "a 0-d operand with an operand BLAS does not take: np.multiply(A, B, out=out), no BLAS"


def _broadcast_to(shape: tuple[int, ...], target: tuple[int, ...]) -> tuple[int, ...] | None:
    try:
        return np.broadcast_shapes(shape, target)
    except ValueError:
        return None


# --- at most 2-D: cblas_matrixproduct ------------------------------------------------------------
def _matrix_product(x: Operand, y: Operand, target: Operand | None, p: Prediction) -> None:
    x, y = _unbad(x, p.copies, "A"), _unbad(y, p.copies, "B")
    kx, ky = _shape_class(x.shape), _shape_class(y.shape)
    shape = _result_shape(x.shape, y.shape)
    result = _result_buffer(x, y, target, shape, p)
    if 0 in shape or (x.ndim and y.ndim and x.shape[-1] == 0):
        p.reason = "empty result or k = 0: numpy fills zeros and calls no BLAS"
        return
    pre = PREFIX[x.dtype]
    if "scalar" in (kx, ky):
        p.calls = _scalar(pre, x, y, kx, ky, result, p)
    elif ky == "column" and kx != "matrix":
        p.reason = "vector · vector: ?dot"
        p.calls = _dots(pre, x.shape[-1], x, _vector_step(x, kx), y, _vector_step(y, ky), [(0, 0)])
    elif kx == "matrix" and ky != "matrix":
        p.reason = "matrix · vector: ?gemv"
        p.calls = [_gemv(pre, _one_segment(x, p.copies, "A"), y, ky, N, result)]
    elif kx != "matrix" and ky == "matrix":
        p.reason = "vector · matrix: ?gemv on the transposed matrix"
        p.calls = [_gemv(pre, _one_segment(y, p.copies, "B"), x, kx, T, result)]
    else:
        p.calls = [_gemm(pre, x, y, result, p)]


def _unbad(op: Operand, copies: list[str], label: str) -> Operand:
    """cblasfuncs.c ``_bad_strides``: np.dot copies these layouts (order "A") before anything else."""
    bad = _bad_strides(op)
    if not bad:
        return op
    copies.append(f"{label} copied: {bad}")
    return op.copied("F" if op.contiguous("F") and not op.contiguous("C") else "C")


def _bad_strides(op: Operand) -> str | None:
    size = op.itemsize
    if op.address % size:
        return "misaligned"
    for s, d in zip(op.strides, op.shape):
        if s < 0:
            return f"negative stride {s}"
        if s % size:
            return f"stride {s} not a multiple of {size}"
        if s == 0 and d > 1:
            return "zero (broadcast) stride"
    return None


def _acceptable(out: Operand, writeable: bool, shape: tuple[int, ...], dtype: np.dtype) -> bool:
    """``new_array_for_sum``: np.dot writes only into a C-contiguous, aligned, writeable array of
    exactly the result's shape and dtype."""
    return out.shape == shape and out.dtype == dtype and out.contiguous("C") and is_aligned(out) and writeable


def _result_shape(a: tuple[int, ...], b: tuple[int, ...]) -> tuple[int, ...]:
    """np.dot's result: A's axes but its last, then B's but its second-to-last."""
    if not a or not b:
        return a or b
    return a[:-1] + (b[:-2] + b[-1:] if len(b) >= 2 else ())


def _result_buffer(x: Operand, y: Operand, target: Operand | None, shape: tuple[int, ...], p: Prediction) -> Operand:
    """``new_array_for_sum``: ``out`` itself, or a C-ordered temporary copied back into it when it
    overlaps an operand (as the operands are now, after any copy); numpy's fresh result otherwise."""
    fresh = Operand("out", shape, (), x.dtype, 0).copied("C", name="out")
    if target is None:
        return fresh
    if target.overlaps(x) or target.overlaps(y):
        p.copies.append("out overlaps an operand: numpy computes into a temporary and copies it into out")
        return fresh.copied("C", name="temp")
    return target


def _shape_class(shape: tuple[int, ...]) -> str:
    """``_select_matrix_shape``: scalar, row, column or matrix, by shape alone."""
    if len(shape) == 0:
        return "scalar"
    if len(shape) == 1:
        return "column" if shape[0] > 1 else "scalar"
    if shape[0] > 1:
        return "column" if shape[1] == 1 else "matrix"
    return "scalar" if shape[1] == 1 else "row"


def _vector_step(op: Operand, kind: str) -> int:
    """Elements between consecutive entries of a row or column operand."""
    if not op.shape:
        return 0
    return (op.strides[1] if kind == "row" else op.strides[0]) // op.itemsize


def _one_segment(op: Operand, copies: list[str], label: str) -> Operand:
    """gemv and gemm in ``dot`` take lda from the shape: anything not C- or F-contiguous is copied (C order)."""
    if op.contiguous("C") or op.contiguous("F"):
        return op
    copies.append(f"{label} copied to C order: neither C- nor F-contiguous (strides {op.strides}), "
                  "and np.dot derives its leading dimension from the shape")
    return op.copied("C")


def _dots(pre: str, n: int, x: Operand, incx: int, y: Operand, incy: int, offsets) -> list[BlasCall]:
    """``?dot`` (real) or ``?dotu_sub`` (complex, result into numpy's scratch) at each offset pair."""
    if pre in "sd":
        return [BlasCall(pre + "dot", n=n, incx=incx, incy=incy, a=x.pointer(ox), b=y.pointer(oy)) for ox, oy in offsets]
    return [BlasCall(pre + "dotu_sub", n=n, incx=incx, incy=incy, a=x.pointer(ox), b=y.pointer(oy), c=("temp", 0))
            for ox, oy in offsets]


def _scalar(pre: str, x: Operand, y: Operand, kx: str, ky: str, out: Operand, p: Prediction) -> list[BlasCall]:
    """A scalar operand (0-d, (1,), (1, 1)): ``?axpy`` along the other, or no BLAS for one element."""
    shape_x, shape_y = x.shape, y.shape
    if kx == "scalar":
        x, y, kx = y, x, ky  # numpy swaps so that the second operand is the scalar
    if not x.shape or not y.shape:
        length = math.prod(x.shape or y.shape)
    elif len(shape_x) + len(shape_y) - 2 == 1:
        length = shape_x[0] if len(shape_x) == 2 else shape_y[1]
    elif len(shape_x) + len(shape_y) - 2 == 2:
        length = shape_y[1] if kx == "row" else shape_x[0]
    else:
        length = shape_x[-1]
    if length == 1:
        p.reason = "one element: a plain multiply, no BLAS"
        return []
    p.reason = "one operand is a scalar: ?axpy (y += alpha·x) along the other"
    if kx != "matrix":
        return [BlasCall(pre + "axpy", n=length, incx=_vector_step(x, kx), incy=1, a=x.pointer(), c=out.pointer())]
    long_axis = 0 if x.shape[0] >= x.shape[1] else 1
    other = 1 - long_axis
    return [BlasCall(pre + "axpy", n=x.shape[long_axis], incx=x.strides[long_axis] // x.itemsize,
                     incy=out.strides[long_axis] // x.itemsize, a=x.pointer(i * x.strides[other]),
                     c=out.pointer(i * out.strides[other])) for i in range(x.shape[other])]


def _gemv(pre: str, matrix: Operand, vector: Operand, kind: str, trans: str, out: Operand) -> BlasCall:
    order, lda = (ROW, max(matrix.shape[1], 1)) if matrix.contiguous("C") else (COL, max(matrix.shape[0], 1))
    return BlasCall(pre + "gemv", order=order, transa=trans, m=matrix.shape[0], n=matrix.shape[1], lda=lda,
                    incx=_vector_step(vector, kind), incy=1, a=matrix.pointer(), b=vector.pointer(), c=out.pointer())


def _gemm(pre: str, x: Operand, y: Operand, out: Operand, p: Prediction) -> BlasCall:
    y = _one_segment(y, p.copies, "B")  # numpy checks B first
    x = _one_segment(x, p.copies, "A")
    # C order is the default; an F-contiguous operand (also one that is both) gets Trans
    ta, lda = (T, max(x.shape[0], 1)) if x.contiguous("F") else (N, max(x.shape[1], 1))
    tb, ldb = (T, max(y.shape[0], 1)) if y.contiguous("F") else (N, max(y.shape[1], 1))
    m, k, n = x.shape[0], x.shape[1], y.shape[1]
    ldc = max(out.shape[1], 1)
    if _transposed_twins(x, y) and (ta == T) != (tb == T):
        p.reason = "A·Aᵀ on one buffer: ?syrk computes the upper triangle, numpy mirrors it"
        src, ld = (x, lda) if ta == N else (y, ldb)
        return BlasCall(pre + "syrk", order=ROW, uplo="Upper", transa=ta, n=n, k=k, lda=ld, ldc=ldc, a=src.pointer(), c=out.pointer())
    fortran = [name for name, t in (("A", ta), ("B", tb)) if t == T]
    p.reason = "matrix · matrix: ?gemm, row-major" + (f"; {' and '.join(fortran)} Fortran-ordered, so passed with Trans" if fortran else "")
    return BlasCall(pre + "gemm", order=ROW, transa=ta, transb=tb, m=m, n=n, k=k, lda=lda, ldb=ldb, ldc=ldc,
                    a=x.pointer(), b=y.pointer(), c=out.pointer())


def _transposed_twins(x: Operand, y: Operand) -> bool:
    """Same memory, transposed shape and strides: the caller's ``A`` and ``A.T``."""
    return ("copy" not in (x.name, y.name) and x.address == y.address
            and x.shape == y.shape[::-1] and x.strides == y.strides[::-1])


# --- beyond 2-D: one dot per output element --------------------------------------------------------
def _loop_of_dots(x: Operand, y: Operand, p: Prediction) -> None:
    """``PyArray_MatrixProduct2``'s loop: for each index of A but its last axis (C order), for each
    of B but its second-to-last, the dtype's dot over k — BLAS when both strides are positive whole
    elements (``blas_stride``), numpy's own loop otherwise."""
    match = max(y.ndim - 2, 0)
    k = x.shape[-1]
    incx, incy = blas_stride(x.strides[-1], x.itemsize), blas_stride(y.strides[match], y.itemsize)
    outer_x = [i for i in range(x.ndim) if i != x.ndim - 1]
    outer_y = [i for i in range(y.ndim) if i != match]
    count = math.prod(x.shape[i] for i in outer_x) * math.prod(y.shape[i] for i in outer_y)
    if k == 0 or count == 0:
        p.reason = "beyond 2-D, empty: no BLAS"
        return
    if not (incx and incy):
        p.reason = "beyond 2-D with a stride BLAS cannot take (negative, zero or not whole elements): numpy's own loop, no BLAS"
        return
    p.reason = f"beyond 2-D: one ?dot per output element ({count} calls), over A's last axis and B's second-to-last"
    offsets = ((ox, oy) for ox in _offsets(x, outer_x) for oy in _offsets(y, outer_y))
    p.calls = _dots(PREFIX[x.dtype], k, x, incx, y, incy, itertools.islice(offsets, MAX_LISTED))
    p.total = count


def _offsets(op: Operand, axes: list[int]):
    """Byte offsets of every index over ``axes``, in C order."""
    for index in indices([range(op.shape[a]) for a in axes]):
        yield sum(i * op.strides[a] for i, a in zip(index, axes))
