"""Four roads to the same product on numpy's own OpenBLAS: the bridge, ``np.dot``, ``@`` and
SciPy's ``dgemm`` wrapper (SciPy ships its own OpenBLAS copy), for several sizes and layouts, on
1 thread and on all of them. Ratios are bridge ÷ the other, from the same run.

While one road is timed, every *other* BLAS in the process is held to one thread, and a
multithreaded timing starts only after a pause: an OpenBLAS pool keeps its threads spinning for
~100–200 ms after a multithreaded call (its thread timeout), and a pool timed meanwhile
finds a core taken (nnkit's dgemm on 2 threads at n = 1024: 55–68 GFLOP/s within 50 ms of an
OpenBLAS call, 107–137 after 200 ms; session 4, quiet machine)."""

from __future__ import annotations

import contextlib
import os
import time
from typing import Iterator

import numpy as np
from threadpoolctl import ThreadpoolController

from nnkit.bench.libraries import peak_for
from nnkit.bench.timing import median_seconds

SPIN_PAUSE_S = 0.3  # longer than an idle OpenBLAS thread spins before it sleeps

LAYOUTS = {
    "C": lambda rng, n: rng.standard_normal((n, n)),
    "F": lambda rng, n: np.asfortranarray(rng.standard_normal((n, n))),
    "transposed": lambda rng, n: rng.standard_normal((n, n)).T,
    "row-sub": lambda rng, n: rng.standard_normal((n, n + 64))[:, 32 : 32 + n],  # np.dot copies this; @ and the bridge do not
}


def paths() -> dict:
    """Road name → (function, path of the BLAS library it runs on)."""
    from nnkit.backends.dgemm import dgemm
    from nnkit.backends.libraries import get_library

    numpy_blas = get_library().path
    roads = {"bridge": (dgemm, numpy_blas), "np.dot": (np.dot, numpy_blas), "@": (np.matmul, numpy_blas)}
    try:
        import scipy.linalg.blas as scipy_blas

        scipy_lib = next(c.filepath for c in ThreadpoolController().lib_controllers
                         if os.path.realpath(c.filepath) != numpy_blas and "scipy" in c.filepath)
        roads["scipy dgemm"] = (lambda a, b: scipy_blas.dgemm(1.0, a, b), os.path.realpath(scipy_lib))
    except (ImportError, StopIteration):
        pass
    return roads


def timed_alone(function, library: str, threads: int, repeats: int) -> float:
    """Median seconds of ``function`` with ``library`` (a path) on ``threads`` threads and every
    other BLAS threadpoolctl knows on 1."""
    with alone([library], threads):
        if threads > 1:
            time.sleep(SPIN_PAUSE_S)
        return median_seconds(function, repeats)


@contextlib.contextmanager
def alone(libraries: list[str], threads: int) -> Iterator[None]:
    """Within the block, these libraries (paths) on ``threads`` threads, every other BLAS on 1."""
    controller = ThreadpoolController()
    mine = controller.select(filepath=[c.filepath for c in controller.lib_controllers if os.path.realpath(c.filepath) in libraries])
    with controller.limit(limits=1), mine.limit(limits=threads):
        yield


@contextlib.contextmanager
def after_spin_pause() -> Iterator[None]:
    """Enter once another library's idle threads have stopped spinning (``SPIN_PAUSE_S``)."""
    time.sleep(SPIN_PAUSE_S)
    yield


def run(quick: bool, say, results: dict | None = None) -> dict:
    sizes = (64, 256) if quick else (4, 16, 64, 256, 512, 1024, 2048)
    thread_counts = sorted({1, os.cpu_count() or 1})
    rng = np.random.default_rng(0)
    roads, rows = paths(), []
    peak = (results or {}).get("peak")
    for threads in thread_counts:
        for n in sizes:
            for layout, make in LAYOUTS.items():
                A, B = make(rng, n), make(rng, n)
                reference = np.dot(A, B)
                agree = all(np.allclose(f(A, B), reference, rtol=1e-12, atol=1e-12 * n) for f, _ in roads.values())
                repeats = 3 if quick or n >= 1024 else 7
                times = {name: timed_alone(lambda f=f: f(A, B), lib, threads, repeats) for name, (f, lib) in roads.items()}
                row = {"threads": threads, "n": n, "layout": layout, "results_agree": agree,
                       **{f"{k} GFLOP/s": 2 * n**3 / t / 1e9 for k, t in times.items()},
                       **{f"bridge÷{k}": t / times["bridge"] for k, t in times.items() if k != "bridge"}}
                if peak:
                    row["bridge share of peak"] = row["bridge GFLOP/s"] / peak_for(peak, threads)
                rows.append(row)
                say(f"{threads} thread{'s' * (threads > 1)}  N={n:<5} {layout:<11} "
                    + "  ".join(f"{k} {row[f'{k} GFLOP/s']:7.2f}" for k in times)
                    + (f" (bridge {row['bridge share of peak']:.0%} of peak)" if peak else "")
                    + "   speed ratio bridge÷np.dot " + f"{row['bridge÷np.dot']:.2f}, ÷@ {row['bridge÷@']:.2f}")
    return {"rows": rows, "paths": list(roads), "note": "GFLOP/s = 2·N³ / median seconds; ratio > 1: the bridge is faster"}
