"""nnkit.backends.explain: numpy's BLAS calls predicted from its own rules — a table of cases
checked with gdb and a call-recording shim while the rules were written down. The in-process
trace checks every prediction against what numpy really calls (the trace issue)."""

import numpy as np
import pytest

from nnkit import specs
from nnkit.backends.explain import predict_dot, predict_matmul


def first(prediction):
    c = prediction.calls[0]
    return (c.routine, c.order, c.transa, c.transb, c.m, c.n, c.k, c.lda, c.ldb, c.ldc, c.a[0], c.b and c.b[0])


@pytest.mark.parametrize(
    "a, b, expected",
    [
        ("3x4", "4x5", ("dgemm", "RowMajor", "NoTrans", "NoTrans", 3, 5, 4, 4, 5, 5, "A", "B")),
        ("3x4", "4x5:F", ("dgemm", "RowMajor", "NoTrans", "Trans", 3, 5, 4, 4, 4, 5, "A", "B")),
        ("3x4:F", "4x5:F", ("dgemm", "RowMajor", "Trans", "Trans", 3, 5, 4, 3, 4, 5, "A", "B")),
        ("3x4:sub", "4x5", ("dgemm", "RowMajor", "NoTrans", "NoTrans", 3, 5, 4, 4, 5, 5, "copy", "B")),  # np.dot copies
        ("3x4:rev", "4x5", ("dgemm", "RowMajor", "NoTrans", "NoTrans", 3, 5, 4, 4, 5, 5, "copy", "B")),
        ("3x4:f32", "4x5:f32", ("sgemm", "RowMajor", "NoTrans", "NoTrans", 3, 5, 4, 4, 5, 5, "A", "B")),
    ],
)
def test_np_dot(a, b, expected):
    assert first(predict_dot(*specs.operands(a, b))) == expected


@pytest.mark.parametrize(
    "a, b, expected",
    [
        ("3x4:sub", "4x5", ("dgemm", "RowMajor", "NoTrans", "NoTrans", 3, 5, 4, 9, 5, 5, "A", "B")),  # in place, lda 9
        ("3x4:colsub", "4x5", ("dgemm", "RowMajor", "Trans", "NoTrans", 3, 5, 4, 8, 5, 5, "A", "B")),
        ("3x4:step", "4x5", ("dgemm", "RowMajor", "NoTrans", "NoTrans", 3, 5, 4, 4, 5, 5, "copy", "B")),  # matmul's own buffer
        ("3x4:F", "4x5:F", ("dgemm", "RowMajor", "Trans", "Trans", 3, 5, 4, 3, 4, 5, "A", "B")),
    ],
)
def test_matmul(a, b, expected):
    assert first(predict_matmul(*specs.operands(a, b))) == expected


@pytest.mark.parametrize("predict", [predict_dot, predict_matmul])
def test_a_times_its_transpose_is_syrk(predict):
    A = np.ones((5, 3))
    c = predict(A, A.T).calls[0]
    assert (c.routine, c.uplo, c.transa, c.n, c.k, c.lda, c.ldc) == ("dsyrk", "Upper", "NoTrans", 5, 3, 3, 5)
    assert predict(A, A.copy().T).calls[0].routine == "dgemm"  # same values, other buffer


def test_vectors_and_the_cases_without_blas():
    A, v = np.ones((3, 4)), np.ones(4)
    assert [c.routine for c in predict_dot(A, v).calls] == ["dgemv"]
    assert (predict_dot(A, v).calls[0].order, predict_matmul(A, v).calls[0].order) == ("RowMajor", "ColMajor")
    assert predict_dot(np.ones((4, 1)), np.ones((1, 3))).calls[0].routine == "dgemm"  # outer product
    assert predict_matmul(np.ones((4, 1)), np.ones((1, 3))).calls == []  # matmul: no BLAS for k = 1
    assert predict_dot(np.ones((0, 3)), np.ones((3, 2))).calls == []
    assert [c.routine for c in predict_dot(v, v).calls] == ["ddot"]


def test_batched_matmul_is_one_call_per_batch_with_moving_pointers():
    calls = predict_matmul(np.ones((3, 4, 5)), np.ones((5, 2))).calls
    assert [c.a for c in calls] == [("A", 0), ("A", 160), ("A", 320)]
    assert [c.b for c in calls] == [("B", 0)] * 3
    assert [c.c for c in calls] == [("out", 0), ("out", 64), ("out", 128)]
