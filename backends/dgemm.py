"""The BLAS bridge: ``C = alpha·op(A)·op(B) + beta·C`` by calling a library's dgemm directly on
the arrays' own buffers — no copy — with every check made first, in Python, as a named step.

>>> import numpy as np
>>> A, B = np.arange(6.0).reshape(2, 3), np.arange(12.0).reshape(3, 4)
>>> bool((dgemm(A, B) == A @ B).all())
True
>>> p = plan(A, B.T.copy().T)          # B as a Fortran-ordered array: passed as-is, flagged
>>> p.call["transa"], p.call["transb"], p.call["ldb"]
('NoTrans', 'Trans', 3)

``op()`` comes from the memory layout, as in numpy: a Fortran-ordered or transposed operand is
passed with its transpose flag instead of being copied. Nothing invalid ever reaches the library
(the reference BLAS would *exit the interpreter* on a bad argument): :class:`BridgeError` names
the argument and what was expected. Layouts BLAS cannot take (negative, zero or non-unit strides
in both axes, misaligned, byte-swapped, not float64) are refused unless ``copy=True``, which
copies them and says so in the plan.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from nnkit.backends._native import ffi, lib as native
from nnkit.backends.layout import Layout, describe
from nnkit.backends.libraries import BlasLibrary, LibraryError, get_library

__all__ = ["BridgeError", "Plan", "dgemm", "plan"]

ROW_MAJOR, COL_MAJOR, NO_TRANS, TRANS = 101, 102, 111, 112  # the CBLAS enum values
CBLAS_NAMES = {ROW_MAJOR: "RowMajor", COL_MAJOR: "ColMajor", NO_TRANS: "NoTrans", TRANS: "Trans"}
INT_MAX = {32: 2**31 - 1, 64: 2**63 - 1}
DOUBLE = np.dtype(np.float64)


class BridgeError(ValueError):
    """An argument the bridge will not pass to BLAS; the message names it and what was expected."""


@dataclass(frozen=True)
class Storage:
    """How BLAS can read a 2-D operand in place: ``order`` and leading dimension ``ld`` (elements)."""

    order: Literal["row-major", "column-major"]
    ld: int
    reason: str


@dataclass(frozen=True)
class Step:
    name: str
    text: str


@dataclass
class Plan:
    """A validated dgemm call: the steps that led to it, the exact call, and :meth:`run`."""

    library: BlasLibrary
    interface: Literal["cblas", "fortran"]
    a: np.ndarray
    b: np.ndarray
    c: np.ndarray  # what BLAS writes (``result`` itself, or a temporary copied back)
    result: np.ndarray
    alpha: float
    beta: float
    call: dict  # the arguments as passed (CBLAS names), pointers as ints
    column_major: dict  # the same call as a column-major dgemm sees it (what MKL_VERBOSE prints)
    steps: list[Step] = field(default_factory=list)
    copies: list[str] = field(default_factory=list)

    def run(self) -> np.ndarray:
        """Make the call (or none, for an empty product) and return the result."""
        m, n, k = self.call["m"], self.call["n"], self.call["k"]
        if m and n and not k:
            self.c *= self.beta  # BLAS would do the same: alpha·(nothing) + beta·C
            if self.beta == 0:
                self.c[...] = 0.0
        elif m and n:
            self._call_blas()
        if self.c is not self.result:
            self.result[...] = self.c
        return self.result

    def _call_blas(self) -> None:
        cm, width = self.column_major, self.library.int_width
        a, b, c = (ffi.cast("double *", x.__array_interface__["data"][0]) for x in (self.a, self.b, self.c))
        if self.interface == "cblas":
            call = self.call
            fn = native.nk_cblas_dgemm64 if width == 64 else native.nk_cblas_dgemm32
            fn(self.library.address("cblas_dgemm"), call["order_code"], call["transa_code"], call["transb_code"],
               call["m"], call["n"], call["k"], self.alpha, a, call["lda"], b, call["ldb"], self.beta, c, call["ldc"])
        else:
            # column-major: when C is row-major the first operand is B (see _column_major_call)
            first, second = (b, a) if cm["swapped"] else (a, b)
            fn = native.nk_fortran_dgemm64 if width == 64 else native.nk_fortran_dgemm32
            fn(self.library.address("dgemm"), cm["transa"].encode(), cm["transb"].encode(), cm["m"], cm["n"], cm["k"],
               self.alpha, first, cm["lda"], second, cm["ldb"], self.beta, c, cm["ldc"])

    def __str__(self) -> str:
        return "\n".join(f"{i}. {s.name}: {s.text}" for i, s in enumerate(self.steps, start=1))

    def to_dict(self) -> dict:
        return {"library": self.library.name, "interface": self.interface, "call": self.call,
                "column_major": self.column_major, "copies": self.copies,
                "steps": [{"name": s.name, "text": s.text} for s in self.steps]}


# --- checks on one operand -------------------------------------------------------------------
def storage(layout: Layout) -> Storage | str:
    """How BLAS can read this 2-D float64 array in place, or the reason it cannot.

    BLAS takes a matrix as a pointer and a leading dimension: consecutive elements along one
    axis (unit stride) and a fixed, positive, whole-element step between rows (or columns) of at
    least their length. An axis of length 1 is never stepped along, so its stride is free.
    Row-major is preferred when both fit (as numpy does: C-contiguous first).

    >>> storage(describe(np.zeros((3, 5))[:, :2]))
    Storage(order='row-major', ld=5, reason='unit stride along rows, 5 elements between rows')
    >>> storage(describe(np.zeros((3, 5))[:, ::2]))
    'no unit stride in either axis (strides 40, 16 bytes); BLAS needs one'
    """
    (rows, cols), (s0, s1), size = layout.shape, layout.strides, layout.itemsize
    if rows * cols == 0:
        return Storage("row-major", max(1, cols), "empty: no element is read, strides do not matter")
    for axis, (extent, stride) in enumerate(zip(layout.shape, layout.strides)):
        if extent > 1 and stride <= 0:
            kind = "negative" if stride < 0 else "zero (broadcast)"
            return f"{kind} stride {stride} bytes in axis {axis}; BLAS steps forward through memory"
        if extent > 1 and stride % size:
            return f"stride {stride} bytes in axis {axis} is not a whole number of {size}-byte elements"
    if layout.address % size:
        return f"address {layout.address:#x} is not aligned to {size} bytes"
    if cols <= 1 or s1 == size:
        ld = s0 // size if rows > 1 else max(1, cols)
        if ld >= max(1, cols):
            return Storage("row-major", ld, f"unit stride along rows, {ld} elements between rows")
    if rows <= 1 or s0 == size:
        ld = s1 // size if cols > 1 else max(1, rows)
        if ld >= max(1, rows):
            return Storage("column-major", ld, f"unit stride down columns, {ld} elements between columns")
    return f"no unit stride in either axis (strides {s0}, {s1} bytes); BLAS needs one"


def _dtype_problem(x: np.ndarray) -> str | None:
    if x.dtype.kind != "f" or x.dtype.itemsize != 8:
        return f"dtype {x.dtype} is not float64 (dgemm multiplies doubles)"
    if not x.dtype.isnative:
        return f"dtype {x.dtype.str} is byte-swapped; BLAS reads native {DOUBLE.str}"
    return None


def _operand(name: str, x, copy: bool, steps: list[Step], copies: list[str]) -> tuple[np.ndarray, Storage]:
    """Check input ``name``; return the array BLAS will read (itself, or a copy if allowed)."""
    if not isinstance(x, np.ndarray):
        raise BridgeError(f"{name}: expected a numpy.ndarray, got {type(x).__name__}")
    if x.ndim != 2:
        raise BridgeError(f"{name}: expected a 2-D matrix, got {x.ndim}-D shape {x.shape}")
    layout = describe(x)
    problem = _dtype_problem(x) or (None if isinstance(s := storage(layout), Storage) else s)
    steps.append(Step(f"layout of {name}", _layout_text(layout)))
    if problem is None:
        steps.append(Step(f"{name} in place", f"{s.order}, ld{name.lower()} = {s.ld}: {s.reason}; pointer {layout.address:#x}, no copy"))
        return x, s
    if not copy:
        raise BridgeError(f"{name}: {problem} (pass copy=True to let the bridge copy it)")
    fixed = np.ascontiguousarray(x, dtype=DOUBLE)
    note = f"{name} copied to a new C-contiguous float64 array ({fixed.nbytes} bytes) because {problem}"
    copies.append(note)
    steps.append(Step(f"{name} copied", note))
    return fixed, storage(describe(fixed))


def _layout_text(d: Layout) -> str:
    flags = [n for n, on in (("C-contiguous", d.c_contiguous), ("F-contiguous", d.f_contiguous)) if on] or ["neither C- nor F-contiguous"]
    return (f"shape {d.shape}, dtype {d.dtype}, strides {d.strides} bytes = {d.element_strides} elements, "
            f"{', '.join(flags)}, offset {d.offset} bytes into its buffer, {d.alignment}-byte aligned")


# --- the call ----------------------------------------------------------------------------------
def plan(A, B, *, alpha: float = 1.0, beta: float = 0.0, out: np.ndarray | None = None,
         library: str | BlasLibrary | None = None, interface: Literal["cblas", "fortran"] | None = None,
         copy: bool = False, explain: bool = True) -> Plan:
    """Check everything and work out the dgemm call for ``alpha·A·B + beta·out``; call nothing.

    ``library`` is a name from ``nnkit info`` (numpy's own OpenBLAS by default); ``interface``
    forces the CBLAS or the Fortran entry point (CBLAS when the library has it). With
    ``explain`` the steps end with what ``np.dot`` and ``@`` would do with the same arrays.
    """
    lib = library if isinstance(library, BlasLibrary) else _library(library)
    interface = _interface(lib, interface)
    steps = [Step("library", f"{lib.name} ({lib.path}), {lib.int_width}-bit integers (probed), "
                             f"{interface} entry point {lib.symbols['cblas_dgemm' if interface == 'cblas' else 'dgemm']}")]
    copies: list[str] = []
    original_a, original_b = A, B
    alpha, beta = _scalar("alpha", alpha), _scalar("beta", beta)
    A, sa = _operand("A", A, copy, steps, copies)
    B, sb = _operand("B", B, copy, steps, copies)
    (m, k), (k2, n) = A.shape, B.shape
    if k != k2:
        raise BridgeError(f"B: shape {B.shape} does not fit A {A.shape}: (m, k)·(k, n) needs B to have {k} rows, not {k2}")
    steps.append(Step("shapes", f"A {A.shape} · B {B.shape}: (m, k)·(k, n) with m = {m}, k = {k}, n = {n} → C ({m}, {n})"))
    _check_width(lib, m=m, n=n, k=k, lda=sa.ld, ldb=sb.ld)  # before an output of that size is allocated
    C, result, sc = _output(out, m, n, beta, A, B, copy, steps, copies)
    _check_width(lib, ldc=sc.ld)
    call, cm = _call(sa, sb, sc, m, n, k)
    _check_leading_dimensions(cm)
    steps.append(Step("limits", f"m, n, k and every ld fit {lib.int_width}-bit integers; each ld ≥ max(1, rows of its stored matrix)"))
    call.update(a=A.__array_interface__["data"][0], b=B.__array_interface__["data"][0], c=C.__array_interface__["data"][0])
    steps.append(Step("flags", _flags_text(call, sa, sb, sc)))
    steps.append(Step("call", _call_text(lib, interface, call, cm, alpha, beta)))
    if explain:
        steps.extend(_numpy_steps(original_a, original_b))
    return Plan(lib, interface, A, B, C, result, alpha, beta, call, cm, steps, copies)


def dgemm(A, B, *, alpha: float = 1.0, beta: float = 0.0, out: np.ndarray | None = None,
          library: str | BlasLibrary | None = None, interface: Literal["cblas", "fortran"] | None = None,
          copy: bool = False) -> np.ndarray:
    """``alpha·A·B + beta·out`` through a BLAS dgemm on the arrays' own buffers; see :func:`plan`.

    ``out`` (shape ``(m, n)``, float64, C or F order, may be a sub-block) receives the result;
    without it a new C-ordered array is returned (then ``beta`` must be 0).
    """
    return plan(A, B, alpha=alpha, beta=beta, out=out, library=library, interface=interface, copy=copy, explain=False).run()


def _library(name) -> BlasLibrary:
    if name is not None and not isinstance(name, str):
        raise BridgeError(f"library: expected a library name or None, got {type(name).__name__}")
    try:
        return get_library(name)
    except LibraryError as error:
        raise BridgeError(f"library: {error}") from None


def _interface(lib: BlasLibrary, interface: str | None) -> str:
    if interface is None:
        return "cblas" if "cblas_dgemm" in lib.symbols else "fortran"
    role = {"cblas": "cblas_dgemm", "fortran": "dgemm"}.get(interface)
    if role is None:
        raise BridgeError(f"interface: expected 'cblas' or 'fortran', got {interface!r}")
    if role not in lib.symbols:
        raise BridgeError(f"interface: {lib.name} has no {interface} dgemm")
    return interface


def _scalar(name: str, value) -> float:
    try:
        x = float(value)
    except (TypeError, ValueError):
        raise BridgeError(f"{name}: expected a real number, got {value!r}") from None
    if isinstance(value, complex) or (isinstance(value, np.ndarray) and value.ndim):
        raise BridgeError(f"{name}: expected a real number, got {value!r}")
    return x


def _output(out, m: int, n: int, beta: float, A, B, copy: bool, steps: list[Step], copies: list[str]):
    """The array BLAS writes, the array returned, and how BLAS sees the former."""
    if out is None:
        if beta != 0:
            raise BridgeError(f"beta: {beta} accumulates into an existing C; pass out= (or beta=0)")
        C = np.empty((m, n))
        steps.append(Step("output", f"new C-ordered ({m}, {n}) float64 array, {C.nbytes} bytes; beta = 0 so BLAS never reads it"))
        return C, C, storage(describe(C))
    if not isinstance(out, np.ndarray):
        raise BridgeError(f"out: expected a numpy.ndarray, got {type(out).__name__}")
    if out.shape != (m, n):
        raise BridgeError(f"out: expected shape ({m}, {n}) for A {A.shape} · B {B.shape}, got {out.shape}")
    if not out.flags.writeable:
        raise BridgeError("out: is read-only; BLAS must write the result into it")
    layout = describe(out)
    steps.append(Step("layout of out", _layout_text(layout)))
    problem = _dtype_problem(out) or (None if isinstance(s := storage(layout), Storage) else s)
    overlap = next((name for name, x in (("A", A), ("B", B)) if np.shares_memory(out, x)), None)
    if overlap:
        problem = problem or f"overlaps {overlap}: BLAS would overwrite its input while reading it"
    if problem is None:
        steps.append(Step("out in place", f"{s.order}, ldc = {s.ld}: {s.reason}; pointer {layout.address:#x}; "
                                          f"beta = {beta}: {'BLAS reads it first' if beta else 'its old values are ignored'}"))
        return out, out, s
    if not copy:
        raise BridgeError(f"out: {problem} (pass copy=True to compute into a temporary and copy back)")
    temp = np.array(out, dtype=DOUBLE, order="C", copy=True)
    note = f"out computed in a temporary C-ordered float64 array ({temp.nbytes} bytes), copied back, because {problem}"
    copies.append(note)
    steps.append(Step("out via a temporary", note))
    return temp, out, storage(describe(temp))


def _call(sa: Storage, sb: Storage, sc: Storage, m: int, n: int, k: int) -> tuple[dict, dict]:
    """The CBLAS arguments, and the same call in column-major (Fortran) terms.

    CBLAS takes the order of C: row-major C → ``RowMajor``, and an operand is ``NoTrans`` when it
    is stored in that same order. A column-major dgemm computing a row-major C really computes
    Cᵀ = Bᵀ·Aᵀ: operands swap, m and n swap — the swap MKL_VERBOSE shows.
    """
    c_row = sc.order == "row-major"
    order = ROW_MAJOR if c_row else COL_MAJOR
    ta = NO_TRANS if sa.order == sc.order else TRANS
    tb = NO_TRANS if sb.order == sc.order else TRANS
    call = {"routine": "dgemm", "order": CBLAS_NAMES[order], "transa": CBLAS_NAMES[ta], "transb": CBLAS_NAMES[tb],
            "m": m, "n": n, "k": k, "lda": sa.ld, "ldb": sb.ld, "ldc": sc.ld,
            "order_code": order, "transa_code": ta, "transb_code": tb}
    letter = {NO_TRANS: "N", TRANS: "T"}
    if c_row:
        cm = {"transa": letter[tb], "transb": letter[ta], "m": n, "n": m, "k": k, "lda": sb.ld, "ldb": sa.ld, "ldc": sc.ld, "swapped": True}
    else:
        cm = {"transa": letter[ta], "transb": letter[tb], "m": m, "n": n, "k": k, "lda": sa.ld, "ldb": sb.ld, "ldc": sc.ld, "swapped": False}
    return call, cm


def _check_width(lib: BlasLibrary, **values: int) -> None:
    """Refuse, never truncate, a value the library's integers cannot hold (LP64: 2³¹ − 1)."""
    limit = INT_MAX[lib.int_width]
    for name, value in values.items():
        if value > limit:
            raise BridgeError(f"{name}: {value} does not fit the {lib.int_width}-bit integers of {lib.name} "
                              f"(max {limit}); refusing rather than truncating")


def _check_leading_dimensions(cm: dict) -> None:
    """What dgemm itself checks before its xerbla (which, in the reference BLAS, exits the process).

    :func:`storage` already guarantees it; this is the last guard before the library."""
    rows_a = cm["m"] if cm["transa"] == "N" else cm["k"]
    rows_b = cm["k"] if cm["transb"] == "N" else cm["n"]
    for name, ld, rows in (("lda", cm["lda"], rows_a), ("ldb", cm["ldb"], rows_b), ("ldc", cm["ldc"], cm["m"])):
        if ld < max(1, rows):
            raise BridgeError(f"{name}: {ld} < max(1, {rows}); the library would reject the call")


def _flags_text(call: dict, sa: Storage, sb: Storage, sc: Storage) -> str:
    return (f"C is {sc.order} → order {call['order']}; A is {sa.order} → {call['transa']}; "
            f"B is {sb.order} → {call['transb']}; lda = {call['lda']}, ldb = {call['ldb']}, ldc = {call['ldc']} "
            f"(elements between consecutive {'rows' if sc.order == 'row-major' else 'columns'} of each stored matrix)")


def _call_text(lib: BlasLibrary, interface: str, call: dict, cm: dict, alpha: float, beta: float) -> str:
    if interface == "cblas":
        made = (f"{lib.symbols['cblas_dgemm']}(Cblas{call['order']}, Cblas{call['transa']}, Cblas{call['transb']}, "
                f"{call['m']}, {call['n']}, {call['k']}, {alpha}, {call['a']:#x}, {call['lda']}, {call['b']:#x}, {call['ldb']}, "
                f"{beta}, {call['c']:#x}, {call['ldc']})")
    else:
        made = f"{lib.symbols['dgemm']}(...) by reference, with hidden string lengths 1, 1"
    first, second = (call["b"], call["a"]) if cm["swapped"] else (call["a"], call["b"])
    colmajor = (f"DGEMM({cm['transa']},{cm['transb']},{cm['m']},{cm['n']},{cm['k']},{alpha},{first:#x},{cm['lda']},"
                f"{second:#x},{cm['ldb']},{beta},{call['c']:#x},{cm['ldc']})")
    return f"{made}; column-major view: {colmajor}" + (" (A and B swapped: C is row-major)" if cm["swapped"] else "")



def _numpy_steps(A: np.ndarray, B: np.ndarray) -> list[Step]:
    """numpy's own road for the same operands (:mod:`nnkit.backends.explain`), for comparison."""
    from nnkit.backends.explain import numpy_summaries

    return [Step(label, text) for label, text in numpy_summaries(A, B)]
