"""nnkit's own dgemm (``native/gemm.c``, ``native/microkernel.c``), BLIS-style, and the rungs that
build it up one idea at a time.

The whole BLAS contract is reached through the bridge like any other library
(``dgemm(A, B, library="nnkit")``); this module shows what is inside: the block sizes and how
they follow from this machine's caches (:func:`config`, :func:`reasoning`), and each rung of the
ladder as a function of its own (:func:`rung`), all with one signature so they can be timed on
the same matrices.

>>> import numpy as np
>>> A, B = np.ones((50, 30)), np.ones((30, 20))
>>> [bool((rung(name, A, B) == 30).all()) for name in RUNGS]
[True, True, True, True, True, True, True]
"""

from __future__ import annotations

import contextlib
import dataclasses
import importlib.metadata
import numbers
import textwrap
from typing import Iterator

import numpy as np
import threadpoolctl

from nnkit.backends._native import ffi, lib


@dataclasses.dataclass(frozen=True)
class Config:
    """What nnkit's dgemm does on this machine (sizes in elements, caches in bytes; L1 is its data cache), and where
    each cache figure came from (``*_from``): "sysfs" (/sys/devices/system/cpu/cpu0/cache), "sysconf" (glibc's),
    "default" (nnkit's own, where neither says) or "given" (``config_for_l3``'s L3 size). ``one_thread_up_to``: the
    multiply-adds (m·n·k) up to which a product runs on one thread, measured on the machine ``one_thread_measured_on``
    names, ``one_thread_evidence`` saying what was measured there — or, when ``one_thread_from`` is "given", the
    figure :func:`one_thread_cut` set in its place (``one_thread_kernel_up_to``: the kernel's own, given or not);
    ``unpacked_up_to``: those up to which it skips packing, with ``unpacked_measured_on`` and ``unpacked_evidence``
    alike — each the figure of this micro-kernel (native/gemm.c's tables), the packing cut never above the
    one-thread cut in force (the unpacked path runs on one thread)."""

    kernel: str
    mr: int
    nr: int
    mc: int
    kc: int
    nc: int
    threads: int
    l1_bytes: int
    l1_ways: int
    l2_bytes: int
    l2_ways: int
    l3_bytes: int
    l3_ways: int
    line_bytes: int
    a_ways_l1: int
    b_ways_l1: int
    a_ways_l2: int
    a_ways_l3: int
    nc_model: int
    nc_cap: int
    one_thread_up_to: int
    one_thread_from: str
    one_thread_kernel_up_to: int
    one_thread_measured_on: str
    one_thread_evidence: str
    unpacked_up_to: int
    unpacked_measured_on: str
    unpacked_evidence: str
    l1_bytes_from: str
    l1_ways_from: str
    l2_bytes_from: str
    l2_ways_from: str
    l3_bytes_from: str
    l3_ways_from: str
    line_bytes_from: str


def config() -> Config:
    """The kernel, tile, cache blocks and threads nnkit's dgemm uses now, and the caches they came from."""
    return _config(lib.nk_gemm_config_get())


def config_for_l3(l3_bytes: int) -> Config:
    """``config()`` as the NC rule would give it had the L3 held ``l3_bytes`` bytes (in the ways the machine
    reports): ``a_ways_l3``, ``nc_model`` and ``nc`` change, nothing else. For example, tutorial 8 asks it what
    NC the L3 reach its sweeps measured would give: ``config_for_l3(8 << 20).nc_model``."""
    if l3_bytes <= 0:
        raise ValueError(f"l3_bytes: expected a positive size in bytes, got {l3_bytes}")
    return _config(lib.nk_gemm_config_for_l3(l3_bytes))


def config_from_caches(directory: str) -> Config:
    """``config()`` had the caches been read from ``directory``, laid out as sysfs's cache directory (an ``index<n>``
    directory per cache, with ``level``, ``type``, ``size``, ``ways_of_associativity``, ``coherency_line_size``):
    where a file is missing, empty or garbage, glibc's sysconf and then nnkit's defaults, as on a machine without
    sysfs. The configuration in use does not change."""
    return _config(lib.nk_gemm_config_from_caches(str(directory).encode()))


def _config(c) -> Config:
    text = lambda name: ffi.string(getattr(c, name)).decode()
    fields = {f.name: text(f.name) if f.type == "str" else getattr(c, f.name) for f in dataclasses.fields(Config)}
    return Config(**fields)


def kernels() -> list[str]:
    """The micro-kernels this CPU can run, widest first."""
    names = ("avx512f+fma", "avx2+fma", "portable")
    with configured():
        return [name for name in names if lib.nk_gemm_configure(name.encode(), 0, 0, 0, 0) == 0]


@contextlib.contextmanager
def configured(kernel: str | None = None, threads: int = 0, mc: int = 0, kc: int = 0, nc: int = 0) -> Iterator[Config]:
    """Within the block, nnkit's dgemm uses this kernel, thread count and block sizes (0 or None:
    what the machine suggests); the previous choice is restored after."""
    before = config()
    if lib.nk_gemm_configure(kernel.encode() if kernel else ffi.NULL, threads, mc, kc, nc) != 0:
        raise ValueError(f"kernel {kernel!r}, threads {threads}, blocks {mc, kc, nc}: expected one of {kernels()}, "
                         "threads 0–256 and blocks ≥ 0")
    try:
        yield config()
    finally:
        lib.nk_gemm_configure(before.kernel.encode(), before.threads, before.mc, before.kc, before.nc)


INT64_MAX = 2**63 - 1


@contextlib.contextmanager
def one_thread_cut(multiply_adds: int | None) -> Iterator[Config]:
    """Within the block, nnkit's dgemm runs products of up to ``multiply_adds`` multiply-adds (m·n·k) on one thread,
    in place of its kernel's measured cut (``Config.one_thread_up_to``); 0 lifts the cut: any product with rows for
    two threads may use them (``configured``'s thread count). The packing cut follows it down (the unpacked path runs
    on one thread), so with 0 every product packs. None: the kernel's own figure. The previous cut is restored after;
    kernel, threads and block sizes (``configured``) are kept throughout. Not thread-safe, like ``configured``.

    >>> with one_thread_cut(0) as c:
    ...     (c.one_thread_up_to, c.one_thread_from)
    (0, 'given')
    """
    if multiply_adds is not None:
        if isinstance(multiply_adds, bool) or not isinstance(multiply_adds, numbers.Integral):
            raise TypeError(f"multiply_adds: expected a whole number of multiply-adds (m·n·k) or None, got "
                            f"{type(multiply_adds).__name__} {multiply_adds!r}")
        if not 0 <= multiply_adds <= INT64_MAX:
            raise ValueError(f"multiply_adds: expected 0 to {INT64_MAX:,} multiply-adds (m·n·k), got {multiply_adds}")
    before = config()
    lib.nk_gemm_set_one_thread_up_to(-1 if multiply_adds is None else int(multiply_adds))
    try:
        yield config()
    finally:
        lib.nk_gemm_set_one_thread_up_to(before.one_thread_up_to if before.one_thread_from == "given" else -1)


def last_threads() -> int:
    """The threads the calling thread's last product through nnkit's dgemm (the library or a rung) ran on, as the
    library reports it — the caller's own included: 1 when it ran on one thread, 0 before any product."""
    return lib.nk_gemm_last_threads()


def reasoning(c: Config | None = None) -> list[str]:
    """How the block sizes follow from the caches, one paragraph per block (lines of ≤ 100 characters): what a loop reuses stays in
    its cache while the rest streams past — in L1 the ways shared by both micro-panels and the C tile, in L2 half of
    the ways for the A block, in L3 the rest beside one free way for the B panel."""
    c = c or config()
    way1, way2, way3 = c.l1_bytes // c.l1_ways, c.l2_bytes // c.l2_ways, c.l3_bytes // c.l3_ways
    return [textwrap.fill(line, 100, subsequent_indent="  ") for line in [
        f"micro-kernel {c.kernel}: a {c.mr}×{c.nr} tile of C in registers",
        _kc_said(c, way1),
        f"MC = {c.mc}: L2 is {c.l2_bytes // 1024} KiB in {c.l2_ways} ways of {way2} B ({_from(c, 'l2')}); the A block (MC×{c.kc}), "
        f"used by every B micro-panel, keeps {c.a_ways_l2} ways → MC = {c.a_ways_l2}·{way2} B / ({c.kc}·8 B), "
        f"down to a multiple of MR = {c.mr}",
        _nc_said(c, way3),
        f"small products (m·n·k ≤ {c.unpacked_up_to:,} multiply-adds, {_cube(c.unpacked_up_to)}) skip packing with the "
        f"{c.kernel} kernel: it reads A and B where they are, its loads masked at the edges — "
        + ("held to the one-thread cut given below (the unpacked path runs on one thread); the kernel's own was set "
           if c.one_thread_from == "given" and c.unpacked_up_to == c.one_thread_up_to else "set ")
        + f"at the largest size where, on {c.unpacked_measured_on}, packing did not pay ({c.unpacked_evidence})",
        _one_thread_said(c),
        f"threads: {c.threads} above that, splitting the ic loop — each core packs its own A block into its own "
        "L2, all share one packed B panel; the caller's helpers are a pool, started once and "
        "asleep between products",
        f"the caches' figures: each read from {SYSFS} (sysfs) first, else from glibc's sysconf (which can "
        f"disagree with sysfs), else nnkit's default; {c.line_bytes} B lines "
        f"({SOURCES[c.line_bytes_from]})",
    ]]


SYSFS = "/sys/devices/system/cpu/cpu0/cache"


def _kc_said(c: Config, way1: int) -> str:
    """The KC line: L1's ways shared by the C tile (one way), the A micro-panel that streams through and the B
    micro-panel that stays, A's share in proportion MR : NR (Low et al.'s model; native/gemm.c's derive)."""
    rest, b_bytes = c.l1_ways - 1, c.kc * c.nr * 8
    return (f"KC = {c.kc}: L1 is {c.l1_bytes // 1024} KiB in {c.l1_ways} ways of {way1} B ({_from(c, 'l1')}); one way "
            f"is left to the C tile, the other {rest} are shared by the A micro-panel ({c.mr}×KC, a new one streamed "
            f"through for each tile) and the B micro-panel (KC×{c.nr}, kept for every A micro-panel) as MR : NR = "
            f"{c.mr} : {c.nr} → A's share ⌊{rest}·{c.mr} / ({c.mr} + {c.nr})⌋ = {c.a_ways_l1} ways, KC = "
            f"{c.a_ways_l1}·{way1} B / ({c.mr}·8 B); B then takes {b_bytes} B, {b_bytes / way1:.2f} ways "
            f"(the analytical model of Low et al. for BLIS, 2016)")


def _nc_said(c: Config, way3: int) -> str:
    """The NC line: L3's ways left to the B panel beside every thread's A block and one free way, the columns they
    hold, rounded down to a multiple of NR, then the cap."""
    left = c.l3_ways - 1 - c.a_ways_l3
    columns = left * way3 // (c.kc * 8)
    return (f"NC = {c.nc}: L3 is {c.l3_bytes // 1024} KiB in {c.l3_ways} ways of {way3} B ({_from(c, 'l3')}), shared; "
            f"{c.threads} A block(s) take {c.a_ways_l3}, one is kept free, the B panel ({c.kc}×NC) may fill the other "
            f"{left}: {left}·{way3} B / ({c.kc}·8 B) = {columns} columns, down to a multiple of NR = {c.nr} → "
            f"NC ≤ {c.nc_model}, capped at {c.nc_cap}")


def _one_thread_said(c: Config) -> str:
    """The line on the one-thread cut in force: the kernel's, and where it was measured — or the one given
    (``one_thread_cut``), with the kernel's figure it replaces."""
    kernels = f"set where, on {c.one_thread_measured_on}, a second thread stopped losing ({c.one_thread_evidence})"
    up_to = f"products up to {c.one_thread_up_to:,} multiply-adds ({_cube(c.one_thread_up_to)}) run on one thread"
    if c.one_thread_from != "given":
        return f"{up_to} with the {c.kernel} kernel — {kernels}"
    return ((up_to if c.one_thread_up_to else "no product is held to one thread by size") + ": a cut given at run time "
            f"(own_dgemm.one_thread_cut), in place of the {c.kernel} kernel's {c.one_thread_kernel_up_to:,} "
            f"({_cube(c.one_thread_kernel_up_to)}), {kernels}")


def _cube(multiply_adds: int) -> str:
    """``multiply_adds`` as the square product it bounds: 'n ≤ 64 for n×n' (n the largest whole n with n³ ≤ it)."""
    n = round(multiply_adds ** (1 / 3))
    n -= n**3 > multiply_adds
    return f"n ≤ {n} for n×n matrices"


SOURCES = {"sysfs": "from sysfs", "sysconf": "from sysconf", "default": "nnkit's default", "given": "as asked"}


def _from(c: Config, level: str) -> str:
    """Where cache ``level``'s ("l1", "l2", "l3") size and ways came from, in words."""
    size, ways = getattr(c, f"{level}_bytes_from"), getattr(c, f"{level}_ways_from")
    return f"both {SOURCES[size]}" if size == ways else f"size {SOURCES[size]}, ways {SOURCES[ways]}"


class ThreadpoolController(threadpoolctl.LibController):
    """threadpoolctl's view of nnkit's dgemm: ``threadpool_info()`` lists it and
    ``threadpool_limits(n)`` sets its threads, like any other BLAS in the process."""

    user_api = "blas"
    internal_api = "nnkit"
    filename_prefixes = ("_native",)
    check_symbols = ("nk_gemm_set_threads",)

    def get_num_threads(self) -> int:
        return self.dynlib.nk_gemm_get_threads()

    def set_num_threads(self, num_threads: int) -> None:
        self.dynlib.nk_gemm_set_threads(num_threads)

    def get_version(self) -> str:
        return importlib.metadata.version("nnkit")


threadpoolctl.register(ThreadpoolController)

RUNGS: list[str] = [ffi.string(lib.nk_gemm_rung_name(i)).decode() for i in range(lib.nk_gemm_rungs())]


def rung(name: str, A: np.ndarray, B: np.ndarray) -> np.ndarray:
    """``A @ B`` computed by one rung of the ladder (``RUNGS``): row-major float64 operands, rows
    any distance apart but each row contiguous; returns a new C-ordered array.

    >>> rung("loops, ijk", np.eye(2), np.arange(4.0).reshape(2, 2)).tolist()
    [[0.0, 1.0], [2.0, 3.0]]
    """
    if name not in RUNGS:
        raise ValueError(f"rung {name!r}: expected one of {RUNGS}")
    for label, x in (("A", A), ("B", B)):
        if not isinstance(x, np.ndarray) or x.dtype != np.float64 or x.ndim != 2:
            raise ValueError(f"{label}: expected a 2-D float64 ndarray, got {getattr(x, 'dtype', type(x).__name__)} "
                             f"with shape {getattr(x, 'shape', None)}")
        rows_apart = x.shape[0] > 1 and (x.strides[0] % 8 or x.strides[0] < 8 * x.shape[1])
        if x.size and (x.shape[1] > 1 and x.strides[1] != 8 or rows_apart):
            raise ValueError(f"{label}: expected contiguous rows (strides (8·ld, 8) with ld ≥ columns), got strides {x.strides}")
    if A.shape[1] != B.shape[0]:
        raise ValueError(f"A {A.shape} and B {B.shape}: expected A's columns to equal B's rows")
    (m, k), n = A.shape, B.shape[1]
    C = np.empty((m, n))
    lib.nk_gemm_rung(RUNGS.index(name), m, n, k, *_row_major(A), *_row_major(B), *_row_major(C))
    return C


def _row_major(x: np.ndarray) -> tuple:
    """The pointer and leading dimension (elements between rows) of a row-major matrix."""
    ld = x.strides[0] // 8 if x.shape[0] > 1 and x.size else max(x.shape[1], 1)
    return ffi.cast("double *", x.ctypes.data), ld


def bytes_moved(name: str, m: int, n: int, k: int, c: Config | None = None) -> int:
    """A model, not a measurement: the bytes a rung's loops read and write for ``C = A·B``
    (m×k times k×n, float64) beyond what they keep — in registers (the micro-kernel's tile) and,
    for the blocked rungs, in the cache blocks. FLOPs ÷ this is the rung's arithmetic intensity.

    >>> bytes_moved("loops, ijk", 100, 100, 100) // 8   # all of B once per row of C, A and C once
    1020000
    """
    c = c or config()
    tiles = lambda mr, nr: m * n * k * (1 / nr + 1 / mr) + m * n  # each MR×NR tile reads MR×k of A and k×NR of B
    elements = {
        "loops, ijk": m * k * n + m * k + m * n,
        "loops, ikj": m * k * n + m * k + m * n,
        "micro-kernel, plain C": tiles(4, 4),
        "+ SIMD intrinsics": tiles(c.mr, c.nr),
        "+ packing": tiles(c.mr, c.nr) + 2 * (m * k + k * n),  # and one pass to read and write each packed copy
    }.get(name)
    if elements is None:  # the blocked rungs: A once per B panel, B once, C once per slice of k
        elements = m * k * -(-n // c.nc) + k * n + 2 * m * n * -(-k // c.kc)
    return int(8 * elements)
