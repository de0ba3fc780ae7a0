"""Record the BLAS calls numpy itself makes — inside the running interpreter, no LD_PRELOAD.

``with trace() as t: …`` points the PLT slots through which numpy's ``_multiarray_umath`` calls
its CBLAS routines (dgemm, dsyrk, dgemv, ddot, daxpy and their s, c, z siblings; for complex ones
alpha and beta are recorded by their real parts) at recording
wrappers in ``native/trace.c``, and puts them back on exit — also after an exception, also when
blocks nest. The wrappers write into a C ring buffer (numpy releases the GIL around BLAS, so they
never touch Python); ``t.calls`` lists what was recorded in the block, each call with its
arguments, its wall time, the thread that made it (``threading.get_native_id()``) and where in
the traced source it was made: the file, line and function of the calling thread's innermost frame
running code from that source — by default the file that opened the block, so the line is the
user's own even when the product happens inside numpy's or nnkit's Python code. The wrapper reads
the thread's frames in place (numpy has released the GIL; the frames cannot change while their
thread waits in BLAS): CPython 3.11 only, elsewhere ``file``/``lineno`` stay None.

What it cannot see: calls that do not pass numpy's own GOT — ``numpy.linalg`` calls LAPACK, and
the BLAS calls LAPACK makes inside OpenBLAS stay inside OpenBLAS; SciPy has its own copy.

>>> import numpy as np
>>> A, B = np.ones((3, 4)), np.ones((4, 5))
>>> with trace() as t:
...     C = A @ B
>>> call = t.calls[0]
>>> call.routine, call.order, call.transa, call.m, call.n, call.k, call.lda
('dgemm', 'RowMajor', 'NoTrans', 3, 5, 4, 4)
>>> t.owner(call.a, A=A, B=B, C=C), t.owner(call.c, A=A, B=B, C=C)
('A', 'C')
>>> call.function, call.lineno > 0
('<module>', True)
"""

from __future__ import annotations

import contextlib
import sys
import threading
from array import array
from dataclasses import asdict, dataclass, field
from types import CodeType
from typing import Iterator

import numpy as np

from nnkit.backends._native import ffi, lib as native
from nnkit.backends.trace_pointers import holder, region

__all__ = ["LINES", "STORE_BYTES", "Trace", "TracedCall", "TraceError", "read_shared", "remember_lines", "share", "trace"]

_ENUM = {101: "RowMajor", 102: "ColMajor", 111: "NoTrans", 112: "Trans", 113: "ConjTrans", 121: "Upper", 122: "Lower"}
_FIELDS = {  # which arguments each routine has, as the wrappers record them
    "gemm": ("order", "transa", "transb", "m", "n", "k", "alpha", "a", "lda", "b", "ldb", "beta", "c", "ldc"),
    "syrk": ("order", "uplo", "transa", "n", "k", "alpha", "a", "lda", "beta", "c", "ldc"),
    "gemv": ("order", "transa", "m", "n", "alpha", "a", "lda", "b", "incx", "beta", "c", "incy"),
    "dot": ("n", "a", "incx", "b", "incy"),
    "axpy": ("n", "alpha", "a", "incx", "c", "incy"),
    "dotu_sub": ("n", "a", "incx", "b", "incy", "c"),  # complex dot: the result goes to *c
    "dotc_sub": ("n", "a", "incx", "b", "incy", "c"),
}
_lock = threading.Lock()
LINES = bool(native.nk_trace_lines_supported())  # does this build record the line of each call?
_watched: list[str] = []  # the files whose lines are recorded, by index (mirrors native/trace.c)
_line_tables: list[tuple[CodeType, array]] = []  # given to native/trace.c: both live as long as the process
STORE_BYTES = native.nk_trace_store_size()  # the records' memory: see share()
_shared: list = []  # keeps the buffer given to share() alive


class TraceError(RuntimeError):
    """numpy's BLAS calls cannot be traced on this build (the message says why)."""


@dataclass(frozen=True)
class TracedCall:
    """One BLAS call numpy made. Pointers are addresses (ints); arguments a routine lacks are None.

    For gemv ``b`` is x and ``c`` is y; for dot ``a``/``b`` are x/y; for axpy ``a`` is x, ``c`` y.
    """

    routine: str
    order: str | None
    transa: str | None
    transb: str | None
    uplo: str | None
    m: int | None
    n: int | None
    k: int | None
    alpha: float | None
    beta: float | None
    lda: int | None
    ldb: int | None
    ldc: int | None
    incx: int | None
    incy: int | None
    a: int | None
    b: int | None
    c: int | None
    seconds: float
    thread: int
    number: int = 0  # its place among the calls recorded in this process (nk_trace_position when it began)
    file: str | None = None
    lineno: int | None = None
    function: str | None = None

    def to_dict(self) -> dict:
        """The JSON form: arguments present, pointers as ints, ``lineno`` as ``line``."""
        values = asdict(self)
        values["line"] = values.pop("lineno")
        return {k: v for k, v in values.items() if v is not None}

    def where(self) -> str:
        """``file:line in function``, or ``""`` when the call came from outside the traced source."""
        return f"{self.file}:{self.lineno} in {self.function}" if self.file else ""

    def line(self) -> str:
        """One MKL_VERBOSE-like line: ``DGEMM(RowMajor,NoTrans,Trans,3,5,4,1,0x…,4,…) 12.3us T1``."""
        kind = self.routine[1:]
        values = [getattr(self, f) for f in _FIELDS[kind]]
        shown = [hex(v) if f in ("a", "b", "c") else f"{v:g}" if isinstance(v, float) else str(v) for f, v in zip(_FIELDS[kind], values)]
        at = f" at {self.where()}" if self.file else ""
        return f"NNKIT_TRACE {self.routine.upper()}({','.join(shown)}) {self.seconds * 1e6:.2f}us thread {self.thread}{at}"


@dataclass
class Trace:
    """The calls recorded inside one ``with trace()`` block: read while it runs, kept on exit.

    The C ring buffer holds the newest 65 536 calls; a block that makes more keeps the newest
    ones and counts the rest in ``dropped``."""

    start: int
    stop: int | None = None
    hooked: list[str] = field(default_factory=list)
    dropped: int = 0
    _kept: list[TracedCall] | None = None

    @property
    def calls(self) -> list[TracedCall]:
        if self._kept is not None:
            return self._kept
        calls, self.dropped = _read(self.start, native.nk_trace_position(), _watched)
        return calls

    def close(self) -> None:
        """Copy the block's records out of the ring buffer (``trace()`` does this on exit)."""
        self.stop = native.nk_trace_position()
        self._kept, self.dropped = _read(self.start, self.stop, _watched)

    @staticmethod
    def owner(address: int | None, **arrays: np.ndarray) -> str | None:
        """Name of the array with an element at ``address`` (see :func:`~nnkit.backends.trace_pointers.holder`),
        ``"temporary"`` for none of them."""
        if address is None:
            return None
        return holder(address, [(name, region(array)) for name, array in arrays.items()]) or "temporary"


@contextlib.contextmanager
def trace(source: str | None = None) -> Iterator[Trace]:
    """Record numpy's BLAS calls made inside the block (by any thread); restore numpy on exit.

    ``source``: the file whose lines the calls carry, as its code names it (``co_filename``);
    default: the file of the code that opened the block."""
    if source is None:
        opener = sys._getframe(2).f_code  # 0: this generator, 1: contextlib's __enter__
        source = opener.co_filename
        remember_lines(opener)
    hooked = _install()
    _watch(source)
    t = Trace(start=native.nk_trace_position(), hooked=hooked)
    try:
        yield t
    finally:
        with _lock:
            last = native.nk_trace_uninstall() == 0
        t.close()
        if last:
            native.nk_trace_unwatch()
            _watched.clear()


def remember_lines(code: CodeType) -> None:
    """Give the recorder the line of every instruction of ``code`` and of the code nested in it
    (functions, lambdas, comprehensions, classes): a call made from them then finds its line at
    once, where CPython's own lookup scans the code's whole location table (µs in a long module).
    The code objects are kept for the life of the process (4 096 at most; more go without)."""
    with _lock:
        for co in _nested(code):
            lines = array("i", [-1]) * (len(co.co_code) // 2)  # one per code unit (2 bytes)
            for start, end, line in co.co_lines():
                lines[start // 2 : end // 2] = array("i", [-1 if line is None else line]) * ((end - start) // 2)
            if native.nk_trace_code_lines(ffi.cast("void *", id(co)), ffi.from_buffer("int32_t[]", lines), len(lines)):
                return
            _line_tables.append((co, lines))


def _nested(code: CodeType) -> Iterator[CodeType]:
    yield code
    for constant in code.co_consts:
        if isinstance(constant, CodeType):
            yield from _nested(constant)


def _watch(source: str) -> None:
    with _lock:
        index = native.nk_trace_watch(source.encode("utf-8", "surrogateescape"))
        if index == len(_watched):
            _watched.append(source)


def share(memory) -> None:
    """Record into ``memory`` from now on — a writable buffer of :data:`STORE_BYTES` zeroed bytes, such as a
    shared ``mmap`` — so that another process can :func:`read_shared` the calls even after this one died.
    ``memory`` must outlive every later trace; call before any ``trace()`` block is open."""
    status = native.nk_trace_share(ffi.from_buffer(memory, require_writable=True), len(memory))
    if status:
        raise TraceError("cannot move the records while a trace is open" if status == -1 else
                         f"the shared memory holds {len(memory)} bytes; the records need {STORE_BYTES}")
    _shared.append(memory)


def read_shared(memory, sources: list[str]) -> tuple[list[TracedCall], int, int]:
    """What another process recorded into ``memory`` (see :func:`share`): its completed calls, how many
    of the oldest were overwritten, and how many had started but not returned when it stopped.
    ``sources``: the files it watched, in the order it watched them (its traced script first)."""
    store = ffi.from_buffer(memory)
    stop = native.nk_trace_store_position(store)
    calls, dropped = _read(0, stop, sources, store)
    return calls, dropped, stop - dropped - len(calls)


def _install() -> list[str]:
    from numpy._core import _multiarray_umath

    from nnkit.backends.libraries import get_library

    library = get_library()  # numpy's own
    module = _multiarray_umath.__file__.rsplit("/", 1)[-1]
    with _lock:
        status = native.nk_trace_install(module.encode(), library.path.encode(), library.int_width)
    if status <= 0:
        reasons = {0: "no CBLAS slot found in numpy's module", -1: f"{module} is not loaded",
                   -2: f"cannot reach {library.path}", -3: "a hooked routine is missing from numpy's BLAS",
                   -4: "cannot make numpy's GOT writable", -5: "more CBLAS slots than the tracer can hold"}
        raise TraceError(f"cannot trace numpy's BLAS calls: {reasons.get(status, status)}")
    return [ffi.string(native.nk_trace_hooked_symbol(i)).decode() for i in range(status)]


def _read(start: int, stop: int, sources: list[str], store=None) -> tuple[list[TracedCall], int]:
    """The completed calls numbered [start, stop) — in this process's records, or in ``store`` (another's,
    see :func:`read_shared`) — and how many of the oldest were overwritten; ``sources``: the watched files."""
    dropped = max(0, stop - start - native.nk_trace_capacity())
    start += dropped
    buffer = ffi.new("nk_call[]", max(stop - start, 1))
    if store is None:
        count = native.nk_trace_read(start, stop, buffer, stop - start)
    else:
        count = native.nk_trace_read_store(store, start, stop, buffer, stop - start)
    return [_call(buffer[i], sources) for i in range(count)], dropped


def _call(r, sources: list[str]) -> TracedCall:
    routine = ffi.string(native.nk_trace_routine_name(r.routine)).decode()
    present = set(_FIELDS[routine[1:]])

    def get(name, convert=int):
        return convert(getattr(r, name)) if name in present else None

    enum = lambda name: _ENUM.get(getattr(r, name)) if name in present else None  # noqa: E731
    return TracedCall(
        routine=routine, order=enum("order"), transa=enum("transa"), transb=enum("transb"), uplo=enum("uplo"),
        m=get("m"), n=get("n"), k=get("k"), alpha=get("alpha", float), beta=get("beta", float),
        lda=get("lda"), ldb=get("ldb"), ldc=get("ldc"), incx=get("incx"), incy=get("incy"),
        a=get("a"), b=get("b"), c=get("c"), seconds=(r.end_ns - r.start_ns) * 1e-9, thread=r.thread,
        number=r.number, **_where(r, sources),
    )


def _where(r, sources: list[str]) -> dict:
    if not 0 <= r.file < len(sources):
        return {}
    return {"file": sources[r.file], "lineno": r.line, "function": ffi.string(r.function).decode("utf-8", "replace")}
