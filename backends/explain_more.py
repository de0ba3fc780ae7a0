"""The products a learner reaches for after dot and matmul — which reach BLAS, how, and which never do.

``vdot`` flattens both operands and calls the dtype's (conjugating) dot; ``inner`` is ``dot`` with
B's last two axes swapped; ``tensordot`` moves the summed axes together, reshapes both operands to
matrices (a copy when a reshape cannot be a view) and calls ``dot``; ``multi_dot`` chains ``dot``
in the cheapest order; ``einsum(optimize=…)`` (numpy ≥ 2.4) rewrites each pairwise contraction as
``matmul`` on prepared operands; ``outer`` and plain ``einsum`` never call BLAS.

The Python-level steps (transposes, reshapes, einsum's own preparation) are run on the real
operands — they copy or view memory but never call BLAS — and the C-level call is predicted.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from .explain_dot import predict_dot
from .explain_matmul import predict_matmul
from .explain_model import PREFIX, BlasCall, Operand, Prediction, blas_stride


def _roots(*arrays: np.ndarray) -> dict[str, np.ndarray]:
    return dict(zip("ABCDEFGH", arrays))


def predict_vdot(A, B) -> Prediction:
    """``np.vdot(A, B)``: both flattened (C order, a copy unless a view can do), then ``?dot``
    (real) or ``?dotc_sub`` (complex, conjugating A) over all elements."""
    A, B = np.asarray(A), np.asarray(B)
    roots, dtype, p = _roots(A, B), np.result_type(A, B), Prediction("vdot")
    if A.size != B.size:
        p.reason = f"numpy raises ValueError: A has {A.size} elements and B {B.size}; vdot needs as many"
        return p
    flat = []
    for x, label in ((A, "A"), (B, "B")):
        cast = x if x.dtype == dtype else x.astype(dtype)  # PyArray_FromAny with no flags: order K
        if cast is not x:
            p.copies.append(f"{label} copied: dtype {x.dtype} → {dtype}")
        # numpy resolves the -1 of its shape in place: B is reshaped to A's length, and a 1-D B of
        # that length comes back as a plain view with its strides kept (even 0 or negative ones)
        v = cast if label == "B" and cast.shape == (A.size,) else cast.reshape(-1)
        if not np.shares_memory(v, cast):
            p.copies.append(f"{label} copied: flattening it in C order needs a copy (strides {cast.strides})")
        flat.append(Operand.of(v, roots))
    (x, y), n = flat, A.size
    if dtype not in PREFIX:
        p.reason = f"dtype {dtype}: numpy's own loop, no BLAS"
        return p
    incx, incy = blas_stride(x.strides[0], x.itemsize), blas_stride(y.strides[0], y.itemsize)
    if n == 0 or not (incx and incy):
        p.reason = "no elements, or a stride BLAS cannot take: numpy's own loop, no BLAS"
        return p
    pre = PREFIX[dtype]
    if pre in "sd":
        p.reason = "flattened vectors: ?dot"
        p.calls = [BlasCall(pre + "dot", n=n, incx=incx, incy=incy, a=x.pointer(), b=y.pointer())]
    else:
        p.reason = "flattened vectors, A conjugated: ?dotc_sub (the result in numpy's scratch)"
        p.calls = [BlasCall(pre + "dotc_sub", n=n, incx=incx, incy=incy, a=x.pointer(), b=y.pointer(), c=("temp", 0))]
    return p


def predict_inner(A, B) -> Prediction:
    """``np.inner(A, B)``: B cast (a copy in its own order) if need be, then ``np.dot(A, B with its
    last two axes swapped)`` — a view, no copy."""
    A, B = np.asarray(A), np.asarray(B)
    roots, dtype, p = _roots(A, B), np.result_type(A, B), Prediction("inner")
    if B.dtype != dtype or not B.flags.aligned:  # before the swap: a K-order copy's ties fall in B's own order
        p.copies.append(f"B copied: {'dtype ' + str(B.dtype) + ' → ' + str(dtype) if B.dtype != dtype else 'misaligned'}")
        B = B.astype(dtype, order="K")
    swapped = B.swapaxes(-1, -2) if A.ndim >= 1 and B.ndim >= 2 else B
    p.reason = "np.dot(A, B.swapaxes(-1, -2))" if swapped is not B else "np.dot(A, B)"
    p.add(predict_dot(A, swapped, roots=roots))
    return p


def predict_outer(A, B) -> Prediction:
    """``np.outer(A, B)``: ``multiply(A.ravel()[:, None], B.ravel()[None, :])`` — never BLAS."""
    return Prediction("outer", reason="np.multiply of the flattened operands (a ufunc loop): no BLAS")


def predict_tensordot(A, B, axes=2) -> Prediction:
    """``np.tensordot(A, B, axes)``: summed axes moved to A's end and B's front, both reshaped to
    matrices (a copy when the transposed layout cannot be reshaped as a view), then ``np.dot``."""
    A, B = np.asarray(A), np.asarray(B)
    if isinstance(axes, int):
        axes_a, axes_b = list(range(A.ndim - axes, A.ndim)), list(range(axes))
    else:
        axes_a, axes_b = ([a] if isinstance(a, int) else list(a) for a in axes)
    axes_a, axes_b = [a % A.ndim for a in axes_a], [b % B.ndim for b in axes_b]
    keep_a, keep_b = [k for k in range(A.ndim) if k not in axes_a], [k for k in range(B.ndim) if k not in axes_b]
    p = Prediction("tensordot")
    if [A.shape[a] for a in axes_a] != [B.shape[b] for b in axes_b]:  # numpy checks each summed pair's length
        p.reason = f"numpy raises ValueError: shape-mismatch for sum (A's axes {axes_a}, B's {axes_b})"
        return p
    at = _reshaped(A, keep_a + axes_a, (_size(A, keep_a), _size(A, axes_a)), "A", p)
    bt = _reshaped(B, axes_b + keep_b, (_size(B, axes_b), _size(B, keep_b)), "B", p)
    p.reason = f"A as a {at.shape} matrix, B as a {bt.shape} one, then np.dot"
    p.add(predict_dot(at, bt, roots=_roots(A, B)))
    return p


def _size(x: np.ndarray, axes: list[int]) -> int:
    return int(np.prod([x.shape[a] for a in axes], dtype=np.int64))


def _reshaped(x: np.ndarray, axes: list[int], shape: tuple[int, ...], label: str, p: Prediction) -> np.ndarray:
    out = x.transpose(axes).reshape(shape)
    if out.size and not np.shares_memory(out, x):
        p.copies.append(f"{label} copied: its axes {tuple(axes)} cannot be reshaped to {shape} as a view")
    return out


def predict_multi_dot(*arrays) -> Prediction:
    """``np.linalg.multi_dot(arrays)``: two arrays are one ``np.dot``; more are chained in the
    order with the fewest multiplications, intermediate products in temporaries."""
    arrays = [np.asarray(a) for a in arrays]
    roots, p = _roots(*arrays), Prediction("multi_dot")
    if len(arrays) == 2:
        p.reason = "two arrays: np.dot"
        p.add(predict_dot(*arrays, roots=roots))
        return p
    arrays[0] = np.atleast_2d(arrays[0]) if arrays[0].ndim == 1 else arrays[0]
    arrays[-1] = np.atleast_2d(arrays[-1]).T if arrays[-1].ndim == 1 else arrays[-1]
    p.reason = "the chain in the order with the fewest multiplications, each step np.dot"
    _chain(arrays, _split(arrays), 0, len(arrays) - 1, roots, p, final=True)
    return p


def _split(arrays: list[np.ndarray]) -> dict[tuple[int, int], int]:
    """Where the cheapest product of ``arrays[i..j]`` splits: dynamic programming over the chain
    (a split replaces the best only when strictly cheaper); for three arrays numpy compares the two
    orders directly, (A·B)·C only when strictly cheaper, from A's and C's shapes."""
    dims = [a.shape[0] for a in arrays] + [arrays[-1].shape[1]]
    if len(arrays) == 3:  # numpy reads the shared length from A alone (B's own may not fit: dot raises later)
        shared = arrays[0].shape[1]
        left = dims[0] * dims[2] * (shared + dims[3])
        right = shared * dims[3] * (dims[0] + dims[2])
        return {(0, 2): 1 if left < right else 0, (0, 1): 0, (1, 2): 1}
    cost, split = {(i, i): 0.0 for i in range(len(arrays))}, {}
    for length in range(1, len(arrays)):
        for i in range(len(arrays) - length):
            j = i + length
            cost[i, j] = float("inf")
            for k in range(i, j):
                q = cost[i, k] + cost[k + 1, j] + dims[i] * dims[k + 1] * dims[j + 1]
                if q < cost[i, j]:
                    cost[i, j], split[i, j] = q, k
    return split


def _chain(arrays, split, i, j, roots, p: Prediction, final: bool) -> np.ndarray:
    """The product of ``arrays[i..j]``: predicted, and stood in for by an empty array of its shape."""
    if i == j:
        return arrays[i]
    k = split[i, j]
    left = _chain(arrays, split, i, k, roots, p, False)
    right = _chain(arrays, split, k + 1, j, roots, p, False)
    if p.raises:  # an earlier product raised: numpy computes no more
        return left
    step = predict_dot(left, right, roots=roots)
    if not final:
        step.calls = [_renamed(c, "out", "temp") for c in step.calls]
    p.add(step)
    product = np.empty((left.shape[0], right.shape[1]), np.result_type(left, right))
    roots[f"temp#{len(roots)}"] = product  # later steps read it: a temporary of numpy's
    return product


def _renamed(call: BlasCall, old: str, new: str) -> BlasCall:
    return replace(call, **{role: (new, ptr[1]) for role in "abc" if (ptr := getattr(call, role)) and ptr[0] == old})


def predict_einsum(subscripts: str, *operands, optimize=False) -> Prediction:
    """``np.einsum(subscripts, *operands, optimize=…)``. Without ``optimize``: numpy's own C loops,
    no BLAS. With it: numpy's planner orders the contractions; each pair is prepared (einsum's own
    transposes/copies and reshapes) and multiplied by ``np.matmul`` — by ``np.multiply`` when
    nothing is summed — its result a temporary the next contraction reads."""
    operands = [np.asarray(x) for x in operands]
    p = Prediction("einsum")
    try:  # numpy's own parse: subscripts and operands that do not fit raise before any product
        np.einsum_path(subscripts, *operands, optimize=False)
    except ValueError as error:
        p.reason = f"numpy raises ValueError: {error}"
        return p
    if optimize is False:
        p.reason = "optimize=False: numpy's own sum-of-products loops (c_einsum), no BLAS"
        return p
    from numpy._core.einsumfunc import _parse_eq_to_batch_matmul  # numpy's own rewrite, read not re-derived

    roots = _roots(*operands)
    operands, contractions = np.einsum_path(subscripts, *operands, optimize=optimize, einsum_call=True)
    for number, (positions, equation, _) in enumerate(contractions):
        pair = [operands.pop(i) for i in positions]
        last = number == len(contractions) - 1
        if len(pair) != 2:
            p.reason = "; ".join(r for r in (p.reason, f"{equation!r} on one operand: numpy's own loops, no BLAS") if r)
            operands.append(np.einsum(equation, *pair))
            continue
        plan = _parse_eq_to_batch_matmul(equation, pair[0].shape, pair[1].shape)
        operands.append(_contract(equation, pair, plan, roots, p, last))
    return p


def _contract(equation: str, pair: list[np.ndarray], plan, roots, p: Prediction, last: bool) -> np.ndarray:
    """One pairwise contraction as ``bmm_einsum`` does it; returns a stand-in for its result."""
    eq_a, eq_b, shape_a, shape_b, shape_ab, perm_ab, pure = plan
    if pure:
        p.reason = "; ".join(r for r in (p.reason, f"{equation!r} sums nothing: np.multiply, no BLAS") if r)
        return np.einsum(equation, *pair)
    a = _prepared(pair[0], eq_a, shape_a, "the first operand", p)
    b = _prepared(pair[1], eq_b, shape_b, "the second operand", p)
    step = predict_matmul(a, b, roots=roots)
    step.reason = f"{equation!r} as np.matmul of {a.shape} and {b.shape}: {step.reason}"
    if not last:
        step.calls = [_renamed(c, "out", "temp") for c in step.calls]
    p.add(step)
    product = np.empty(np.broadcast_shapes(a.shape[:-2], b.shape[:-2]) + (a.shape[-2], b.shape[-1]), np.result_type(a, b))
    roots[f"temp#{len(roots)}"] = product
    product = product.reshape(shape_ab) if shape_ab is not None else product
    return product.transpose(perm_ab) if perm_ab is not None else product


def _prepared(x: np.ndarray, equation: str | None, shape, label: str, p: Prediction) -> np.ndarray:
    """einsum's preparation of one operand: a single-operand einsum (a view when it only permutes),
    then a reshape (a view when the layout allows)."""
    out = np.einsum(equation, x) if equation else x
    out = out.reshape(shape) if shape is not None else out
    if out.size and not np.shares_memory(out, x):
        p.copies.append(f"{label} copied while einsum prepares it ({equation or 'reshape'} → {out.shape})")
    return out
