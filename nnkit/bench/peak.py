"""The machine's own peak: the double-precision FLOP rate its cores sustain, measured.

``native/peak.c`` runs independent FMA chains on the widest vector unit found (AVX-512, AVX2,
SSE2, NEON); every other GFLOP/s figure in the benchmarks is also shown as a share of this. What is
measured: the rate of the FMA loop. What is assumed: that no real code beats that loop — checked
below against the best dgemm rate seen (a "peak" below a measured dgemm would be wrong).
"""

from __future__ import annotations

import os

from nnkit.backends._native import ffi, lib as native


def measure(threads: int, seconds: float = 0.3) -> dict:
    """Peak GFLOP/s on ``threads`` threads; the loop is sized to run about ``seconds``."""
    rounds = 1_000_000
    while True:
        r = native.nk_peak_measure(threads, rounds, ffi.NULL)
        if r.seconds >= seconds / 3 or rounds > 10**10:
            break
        rounds *= 4
    rounds = int(rounds * seconds / max(r.seconds, 1e-9))
    best = max((native.nk_peak_measure(threads, rounds, ffi.NULL) for _ in range(3)), key=lambda r: r.gflops)
    return {"gflops": best.gflops, "threads": threads, "kernel": ffi.string(best.kernel).decode(),
            "lanes": best.lanes, "chains": best.chains}


def run(quick: bool, say, results: dict | None = None) -> dict:
    one = measure(1, 0.1 if quick else 0.4)
    cores = os.cpu_count() or 1
    every = measure(cores, 0.1 if quick else 0.4)
    say(f"peak (FMA chains, {one['kernel']}: {one['lanes']} doubles × {one['chains']} chains): "
        f"{one['gflops']:.1f} GFLOP/s on 1 thread, {every['gflops']:.1f} on {cores} ({every['gflops'] / one['gflops']:.2f}×)")
    return {"one_thread": one, "all_threads": every}
