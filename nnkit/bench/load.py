"""Who else used the CPU while something ran: the measurement that tells a slow result caused by
other work on a shared machine (oversubscription) from one caused by the code itself.

Linux only (``/proc/stat``); elsewhere the figures are ``None``.
"""

from __future__ import annotations

import functools
import os
import statistics
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
    its clock): speed < 1 measured so is the host's or the CPU's own clock's, not another process's.

    ``others`` is read around the run as the speed is — over the two probes and the run, padded to at
    least ``WINDOW``: /proc/stat counts in 10 ms ticks, which over a 1 ms run read as cores the machine
    does not have (3.45 "other" cores of 2, reader 23); never more than the cores this process left."""
    usual_gflops = usual()["usual"]
    window, machine, all_ours = time.perf_counter(), _machine_seconds(), time.process_time()
    probe_before = _probe()
    own, caller, start = time.process_time(), time.thread_time(), time.perf_counter()
    function()
    wall = time.perf_counter() - start
    ours = (time.process_time() - own) / wall
    helpers = ours - (time.thread_time() - caller) / wall
    probe = min(probe_before, _probe())
    time.sleep(max(0.0, WINDOW - (time.perf_counter() - window)))
    after, all_ours, window = _machine_seconds(), time.process_time() - all_ours, time.perf_counter() - window
    cores = usable_cores()
    others = steal = None
    if machine is not None and after is not None:
        others = min(max(0.0, (after[0] - machine[0] - all_ours) / window), max(0.0, cores - all_ours / window))
        steal = (after[1] - machine[1]) / window
        _stolen["seconds"] += after[1] - machine[1]
        _stolen["window"] += window
    return {"wall": wall, "ours": ours, "helpers": max(0.0, helpers), "others": others, "steal": steal,
            "speed": min(1.0, probe / usual_gflops), "probe": probe}


def _probe() -> float:
    from nnkit.bench import peak

    return peak.now(1)


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
    from nnkit.bench import peak

    return min(1.0, peak.wall(threads) / usual(threads)["usual"])


def measured() -> dict:
    """What this process measured so far that :func:`nnkit.bench.verdicts.cause` reads: the one-core probe's
    ``low`` (:func:`aa`; None before any ``watch``) and the ``steal`` in cores over every ``watch`` window
    (None before any window was read)."""
    return {"low": _usual(1)["low"] if _usual.cache_info().currsize else None,   # (the 1-thread one comes first)
            "steal": _stolen["seconds"] / _stolen["window"] if _stolen["window"] else None}
