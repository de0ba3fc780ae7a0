"""The triad sweep and the roofs it supports: a cache level gets a roof of its own only where it was
measured faster than the level behind it (a machine whose reported L3 runs at main memory's rate
draws no L3 roof, and never one below main memory)."""

from hypothesis import given, settings, strategies as st

from nnkit.bench import bandwidth

MiB = 2**20
L2, L3 = 2 * MiB, 300 * MiB


def test_the_readers_machine_draws_no_l3_roof_below_main_memory():
    measured = {1 * MiB: 45.1, 150 * MiB: 15.8, 600 * MiB: 16.7}   # tutorial 8's run on a VM: "L3" slower than memory
    found = bandwidth.roofs(measured, L2, L3)
    assert found["roofs"] == {"L2": 45.1, "main memory": 16.7}
    assert found["l3"] == 15.8 and found["served_up_to"] is None


def test_a_cache_that_serves_a_core_faster_gets_its_roof_and_its_reach():
    measured = {1 * MiB: 40.0, 4 * MiB: 24.0, 32 * MiB: 22.0, 64 * MiB: 13.0, 256 * MiB: 18.0, 600 * MiB: 15.0}
    found = bandwidth.roofs(measured, L2, L3)
    assert list(found["roofs"]) == ["L2", "L3", "main memory"] and found["roofs"]["L3"] == 22.0
    assert found["l3_set"] == 32 * MiB   # 4 MiB, 2× L2, may still lie partly in L2: L3 is read from 4× L2 up
    assert found["served_up_to"] == 32 * MiB   # where the sweep first falls to memory's rate, not a noisy point beyond


@settings(max_examples=300, deadline=None)
@given(st.integers(1, 64).map(lambda k: k * MiB), st.integers(2, 64), st.data())
def test_every_roof_drawn_is_measured_above_the_next(l2, l3_in_l2s, data):
    l3 = l2 * l3_in_l2s
    sizes = bandwidth.working_sets(l2, 2 * l3)
    rates = data.draw(st.lists(st.floats(0.5, 200.0), min_size=len(sizes), max_size=len(sizes)))
    measured = dict(zip(sizes, rates))
    found = bandwidth.roofs(measured, l2, l3)
    levels = list(found["roofs"])
    assert levels[-1] == "main memory" and found["roofs"]["main memory"] == measured[sizes[-1]]
    assert set(levels) <= {"L2", "L3", "main memory"} and levels == sorted(levels, key=["L2", "L3", "main memory"].index)
    for near, far in zip(levels, levels[1:]):
        assert found["roofs"][near] > bandwidth.ABOVE * found["roofs"][far]
    middle = [s for s in sizes[1:-1] if bandwidth.BEYOND_L2 * l2 <= s <= l3 // 2]
    assert found["l3_set"] == (max(middle, key=measured.get) if middle else None)
    assert found["l3"] == (measured[found["l3_set"]] if middle else None)
    if found["l3"] is not None:
        assert ("L3" in levels) == (found["l3"] > bandwidth.ABOVE * measured[sizes[-1]])
    else:
        assert "L3" not in levels
    beyond_l2 = sizes[1:-1]
    reach = beyond_l2.index(found["served_up_to"]) + 1 if found["served_up_to"] is not None else 0
    assert all(measured[s] > bandwidth.ABOVE * measured[sizes[-1]] for s in beyond_l2[:reach])
    assert reach == len(beyond_l2) or measured[beyond_l2[reach]] <= bandwidth.ABOVE * measured[sizes[-1]]


@settings(max_examples=100, deadline=None)
@given(st.integers(1, 2**30), st.integers(1, 2**34))
def test_the_sweep_starts_in_l2_doubles_and_ends_in_main_memory(l2, main):
    sets = bandwidth.working_sets(l2, main)
    assert sets[0] == l2 // 2 and sets[-1] == main
    assert all(b == 2 * a for a, b in zip(sets[1:-1], sets[2:-1])) and all(2 * s < main for s in sets[1:-1])


def test_a_sweep_measures_every_working_set():
    measured = bandwidth.sweep(256 * 1024, 4 * MiB)
    assert list(measured) == bandwidth.working_sets(256 * 1024, 4 * MiB)
    assert all(rate > 0 for rate in measured.values())


def test_the_triad_runs_the_widest_instruction_set_this_cpu_offers_and_says_which():
    """Reader 29 b3: built with -O2 and no -march the triad was scalar; it now picks its kernel at run time and names it,
    and each narrower kernel can still be run by name (a set the CPU lacks measures nothing)."""
    from nnkit.backends._native import ffi, lib

    names = ["avx512f", "avx2", "sse2", "scalar"]
    runs = [name for name in names if bandwidth.triad(256 * 1024, name) > 0]
    assert bandwidth.kernel() == runs[0] and "scalar" in runs
    assert bandwidth.triad(256 * 1024, "no such kernel") == 0.0
    r = lib.nk_bandwidth_measure(1, 10_000, 2)
    assert ffi.string(r.kernel).decode() == runs[0] and r.gbytes > 0
