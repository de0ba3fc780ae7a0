"""Who else used the CPU while something ran: the measurement that tells a slow result caused by
other work on a shared machine (oversubscription) from one caused by the code itself.

Linux only (``/proc/stat``); elsewhere the figures are ``None``.
"""

from __future__ import annotations

import os
import time
from typing import Callable


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


def watch(function: Callable[[], object]) -> dict:
    """Run ``function`` once and return ``wall`` seconds, this process's CPU-seconds per wall second
    (``ours``, in cores: > 1 when several of its threads ran), the cores used meanwhile by everything
    else (``others``), and by this process's threads other than the caller's (``helpers``)."""
    machine, own, caller, start = _machine_busy_seconds(), time.process_time(), time.thread_time(), time.perf_counter()
    function()
    wall = time.perf_counter() - start
    ours = (time.process_time() - own) / wall
    helpers = ours - (time.thread_time() - caller) / wall
    after = _machine_busy_seconds()
    others = None if machine is None or after is None else max(0.0, (after - machine) / wall - ours)
    return {"wall": wall, "ours": ours, "helpers": max(0.0, helpers), "others": others}
