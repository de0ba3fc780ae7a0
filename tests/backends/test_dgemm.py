"""nnkit.backends.dgemm — the bridge, cross-checked against numpy and across every BLAS found.

* on numpy's own library, the bridge equals ``A @ B`` bit for bit when numpy makes the same call;
* on every library, it agrees with numpy within ``(2k + 4)·eps·(|α|·|A|·|B| + |β|·|C|)``;
* it passes the arrays' own addresses for every zero-copy layout, writes nothing outside ``out``,
  and turns every invalid call into a BridgeError naming the argument — before any library sees it.
"""

from __future__ import annotations

import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nnkit.backends import libraries
from nnkit.backends.dgemm import BridgeError, dgemm, plan

LIBRARIES = [lib.name for lib in libraries.find_libraries()]
EPS = np.finfo(np.float64).eps
LAYOUTS = ["C", "F", "transposed", "row-sub", "col-sub"]  # every layout the bridge takes in place


def make(kind: str, rows: int, cols: int, rng: np.random.Generator) -> np.ndarray:
    """A (rows, cols) float64 matrix stored as ``kind``; sub-blocks have ld > their extent."""
    if kind == "C":
        return rng.standard_normal((rows, cols))
    if kind == "F":
        return np.asfortranarray(rng.standard_normal((rows, cols)))
    if kind == "transposed":
        return rng.standard_normal((cols, rows)).T
    if kind == "row-sub":
        return rng.standard_normal((rows + 3, cols + 5))[2 : 2 + rows, 1 : 1 + cols]
    if kind == "col-sub":
        return np.asfortranarray(rng.standard_normal((rows + 5, cols + 3)))[1 : 1 + rows, 2 : 2 + cols]
    raise ValueError(kind)


def guarded(kind: str, rows: int, cols: int, rng) -> tuple[np.ndarray, np.ndarray]:
    """An output sub-block of ``kind`` inside a larger buffer filled with guard values."""
    big = np.full((rows + 4, cols + 4), 7.25, order="F" if kind in ("F", "col-sub") else "C")
    out = big[2 : 2 + rows, 2 : 2 + cols]
    out[...] = rng.standard_normal((rows, cols))
    return big, out


def outside(big: np.ndarray, rows: int, cols: int) -> np.ndarray:
    mask = np.ones(big.shape, bool)
    mask[2 : 2 + rows, 2 : 2 + cols] = False
    return big[mask]


def tolerance(A, B, alpha, beta, C0, k):
    scale = abs(alpha) * (np.abs(A) @ np.abs(B)) + (abs(beta) * np.abs(C0) if C0 is not None else 0)
    return (2 * k + 4) * EPS * scale + 1e-300


dims = st.integers(min_value=2, max_value=40)


@settings(max_examples=150, deadline=None)
@given(m=dims, n=dims, k=dims, la=st.sampled_from(LAYOUTS), lb=st.sampled_from(LAYOUTS), seed=st.integers(0, 2**32 - 1))
def test_bitwise_equal_to_matmul_on_numpys_own_library(m, n, k, la, lb, seed):
    rng = np.random.default_rng(seed)
    A, B = make(la, m, k, rng), make(lb, k, n, rng)
    assert np.array_equal(dgemm(A, B), A @ B)  # same library, same call: same bits


@pytest.mark.parametrize("la", ["C", "F", "transposed"])
@pytest.mark.parametrize("lb", ["C", "F", "transposed"])
def test_bitwise_equal_to_np_dot_for_contiguous_operands(la, lb):
    rng = np.random.default_rng(1)
    A, B = make(la, 37, 23, rng), make(lb, 23, 41, rng)
    assert np.array_equal(dgemm(A, B), np.dot(A, B))


@settings(max_examples=200, deadline=None)
@given(
    library=st.sampled_from(LIBRARIES),
    interface=st.sampled_from(["cblas", "fortran"]),
    m=st.integers(1, 30), n=st.integers(1, 30), k=st.integers(1, 30),
    la=st.sampled_from(LAYOUTS), lb=st.sampled_from(LAYOUTS), lc=st.sampled_from([None, *LAYOUTS[:2], "row-sub", "col-sub"]),
    alpha=st.sampled_from([1.0, -0.5, 2.0, 0.0]), beta=st.sampled_from([0.0, 1.0, -1.5]),
    seed=st.integers(0, 2**32 - 1),
)
def test_every_library_agrees_with_numpy_within_the_error_bound(library, interface, m, n, k, la, lb, lc, alpha, beta, seed):
    rng = np.random.default_rng(seed)
    A, B = make(la, m, k, rng), make(lb, k, n, rng)
    if lc is None:
        got, C0, beta = dgemm(A, B, alpha=alpha, library=library, interface=interface), None, 0.0
    else:
        big, out = guarded(lc, m, n, rng)
        C0, guard = out.copy(), outside(big, m, n).copy()
        got = dgemm(A, B, alpha=alpha, beta=beta, out=out, library=library, interface=interface)
        assert got is out and np.array_equal(outside(big, m, n), guard)  # nothing written outside out
    want = alpha * (A @ B) + (beta * C0 if C0 is not None else 0)
    assert np.all(np.abs(got - want) <= tolerance(A, B, alpha, beta, C0, k))


@pytest.mark.parametrize("library", LIBRARIES)
@pytest.mark.parametrize("la", LAYOUTS)
@pytest.mark.parametrize("lc", ["C", "F", "row-sub", "col-sub"])
def test_no_copy_the_call_gets_the_arrays_own_addresses(library, la, lc):
    rng = np.random.default_rng(0)
    A, B = make(la, 6, 5, rng), make("row-sub", 5, 4, rng)
    _, out = guarded(lc, 6, 4, rng)
    p = plan(A, B, out=out, library=library)
    address = lambda x: x.__array_interface__["data"][0]  # noqa: E731
    assert (p.call["a"], p.call["b"], p.call["c"]) == (address(A), address(B), address(out))
    assert not p.copies and p.a is A and p.b is B and p.c is out
    p.run()
    np.testing.assert_allclose(out, A @ B, rtol=1e-13, atol=1e-13)


@pytest.mark.parametrize(
    "layout, order, transa, lda",
    [("C", "RowMajor", "NoTrans", 11), ("F", "RowMajor", "Trans", 7), ("row-sub", "RowMajor", "NoTrans", 16), ("col-sub", "RowMajor", "Trans", 12)],
)
def test_flags_and_leading_dimensions_follow_the_layout(layout, order, transa, lda):
    A = make(layout, 7, 11, np.random.default_rng(0))
    call = plan(A, np.ones((11, 3))).call
    assert (call["order"], call["transa"], call["lda"]) == (order, transa, lda)


def test_a_fortran_ordered_output_makes_a_column_major_call():
    out = np.zeros((4, 3), order="F")
    p = plan(np.ones((4, 2)), np.ones((2, 3)), out=out)
    assert (p.call["order"], p.call["transa"], p.call["transb"], p.call["ldc"]) == ("ColMajor", "Trans", "Trans", 4)
    assert not p.column_major["swapped"]


def test_row_major_call_is_the_swapped_column_major_call():
    """What a column-major library receives (and MKL_VERBOSE prints) for a row-major C."""
    p = plan(np.ones((2, 3)), np.ones((4, 3)).T)
    cm = p.column_major
    assert (cm["transa"], cm["transb"], cm["m"], cm["n"], cm["k"], cm["lda"], cm["ldb"], cm["ldc"]) == ("T", "N", 4, 2, 3, 3, 3, 4)


@pytest.mark.parametrize("library", LIBRARIES)
@pytest.mark.parametrize("m, n, k", [(0, 3, 2), (3, 0, 2), (0, 0, 0), (3, 4, 0), (1, 1, 1), (1000, 3, 2), (2, 1, 1000)])
def test_empty_tiny_and_tall_skinny(library, m, n, k):
    rng = np.random.default_rng(0)
    A, B = rng.standard_normal((m, k)), rng.standard_normal((k, n))
    out = rng.standard_normal((m, n))
    want = 2.0 * (A @ B) + 0.5 * out
    got = dgemm(A, B, alpha=2.0, beta=0.5, out=out, library=library)
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)
    assert dgemm(A, B, library=library).shape == (m, n)


def test_a_times_its_own_transpose_on_one_buffer():
    A = np.random.default_rng(0).standard_normal((30, 20))
    p = plan(A, A.T)
    assert p.call["a"] == p.call["b"]  # both read the same memory; only the output must not
    np.testing.assert_allclose(p.run(), A @ A.T, rtol=1e-13, atol=1e-13)


@pytest.mark.parametrize("target", ["A", "B"])
def test_out_overlapping_an_input_is_refused_or_copied_on_request(target):
    buf = np.random.default_rng(0).standard_normal((8, 8))
    A, B = buf[:4, :4], buf[4:, 4:]
    out = A if target == "A" else B
    with pytest.raises(BridgeError, match=f"^out: overlaps {target}"):
        dgemm(A, B, out=out)
    want = A @ B
    p = plan(A, B, out=out, copy=True)
    assert len(p.copies) == 1 and "overlaps" in p.copies[0]
    np.testing.assert_allclose(p.run(), want, rtol=1e-13)


@pytest.mark.parametrize(
    "build, reason",
    [
        (lambda a: a[::-1], "negative stride"),
        (lambda a: np.broadcast_to(a[:1], a.shape), "zero (broadcast) stride"),
        (lambda a: a[:, ::2][:, :3], "no unit stride"),
        (lambda a: a.astype(np.float32), "not float64"),
        (lambda a: a.astype(">f8"), "byte-swapped"),
        (lambda a: a.astype(np.int64), "not float64"),
    ],
    ids=["negative", "zero", "no-unit", "float32", "byteswapped", "int"],
)
def test_layouts_blas_cannot_take_are_refused_by_default_and_copied_on_request(build, reason):
    base = np.random.default_rng(0).standard_normal((6, 6))
    A, B = build(base), np.ones((6 if build(base).shape[1] == 6 else 3, 2))
    with pytest.raises(BridgeError, match=f"^A: .*{re.escape(reason)}.*copy=True"):
        dgemm(A, B)
    p = plan(A, B, copy=True)
    assert p.copies and p.copies[0].startswith("A copied") and str(A.nbytes // A.itemsize * 8) in p.copies[0]
    np.testing.assert_allclose(p.run(), np.asarray(A, np.float64) @ B, rtol=1e-13)


def test_misaligned_operand_is_refused_or_copied_on_request():
    raw = np.zeros(8 * 12 + 1, np.uint8)
    A = raw[1:].view(np.float64).reshape(3, 4)
    A[...] = np.arange(12.0).reshape(3, 4)
    with pytest.raises(BridgeError, match="^A: address .* not aligned to 8 bytes"):
        dgemm(A, np.ones((4, 2)))
    p = plan(A, np.ones((4, 2)), copy=True)
    assert p.call["a"] % 8 == 0 and "not aligned" in p.copies[0]
    np.testing.assert_array_equal(p.run(), np.asarray(A) @ np.ones((4, 2)))


def test_a_view_reaching_outside_its_buffer_is_refused_even_with_copy():
    A = np.lib.stride_tricks.as_strided(np.zeros(8), shape=(2, 4), strides=(2**33, 8))
    for copy in (False, True):
        with pytest.raises(BridgeError, match="^A: its strides .* outside"):
            dgemm(A, np.ones((4, 2)), copy=copy)


def test_a_plan_cannot_be_changed_after_its_checks():
    import dataclasses

    p = plan(np.ones((3, 4)), np.ones((4, 2)), library="reference")
    with pytest.raises(TypeError):
        p.call["lda"] = 0  # would make the reference BLAS exit the process
    with pytest.raises(dataclasses.FrozenInstanceError):
        p.a = np.ones((1000, 4))


def test_explanation_names_every_step_with_real_values():
    A, B = np.ones((5, 3)), np.ones((4, 3)).T
    text = str(plan(A, B))
    for word in ["library", "layout of A", "dtype float64", "strides (24, 8) bytes = (3, 1) elements", "C-contiguous",
                 "offset 0 bytes", "aligned", "layout of B", "F-contiguous", "shapes", "(m, k)·(k, n)", "flags",
                 "B is column-major → Trans", "ldb = 3 elements between its columns", "call", "column-major view",
                 "beside it: np.dot", "beside it: A @ B"]:
        assert word in text, word


def test_an_empty_product_says_no_call_is_made():
    text = str(plan(np.ones((4, 0)), np.ones((0, 2))))
    assert "no BLAS call: k = 0" in text


def test_the_examples_in_the_docstrings_hold():
    import doctest

    from nnkit.backends import dgemm as bridge, layout

    for module in (bridge, layout, libraries):
        assert doctest.testmod(module).failed == 0, module.__name__
