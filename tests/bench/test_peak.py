"""The measured peak is one figure per process: the fastest run seen, never lowered by a later,
disturbed measurement; a rate above it is flagged, with its measured reason when it ran on more
cores than the peak. The kernels without FMA count 1 FLOP per lane per step, the FMA ones 2."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nnkit.backends._native import ffi, lib as native
from nnkit.bench import peak


def test_every_measurement_quotes_the_best_seen_so_far():
    quotes = [peak.measure(1, 0.03)["gflops"] for _ in range(4)]
    assert quotes == sorted(quotes) and quotes[0] > 0   # never lower than an earlier quote


def test_a_chain_sweep_of_the_widest_kernel_raises_the_peak_the_next_measurement_quotes():
    kernel = peak.measure(1, 0.03)["kernel"]
    sweep = peak.chain_sweep(kernel, 200_000, repeats=2)
    assert peak.measure(1, 0.03)["gflops"] >= max(sweep.values())


@settings(max_examples=300, deadline=None)
@given(st.floats(0.01, 1e4), st.floats(0.01, 1e4), st.none() | st.floats(0.0, 8.0), st.integers(1, 4))
def test_a_rate_is_flagged_exactly_when_it_is_above_the_peak_and_says_why(rate, ceiling, cores_used, peak_cores):
    flag = peak.above(rate, ceiling, cores_used, peak_cores)
    assert bool(flag) == (rate > ceiling) and (flag == "" or f"{ceiling:.1f}" in flag)
    if flag and cores_used is not None and cores_used > peak_cores + 0.2:
        assert f"ran on {cores_used:.2f} cores" in flag and f"{peak_cores}-core peak" in flag and "noise" not in flag
    elif flag:
        assert "impossible — noise" in flag


def _kernels() -> list[tuple[str, int]]:
    """(kernel, chains) this CPU can run, every chain count native/peak.c is built for."""
    found = []
    for kernel in ("scalar", "scalar-add", "sse2", "avx2", "avx2+fma", "avx512f+fma", "neon"):
        for chains in peak.CHAIN_COUNTS:
            if native.nk_peak_measure_chains(1, 1, kernel.encode(), chains).kernel:
                found.append((kernel, chains))
    return found


def test_each_kernel_counts_its_flops_per_step_by_whether_it_fuses_the_multiply_and_the_add():
    kernels = _kernels()
    assert ("scalar", 14) in kernels and ("scalar-add", 1) in kernels   # one chain of dependent adds, every CPU
    for kernel, chains in kernels:
        r = native.nk_peak_measure_chains(1, 1000, kernel.encode(), chains)
        fused = kernel.endswith("+fma") or kernel == "neon"
        assert (ffi.string(r.kernel).decode(), r.chains, r.flops_per_step) == (kernel, chains, 2 if fused else 1)
        assert r.gflops > 0


def test_alternate_runs_each_kernel_the_times_asked_in_turn():
    kernels = [("scalar", 2), ("scalar", 14)]
    rates = peak.alternate(kernels, 20_000, times=3, repeats=2)
    assert list(rates) == kernels and all(len(r) == 3 and min(r) > 0 for r in rates.values())


def test_a_rate_is_filed_only_under_the_chains_the_probe_ran(monkeypatch):
    """Reader 28 (b1): a chain count chosen in one place and not passed on would file an 8-chain rate under 14. The
    sweep and the rounds check the count the C reports against the one they asked for."""
    real = native.nk_peak_measure_chains

    class Fewer:   # a probe that runs 8 chains whatever it is asked for
        def nk_peak_measure_chains(self, threads, rounds, kernel, chains):
            return real(threads, rounds, kernel, 8)

        def __getattr__(self, name):
            return getattr(native, name)

    assert peak.alternate([("scalar", 14)], 1000, times=1)[("scalar", 14)][0] > 0
    monkeypatch.setattr(peak, "native", Fewer())
    for ask in (lambda: peak.alternate([("scalar", 14)], 1000, times=1), lambda: peak.chain_sweep("scalar", 1000, repeats=1)):
        with pytest.raises(RuntimeError, match="asked for scalar at (14|1) chains, the probe ran scalar at 8"):
            ask()
    assert peak.alternate([("scalar", 8)], 1000, times=1)[("scalar", 8)][0] > 0   # the count asked for: no complaint


def test_the_avx2_kernel_without_fma_is_asked_for_by_name_only_and_never_becomes_the_peak():
    """"avx2" (4 lanes, half its chains multiply, half add) sits beside "avx2+fma" to isolate FMA at equal width: the
    widest kernel (kernel NULL: ``peak.now``, ``peak.measure``) stays an FMA one, and a sweep of it never files its
    rate as the peak's, though its lanes match the peak kernel's."""
    widest = native.nk_peak_measure(1, 1000, ffi.NULL)
    assert ffi.string(widest.kernel).decode() in ("avx512f+fma", "avx2+fma", "neon", "scalar")
    if not native.nk_peak_measure_chains(1, 1, b"avx2", 14).kernel:
        pytest.skip("no AVX2 on this CPU")
    assert [c for k, c in _kernels() if k == "avx2"] == [1, 2, 4, 8, 12, 14]
    r = native.nk_peak_measure_chains(1, 1000, b"avx2", 0)   # its default: the most chains its registers hold
    assert (r.lanes, r.chains, r.flops_per_step) == (4, 14, 1)
    before = dict(peak._best.get(1, {"gflops": 0.0, "kernel": None}))
    peak._best.pop(1, None)
    try:
        peak.chain_sweep("avx2", 20_000, repeats=1)
        assert 1 not in peak._best   # not the peak's kernel: nothing filed
        assert peak.measure(1, 0.03)["kernel"] == ffi.string(widest.kernel).decode()
    finally:
        if before["kernel"]:
            peak._keep(1, before)
