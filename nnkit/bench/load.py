"""Who else used the CPU while something ran: the measurement that tells a slow result caused by
other work on a shared machine (oversubscription) from one caused by the code itself.

Linux only (``/proc/stat``); elsewhere the figures are ``None``.
"""

from __future__ import annotations

import os
import time
from typing import Callable

from nnkit.threads import usable_cores


def _machine_busy_seconds() -> float | None:
    """CPU-seconds all cores spent busy since boot (user, system, interrupts, and time the
    hypervisor gave to other guests: steal)."""
    try:
        with open("/proc/stat") as f:
            fields = [int(v) for v in f.readline().split()[1:9]]
    except (OSError, ValueError):
        return None
    user, nice, system, idle, iowait, irq, softirq, steal = fields
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


WINDOW = 0.1   # seconds: /proc/stat counts in 10 ms ticks, so ``others`` is read over at least this long


def watch(function: Callable[[], object]) -> dict:
    """Run ``function`` once and return ``wall`` seconds, this process's CPU-seconds per wall second
    (``ours``, in cores: > 1 when several of its threads ran), the cores used meanwhile by everything
    else (``others``, around the run: see below), by this process's threads other than the caller's
    (``helpers``), and the core's ``speed``: the slower of two short peak-probe runs, just before and
    just after, as a share of the fastest the probe has run in this process, each counting only the
    time the probe held its core (``peak.now``: another process taking the core is not a slow core). A virtual
    machine's cores slow down with no other process to show for it (the host's other guests, its
    clock): speed < 1 measured so is the host's or the CPU's own clock's, not another process's.

    ``others`` is read around the run as the speed is — over the two probes and the run, padded to at
    least ``WINDOW``: /proc/stat counts in 10 ms ticks, which over a 1 ms run read as cores the machine
    does not have (3.45 "other" cores of 2, reader 23); never more than the cores this process left."""
    window, machine, all_ours = time.perf_counter(), _machine_busy_seconds(), time.process_time()
    speed_before = _speed()
    own, caller, start = time.process_time(), time.thread_time(), time.perf_counter()
    function()
    wall = time.perf_counter() - start
    ours = (time.process_time() - own) / wall
    helpers = ours - (time.thread_time() - caller) / wall
    speed = min(speed_before, _speed())
    time.sleep(max(0.0, WINDOW - (time.perf_counter() - window)))
    after, all_ours, window = _machine_busy_seconds(), time.process_time() - all_ours, time.perf_counter() - window
    cores = usable_cores()
    others = None if machine is None or after is None else min(
        max(0.0, (after - machine - all_ours) / window), max(0.0, cores - all_ours / window))
    return {"wall": wall, "ours": ours, "helpers": max(0.0, helpers), "others": others, "speed": speed}


def _speed() -> float:
    from nnkit.bench import peak

    peak.best(1)  # a best to compare with, before this run can become it
    return min(1.0, peak.now(1) / peak.best(1))   # above 1: faster than any whole run so far
