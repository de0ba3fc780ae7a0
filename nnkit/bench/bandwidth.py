"""Main memory's bandwidth, measured: STREAM's triad ``a = b + s·c`` (``native/bandwidth.c``) on
three arrays together larger than the last-level cache, on 1 thread and on all of them. With the
peak, it draws the roofline: code that does fewer FLOPs per byte than peak ÷ bandwidth is limited
by memory, whatever its instructions.
"""

from __future__ import annotations

import os

from nnkit.backends._native import lib as native


def measure(threads: int, passes: int) -> dict:
    """GB/s (10⁹ bytes, STREAM's count: 24 bytes per element) of the best of ``passes`` triads."""
    elements = max(2**24, 2 * native.nk_gemm_config_get().l3_bytes // 24)  # 3 arrays: ≥ 2× the L3 together
    r = native.nk_bandwidth_measure(threads, elements, passes)
    return {"gbytes_per_s": r.gbytes, "threads": r.threads, "array_bytes": r.bytes, "seconds": r.seconds}


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
