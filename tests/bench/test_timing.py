"""nnkit.bench.timing: medians of repeated runs, and pairs whose halves swap places so neither order biases them."""

from hypothesis import given, settings
from hypothesis import strategies as st

from nnkit.bench import timing


def _recorder(log, name):
    return lambda: log.append(name)


@settings(max_examples=30, deadline=None)
@given(st.integers(1, 12))
def test_the_halves_of_a_pair_swap_places_from_one_pair_to_the_next(repeats):
    log = []
    timing.paired(_recorder(log, "plain"), _recorder(log, "other"), repeats=repeats, min_time=0.0)
    timed = log[4:]   # first each side's warm-up call and the one call that sets its loop count (1 with min_time 0)
    assert timed == [name for pair in range(repeats) for name in (("plain", "other") if pair % 2 == 0 else ("other", "plain"))]


def test_around_other_wraps_only_the_other_half_whichever_runs_first():
    log, entered = [], []

    class Around:
        def __enter__(self):
            entered.append(len(log))

        def __exit__(self, *exc):
            log.append("exit")

    timing.paired(_recorder(log, "plain"), _recorder(log, "other"), repeats=4, min_time=0.0, around_other=Around)
    assert len(entered) == 4
    assert all(log[at] == "other" for at in entered)     # the first thing run inside is the other half


def test_a_cost_on_whichever_half_runs_first_shows_in_by_order_and_the_ratio_lies_between_the_orders():
    """A fixed-order bias — a first half that always pays a cost, like a cold cache after a sleep — makes the two
    orders' medians differ; the alternated ratio stays between them."""
    clock = {"last": None}

    def half(name):
        def run():
            if clock["last"] is None:                       # first of its pair: the cold half
                sum(range(20000))
            clock["last"] = None if clock["last"] else name
        return run

    pair = timing.paired(half("plain"), half("other"), repeats=9, min_time=0.0)
    order = pair["by_order"]
    assert order["plain first"] < 1 < order["other first"]
    assert order["plain first"] <= pair["ratio"] <= order["other first"]
