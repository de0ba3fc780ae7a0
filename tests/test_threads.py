"""nnkit.threads: the products of a step, the idle cores, the choice and its reason, the limit undone."""

import os
import re
import statistics
import threading
import time

import numpy as np
import pytest
from hypothesis import HealthCheck, example, given, settings, strategies as st
from threadpoolctl import threadpool_info

import array_api_compat.numpy as np_xp
from generators import seeds
from nnkit import model, optim, threads, train
from nnkit.bench import timing, verdicts
from nnkit.backends.instrumented import instrumented
from text import unwrap

IDLE = threads.Load(0.0, 0.0, 0.1, 2)


def _pairs(one: float, many: float, ratios: list[float] | None = None) -> dict:
    """What ``time_products`` returns (``paired``'s dict) for medians of ``one`` and ``many`` seconds, with
    ``ratios`` (all ÷ 1) per pair — by default nine pairs that all agree."""
    return {"plain": one, "other": many, "ratios": ratios or [many / one] * threads.PAIRS, "warm_up": many / one}
STEP_CASES = 20  # seeded: layer sizes (1-3 hidden layers) × batch size


@pytest.mark.parametrize("case", range(STEP_CASES))
def test_step_products_are_the_products_a_training_step_makes(case):
    """The oracle: the instrumented namespace records every matmul of a real step, with its shapes."""
    rng = np.random.default_rng(case)
    sizes = rng.integers(1, 40, size=rng.integers(3, 6)).tolist()
    batch = int(rng.integers(1, 50))
    xp = instrumented(np_xp)
    params = model.init(sizes, xp, rng)
    X = xp.asarray(rng.standard_normal((sizes[0], batch)))
    Y = xp.asarray(np.eye(sizes[-1])[:, rng.integers(0, sizes[-1], batch)])
    with xp.recording() as ops:
        train.train_step(params, X, Y, optim.make("adam"))
    recorded = [(op.flops // 2) for op in ops if op.name == "matmul"]
    assert sorted(recorded) == sorted(m * n * k for m, n, k in threads.step_products(sizes, batch))


def test_the_cores_other_processes_used_are_between_none_and_all():
    seen = threads.load(0.05)
    assert 0 <= seen.others <= seen.cores and 0 <= seen.steal <= seen.cores and seen.cores == (os.cpu_count() or 1)


def test_this_processs_own_ticks_include_its_other_threads():
    """What load() leaves out is all of this process's CPU — a thread spinning beside the one that
    measures (as OpenBLAS's do for a while after a product) included, whatever the machine's load."""
    stop, used = threading.Event(), []

    def spin():
        start = time.thread_time()
        while not stop.is_set():
            pass
        used.append(time.thread_time() - start)

    before = threads._own_ticks()
    spinner = threading.Thread(target=spin)
    spinner.start()
    time.sleep(0.3)
    stop.set()
    spinner.join()
    ticks = threads._own_ticks() - before
    assert ticks >= used[0] * os.sysconf("SC_CLK_TCK") - 2, (ticks, used)  # 2: a tick's rounding at each end


LOAD_CASES = 300  # seeded: /proc/stat deltas over a window, this process's share of the busy ticks


def _random_window(rng):
    """Ticks of a window as /proc/stat's first eight fields, and this process's own share of the busy ones."""
    user, nice, system, idle, iowait, irq, softirq, steal = (int(v) for v in rng.integers(0, 40, 8) * rng.integers(0, 2, 8))
    busy = user + nice + system + irq + softirq
    return [user, nice, system, idle, iowait, irq, softirq, steal], float(rng.integers(0, busy + 1))


@pytest.mark.parametrize("case", seeds(LOAD_CASES))
def test_other_processes_are_the_busy_ticks_less_this_processs_and_nothing_else(case):
    """iowait is an idle core and steal the host's, not a process a second thread would queue behind:
    neither counts as other processes; this process's own ticks (its spinning helpers) do not either."""
    rng = np.random.default_rng(case)
    delta, mine = _random_window(rng)
    cores = int(rng.integers(1, 65))
    seen = threads.ticks_to_load(delta, mine, 0.1, cores)
    user, nice, system, idle, iowait, irq, softirq, steal = delta
    total = max(sum(delta), 1)
    assert seen.others == pytest.approx(cores * (user + nice + system + irq + softirq - mine) / total)
    assert seen.steal == pytest.approx(cores * steal / total)
    assert 0 <= seen.others + seen.steal <= cores + 1e-9


@pytest.mark.parametrize("case", seeds(LOAD_CASES))
def test_only_this_process_steal_and_iowait_never_make_the_machine_busy(case, monkeypatch):
    """The reader's case: nothing else ran — whatever this process, the host (steal) and the disks (iowait) did."""
    rng = np.random.default_rng(case)
    delta, _ = _random_window(rng)
    mine = float(sum(delta[i] for i in (0, 1, 2, 5, 6)))      # every busy tick was this process's own
    monkeypatch.setattr(threads, "load", lambda seconds=0.1: threads.ticks_to_load(delta, mine, 0.1, 2))
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 1}, raising=False)
    monkeypatch.setattr(threads, "time_products", lambda *a, **k: _pairs(1.0, 1.0))
    assert "no core is free for a second BLAS thread" not in threads.choose([784, 512, 10], 128).reason


@pytest.mark.parametrize("case", seeds(LOAD_CASES))
def test_one_thread_for_a_busy_machine_exactly_when_others_leave_less_than_a_core_and_a_half(case, monkeypatch):
    rng = np.random.default_rng(case)
    cores = int(rng.integers(2, 17))
    seen = threads.Load(float(rng.uniform(0, cores)), float(rng.uniform(0, 1)), 0.1, cores,
                        busiest=("spin (pid 42)", 1.0))
    monkeypatch.setattr(threads, "load", lambda seconds=0.1: seen)
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: set(range(cores)), raising=False)
    monkeypatch.setattr(threads, "time_products", lambda *a, **k: _pairs(1.0, 1.0))
    choice = threads.choose([784, 512, 10], 128)
    busy = cores - seen.others < threads.FREE_FOR_A_SECOND_THREAD
    assert ("no core is free for a second BLAS thread" in choice.reason) == busy
    if busy:
        assert choice.threads == 1 and choice.rule == ""
        assert choice.detail[0].startswith(f"other processes used {seen.others:.1f} of {cores} cores over 0.1 s (")


@pytest.mark.parametrize("case", seeds(LOAD_CASES))
def test_the_busiest_process_is_never_shown_using_more_than_all_others_together(case):
    """Its ticks come a whole 10 ms tick at a time over a 0.1 s window: 1.0 may be counted beside 0.9 in all."""
    rng = np.random.default_rng(case)
    others = float(rng.uniform(0.05, 4))
    busiest = float(rng.uniform(0, 1.3)) * others
    said = str(threads.Load(others, 0.0, 0.1, 4, busiest=("pip (pid 7)", busiest)))
    shown = re.search(r"most: pip \(pid 7\), ([\d.]+)\)", said)
    assert (shown is None) == (busiest >= 0.9 * others)
    assert shown is None or float(shown[1]) <= round(others, 1)
    assert shown is not None or "nearly all of it: pip (pid 7)" in said


def test_without_proc_stat_the_load_average_less_this_process_is_said(monkeypatch):
    def missing():
        raise OSError("no /proc/stat")

    monkeypatch.setattr(threads, "_stat_fields", missing)
    monkeypatch.setattr(os, "getloadavg", lambda: (3.25, 0.0, 0.0))
    seen = threads.load(0.0)
    assert seen.others == 2.25 and "the one-minute load average less this process: 2.2" in str(seen)


def test_the_busiest_other_process_is_named_with_its_cores():
    """A child spinning beside the measurement is another process: it is counted and named."""
    import subprocess
    import sys

    spin = subprocess.Popen([sys.executable, "-c", "import time\nend = time.monotonic() + 5\nwhile time.monotonic() < end: pass"])
    try:
        time.sleep(0.2)
        seen = threads.load(0.3)
    finally:
        spin.kill()
        spin.wait()
    assert seen.busiest is not None and seen.others > 0 and str(seen).startswith("other processes used")


def test_a_requested_count_is_taken_as_it_is_and_more_than_the_cores_is_said(monkeypatch):
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 1, 2, 3}, raising=False)
    assert threads.choose([64, 128, 10], 128, requested=3) == threads.Choice(3, "--threads 3")
    assert threads.choose([64, 128, 10], 128, requested=64) == threads.Choice(
        64, "--threads 64, more than the 4 cores this process may use: threads will take turns")




@pytest.mark.parametrize("sizes, batch", [([64, 128, 10], 32), ([64, 16, 10], 128), ([8, 8, 8, 8], 256), ([64, 96, 10], 64)])
def test_small_products_get_one_thread_on_an_idle_machine(monkeypatch, sizes, batch):
    monkeypatch.setattr(threads, "load", lambda seconds=0.1: IDLE)
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 1}, raising=False)
    monkeypatch.setattr(threads, "time_products", lambda *a, **k: pytest.fail("small products are not timed"))
    choice = threads.choose(sizes, batch)
    m, n, k = max(threads.step_products(sizes, batch), key=lambda p: p[0] * p[1] * p[2])
    assert choice.threads == 1 and choice.rule == threads.GENERIC_RULE
    assert choice.reason == "every product of a step is under 524,288 multiply-adds: OpenBLAS runs it on one thread"
    assert choice.detail == (f"the largest: {m}·{n}·{k} = {m * n * k:,} multiply-adds (rule: --json)",)


@pytest.mark.parametrize("one, many, expected", [(2.0, 1.0, 2), (1.0, 2.0, 1)])
def test_large_products_get_the_faster_measured_count(monkeypatch, one, many, expected):
    monkeypatch.setattr(threads, "load", lambda seconds=0.1: IDLE)
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 1}, raising=False)
    monkeypatch.setattr(threads, "time_products", lambda products, dtype, count: _pairs(one, many))
    choice = threads.choose([784, 128, 10], 128)
    assert choice.threads == expected and "the median ratio of 9 pairs" in choice.reason and choice.rule == threads.GENERIC_RULE
    assert choice.detail[1] == "timed: OpenBLAS may run the largest, 128·128·784 = 12,845,056 multiply-adds, on 2 threads (rule: --json)"


def test_a_step_whose_largest_product_is_two_units_is_timed(monkeypatch):
    """128·64·64 = 524,288 = 2 × 64³: OpenBLAS's generic rule gives it two threads, so nnkit times it."""
    monkeypatch.setattr(threads, "load", lambda seconds=0.1: IDLE)
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 1}, raising=False)
    monkeypatch.setattr(threads, "time_products", lambda products, dtype, count: _pairs(2.0, 1.0))
    assert "the largest, 128·64·64 = 524,288 multiply-adds, on 2 threads" in threads.choose([64, 128, 10], 64).detail[1]


def _gemm_c_threads(mnk: int, cores: int) -> int:
    """interface/gemm.c of OpenBLAS 0.3.27 and later, step by step in C's arithmetic (default threshold 4)."""
    unit = 65536.0 * 4
    if mnk <= unit:
        return 1
    nthreads = cores
    if mnk / nthreads < unit:
        nthreads = int(mnk / unit)  # C's assignment of a double to an int truncates
    return nthreads


def test_the_generic_rule_matches_openblas_gemm_c_and_the_printed_threshold():
    rng = np.random.default_rng(7)
    edges = [u * threads.OPENBLAS_THREAD_UNIT + d for u in range(1, 6) for d in (-1, 0, 1)]
    for mnk in edges + [int(x) for x in rng.integers(1, 8 * threads.OPENBLAS_THREAD_UNIT, 300)]:
        for cores in (1, 2, 3, 4, 64):
            assert threads.openblas_threads(mnk, cores) == _gemm_c_threads(mnk, cores), (mnk, cores)
        assert (threads.openblas_threads(mnk, 2) == 1) == (mnk < threads.OPENBLAS_ONE_THREAD_BELOW) == (mnk < 524_288)
    assert "⌊m·n·k ÷ 262,144⌋ threads (262,144 = 65,536 × 4 = 64³)" in threads.GENERIC_RULE
    assert threads.GENERIC_RULE.endswith("so one while m·n·k < 524,288")


def test_time_products_times_real_products_on_both_counts():
    pairs = threads.time_products([(64, 32, 48), (8, 8, 8)], "float32", 2, pairs=3)
    assert pairs["plain"] > 0 and pairs["other"] > 0 and len(pairs["ratios"]) == 3


def _blas_threads() -> list[int]:
    return [lib["num_threads"] for lib in threadpool_info() if lib["user_api"] == "blas"]


def test_the_limit_is_undone_after_the_block_even_after_an_error():
    before = _blas_threads()
    with pytest.raises(RuntimeError):
        with threads.limited(1):
            assert set(_blas_threads()) == {1}
            raise RuntimeError("inside")
    assert _blas_threads() == before


@pytest.mark.parametrize("one, many, chosen", [(1.0, 0.5, 2), (1.0, 0.89, 2), (1.0, 0.95, 1), (1.0, 1.0, 1), (1.0, 1.3, 1)])
def test_all_cores_only_when_clearly_faster(monkeypatch, one, many, chosen):
    """An idle machine, large products, pairs that agree: all cores win only below 0.9× one core's time (a tie is noise)."""
    monkeypatch.setattr(threads, "load", lambda seconds=0.1: IDLE)
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 1}, raising=False)
    monkeypatch.setattr(threads, "time_products", lambda products, dtype, cores: _pairs(one, many))
    assert threads.choose([784, 512, 10], 128).threads == chosen


TIMED = re.compile(r"(clearly faster|not clearly faster|not settled|slower): 2 threads ÷ 1 = ([\d.]+)× the time, the median "
                   r"ratio of (\d+) pairs, range ([\d.]+)…([\d.]+)×, (.*)")
MEDIANS = re.compile(r"medians ([\d.]+) µs on 1 thread, ([\d.]+) µs on 2 \(their own quotient ([\d.]+)×\), pairs spread "
                     r"(\d+)% \(a warm-up pair before them, left out: [\d.]+×\); other processes used ")


def _words_for(low: float, high: float) -> tuple[str, str]:
    """The verdict and the words for where a range printed as ``low``…``high`` lies, read off the printed ends
    against 0.90× (a clear gain) and 1.00× (slower), written out here apart from ``threads.decide``."""
    where = lambda end: 0 if end < 0.9 else 1 if end < 1.0 else 2
    return {(0, 0): ("clearly faster", "all below 0.90×"),
            (0, 1): ("not settled", "below 1.00×, spanning 0.90×"),
            (0, 2): ("not settled", "spanning 0.90× and 1.00×"),
            (1, 1): ("not clearly faster", "all at or above 0.90× and below 1.00×"),
            (1, 2): ("not clearly faster", "all at or above 0.90×, spanning 1.00×"),
            (2, 2): ("slower", "all at or above 1.00×")}[where(low), where(high)]


def _check_said(choice: threads.Choice, ratios: list[float], one: float, many: float) -> str:
    """Asserts that ``choice``'s printed figures are the pairs' (the median of their ratios, its range, the two medians
    and their own quotient) and that its words and count follow the range as printed; returns the verdict."""
    verdict, ratio, count, low, high, side = TIMED.fullmatch(choice.reason).groups()
    shown_one, shown_many, quotient, spread = MEDIANS.match(choice.detail[0]).groups()
    assert int(count) == len(ratios)
    assert float(shown_one) == pytest.approx(one * 1e6, rel=5e-3) and float(shown_many) == pytest.approx(many * 1e6, rel=5e-3)
    assert float(quotient) == pytest.approx(many / one, abs=5.01e-4)   # the medians' quotient: not the ratio decided by
    assert abs(float(ratio) - statistics.median(ratios)) <= 5e-4 + 1e-12
    assert abs(int(spread) / 100 - verdicts.spread(ratios)) <= 5e-3 + 1e-12
    width = 1 + int(spread) / 100
    assert float(low) == pytest.approx(float(ratio) / width, abs=5.01e-3) and float(high) == pytest.approx(float(ratio) * width, abs=5.01e-3)
    assert (verdict, side) == _words_for(float(low), float(high))      # the words, from the ends as printed
    exact = _words_for(float(ratio) / width, float(ratio) * width)    # and from the printed median and spread
    assert (verdict, side) == exact and choice.threads == (2 if verdict == "clearly faster" else 1)
    return verdict


@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ratios=st.lists(st.floats(0.2, 3.0), min_size=1, max_size=15), one=st.floats(1e-6, 10.0))
@example(ratios=[1.145], one=1.31e-4)                      # README's run: one timing a side, 1 thread
@example(ratios=[0.720], one=1.82e-4)                      # tutorial 9's, the same step: 2 threads
@example(ratios=[1.145, 0.720, 0.85], one=1.5e-4)          # both in one run: their spread straddles 0.9
@example(ratios=[0.9, 0.9, 0.9], one=1e-4)                 # exactly at the mark: not below it
@example(ratios=[1.0, 1.0, 1.0], one=1e-4)                 # exactly at 1×: slower's side
@example(ratios=[0.8, 0.8, 0.8], one=1e-4)
@example(ratios=[1.692, 1.14 * 1.48, 2.50 / 1.48], one=1.313e-3)   # reader 35 b6: 1.14…2.50×, wholly above 1×
@example(ratios=[0.95, 0.96, 0.97], one=1e-4)              # wholly between 0.9 and 1
def test_the_printed_median_and_spread_always_show_the_decision(monkeypatch, ratios, one):
    """Reader 29 (b1): one timing a side flipped the choice between two runs of the same step (1.145×, then
    0.720×). The choice reads the pairs' median ratio and their spread as printed (3 decimals, a whole percent):
    the range median ÷/× (1 + spread) wholly below 0.90× — 2 threads, clearly faster; otherwise 1 thread, and
    reader 35 (b6): the words say where the range lies — wholly at or above 1.00×, slower (not "not clearly
    faster"); wholly at or above 0.90×, not clearly faster; reaching below 0.90×, not settled. Reader 35 (c1): the
    ratio is said to be the median of the pairs' ratios, and the medians' own quotient is printed as such.
    Dividing the printed figures by hand gives the printed range, and the range gives the words and the count."""
    monkeypatch.setattr(threads, "load", lambda seconds=0.1: IDLE)
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 1}, raising=False)
    many = one * statistics.median(ratios)
    monkeypatch.setattr(threads, "time_products", lambda products, dtype, cores: _pairs(one, many, ratios))
    _check_said(threads.choose([784, 512, 10], 128), ratios, one, many)


WORDS_CASES = 600


@pytest.mark.parametrize("seed", seeds(WORDS_CASES, 36))
def test_every_place_of_the_range_gets_its_own_words(monkeypatch, seed):
    """Reader 35 (b6): a range of 1.14…2.50× was called "not clearly faster" when two threads were slower in every
    pair. Seeded over a median and a spread drawn to put the range in each of the six places against 0.90× and
    1.00× in turn (and near the marks, within the rounding of the printed ends): the verdict, the words on where the
    range lies, and the count follow the printed range; two threads only when it is wholly below 0.90×."""
    rng = np.random.default_rng(seed)
    place = seed % 6
    middle = {0: (0.3, 0.85), 1: (0.86, 0.97), 2: (0.7, 1.3), 3: (0.905, 0.995), 4: (0.95, 1.2), 5: (1.0, 3.0)}[place]
    ratio = float(rng.uniform(*middle)) if seed % 5 else float(rng.choice([0.9, 1.0, 0.899, 0.999]))
    spread = float(rng.choice([0.0, rng.uniform(0, 0.03), rng.uniform(0, 0.3), rng.uniform(0, 1.5)]))
    count = int(rng.integers(3, 12))
    ratios = [ratio * (1 + spread), ratio / (1 + spread)] + [ratio] * (count - 2)   # their median: ratio; spread: spread
    one = float(10 ** rng.uniform(-6, -2))
    many = one * statistics.median(ratios)
    monkeypatch.setattr(threads, "load", lambda seconds=0.1: IDLE)
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 1}, raising=False)
    monkeypatch.setattr(threads, "time_products", lambda products, dtype, cores: _pairs(one, many, ratios))
    _check_said(threads.choose([784, 512, 10], 128), ratios, one, many)


def test_the_words_reach_every_place_of_the_range():
    """The six places of a range against 0.90× and 1.00×, each reached by ``decide`` with the words it prints."""
    cases = {(0.8, 0.0): "all below 0.90×", (0.88, 0.05): "below 1.00×, spanning 0.90×",
             (0.95, 0.2): "spanning 0.90× and 1.00×", (0.95, 0.02): "all at or above 0.90× and below 1.00×",
             (0.98, 0.05): "all at or above 0.90×, spanning 1.00×", (1.692, 0.48): "all at or above 1.00×"}
    for (ratio, spread), side in cases.items():
        count, said = threads.decide([ratio / (1 + spread), ratio, ratio * (1 + spread)], 2)
        assert said.endswith(f", {side}") and count == (2 if side == "all below 0.90×" else 1), said
    assert threads.decide([1.692, 1.14 * 1.48, 2.5 / 1.48], 2)[1].startswith("slower: ")


def test_the_choice_times_one_run_a_half_so_a_slow_second_thread_cannot_stretch_it(monkeypatch):
    """Its cost is bounded by runs, not by a time to fill: ``paired`` with no minimum time runs each half once
    (after one untimed run to find that count), however slow a run on all threads is."""
    asked = []

    def spy(plain, other, repeats, min_time, around_other):
        asked.append((repeats, min_time))
        return timing.paired(plain, other, repeats, min_time, around_other)

    monkeypatch.setattr(threads, "paired", spy)
    pairs = threads.time_products([(64, 32, 48)], "float32", 2, pairs=4)
    assert asked == [(1, 0.0), (4, 0.0)] and len(pairs["ratios"]) == 4 and pairs["warm_up"] > 0
    assert timing._loops(lambda: time.sleep(0.001), 0.0) == 1


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ratios=st.lists(st.floats(0.3, 3.0), min_size=1, max_size=15), first=st.floats(0.01, 300.0),
       one=st.floats(1e-6, 1e-2))
@example(ratios=[0.9, 0.85, 0.8, 0.82, 0.88, 0.79, 0.81, 0.84, 0.83], first=156.5, one=1.5e-4)  # a first pair ~100×
@example(ratios=[0.853] * 9, first=11.32, one=1.36e-4)  # reader 32's b6: one pair 11.32× in a fresh process
def test_a_first_pair_outlier_does_not_decide_the_choice(monkeypatch, ratios, first, one):
    """Reader 32 (b6): in a fresh process the first timed run on all threads took ~100× the later ones even after an
    untimed run, so one pair spread the range to 0.06…11.32× and no run could choose two threads. The first pair is
    a warm-up: ``time_products`` times it apart (``paired`` for one pair before the counted ones) and the choice,
    its range and its count are those of the counted pairs alone, whatever the warm-up pair measured; it is printed
    as left out."""
    real = timing.paired
    sets = iter([{**real(lambda: None, lambda: None, 1, 0.0), "ratio": first},
                 {"plain": one, "other": one * statistics.median(ratios), "ratios": ratios}])
    with monkeypatch.context() as patch:   # undone after each example: hypothesis reuses the fixture
        patch.setattr(threads, "paired", lambda *a, **k: next(sets))
        timed = threads.time_products([(64, 32, 48)], "float32", 2)
        assert timed["warm_up"] == first and timed["ratios"] == ratios
        patch.setattr(threads, "load", lambda seconds=0.1: IDLE)
        patch.setattr(os, "sched_getaffinity", lambda pid: {0, 1}, raising=False)
        patch.setattr(threads, "time_products", lambda products, dtype, cores: timed)
        choice = threads.choose([784, 512, 10], 128)
    assert (choice.threads, choice.reason) == threads.decide(ratios, 2)
    flat = unwrap(choice.said())
    assert f"(a warm-up pair before them, left out: {threads.decimals_text(first, 2, 3)}×)" in flat


LABELS = ("threads:", "  batch 1258: BLAS threads", "threads for this step:")  # nnkit train's; tutorial 9's


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(cores=st.integers(1, 64), requested=st.none() | st.integers(1, 512), others=st.floats(0, 1), steal=st.floats(0, 1),
       busiest=st.none() | st.tuples(st.text("abcdefghij_-. 0123456789", min_size=1, max_size=15), st.integers(1, 4_194_304),
                                     st.floats(0, 1.3)),
       sizes=st.lists(st.integers(1, 4096), min_size=2, max_size=5), batch=st.integers(1, 60_000),
       ratios=st.lists(st.floats(0.05, 20.0), min_size=1, max_size=15), one=st.floats(1e-7, 10.0),
       label=st.sampled_from(LABELS))
@example(cores=2, requested=None, others=0.0, steal=0.0, busiest=None, sizes=[64, 128, 10], batch=128,   # the README's run
         ratios=[0.871, 0.59, 1.28], one=1.31e-4, label="threads:")
def test_every_line_the_choice_prints_fits_118_columns_and_says_all_of_it(monkeypatch, cores, requested, others, steal,
                                                                          busiest, sizes, batch, ratios, one, label):
    """Reader 30 (c1): the threads line was one line of ~900 columns. For every outcome — asked for, one core, a busy
    machine (a busiest process of any name), small products, timed products of any verdict — each printed line
    is at most 118 columns, the first says the count and the reason, and the printed lines, read flattened, hold
    the reason and every line of the detail; the rule in full is in the JSON."""
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: set(range(cores)), raising=False)
    busy = busiest and (f"{busiest[0]} (pid {busiest[1]})", busiest[2] * others * cores)
    monkeypatch.setattr(threads, "load", lambda seconds=0.1: threads.Load(others * cores, steal * cores, 0.1, cores, busiest=busy))
    monkeypatch.setattr(threads, "time_products", lambda products, dtype, count: _pairs(one, one * statistics.median(ratios), ratios))
    choice = threads.choose(sizes, batch, requested=requested)
    said = choice.said(label)
    assert all(len(line) <= 118 for line in said.split("\n")), said
    assert said.startswith(f"{label} {choice.threads} (")
    flat = unwrap(said)
    assert f"({choice.reason})" in flat and all(line in flat for line in choice.detail)
    assert choice.to_dict() == {"threads": choice.threads, "reason": choice.reason, "detail": list(choice.detail),
                                "rule": choice.rule}
    assert choice.rule in ("", threads.GENERIC_RULE) and (choice.rule == "") == (not any("rule: --json" in d for d in choice.detail))
