"""native/fastpath.c: the bridge's plain case in C — the same call as the Python plan, or none."""

import numpy as np
import pytest

from nnkit.backends import _fastpath, libraries
from nnkit.backends.dgemm import dgemm, plan

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
