"""The machine's own peak: the double-precision FLOP rate its cores sustain, measured.

``native/peak.c`` runs independent FMA chains on the widest vector unit found (AVX-512, AVX2,
SSE2, NEON), as many as its registers hold; every other GFLOP/s figure in the benchmarks is also shown as a share of this. What is
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


def reported_ghz() -> float | None:
    """The clock the CPU reports (``cpu MHz`` in /proc/cpuinfo, the highest core): a nominal or
    sampled figure — boost clocks run higher — or ``None`` where there is none."""
    try:
        with open("/proc/cpuinfo") as f:
            mhz = [float(line.split(":")[1]) for line in f if line.startswith("cpu MHz")]
    except (OSError, ValueError):
        return None
    return max(mhz) / 1000 if mhz else None


CHAIN_COUNTS = (1, 2, 4, 8, 12, 14, 16, 24)   # the counts native/peak.c is built for (not every kernel has each)


def chain_sweep(kernel: str, rounds: int, threads: int = 1, repeats: int = 3) -> dict[int, float]:
    """GFLOP/s of ``kernel`` ("scalar", "sse2", "avx2+fma", "avx512f+fma", "neon") by number of
    independent chains per thread, the best of ``repeats`` runs (other work only ever slows a run);
    empty when this CPU cannot run the kernel."""
    rates = {}
    for chains in CHAIN_COUNTS:
        runs = [native.nk_peak_measure_chains(threads, rounds, kernel.encode(), chains) for _ in range(repeats)]
        if runs[0].kernel:
            rates[chains] = max(r.gflops for r in runs)
    return rates


def run(quick: bool, say, results: dict | None = None) -> dict:
    one = measure(1, 0.1 if quick else 0.4)
    cores = os.cpu_count() or 1
    every = measure(cores, 0.1 if quick else 0.4)
    say(f"peak ({one['kernel']}, {one['lanes']} doubles × {one['chains']} chains): {one['gflops']:.1f} GFLOP/s "
        f"on 1 thread, {every['gflops']:.1f} on {cores} ({every['gflops'] / one['gflops']:.2f}×)")
    clock = one["gflops"] / (2 * one["lanes"] * 2)
    say(f"  peak = lanes × 2 FMA units × 2 FLOPs × clock: the clock was {clock:.2f} GHz if 2 units (assumed)")
    reported = reported_ghz()
    if reported and clock < 0.8 * reported:
        say(f"  UNSTEADY: below the {reported:.2f} GHz the CPU reports — other work shared the core: run it again")
    return {"one_thread": one, "all_threads": every, "implied_ghz_if_2_fma_units": clock}


def check(results: dict, say) -> dict:
    """The peak must not be beaten by real code: compare it with the best dgemm rate measured."""
    peak = results.get("peak")
    rows = [(r["threads"], r["bridge GFLOP/s"]) for r in results.get("dgemm_paths", {}).get("rows", [])]
    if not peak or not rows:
        return {}
    best = {t: max(g for tt, g in rows if tt == t) for t in {t for t, _ in rows}}
    shares = {t: g / (peak["one_thread"]["gflops"] if t == 1 else peak["all_threads"]["gflops"]) for t, g in best.items()}
    for t, share in sorted(shares.items()):
        verdict = "consistent" if share <= 1.0 else "IMPOSSIBLE: the peak probe measured too low"
        say(f"peak check, {t} thread{'s' * (t > 1)}: best dgemm {best[t]:.1f} GFLOP/s = {share:.0%} of the peak — {verdict}")
    return {"best_dgemm_share_of_peak": {str(t): s for t, s in shares.items()}}
