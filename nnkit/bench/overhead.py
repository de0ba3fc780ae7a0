"""The cost of one call on tiny matrices, where the arithmetic is nothing and the bookkeeping is
everything: the bridge (checks in Python, no explanation), a prebuilt bridge plan, ``np.dot``, ``@``."""

from __future__ import annotations

import numpy as np

from nnkit.bench.timing import median_seconds


def run(quick: bool, say, results: dict | None = None) -> dict:
    from nnkit.backends.dgemm import dgemm, plan

    rows = []
    for n in (2, 4, 8, 16):
        A, B = np.ones((n, n)), np.ones((n, n))
        prepared = plan(A, B, explain=False)
        times = {"bridge": lambda: dgemm(A, B), "prebuilt plan": prepared.run, "np.dot": lambda: np.dot(A, B), "@": lambda: A @ B}
        us = {k: median_seconds(f, 3 if quick else 9) * 1e6 for k, f in times.items()}
        rows.append({"n": n, **{f"{k} µs": v for k, v in us.items()}, "bridge÷np.dot time": us["bridge"] / us["np.dot"]})
        say(f"{n}×{n}: " + "  ".join(f"{k} {v:.2f} µs" for k, v in us.items()) + f"   bridge takes {us['bridge'] / us['np.dot']:.1f}× np.dot's time")
    return {"rows": rows}
