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
passed with its transpose flag instead of being copied. Nothing invalid reaches the library (the
reference BLAS would *exit the interpreter* on a bad argument): :class:`BridgeError` names the
argument and what was expected.

What ``copy=True`` may fix — the bridge copies and says so in the plan:

* an operand BLAS cannot read in place: negative, zero or non-unit strides in both axes, rows or
  columns that overlap (``sliding_window_view``), misaligned, byte-swapped, or a real dtype
  numpy converts to float64 under its ``same_kind`` rule (bool, integers, other floats);
* an ``out`` BLAS cannot write in place (the same layouts, or another float dtype, or complex
  when ``beta == 0``), or one that shares memory with ``A`` or ``B``: computed in a temporary
  and copied back.

What is always refused:

* complex ``A``/``B`` (dgemm would drop the imaginary parts), object, string and other
  non-numeric dtypes; an ``out`` whose dtype cannot hold float64 results under ``same_kind``
  (integers, bool), or complex with ``beta != 0`` (its imaginary part would be dropped);
* an ``out`` whose elements overlap one another (a zero stride, a leading dimension shorter
  than its rows): BLAS would write several results into one place;
* masked arrays: the bridge does not honour masks (pass ``x.filled(...)`` or ``x.data``);
* ``alpha``/``beta`` other than finite real numbers (``numbers.Real``: Python ints, floats and
  fractions, numpy integer and floating scalars; not bool — ``True`` as a factor is taken for a
  mistake — nor str, complex, arrays or Decimal). Non-finite ones are refused on every library
  because the libraries disagree on them (``beta = nan``: BLIS returns no NaN where the other four
  do; ``alpha = inf``: the reference BLAS and MKL give NaN where OpenBLAS and BLIS give inf);
* views whose strides reach outside their own buffer (possible with ``as_strided``), when the
  buffer's owner can be found.

With ``alpha = 0`` no library is called: the result is ``beta·C`` (zeros when ``beta = 0``), as
the BLAS reference defines it — A and B are not read. Left to the libraries, numpy's OpenBLAS
reads them anyway, and an inf or NaN in them makes the result NaN where the others give 0.

Two mappings of one file region (two ``np.memmap``s) share memory as much as one buffer does: an
``out`` mapped on the same file bytes as ``A`` or ``B`` is found through ``/proc/self/maps``
(Linux; elsewhere it cannot be seen, and such an ``out`` is the caller's to avoid).
"""

from __future__ import annotations

import contextlib
import math
import numbers
from dataclasses import dataclass
from types import MappingProxyType
from typing import Callable, Literal, Mapping

import numpy as np

from nnkit.backends import _fastpath
from nnkit.backends._native import ffi, lib as native
from nnkit.backends.layout import Storage, blas_storage, describe, elements_overlap, file_bytes, outside_buffer
from nnkit.backends.libraries import BlasLibrary, LibraryError, find_libraries, get_library

__all__ = ["BridgeError", "Plan", "dgemm", "plan"]

ROW_MAJOR, COL_MAJOR, NO_TRANS, TRANS = 101, 102, 111, 112  # the CBLAS enum values
CBLAS_NAMES = {ROW_MAJOR: "RowMajor", COL_MAJOR: "ColMajor", NO_TRANS: "NoTrans", TRANS: "Trans"}
INT_MAX = {32: 2**31 - 1, 64: 2**63 - 1}
DOUBLE = np.dtype(np.float64)


class BridgeError(ValueError):
    """An argument the bridge will not pass to BLAS; the message names it and what was expected."""


@dataclass(frozen=True)
class Step:
    name: str
    text: str


class _Steps(list):
    """The explanation being written; ``add`` takes a function so that no text is built when
    nobody asked for an explanation (the fast path of :func:`dgemm`)."""

    def __init__(self, enabled: bool):
        super().__init__()
        self.enabled = enabled

    def add(self, name: str, text: Callable[[], str]) -> None:
        if self.enabled:
            self.append(Step(name, text()))


@dataclass(frozen=True)
class Plan:
    """A validated dgemm call: the steps that led to it, the exact call, and :meth:`run`.

    Frozen, and its call arguments read-only: what :meth:`run` passes is what was checked."""

    library: BlasLibrary
    interface: Literal["cblas", "fortran"]
    a: np.ndarray
    b: np.ndarray
    c: np.ndarray  # what BLAS writes (``result`` itself, or a temporary copied back)
    result: np.ndarray
    alpha: float
    beta: float
    call: Mapping  # the arguments as passed (CBLAS names), pointers as ints
    column_major: Mapping  # the same call as a column-major dgemm sees it (what MKL_VERBOSE prints)
    steps: tuple[Step, ...]
    copies: tuple[str, ...]
    _native_call: tuple = ()  # (function, arguments) exactly as checked

    def run(self) -> np.ndarray:
        """Make the call (or none, for an empty product) and return the result."""
        m, n, k = self.call["m"], self.call["n"], self.call["k"]
        if m and n and (not k or self.alpha == 0):  # BLAS: with alpha = 0, A and B are not read
            self.c[...] = 0.0 if self.beta == 0 else self.c * self.beta
        elif m and n:
            function, arguments = self._native_call
            function(*arguments)
        if self.c is not self.result:
            self.result[...] = self.c
        return self.result

    def __str__(self) -> str:
        return "\n".join(f"{i}. {s.name}: {s.text}" for i, s in enumerate(self.steps, start=1))

    def to_dict(self) -> dict:
        return {"library": self.library.name, "interface": self.interface, "call": dict(self.call),
                "column_major": dict(self.column_major), "copies": list(self.copies),
                "steps": [{"name": s.name, "text": s.text} for s in self.steps]}


def dgemm(A, B, *, alpha: float = 1.0, beta: float = 0.0, out: np.ndarray | None = None,
          library: str | BlasLibrary | None = None, interface: Literal["cblas", "fortran"] | None = None,
          copy: bool = False) -> np.ndarray:
    """``alpha·A·B + beta·out`` through a BLAS dgemm on the arrays' own buffers; see :func:`plan`.

    ``out`` (shape ``(m, n)``, float64, C or F order, may be a sub-block) receives the result;
    without it a new C-ordered array is returned (then ``beta`` must be 0).

    The plain case — ``alpha·A·B`` into a new array, operands BLAS can read in place — is checked
    and called in C (``native/fastpath.c``, the same rules); everything else goes through :func:`plan`.
    """
    if (out is None and interface is None and alpha.__class__ in _NUMBERS and alpha == 1 and beta.__class__ in _NUMBERS
            and not beta and (library is None or library.__class__ is str or isinstance(library, BlasLibrary))
            and copy.__class__ is bool):
        target = (_FAST_TARGETS or _fast_targets()).get(library)
        if target is not None:
            C = _fastpath.fast_dgemm(A, B, target[0], target[1])
            if C is not None:
                return C
    return plan(A, B, alpha=alpha, beta=beta, out=out, library=library, interface=interface, copy=copy, explain=False).run()


_NUMBERS = (int, float)
_FAST_TARGETS: dict = {}


def _fast_targets() -> dict:
    """Library name or object (and None for numpy's own) → (CBLAS dgemm address, integer width)."""
    targets = _FAST_TARGETS
    for lib in find_libraries():
        if "cblas_dgemm" in lib.symbols:
            targets[lib.name] = targets[lib] = (int(ffi.cast("uintptr_t", lib.address("cblas_dgemm"))), lib.int_width)
    with contextlib.suppress(LibraryError):
        targets[None] = targets[get_library().name]
    return targets


def plan(A, B, *, alpha: float = 1.0, beta: float = 0.0, out: np.ndarray | None = None,
         library: str | BlasLibrary | None = None, interface: Literal["cblas", "fortran"] | None = None,
         copy: bool = False, explain: bool = True) -> Plan:
    """Check everything and work out the dgemm call for ``alpha·A·B + beta·out``; call nothing.

    ``library`` is a name from ``nnkit info`` (numpy's own OpenBLAS by default); ``interface``
    forces the CBLAS or the Fortran entry point (CBLAS when the library has it). With
    ``explain`` every step is written down, ending with what ``np.dot`` and ``@`` would do with
    the same arrays.
    """
    lib = library if isinstance(library, BlasLibrary) else _library(library)
    interface = _interface(lib, interface)
    steps, copies = _Steps(explain), []
    steps.add("library", lambda: f"{lib.name} ({lib.path}), {lib.int_width}-bit integers (probed), "
                                 f"{interface} entry point {lib.symbols['cblas_dgemm' if interface == 'cblas' else 'dgemm']}")
    alpha, beta = _scalar("alpha", alpha), _scalar("beta", beta)
    if copy is not True and copy is not False:
        raise BridgeError(f"copy: expected True or False, got {_shown(copy)}")
    (m, k), (k2, n) = _matrix("A", A).shape, _matrix("B", B).shape
    if k != k2:
        raise BridgeError(f"B: shape {B.shape} does not fit A {A.shape}: (m, k)·(k, n) needs B to have {k} rows, not {k2}")
    _check_width(lib, m=m, n=n, k=k)  # before anything of that size is copied or allocated
    a, sa = _operand("A", A, copy, steps, copies)
    b, sb = _operand("B", B, copy, steps, copies)
    steps.add("shapes", lambda: f"A {a.shape} · B {b.shape}: (m, k)·(k, n) with m = {m}, k = {k}, n = {n} → C ({m}, {n})")
    _check_width(lib, lda=sa.ld, ldb=sb.ld)
    c, result, sc = _output(out, m, n, beta, a, b, copy, steps, copies)
    _check_width(lib, ldc=sc.ld)
    call, cm = _call(sa, sb, sc, m, n, k)
    _check_leading_dimensions(cm)
    steps.add("limits", lambda: f"m, n, k and every ld fit {lib.int_width}-bit integers; each ld ≥ max(1, rows of its stored matrix)")
    call.update(a=_address(a), b=_address(b), c=_address(c))
    steps.add("flags", lambda: _flags_text(call, sa, sb, sc))
    steps.add("call", lambda: _call_text(lib, interface, call, cm, alpha, beta))
    if explain:
        steps.extend(_numpy_steps(A, B))
    native_call = _native_call(lib, interface, call, cm, alpha, beta)
    return Plan(lib, interface, a, b, c, result, alpha, beta, MappingProxyType(call), MappingProxyType(cm),
                tuple(steps), tuple(copies), native_call)


def _address(x: np.ndarray) -> int:
    return x.__array_interface__["data"][0]


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
    role = {"cblas": "cblas_dgemm", "fortran": "dgemm"}.get(interface) if isinstance(interface, str) else None
    if role is None:
        raise BridgeError(f"interface: expected 'cblas' or 'fortran', got {_shown(interface)}")
    if role not in lib.symbols:
        raise BridgeError(f"interface: {lib.name} has no {interface} dgemm")
    return interface


def _scalar(name: str, value) -> float:
    """A finite real number (``numbers.Real``: Python or numpy ints and floats, fractions) as a float;
    bool, str, complex, arrays and non-finite values are refused (the module docstring says why)."""
    if not isinstance(value, numbers.Real) or isinstance(value, (bool, np.bool_)):
        raise BridgeError(f"{name}: expected a real number (int or float), got {_shown(value)}")
    try:
        number = float(value)
    except OverflowError:
        raise BridgeError(f"{name}: {_shown(value)} is beyond the range of float64") from None
    if not math.isfinite(number):
        raise BridgeError(f"{name}: {number} is not finite; the BLAS libraries disagree on what a "
                          f"non-finite {name} gives, so the bridge refuses it")
    return number


def _shown(value) -> str:
    """``value`` for an error message: its type, and its repr when short and on one line."""
    text = repr(value)
    return f"{type(value).__name__} {text}" if len(text) <= 40 and "\n" not in text else type(value).__name__


# --- the operands ------------------------------------------------------------------------------
def _matrix(name: str, x) -> np.ndarray:
    """``x`` if it is a 2-D ndarray the bridge may look at (not masked), else a BridgeError."""
    if not isinstance(x, np.ndarray):
        raise BridgeError(f"{name}: expected a numpy.ndarray, got {type(x).__name__}")
    if isinstance(x, np.ma.MaskedArray):
        raise BridgeError(f"{name}: is a masked array; the bridge does not honour masks "
                          f"(pass {name}.filled(value) or {name}.data)")
    if x.ndim != 2:
        raise BridgeError(f"{name}: expected a 2-D matrix, got {x.ndim}-D shape {x.shape}")
    return x


def _unconvertible(name: str, dtype: np.dtype, beta: float = 0.0) -> str | None:
    """Why values of ``dtype`` cannot be read (``A``, ``B``) or written (``out``) as float64
    without losing what they mean — numpy's ``same_kind`` rule, numbers only — or None."""
    if name != "out":
        if dtype.kind == "c":
            return f"dtype {dtype} is complex; dgemm multiplies real doubles and would drop the imaginary parts"
        return None if dtype.kind in "biuf" else f"dtype {dtype} is not a real number type dgemm can multiply"
    if dtype.kind == "c" and beta != 0:
        return f"dtype {dtype} is complex and beta = {beta} would read it; its imaginary part would be dropped"
    if dtype.kind not in "fc":
        return f"dtype {dtype} cannot hold float64 results (numpy's same_kind rule)"
    return None


def _problem(x: np.ndarray) -> tuple[str | None, Storage | None]:
    """What stops BLAS from reading ``x`` in place (dtype, byte order, layout) — a copy would fix it — if anything."""
    if x.dtype != DOUBLE:
        if x.dtype.kind == "f" and x.dtype.itemsize == 8:
            return f"dtype {x.dtype.str} is byte-swapped; BLAS reads native {DOUBLE.str}", None
        return f"dtype {x.dtype} is not float64 (dgemm multiplies doubles)", None
    storage = blas_storage(x)
    return (storage, None) if isinstance(storage, str) else (None, storage)


def _operand(name: str, x: np.ndarray, copy: bool, steps: _Steps, copies: list[str]) -> tuple[np.ndarray, Storage]:
    """Check input ``name`` (already a 2-D ndarray); return the array BLAS will read (itself, or a copy if allowed)."""
    refused = _unconvertible(name, x.dtype) or outside_buffer(x)  # never copied: a copy would read outside
    if refused:
        raise BridgeError(f"{name}: {refused}")
    problem, storage = _problem(x)
    steps.add(f"layout of {name}", lambda: _layout_text(x))
    if problem is None:
        steps.add(f"{name} in place", lambda: f"{storage.order}, ld{name.lower()} = {storage.ld}: {storage.reason}; "
                                              f"pointer {_address(x):#x}, no copy")
        return x, storage
    if not copy:
        raise BridgeError(f"{name}: {problem} (pass copy=True to let the bridge copy it)")
    fixed = _new(name, x.shape, lambda: np.array(x, dtype=DOUBLE, order="C", copy=True))  # fresh, aligned, native
    note = f"{name} copied to a new C-contiguous float64 array at {_address(fixed):#x} ({fixed.nbytes} bytes) because {problem}"
    copies.append(note)
    steps.add(f"{name} copied", lambda: note)
    return fixed, blas_storage(fixed)


def _output(out, m: int, n: int, beta: float, a, b, copy: bool, steps: _Steps, copies: list[str]):
    """The array BLAS writes, the array returned, and how BLAS sees the former."""
    if out is None:
        if beta != 0:
            raise BridgeError(f"beta: {beta} accumulates into an existing C; pass out= (or beta=0)")
        c = _new("out", (m, n), lambda: np.empty((m, n)))
        steps.add("output", lambda: f"new C-ordered ({m}, {n}) float64 array at {_address(c):#x}, {c.nbytes} bytes; "
                                    "beta = 0 so BLAS never reads it")
        return c, c, blas_storage(c)
    if _matrix("out", out).shape != (m, n):
        raise BridgeError(f"out: expected shape ({m}, {n}) for A {a.shape} · B {b.shape}, got {out.shape}")
    if not out.flags.writeable:
        raise BridgeError("out: is read-only; BLAS must write the result into it")
    refused = _unconvertible("out", out.dtype, beta) or outside_buffer(out)
    if refused:
        raise BridgeError(f"out: {refused}")
    overlap = elements_overlap(out)
    if overlap:
        raise BridgeError(f"out: {overlap}; BLAS would write several results into one place")
    problem, storage = _problem(out)
    steps.add("layout of out", lambda: _layout_text(out))
    shared = next((why for name, x in (("A", a), ("B", b)) if (why := _shared(out, x, name))), None)
    if shared and problem is None:
        problem = f"{shared}: BLAS would overwrite its input while reading it"
    if problem is None:
        steps.add("out in place", lambda: f"{storage.order}, ldc = {storage.ld}: {storage.reason}; pointer {_address(out):#x}; "
                                          f"beta = {beta}: {'BLAS reads it first' if beta else 'its old values are ignored'}")
        return out, out, storage
    if not copy:
        raise BridgeError(f"out: {problem} (pass copy=True to compute into a temporary and copy back)")
    keep = beta != 0  # BLAS reads C only when beta ≠ 0
    temp = _new("out", out.shape, lambda: np.array(out, dtype=DOUBLE, order="C", copy=True) if keep else np.empty((m, n)))
    note = (f"out computed in a temporary C-ordered float64 array at {_address(temp):#x} ({temp.nbytes} bytes), "
            f"copied back, because {problem}")
    copies.append(note)
    steps.add("out via a temporary", lambda: note)
    return temp, out, blas_storage(temp)


_SHARE_WORK = 1 << 20  # np.shares_memory's effort bound: exact for any real layout, never a hang


def _shared(out: np.ndarray, x: np.ndarray, name: str) -> str | None:
    """How ``out`` shares memory with input ``name``: one buffer, or one file region mapped twice."""
    try:
        if np.shares_memory(out, x, max_work=_SHARE_WORK):
            return f"overlaps {name}"
    except np.exceptions.TooHardError:
        return f"may overlap {name} (numpy could not decide)"
    mapped_out = file_bytes(out)
    mapped_x = file_bytes(x) if mapped_out else None
    if mapped_x and mapped_out[0] == mapped_x[0] and np.shares_memory(mapped_out[1], mapped_x[1]):
        return f"maps the same bytes of one file as {name} (two mappings of one file region)"
    return None


def _new(name: str, shape: tuple[int, int], make: Callable[[], np.ndarray]) -> np.ndarray:
    """``make()`` — a new float64 array of ``shape`` — or a BridgeError when memory runs out (or
    when numpy finds the size past any address space: its ValueError "array is too big")."""
    try:
        return make()
    except (MemoryError, ValueError):
        need = shape[0] * shape[1] * DOUBLE.itemsize
        raise BridgeError(f"{name}: a float64 array of shape {shape} needs {need} bytes, more than can be allocated") from None


# --- the call ------------------------------------------------------------------------------------
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

    :func:`blas_storage` already guarantees it; this is the last guard before the library."""
    rows_a = cm["m"] if cm["transa"] == "N" else cm["k"]
    rows_b = cm["k"] if cm["transb"] == "N" else cm["n"]
    for name, ld, rows in (("lda", cm["lda"], rows_a), ("ldb", cm["ldb"], rows_b), ("ldc", cm["ldc"], cm["m"])):
        if ld < max(1, rows):
            raise BridgeError(f"{name}: {ld} < max(1, {rows}); the library would reject the call")


def _native_call(lib: BlasLibrary, interface: str, call: dict, cm: dict, alpha: float, beta: float) -> tuple:
    """The trampoline and its arguments, fixed once the call has been checked."""
    a, b, c = (ffi.cast("double *", call[x]) for x in ("a", "b", "c"))
    wide = lib.int_width == 64
    if interface == "cblas":
        function = native.nk_cblas_dgemm64 if wide else native.nk_cblas_dgemm32
        return function, (lib.address("cblas_dgemm"), call["order_code"], call["transa_code"], call["transb_code"],
                          call["m"], call["n"], call["k"], alpha, a, call["lda"], b, call["ldb"], beta, c, call["ldc"])
    first, second = (b, a) if cm["swapped"] else (a, b)  # column-major: a row-major C swaps A and B
    function = native.nk_fortran_dgemm64 if wide else native.nk_fortran_dgemm32
    return function, (lib.address("dgemm"), cm["transa"].encode(), cm["transb"].encode(), cm["m"], cm["n"], cm["k"],
                      alpha, first, cm["lda"], second, cm["ldb"], beta, c, cm["ldc"])


# --- the explanation ------------------------------------------------------------------------------
def _layout_text(x: np.ndarray) -> str:
    d = describe(x)
    flags = [n for n, on in (("C-contiguous", d.c_contiguous), ("F-contiguous", d.f_contiguous)) if on] or ["neither C- nor F-contiguous"]
    return (f"shape {d.shape}, dtype {x.dtype} ({d.dtype}), strides {d.strides} bytes = {d.element_strides} elements, "
            f"{', '.join(flags)}, offset {d.offset} bytes into its buffer, {d.alignment}-byte aligned")


def _flags_text(call: dict, sa: Storage, sb: Storage, sc: Storage) -> str:
    between = {"row-major": "rows", "column-major": "columns"}

    def operand(name: str, s: Storage, flag: str) -> str:
        reason = "same order as C" if s.order == sc.order else "read in C's order, its memory is the transpose"
        return f"{name} is {s.order} → {flag} ({reason}); ld{name.lower()} = {s.ld} elements between its {between[s.order]}"

    return (f"C is {sc.order} → order {call['order']}, ldc = {sc.ld} elements between its {between[sc.order]}; "
            f"{operand('A', sa, call['transa'])}; {operand('B', sb, call['transb'])}")


def _call_text(lib: BlasLibrary, interface: str, call: dict, cm: dict, alpha: float, beta: float) -> str:
    if not (call["m"] and call["n"]):
        return "no BLAS call: the product is empty (m or n is 0)"
    if not call["k"]:
        return "no BLAS call: k = 0, so C = beta·C is computed directly"
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


# Every BLAS the bridge can call is opened now, with the bridge: threadpoolctl limits only the libraries
# already open when a `threadpool_limits` block is entered, so one opened inside it would run on all cores.
find_libraries()
