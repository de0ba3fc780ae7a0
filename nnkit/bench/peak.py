"""The machine's own peak: the double-precision FLOP rate its cores sustain, measured.

``native/peak.c`` runs independent FMA chains on the widest vector unit found (AVX-512, AVX2,
SSE2, NEON), as many as its registers hold (its kernels without FMA — scalar, SSE2, AVX2 — are only ever asked for
by name); every other GFLOP/s figure in the benchmarks is also shown as a share of this. What is
measured: the rate of the FMA loop. What is assumed: that no real code beats that loop — checked
below against the best dgemm rate seen (a "peak" below a measured dgemm would be wrong).
"""

from __future__ import annotations

import functools

import os

from nnkit.backends._native import ffi, lib as native


RUN_SECONDS = 0.02   # one run of the probe: short, so that some runs fall between other processes' slices

_best: dict[int, dict] = {}   # threads → the fastest run of the widest kernel seen in this process


def now(threads: int = 1) -> float:
    """GFLOP/s of one short run of the peak probe (``RUN_SECONDS``) on ``threads`` threads, now,
    counting only the time each thread held its core (its own run-queue wait, which another task
    caused, is left out; the threads' rates are added) — against :func:`measure`'s best it tells how
    fast the cores themselves run at this moment, apart from how much of them other processes took."""
    run = native.nk_peak_measure(threads, _rounds(threads), ffi.NULL)
    _keep(threads, {"gflops": run.gflops, "threads": threads, "kernel": ffi.string(run.kernel).decode(),
                    "lanes": run.lanes, "chains": run.chains})
    return run.held_gflops


def wall(threads: int) -> float:
    """GFLOP/s of one short run of the peak probe (``RUN_SECONDS``) on ``threads`` threads at once, by the wall
    clock: its threads share nothing and do the same work, so it runs at the slowest core's pace — and counts a
    core another process took as a slow one (the run-queue waits of threads just started are not read reliably)."""
    return native.nk_peak_measure(threads, _rounds(threads), ffi.NULL).gflops


@functools.cache
def _rounds(threads: int) -> int:
    """Probe rounds that take about ``RUN_SECONDS``."""
    rounds = 100_000
    while True:
        r = native.nk_peak_measure(threads, rounds, ffi.NULL)
        if r.seconds >= RUN_SECONDS / 3 or rounds > 10**10:
            return int(rounds * RUN_SECONDS / max(r.seconds, 1e-9))
        rounds *= 4


def measure(threads: int, seconds: float = 0.3) -> dict:
    """Peak GFLOP/s on ``threads`` threads: the best of short runs (``RUN_SECONDS`` each) filling
    about ``seconds`` — other work only ever slows a run, so the fastest is the machine's rate.
    Also the best of every earlier measurement in this process (``chain_sweep`` included), so
    every tutorial step and benchmark quotes one peak, never two."""
    runs = max(3, int(seconds / RUN_SECONDS))
    best = max((native.nk_peak_measure(threads, _rounds(threads), ffi.NULL) for _ in range(runs)), key=lambda r: r.gflops)
    _keep(threads, {"gflops": best.gflops, "threads": threads, "kernel": ffi.string(best.kernel).decode(),
                    "lanes": best.lanes, "chains": best.chains})
    return dict(_best[threads])


def best(threads: int = 1) -> float:
    """The fastest GFLOP/s the probe has run on ``threads`` threads in this process (measured for a
    tenth of a second first if it never ran)."""
    return _best[threads]["gflops"] if threads in _best else measure(threads, 0.1)["gflops"]


def _keep(threads: int, run: dict) -> None:
    if threads not in _best or run["gflops"] > _best[threads]["gflops"]:
        _best[threads] = run


def above(gflops: float, peak_gflops: float, cores_used: float | None = None, peak_cores: int = 1) -> str:
    """A warning to print after a measured rate above the measured peak of ``peak_cores`` cores ('' when
    it is not). With ``cores_used`` (this process's CPU-seconds per wall second while the rate was
    timed) above ``peak_cores`` the reason is measured: the work ran on more cores than the peak's.
    Otherwise such a rate is impossible, so either it or the peak probe was disturbed — noise."""
    if gflops <= peak_gflops:
        return ""
    if cores_used is not None and cores_used > peak_cores + 0.2:
        return (f"  (ABOVE the {peak_cores}-core peak {peak_gflops:.1f} GFLOP/s because it ran on {cores_used:.2f} cores: "
                "the thread limit did not hold for it)")
    return (f"  (ABOVE the measured peak {peak_gflops:.1f} GFLOP/s: impossible — noise in this run, "
            "the probe or this rate was disturbed)")


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
    """GFLOP/s of ``kernel`` ("scalar", "sse2", "avx2" (no FMA), "avx2-add" and "avx2-mul" (no FMA, one kind of
    instruction: 12 and 14 chains only), "avx2+fma", "avx512f+fma", "neon") by number of
    independent chains per thread, the best of ``repeats`` sweeps over all the counts (other work,
    or a host slowing the core, only ever slows a run; a slow moment then hits one sweep, not every
    run of one count); empty when this CPU cannot run the kernel."""
    rates: dict[int, float] = {}
    for _ in range(repeats):
        for chains in CHAIN_COUNTS:
            run = _run(kernel, chains, rounds, threads)
            if not run.kernel:
                continue
            rates[chains] = max(rates.get(chains, 0.0), run.gflops)
            if kernel == _widest():   # the peak's own kernel: not one of its width without FMA
                _keep(threads, {"gflops": run.gflops, "threads": threads, "kernel": kernel,
                                "lanes": run.lanes, "chains": chains})
    return rates


def alternate(kernels: list[tuple[str, int]], rounds: int, times: int = 5, repeats: int = 1) -> dict[tuple[str, int], list[float]]:
    """GFLOP/s of each ``(kernel, chains)`` on one thread, the kernels run in turn ``times`` times
    (each time the best of ``repeats`` runs back to back: other work only slows a run): the i-th
    rates of two kernels were measured moments apart, so their ratio is fair even when the machine
    changes speed between rounds (a shared machine, a VM's slow and fast modes)."""
    rates: dict[tuple[str, int], list[float]] = {k: [] for k in kernels}
    for _ in range(times):
        for kernel, chains in kernels:
            runs = (_run(kernel, chains, rounds).gflops for _ in range(repeats))
            rates[(kernel, chains)].append(max(runs))
    return rates


def _run(kernel: str, chains: int, rounds: int, threads: int = 1):
    """One run of ``kernel`` at ``chains`` chains per thread (its kernel NULL where none is built for that count),
    checked to have run the kernel and the count asked for: a rate is only ever filed under the chains that made it."""
    run = native.nk_peak_measure_chains(threads, rounds, kernel.encode(), chains)
    if run.kernel and (ffi.string(run.kernel).decode(), run.chains) != (kernel, chains):
        raise RuntimeError(f"asked for {kernel} at {chains} chains, the probe ran "
                           f"{ffi.string(run.kernel).decode()} at {run.chains}")
    return run


@functools.cache
def _widest() -> str:
    """The kernel the peak runs: the widest FMA kernel this CPU has."""
    return ffi.string(native.nk_peak_measure(1, 1, ffi.NULL).kernel).decode()


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
