"""Memory bandwidth, measured: STREAM's triad ``a = b + s·c`` (``native/bandwidth.c``) on three
arrays together larger than the last-level cache, on 1 thread and on all of them; and on working
sets of growing size, to find which cache levels really serve a core faster than main memory.
With the peak, it draws the roofline: code that does fewer FLOPs per byte than peak ÷ bandwidth is
limited by memory, whatever its instructions.
"""

from __future__ import annotations

import os

from nnkit.backends._native import ffi, lib as native

ABOVE = 1.15   # a level is drawn as its own roof only when it is this much faster than the level behind it
BEYOND_L2 = 4  # L3's rate is read on sets at least this many times L2: a smaller one may still lie partly in L2
TRAFFIC = 2e8  # bytes each working-set measurement moves in all: about 10 ms of main memory's triad


def measure(threads: int, passes: int) -> dict:
    """GB/s (10⁹ bytes, STREAM's count: 24 bytes per element) of the best of ``passes`` triads."""
    elements = max(2**24, 2 * native.nk_gemm_config_get().l3_bytes // 24)  # 3 arrays: ≥ 2× the L3 together
    r = native.nk_bandwidth_measure(threads, elements, passes)
    return {"gbytes_per_s": r.gbytes, "threads": r.threads, "array_bytes": r.bytes, "seconds": r.seconds}


def kernel() -> str:
    """The instruction set the triad runs on this CPU, the widest it offers: "avx512f", "avx2" or "sse2" (x86-64:
    vector loads and stores of 64, 32 or 16 bytes), or "scalar" (8 bytes, one element per instruction)."""
    return ffi.string(native.nk_bandwidth_kernel()).decode()


def triad(working_set: int, kernel: str | None = None) -> float:
    """GB/s of the best 1-thread triad on three arrays of ``working_set`` bytes together (the
    passes move about ``TRAFFIC`` bytes in all, at least 3 of them); ``kernel`` names the
    instruction set (None: :func:`kernel`'s; 0.0 if this CPU does not run it)."""
    elements = max(working_set // 24, 4096)
    passes = max(3, min(200, int(TRAFFIC // (24 * elements))))
    return native.nk_bandwidth_measure_kernel(1, elements, passes, kernel.encode() if kernel else ffi.NULL).gbytes


def working_sets(l2_bytes: int, main_bytes: int) -> list[int]:
    """The sweep's working sets in bytes: half of L2, then doubling from 2× L2 while below half of
    ``main_bytes``, then ``main_bytes``."""
    sets, size = [l2_bytes // 2], 2 * l2_bytes
    while 2 * size < main_bytes:
        sets.append(size)
        size *= 2
    return sets + [main_bytes]


def sweep(l2_bytes: int, main_bytes: int) -> dict[int, float]:
    """Working set (bytes) → GB/s of the 1-thread triad, from half of L2 to ``main_bytes``."""
    return {size: triad(size) for size in working_sets(l2_bytes, main_bytes)}


def roofs(measured: dict[int, float], l2_bytes: int, l3_bytes: int) -> dict:
    """The roofs a sweep supports. ``measured``: working set (bytes) → GB/s from :func:`sweep`
    (its smallest set is in L2, its largest in main memory). Returns ``roofs`` (label → GB/s,
    nearest level first) with the L2 and L3 roofs only where measured more than ``ABOVE``× the
    level behind them; ``l3`` the rate of the fastest set between ``BEYOND_L2``× L2 and half the
    reported L3, and ``l3_set`` that set (bytes; both None if the sweep has none); ``served_up_to``
    the end of the run of sets beyond L2 that are all ``ABOVE``× main memory's rate, counted from
    the first (bytes; None if the first is not)."""
    sizes = sorted(measured)
    main = measured[sizes[-1]]
    middle = [s for s in sizes[1:-1] if BEYOND_L2 * l2_bytes <= s <= l3_bytes // 2]
    l3_set = max(middle, key=measured.get, default=None)
    l3 = measured[l3_set] if l3_set is not None else None
    roofs = {"main memory": main}
    if l3 is not None and l3 > ABOVE * main:
        roofs = {"L3": l3, **roofs}
    if measured[sizes[0]] > ABOVE * next(iter(roofs.values())):
        roofs = {"L2": measured[sizes[0]], **roofs}
    served = None
    for size in sizes[1:-1]:
        if measured[size] <= ABOVE * main:
            break
        served = size
    return {"roofs": roofs, "l3": l3, "l3_set": l3_set, "served_up_to": served}


def run(quick: bool, say, results: dict | None = None) -> dict:
    passes = 3 if quick else 10
    one, every = measure(1, passes), measure(os.cpu_count() or 1, passes)
    say(f"memory bandwidth (STREAM triad, 3 arrays of {one['array_bytes'] / 3 / 2**20:.0f} MiB): "
        f"{one['gbytes_per_s']:.1f} GB/s on 1 thread, {every['gbytes_per_s']:.1f} on {every['threads']}")
    peak = (results or {}).get("peak")
    ridge = {}
    if peak:
        ridge = {"one_thread": peak["one_thread"]["gflops"] / one["gbytes_per_s"],
                 "all_threads": peak["all_threads"]["gflops"] / every["gbytes_per_s"]}
        say(f"  the roofline's ridge: code below {ridge['one_thread']:.1f} FLOPs per byte from memory (1 thread; "
            f"{ridge['all_threads']:.1f} on all) cannot reach the peak")
    return {"one_thread": one, "all_threads": every, "ridge_flops_per_byte": ridge}
