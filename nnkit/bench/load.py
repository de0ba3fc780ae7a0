"""Who else used the CPU while something ran: the measurement that tells a slow result caused by
other work on a shared machine (oversubscription) from one caused by the code itself.

Linux only (``/proc/stat``); elsewhere the figures are ``None``.
"""

from __future__ import annotations

import functools
import os
import statistics
import threading
import time
from typing import Callable

from nnkit.threads import usable_cores


def _machine_seconds() -> tuple[float, float] | None:
    """CPU-seconds all cores spent busy since boot (user, system, interrupts, and time the hypervisor
    gave to other guests: steal), and the steal alone."""
    try:
        with open("/proc/stat") as f:
            fields = [int(v) for v in f.readline().split()[1:9]]
    except (OSError, ValueError):
        return None
    user, nice, system, idle, iowait, irq, softirq, steal = fields
    tick = os.sysconf("SC_CLK_TCK")
    return (user + nice + system + irq + softirq + steal) / tick, steal / tick


WINDOW = 0.1   # seconds: /proc/stat counts in 10 ms ticks, so ``others`` is read over at least this long
AA_PAIRS = 20  # pairs of probe runs in an A/A of the probe: about 0.8 s of 20-ms runs

_stolen = {"seconds": 0.0, "window": 0.0}   # steal over every ``watch`` window in this process, and their length


def watch(function: Callable[[], object]) -> dict:
    """Run ``function`` once and return ``wall`` seconds, this process's CPU-seconds per wall second
    (``ours``, in cores: > 1 when several of its threads ran), the cores used meanwhile by everything
    else (``others``, around the run: see below), of which the hypervisor took ``steal`` (cores of
    this virtual machine's time the host gave to other work; 0 on bare metal), by this process's
    threads other than the caller's (``helpers``), and the core's ``speed``: the slower of two short
    peak-probe runs, just before and just after (``probe``, GFLOP/s), as a share of what the probe
    usually reads of nothing in this process (:func:`usual`, capped at 1), each counting only the time
    the probe held its core (``peak.now``: another process taking the core is not a slow core). A
    virtual machine's cores slow down with no other process to show for it (the host's other guests,
    its clock): speed < 1 measured so is the host's or the CPU's own clock's, not another process's — unless this
    process's own threads ran beside the probe: ``own`` is the most cores they used during either probe
    (:func:`beside`; None where Linux's per-thread accounting is not readable), OpenBLAS's helpers spinning after a
    product among them.

    ``others`` is read around the run as the speed is — over the two probes and the run, padded to at
    least ``WINDOW``: /proc/stat counts in 10 ms ticks, which over a 1 ms run read as cores the machine
    does not have (3.45 "other" cores of 2, reader 23); never more than the cores this process left."""
    usual_gflops = usual()["usual"]
    window, machine, all_ours = time.perf_counter(), _machine_seconds(), time.process_time()
    probe_before, own_before = beside(_probe)
    own, caller, start = time.process_time(), time.thread_time(), time.perf_counter()
    function()
    wall = time.perf_counter() - start
    ours = (time.process_time() - own) / wall
    helpers = ours - (time.thread_time() - caller) / wall
    probe_after, own_after = beside(_probe)
    probe, own_threads = min(probe_before, probe_after), _most(own_before, own_after)
    time.sleep(max(0.0, WINDOW - (time.perf_counter() - window)))
    after, all_ours, window = _machine_seconds(), time.process_time() - all_ours, time.perf_counter() - window
    cores = usable_cores()
    others = steal = None
    if machine is not None and after is not None:
        others = min(max(0.0, (after[0] - machine[0] - all_ours) / window), max(0.0, cores - all_ours / window))
        steal = (after[1] - machine[1]) / window
        _stolen["seconds"] += after[1] - machine[1]
        _stolen["window"] += window
    speed = min(1.0, probe / usual_gflops)
    _remember(speed, own_threads)
    return {"wall": wall, "ours": ours, "helpers": max(0.0, helpers), "others": others, "steal": steal,
            "speed": speed, "probe": probe, "own": own_threads}


def _probe() -> float:
    from nnkit.bench import peak

    return peak.now(1)


def _threads_cpu() -> dict[str, float] | None:
    """CPU-seconds each of this process's threads but the caller has run so far (thread id → seconds, from
    ``/proc/self/task/*/schedstat``, in ns); None where that is not readable."""
    caller = str(threading.get_native_id())
    try:
        tasks = [tid for tid in os.listdir("/proc/self/task") if tid != caller]
    except OSError:
        return None
    seen = {}
    for tid in tasks:
        try:
            with open(f"/proc/self/task/{tid}/schedstat") as f:
                seen[tid] = int(f.read().split()[0]) / 1e9
        except (OSError, ValueError, IndexError):
            continue   # a thread that ended meanwhile
    return seen


def beside(read: Callable[[], float]) -> tuple[float, float | None]:
    """``read()`` (a probe's rate) and the cores this process's own other threads — those running before it
    started and after it ended, so not the probe's own threads — used meanwhile (CPU-seconds per wall second; None
    where Linux's per-thread accounting is not readable): a library's helper threads spinning after a product share
    the cores with the probe, which reads them as a slow core."""
    before, start = _threads_cpu(), time.perf_counter()
    rate = read()
    wall, after = time.perf_counter() - start, _threads_cpu()
    if before is None or after is None:
        return rate, None
    return rate, sum(after[tid] - before[tid] for tid in before.keys() & after.keys()) / wall


def _most(*cores: float | None) -> float | None:
    """The largest of ``cores`` (None: not measured, unless every one was)."""
    seen = [c for c in cores if c is not None]
    return max(seen) if seen else None


_beside: dict[float, float | None] = {}   # a probe's reading (speed share) → this process's own threads' cores then


def _remember(speed: float, own: float | None) -> None:
    """Keep what this process's own threads used during the probe that read ``speed`` (:func:`own_beside`)."""
    _beside[speed] = own


def own_beside(speed: float | None) -> float | None:
    """The cores this process's own other threads used during the probe whose reading was ``speed`` (a ``watch``'s
    ``speed`` or a :func:`slowest_core` share, as returned; None when no probe of this process read exactly it)."""
    return _beside.get(speed) if speed is not None else None


def aa(read: Callable[[], float], pairs: int = AA_PAIRS) -> dict:
    """An A/A of a probe: ``pairs`` back-to-back pairs of ``read`` (a rate) with nothing between, each pair
    read as ``watch`` reads a probe around a run — the slower of the two. Returns the ``usual`` reading (their
    median, the rate's unit) and ``low``: the lowest, as a share of it — how slow the probe reads nothing."""
    readings = [min(read(), read()) for _ in range(pairs)]
    middle = statistics.median(readings)
    return {"usual": middle, "low": min(readings) / middle, "pairs": pairs}


def usual(threads: int = 1) -> dict:
    """:func:`aa` of the peak probe (GFLOP/s), measured once per process the first time it is asked for (about a
    second): on one thread ``peak.now(1)``, timed while it held its core — ``watch``'s speed is a share of its
    ``usual`` reading; on more, ``peak.wall(threads)``, the slowest core's pace by the wall clock, whose ``usual`` is
    never taken below ``threads`` × one core's (other work during an A/A only lowers its median; ``own``: its own
    median) and whose ``low`` is a share of that."""
    return _usual(threads)


@functools.cache   # one per thread count: ``usual()`` and ``usual(1)`` are the one measurement
def _usual(threads: int) -> dict:
    if threads == 1:
        return aa(_probe)
    from nnkit.bench import peak

    seen = aa(lambda: peak.wall(threads))
    floor = max(seen["usual"], threads * usual(1)["usual"])
    return {"usual": floor, "low": min(1.0, seen["low"] * seen["usual"] / floor), "pairs": seen["pairs"],
            "own": seen["usual"]}


def slowest_core(threads: int) -> float:
    """The peak probe on ``threads`` cores at once (``peak.wall``) now, as a share of its usual reading
    (:func:`usual`, capped at 1): the slowest core's speed — which ``watch``'s one-core probe cannot see when the
    host slows another core. The wall clock counts a core another process took as slow: ``others`` tells them apart."""
    return both_cores(threads)["speed"]


def both_cores(threads: int) -> dict:
    """:func:`slowest_core`'s ``speed`` now, and ``own``: the cores this process's own other threads used during the
    probe (:func:`beside`) — a core they took reads as slow as one another process took."""
    from nnkit.bench import peak

    rate, own = beside(lambda: peak.wall(threads))
    speed = min(1.0, rate / usual(threads)["usual"])
    _remember(speed, own)
    return {"speed": speed, "own": own}


def placed_aa(threads: int, place: Callable[[], object], pairs: int = AA_PAIRS) -> dict:
    """An A/A of the probe on ``threads`` cores (:func:`both_cores`) where a run reads it: each reading right after
    ``place()`` (the work the run does just before its probe), pairs read as :func:`aa` reads them, the slower of
    two. Returns, as shares of its :func:`usual` reading, ``median`` and ``low`` (the lowest: how slow the probe
    reads nothing in that placement), with ``own``: the most cores this process's own threads used during one of the
    readings kept (None: not measured), and ``pairs``."""
    def read() -> dict:
        place()
        return both_cores(threads)

    readings = [min(read(), read(), key=lambda seen: seen["speed"]) for _ in range(pairs)]
    speeds = [seen["speed"] for seen in readings]
    return {"median": statistics.median(speeds), "low": min(speeds), "pairs": pairs,
            "own": _most(*(seen["own"] for seen in readings))}


def measured() -> dict:
    """What this process measured so far that :func:`nnkit.bench.verdicts.cause` reads: the one-core probe's
    ``low`` (:func:`aa`; None before any ``watch``) and the ``steal`` in cores over every ``watch`` window
    (None before any window was read)."""
    return {"low": _usual(1)["low"] if _usual.cache_info().currsize else None,   # (the 1-thread one comes first)
            "steal": _stolen["seconds"] / _stolen["window"] if _stolen["window"] else None}
