"""nnkit's own dgemm computes what numpy computes — every rung, every kernel this CPU runs, both
interfaces, both orders and transposes, any leading dimension, alpha and beta, every edge of every
loop — and honours BLAS's rules for alpha = 0 and beta = 0, without writing outside C."""

import dataclasses
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from generators import drawn
from nnkit.backends import own_dgemm
from nnkit.backends._native import ffi, lib
from text import unwrap

KERNELS = own_dgemm.kernels()
GUARD = 7  # elements of sentinel on each side of C's buffer


def pointer(x):
    return ffi.cast("double *", x.ctypes.data)


def stored(op, trans: bool, row_major: bool, pad: int):
    """op(X) stored as the library reads it: X = opᵀ when trans, in the given order, with `pad`
    extra elements between consecutive rows (row-major) or columns (column-major)."""
    X = op.T if trans else op
    rows, cols = X.shape
    if row_major:
        buffer = np.full((rows, cols + pad), np.nan)
        buffer[:, :cols] = X
        return buffer, cols + pad
    buffer = np.full((cols, rows + pad), np.nan)
    buffer[:, :rows] = X.T
    return buffer, rows + pad


def call(interface, row_major, ta, tb, m, n, k, alpha, A, lda, B, ldb, beta, C, ldc):
    if interface == "cblas":
        lib.nk_gemm_cblas_dgemm(101 if row_major else 102, 112 if ta else 111, 112 if tb else 111, m, n, k, alpha,
                                pointer(A), lda, pointer(B), ldb, beta, pointer(C), ldc)
        return
    assert not row_major
    i64 = lambda v: ffi.new("int64_t *", v)
    f64 = lambda v: ffi.new("double *", v)
    lib.nk_gemm_dgemm_(b"T" if ta else b"n", b"t" if tb else b"N", i64(m), i64(n), i64(k), f64(alpha), pointer(A),
                       i64(lda), pointer(B), i64(ldb), f64(beta), pointer(C), i64(ldc), 1, 1)


problems = st.fixed_dictionaries({
    "m": st.integers(0, 60), "n": st.integers(0, 60), "k": st.integers(0, 60),
    "interface": st.sampled_from(["cblas", "fortran"]), "row_major": st.booleans(),
    "ta": st.booleans(), "tb": st.booleans(), "pads": st.tuples(*[st.integers(0, 3)] * 3),
    "alpha": st.sampled_from([1.0, -0.5, 2.0, 0.0]), "beta": st.sampled_from([0.0, 1.0, -2.0, 0.25]),
    "kernel": st.sampled_from(KERNELS), "threads": st.sampled_from([1, 2, 3]),
    "blocks": st.sampled_from([(0, 0, 0), (1, 1, 1), (5, 3, 7), (30, 17, 11)]), "seed": st.integers(0, 2**32 - 1),
})


@settings(max_examples=400, deadline=None)
@given(problems)
def test_every_call_equals_numpy_and_writes_only_c(p):
    row_major = p["row_major"] and p["interface"] == "cblas"
    m, n, k, alpha, beta = p["m"], p["n"], p["k"], p["alpha"], p["beta"]
    rng = np.random.default_rng(p["seed"])
    opA, opB, C0 = rng.standard_normal((m, k)), rng.standard_normal((k, n)), rng.standard_normal((m, n))
    A, lda = stored(opA, p["ta"], row_major, p["pads"][0])
    B, ldb = stored(opB, p["tb"], row_major, p["pads"][1])
    C, ldc = stored(C0, False, row_major, p["pads"][2])
    guarded = np.full(C.size + 2 * GUARD, -7.0)
    guarded[GUARD:-GUARD] = C.ravel()
    C = guarded[GUARD:-GUARD].reshape(C.shape)
    if beta == 0 and C0.size:
        C[0, 0] = np.nan  # beta = 0: C is not read
    with own_dgemm.configured(p["kernel"], p["threads"], *p["blocks"]):
        call(p["interface"], row_major, p["ta"], p["tb"], m, n, k, alpha, A, max(lda, 1), B, max(ldb, 1), beta, C,
             max(ldc, 1))
    result = C[:, :n] if row_major else C[:, :m].T
    expected = alpha * (opA @ opB) + (beta * C0 if beta else 0)
    np.testing.assert_allclose(result, expected, rtol=1e-12, atol=1e-12 * (k + 1))
    assert (guarded[:GUARD] == -7).all() and (guarded[-GUARD:] == -7).all()
    padding = C[:, n:] if row_major else C[:, m:]
    assert np.isnan(padding).all()  # the gaps between rows or columns are untouched


# native/gemm.c's UNPACKED_UP_TO: each kernel's cut (multiply-adds up to which the library skips packing) and the
# machine it was measured on — reader 30 b1: one AVX-512 figure, 256³, left AVX2 products ~2× slow at n ≈ 250
CUTS = {"avx512f+fma": (256**3, "an AVX-512 Xeon"), "avx2+fma": (32**3, "an AMD EPYC Zen 3 (AVX2)"),
        "portable": (32**3, "an AMD EPYC Zen 3")}


# native/gemm.c's ONE_THREAD_UP_TO: each kernel's one-thread cut and the machine it was measured on — reader 31 b4:
# one AVX-512 figure, 256³, kept AVX2 products that pack on one thread where a second thread paid; reader 35 a4: an
# idle Zen 3 paid at n = 128 and 256 and lost at 64 → 64³ for AVX2
ONE_THREAD_CUTS = {"avx512f+fma": (256**3, "an AVX-512 Xeon"), "avx2+fma": (64**3, "an AMD EPYC Zen 3 (AVX2, idle)"),
                   "portable": (256**3, "an AVX-512 Xeon (with its own kernel; not measured with this one)")}


@pytest.mark.parametrize("kernel", KERNELS)
def test_the_configuration_reports_the_packing_cut_of_the_kernel_in_use(kernel):
    with own_dgemm.configured(kernel) as c:
        assert (c.unpacked_up_to, c.unpacked_measured_on) == (min(CUTS[kernel][0], ONE_THREAD_CUTS[kernel][0]),
                                                              CUTS[kernel][1])
        assert c.unpacked_up_to <= c.one_thread_up_to   # the unpacked path runs on one thread
        lines = [unwrap(line) for line in own_dgemm.reasoning(c)]
    said = next(line for line in lines if line.startswith("small products"))
    assert f"m·n·k ≤ {c.unpacked_up_to:,} multiply-adds" in said and f"with the {kernel} kernel" in said
    assert f"on {c.unpacked_measured_on}, packing did not pay" in said
    assert all(len(row) <= 118 for line in own_dgemm.reasoning(c) for row in line.split("\n"))


@pytest.mark.parametrize("kernel", KERNELS)
def test_the_configuration_reports_the_one_thread_cut_of_the_kernel_in_use_and_where_it_was_measured(kernel):
    with own_dgemm.configured(kernel) as c:
        assert (c.one_thread_up_to, c.one_thread_measured_on) == ONE_THREAD_CUTS[kernel]
        lines = [unwrap(line) for line in own_dgemm.reasoning(c)]
    threads = next(line for line in lines if line.startswith("products up to"))
    assert f"{c.one_thread_up_to:,} multiply-adds" in threads and f"with the {kernel} kernel" in threads
    assert f"on {c.one_thread_measured_on}, a second thread stopped losing" in threads
    assert c.one_thread_evidence and c.one_thread_evidence in threads


def test_the_largest_square_within_a_cut_is_named_right():
    for n in range(1, 300):
        for cut in (n**3 - 1, n**3, n**3 + 1):
            said = own_dgemm._cube(cut)
            largest = max(m for m in range(n + 2) if m**3 <= cut)
            assert said == f"n ≤ {largest} for n×n matrices"


around_the_cut = st.fixed_dictionaries({
    "cut": st.sampled_from(["unpacked_up_to", "one_thread_up_to"]),
    "kernel": st.sampled_from(KERNELS), "m": st.integers(1, 70), "n": st.integers(1, 70), "step": st.integers(-2, 2),
    "interface": st.sampled_from(["cblas", "fortran"]), "row_major": st.booleans(), "ta": st.booleans(),
    "tb": st.booleans(), "threads": st.sampled_from([1, 2]), "seed": st.integers(0, 2**32 - 1),
})


@drawn(30, 300, around_the_cut)
def test_products_on_either_side_of_the_packing_and_thread_cuts_equal_numpy(p):
    """Shapes whose m·n·k lies just under, at and just over the kernel's cuts: at the packing cut the unpacked path
    and the packed one meet, both orders and transposes (an A whose rows are contiguous takes the copied tiles
    unpacked); at the one-thread cut one thread and a team do (m and n four times larger there: k stays small)."""
    row_major = p["row_major"] and p["interface"] == "cblas"
    scale = 4 if p["cut"] == "one_thread_up_to" else 1
    m, n = p["m"] * scale, p["n"] * scale
    with own_dgemm.configured(p["kernel"], p["threads"]) as c:
        k = max(1, getattr(c, p["cut"]) // (m * n) + p["step"])
        rng = np.random.default_rng(p["seed"])
        opA, opB, C0 = rng.standard_normal((m, k)), rng.standard_normal((k, n)), rng.standard_normal((m, n))
        A, lda = stored(opA, p["ta"], row_major, 1)
        B, ldb = stored(opB, p["tb"], row_major, 0)
        C, ldc = stored(C0, False, row_major, 2)
        call(p["interface"], row_major, p["ta"], p["tb"], m, n, k, 1.5, A, lda, B, ldb, -0.5, C, ldc)
    result = C[:, :n] if row_major else C[:, :m].T
    np.testing.assert_allclose(result, 1.5 * opA @ opB - 0.5 * C0, rtol=1e-12, atol=1e-12 * (k + 1))
    assert np.isnan(C[:, n:] if row_major else C[:, m:]).all()   # the gaps between rows or columns untouched


@pytest.mark.parametrize("threads", [2, 3, 7])
@pytest.mark.parametrize("blocks", [(0, 0, 0), (48, 40, 24)])
@pytest.mark.parametrize("kernel", KERNELS)
def test_a_team_of_threads_computes_the_same_product(kernel, blocks, threads):
    rng = np.random.default_rng(threads)
    m, n, k = 403, 301, 197  # no dimension a multiple of a tile
    assert m * n * k > own_dgemm.config().one_thread_up_to  # above the size where a second thread starts
    At, B, C = rng.standard_normal((k, m)), rng.standard_normal((k, n)), rng.standard_normal((m, n))
    expected = 0.5 * At.T @ B - C
    with own_dgemm.configured(kernel, threads, *blocks):
        lib.nk_gemm_cblas_dgemm(101, 112, 111, m, n, k, 0.5, pointer(At), m, pointer(B), n, -1.0, pointer(C), n)
    np.testing.assert_allclose(C, expected, rtol=1e-12, atol=1e-11)


@pytest.mark.parametrize("extra", [1, 13, 52])  # columns past the first B panel: an edge, and whole tiles + an edge
@pytest.mark.parametrize("row_major", [True, False])
def test_a_product_wider_than_one_b_panel_with_the_default_blocks(row_major, extra):
    """The jc loop past its first panel with the blocks the library really uses (NC capped below the L3
    it reports): C's columns are n = NC + extra, for a row-major C its rows."""
    rng = np.random.default_rng(extra)
    c = own_dgemm.config()
    wide, short, k = c.nc + extra, 64, c.kc + 5
    m, n = (wide, short) if row_major else (short, wide)
    assert m * n * k > c.one_thread_up_to  # packed, not the small products' direct path
    A, B, C = rng.standard_normal((m, k)), rng.standard_normal((k, n)), rng.standard_normal((m, n))
    expected = 2.0 * A @ B + 0.5 * C
    if not row_major:
        A, B, C = np.asfortranarray(A), np.asfortranarray(B), np.asfortranarray(C)
    order, lda, ldb, ldc = (101, k, n, n) if row_major else (102, m, k, m)
    lib.nk_gemm_cblas_dgemm(order, 111, 111, m, n, k, 2.0, pointer(A), lda, pointer(B), ldb, 0.5, pointer(C), ldc)
    np.testing.assert_allclose(C, expected, rtol=1e-12, atol=1e-10)


@pytest.mark.parametrize("kernel", KERNELS)
def test_alpha_zero_reads_neither_a_nor_b(kernel):
    A, B, C = np.full((30, 20), np.nan), np.full((20, 40), np.inf), np.ones((30, 40))
    with own_dgemm.configured(kernel):
        lib.nk_gemm_cblas_dgemm(101, 111, 111, 30, 40, 20, 0.0, pointer(A), 20, pointer(B), 40, 3.0, pointer(C), 40)
    assert (C == 3.0).all()


@settings(max_examples=60, deadline=None)
@given(st.sampled_from(own_dgemm.RUNGS), st.integers(0, 70), st.integers(0, 70), st.integers(0, 300),  # k past EDGE_K
       st.integers(0, 3), st.integers(0, 3), st.integers(0, 2**32 - 1))
def test_every_rung_multiplies_like_numpy(name, m, n, k, pad_a, pad_b, seed):
    rng = np.random.default_rng(seed)
    A = rng.standard_normal((m, k + pad_a))[:, :k]
    B = rng.standard_normal((k, n + pad_b))[:, :n]
    np.testing.assert_allclose(own_dgemm.rung(name, A, B), A @ B, rtol=1e-12, atol=1e-12 * (k + 1))


def test_the_ladder_climbs_in_the_order_the_tutorial_teaches():
    assert own_dgemm.RUNGS == ["loops, ijk", "loops, ikj", "micro-kernel, plain C", "+ SIMD intrinsics",
                               "+ packing", "+ cache blocking", "+ threads"]


@pytest.mark.parametrize("bad, message", [
    (lambda A, B: ("no such rung", A, B), "expected one of"),
    (lambda A, B: ("loops, ijk", A.astype(np.float32), B), "A: expected a 2-D float64"),
    (lambda A, B: ("loops, ijk", A, B.T), "B: expected contiguous rows"),
    (lambda A, B: ("loops, ijk", A, B[:3]), "expected A's columns to equal B's rows"),
])
def test_a_rung_refuses_what_it_cannot_read(bad, message):
    A, B = np.ones((4, 5)), np.ones((5, 6))
    with pytest.raises(ValueError, match=message):
        own_dgemm.rung(*bad(A, B))


def test_the_block_sizes_fit_the_caches_they_were_derived_from():
    c = own_dgemm.config()
    way1, way2, way3 = c.l1_bytes // c.l1_ways, c.l2_bytes // c.l2_ways, c.l3_bytes // c.l3_ways
    assert c.kernel == KERNELS[0] and c.mc % c.mr == 0 and c.nc % c.nr == 0
    assert c.kc * c.mr * 8 <= c.a_ways_l1 * way1 < (c.kc + 1) * c.mr * 8  # the A micro-panel fills its L1 ways
    assert c.kc * c.nr * 8 <= c.b_ways_l1 * way1 and c.a_ways_l1 + c.b_ways_l1 < c.l1_ways  # B beside it, one for C
    assert c.mc * c.kc * 8 <= c.a_ways_l2 * way2 < (c.mc + c.mr) * c.kc * 8  # the A block fills its L2 ways
    assert c.threads * c.mc * c.kc * 8 <= c.a_ways_l3 * way3 and c.nc <= min(c.nc_model, c.nc_cap)
    lines = own_dgemm.reasoning(c)
    assert lines[1].startswith(f"KC = {c.kc}:") and lines[2].startswith(f"MC = {c.mc}:") and lines[3].startswith(f"NC = {c.nc}:")


@pytest.mark.parametrize("kernel", KERNELS)
@settings(max_examples=30, deadline=None)
@given(ways=st.integers(1, 24), kib=st.sampled_from([16, 24, 32, 48, 64, 80, 128]))
def test_the_kc_rule_shares_l1_between_both_micro_panels_and_the_c_tile(tmp_path_factory, kernel, ways, kib):
    """Reader 36 b1: KC sized the B micro-panel alone into half of L1's ways, leaving out the A micro-panel that streams
    through beside it (KC = 341 on an 8×6 tile: B 4 ways + A 5.3 of 8). Low et al.'s model (ACM TOMS 43(2), 2016):
    one way for C, A's share ⌊(W − 1) / (1 + NR/MR)⌋ of the rest, KC filling it — so both panels fit beside C's way."""
    directory = tmp_path_factory.mktemp("caches")
    (directory / "index0").mkdir()
    for file, text in {"level": "1", "type": "Data", "size": f"{kib}K", "ways_of_associativity": str(ways)}.items():
        (directory / "index0" / file).write_text(text + "\n")
    with own_dgemm.configured(kernel):
        c = own_dgemm.config_from_caches(directory)
    way1 = c.l1_bytes // c.l1_ways
    assert (c.l1_bytes, c.l1_ways) == (kib << 10, ways)
    assert c.a_ways_l1 == max(1, (ways - 1) * c.mr // (c.mr + c.nr)) and c.kc == c.a_ways_l1 * way1 // (c.mr * 8)
    assert (c.b_ways_l1 - 1) * way1 < c.kc * c.nr * 8 <= c.b_ways_l1 * way1   # the ways B then takes, rounded up
    if (ways - 1) * c.mr >= c.mr + c.nr:   # A's share is the model's, not the floor of one way
        assert c.kc * (c.mr + c.nr) * 8 <= (ways - 1) * way1 and c.a_ways_l1 + c.b_ways_l1 + 1 <= ways
    assert c.mc * c.kc * 8 <= c.a_ways_l2 * (c.l2_bytes // c.l2_ways) and c.mc % c.mr == 0   # MC follows from KC
    said = unwrap(own_dgemm.reasoning(c)[1])
    assert said.startswith(f"KC = {c.kc}: L1 is {kib} KiB in {ways} ways of {way1} B")
    assert f"one way is left to the C tile, the other {ways - 1}" in said and f"A micro-panel ({c.mr}×KC" in said
    assert f"= {c.a_ways_l1} ways, KC = {c.a_ways_l1}·{way1} B / ({c.mr}·8 B); B then takes {c.kc * c.nr * 8} B" in said


def test_the_kc_rule_on_this_machine_and_on_an_avx512_xeon():
    """The model's figures for the two machines the book names: Zen 3's 8×6 tile in 8 ways of 4 KiB → 4 ways for A,
    KC = 256 (B 3 ways); the AVX-512 kernel's 24×8 tile in the same L1 → 5 ways, KC = 106 (B 2 ways)."""
    for mr, nr, kc, b in ((8, 6, 256, 3), (24, 8, 106, 2)):
        a = (8 - 1) * mr // (mr + nr)
        assert a * 4096 // (mr * 8) == kc and -(-kc * nr * 8 // 4096) == b and a + b + 1 <= 8
    c = own_dgemm.config()
    if (c.kernel, c.l1_bytes, c.l1_ways) == ("avx2+fma", 32 << 10, 8):
        assert (c.a_ways_l1, c.kc, c.b_ways_l1) == (4, 256, 3)


def test_the_nc_line_says_how_the_l3_ways_become_columns():
    """Reader 36 c8: "NC ≤ 10758" was the ways' columns rounded down to a multiple of NR, unsaid where it printed."""
    c = own_dgemm.config()
    way3, left = c.l3_bytes // c.l3_ways, c.l3_ways - 1 - c.a_ways_l3
    said = unwrap(own_dgemm.reasoning(c)[3])
    assert (f"the other {left}: {left}·{way3} B / ({c.kc}·8 B) = {left * way3 // (c.kc * 8)} columns, down to a "
            f"multiple of NR = {c.nr} → NC ≤ {c.nc_model}, capped at {c.nc_cap}") in said


def test_the_nc_rule_asked_of_another_l3_is_the_rule_at_the_reported_one():
    """Tutorial 8 sets NC beside the L3 reach its sweeps measured: ``config_for_l3`` asks the C rule itself. At the
    reported L3 it gives the configuration in use; NC never grows as the L3 shrinks; only the L3 fields change."""
    c = own_dgemm.config()
    asked = own_dgemm.config_for_l3(c.l3_bytes)
    assert asked.l3_bytes_from == "given" and dataclasses.replace(asked, l3_bytes_from=c.l3_bytes_from) == c
    sizes = sorted([2**20 * m for m in (1, 2, 4, 8, 16, 32, 64, 128, 256)] + [c.l3_bytes])
    rules = [own_dgemm.config_for_l3(size) for size in sizes]
    assert [r.nc_model for r in rules] == sorted(r.nc_model for r in rules)
    assert all(r.nc == max(c.nr, min(r.nc_model, r.nc_cap)) and r.nc % c.nr == 0 for r in rules)
    assert {(r.kc, r.mc, r.threads, r.l3_ways) for r in rules} == {(c.kc, c.mc, c.threads, c.l3_ways)}
    for tiny in (1, c.l3_ways - 1):   # fewer bytes than ways: no way of a byte, yet no crash
        assert own_dgemm.config_for_l3(tiny).nc == c.nr
    with pytest.raises(ValueError, match="l3_bytes: expected a positive size"):
        own_dgemm.config_for_l3(0)


def test_configured_restores_the_choice_and_refuses_unknown_kernels():
    before = own_dgemm.config()
    with own_dgemm.configured("portable", 1, 8, 16, 32) as inside:
        assert (inside.kernel, inside.threads, inside.mc, inside.kc, inside.nc) == ("portable", 1, 8, 16, 32)
    assert own_dgemm.config() == before
    with pytest.raises(ValueError, match="expected one of"):
        with own_dgemm.configured("sse9"):
            pass


def test_isamax_answers_the_integer_width_probe_as_a_64_bit_library():
    x = np.array([1.0, -5.0, 3.0, 5.0], dtype=np.float32)
    n, inc = ffi.new("int64_t *", 4), ffi.new("int64_t *", 1)
    assert lib.nk_gemm_isamax_(n, ffi.cast("float *", x.ctypes.data), inc) == 2  # 1-based, first of the largest


def test_threadpoolctl_sees_and_sets_its_threads():
    from threadpoolctl import threadpool_info, threadpool_limits

    assert any(i["internal_api"] == "nnkit" for i in threadpool_info())
    before = own_dgemm.config().threads
    with threadpool_limits(1):
        assert own_dgemm.config().threads == 1
    assert own_dgemm.config().threads == before


def test_the_bridge_calls_it_as_the_library_named_nnkit():
    from nnkit.backends.dgemm import dgemm, plan
    from nnkit.backends.libraries import get_library

    library = get_library("nnkit")
    assert library.int_width == 64 and library.symbols["cblas_dgemm"] == "nk_gemm_cblas_dgemm"
    A, B = np.random.default_rng(0).standard_normal((70, 50)), np.random.default_rng(1).standard_normal((50, 30))
    assert plan(A, B, library="nnkit").library.name == "nnkit"
    np.testing.assert_allclose(dgemm(A, B, library="nnkit"), A @ B, rtol=1e-12, atol=1e-12)


def threaded_product(seed: int, n: int = 260) -> tuple[np.ndarray, np.ndarray]:
    """nnkit's dgemm on two threads, above the size where they start: (result, numpy's)."""
    assert n**3 > own_dgemm.config().one_thread_up_to
    rng = np.random.default_rng(seed)
    A, B, C = rng.standard_normal((n, n)), rng.standard_normal((n, n)), np.empty((n, n))
    with own_dgemm.configured(threads=2):
        lib.nk_gemm_cblas_dgemm(101, 111, 111, n, n, n, 1.0, pointer(A), n, pointer(B), n, 0.0, pointer(C), n)
    return C, A @ B


def test_the_team_is_a_pool_started_once():
    import os

    threaded_product(0)
    threads, pool = len(os.listdir("/proc/self/task")), lib.nk_gemm_pool_size()
    for seed in range(20):
        got, expected = threaded_product(seed)
        np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-11)
    assert lib.nk_gemm_pool_size() == pool >= 1  # the helper of two threads, started once and kept
    assert len(os.listdir("/proc/self/task")) == threads


def test_products_from_several_python_threads_at_once_are_each_right():
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(4) as python_threads:  # one at a time gets the pool, the others run alone
        for got, expected in python_threads.map(threaded_product, range(24)):
            np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-11)


def test_a_forked_child_starts_its_own_pool():
    import multiprocessing

    threaded_product(0)  # the parent's pool exists: the child has none of its threads
    with multiprocessing.get_context("fork").Pool(1) as child:
        assert child.apply_async(_child_product_is_right, (3,)).get(timeout=60)  # a lost pool would hang


def _child_product_is_right(seed: int) -> bool:
    got, expected = threaded_product(seed)
    return bool(np.allclose(got, expected, rtol=1e-12, atol=1e-11))


@pytest.mark.parametrize("count", [pytest.param(200, id="200"), pytest.param(4000, id="4000", marks=pytest.mark.long)])
def test_the_kernels_read_nothing_past_an_operand(count):
    """Small products run the kernel on A and B in place, edges included: operands placed against an
    inaccessible page (tests/backends/guarded_operands.py) — one element read past them is a SIGSEGV."""
    import subprocess
    import sys
    from pathlib import Path

    script = Path(__file__).with_name("guarded_operands.py")
    run = subprocess.run([sys.executable, str(script), "1", str(count)], capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, f"exit {run.returncode}: {run.stderr[-500:]}"
    assert int(run.stdout) == count * len(KERNELS)


SYSFS = Path("/sys/devices/system/cpu/cpu0/cache")
FIELDS = {"line_bytes": (1, "coherency_line_size"), "l1_bytes": (1, "size"), "l1_ways": (1, "ways_of_associativity"),
          "l2_bytes": (2, "size"), "l2_ways": (2, "ways_of_associativity"), "l3_bytes": (3, "size"),
          "l3_ways": (3, "ways_of_associativity")}
GETCONF = {"line_bytes": "LEVEL1_DCACHE_LINESIZE", "l1_bytes": "LEVEL1_DCACHE_SIZE", "l1_ways": "LEVEL1_DCACHE_ASSOC",
           "l2_bytes": "LEVEL2_CACHE_SIZE", "l2_ways": "LEVEL2_CACHE_ASSOC", "l3_bytes": "LEVEL3_CACHE_SIZE",
           "l3_ways": "LEVEL3_CACHE_ASSOC"}
DEFAULTS = {"line_bytes": 64, "l1_bytes": 32 << 10, "l1_ways": 8, "l2_bytes": 512 << 10, "l2_ways": 8,
            "l3_bytes": 8 << 20, "l3_ways": 16}


def _number(text: str) -> int | None:
    """A sysfs figure as the kernel writes it ("32768K", "16"), or None where it is not a positive number up to
    1 TiB (no cache figure is larger)."""
    text = text.strip()
    scale = {"K": 2**10, "M": 2**20, "G": 2**30}.get(text[-1:], 1)
    digits = text[:-1] if scale > 1 else text
    return int(digits) * scale if digits.isdigit() and 0 < int(digits) * scale <= 2**40 else None


def _sysfs(directory: Path) -> dict:
    """Each figure of ``FIELDS`` as the cache entries under ``directory`` give it (None where they do not): the entry
    of its level whose type is Data or Unified — parsed here, apart from the C."""
    entries = {}
    for index in sorted(directory.glob("index*")):
        read = lambda name: (index / name).read_text().strip() if (index / name).is_file() else ""
        if read("type") in ("Data", "Unified") and read("level").isdigit():
            entries.setdefault(int(read("level")), index)
    found = {}
    for field, (level, name) in FIELDS.items():
        file = entries[level] / name if level in entries else None
        found[field] = _number(file.read_text()) if file and file.is_file() else None
    return found


def _fallback(field: str) -> tuple[int, str]:
    """What a figure sysfs does not give becomes: glibc's (``getconf``, apart from the C) if positive, else the default."""
    said = subprocess.run(["getconf", GETCONF[field]], capture_output=True, text=True).stdout.strip()
    return (int(said), "sysconf") if said.isdigit() and int(said) > 0 else (DEFAULTS[field], "default")


def _check_read_as(c, directory: Path) -> None:
    for field, value in _sysfs(directory).items():
        expected = (value, "sysfs") if value else _fallback(field)
        assert (getattr(c, field), getattr(c, f"{field}_from")) == expected, field


@pytest.mark.skipif(not SYSFS.is_dir(), reason="no sysfs cache directory on this machine")
def test_the_caches_in_use_are_sysfss_where_it_gives_them():
    """Reader 28 a1: glibc's sysconf gave this machine's L3 as 256 MiB where sysfs (and lscpu) say 32 MiB. The
    configuration in use takes every figure sysfs gives from sysfs, and says so."""
    c = own_dgemm.config()
    _check_read_as(c, SYSFS)
    assert own_dgemm.config_from_caches(SYSFS) == c
    lines = own_dgemm.reasoning(c)
    assert f"L3 is {c.l3_bytes // 1024} KiB in {c.l3_ways} ways" in lines[3] and "from sysfs" in lines[3]


@pytest.mark.skipif(shutil.which("getconf") is None, reason="no getconf to set the fallback beside")
def test_a_fake_sysfs_is_read_and_each_figure_it_lacks_falls_back_to_sysconf_then_the_default(tmp_path):
    """A directory laid out as sysfs's, read through ``config_from_caches``: its figures where they are numbers (the
    level matched by its `level` file and a Data or Unified type, not by the entry's number; an Instruction cache of
    the same level ignored); sysconf, then the default, where a file is missing, empty or garbage, and where the
    whole directory is missing — no crash, and blocks that fit what was read."""
    def entry(name, **files):
        (tmp_path / name).mkdir()
        for file, text in files.items():
            (tmp_path / name / file).write_text(text)

    entry("index0", level="1\n", type="Instruction\n", size="64K\n", ways_of_associativity="4\n")
    entry("index1", level="1\n", type="Data\n", size="48K\n", ways_of_associativity="12\n", coherency_line_size="")
    entry("index7", level="2\n", type="Unified\n", size="2048K\n", ways_of_associativity="garbage\n")
    entry("index3", level="3\n", type="Unified\n", size="", ways_of_associativity="-4\n")
    entry("index4", level="x", type="Unified\n", size="1K\n")
    c = own_dgemm.config_from_caches(tmp_path)
    assert (c.l1_bytes, c.l1_ways, c.l1_bytes_from, c.l2_bytes, c.l2_bytes_from) == (48 << 10, 12, "sysfs", 2 << 20, "sysfs")
    _check_read_as(c, tmp_path)
    assert c.kernel == own_dgemm.config().kernel and c.threads == own_dgemm.config().threads
    assert c.kc * c.nr * 8 <= c.b_ways_l1 * c.l1_bytes // c.l1_ways and c.mc >= c.mr and c.nc % c.nr == 0
    for text in ("", "0", "K", "32768Kb", "99999999999999999999K", "1 2", "-", "0x10"):   # garbage of every kind
        assert _number(text) is None
        (tmp_path / "index1" / "size").write_text(text)
        _check_read_as(own_dgemm.config_from_caches(tmp_path), tmp_path)
    _check_read_as(own_dgemm.config_from_caches(tmp_path / "missing"), tmp_path / "missing")
    assert own_dgemm.config() != c                                  # the configuration in use did not change


# Readers 32 b5 and 33 b4: the one-thread cut could be timed only by editing C; own_dgemm.one_thread_cut sets it at
# run time, and the library reports the threads each product ran on (own_dgemm.last_threads).

cut_calls = st.fixed_dictionaries({
    "kernel": st.sampled_from(KERNELS), "threads": st.sampled_from([1, 2, 3]), "m": st.integers(1, 80),
    "n": st.integers(1, 80), "k": st.integers(1, 40), "row_major": st.booleans(),
    "cut": st.sampled_from(["none", "zero", "one", "below", "at", "above", "huge"]), "seed": st.integers(0, 2**32 - 1),
})


def cut_value(name: str, multiply_adds: int) -> int | None:
    """The cut a generated case sets, around a product of ``multiply_adds`` (None: the kernel's own)."""
    return {"none": None, "zero": 0, "one": 1, "below": multiply_adds - 1, "at": multiply_adds,
            "above": multiply_adds + 1, "huge": 2**63 - 1}[name]


@settings(max_examples=300, deadline=None)
@given(cut_calls)
def test_the_cut_given_decides_the_threads_the_library_reports_and_the_product_equals_numpys(p):
    """Under every cut — the kernel's own, 0, and just under, at and just over the product's m·n·k — the library
    reports one thread up to the cut and, above it, the configured threads up to one per row of micro-tiles of the
    column-major C (a row-major C's columns); the product equals numpy's either way."""
    m, n, k = p["m"], p["n"], p["k"]
    cut = cut_value(p["cut"], m * n * k)
    rng = np.random.default_rng(p["seed"])
    A, B, C0 = rng.standard_normal((m, k)), rng.standard_normal((k, n)), rng.standard_normal((m, n))
    C = np.array(C0, order="C" if p["row_major"] else "F")   # a copy: C0 stays for the expected result
    A, B = (A, B) if p["row_major"] else (np.asfortranarray(A), np.asfortranarray(B))
    order, lda, ldb, ldc = (101, k, n, n) if p["row_major"] else (102, m, k, m)
    with own_dgemm.configured(p["kernel"], p["threads"]), own_dgemm.one_thread_cut(cut) as c:
        lib.nk_gemm_cblas_dgemm(order, 111, 111, m, n, k, 1.5, pointer(A), lda, pointer(B), ldb, -0.5, pointer(C), ldc)
        used = own_dgemm.last_threads()
    rows = n if p["row_major"] else m   # the column-major problem's rows: the threads split them in micro-tiles
    expected = 1 if m * n * k <= c.one_thread_up_to else min(p["threads"], -(-rows // c.mr))
    assert used == expected
    np.testing.assert_allclose(C, 1.5 * A @ B - 0.5 * C0, rtol=1e-12, atol=1e-12 * (k + 1))


@pytest.mark.parametrize("kernel", KERNELS)
def test_lifting_or_raising_the_cut_moves_a_square_product_across_it_and_the_result_stays_numpys(kernel):
    """The cases tutorial 8's Step 9 times, on each side of the kernel's cut: at its edge (the largest n with n³
    within it) a product runs on one thread by default and on two with the cut lifted (0); at twice the edge on two
    by default and on one with the cut raised to n³ — as the library reports; every result equals numpy's."""
    with own_dgemm.configured(kernel, threads=2) as c:
        edge = max(n for n in range(1, 600) if n**3 <= c.one_thread_up_to)
        for n, cuts, expected in ((edge, (None, 0), (1, 2)), (2 * edge, (None, (2 * edge) ** 3), (2, 1))):
            rng = np.random.default_rng(n)
            A, B = rng.standard_normal((n, n)), rng.standard_normal((n, n))
            used = []
            for cut in cuts:
                with own_dgemm.one_thread_cut(cut):
                    result = own_dgemm.rung("+ threads", A, B)   # the library's own method, threads and cut
                    used.append(own_dgemm.last_threads())
                np.testing.assert_allclose(result, A @ B, rtol=1e-12, atol=1e-12 * n)
            assert tuple(used) == expected


def test_the_default_cut_is_the_kernels_and_every_context_restores_the_one_before():
    default = own_dgemm.config()
    assert (default.one_thread_from, default.one_thread_up_to) == ("kernel", default.one_thread_kernel_up_to)
    with own_dgemm.one_thread_cut(100) as outer:
        assert (outer.one_thread_from, outer.one_thread_up_to) == ("given", 100)
        assert outer.one_thread_kernel_up_to == default.one_thread_kernel_up_to
        with own_dgemm.one_thread_cut(None) as inner:
            assert inner == default
        assert own_dgemm.config() == outer
        with pytest.raises(RuntimeError), own_dgemm.one_thread_cut(0):
            raise RuntimeError("a product failed inside")
        assert own_dgemm.config() == outer
        with own_dgemm.configured(threads=1):   # the cut given survives another kernel, threads or blocks
            assert own_dgemm.config().one_thread_up_to == 100
        assert own_dgemm.config() == outer
    assert own_dgemm.config() == default


@pytest.mark.parametrize("bad, error", [(-1, ValueError), (-2**40, ValueError), (2**63, ValueError),
                                        (1.5, TypeError), (256.0, TypeError), ("256", TypeError), (True, TypeError),
                                        ([0], TypeError)])
def test_a_cut_that_is_no_whole_number_of_multiply_adds_is_refused_by_name(bad, error):
    before = own_dgemm.config()
    with pytest.raises(error, match=r"^multiply_adds: expected"), own_dgemm.one_thread_cut(bad):
        pass
    assert own_dgemm.config() == before
    assert lib.nk_gemm_set_one_thread_up_to(-2) == -1 and own_dgemm.config() == before   # the C refuses it too


def test_numpy_integers_are_whole_numbers_of_multiply_adds():
    with own_dgemm.one_thread_cut(np.int64(4096)) as c:
        assert c.one_thread_up_to == 4096


@pytest.mark.parametrize("cut", [0, 1, 64**3, 10**12])
def test_reasoning_says_when_the_cut_was_given_and_which_figure_it_replaces(cut):
    default = [unwrap(line) for line in own_dgemm.reasoning()]
    with own_dgemm.one_thread_cut(cut) as c:
        lines = [unwrap(line) for line in own_dgemm.reasoning(c)]
        raw = own_dgemm.reasoning(c)
    said = next(line for line in lines if "own_dgemm.one_thread_cut" in line)
    assert said.startswith("no product is held to one thread" if cut == 0 else f"products up to {cut:,} multiply-adds")
    assert f"in place of the {c.kernel} kernel's {c.one_thread_kernel_up_to:,}" in said
    assert f"on {c.one_thread_measured_on}, a second thread stopped losing ({c.one_thread_evidence})" in said
    small = next(line for line in lines if line.startswith("small products"))
    assert f"m·n·k ≤ {c.unpacked_up_to:,} multiply-adds" in small
    assert ("held to the one-thread cut given" in small) == (c.unpacked_up_to == cut)
    assert all(len(row) <= 118 for line in raw for row in line.split("\n"))
    assert not any("own_dgemm.one_thread_cut" in line for line in default)
    assert [unwrap(line) for line in own_dgemm.reasoning()] == default


def test_the_threads_reported_before_any_product_are_none():
    script = ("from nnkit.backends import own_dgemm; import numpy as np; print(own_dgemm.last_threads());"
              "own_dgemm.rung('+ threads', np.ones((2, 2)), np.ones((2, 2))); print(own_dgemm.last_threads())")
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["0", "1"]
