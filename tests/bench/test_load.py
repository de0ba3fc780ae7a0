"""nnkit.bench.load: who used the CPU while something ran, and how fast the core ran meanwhile."""

import hashlib
import os
import statistics
import subprocess
import sys
import threading
import time

import pytest

from nnkit.backends._native import ffi, lib
from nnkit.bench import load


def test_watch_reports_the_cores_used_and_the_cores_speed():
    seen = load.watch(lambda: time.sleep(0.05))
    assert seen.keys() == {"wall", "ours", "helpers", "others", "steal", "speed", "probe", "own"}
    assert seen["own"] is None or seen["own"] >= 0   # this process's other threads during the probes
    assert load.own_beside(seen["speed"]) == seen["own"]   # kept for ``verdicts.cause``, by the speed it read
    # asleep: the calling thread used (almost) no CPU — this process's BLAS helpers may still spin from earlier tests
    assert seen["wall"] >= 0.05 and seen["ours"] - seen["helpers"] < 0.5
    # a share of what the probe usually reads of nothing in this process, capped at 1
    assert 0 < seen["speed"] <= 1 and seen["speed"] == min(1.0, seen["probe"] / load.usual()["usual"])
    if seen["others"] is not None:   # the host's steal is part of the others' busy time, counted apart too
        assert seen["steal"] >= 0 and load.measured()["steal"] is not None
    assert 0 < load.measured()["low"] <= 1
    assert load.usual() is load.usual(1)   # one measurement per thread count, however it is asked for


def test_an_aa_reads_each_pair_as_a_watch_does_the_slower_of_two_and_reports_its_median_and_lowest():
    """Reader 36 (b2): the probe's own spread, measured — its A/A, pairs of readings with nothing between, each pair's
    slower kept as ``watch`` keeps the slower probe around a run."""
    readings = iter([10.0, 9.0, 8.0, 12.0, 11.0, 11.0, 5.0, 10.0, 10.0, 10.0])
    seen = load.aa(lambda: next(readings), pairs=5)
    assert seen == {"usual": 9.0, "low": 5.0 / 9.0, "pairs": 5}   # pairs' slower: 9, 8, 11, 5, 10


def test_a_probe_sharing_its_core_counts_the_wait_the_other_task_caused():
    """With a busy process pinned to the probe's own core the scheduler gives each about half of it
    (less to the probe on a machine busy already): the probe reports that wait (its threads' run-queue
    delay), never more than the run itself, so ``peak.now`` can leave it out."""
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
    assert 0.2 < statistics.median(r.waited / r.seconds for r in runs) < 0.95


def test_the_held_core_rate_never_exceeds_what_the_cores_can_do_while_others_compete():
    """``peak.now`` leaves out the time other tasks held the cores; under heavy competition that must
    not leave a held time near zero and a rate past the cores' own: each of 2 × 8 short probe runs,
    on 1 and 2 threads beside one spinning process per core, stays within 1.3 × threads × the best
    one-core rate (seen before 5e6 and 4e8 GFLOP/s from the wall less the worst wait)."""
    from nnkit.bench import peak
    best = peak.measure(1)["gflops"]
    spinners = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in os.sched_getaffinity(0)]
    try:
        time.sleep(0.2)
        rates = {threads: [peak.now(threads) for _ in range(8)] for threads in (1, 2)}
    finally:
        for spinner in spinners:
            spinner.kill()
            spinner.wait()
    for threads, seen in rates.items():
        assert all(0 < rate <= 1.3 * threads * best for rate in seen), (threads, best, seen)


def test_the_others_of_a_run_shorter_than_a_tick_are_read_over_the_window_and_never_pass_the_cores():
    """Reader 23: a 1 ms run read "other processes used 3.45 cores" on an idle 2-core machine — /proc/stat counts
    in 10 ms ticks. Read over the probes and the run, padded to ``WINDOW``, no reading passes the cores."""
    cores = len(os.sched_getaffinity(0))
    seen = [load.watch(lambda: None)["others"] for _ in range(30)]
    assert all(0 <= others <= cores for others in seen), seen


def test_a_process_spinning_beside_a_short_run_is_still_counted():
    spinner = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        time.sleep(0.2)
        seen = [load.watch(lambda: time.sleep(0.001))["others"] for _ in range(5)]
    finally:
        spinner.kill()
        spinner.wait()
    assert statistics.median(seen) >= 0.5, seen


@pytest.mark.parametrize("rate, share", [(20.0, 0.5), (40.0, 1.0), (80.0, 1.0)])
def test_the_slowest_core_is_the_all_core_probe_as_a_share_of_its_usual_reading_at_most_1(rate, share, monkeypatch):
    from nnkit.bench import peak

    monkeypatch.setattr(peak, "wall", lambda threads: rate)
    monkeypatch.setattr(load, "usual", lambda threads=1: {"usual": 40.0, "low": 0.9})
    monkeypatch.setattr(load, "_beside", {})   # its made-up readings kept from no later test's cause
    assert load.slowest_core(2) == share
    assert load.own_beside(share) is None or load.own_beside(share) >= 0   # what this process's threads used then


def _spinning(seconds: float) -> None:
    """Keep a core busy for ``seconds``, in C with the GIL released (``hashlib.pbkdf2_hmac`` drops it while it hashes),
    as a BLAS helper thread spins: a pure-Python loop runs only while it holds the GIL, and in CI's whole suite such a
    spinner once used no CPU at all during the read (``beside`` read 0.00 cores)."""
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        hashlib.pbkdf2_hmac("sha256", b"spin", b"salt", 2_000)


def test_beside_counts_this_processs_threads_running_during_a_read_but_not_the_reads_own():
    """Reader 39 (b5, b6): a probe sharing the cores with this process's own threads (OpenBLAS's helpers spinning after
    a product) reads a slow core that no other process caused — ``beside`` measures what they used meanwhile, and
    leaves out threads the read itself starts and ends (the probe's own)."""
    if not os.path.exists("/proc/self/task"):
        pytest.skip("no per-thread accounting (/proc/self/task) on this system")
    time.sleep(0.3)   # OpenBLAS's helpers from earlier tests asleep
    spinner = threading.Thread(target=_spinning, args=(0.6,))
    spinner.start()
    try:
        rate, beside_spinner = load.beside(lambda: (time.sleep(0.2), 7.0)[1])
    finally:
        spinner.join()

    def own_thread() -> float:
        inner = threading.Thread(target=_spinning, args=(0.2,))
        inner.start()
        inner.join()
        return 7.0

    _, beside_own = load.beside(own_thread)
    assert rate == 7.0 and beside_spinner > 0.05, beside_spinner   # a thread that spun throughout: counted
    assert beside_own < beside_spinner, (beside_own, beside_spinner)   # the read's own thread: not counted


def test_a_placed_aa_reads_each_reading_after_its_placement_and_keeps_the_slower_of_each_pair(monkeypatch):
    """Reader 39 (b5): the both-core probe's A/A where a run reads it — each reading right after the work that
    precedes it there — its median and lowest as shares, and the most cores this process's own threads used."""
    readings = iter([(0.9, 0.0), (0.6, 0.3), (1.0, 0.0), (0.95, None), (0.5, 0.1), (0.8, 0.0)])
    placed = []
    monkeypatch.setattr(load, "both_cores", lambda threads: dict(zip(("speed", "own"), next(readings))))
    seen = load.placed_aa(2, lambda: placed.append(1), pairs=3)
    assert len(placed) == 6   # one placement before every reading
    assert seen == {"median": 0.6, "low": 0.5, "pairs": 3, "own": 0.3}   # pairs' slower: 0.6, 0.95, 0.5
