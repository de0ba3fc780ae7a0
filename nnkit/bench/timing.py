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
    """Time ``plain`` and ``other`` side by side in ``repeats`` pairs and return both medians (seconds per
    call) and the median of the per-pair ratios ``other / plain`` (each pair's in ``ratios``) — on a noisy
    machine the two halves of a pair share one moment, so their ratio is steadier than a ratio of two
    separate medians.

    The halves swap places from pair to pair (plain first in pairs 0, 2, 4 …, other first in 1, 3 …), so
    a cost that falls on whichever half runs first or second cancels in the median instead of biasing it;
    ``by_order`` gives the median ratio of each order's pairs, which shows that cost when there is one.
    ``around_other`` is a context manager factory entered around each run of ``other``.

    >>> sorted(paired(lambda: None, lambda: None, repeats=2, min_time=0.0)["by_order"])
    ['other first', 'plain first']
    """
    loops = max(_loops(plain, min_time), _loops(other, min_time))
    a, b = [], []
    for pair in range(repeats):
        halves = [(a, plain, _nothing), (b, other, around_other or _nothing)]
        for times, function, around in halves[::-1] if pair % 2 else halves:
            with around():
                times.append(_per_call(function, loops))
    ratios = [y / x for x, y in zip(a, b)]
    return {"plain": statistics.median(a), "other": statistics.median(b), "ratio": statistics.median(ratios),
            "ratios": ratios, "difference": statistics.median(y - x for x, y in zip(a, b)),
            "by_order": {"plain first": statistics.median(ratios[0::2]),
                         "other first": statistics.median(ratios[1::2]) if repeats > 1 else None}}


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
