"""nnkit.backends.instrumented: every operation recorded, the network unchanged on it."""

import numpy as np
import pytest
from array_api_compat import array_namespace

import array_api_compat.numpy as np_xp
import array_api_strict
from digits_training import train_digits
from nnkit import gradcheck, model, optim, train
from nnkit.backends import namespace
from nnkit.backends.instrumented import InstrumentedArray, instrumented, report


@pytest.fixture(params=[np_xp, array_api_strict], ids=["numpy", "strict"])
def inner(request):
    return request.param


def test_array_namespace_recognises_the_arrays(inner):
    xp = instrumented(inner)
    x = xp.asarray([[1.0, 2.0]])
    assert isinstance(x, InstrumentedArray) and array_namespace(x) is xp and array_namespace(x @ x.T) is xp
    assert namespace("instrumented") is instrumented(np_xp)


def test_the_network_trains_unchanged_and_bit_for_bit(inner):
    xp = instrumented(inner)
    plain, _, _ = train_digits(inner)
    with xp.recording() as ops:
        wrapped, history, _ = train_digits(xp)
    for k in plain:
        np.testing.assert_array_equal(wrapped[k], plain[k])
    assert len(ops) > 1000 and history.loss[-1] < history.loss[0]


def test_gradcheck_runs_on_it():
    xp = instrumented(np_xp)
    rng = np.random.default_rng(0)
    params = model.init([4, 5, 3], xp, rng)
    X, Y = xp.asarray(rng.standard_normal((4, 6))), xp.asarray(np.eye(3)[:, rng.integers(0, 3, 6)])
    assert max(gradcheck.relative_errors(params, X, Y).values()) < 1e-6


def test_views_copies_bytes_and_flops_are_recorded():
    xp = instrumented(np_xp)
    W, X = xp.ones((4, 3)), xp.ones((3, 8))
    with xp.recording() as ops:
        Z = W @ X
        Z.T
        Z[:, 2:5]
        xp.take(Z, xp.asarray([0, 2]), axis=1)
        xp.sum(Z, axis=1, keepdims=True)
    names = [op.name for op in ops]
    assert names == ["matmul", "permute_dims", "getitem", "asarray", "take", "sum"]
    matmul, transpose, getitem, _, take, total_op = ops
    assert (matmul.flops, matmul.bytes_read, matmul.bytes_written) == (2 * 4 * 3 * 8, (12 + 24) * 8, 32 * 8)
    assert matmul.inputs[0].strides == (24, 8) and matmul.outputs[0].c_contiguous
    assert transpose.outputs[0].new_buffer is False and transpose.outputs[0].strides == (8, 64) and transpose.bytes_written == 0
    assert getitem.outputs[0].new_buffer is False and not getitem.outputs[0].c_contiguous
    assert take.outputs[0].new_buffer is True and take.flops == 0
    assert total_op.flops == 32 and total_op.outputs[0].shape == (4, 1)


def test_recording_off_records_nothing_and_blocks_nest():
    xp = instrumented(np_xp)
    a = xp.ones(3)
    a + a
    with xp.recording() as outer:
        a + a
        with xp.recording() as inner:
            a * a
    assert [op.name for op in inner] == ["multiply"] and [op.name for op in outer] == ["add", "multiply"]
    assert xp._recorder.ops is None


def test_one_sgd_step_costs_exactly_the_analytic_flops():
    """Every operation of a training step is seen: the FLOP total matches a count by hand."""
    xp = instrumented(np_xp)
    n0, h, k, b = 64, 32, 10, 16
    rng = np.random.default_rng(0)
    params = model.init([n0, h, k], xp, rng)
    X = xp.asarray(rng.standard_normal((n0, b)))
    Y = xp.asarray(np.eye(k)[:, rng.integers(0, k, b)])
    with xp.recording() as ops:
        train.train_step(params, X, Y, optim.SGD(0.1))
    matmuls = 2 * b * (h * n0 + k * h) + 2 * b * (k * h + h * k + h * n0)  # forward; dW2, dA1, dW1
    softmax = 5 * k * b  # max, subtract, exp, sum, divide
    log_softmax = 4 * k * b + b  # max, subtract, exp, sum over k·b; log over b; subtract k·b below
    forward = h * b + h * b + k * b + softmax  # +b1, relu, +b2
    backward = 2 * k * b + k * b + 2 * h * b + h * b  # (A−Y)/n, Σ dZ2, (Z1>0)·dA1, Σ dZ1
    loss = (log_softmax + k * b) + k * b + k * b + 2  # log_softmax again, Y·logp, Σ, −, /n
    update = 2 * (h * n0 + h + k * h + k)  # p − lr·g for every parameter
    assert sum(op.flops for op in ops if op.name == "matmul") == matmuls
    assert sum(op.flops for op in ops) == matmuls + forward + backward + loss + update


def test_report_totals_per_operation():
    xp = instrumented(np_xp)
    a = xp.ones((10, 10))
    with xp.recording() as ops:
        for _ in range(3):
            a @ a
        a + a
    rows = {r["op"]: r for r in report(ops)}
    assert rows["matmul"]["count"] == 3 and rows["matmul"]["flops"] == 3 * 2000 and rows["add"]["new_buffers"] == 1


def test_bytes_follow_the_rule_for_creation_views_in_place_and_setitem():
    xp = instrumented(np_xp)
    with xp.recording() as ops:
        z = xp.zeros((100, 10))  # creates: writes 8000 bytes, reads none
        z.T  # a view: moves nothing
        z *= 2.0  # in place: reads and writes z
        z[:, 0:2] = 1.0  # writes the 100×2 region, reads the scalar (nothing)
        xp.zeros_like(z)  # reads only z's shape and dtype
    traffic = [(op.name, op.bytes_read, op.bytes_written) for op in ops]
    assert traffic == [("zeros", 0, 8000), ("permute_dims", 0, 0), ("multiply", 8000, 8000), ("setitem", 0, 1600),
                       ("zeros_like", 0, 8000)]


def test_np_array_copy_is_a_real_copy_and_numpy_on_the_left_is_recorded():
    xp = instrumented(np_xp)
    a = xp.zeros((2, 2))
    c = np.array(a, copy=True)
    c[0, 0] = 99.0
    assert float(a[0, 0]) == 0.0
    with xp.recording() as ops:
        r = np.ones((2, 2)) + a
    assert isinstance(r, InstrumentedArray) and [op.name for op in ops] == ["add"]


def test_vecdot_flops_iteration_and_recording_per_thread():
    import threading

    xp = instrumented(np_xp)
    a = xp.ones((4, 8))
    with xp.recording() as ops:
        xp.vecdot(a, a)
        other = threading.Thread(target=lambda: a + a)  # another thread's operations are not in this block
        other.start()
        other.join()
    assert [(op.name, op.flops) for op in ops] == [("vecdot", 2 * 8 * 4)]
    assert len(list(a)) == 4
    with pytest.raises(TypeError):
        list(instrumented(array_api_strict).ones((2, 3)))  # as array_api_strict itself refuses
