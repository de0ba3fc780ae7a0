"""nnkit.backends.explain: numpy's BLAS calls predicted from its own rules — a table of cases
checked with gdb and a call-recording shim while the rules were written down. The in-process
trace checks every prediction against what numpy really calls (the trace issue)."""

import numpy as np
import pytest

from nnkit import specs
from nnkit.backends.explain import predict, predict_dot, predict_matmul


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


# --- what the issue found explain could not say (each also in the gdb corpus, test_explain_oracle) ---
def test_a_batch_of_length_0_against_1_is_empty_and_makes_no_call():
    p = predict_matmul(np.ones((0, 27, 48)), np.ones((1, 48, 19)))
    assert p.calls == [] and p.count == 0 and "empty" in p.reason
    assert "gemm" not in predict_matmul(np.ones((0, 5, 6)), np.ones((6, 7))).reason


def test_np_dot_beyond_2d_is_one_dot_per_output_element():
    A, B = np.ones((3, 8, 5)), np.ones((5, 4))
    calls = predict_dot(A, B).calls
    assert len(calls) == 96 and {c.routine for c in calls} == {"ddot"}
    assert (calls[1].n, calls[1].incx, calls[1].incy, calls[1].a, calls[1].b) == (5, 1, 4, ("A", 0), ("B", 8))


def test_matmul_beyond_3d_is_one_gemm_per_matrix():
    calls = predict_matmul(np.ones((2, 3, 4, 5)), np.ones((5, 6))).calls
    assert [c.a for c in calls] == [("A", 160 * i) for i in range(6)] and [c.c for c in calls] == [("out", 192 * i) for i in range(6)]


def test_np_dot_into_an_out_that_overlaps_an_operand_goes_through_a_temporary():
    A = np.ones((6, 6))
    c = predict_dot(A, A[:, :6], out=A).calls[0]
    assert (c.routine, c.c) == ("dgemm", ("temp", 0))
    assert predict_dot(A, np.ones((6, 6)), out=np.empty((6, 6))).calls[0].c == ("out", 0)


def test_matmul_takes_ldc_from_out_and_an_f_ordered_out_flips_the_product():
    A, B = np.ones((29, 5)), np.ones((5, 29))
    sub = np.empty((40, 32))[3:32, :29]
    assert predict_matmul(A, B, out=sub).calls[0].ldc == 32
    c = predict_matmul(np.ones((7, 5)), np.ones((5, 3)), out=np.empty((7, 3), order="F")).calls[0]
    assert (c.transa, c.transb, c.m, c.n, c.k, c.a, c.b, c.c) == ("Trans", "Trans", 3, 7, 5, ("B", 0), ("A", 0), ("out", 0))


@pytest.mark.parametrize("dtype, routine", [(np.complex128, "zgemm"), (np.complex64, "cgemm")])
def test_complex_products_use_the_complex_routines(dtype, routine):
    A = np.ones((4, 3), dtype)
    assert predict_dot(A, np.ones((3, 2), dtype)).calls[0].routine == routine
    c = predict_matmul(A, np.ones(3, dtype)).calls[0]
    assert (c.routine, c.order, c.transa) == (routine[0] + "gemv", "ColMajor", "Trans")
    assert predict_dot(np.ones(3, dtype), np.ones(3, dtype)).calls[0].c == ("temp", 0)  # ?dotu_sub writes a scratch


def test_mixed_dtypes_are_cast_first():
    p = predict_dot(np.ones((3, 4), np.float32), np.ones((4, 2)))
    assert p.calls[0].routine == "dgemm" and p.calls[0].a == ("copy", 0) and "float32 → float64" in p.copies[0]


@pytest.mark.parametrize("function, operands, options, routines", [
    ("vdot", [np.ones((2, 3)), np.ones((2, 3))], {}, ["ddot"]),
    ("vdot", [np.ones(3, complex), np.ones(3, complex)], {}, ["zdotc_sub"]),
    ("inner", [np.ones((2, 3)), np.ones((4, 3))], {}, ["dgemm"]),
    ("outer", [np.ones(3), np.ones(4)], {}, []),
    ("tensordot", [np.ones((2, 3, 4)), np.ones((3, 4, 5))], {"axes": 2}, ["dgemm"]),
    ("einsum", [np.ones((2, 3)), np.ones((3, 4))], {"subscripts": "ij,jk->ik", "optimize": False}, []),
    ("einsum", [np.ones((2, 3)), np.ones((3, 4))], {"subscripts": "ij,jk->ik", "optimize": True}, ["dgemm"]),
    ("multi_dot", [np.ones((2, 3)), np.ones((3, 4)), np.ones((4, 5))], {}, ["dgemm", "dgemm"]),
    ("imatmul", [np.ones((3, 3)), np.ones((3, 3))], {}, ["dgemm"]),
    ("dot", [np.ones((3, 3), np.int64), np.ones((3, 3), np.int64)], {}, []),
])
def test_the_products_around_dot_and_matmul(function, operands, options, routines):
    p = predict(function, *operands, **options)
    assert [c.routine for c in p.calls] == routines and p.reason


def test_x_at_equals_y_computes_into_a_temporary():
    x = np.ones((3, 3))
    assert predict("imatmul", x, np.ones((3, 3))).calls[0].c == ("temp", 0)
