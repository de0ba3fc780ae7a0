"""What the bridge refuses — and what it computes instead of refusing — class by class, each class
generated rather than shown by one example: complex operands, an ``out`` that cannot hold float64
results, an ``out`` whose elements overlap, operands whose rows or columns overlap, non-numeric
arrays, ``alpha``/``beta`` that are not finite real numbers, masked arrays, one file region mapped
twice, and non-finite ``alpha``/``beta`` on every library through both interfaces.

Overlap is decided here by brute force (every element's byte range), independently of the bridge.
"""

from __future__ import annotations

import math
import re
from decimal import Decimal
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.lib.stride_tricks import as_strided

from nnkit.backends import _fastpath, libraries
from nnkit.backends.dgemm import BridgeError, dgemm

LIBRARIES = [(lib.name, interface) for lib in libraries.find_libraries()
             for interface, role in (("cblas", "cblas_dgemm"), ("fortran", "dgemm")) if role in lib.symbols]
EPS = np.finfo(np.float64).eps


def overlapping(x: np.ndarray) -> bool:
    """Whether two elements of ``x`` share a byte: every element's start, sorted, compared."""
    starts = sorted(sum(i * s for i, s in zip(index, x.strides)) for index in np.ndindex(*x.shape))
    return any(b - a < x.itemsize for a, b in zip(starts, starts[1:]))


def close(got, A, B, alpha=1.0, beta=0.0, C0=None, rtol=0.0) -> bool:
    want = alpha * (A @ B) + (beta * C0 if beta else 0.0)
    bound = (2 * A.shape[1] + 4) * EPS * (abs(alpha) * (np.abs(A) @ np.abs(B)) + (abs(beta) * np.abs(C0) if beta else 0))
    return bool(np.all(np.abs(np.asarray(got, np.float64) - want) <= bound + rtol * np.abs(want) + 1e-300))


dims = st.integers(1, 6)


# --- complex operands ----------------------------------------------------------------------------
@settings(max_examples=120, deadline=None)
@given(dtype=st.sampled_from(["complex64", "complex128", "clongdouble"]), which=st.sampled_from(["A", "B"]),
       copy=st.booleans(), m=dims, n=dims, k=dims, imaginary=st.floats(-3, 3).filter(bool))
def test_complex_operands_are_refused_naming_operand_and_dtype(dtype, which, copy, m, n, k, imaginary):
    rng = np.random.default_rng(0)
    call = {"A": rng.standard_normal((m, k)), "B": rng.standard_normal((k, n))}
    call[which] = (call[which] + 1j * imaginary).astype(dtype)
    with pytest.raises(BridgeError, match=f"^{which}: dtype {np.dtype(dtype)} is complex; .*imaginary parts"):
        dgemm(**call, copy=copy)


# --- what out may be -----------------------------------------------------------------------------
OUT_DTYPES = sorted({np.dtype(t) for t in np.typecodes["All"] if np.dtype(t).itemsize}  # every numpy type
                    | {np.dtype(t) for t in (">f8", "<U5", "S5", "V8", "datetime64[s]", "timedelta64[s]")}, key=str)


@pytest.mark.parametrize("dtype", OUT_DTYPES, ids=str)
@pytest.mark.parametrize("beta", [0.0, 1.5])
def test_out_is_taken_exactly_when_its_dtype_can_hold_float64_results(dtype, beta):
    """numpy's same_kind rule, numbers only; a complex out only when beta = 0 (else its imaginary part is read and lost)."""
    rng = np.random.default_rng(1)
    A, B = rng.standard_normal((4, 3)), rng.standard_normal((3, 5))
    out = np.zeros((4, 5), dtype)
    if dtype.kind in "fiub":
        out[...] = rng.integers(-3, 4, (4, 5)).astype(dtype) if dtype.kind != "b" else True
    before = out.copy()
    holds = np.can_cast(np.float64, dtype, "same_kind") and dtype.kind in "fc" and not (dtype.kind == "c" and beta)
    if not holds:
        with pytest.raises(BridgeError, match=f"^out: dtype {re.escape(str(dtype))}"):
            dgemm(A, B, beta=beta, out=out, copy=True)
        assert np.array_equal(out, before) if dtype.kind != "V" else out.tobytes() == before.tobytes()
        return
    got = dgemm(A, B, beta=beta, out=out, copy=True)
    C0 = np.asarray(before.real if dtype.kind == "c" else before, np.float64)
    assert got is out and close(out.real if dtype.kind == "c" else out, A, B, 1.0, beta, C0, rtol=np.finfo(dtype).eps)
    assert dtype.kind != "c" or not np.any(out.imag)


def strided(rng, shape, writeable=True) -> tuple[np.ndarray, np.ndarray]:
    """A view of ``shape`` with random strides (zero, short, interleaved, negative), inside its buffer."""
    rows, cols = shape
    strides = [int(rng.integers(0, 7)) * 8 * int(rng.choice([1, 1, 1, -1])) for _ in range(2)]
    span = sum(abs(s) * (e - 1) for s, e in zip(strides, shape)) + 8
    buffer = rng.standard_normal(span // 8 + 8)
    start = 32 + sum(-s * (e - 1) for s, e in zip(strides, shape) if s < 0)
    view = np.ndarray(shape, np.float64, buffer=buffer, offset=start, strides=strides)
    view.flags.writeable = writeable
    return buffer, view


@settings(max_examples=400, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), m=dims, n=dims, k=dims, copy=st.booleans(), beta=st.sampled_from([0.0, -2.0]))
def test_an_out_whose_elements_overlap_is_refused_and_any_other_computed(seed, m, n, k, copy, beta):
    rng = np.random.default_rng(seed)
    A, B = rng.standard_normal((m, k)), rng.standard_normal((k, n))
    buffer, out = strided(rng, (m, n))
    before, C0 = buffer.copy(), out.copy()
    if overlapping(out):
        with pytest.raises(BridgeError, match="^out: its elements overlap.*several results into one place"):
            dgemm(A, B, beta=beta, out=out, copy=copy)
        assert np.array_equal(buffer, before)
        return
    try:
        dgemm(A, B, beta=beta, out=out, copy=copy)
    except BridgeError as error:
        assert not copy and str(error).startswith("out: ") and "copy=True" in str(error)
        return
    assert close(out, A, B, 1.0, beta, C0)
    first = (out.__array_interface__["data"][0] - buffer.__array_interface__["data"][0]) // 8
    touched = np.zeros(buffer.size, bool)
    for index in np.ndindex(*out.shape):
        touched[first + sum(i * s for i, s in zip(index, out.strides)) // 8] = True
    assert np.array_equal(buffer[~touched], before[~touched])  # nothing written beside out's elements


@settings(max_examples=400, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), m=dims, n=dims, k=dims, which=st.sampled_from(["A", "B"]))
def test_operands_whose_elements_overlap_say_so_and_are_copied_on_request(seed, m, n, k, which):
    rng = np.random.default_rng(seed)
    call = {"A": rng.standard_normal((m, k)), "B": rng.standard_normal((k, n))}
    _, call[which] = strided(rng, call[which].shape, writeable=False)
    x = call[which]
    if overlapping(x) and all(s > 0 for s, e in zip(x.strides, x.shape) if e > 1):
        with pytest.raises(BridgeError, match=f"^{which}: its elements overlap: .*copy=True") as error:
            dgemm(**call)
        named = [tuple(map(int, pair)) for pair in re.findall(r"\[(\d+), (\d+)\]", str(error.value))]
        if named:  # the two elements it names do overlap
            (i, j), (k, l) = named
            assert abs((k - i) * x.strides[0] + (l - j) * x.strides[1]) < x.itemsize and (i, j) != (k, l)
    assert close(dgemm(**call, copy=True), call["A"], call["B"])


def test_a_sliding_window_is_refused_for_its_overlap_not_for_its_strides():
    A = np.lib.stride_tricks.sliding_window_view(np.arange(8.0), 4)  # (5, 4), strides (8, 8)
    with pytest.raises(BridgeError, match=r"^A: its elements overlap: its rows are 32 bytes long but each starts 8 bytes"):
        dgemm(A, np.ones((4, 2)))


@pytest.mark.parametrize("dtype", ["O", "<U6", "S6", "V8", "datetime64[s]", "timedelta64[s]"])
@pytest.mark.parametrize("which", ["A", "B", "out"])
@pytest.mark.parametrize("copy", [False, True])
def test_non_numeric_arrays_are_refused_naming_the_operand(dtype, which, copy):
    rng = np.random.default_rng(2)
    call = {"A": rng.standard_normal((3, 4)), "B": rng.standard_normal((4, 2)), "out": np.zeros((3, 2))}
    call[which] = np.zeros(call[which].shape, dtype)
    with pytest.raises(BridgeError, match=f"^{which}: dtype {re.escape(str(np.dtype(dtype)))} "):
        dgemm(**call, copy=copy)


def test_a_string_array_of_numbers_is_not_parsed():
    A = np.array([["1", "2"], ["3", "4"]])
    with pytest.raises(BridgeError, match="^A: dtype <U1 is not a real number type"):
        dgemm(A, np.eye(2), copy=True)


# --- alpha and beta ------------------------------------------------------------------------------
ACCEPTED = [0, 1, -7, 2.5, np.float32(1.5), np.float16(2), np.int8(-3), np.uint64(4), np.longdouble(0.25),
            np.float64(1e300), Fraction(3, 4)]
REFUSED = [True, False, np.True_, "2", "0.5", b"1", 1j, 0j, np.complex64(1), None, [1.0], (1.0,), np.array(2.0),
           np.ones((3, 3)), Decimal("1.5"), math.nan, math.inf, -math.inf, np.float32("inf"), np.float64("nan"),
           10**400, -(10**400), object()]


@pytest.mark.parametrize("name", ["alpha", "beta"])
@pytest.mark.parametrize("value", ACCEPTED, ids=repr)
def test_real_numbers_are_taken_as_alpha_and_beta(name, value):
    rng = np.random.default_rng(3)
    A, B, out = rng.standard_normal((3, 4)), rng.standard_normal((4, 2)), rng.standard_normal((3, 2))
    C0, scalars = out.copy(), {"alpha": 1.0, "beta": 0.0, name: float(value)}
    dgemm(A, B, out=out, **{name: value})
    assert close(out, A, B, scalars["alpha"], scalars["beta"], C0)


@pytest.mark.parametrize("name", ["alpha", "beta"])
@pytest.mark.parametrize("value", REFUSED, ids=lambda v: type(v).__name__ + repr(v)[:12])
def test_anything_but_a_finite_real_number_is_refused_as_alpha_or_beta(name, value):
    out = np.zeros((3, 2))
    with pytest.raises(BridgeError, match=f"^{name}: ") as error:
        dgemm(np.ones((3, 4)), np.ones((4, 2)), out=out, **{name: value})
    assert "\n" not in str(error.value) and len(str(error.value)) < 200 and not out.any()


@pytest.mark.parametrize("library, interface", LIBRARIES)
@pytest.mark.parametrize("name", ["alpha", "beta"])
@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf])
def test_non_finite_alpha_or_beta_is_refused_on_every_library(library, interface, name, value):
    """The libraries disagree (beta = nan: BLIS gives no NaN where the others do); the bridge promises one thing."""
    out = np.ones((2, 2))
    with pytest.raises(BridgeError, match=f"^{name}: {value} is not finite; the BLAS libraries disagree"):
        dgemm(np.eye(2), np.eye(2), out=out, library=library, interface=interface, **{name: value})
    assert np.array_equal(out, np.ones((2, 2)))


@pytest.mark.parametrize("library, interface", LIBRARIES)
@pytest.mark.parametrize("beta", [0.0, 0.5])
@pytest.mark.parametrize("poison", [math.nan, math.inf, -math.inf])
def test_alpha_zero_reads_neither_operand_on_every_library(library, interface, beta, poison):
    """BLAS defines alpha = 0 as C = beta·C with A and B unread; numpy's OpenBLAS reads them (0·inf = NaN)."""
    rng = np.random.default_rng(7)
    A, B, C = rng.standard_normal((5, 3)), rng.standard_normal((3, 4)), rng.standard_normal((5, 4))
    A[1, 1], B[2, 0] = poison, poison
    out = C.copy()
    dgemm(A, B, alpha=0.0, beta=beta, out=out, library=library, interface=interface)
    assert np.array_equal(out, beta * C)
    assert np.array_equal(dgemm(A, B, alpha=0, library=library, interface=interface), np.zeros((5, 4)))


# --- masked arrays -------------------------------------------------------------------------------
@pytest.mark.parametrize("which", ["A", "B", "out"])
@pytest.mark.parametrize("copy", [False, True])
def test_masked_arrays_are_refused_never_read_as_if_unmasked(which, copy):
    rng = np.random.default_rng(4)
    call = {"A": rng.standard_normal((3, 4)), "B": rng.standard_normal((4, 2)), "out": None}
    shape = (3, 2) if which == "out" else call[which].shape
    call[which] = np.ma.masked_array(rng.standard_normal(shape), mask=rng.random(shape) < 0.5)
    calls = _fastpath.fast_calls()[0]
    with pytest.raises(BridgeError, match=f"^{which}: is a masked array; the bridge does not honour masks"):
        dgemm(**call, copy=copy)
    assert _fastpath.fast_calls()[0] == calls  # the fast path did not take it either


# --- one file mapped twice -----------------------------------------------------------------------
@pytest.mark.parametrize("seed", range(40))
def test_out_mapping_the_same_file_bytes_as_an_input_is_seen(tmp_path, seed):
    rng = np.random.default_rng(seed)
    m, k, n = (int(v) for v in rng.integers(1, 6, 3))
    which = str(rng.choice(["A", "B"]))
    shape = (m, k) if which == "A" else (k, n)
    path = tmp_path / "data.bin"
    path.write_bytes(rng.standard_normal(256).tobytes())
    first, second = (int(v) * 8 for v in rng.integers(0, 60, 2))
    operand = np.memmap(path, np.float64, "r+", offset=first, shape=shape)
    out = np.memmap(path, np.float64, "r+", offset=second, shape=(m, n))
    call = {"A": rng.standard_normal((m, k)), "B": rng.standard_normal((k, n)), which: operand}
    shared = first < second + out.nbytes and second < first + operand.nbytes  # file byte ranges meet
    A, B = np.array(call["A"]), np.array(call["B"])  # the values before anything is written
    if shared:
        with pytest.raises(BridgeError, match=f"^out: maps the same bytes of one file as {which}"):
            dgemm(**call, out=out)
    else:
        dgemm(**call, out=out)
        assert close(out, A, B)
    dgemm(**call, out=out, copy=True)
    assert close(out, A, B)
