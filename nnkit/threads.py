"""How many BLAS threads training gets: ``--threads N``, or a choice made from the sizes of the
matrix products and the machine's idle cores, said with its reason.

OpenBLAS splits a product over its threads only when ``m·n·k > 262 144`` (``interface/gemm.c``:
``SMP_THRESHOLD_MIN`` 65 536 × ``GEMM_MULTITHREAD_THRESHOLD`` 4); below that it runs one thread
whatever it is allowed (a necessary condition, not a sufficient one: builds with a small-matrix kernel,
such as numpy's SkylakeX one, keep products up to about 100³ on one thread too — tutorial 6 measures
where this machine's library switches). A second thread that is allowed waits, spinning, for a core — on a busy
machine for a whole time slice, which is how small products become many times slower. So:

1. a busy machine (fewer than two cores idle, measured over a tenth of a second): 1 thread;
2. every product of a training step at most 262 144 multiply-adds: 1 thread (OpenBLAS would use
   one for them anyway; allowing two would only let the larger validation products spin one);
3. otherwise the step's products are timed on 1 thread and on all, alternately; all win only when
   clearly faster (≤ 0.9× the time).
"""

from __future__ import annotations

import contextlib
import os
import statistics
import time
from dataclasses import dataclass

import numpy as np

OPENBLAS_ONE_THREAD_MNK = 65_536 * 4
"""Every OpenBLAS build runs ``gemm`` on one thread while ``m·n·k`` is at most this (64³, its generic
rule); some keep larger products on one thread too (tutorial 6 measures this machine's)."""

GENERIC_RULE = f"{OPENBLAS_ONE_THREAD_MNK:,} = 64³, where every OpenBLAS build uses one thread"


@dataclass(frozen=True)
class Choice:
    """``threads`` for the BLAS libraries and why, in one line for the reader."""

    threads: int
    reason: str

    def to_dict(self) -> dict:
        return {"threads": self.threads, "reason": self.reason}


def step_products(sizes: list[int], batch: int) -> list[tuple[int, int, int]]:
    """``(m, n, k)`` of every matrix product of one training step of a network with layer sizes
    ``sizes`` on ``batch`` samples: ``W_l @ A`` forward, ``dZ @ A.T`` and ``W_l.T @ dZ`` backward."""
    products = []
    for l, (n_in, n_out) in enumerate(zip(sizes, sizes[1:])):
        products += [(n_out, batch, n_in), (n_out, n_in, batch)] + ([(n_in, batch, n_out)] if l else [])
    return products


CLEAR_GAIN = 0.9  # all cores only when they take at most 90 % of one core's time: a tie is noise, and a second
                  # thread is what collapses when the machine gets busy later


def idle_cores(seconds: float = 0.1) -> float:
    """Cores not used by other processes over the next ``seconds``, measured from ``/proc/stat``
    (Linux) less this process's own use (its BLAS threads still spinning after a product are not
    a competitor); elsewhere the cores less the one-minute load average."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    try:
        before, mine_before = _cpu_times(), _own_ticks()
        time.sleep(seconds)
        after, mine_after = _cpu_times(), _own_ticks()
    except OSError:
        return max(0.0, cores - os.getloadavg()[0])
    busy, idle = (a - b for a, b in zip(after, before))
    mine = min(max(mine_after - mine_before, 0.0), busy)
    total_cores = os.cpu_count() or cores
    return min(cores, total_cores * (idle + mine) / max(busy + idle, 1))


def _own_ticks() -> float:
    """Clock ticks of CPU this process (all its threads) has used."""
    times = os.times()
    return (times.user + times.system) * os.sysconf("SC_CLK_TCK")


def _cpu_times() -> tuple[int, int]:
    """(busy, idle) clock ticks of all CPUs since boot: the first line of /proc/stat."""
    with open("/proc/stat") as stat:
        fields = [int(v) for v in stat.readline().split()[1:]]
    idle = fields[3] + fields[4]  # idle + iowait
    return sum(fields[:8]) - idle, idle


def choose(sizes: list[int], batch: int, dtype: str = "float32", requested: int | None = None) -> Choice:
    """The threads to train a network of layer ``sizes`` with minibatches of ``batch`` in ``dtype``:
    ``requested`` (``--threads``) if given, else by the rules of this module's docstring."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    if requested is not None:
        more = f", more than the {cores} core{'s' * (cores > 1)} this process may use: threads will take turns" if requested > cores else ""
        return Choice(requested, f"--threads {requested}{more}")
    if cores < 2:
        return Choice(1, "one core available")
    idle = idle_cores()
    if idle < 2:
        return Choice(1, f"the machine is busy: {idle:.1f} of {os.cpu_count()} cores idle, so a second BLAS thread would "
                         "wait for a core")
    m, n, k = largest = max(step_products(sizes, batch), key=lambda p: p[0] * p[1] * p[2])
    if m * n * k <= OPENBLAS_ONE_THREAD_MNK:
        return Choice(1, f"every product of a step is at most {m}·{n}·{k} = {m * n * k:,} multiply-adds ≤ {GENERIC_RULE}")
    one, many = time_products(step_products(sizes, batch), dtype, cores)
    threads = cores if many < CLEAR_GAIN * one else 1
    return Choice(threads, f"the step's products measured: {one * 1e3:.2f} ms on 1 thread, {many * 1e3:.2f} ms on {cores} "
                           f"(largest {m}·{n}·{k} = {m * n * k:,} multiply-adds: above {GENERIC_RULE}, so timed)")


def time_products(products: list[tuple[int, int, int]], dtype: str, threads: int, pairs: int = 5) -> tuple[float, float]:
    """Median seconds of all ``products`` (random ``dtype`` matrices) on 1 thread and on
    ``threads``, timed in alternation (``pairs`` of each)."""
    from threadpoolctl import threadpool_limits

    rng = np.random.default_rng(0)
    operands = [(rng.random((m, k), dtype=dtype), rng.random((k, n), dtype=dtype)) for m, n, k in products]
    seconds: dict[int, list[float]] = {1: [], threads: []}
    for _ in range(pairs):
        for count in seconds:
            with threadpool_limits(count):
                for A, B in operands:  # once untimed: the pool wakes
                    A @ B
                start = time.perf_counter()
                for A, B in operands:
                    A @ B
                seconds[count].append(time.perf_counter() - start)
    return statistics.median(seconds[1]), statistics.median(seconds[threads])


@contextlib.contextmanager
def limited(threads: int):
    """Every BLAS library threadpoolctl finds held to ``threads`` threads inside the block."""
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=threads):
        yield
