"""Timing helpers: the median of repeated runs, each run long enough to read the clock well."""

from __future__ import annotations

import statistics
import time
from typing import Callable


def median_seconds(function: Callable[[], object], repeats: int = 7, min_time: float = 0.02) -> float:
    """Median seconds per call of ``function``, over ``repeats`` runs of enough calls to last
    ``min_time`` each (the loop count is found once, first)."""
    function()  # warm up: first calls pay for imports, caches, BLAS threads waking
    loops, elapsed = 1, 0.0
    while True:
        start = time.perf_counter()
        for _ in range(loops):
            function()
        elapsed = time.perf_counter() - start
        if elapsed >= min_time:
            break
        loops *= 2 if elapsed == 0 else max(2, int(min_time / elapsed * 1.2))
    runs = []
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(loops):
            function()
        runs.append((time.perf_counter() - start) / loops)
    return statistics.median(runs)
