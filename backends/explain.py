"""Predict what numpy does for ``np.dot(A, B)`` and ``A @ B``: which BLAS routine, with which
flags and leading dimensions, on which memory — and which operands it copies first, and why.

The rules are numpy 2.4's own, read from its sources: ``cblas_matrixproduct`` in
``numpy/_core/src/common/cblasfuncs.c`` for ``dot``, and ``@TYPE@_matmul`` with ``is_blasable2d``
in ``numpy/_core/src/umath/matmul.c.src`` for ``matmul``. Pointers are named by the array they
point into — ``"A"``, ``"B"``, ``"out"`` (numpy's result) or ``"copy"`` (a temporary numpy made) —
with a byte offset, so a live trace can be checked against the prediction call by call.

>>> import numpy as np
>>> p = predict_dot(np.ones((3, 4)), np.ones((5, 4)).T)
>>> c = p.calls[0]
>>> c.routine, c.order, c.transa, c.transb, c.m, c.n, c.k, c.lda, c.ldb, c.ldc
('dgemm', 'RowMajor', 'NoTrans', 'Trans', 3, 5, 4, 4, 4, 5)
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np

__all__ = ["BlasCall", "Prediction", "numpy_summaries", "predict_dot", "predict_matmul"]


@dataclass(frozen=True)
class BlasCall:
    """One call numpy makes. Unused fields are None; pointers are ``(array name, byte offset)``."""

    routine: str
    order: str | None = None
    transa: str | None = None
    transb: str | None = None
    uplo: str | None = None
    m: int | None = None
    n: int | None = None
    k: int | None = None
    lda: int | None = None
    ldb: int | None = None
    ldc: int | None = None
    incx: int | None = None
    incy: int | None = None
    a: tuple[str, int] | None = None
    b: tuple[str, int] | None = None
    c: tuple[str, int] | None = None

    def to_dict(self) -> dict:
        return {k: v for k, v in asdict(self).items() if v is not None}

    def __str__(self) -> str:
        fields = ("order", "transa", "transb", "uplo", "m", "n", "k", "lda", "ldb", "ldc", "incx", "incy")
        args = ", ".join(f"{f}={getattr(self, f)}" for f in fields if getattr(self, f) is not None)
        where = ", ".join(f"{role}→{p[0]}" + (f"+{p[1]}" if p[1] else "") for role, p in (("a", self.a), ("b", self.b), ("c", self.c)) if p)
        return f"{self.routine}({args}) on {where}"


@dataclass
class Prediction:
    """What ``function`` will do: the BLAS calls (maybe none), the copies, and why."""

    function: str
    calls: list[BlasCall] = field(default_factory=list)
    copies: list[str] = field(default_factory=list)
    reason: str = ""

    def to_dict(self) -> dict:
        return {"function": self.function, "calls": [c.to_dict() for c in self.calls], "copies": self.copies, "reason": self.reason}


@dataclass(frozen=True)
class _Operand:
    """An operand as numpy's code sees it: its memory (who owns it, where it starts) and strides."""

    name: str  # "A", "B", or "copy" for a temporary numpy made
    shape: tuple[int, ...]
    strides: tuple[int, ...]
    itemsize: int
    address: int

    @classmethod
    def of(cls, name: str, x: np.ndarray) -> _Operand:
        return cls(name, x.shape, x.strides, x.itemsize, x.__array_interface__["data"][0])

    def copied(self, order: str, itemsize: int | None = None) -> _Operand:
        """A fresh contiguous copy in C (``"C"``) or Fortran (``"F"``) order, of elements of
        ``itemsize`` bytes (a cast changes it)."""
        itemsize = itemsize or self.itemsize
        strides, step = [0] * len(self.shape), itemsize
        axes = range(len(self.shape) - 1, -1, -1) if order == "C" else range(len(self.shape))
        for axis in axes:
            strides[axis], step = step, step * max(self.shape[axis], 1)
        return _Operand("copy", self.shape, tuple(strides), itemsize, 0)

    def contiguous(self, order: str) -> bool:
        """numpy's C/F-contiguous flag (axes of length 1 ignored)."""
        if 0 in self.shape:
            return True
        want = self.copied(order).strides
        return all(s == w for s, w, d in zip(self.strides, want, self.shape) if d > 1)

    def pointer(self, offset: int = 0) -> tuple[str, int]:
        return (self.name, offset)


_PREFIX = {np.dtype(np.float64): "d", np.dtype(np.float32): "s"}
_ROW, _COL, _N, _T = "RowMajor", "ColMajor", "NoTrans", "Trans"


def numpy_summaries(A, B) -> list[tuple[str, str]]:
    """One line each for ``np.dot(A, B)`` and ``A @ B``: the reason, the calls, the copies."""
    lines = []
    for label, p in (("beside it: np.dot(A, B)", predict_dot(A, B)), ("beside it: A @ B", predict_matmul(A, B))):
        calls = "; ".join(str(c) for c in p.calls) or "no BLAS call"
        lines.append((label, f"{p.reason} → {calls}; {'; '.join(p.copies) or 'no copies'}"))
    return lines


# --- np.dot -------------------------------------------------------------------------------------
def predict_dot(A, B) -> Prediction:
    """What ``np.dot(A, B)`` calls, for float32/float64 operands of at most 2 dimensions."""
    A, B = np.asarray(A), np.asarray(B)
    dtype = np.result_type(A, B)
    p = Prediction("dot")
    if dtype not in _PREFIX or A.ndim > 2 or B.ndim > 2:
        p.reason = f"not predicted: nnkit explains float32/float64 operands of ≤ 2 dimensions (got {dtype}, {A.ndim}-D · {B.ndim}-D)"
        return p
    x, y = _dot_operand("A", A, dtype, p.copies), _dot_operand("B", B, dtype, p.copies)
    kx, ky = _shape_class(x.shape), _shape_class(y.shape)
    if 0 in _dot_shape(A.shape, B.shape) or (A.ndim and B.ndim and A.shape[-1] == 0):
        p.reason = "empty result or k = 0: numpy fills zeros and calls no BLAS"
        return p
    pre = _PREFIX[dtype]
    if "scalar" in (kx, ky):
        p.calls = _dot_scalar(pre, x, y, kx, ky, p)
    elif ky == "column" and kx != "matrix":
        p.reason = "vector · vector: ?dot"
        p.calls = [BlasCall(pre + "dot", n=x.shape[-1], incx=_vector_step(x, kx), incy=_vector_step(y, ky), a=x.pointer(), b=y.pointer())]
    elif kx == "matrix" and ky != "matrix":
        p.reason = "matrix · vector: ?gemv"
        p.calls = [_dot_gemv(pre, _contiguous_or_copied(x, p.copies), y, ky, _N)]
    elif kx != "matrix" and ky == "matrix":
        p.reason = "vector · matrix: ?gemv on the transposed matrix"
        p.calls = [_dot_gemv(pre, _contiguous_or_copied(y, p.copies), x, kx, _T)]
    else:
        p.calls = [_dot_gemm(pre, x, y, p)]
    return p


def _dot_shape(a: tuple[int, ...], b: tuple[int, ...]) -> tuple[int, ...]:
    if not a or not b:
        return a or b
    return a[:-1] + (b[:-2] + b[-1:] if len(b) >= 2 else ())


def _dot_operand(name: str, x: np.ndarray, dtype, copies: list[str]) -> _Operand:
    """The operand after ``PyArray_FromAny(…, ALIGNED)`` and ``_bad_strides`` (cblasfuncs.c)."""
    op = _Operand.of(name, x)
    if x.dtype != dtype or not x.flags.aligned:
        copies.append(f"{name} copied: {'dtype ' + str(x.dtype) + ' → ' + str(dtype) if x.dtype != dtype else 'misaligned'}")
        op = op.copied(_keep_order(op), dtype.itemsize)
    bad = _bad_strides(op)
    if bad:
        copies.append(f"{name} copied: {bad}")
        op = op.copied("F" if op.contiguous("F") and not op.contiguous("C") else "C")
    return op


def _keep_order(op: _Operand) -> str:
    """The order of numpy's order="K" copy of a matrix: the order its strides already run in."""
    if op.contiguous("C") or len(op.shape) < 2:
        return "C"
    return "F" if op.contiguous("F") or abs(op.strides[0]) < abs(op.strides[1]) else "C"


def _bad_strides(op: _Operand) -> str | None:
    """cblasfuncs.c ``_bad_strides``: layouts np.dot copies before anything else."""
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


def _shape_class(shape: tuple[int, ...]) -> str:
    """``_select_matrix_shape``: scalar, row, column or matrix, by shape alone."""
    if len(shape) == 0:
        return "scalar"
    if len(shape) == 1:
        return "column" if shape[0] > 1 else "scalar"
    if shape[0] > 1:
        return "column" if shape[1] == 1 else "matrix"
    return "scalar" if shape[1] == 1 else "row"


def _vector_step(op: _Operand, kind: str) -> int:
    """Elements between consecutive entries of a row or column operand."""
    if not op.shape:
        return 0
    return (op.strides[1] if kind == "row" else op.strides[0]) // op.itemsize


def _contiguous_or_copied(op: _Operand, copies: list[str]) -> _Operand:
    """gemv/gemm in ``dot`` take lda from the shape, so anything not C- or F-contiguous is copied."""
    if op.contiguous("C") or op.contiguous("F"):
        return op
    copies.append(f"{op.name} copied to C order: neither C- nor F-contiguous (strides {op.strides}), "
                  "and np.dot derives its leading dimension from the shape")
    return op.copied("C")


def _dot_scalar(pre: str, x: _Operand, y: _Operand, kx: str, ky: str, p: Prediction) -> list[BlasCall]:
    """A scalar operand (0-d, (1,), (1, 1)): ``?axpy`` along the other, or no BLAS for one element."""
    shape_x, shape_y = x.shape, y.shape
    if kx == "scalar":
        x, y, kx = y, x, ky  # numpy swaps so that the second operand is the scalar
    if not x.shape or not y.shape:
        length = int(np.prod(x.shape or y.shape))
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
        return [BlasCall(pre + "axpy", n=length, incx=_vector_step(x, kx), incy=1, a=x.pointer(), c=("out", 0))]
    long_axis = 0 if x.shape[0] >= x.shape[1] else 1
    other, out_strides = 1 - long_axis, x.copied("C").strides
    return [BlasCall(pre + "axpy", n=x.shape[long_axis], incx=x.strides[long_axis] // x.itemsize,
                     incy=out_strides[long_axis] // x.itemsize, a=x.pointer(i * x.strides[other]),
                     c=("out", i * out_strides[other])) for i in range(x.shape[other])]


def _dot_gemv(pre: str, matrix: _Operand, vector: _Operand, kind: str, trans: str) -> BlasCall:
    order, lda = (_ROW, max(matrix.shape[1], 1)) if matrix.contiguous("C") else (_COL, max(matrix.shape[0], 1))
    return BlasCall(pre + "gemv", order=order, transa=trans, m=matrix.shape[0], n=matrix.shape[1], lda=lda,
                    incx=_vector_step(vector, kind), incy=1, a=matrix.pointer(), b=vector.pointer(), c=("out", 0))


def _dot_gemm(pre: str, x: _Operand, y: _Operand, p: Prediction) -> BlasCall:
    y = _contiguous_or_copied(y, p.copies)  # numpy checks B first
    x = _contiguous_or_copied(x, p.copies)
    # C-order is the default; an F-contiguous operand (also one that is both) gets Trans
    ta, lda = (_T, max(x.shape[0], 1)) if x.contiguous("F") else (_N, max(x.shape[1], 1))
    tb, ldb = (_T, max(y.shape[0], 1)) if y.contiguous("F") else (_N, max(y.shape[1], 1))
    m, k, n = x.shape[0], x.shape[1], y.shape[1]
    if _transposed_twins(x, y) and (ta == _T) != (tb == _T):
        p.reason = "A·Aᵀ on one buffer: ?syrk computes the upper triangle, numpy mirrors it"
        src, ld = (x, lda) if ta == _N else (y, ldb)
        return BlasCall(pre + "syrk", order=_ROW, uplo="Upper", transa=ta, n=n, k=k, lda=ld, ldc=max(n, 1), a=src.pointer(), c=("out", 0))
    fortran = [name for name, t in (("A", ta), ("B", tb)) if t == _T]
    p.reason = "matrix · matrix: ?gemm, row-major" + (f"; {' and '.join(fortran)} Fortran-ordered, so passed with Trans" if fortran else "")
    return BlasCall(pre + "gemm", order=_ROW, transa=ta, transb=tb, m=m, n=n, k=k, lda=lda, ldb=ldb, ldc=max(n, 1),
                    a=x.pointer(), b=y.pointer(), c=("out", 0))


def _transposed_twins(x: _Operand, y: _Operand) -> bool:
    """Same memory, transposed shape and strides: the caller's ``A`` and ``A.T``."""
    return ("copy" not in (x.name, y.name) and x.address == y.address
            and x.shape == y.shape[::-1] and x.strides == y.strides[::-1])


# --- np.matmul / @ --------------------------------------------------------------------------------
def predict_matmul(A, B) -> Prediction:
    """What ``np.matmul(A, B)`` (``A @ B``) calls, for float32/float64 operands of 1 to 3 dimensions.

    matmul is a generalised ufunc: a loop over the batch axis around one 2-D kernel, which takes
    an operand in place whenever it is *blasable* — unit stride along one axis and a leading
    stride at least the row length — so, unlike np.dot, a row-strided sub-block is not copied.
    """
    A, B = np.asarray(A), np.asarray(B)
    dtype = np.result_type(A, B)
    p = Prediction("matmul")
    if dtype not in _PREFIX or not (1 <= A.ndim <= 3 and 1 <= B.ndim <= 3):
        p.reason = f"not predicted: nnkit explains float32/float64 operands of 1 to 3 dimensions (got {dtype}, {A.ndim}-D @ {B.ndim}-D)"
        return p
    x, y = _matmul_operand("A", A, dtype, p.copies), _matmul_operand("B", B, dtype, p.copies)
    xs, ys = (x.shape if A.ndim > 1 else (1,) + x.shape), (y.shape if B.ndim > 1 else y.shape + (1,))
    xt, yt = (x.strides if A.ndim > 1 else (0,) + x.strides), (y.strides if B.ndim > 1 else y.strides + (0,))
    (dm, dn), dp = xs[-2:], ys[-1]
    batch = max(xs[:-2] + ys[:-2], default=1) if (xs[:-2] or ys[:-2]) else 1
    # numpy sets the stride of every core axis of length 1 to 0 (ufunc_object.c)
    is1_m, is1_n = (xt[-2] if dm > 1 else 0), (xt[-1] if dn > 1 else 0)
    is2_n, is2_p = (yt[-2] if dn > 1 else 0), (yt[-1] if dp > 1 else 0)
    sz = x.itemsize
    os_m, os_p = (dp * sz if dm > 1 else 0), (sz if dp > 1 else 0)
    step_x = xt[0] if len(xs) == 3 and xs[0] > 1 else 0
    step_y = yt[0] if len(ys) == 3 and ys[0] > 1 else 0
    kernel = _matmul_kernel(_PREFIX[dtype], x, y, dm, dn, dp, is1_m, is1_n, is2_n, is2_p, os_m, os_p, p)
    for i in range(batch):
        p.calls.extend(call_at(i * step_x, i * step_y, i * dm * dp * sz) for call_at in kernel)
    if batch > 1 and kernel:
        p.reason += f"; once per batch element ({batch} calls)"
    return p


def _matmul_operand(name: str, x: np.ndarray, dtype, copies: list[str]) -> _Operand:
    """The ufunc machinery copies (C-ordered) only an input that needs a cast or is misaligned."""
    op = _Operand.of(name, x)
    if x.dtype != dtype or not x.flags.aligned:
        copies.append(f"{name} copied to C order by the ufunc machinery: {'dtype ' + str(x.dtype) + ' → ' + str(dtype) if x.dtype != dtype else 'misaligned'}")
        return op.copied("C", dtype.itemsize)
    return op


def _blasable(s1: int, s2: int, d1: int, d2: int, size: int) -> bool:
    """matmul.c.src ``is_blasable2d``: unit stride along axis 2, whole leading stride ≥ its length."""
    return s2 == size and s1 % size == 0 and d2 <= s1 // size


def _matmul_kernel(pre, x, y, dm, dn, dp, is1_m, is1_n, is2_n, is2_p, os_m, os_p, p: Prediction):
    """The 2-D kernel's calls, as functions of the batch offsets (A, B, out) in bytes."""
    sz = x.itemsize
    if 0 in (dm, dn, dp):
        p.reason = "an empty dimension: no BLAS"
        return []
    if dm == 1 and dp == 1:
        if is1_n > 0 and is2_n > 0 and is1_n % sz == 0 and is2_n % sz == 0:
            p.reason = "vector @ vector: ?dot"
            return [lambda ox, oy, oo: BlasCall(pre + "dot", n=dn, incx=is1_n // sz, incy=is2_n // sz, a=x.pointer(ox), b=y.pointer(oy))]
        p.reason = "vector @ vector with a stride BLAS cannot take: a plain loop, no BLAS"
        return []
    if dn == 1:
        p.reason = "inner dimension 1 (an outer product): a plain loop, no BLAS"
        return []
    if dm == 1 or dp == 1:
        return _matmul_gemv(pre, x, y, dm, dn, dp, is1_m, is1_n, is2_n, is2_p, os_m, os_p, p)
    return _matmul_gemm(pre, x, y, dm, dn, dp, is1_m, is1_n, is2_n, is2_p, os_m, os_p, p)


def _matmul_gemv(pre, x, y, dm, dn, dp, is1_m, is1_n, is2_n, is2_p, os_m, os_p, p: Prediction):
    sz = x.itemsize
    if dm == 1 and (_blasable(is2_n, is2_p, dn, dp, sz) or _blasable(is2_p, is2_n, dp, dn, sz)) and _blasable(is1_n, sz, dn, 1, sz):
        p.reason = "vector @ matrix: ?gemv, Trans"
        matrix, s_m, s_n, vector, incx, rows, inc_out = y, is2_p, is2_n, x, is1_n, dp, os_p
    elif dp == 1 and (_blasable(is1_m, is1_n, dm, dn, sz) or _blasable(is1_n, is1_m, dn, dm, sz)) and _blasable(is2_n, sz, dn, 1, sz):
        p.reason = "matrix @ vector: ?gemv, Trans"
        matrix, s_m, s_n, vector, incx, rows, inc_out = x, is1_m, is1_n, y, is2_n, dm, os_m
    else:
        p.reason = "a vector case with an operand BLAS cannot take: a plain loop, no BLAS"
        return []
    order, lda = (_COL, s_m // sz) if _blasable(s_m, s_n, rows, dn, sz) else (_ROW, s_n // sz)
    matrix_is_x = matrix is x

    def call(ox, oy, oo):
        om, ov = (ox, oy) if matrix_is_x else (oy, ox)
        return BlasCall(pre + "gemv", order=order, transa=_T, m=dn, n=rows, lda=lda, incx=incx // sz, incy=inc_out // sz,
                        a=matrix.pointer(om), b=vector.pointer(ov), c=("out", oo))
    return [call]


def _matmul_gemm(pre, x, y, dm, dn, dp, is1_m, is1_n, is2_n, is2_p, os_m, os_p, p: Prediction):
    sz = x.itemsize
    if not (_blasable(is1_m, is1_n, dm, dn, sz) or _blasable(is1_n, is1_m, dn, dm, sz)):
        p.copies.append(f"A copied into a temporary buffer: strides ({is1_m}, {is1_n}) are not blasable")
        x = _Operand("copy", (dm, dn), (sz, sz * dm) if abs(is1_m) < abs(is1_n) else (sz * dn, sz), sz, 0)
        is1_m, is1_n = x.strides
    if not (_blasable(is2_n, is2_p, dn, dp, sz) or _blasable(is2_p, is2_n, dp, dn, sz)):
        p.copies.append(f"B copied into a temporary buffer: strides ({is2_n}, {is2_p}) are not blasable")
        y = _Operand("copy", (dn, dp), (sz, sz * dn) if abs(is2_n) < abs(is2_p) else (sz * dp, sz), sz, 0)
        is2_n, is2_p = y.strides
    ta, lda = (_N, is1_m // sz) if _blasable(is1_m, is1_n, dm, dn, sz) else (_T, is1_n // sz)
    tb, ldb = (_N, is2_n // sz) if _blasable(is2_n, is2_p, dn, dp, sz) else (_T, is2_p // sz)
    ldc = os_m // sz
    same = "copy" not in (x.name, y.name) and x.address == y.address
    if same and dm == dp and is1_m == is2_p and is1_n == is2_n and ta != tb:
        p.reason = "A @ Aᵀ on one buffer: ?syrk computes the upper triangle, numpy mirrors it"
        ld = lda if ta == _N else ldb
        return [lambda ox, oy, oo: BlasCall(pre + "syrk", order=_ROW, uplo="Upper", transa=ta, n=dp, k=dn, lda=ld, ldc=ldc,
                                            a=x.pointer(ox), c=("out", oo))]
    p.reason = "matrix @ matrix: ?gemm, row-major, operands in place when blasable (lda may exceed the row length)"
    return [lambda ox, oy, oo: BlasCall(pre + "gemm", order=_ROW, transa=ta, transb=tb, m=dm, n=dp, k=dn, lda=lda, ldb=ldb, ldc=ldc,
                                        a=x.pointer(ox), b=y.pointer(oy), c=("out", oo))]
