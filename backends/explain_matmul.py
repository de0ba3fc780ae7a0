"""``np.matmul(A, B, out=None)`` and ``A @ B``: numpy 2.4's rules, read from ``@TYPE@_matmul`` in
``numpy/_core/src/umath/matmul.c.src`` and the generalised-ufunc machinery around it.

matmul is a gufunc ``(m?,n),(n,p?)->(m?,p?)``: a loop over the broadcast batch axes around one 2-D
kernel, which takes an operand in place whenever it is *blasable* — unit stride along one axis and
a leading stride at least that axis's length — so, unlike np.dot, a row-strided sub-block is not
copied. Operands and an ``out`` it cannot take are copied into one temporary buffer per loop.
"""

from __future__ import annotations

import itertools
import math

import numpy as np

from .explain_model import PREFIX, ROW, COL, N, T, TEMPORARY, BlasCall, Operand, Prediction, blas_stride, indices, is_aligned

MAX_LISTED = 10_000


def predict_matmul(A, B, out=None, roots: dict[str, np.ndarray] | None = None) -> Prediction:
    """What ``np.matmul(A, B, out=out)`` calls, for operands of any number (≥ 1) of dimensions."""
    A, B = np.asarray(A), np.asarray(B)
    roots = roots if roots is not None else {k: v for k, v in (("A", A), ("B", B), ("out", out)) if v is not None}
    p = Prediction("matmul")
    shapes = _shapes(A, B, out, p)
    if shapes is None:
        return p
    batch, (dm, dn, dp), shape = shapes
    out = out.reshape(shape) if out is not None and out.shape != shape else out  # only axes of length 1 added: a view
    dtype = np.result_type(A, B)
    x, y = (_ufunc_input(Operand.of(v, roots), dtype, p.copies, label) for v, label in ((A, "A"), (B, "B")))
    o = _output(x, y, out, roots, shape, p)
    if math.prod(batch) == 0:
        p.reason = f"the batch {batch} is empty (a length 0 broadcast against 1 is 0): numpy's loop runs no time, no BLAS call"
        return p
    kernel = _kernel(PREFIX[dtype], x, y, o, dm, dn, dp, _core_steps(x, A.ndim > 1, y, B.ndim > 1, o, dm, dn, dp), p)
    if kernel is None:
        return p
    # the iterator orders the batch by the operands as the caller gave them, before any copy
    given = [Operand.of(v, roots) for v in (A, B, out if out is not None else None) if v is not None]
    offsets = _batch_offsets(batch, [x, y, o] + given, [max(x.ndim - 2, 0), max(y.ndim - 2, 0), len(batch)], out is None)
    p.calls = [call for ox, oy, oo in itertools.islice(offsets, MAX_LISTED) for call in kernel(ox, oy, oo)]
    count = math.prod(batch)
    p.total = count * len(kernel(0, 0, 0)) if count > MAX_LISTED else None
    if count > 1:
        p.reason += f"; once per matrix of the batch {batch} ({count} times)"
    return p


def _shapes(A: np.ndarray, B: np.ndarray, out, p: Prediction):
    """(batch shape, (m, n, p), result shape), or None with the reason numpy makes no BLAS call."""
    dtype = np.result_type(A, B)
    if out is not None and not out.flags.writeable:
        p.reason = "numpy raises ValueError: output array is read-only"
        return None
    if out is not None and not np.can_cast(dtype, out.dtype, "same_kind"):
        p.reason = f"numpy raises UFuncTypeError: Cannot cast ufunc 'matmul' output from {dtype!r} to {out.dtype!r} with casting rule 'same_kind'"
        return None
    if A.ndim == 0 or B.ndim == 0:
        p.reason = "numpy raises ValueError: matmul takes no 0-d operand"
        return None
    core_x = A.shape[-2:] if A.ndim > 1 else (1,) + A.shape
    core_y = B.shape[-2:] if B.ndim > 1 else B.shape + (1,)
    try:
        batch = np.broadcast_shapes(A.shape[:-2], B.shape[:-2])
    except ValueError:
        batch = None
    if batch is None or core_x[1] != core_y[0]:
        p.reason = f"numpy raises ValueError: shapes {A.shape} and {B.shape} do not fit"
        return None
    core = core_x[:1] * (A.ndim > 1) + core_y[1:] * (B.ndim > 1)
    if out is not None:
        batch = _out_batch(batch, core, out.shape)
        if batch is None:
            p.reason = (f"numpy raises ValueError: out's shape {out.shape} is not the result's {core} after batch "
                        f"axes that {A.shape[:-2]} and {B.shape[:-2]} broadcast to")
            return None
    if dtype not in PREFIX:
        p.reason = f"dtype {dtype}: numpy's own loop, no BLAS (BLAS takes float32, float64, complex64, complex128)"
        return None
    shape = batch + core
    return batch, (core_x[0], core_x[1], core_y[1]), shape


def _out_batch(batch: tuple[int, ...], core: tuple[int, ...], shape: tuple[int, ...]) -> tuple[int, ...] | None:
    """The batch numpy loops over with ``out`` of ``shape``, or None when numpy raises. Out's own
    batch axes may be more than the operands' (they broadcast to it, as a ufunc's inputs do). An
    out with fewer axes than the result's core loses matmul's flexible core axes first ``n?``,
    then ``m?`` (``_validate_num_dims``); the operands' lengths there must be 1. Batch axes out
    lacks must be 1s, or numpy raises (a mismatch, or a reduction it does not allow)."""
    if len(shape) < len(core):
        dropped, kept = core[: len(core) - len(shape)], core[len(core) - len(shape):]
        if kept != shape or not set(dropped) <= {1}:
            return None
        given = ()
    elif shape[len(shape) - len(core):] != core:
        return None
    else:
        given = shape[: len(shape) - len(core)]
    try:
        full = np.broadcast_shapes(batch, given)
    except ValueError:
        return None
    extra = len(full) - len(given)  # batch axes out lacks: numpy takes them only of length 1
    return full if full[extra:] == given and set(full[:extra]) <= {1} else None


def _ufunc_input(op: Operand, dtype, copies: list[str], label: str) -> Operand:
    """The ufunc machinery copies (C-ordered) an input that needs a cast or is misaligned."""
    if op.dtype == dtype and is_aligned(op):
        return op
    why = f"dtype {op.dtype} → {dtype}" if op.dtype != dtype else "misaligned"
    copies.append(f"{label} copied to C order by the ufunc machinery: {why}")
    return op.copied("C", dtype)


def _output(x: Operand, y: Operand, out, roots, shape: tuple[int, ...], p: Prediction) -> Operand:
    """numpy's fresh C-ordered result; or ``out`` itself; or, when ``out`` overlaps an input, is
    misaligned or of another dtype, a temporary in out's own order that numpy copies back into it."""
    if out is None:
        return Operand("out", shape, (), x.dtype, 0).copied("C", name="out")
    target = Operand.of(out, roots)
    why = ("overlaps an input" if target.overlaps(x) or target.overlaps(y) else "is misaligned" if not is_aligned(target)
           else f"is {target.dtype}" if target.dtype != x.dtype else None)
    if why:
        p.copies.append(f"out {why}: numpy computes into a temporary, then copies it into out")
        return target.copied(target.keep_order(), x.dtype, name="temp")
    return target


def _core_steps(x: Operand, x2d: bool, y: Operand, y2d: bool, o: Operand, dm: int, dn: int, dp: int) -> tuple[int, ...]:
    """(is1_m, is1_n, is2_n, is2_p, os_m, os_p) in bytes; a core axis of length 1 (or one a 1-D
    operand lacks) has stride 0."""
    def step(op: Operand, axis: int, present: bool, length: int) -> int:
        return op.strides[axis] if present and length > 1 else 0
    return (step(x, -2, x2d, dm), step(x, -1, True, dn), step(y, -2 if y2d else -1, True, dn), step(y, -1, y2d, dp),
            step(o, -2 if y2d else -1, x2d, dm), step(o, -1, y2d, dp))


def _batch_offsets(batch: tuple[int, ...], ops: list[Operand], cores_at: list[int], fresh_out: bool):
    """(A, B, out) byte offsets for each batch index, in the order numpy's iterator visits them
    (:func:`_visit_order`, by ``ops[3:]``: A, B and the caller's out as given, whatever numpy
    copies); a fresh result is laid out in that order."""
    def strides(op: Operand, batch_ndim: int) -> list[int]:
        own = [s if d > 1 else 0 for s, d in zip(op.strides[:batch_ndim], op.shape[:batch_ndim])]
        return [0] * (len(batch) - batch_ndim) + own
    table = [strides(op, n) for op, n in zip(ops, cores_at + cores_at)]
    order = _visit_order(batch, table[3:], flip=not fresh_out)
    if fresh_out:
        table[2] = _laid_out(batch, order, ops[2].itemsize * math.prod(ops[2].shape[len(batch):]))
    for index in indices([range(batch[a])[::-1] if flip else range(batch[a]) for a, flip in order]):
        yield tuple(sum(i * st[a] for i, (a, _) in zip(index, order)) for st in table[:3])


def _visit_order(batch: tuple[int, ...], table: list[list[int]], flip: bool) -> list[tuple[int, bool]]:
    """nditer's order for ``order="K"``: with the caller's ``out`` (``flip``), an axis is walked
    backwards when some operand steps backwards along it and none forwards (seen with gdb: not
    when numpy allocates the result); axes are sorted outermost-first by their strides (an
    insertion sort from the innermost axis, as ``npyiter_find_best_axis_ordering`` does)."""
    flips = [flip and any(st[a] < 0 for st in table) and not any(st[a] > 0 for st in table) for a in range(len(batch))]
    perm = list(range(len(batch)))[::-1]  # innermost first
    for i in range(1, len(perm)):
        axis, pos = perm[i], i
        for j in range(i - 1, -1, -1):
            verdict = None
            for st in table:
                if st[axis] and st[perm[j]]:
                    if abs(st[perm[j]]) <= abs(st[axis]):
                        verdict = False
                    elif verdict is None:
                        verdict = True
            if verdict is None:
                continue
            if verdict:
                pos = j
            else:
                break
        perm.insert(pos, perm.pop(i))
    return [(a, flips[a]) for a in reversed(perm)]


def _laid_out(batch: tuple[int, ...], order: list[tuple[int, bool]], matrix_bytes: int) -> list[int]:
    """Batch strides of the result numpy allocates: its matrices one after another in visiting order."""
    strides, step = [0] * len(batch), matrix_bytes
    for axis, _ in reversed(order):
        strides[axis], step = step, step * max(batch[axis], 1)
    return strides


def blasable(s1: int, s2: int, d1: int, d2: int, size: int) -> bool:
    """matmul.c.src ``is_blasable2d``: unit stride along axis 2, a whole leading stride ≥ its length."""
    return s2 == size and s1 % size == 0 and s1 // size >= d2


def _kernel(pre, x, y, o, dm, dn, dp, steps, p: Prediction):
    """The 2-D kernel as a function of the batch offsets (A, B, out) → its calls (maybe none)."""
    is1_m, is1_n, is2_n, is2_p, os_m, os_p = steps
    sz = x.itemsize
    if 0 in (dm, dn, dp):
        p.reason = "an empty dimension: numpy's own loop, no BLAS"
        return None
    if dm == 1 and dp == 1:
        incx, incy = blas_stride(is1_n, sz), blas_stride(is2_n, sz)
        if not (incx and incy):
            p.reason = "vector @ vector with a stride BLAS cannot take: numpy's own loop, no BLAS"
            return None
        p.reason = "vector @ vector: ?dot" if pre in "sd" else "vector @ vector: ?dotu_sub"
        if pre in "sd":
            return lambda ox, oy, oo: [BlasCall(pre + "dot", n=dn, incx=incx, incy=incy, a=x.pointer(ox), b=y.pointer(oy))]
        return lambda ox, oy, oo: [BlasCall(pre + "dotu_sub", n=dn, incx=incx, incy=incy, a=x.pointer(ox), b=y.pointer(oy), c=("temp", 0))]
    if dn == 1:
        p.reason = "inner dimension 1 (an outer product or a scaled vector): numpy's own loop, no BLAS"
        return None
    i1 = blasable(is1_m, is1_n, dm, dn, sz) or blasable(is1_n, is1_m, dn, dm, sz)
    i2 = blasable(is2_n, is2_p, dn, dp, sz) or blasable(is2_p, is2_n, dp, dn, sz)
    if dm == 1 or dp == 1:
        return _gemv(pre, x, y, o, dm, dn, dp, steps, i1, i2, p)
    return _gemm(pre, x, y, o, dm, dn, dp, steps, i1, i2, p)


def _at(op: Operand, offset: int) -> tuple[str, int]:
    """Where ``op`` is for the batch element at byte ``offset``: matmul's buffer does not move."""
    return op.pointer(0 if op.fixed else offset)


def _gemv(pre, x, y, o, dm, dn, dp, steps, i1, i2, p: Prediction):
    is1_m, is1_n, is2_n, is2_p, os_m, os_p = steps
    sz = x.itemsize
    if dm == 1 and i2 and blasable(is1_n, sz, dn, 1, sz):
        p.reason = "vector @ matrix: ?gemv, Trans"
        matrix, s_m, s_n, vector, incx, rows, inc_out, matrix_is_x = y, is2_p, is2_n, x, is1_n, dp, os_p, False
    elif dp == 1 and i1 and blasable(is2_n, sz, dn, 1, sz):
        p.reason = "matrix @ vector: ?gemv, Trans"
        matrix, s_m, s_n, vector, incx, rows, inc_out, matrix_is_x = x, is1_m, is1_n, y, is2_n, dm, os_m, True
    else:
        p.reason = "a vector case with an operand BLAS cannot take: numpy's own loop, no BLAS"
        return None
    order, lda = (COL, s_m // sz) if blasable(s_m, s_n, rows, dn, sz) else (ROW, s_n // sz)
    # numpy divides out's byte stride by an unsigned sizeof: a negative stride arrives as a huge
    # positive incy that wraps around to the right address (seen with gdb)
    incy = inc_out // sz if inc_out >= 0 else (inc_out % 2**64) // sz
    if inc_out < 0:
        p.reason += f" (out steps backwards: incy arrives as {incy}, (2⁶⁴ {inc_out}) / {sz}, and wraps around)"

    def calls(ox, oy, oo):
        om, ov = (ox, oy) if matrix_is_x else (oy, ox)
        return [BlasCall(pre + "gemv", order=order, transa=T, m=dn, n=rows, lda=lda, incx=incx // sz, incy=incy,
                         a=matrix.pointer(om), b=vector.pointer(ov), c=o.pointer(oo))]
    return calls


def _gemm(pre, x, y, o, dm, dn, dp, steps, i1, i2, p: Prediction):
    """Matrix @ matrix: operands BLAS cannot take go through one temporary buffer (A's part, then
    B's, then out's); an out whose rows are closer than its columns flips the product to
    ``Bᵀ·Aᵀ`` written into ``outᵀ``."""
    is1_m, is1_n, is2_n, is2_p, os_m, os_p = steps
    sz = x.itemsize
    oblasable = blasable(os_m, os_p, dm, dp, sz) or blasable(os_p, os_m, dp, dm, sz)
    t1, t2, to = abs(is1_m) < abs(is1_n), abs(is2_n) < abs(is2_p), abs(os_m) < abs(os_p)
    used = 0
    if not i1:
        p.copies.append(f"A's matrix copied into matmul's buffer: strides ({is1_m}, {is1_n}) are not blasable")
        x, is1_m, is1_n = _buffer(x, used), (sz if t1 else sz * dn), (sz * dm if t1 else sz)
        used += sz * dm * dn
    if not i2:
        p.copies.append(f"B's matrix copied into matmul's buffer: strides ({is2_n}, {is2_p}) are not blasable")
        y, is2_n, is2_p = _buffer(y, used), (sz if t2 else sz * dp), (sz * dn if t2 else sz)
        used += sz * dn * dp
    if not oblasable:
        p.copies.append(f"the product computed in matmul's buffer, then copied into out: strides ({os_m}, {os_p}) are not blasable")
        o, os_m, os_p = _buffer(o, used), (sz if to else sz * dp), (sz * dm if to else sz)
    if to:
        p.reason = "out's rows lie closer than its columns: numpy computes the transposed product Bᵀ·Aᵀ into outᵀ; "
        return _matrix_matrix(pre, y, is2_p, is2_n, x, is1_n, is1_m, o, os_p, os_m, dp, dn, dm, True, p)
    return _matrix_matrix(pre, x, is1_m, is1_n, y, is2_n, is2_p, o, os_m, os_p, dm, dn, dp, False, p)


def _buffer(op: Operand, offset: int) -> Operand:
    """matmul's temporary buffer, at byte ``offset`` in it."""
    return Operand("copy", op.shape, op.strides, op.dtype, 0, offset, fixed=True)


def _matrix_matrix(pre, a, sa_m, sa_n, b, sb_n, sb_p, c, sc_m, sc_p, m, n, q, flipped: bool, p: Prediction):
    """``@TYPE@_matmul_matrixmatrix``: gemm, or syrk for A·Aᵀ at one address; row-major."""
    sz = a.itemsize
    ldc = sc_m // sz
    ta, lda = (N, sa_m // sz) if blasable(sa_m, sa_n, m, n, sz) else (T, sa_n // sz)
    tb, ldb = (N, sb_n // sz) if blasable(sb_n, sb_p, n, q, sz) else (T, sb_p // sz)
    twins = m == q and sa_m == sb_p and sa_n == sb_n and ta != tb
    p.reason += ("matrix @ matrix: ?gemm, row-major, operands in place when blasable (lda may exceed the row length)"
                 + ("; ?syrk where A @ Aᵀ starts at one address (numpy mirrors the upper triangle)" if twins else ""))

    def calls(ox, oy, oo):
        oa, ob = (oy, ox) if flipped else (ox, oy)
        pa, pb, pc = _at(a, oa), _at(b, ob), _at(c, oo)
        if twins and pa == pb and pa[0] not in TEMPORARY:
            return [BlasCall(pre + "syrk", order=ROW, uplo="Upper", transa=ta, n=q, k=n, lda=lda if ta == N else ldb,
                             ldc=ldc, a=pa, c=pc)]
        return [BlasCall(pre + "gemm", order=ROW, transa=ta, transb=tb, m=m, n=q, k=n, lda=lda, ldb=ldb, ldc=ldc,
                         a=pa, b=pb, c=pc)]
    return calls
