"""nnkit's own dgemm (``native/gemm.c``) against every BLAS on the machine, n = 64 … 4096, on one
thread and on all: GFLOP/s, share of the measured peak, and the ratios nnkit ÷ numpy's OpenBLAS
and nnkit ÷ the best library present. Every library is reached the same way (the bridge, on the
same matrices) and timed while every other pool is held to one thread. A library slower than a
tenth of the best at one size is not timed at the larger ones (the reference BLAS would take
minutes at n = 4096): said in the output."""

from __future__ import annotations

import os

import numpy as np

from nnkit.bench.libraries import peak_for


def run(quick: bool, say, results: dict | None = None) -> dict:
    from nnkit.backends import own_dgemm
    from nnkit.backends.dgemm import dgemm
    from nnkit.backends.libraries import find_libraries
    from nnkit.bench.dgemm_paths import timed_alone

    peak = (results or {}).get("peak")
    sizes = (64, 256) if quick else (64, 128, 256, 512, 1024, 2048, 4096)
    for line in own_dgemm.reasoning():
        say(f"nnkit's dgemm — {line}")
    rng, rows = np.random.default_rng(0), []
    for threads in sorted({1, os.cpu_count() or 1}):
        timed = list(find_libraries())
        for n in sizes:
            A, B = rng.standard_normal((n, n)), rng.standard_normal((n, n))
            expected, rate, agree, repeats = A @ B, {}, True, 3 if quick or n >= 2048 else 7
            for library in timed:  # without out=: the bridge's C fast path, the same for every library
                seconds = timed_alone(lambda: dgemm(A, B, library=library), library.path, threads, repeats)
                rate[library.name] = 2 * n**3 / seconds / 1e9
                agree &= bool(np.allclose(dgemm(A, B, library=library), expected, rtol=1e-12, atol=1e-12 * n))
            rows.append(_row(n, threads, rate, agree, peak) | {"nnkit÷numpy-openblas, paired": _paired(A, B, threads)})
            say(_line(rows[-1]))
            slow = [lib for lib in timed  # nnkit and numpy's OpenBLAS are the ratio's two sides: always timed
                    if lib.name not in ("nnkit", "numpy-openblas") and rate[lib.name] < max(rate.values()) / 10]
            if slow and n != sizes[-1]:
                say(f"  not timed at larger sizes (under a tenth of the best here): {', '.join(lib.name for lib in slow)}")
            timed = [lib for lib in timed if lib not in slow]
    return {"rows": rows, "config": own_dgemm.config().__dict__,
            "note": "ratio = nnkit's GFLOP/s ÷ the other's, from the same run: > 1 means nnkit is faster"}


def _paired(A: np.ndarray, B: np.ndarray, threads: int) -> float:
    """nnkit's speed ÷ numpy's OpenBLAS's, the median over 7 pairs of runs side by side: each pair
    shares one moment, and this machine's speed changes between moments (the separate medians of
    the table can be minutes apart)."""
    from nnkit.backends.dgemm import dgemm
    from nnkit.backends.libraries import get_library
    from nnkit.bench.dgemm_paths import after_spin_pause, alone
    from nnkit.bench.timing import paired

    with alone([get_library("nnkit").path, get_library("numpy-openblas").path], threads):
        pair = paired(lambda: dgemm(A, B, library="numpy-openblas"), lambda: dgemm(A, B, library="nnkit"), repeats=7,
                      around_other=after_spin_pause if threads > 1 else None)  # OpenBLAS's helpers spin after its runs
    return 1 / pair["ratio"]


def _row(n: int, threads: int, rate: dict, agree: bool, peak: dict | None) -> dict:
    others = {name: r for name, r in rate.items() if name != "nnkit"}
    best = max(others, key=others.get)
    row = {"n": n, "threads": threads, "results_agree": agree, **{f"{k} GFLOP/s": v for k, v in rate.items()},
           "best other": best, "nnkit÷numpy-openblas": rate["nnkit"] / rate["numpy-openblas"],
           "nnkit÷best": rate["nnkit"] / others[best]}
    if peak:
        row["nnkit share of peak"] = rate["nnkit"] / peak_for(peak, threads)
    return row


def _line(row: dict) -> str:
    rates = "  ".join(f"{k[:-8]} {v:6.1f}" for k, v in row.items() if k.endswith(" GFLOP/s"))
    share = f" ({row['nnkit share of peak']:.0%} of peak)" if "nnkit share of peak" in row else ""
    return (f"{row['threads']} thread{'s' * (row['threads'] > 1)} N={row['n']:<5} {rates}{share}\n"
            f"  nnkit ÷ numpy's OpenBLAS {row['nnkit÷numpy-openblas']:.2f} (paired: {row['nnkit÷numpy-openblas, paired']:.2f}),"
            f" ÷ best ({row['best other']}) {row['nnkit÷best']:.2f}")
