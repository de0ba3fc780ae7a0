"""native/fastpath.c: the bridge's plain case in C — the same call as the Python plan, or none."""

import collections
import ctypes

import numpy as np
import pytest

from nnkit.backends import _fastpath, libraries
from nnkit.backends.dgemm import BridgeError, dgemm, plan

from test_dgemm import LAYOUTS, make


@pytest.mark.parametrize("la", LAYOUTS)
@pytest.mark.parametrize("lb", LAYOUTS)
@pytest.mark.parametrize("shape", [(5, 7, 3), (1, 4, 6), (6, 1, 2), (3, 5, 1), (1, 1, 1)])
def test_the_fast_path_makes_the_plans_call(la, lb, shape):
    m, k, n = shape
    rng = np.random.default_rng(0)
    A, B = make(la, m, k, rng), make(lb, k, n, rng)
    call = plan(A, B).call
    assert _fastpath.fast_call(A, B) == (101, call["transa_code"], call["transb_code"], call["lda"], call["ldb"], call["ldc"])
    assert np.array_equal(dgemm(A, B), plan(A, B).run())  # bit for bit


@pytest.mark.parametrize("library", [lib.name for lib in libraries.find_libraries()])
def test_every_library_with_cblas_is_reached_by_the_fast_path(library):
    A, B = np.arange(12.0).reshape(3, 4), np.arange(8.0).reshape(4, 2)
    assert np.array_equal(dgemm(A, B, library=library), A @ B)


@pytest.mark.parametrize(
    "A",
    [
        np.ones((3, 4), np.float32),
        np.ones((3, 4)).astype(">f8"),
        np.ones((6, 4))[::-2],
        np.ones((3, 8))[:, ::2],
        np.lib.stride_tricks.as_strided(np.zeros(8), shape=(3, 4), strides=(64, 8)),  # outside its buffer
        np.zeros(97, np.uint8)[1:].view(np.float64).reshape(3, 4),  # misaligned
        np.ones((0, 4)),
    ],
    ids=["float32", "byteswapped", "negative", "no-unit-stride", "outside-buffer", "misaligned", "empty"],
)
def test_anything_unusual_is_left_to_the_python_checks(A):
    assert _fastpath.fast_call(A, np.ones((4, 2))) is None


def own_address(library: libraries.BlasLibrary) -> int:
    """The library's CBLAS dgemm, looked up by ctypes — not through nnkit's own lookup."""
    symbol = getattr(ctypes.CDLL(library.path), library.symbols["cblas_dgemm"])
    return ctypes.cast(symbol, ctypes.c_void_p).value


# Products whose last bits depend on each library's kernel (its accumulation order over k).
CANDIDATES = [(16, 1000, 16), (3, 777, 5), (100, 300, 100), (7, 2049, 9)]


@pytest.mark.parametrize("by_object", [False, True], ids=["by name", "by object"])  # the benchmarks pass objects
@pytest.mark.parametrize("library", [lib for lib in libraries.find_libraries() if "cblas_dgemm" in lib.symbols],
                         ids=lambda lib: lib.name)
def test_the_plain_case_takes_the_fast_path_to_the_library_named(library, by_object):
    rng = np.random.default_rng(5)
    operands = [(rng.standard_normal((m, k)), rng.standard_normal((k, n))) for m, k, n in CANDIDATES]
    by_plan = {lib.name: [plan(A, B, library=lib.name).run() for A, B in operands] for lib in libraries.find_libraries()}
    for i, (A, B) in enumerate(operands):
        calls = _fastpath.fast_calls()[0]
        C = dgemm(A, B, library=library if by_object else library.name)
        assert _fastpath.fast_calls() == (calls + 1, own_address(library))  # the fast path, to this library's dgemm
        assert np.array_equal(C, by_plan[library.name][i])  # the bits this library computes
        for other, results in by_plan.items():
            if not np.array_equal(results[i], by_plan[library.name][i]):
                assert not np.array_equal(C, results[i]), other  # not the bits another library computes
    assert any(not np.array_equal(by_plan["numpy-openblas"][i], by_plan[library.name][i]) for i in range(len(operands))) \
        or library.name in ("numpy-openblas", "openblas-pthread"), "no operands tell this library from numpy's own"


def test_calls_the_python_checks_refuse_never_take_the_fast_path():
    """Operands of every kind, generated: whatever plan() refuses, fast_call() declines and dgemm()
    refuses without a fast call; whatever plan() takes in place, fast_call() passes the same way."""
    rng = np.random.default_rng(6)
    seen = collections.Counter()
    for _ in range(3000):
        A = operand(rng, (int(rng.integers(0, 5)), 3))
        B = rng.standard_normal((3, 2))
        A, B = (A, B) if rng.random() < 0.5 else (B.T.copy(), A.T if isinstance(A, np.ndarray) and A.ndim == 2 else A)
        calls = _fastpath.fast_calls()[0]
        try:
            p = plan(A, B, explain=False)
        except BridgeError:
            seen["refused"] += 1
            assert _fastpath.fast_call(A, B) is None
            with pytest.raises(BridgeError):
                dgemm(A, B)
            assert _fastpath.fast_calls()[0] == calls
            continue
        fast = _fastpath.fast_call(A, B)
        seen["fast" if fast else "python"] += 1
        if fast is not None:
            assert not p.copies and fast == (101, p.call["transa_code"], p.call["transb_code"], p.call["lda"], p.call["ldb"], p.call["ldc"])
    assert min(seen.values()) > 100, seen


class Subclass(np.ndarray):
    """An ndarray subclass: the Python checks take it, the fast path leaves it to them."""


def operand(rng, shape):
    """Something passed as a (rows, 3) operand: any strides (zero, overlapping, negative, odd), any
    dtype, misaligned, outside its buffer, a subclass (masked, or another), or not 2-D."""
    rows, cols = shape
    kind = int(rng.integers(12))
    if kind >= 8:
        return make(LAYOUTS[int(rng.integers(len(LAYOUTS)))], rows, cols, rng)
    if kind == 0:
        return np.ma.masked_array(rng.standard_normal(shape), mask=rng.random(shape) < 0.5)
    if kind == 1:
        return rng.standard_normal(shape).view(Subclass)
    if kind == 2:
        return rng.standard_normal(shape).astype(rng.choice(["f4", ">f8", "c16", "i8", "O"]))
    if kind == 3:
        return rng.standard_normal(rows * cols)
    if kind == 4:  # strides past the end of its buffer
        return np.lib.stride_tricks.as_strided(rng.standard_normal(4), shape=shape, strides=(int(rng.integers(1, 9)) * 16, 8))
    buffer = np.zeros(8 * 200 + 8, np.uint8)
    strides = tuple(int(rng.integers(-3, 7)) * 8 + (4 if kind == 5 and rng.random() < 0.5 else 0) for _ in range(2))
    start = 800 + (int(rng.integers(1, 8)) if kind == 6 else 0)
    x = np.ndarray(shape, np.float64, buffer=buffer, offset=start, strides=strides)
    x.flags.writeable = bool(rng.random() < 0.5)
    return x
