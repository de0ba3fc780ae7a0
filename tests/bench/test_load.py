"""nnkit.bench.load: who used the CPU while something ran, and how fast the core ran meanwhile."""

import os
import statistics
import subprocess
import sys
import time

import pytest

from nnkit.backends._native import ffi, lib
from nnkit.bench import load


def test_watch_reports_the_cores_used_and_the_cores_speed():
    seen = load.watch(lambda: time.sleep(0.05))
    assert seen.keys() == {"wall", "ours", "helpers", "others", "speed"}
    # asleep: the calling thread used (almost) no CPU — this process's BLAS helpers may still spin from earlier tests
    assert seen["wall"] >= 0.05 and seen["ours"] - seen["helpers"] < 0.5
    assert 0 < seen["speed"] <= 1  # a share of the fastest probe run in this process, which includes its own


def test_a_probe_sharing_its_core_counts_the_wait_the_other_task_caused():
    """With a busy process pinned to the probe's own core the scheduler gives each about half of it:
    the probe reports that wait (its threads' run-queue delay), so ``peak.now`` can leave it out."""
    if not os.path.exists("/proc/thread-self/schedstat"):
        pytest.skip("no per-thread run-queue accounting (/proc/thread-self/schedstat) on this system")
    mask = os.sched_getaffinity(0)
    core = min(mask)
    spinner = subprocess.Popen([sys.executable, "-c", f"import os; os.sched_setaffinity(0, {{{core}}})\nwhile True: pass"])
    try:
        os.sched_setaffinity(0, {core})
        time.sleep(0.2)   # the spinner is pinned and running
        runs = [lib.nk_peak_measure(1, 2_000_000, ffi.NULL) for _ in range(5)]
    finally:
        os.sched_setaffinity(0, mask)
        spinner.kill()
        spinner.wait()
    assert 0.2 < statistics.median(r.waited / r.seconds for r in runs) < 0.8
