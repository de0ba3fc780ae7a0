"""Predict what numpy does for ``np.dot``, ``A @ B`` and the products around them: which BLAS
routine, with which flags and leading dimensions, on which memory — and which operands it copies
first, and why.

The rules are numpy 2.4's own, read from its sources: ``cblas_matrixproduct`` in
``numpy/_core/src/common/cblasfuncs.c`` and ``PyArray_MatrixProduct2`` for ``dot``
(:mod:`.explain_dot`), ``@TYPE@_matmul`` in ``numpy/_core/src/umath/matmul.c.src`` for ``matmul``
(:mod:`.explain_matmul`), and numpy's Python code for vdot, inner, outer, tensordot, einsum and
multi_dot (:mod:`.explain_more`). Pointers are named by the memory they point into — ``"A"``,
``"B"``, ``"out"`` (the result, or the caller's ``out``), ``"copy"``/``"temp"`` (a
temporary numpy made) — with a byte offset, so a live trace or a debugger can check the prediction
call by call.

>>> import numpy as np
>>> p = predict_dot(np.ones((3, 4)), np.ones((5, 4)).T)
>>> c = p.calls[0]
>>> c.routine, c.order, c.transa, c.transb, c.m, c.n, c.k, c.lda, c.ldb, c.ldc
('dgemm', 'RowMajor', 'NoTrans', 'Trans', 3, 5, 4, 4, 4, 5)
"""

from __future__ import annotations

import numpy as np

from .explain_dot import predict_dot
from .explain_matmul import predict_matmul
from .explain_model import BlasCall, Prediction
from .explain_more import predict_einsum, predict_inner, predict_multi_dot, predict_outer, predict_tensordot, predict_vdot

__all__ = ["BlasCall", "FUNCTIONS", "Prediction", "numpy_summaries", "predict", "predict_dot", "predict_einsum",
           "predict_inner", "predict_matmul", "predict_multi_dot", "predict_outer", "predict_tensordot", "predict_vdot"]

FUNCTIONS = ("dot", "matmul", "imatmul", "vdot", "inner", "outer", "tensordot", "einsum", "multi_dot")


def predict(function: str, *operands, out=None, **options) -> Prediction:
    """What ``function`` (one of :data:`FUNCTIONS`) does with ``operands``: ``"imatmul"`` is
    ``A @= B``; ``tensordot`` takes ``axes``, ``einsum`` ``subscripts`` and ``optimize``."""
    if function == "dot":
        return predict_dot(*operands, out=out)
    if function in ("matmul", "imatmul"):
        A, B = operands
        p = predict_matmul(A, B, out=A if function == "imatmul" else out)
        p.function = function
        return p
    if out is not None:
        raise ValueError(f"out=: nnkit explains it for dot and matmul, not {function}")
    if function == "tensordot":
        return predict_tensordot(*operands, axes=options.get("axes", 2))
    if function == "einsum":
        return predict_einsum(options["subscripts"], *operands, optimize=options.get("optimize", False))
    if function == "multi_dot":
        return predict_multi_dot(*operands)
    simple = {"vdot": predict_vdot, "inner": predict_inner, "outer": predict_outer}
    if function not in simple:
        raise ValueError(f"function: expected one of {', '.join(FUNCTIONS)}, got {function!r}")
    return simple[function](*operands)


def answers(dot: Prediction, matmul: Prediction, with_out: bool = False) -> list[str]:
    """The answer first, before the steps: the call each of np.dot and ``@`` makes and the copies it
    needs, one short line each (``A @ B`` says "the same" when its calls are np.dot's)."""
    lines = []
    for label, p in zip(_labels(with_out), (dot, matmul)):
        if not p.calls:
            lines.append(f"in short: {label} → no BLAS call: {p.reason}")
        elif lines and [str(c) for c in p.calls] == [str(c) for c in dot.calls] and p.copies == dot.copies:
            lines.append(f"in short: {label} → the same call{'s' * (p.count > 1)}")
        else:
            more = f" (+{p.count - 1} more)" if p.count > 1 else ""
            copies = f"{len(p.copies) or 'no'} cop{'y' if len(p.copies) == 1 else 'ies'}"
            lines.append(f"in short: {label} → {p.calls[0]}{more}; {copies}")
    return lines


def _labels(with_out: bool) -> tuple[str, str]:
    """How np.dot's and matmul's calls are written, with ``out`` or without (matmul is then ``A @ B``)."""
    return ("np.dot(A, B, out=out)", "np.matmul(A, B, out=out)") if with_out else ("np.dot(A, B)", "A @ B")


def numpy_summaries(A, B, out=None) -> list[tuple[str, str]]:
    """One line each for ``np.dot(A, B)`` and ``A @ B`` (with ``out``): the reason, the calls, the copies."""
    lines = []
    for label, p in zip(_labels(out is not None), (predict_dot(A, B, out=out), predict_matmul(A, B, out=out))):
        label = f"beside it: {label}"
        calls = "; ".join(str(c) for c in p.calls[:3]) + (f"; … {p.count} calls in all" if p.count > 3 else "")
        lines.append((label, f"{p.reason} → {calls or 'no BLAS call'}; {'; '.join(p.copies) or 'no copies'}"))
    return lines
