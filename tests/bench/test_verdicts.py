"""The verdicts the tutorials print follow from the numbers beside them: a trend only when every
step moves the same way, a speed-up above the core count always flagged, an order called this run's at its size
only when it held on an idle machine whose core ran at full speed, a disturbance blamed only on what
was measured (other processes, or the core's own speed)."""

import math
import re
import statistics

import pytest
from hypothesis import example, given, settings, strategies as st

from nnkit.bench import load, verdicts
from nnkit.tutorials import WIDTH, fit
from generators import drawn, examples
from text import unwrap

rates = st.floats(0.01, 1e4)


@settings(max_examples=500, deadline=None)
@given(st.lists(rates, min_size=2, max_size=6))
def test_a_trend_is_named_only_when_every_step_shows_it(values):
    steps = [b / a for a, b in zip(values, values[1:])]
    said = verdicts.trend(values)
    assert (said == "grows with n") == all(s > verdicts.STEP for s in steps)
    assert (said == "shrinks with n") == all(s < 1 / verdicts.STEP for s in steps)


def test_the_readers_jump_that_shrank_is_not_called_growing():
    assert verdicts.trend([33.0, 21.0, 24.0]).startswith("shows no steady trend")


@settings(max_examples=500, deadline=None)
@given(rates, st.integers(1, 256))
def test_a_speed_up_above_the_core_count_is_always_flagged(gain, cores):
    flag = verdicts.super_linear(gain, cores)
    assert bool(flag) == (gain > 1.05 * cores)
    assert not flag or f"on {cores} cores" in flag


def test_the_readers_openblas_ratio_on_two_cores_is_flagged_super_linear():
    assert verdicts.super_linear(2.60, 2).startswith("SUPER-LINEAR")
    assert verdicts.super_linear(1.88, 2) == ""


others = st.one_of(st.none(), st.floats(0.0, 4.0))


@settings(max_examples=300, deadline=None)
@given(rates, rates, st.integers(1, 256), others)
def test_an_all_core_peak_that_does_not_scale_is_flagged(one_core, all_cores, cores, busy):
    said = verdicts.unsteady_peak(one_core, all_cores, cores, busy)
    assert bool(said) == (not 0.9 * cores * one_core <= all_cores <= 1.1 * cores * one_core)
    assert not said or ("other processes used" in said and "held a core" not in said) == (busy is not None)
    assert not said or ("own clock ran a core" in said) == (busy is not None and not verdicts.busy(busy))


@settings(max_examples=300, deadline=None)
@given(rates, rates, st.integers(1, 256))
def test_shares_never_divide_by_a_flagged_peak(one_core, all_cores, cores):
    one, every = verdicts.steady_peaks(one_core, all_cores, cores)
    if not verdicts.unsteady_peak(one_core, all_cores, cores):
        assert (one, every) == (one_core, all_cores)
    else:   # the higher of the two measurements stands (other work only slows a run), the other is scaled from it
        assert math.isclose(every, cores * one) and (one == one_core or every == all_cores)
        assert math.isclose(max(one_core * cores, all_cores), every)


def test_the_readers_flagged_peak_is_blamed_on_the_host_not_on_other_processes():
    said = verdicts.unsteady_peak(79.2, 78.5, 2, others=0.01)
    assert "own clock ran a core" in said and "2 × the 1-core one (158)" in said
    assert verdicts.steady_peaks(79.2, 78.5, 2) == (79.2, 2 * 79.2)


def test_a_one_core_peak_slowed_by_a_busy_machine_is_flagged_too():
    said = verdicts.unsteady_peak(16.4, 63.8, 2, others=1.4)
    assert "3.89×" in said and "of the 1-core peak" in said and "other processes used 1.40 cores" in said
    assert verdicts.steady_peaks(16.4, 63.8, 2) == (31.9, 63.8)


@pytest.fixture(scope="module", autouse=True)
def unmeasured():
    """This process's probe A/A, steal and own threads as not measured (another test's ``watch`` would measure them): a cause
    given no figures then says what it would say in a process that never watched."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(load, "measured", lambda: {"low": None, "steal": None})
        patch.setattr(load, "own_beside", lambda speed: None)   # nor what this process's threads did in its probes
        yield


@settings(max_examples=500, deadline=None)
@given(others, st.one_of(st.none(), st.floats(0.0, 1.5)))
@example(0.2504, 0.8496)   # printed "0.25 cores" and "85%": at the marks, neither busy nor slow
@example(0.2551, 0.8449)
def test_a_cause_is_named_only_when_it_was_measured(busy, speed):
    """Each cause is named exactly when its figure, as printed, passes its mark: a reader's check gives the same."""
    said = verdicts.cause(busy, speed)
    assert ("other processes used" in said) == (busy is not None and float(f"{busy:.2f}") > verdicts.IDLE)
    assert ("of its usual speed" in said) == (speed is not None and float(f"{speed:.0%}"[:-1]) < 100 * verdicts.SLOW)
    assert ("not another process (this process's own threads during the probe: not measured) — "
            + verdicts.UNISOLATED in said) == ("of its usual speed" in said and "other processes used" not in said)


@pytest.mark.parametrize("count", examples(30, 600))
def test_a_slow_core_on_an_idle_machine_is_read_against_the_probes_own_spread_and_the_hosts_steal(count):
    """Reader 36 (b2): an idle run flagged almost every timing slow and named the probe's own short reading among
    causes no run isolated. With the probe's A/A measured (``low``: the lowest it read of nothing) and the host's
    steal, each branch follows from the figures as printed: within the A/A's lowest, the probe's own reading may be
    all of it; below, not its own reading, and then the steal named when it printed above 0, "no steal" with what
    steal misses when it printed 0, and the host or the clock unisolated when steal was not read."""

    @settings(max_examples=count, deadline=None)
    @given(st.floats(0.0, 1.0), st.one_of(st.none(), st.floats(0.3, 1.0)), st.one_of(st.none(), st.floats(0.0, 0.5)),
           st.sampled_from(["meanwhile", "watches"]))
    @example(0.8449, 0.845, 0.0, "meanwhile")     # both print as 84%: at the A/A's lowest, its own reading
    @example(0.7, 0.9, 0.004, "meanwhile")        # steal that prints as 0.00: none said
    def check(speed, low, steal, where):
        given_steal = steal if where == "meanwhile" else None   # else read from the process, over its watches
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(load, "measured", lambda: {"low": low, "steal": steal})
            said = verdicts.cause(0.01, speed, verdicts.HELD, None, given_steal, own=0.0)
            crowded = verdicts.cause(1.2, speed, verdicts.HELD, None, given_steal, own=0.0)
        named = given_steal is not None and float(f"{given_steal:.2f}") > 0   # busy: steal named only where given
        assert crowded.startswith("other processes used 1.20 cores" + (
            f" (the host's steal among them: {given_steal:.2f})" if named else ""))
        assert "not another process" not in crowded and ("steal among" in crowded) == named
        if not verdicts.slow(speed):
            assert said == ""
            return
        printed = lambda share: float(f"{share:.0%}"[:-1])
        assert said.startswith(f"the core ran as slow as {speed:.0%} of its usual speed around it")
        own = low is not None and printed(speed) >= printed(low)
        assert ("this flag may be the probe's noise" in said) == own
        assert not own or f"the probe's own noise reaches {low:.0%} (the lowest of its A/A)" in said
        assert "neither another process nor this process's own threads" in said   # own threads idle: 0.00 cores
        below = low is not None and not own
        assert ("not its own reading" in said) == below
        assert (verdicts.UNISOLATED in said) == (low is None)
        stolen = below and steal is not None and float(f"{steal:.2f}") > 0
        assert (f"took {steal:.2f} cores as steal" in said if stolen else "cores as steal" not in said)
        assert (verdicts.GUEST in said) == (below and steal is not None and not stolen)
        assert ("this run does not isolate" in said) == (low is None or below and steal is None)
        if stolen or verdicts.GUEST in said:
            assert said.count(" meanwhile" if where == "meanwhile" else " over this run's watches") == 1

    check()


@pytest.mark.parametrize("count", examples(30, 600))
def test_a_slow_core_on_an_idle_machine_names_this_processs_own_threads_when_they_ran_during_the_probe(count):
    """Reader 39 (b5, b6): "not another process … the host's other guests" while this process's own threads (OpenBLAS's
    helpers, spinning after a product) may have shared the probe's core. With what they used during the probe
    (``own``: given, or ``load.own_beside`` of the speed; None: not measured) each branch follows from it as printed:
    above 0.00 they are named and the host is not; at 0.00 the line says neither another process nor them, then reads
    the probe's A/A and the steal; unmeasured, it says so. Busy others or a core at full speed name none of it."""

    @settings(max_examples=count, deadline=None)
    @given(st.floats(0.0, 1.0), st.sampled_from([0.0, 0.02, 0.2504, 0.9]),
           st.one_of(st.none(), st.floats(0.0, 1.5)), st.one_of(st.none(), st.floats(0.3, 1.0)),
           st.one_of(st.none(), st.floats(0.0, 0.5)), st.booleans())
    @example(0.7, 0.0, 0.004, 0.9, 0.0, True)    # own threads at 0.004 cores print as 0.00: not named
    @example(0.7, 0.0, 0.006, 0.9, 0.0, False)   # 0.006 prints as 0.01: named
    def check(speed, busy, own, low, steal, given):
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(load, "own_beside", lambda seen: own if seen == speed else None)
            said = verdicts.cause(busy, speed, verdicts.HELD, low, steal, *([own] if given else []))
        idle_slow = verdicts.slow(speed) and not verdicts.busy(busy)
        ran = own is not None and float(f"{own:.2f}") > 0
        assert ("this process's own threads during the probe: not measured" in said) == (idle_slow and own is None)
        assert ("this process's own other threads ran beside the probe (" in said) == (idle_slow and ran)
        assert not ran or not idle_slow or f"beside the probe ({own:.2f} cores" in said
        assert ("neither another process nor this process's own threads — " in said) == (
            idle_slow and own is not None and not ran)
        if idle_slow and ran:   # the measured cause is named, the host and the probe's A/A are not
            assert "not another process, but this process's own" in said and "this run does not isolate" in said
            assert all(words not in said for words in (verdicts.GUEST, "A/A", "steal", verdicts.UNISOLATED))
        if not idle_slow:
            assert "own threads" not in said and "own other threads" not in said

    check()


@settings(max_examples=300, deadline=None)
@given(st.floats(0.0, 1.2), st.floats(0.05, 1.0))
@example(0.6049, 0.605)   # both print as 60%: not below the mark
@example(0.84, 0.9)       # below 85%, a floor above it: the SLOW mark as given decides
def test_a_core_is_slow_only_below_its_mark_as_printed(speed, mark):
    """Reader 39 (b5): the both-core probe reads low where the rows read it even with nothing to read, so its flag
    decides against its own A/A's floor there: ``slow`` against any mark, on the whole percents printed."""
    printed = lambda share: float(f"{share:.0%}"[:-1])
    assert verdicts.slow(speed, mark) == (printed(speed) < printed(mark))
    assert verdicts.slow(speed) == verdicts.slow(speed, verdicts.SLOW)


@settings(max_examples=300, deadline=None)
@given(others, st.floats(0.0, 1.5), st.sampled_from(["by the wall clock, the probe on both cores", verdicts.HELD]))
def test_a_slow_core_names_the_probe_that_timed_it(busy, speed, probe):
    """Reader 16 (c5): a speed from the wall-clock probe of both cores was labelled as timed while the probe held
    its core — each note names the probe its speed came from, and only that one."""
    said = verdicts.cause(busy, speed, probe)
    assert (f"({probe})" in said) == verdicts.slow(speed)
    assert all(f"({other})" not in said for other in ("by the wall clock, the probe on both cores", verdicts.HELD)
               if other != probe)


def test_the_readers_slow_core_with_no_other_process_busy_is_named():
    """Reader 34 (b1): the host or the clock was printed as the cause of a slow reading on an idle machine, which no
    run isolates from the probe itself reading low; the line names the three and says none is isolated."""
    assert verdicts.cause(0.00, 0.72) == ("the core ran as slow as 72% of its usual speed around it (timed while the "
                                          "probe held it), with other processes at 0.00 cores: not another process "
                                          "(this process's own threads during the probe: not measured) — "
                                          "the host, the CPU's own clock, or the probe's own short reading; which, "
                                          "this run does not isolate")
    assert verdicts.cause(0.00, 0.97) == ""
    assert verdicts.cause(0.00, 0.72, low=0.91, steal=0.0, own=0.0) == (
        "the core ran as slow as 72% of its usual speed around it (timed while the probe held it), with other processes "
        "at 0.00 cores, this process's own other threads at 0.00 during the probe: neither another process nor this "
        "process's own threads — below the lowest the probe read of nothing (91%, its A/A): not its own "
        "reading; no steal meanwhile: " + verdicts.GUEST)


@settings(max_examples=500, deadline=None)
@given(rates, rates)
def test_a_rate_far_below_the_same_works_rate_elsewhere_is_flagged(rate, reference):
    said = verdicts.below(rate, reference, "its rate elsewhere")
    assert bool(said) == (rate < verdicts.LOW * reference)
    assert not said or "read nothing off it" in said and "its rate elsewhere" in said


def test_the_readers_cache_blocking_rung_below_its_re_timing_is_flagged():
    assert verdicts.below(32.8, 65.0, "its re-timing") == "32.8 is only 0.50× its re-timing (65.0): read nothing off it, run it again"
    assert verdicts.below(53.3, 56.0, "its re-timing") == ""


def test_the_loaded_runs_two_core_peak_is_flagged():
    assert verdicts.unsteady_peak(85.2, 89.2, 2).startswith("UNSTEADY") and not verdicts.unsteady_peak(87.4, 174.6, 2)


@settings(max_examples=500, deadline=None)
@given(st.floats(0.0, 3.0), st.floats(0.0, 4.0), st.floats(0.01, 1.5), st.sampled_from([0.0, 0.0, 0.03, 0.2]))
def test_an_order_is_settled_either_way_only_by_an_undisturbed_re_timing_or_by_its_bounds(again, busy, speed, noise):
    """Flips (noise) and holds (this run's order at its size, reader 36 c3) alike: only when the whole range (``verdicts.place``: a slowed core's
    ratio × speed … ratio ÷ speed, widened by the pairs' own spread either way) is on one side of 0.95; busy others
    bound nothing. Every printed line stays within 118 characters once wrapped by ``tutorials.fit``."""
    said = verdicts.order(again, busy, speed, noise)
    disturbed = bool(verdicts.cause(busy, speed))
    low, high = (again, again) if not disturbed else (0, float("inf")) if verdicts.busy(busy) else (again * speed, again / speed)
    low, high = low / (1 + noise), high * (1 + noise)
    assert ("flips" in said) == (low >= 1) and ("the order ties" in said) == (0.95 <= low < 1 <= round(high, 2))
    # reader 20 c1: 0.96…0.98× is an order that held by a few percent, inside the tie band — not a flip
    assert ("inside the 0.95 tie band" in said) == (low >= 0.95 and round(high, 2) < 1)
    assert low < 0.95 or "noise" not in said
    assert ("this run's order at this size" in said) == (high < 0.95) and "the code's" not in said
    assert ("not settled" in said) == (low < 0.95 <= high)
    assert not disturbed or "idle machine" not in said
    assert (f"{noise:.0%} spread" in said) == (noise > 0 and high < float("inf"))
    assert all(len(line) <= WIDTH for line in fit("  → " + said).split("\n"))


def test_the_readers_0_94_against_0_95_from_three_pairs_is_not_settled():
    """Reader 16: 0.94× against 0.95 on an idle machine, from pairs whose own ratios strayed 3 %."""
    said = verdicts.order(0.94, 0.01, 0.98, verdicts.spread([0.94, 0.91, 0.97]))
    assert said.startswith("not settled") and "0.91…0.97×" in said


def test_the_readers_re_timing_on_a_core_at_72_percent_settles_nothing():
    said = verdicts.order(1.01, 0.0, 0.72)
    assert said.startswith("not settled") and "0.73…1.40×" in said and "below the 85% mark" in said


@settings(max_examples=300, deadline=None)
@given(st.floats(0.0, 1.0), st.lists(st.floats(0.0, 1.0), min_size=1, max_size=12))
def test_the_products_are_called_closest_only_when_they_were(chosen, rest):
    said = verdicts.closest(chosen, rest)
    assert (said == "came closest") == (chosen > max(rest))
    if chosen <= statistics.median(rest):
        assert said == "came no closer than the median operation"


def test_the_readers_step_where_subtract_beat_the_products_is_not_called_closest():
    assert verdicts.closest(0.272, [0.293, 0.262, 0.021, 0.13]) != "came closest"


@drawn(30, 1000, st.floats(0.001, 1.0), st.lists(st.floats(0.001, 1.0), min_size=1, max_size=12), st.floats(0.0, 1.0))
def test_a_place_among_the_shares_is_said_only_where_the_whole_noise_range_lies(chosen, rest, noise):
    """Every outcome: the words agree with the range chosen ÷ (1 + noise) … chosen × (1 + noise) and the marks."""
    said = verdicts.closest(chosen, rest, noise)
    low, high, top, median = chosen / (1 + noise), chosen * (1 + noise), max(rest), statistics.median(rest)
    assert (said == "came closest") == (low > top)
    assert (said == "came closer than most") == (median < low and high <= top)
    assert (said == "came no closer than the median operation") == (high <= median)
    if said.startswith("not settled in this run: "):
        mark = re.search(r"reaches (?:the closest other's|the median's) ([\d.]+)%", said).group(1)
        assert float(mark) == pytest.approx(100 * (top if high > top else median), abs=0.051)
        assert low <= (top if high > top else median) < high and said.endswith("— run it again")


def test_the_readers_lead_of_24_2_over_22_7_percent_is_not_settled_by_a_noise_of_10_percent():
    assert verdicts.closest(0.242, [0.227, 0.224, 0.128, 0.008], 0.10).startswith("not settled in this run")
    assert verdicts.closest(0.242, [0.227, 0.224, 0.128, 0.008], 0.05) == "came closest"


@given(st.floats(min_value=0.01, max_value=100))
def test_a_ratio_and_its_inverse_lie_equally_far_from_1(ratio):
    """Pair noise is one measure everywhere: a pair timed the other way round is as far from 1."""
    assert verdicts.apart(ratio) >= 0 and verdicts.apart(ratio) == pytest.approx(verdicts.apart(1 / ratio))
    assert verdicts.apart(ratio) >= abs(ratio - 1) - 1e-12   # never narrower than the linear distance


MARKS = st.lists(st.floats(0.1, 10.0), min_size=1, max_size=3, unique=True).map(lambda m: tuple(sorted(m)))


@drawn(30, 1000, st.floats(0.05, 20.0), MARKS, st.one_of(st.none(), st.floats(0.0, 2.0)),
       st.one_of(st.none(), st.floats(0.3, 1.2)), st.floats(0.0, 0.5))
def test_a_ratio_is_placed_only_where_its_whole_range_lies(ratio, marks, others, speed, noise):
    """The book's one bound rule: a region is named only when every value the pair can truly be (a slowed core on
    either side alone, the pair noise either way) lies in it; busy other processes bound nothing."""
    region, (low, high) = verdicts.place(ratio, marks, others, speed, noise)
    assert low <= ratio <= high
    if verdicts.busy(others):
        assert region is None and high == float("inf")
    elif region is not None:
        inside = lambda x: (region == 0 or x >= marks[region - 1]) and (region == len(marks) or x < marks[region])
        assert inside(low) and inside(high) and inside(ratio)
    else:
        assert any(low < mark <= high for mark in marks)
    wider, _ = verdicts.place(ratio, marks, others, speed, noise + 0.1)
    assert wider in (None, region)   # more noise never settles what less left open, nor moves a settled one


def test_the_readers_bound_wholly_above_its_mark_is_placed_above():
    """Reader 16: tutorial 6 refused n = 512's bound 1.22–2.00×, wholly above its 1.2 mark."""
    assert verdicts.place(1.56, (1.2,), others=0.0, speed=0.78)[0] == 1


def test_the_readers_verdict_closer_to_its_mark_than_its_noise_is_not_settled():
    """Reader 16: 0.94× against 0.95 from three pairs whose own ratios strayed 3 % settles nothing."""
    assert verdicts.place(0.94, (0.95,), noise=verdicts.spread([0.94, 0.91, 0.97]))[0] is None


@given(st.lists(st.floats(0.01, 100.0), min_size=1, max_size=9))
def test_the_pairs_own_spread_is_zero_only_when_they_agree(ratios):
    assert (verdicts.spread(ratios) == 0) == (len(set(ratios)) == 1) or min(ratios) == pytest.approx(max(ratios))



@given(st.floats(0.0, 1.0), st.lists(st.floats(0.01, 100.0), min_size=1, max_size=9))
def test_a_medians_noise_is_never_narrower_than_the_control_or_the_medians_measured_it(strayed, medians):
    """Tutorials 6 and 8 widen a median of pairs by one rule: how far an A/A control's medians strayed from 1, or the
    compared medians' own spread, whichever is wider — so a verdict never rests on less noise than the run showed."""
    noise = verdicts.median_noise(strayed, medians)
    assert noise in (strayed, verdicts.spread(medians)) and noise >= max(strayed, verdicts.spread(medians))


def test_the_examples_in_the_docstrings_hold():
    import doctest

    assert doctest.testmod(verdicts).failed == 0

@settings(max_examples=300, deadline=None)
@given(st.floats(0.5, 1.5), st.sampled_from([0.0, 0.1]), st.floats(0.5, 1.0), st.floats(0.0, 0.2))
@example(0.90, 0.0, 1.0, 0.0556)   # reader 22: "leaves 0.90 at 0.84…0.95×, across the 0.95 mark"
def test_an_orders_range_never_prints_an_end_as_its_mark_unless_it_is_the_mark(again, busy, speed, noise):
    """An end of the range that lies off 0.95 is printed with as many digits as show it off the mark (``beside``)."""
    said = verdicts.order(again, busy, speed, noise)
    _, (low, high) = verdicts.place(again, (0.95,), busy, speed, noise)
    for shown in re.findall(r"= (\d\.\d+)…(\d\.\d+)×|leaves [\d.]+ at (\d\.\d+)…(\d\.\d+)×", said):
        ends = [end for end in shown if end]
        assert [float(end) for end in ends] == pytest.approx([low, high], abs=0.0051)
        for end, value in zip(ends, (low, high)):
            assert float(end) != 0.95 or abs(value - 0.95) < 5e-9, (end, value)


@pytest.mark.parametrize("others", [0.0, 0.04, None, 1.2])
@pytest.mark.parametrize("peaks", [(46.3, 82.7), (30.0, 80.0)])
def test_an_unsteady_peaks_unmeasured_cause_is_a_reading_among_others(others, peaks):
    """Reader 33 b3: 'other processes used only 0.04 cores …: the host or the CPU's own clock ran a core of this virtual
    machine slow' named a cause nothing isolates; the 2-core probe counts the wall clock, so a late thread fits too.
    With others idle or unmeasured the line says 'a reading' and names the late thread; busy, the measured cause stays."""
    printed = fit(verdicts.unsteady_peak(*peaks, 2, others))   # as tutorials 7 and 8 print it
    said = unwrap(printed)
    assert said.startswith("UNSTEADY") and "run it again" in said
    hedged = others is None or not verdicts.busy(others)
    assert ("a reading, not isolated here" in said) == hedged == ("started or ran late" in said)
    assert "cores during its runs: the host or the CPU's own clock ran a core" not in said   # the cause, unhedged
    assert all(len(line) <= 118 for line in printed.split("\n"))


_steps = st.lists(st.one_of(st.floats(0.5, 1 / verdicts.STEP), st.floats(1 / verdicts.STEP, verdicts.STEP),
                            st.floats(verdicts.STEP, 3.0), st.sampled_from([1.0, verdicts.STEP, 1 / verdicts.STEP])),
                  min_size=1, max_size=6)


@pytest.mark.parametrize("examples", [40, pytest.param(2000, marks=pytest.mark.long)])
def test_no_steady_trend_says_which_condition_held_from_its_printed_steps(examples):
    """Reader 35 (a5): "16×, 17×, 21× — no steady trend (steps within ±10%, or up and down)" named two reasons where
    one held. The words name each step within ×1.1 either way (by its place), and "up and down" only where steps
    beyond it went both ways; each step prints on its own side of the mark."""
    @settings(max_examples=examples, deadline=None)
    @given(st.floats(0.01, 100.0), _steps)
    def check(start, steps):
        values = [start]
        for step in steps:
            values.append(values[-1] * step)
        factors = [b / a for a, b in zip(values, values[1:])]
        said = verdicts.trend(values)
        if all(s > verdicts.STEP for s in factors) or all(s < 1 / verdicts.STEP for s in factors):
            assert said in ("grows with n", "shrinks with n")
            return
        printed = [float(f) for f in re.findall(r"×(\d+\.\d{2,})", said)]   # the steps: two decimals or more
        assert len(printed) == len(factors)
        within = [1 / verdicts.STEP <= p <= verdicts.STEP for p in printed]   # decided as printed
        assert within == [1 / verdicts.STEP <= s <= verdicts.STEP for s in factors]
        both_ways = any(s > verdicts.STEP for s in factors) and any(s < 1 / verdicts.STEP for s in factors)
        assert ("both up and down" in said) == both_ways
        assert ("within ×1.1 either way" in said) == any(within)
        if len(factors) == 1:
            assert "its one step" in said
        elif all(within):
            assert "each within" in said
        elif any(within):
            named = re.search(r": the ([a-z0-9, ]+?) within", said).group(1).replace(" and ", ", ").split(", ")
            assert named == [verdicts.ORDINALS[i] for i, w in enumerate(within) if w]

    check()


def test_the_readers_rising_jump_is_not_called_up_and_down():
    said = verdicts.trend([16.0, 17.0, 21.0])
    assert "the first within ×1.1 either way" in said and "up and down" not in said and "×1.06, ×1.24" in said


@pytest.mark.parametrize("values", [[1.0], [0.3, -0.01, 0.2], [-0.2, -0.1, -0.05], [0.0, 1.0]])
def test_a_trend_is_named_only_between_values_above_zero(values):
    said = verdicts.trend(values)
    assert said.startswith("shows no steady trend") and ("no step" in said)
