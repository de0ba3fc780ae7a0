"""The verdicts the tutorials print follow from the numbers beside them: a trend only when every
step moves the same way, a speed-up above the core count always flagged, an order called the code's
only when it held on an idle machine."""

import statistics

from hypothesis import given, settings, strategies as st

from nnkit.bench import verdicts

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
    flag = verdicts.impossible_speed_up(gain, cores)
    assert bool(flag) == (gain > 1.05 * cores)
    assert not flag or f"on {cores} cores" in flag


def test_the_readers_openblas_ratio_on_two_cores_is_impossible():
    assert verdicts.impossible_speed_up(2.60, 2).startswith("IMPOSSIBLE")
    assert verdicts.impossible_speed_up(1.88, 2) == ""


@settings(max_examples=300, deadline=None)
@given(rates, rates, st.integers(1, 256))
def test_an_all_core_peak_that_does_not_scale_is_flagged(one_core, all_cores, cores):
    assert bool(verdicts.unsteady_peak(one_core, all_cores, cores)) == (all_cores < 0.9 * cores * one_core)


def test_the_loaded_runs_two_core_peak_is_flagged():
    assert verdicts.unsteady_peak(85.2, 89.2, 2).startswith("UNSTEADY") and not verdicts.unsteady_peak(87.4, 174.6, 2)


@settings(max_examples=300, deadline=None)
@given(st.floats(0.0, 3.0), st.floats(0.0, 4.0))
def test_an_order_is_the_codes_only_when_it_held_on_an_idle_machine(again, others):
    said = verdicts.order(again, others)
    assert ("the code's" in said) == (again < 0.95 and others <= verdicts.IDLE)
    assert ("noise" in said and "flips" in said) == (again >= 0.95)


@settings(max_examples=300, deadline=None)
@given(st.floats(0.0, 1.0), st.lists(st.floats(0.0, 1.0), min_size=1, max_size=12))
def test_the_products_are_called_closest_only_when_they_were(chosen, rest):
    said = verdicts.closest(chosen, rest)
    assert (said == "came closest") == (chosen > max(rest))
    if chosen <= statistics.median(rest):
        assert said == "came no closer than the median operation"


def test_the_readers_step_where_subtract_beat_the_products_is_not_called_closest():
    assert verdicts.closest(0.272, [0.293, 0.262, 0.021, 0.13]) != "came closest"
