"""Invalid calls to the bridge, generated: each one a BridgeError naming the argument, raised
before any library is called — on every library, the reference BLAS (which exits the process on
a bad argument) included — with ``out`` and the memory around it untouched.

1 000 cases run by default; ``pytest -m long`` runs 50 000 (``.ci/run`` runs them in CI). Values past
2³¹ − 1 are generated only where a library takes 32-bit integers; the test of that limit on every
such library, every argument, skips with its reason where there is none.
"""

from __future__ import annotations

import functools
import mmap

import numpy as np
import pytest

from nnkit.backends import _fastpath, libraries
from nnkit.backends.dgemm import BridgeError, dgemm, plan

LIBRARIES = libraries.find_libraries()
LP64 = [lib for lib in LIBRARIES if lib.int_width == 32]


def bad_matrix(rng, rows: int, cols: int):
    """Something that is not a usable (rows, cols) float64 matrix, and never a valid one."""
    good = rng.standard_normal((rows, cols))
    choices = [
        lambda: good.astype(rng.choice([np.float32, np.int64, np.complex128, np.bool_, np.float16])),
        lambda: good.astype(">f8"),
        lambda: good.tolist(),
        lambda: None,
        lambda: 3.0,
        lambda: "matrix",
        lambda: good.ravel(),
        lambda: good[None],
        lambda: np.float64(1.0),
        lambda: rng.standard_normal((rows * 2, cols))[::-2],
        lambda: rng.standard_normal((rows, cols * 2))[:, ::-2],
        lambda: np.broadcast_to(good[:1], (max(rows, 2), cols)) if rows < 2 else np.broadcast_to(good[:1], (rows, cols)),
        lambda: np.broadcast_to(good[:, :1], (rows, max(cols, 2))) if cols < 2 else np.broadcast_to(good[:, :1], (rows, cols)),
        lambda: rng.standard_normal((rows * 2, cols * 2))[::2, ::2],
        lambda: np.zeros(rows * cols * 8 + 8, np.uint8)[int(rng.integers(1, 8)) :][: rows * cols * 8].view(np.float64).reshape(rows, cols),
        lambda: np.array([[object()] * cols] * rows, dtype=object),
    ]
    return choices[int(rng.integers(len(choices)))]()


def generate(rng):
    """One invalid call: (kwargs for dgemm, the argument its error must name, guard buffer or None)."""
    m, n, k = (int(x) for x in rng.integers(2, 9, size=3))
    lib = LIBRARIES[int(rng.integers(len(LIBRARIES)))].name
    A, B = rng.standard_normal((m, k)), rng.standard_normal((k, n))
    big = rng.standard_normal((m + 4, n + 4))
    out = big[2 : 2 + m, 2 : 2 + n]
    call = {"A": A, "B": B, "library": lib}
    kind = int(rng.integers(13 if LP64 else 12))
    if kind == 0:
        return {**call, "A": bad_matrix(rng, m, k)}, "A", None
    if kind == 1:
        return {**call, "B": bad_matrix(rng, k, n)}, "B", None
    if kind == 2:
        return {**call, "B": rng.standard_normal((k + int(rng.integers(1, 4)), n))}, "B", None
    if kind == 3:
        bad_out = None
        while bad_out is None:  # out=None is valid: it asks for a new array
            bad_out = bad_matrix(rng, m, n)
        return {**call, "out": bad_out}, "out", bad_out if isinstance(bad_out, np.ndarray) else None
    if kind == 4:
        wrong = rng.standard_normal((m + int(rng.integers(1, 3)), n))
        return {**call, "out": wrong}, "out", wrong
    if kind == 5:
        out.flags.writeable = False
        return {**call, "out": out}, "out", big
    if kind == 6:  # out overlapping an input: the same buffer, or a slice of it
        shared = rng.standard_normal((max(m, k) + n + 2, max(m, k) + n + 2))
        A = shared[:m, :k]
        return {**call, "A": A, "out": shared[1 : 1 + m, 1 : 1 + n]}, "out", shared
    if kind == 7:
        return {**call, "beta": float(rng.choice([1.0, -2.0, 0.5]))}, "beta", None
    if kind == 8:
        name = str(rng.choice(["alpha", "beta"]))
        return {**call, "out": out, name: [None, "x", 1j, [1.0, 2.0], np.ones(2), object()][int(rng.integers(6))]}, name, big
    if kind == 9:  # an unknown name, or not a name at all (unhashable too)
        return {**call, "library": ["atlas", "", "OpenBLAS", ["mkl"], 3, b"mkl"][int(rng.integers(6))]}, "library", None
    if kind == 10:
        return {**call, "interface": ["fortran77", "c", "CBLAS", ["cblas"], 1, b"cblas"][int(rng.integers(6))]}, "interface", None
    if kind == 11:  # strides reaching outside the buffer (as_strided makes such views): never passed on
        base = np.zeros((2, 4))
        A = np.lib.stride_tricks.as_strided(base, shape=(3, 4), strides=(int(rng.integers(5, 2**20)) * 8, 8))
        return {"A": A, "B": np.ones((4, 3)), "library": lib}, "A", None
    # kind 12: a dimension or leading dimension past 2**31 - 1 on an LP64 library
    lib = LP64[int(rng.integers(len(LP64)))].name
    call, name = past_32_bits(rng, str(rng.choice(["m", "lda"])))
    return {**call, "library": lib}, name, None


def past_32_bits(rng, name: str) -> tuple[dict, str]:
    """A call whose ``name`` (m, n, k, lda, ldb or ldc) is past 2**31 - 1, in a real (sparse, never
    touched) buffer that large: an LP64 library must see it refused, never truncated."""
    huge = 2**31 + int(rng.integers(0, 2**20))
    view = functools.partial(np.lib.stride_tricks.as_strided, huge_buffer())
    calls = {
        "m": {"A": view(shape=(huge, 1), strides=(8, 8)), "B": np.ones((1, 3))},
        "n": {"A": np.ones((3, 1)), "B": view(shape=(1, huge), strides=(8, 8))},
        "k": {"A": view(shape=(1, huge), strides=(8, 8)), "B": view(shape=(huge, 1), strides=(8, 8))},
        "lda": {"A": view(shape=(2, 4), strides=(huge * 8, 8)), "B": np.ones((4, 3))},
        "ldb": {"A": np.ones((3, 4)), "B": view(shape=(4, 2), strides=(8, huge * 8))},
        "ldc": {"A": np.ones((2, 3)), "B": np.ones((3, 4)), "out": view(shape=(2, 4), strides=(huge * 8, 8))},
    }
    return calls[name], name


@functools.cache
def huge_buffer() -> np.ndarray:
    """17 GiB of address space, reserved but never touched (no memory is used)."""
    no_reserve = getattr(mmap, "MAP_NORESERVE", 0x4000)  # Linux's value; Python < 3.12 does not name it
    flags = mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS | no_reserve
    return np.frombuffer(mmap.mmap(-1, 17 * 2**30, flags=flags), dtype=np.float64)


def check(cases: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    for i in range(cases):
        call, name, guard = generate(rng)
        before = guard.copy() if guard is not None else None
        with pytest.raises(BridgeError) as error:
            dgemm(**call)
        assert str(error.value).startswith(f"{name}:"), (i, name, str(error.value))
        assert "\n" not in str(error.value)
        if guard is not None:
            assert np.array_equal(guard, before, equal_nan=guard.dtype.kind in "fc"), (i, "memory around out changed")


@pytest.mark.parametrize("library", LP64 or [None], ids=lambda lib: lib.name if lib else "none")
@pytest.mark.parametrize("interface", [None, "cblas", "fortran"])
def test_every_value_past_32_bits_is_refused_on_every_32_bit_library(library, interface):
    if library is None:
        pytest.skip("no BLAS library with 32-bit integers here (Debian's OpenBLAS, reference BLAS, BLIS or mkl; "
                    ".ci/run installs them): nothing to check the limit on")
    rng = np.random.default_rng(31)
    for name in ("m", "n", "k", "lda", "ldb", "ldc") * 10:
        call, name = past_32_bits(rng, name)
        with pytest.raises(BridgeError, match=f"^{name}: [0-9]+ does not fit the 32-bit integers of {library.name}"):
            dgemm(**call, library=library.name, interface=interface)


@pytest.mark.parametrize("side", [2**26, 2**31])  # results of 2**55 and 2**65 bytes: past any address space
def test_a_result_or_copy_too_large_to_allocate_is_refused_naming_it(side):
    view = functools.partial(np.lib.stride_tricks.as_strided, huge_buffer())
    operands = [(view(shape=(side, 1), strides=(8, 8)), view(shape=(1, side), strides=(8, 8)))]  # the Python way
    if side == 2**26:  # numpy's own (calloc'd, never touched) memory: the fast path tries first
        operands.append((np.zeros((side, 1)), np.zeros((1, side))))
    for A, B in operands:
        calls = _fastpath.fast_calls()[0]
        for make in (lambda: dgemm(A, B), lambda: plan(A, B).run()):
            with pytest.raises(BridgeError, match=rf"^out: a float64 array of shape \({side}, {side}\) needs {side * side * 8} bytes"):
                make()
        assert _fastpath.fast_calls()[0] == calls
    tall = np.broadcast_to(np.float32(1), (side, 2**22))  # no memory of its own; a copy: past 2**47 bytes
    with pytest.raises(BridgeError, match=rf"^A: a float64 array of shape \({side}, 4194304\) needs {side * 2**25} bytes"):
        dgemm(tall, np.ones((2**22, 1)), copy=True)


def test_a_thousand_invalid_calls_are_refused_cleanly():
    check(1000, seed=2026)


@pytest.mark.long
def test_fifty_thousand_invalid_calls_are_refused_cleanly():
    check(50_000, seed=1)
