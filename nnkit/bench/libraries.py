"""Every BLAS on the machine multiplying the same matrices through the bridge: GFLOP/s and the
share of the measured peak (each library with its own default thread count, the others held to
one thread while it runs)."""

from __future__ import annotations

import numpy as np



def run(quick: bool, say, results: dict | None = None) -> dict:
    from nnkit.backends.dgemm import dgemm
    from nnkit.backends.libraries import find_libraries
    from nnkit.bench.dgemm_paths import timed_alone

    peak = (results or {}).get("peak")
    sizes = (256,) if quick else (256, 1024, 2048)
    rng = np.random.default_rng(0)
    rows = []
    for n in sizes:
        A, B = rng.standard_normal((n, n)), rng.standard_normal((n, n))
        for library in find_libraries():
            threads = library.num_threads()
            seconds = timed_alone(lambda: dgemm(A, B, library=library), library.path, threads, 3)
            gflops = 2 * n**3 / seconds / 1e9
            share = gflops / peak_for(peak, threads) if peak else None
            rows.append({"n": n, "library": library.name, "version": library.version(), "threads": threads,
                         "GFLOP/s": gflops, "share_of_peak": share})
            say(f"N={n:<5} {library.name:<18} {threads} thread{'s' * (threads != 1)}  {gflops:8.2f} GFLOP/s"
                + (f"  {share:6.1%} of the measured peak" if share else ""))
    return {"rows": rows}


def peak_for(peak: dict, threads: int) -> float:
    """The measured peak for this many threads (1, or all cores)."""
    return peak["one_thread"]["gflops"] if threads == 1 else peak["all_threads"]["gflops"]
