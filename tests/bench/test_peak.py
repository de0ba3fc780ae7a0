"""The measured peak is one figure per process: the fastest run seen, never lowered by a later,
disturbed measurement; a rate above it is flagged."""

from hypothesis import given, settings
from hypothesis import strategies as st

from nnkit.bench import peak


def test_every_measurement_quotes_the_best_seen_so_far():
    quotes = [peak.measure(1, 0.03)["gflops"] for _ in range(4)]
    assert quotes == sorted(quotes) and quotes[0] > 0   # never lower than an earlier quote


def test_a_chain_sweep_of_the_widest_kernel_raises_the_peak_the_next_measurement_quotes():
    kernel = peak.measure(1, 0.03)["kernel"]
    sweep = peak.chain_sweep(kernel, 200_000, repeats=2)
    assert peak.measure(1, 0.03)["gflops"] >= max(sweep.values())


@settings(max_examples=200, deadline=None)
@given(st.floats(0.01, 1e4), st.floats(0.01, 1e4))
def test_a_rate_is_flagged_exactly_when_it_is_above_the_peak(rate, ceiling):
    flag = peak.above(rate, ceiling)
    assert bool(flag) == (rate > ceiling)
    if flag:
        assert "ABOVE the measured peak" in flag and f"{ceiling:.1f}" in flag
