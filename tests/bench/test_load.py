"""nnkit.bench.load: who used the CPU while something ran, and how fast the core ran meanwhile."""

import time

from nnkit.bench import load, peak


def test_watch_reports_the_cores_used_and_the_cores_speed():
    seen = load.watch(lambda: time.sleep(0.05))
    assert seen.keys() == {"wall", "ours", "helpers", "others", "speed"}
    # asleep: the calling thread used (almost) no CPU — this process's BLAS helpers may still spin from earlier tests
    assert seen["wall"] >= 0.05 and seen["ours"] - seen["helpers"] < 0.5
    assert 0 < seen["speed"] <= 1  # a share of the fastest probe run in this process, which includes its own


def test_the_probes_best_is_never_below_a_run_it_has_seen():
    now = peak.now(1)
    assert peak.best(1) >= now > 0
