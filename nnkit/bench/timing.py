"""Timing helpers: the median of repeated runs, each run long enough to read the clock well."""

from __future__ import annotations

import contextlib
import statistics
import time
from typing import Callable


def median_seconds(function: Callable[[], object], repeats: int = 7, min_time: float = 0.02) -> float:
    """Median seconds per call of ``function``, over ``repeats`` runs of enough calls to last
    ``min_time`` each (the loop count is found once, first)."""
    loops = _loops(function, min_time)
    return statistics.median(_per_call(function, loops) for _ in range(repeats))


def paired(plain: Callable[[], object], other: Callable[[], object], repeats: int = 9, min_time: float = 0.02,
           around_other=None) -> dict:
    """Time ``plain`` and ``other`` in alternation (plain, other, plain, …) and return both
    medians and the median of the per-pair ratios ``other / plain`` (each pair's in ``ratios``) — on a
    noisy machine the pairs share the same moment, so their ratio is steadier than a ratio of two
    separate medians.
    ``around_other`` is a context manager factory entered around each run of ``other``."""
    loops = max(_loops(plain, min_time), _loops(other, min_time))
    a, b = [], []
    for _ in range(repeats):
        a.append(_per_call(plain, loops))
        with around_other() if around_other else _nothing():
            b.append(_per_call(other, loops))
    ratios = [y / x for x, y in zip(a, b)]
    return {"plain": statistics.median(a), "other": statistics.median(b), "ratio": statistics.median(ratios),
            "ratios": ratios, "difference": statistics.median(y - x for x, y in zip(a, b))}


def _loops(function: Callable[[], object], min_time: float) -> int:
    function()  # warm up: first calls pay for imports, caches, BLAS threads waking
    loops = 1
    while True:
        elapsed = _per_call(function, loops) * loops
        if elapsed >= min_time:
            return loops
        loops *= 2 if elapsed == 0 else max(2, int(min_time / elapsed * 1.2))


def _per_call(function: Callable[[], object], loops: int) -> float:
    start = time.perf_counter()
    for _ in range(loops):
        function()
    return (time.perf_counter() - start) / loops


@contextlib.contextmanager
def _nothing():
    yield
