"""nnkit.backends.instrumented: every operation recorded, the network unchanged on it."""

import inspect
import itertools
import operator
import types
import warnings

import numpy as np
import pytest
from array_api_compat import array_namespace

import array_api_compat.numpy as np_xp
import array_api_strict
from digits_training import train_digits
from nnkit import gradcheck, model, optim, train
from nnkit.backends import namespace
from nnkit.backends.instrumented import InstrumentedArray, InstrumentedNamespace, instrumented, report


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
    forward = h * b + h * b + k * b + softmax  # +b1, relu, +b2
    backward = 2 * k * b + k * b + 2 * h * b + h * b  # (A−Y)/n, Σ dZ2, (Z1>0)·dA1, Σ dZ1
    loss = 2 * k * b + 3 * b + 1  # read off the softmax: Y·P, Σ over the classes, max(·, tiny), log, Σ, /(−n)
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


# The standard's array object and namespace, name by name.


BINARY = ("add", "sub", "mul", "truediv", "floordiv", "mod", "pow", "matmul", "and", "or", "xor", "lshift", "rshift")
COMPARISONS = ("lt", "le", "gt", "ge", "eq", "ne")
SYMBOL = {"add": "+", "sub": "-", "mul": "*", "truediv": "/", "floordiv": "//", "mod": "%", "pow": "**",
          "matmul": "@", "and": "&", "or": "|", "xor": "^", "lshift": "<<", "rshift": ">>", "lt": "<", "le": "<=",
          "gt": ">", "ge": ">=", "eq": "==", "ne": "!="}
UNARY = {"__abs__": abs, "__neg__": operator.neg, "__pos__": operator.pos, "__invert__": operator.invert}
CONVERSIONS = {"__bool__": bool, "__int__": int, "__float__": float, "__complex__": complex, "__index__": operator.index}
OTHER_METHODS = ("__array_namespace__", "__dlpack__", "__dlpack_device__", "__getitem__", "__setitem__", "to_device")
ATTRIBUTES = ("dtype", "device", "mT", "ndim", "shape", "size", "T")
DTYPES = ("bool", "int8", "int16", "uint8", "int64", "float32", "float64", "complex128")


def standard_dunders() -> list[str]:
    """Every method the standard's array object has (2025.12): operators with their reflected and
    in-place forms, comparisons, unary operators, conversions and the rest."""
    operators = [f"__{p}{op}__" for op in BINARY for p in ("", "r", "i")] + [f"__{op}__" for op in COMPARISONS]
    return operators + list(UNARY) + list(CONVERSIONS) + list(OTHER_METHODS)


def as_numpy(x):
    return np.asarray(x) if isinstance(x, (np.ndarray, np.generic)) else np.from_dlpack(x)


def operand(inner, dtype: str, form: str, rng):
    """A raw array of ``inner``: 3×3 (``"array"``), 0-d (``"0-d"``), or what indexing a 1-D array gives
    (``"indexed"``: a numpy scalar on numpy, a 0-d array on strict)."""
    values = rng.integers(-3, 4, (3, 3)) if dtype != "bool" else rng.integers(0, 2, (3, 3))
    x = inner.asarray(values.astype(dtype) if dtype != "complex128" else values + 1j * rng.integers(-3, 4, (3, 3)),
                      dtype=getattr(inner, dtype))
    return {"array": x, "0-d": x[0, 0], "indexed": inner.reshape(x, (9,))[4]}[form]


def outcome(compute):
    """``("value", dtype name, numpy copy)`` or ``("raises", exception type)``."""
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        try:
            value = compute()
        except Exception as error:  # the wrapper must raise what the wrapped array raises
            return ("raises", type(error))
    raw = value._x if isinstance(value, InstrumentedArray) else value
    return ("value", str(raw.dtype), as_numpy(raw).copy()) if hasattr(raw, "__array_namespace__") else ("value", type(raw), raw)


def same(a, b) -> bool:
    if a[0] != b[0] or a[1] != b[1]:
        return False
    return a[0] == "raises" or np.array_equal(np.asarray(a[2]), np.asarray(b[2]), equal_nan=True)


CASES = list(itertools.product(DTYPES, DTYPES, ("array", "0-d", "indexed"), ("array", "0-d", "indexed", "python")))


def sampled(cases: list, count: int | None, seed: int) -> list:
    """``count`` of ``cases`` drawn without replacement by a seeded generator (all of them for None)."""
    if count is None:
        return cases
    return [cases[i] for i in np.random.default_rng(seed).choice(len(cases), count, replace=False)]


@pytest.mark.parametrize("op", BINARY + COMPARISONS)
def test_every_binary_operator_gives_what_the_wrapped_arrays_give(inner, op):
    check_binary_operator(inner, op, count=200)


@pytest.mark.long
@pytest.mark.parametrize("op", BINARY + COMPARISONS)
def test_every_binary_operator_gives_what_the_wrapped_arrays_give_on_every_case(inner, op):
    check_binary_operator(inner, op, count=None)


def check_binary_operator(inner, op: str, count: int | None) -> None:
    """``x op y``, ``y op x`` (Python scalars and arrays on the left: the reflected method), and for the
    arithmetic and bitwise ones ``x op= y``, over pairs of 8 dtypes × array, 0-d and indexed operands
    (and Python scalars on the right): ``count`` of the 768 cases, or all."""
    seed = (BINARY + COMPARISONS).index(op)
    xp, rng, checked = instrumented(inner), np.random.default_rng(seed), 0
    symbol = SYMBOL[op]
    for left_dtype, right_dtype, left_form, right_form in sampled(CASES, count, seed):
        x = operand(inner, left_dtype, left_form, rng)
        y = 2 if right_form == "python" else operand(inner, right_dtype, right_form, rng)
        wx, wy = InstrumentedArray(x, xp), (y if right_form == "python" else InstrumentedArray(y, xp))
        forward = outcome(lambda: eval(f"a {symbol} b", {"a": wx, "b": wy}))
        assert same(forward, outcome(lambda: eval(f"a {symbol} b", {"a": x, "b": y}))), (op, left_dtype, right_dtype, left_form, right_form)
        reflected = outcome(lambda: eval(f"b {symbol} a", {"a": wx, "b": wy}))
        assert same(reflected, outcome(lambda: eval(f"b {symbol} a", {"a": x, "b": y}))), ("r" + op, left_dtype, right_dtype, left_form, right_form)
        if right_form != "python" and op in BINARY:
            direct = outcome(lambda: getattr(wx, f"__r{op}__")(wy))
            assert same(direct, outcome(lambda: eval(f"b {symbol} a", {"a": x, "b": y}))), ("__r" + op, left_dtype, right_dtype)
            checked += 1
        if op in BINARY:
            (mine, mine_kept, mine_buffer), (theirs, _, theirs_buffer) = in_place(x, wy, symbol, lambda v: InstrumentedArray(v, xp)), in_place(x, y, symbol)
            assert same(mine, theirs) and mine_kept and mine_buffer == theirs_buffer, ("i" + op, left_dtype, right_dtype, left_form, right_form)
        checked += 2 + (op in BINARY)
    assert checked >= 2 * (count or len(CASES))


def in_place(x, y, symbol: str, wrap=None):
    """``t op= y`` on a fresh copy ``t`` of raw ``x`` (wrapped by ``wrap`` if given): its outcome, and
    whether ``t`` is still the same object and, for arrays, the same buffer."""
    copy = x if isinstance(x, np.generic) else array_namespace(x).asarray(x, copy=True)
    target = wrap(copy) if wrap else copy
    scope = {"t": target, "y": y}
    result = outcome(lambda: exec(f"t {symbol}= y", scope) or scope["t"])
    inner_after = scope["t"]._x if wrap and isinstance(scope["t"], InstrumentedArray) else scope["t"]
    return result, scope["t"] is target, inner_after is copy


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("form", ["array", "0-d", "indexed"])
def test_unary_operators_and_conversions_give_what_the_wrapped_arrays_give(inner, dtype, form):
    xp, rng = instrumented(inner), np.random.default_rng(DTYPES.index(dtype))
    x = operand(inner, dtype, form, rng)
    for name, function in {**UNARY, **CONVERSIONS}.items():
        assert same(outcome(lambda: function(InstrumentedArray(x, xp))), outcome(lambda: function(x))), (name, dtype, form)


def test_the_array_has_every_method_and_attribute_of_the_standard(inner):
    xp = instrumented(inner)
    x = xp.ones((2, 3))
    missing = [name for name in standard_dunders() if not callable(getattr(x, name, None))]
    missing += [name for name in ATTRIBUTES if not hasattr(x, name)]
    assert missing == [] and len(standard_dunders()) + len(ATTRIBUTES) == 67
    raw = inner.ones((2, 3))
    assert (x.shape, x.dtype, x.ndim, x.size, x.device) == (raw.shape, raw.dtype, raw.ndim, raw.size, raw.device)
    assert x.mT.shape == x.T.shape == (3, 2) and x.to_device(x.device).shape == (2, 3)
    assert x.__dlpack_device__() == raw.__dlpack_device__()
    np.testing.assert_array_equal(np.from_dlpack(x), np.ones((2, 3)))
    assert list(inspect.signature(x.__dlpack__).parameters) == list(inspect.signature(raw.__dlpack__).parameters)


def public_names(inner) -> list[str]:
    return [name for name in dir(inner) if not name.startswith("_") or name == "__array_namespace_info__"]


def signature(function) -> str:
    try:
        return str(inspect.signature(function))
    except (TypeError, ValueError) as error:  # a builtin without one: the wrapper must not invent one
        return type(error).__name__


def test_every_public_name_keeps_its_signature_callability_and_kind(inner):
    """For each public name of the wrapped namespace and of its linalg and fft: the wrapper's has the
    same signature (parameter names included), is callable exactly when it is, and a sub-namespace
    exactly when it is a module."""
    xp, checked = instrumented(inner), 0
    for prefix, wrapped, wrapper in [("", inner, xp), ("linalg.", inner.linalg, xp.linalg), ("fft.", inner.fft, xp.fft)]:
        assert set(public_names(wrapped)) <= set(dir(wrapper)), prefix
        for name in public_names(wrapped):
            mine, theirs = getattr(wrapper, name), getattr(wrapped, name)
            assert isinstance(mine, InstrumentedNamespace) == isinstance(theirs, types.ModuleType), prefix + name
            assert callable(mine) == callable(theirs), prefix + name
            if callable(theirs) and not isinstance(theirs, type):
                assert signature(mine) == signature(theirs), prefix + name
            checked += 1
    assert checked > (500 if inner is np_xp else 150)


def test_dir_of_a_fresh_namespace_lists_every_name_before_any_is_used(inner):
    fresh = InstrumentedNamespace(inner)
    assert set(public_names(inner)) <= set(dir(fresh)) and "recording" in dir(fresh)


def test_functions_of_sub_namespaces_are_functions_returning_its_arrays(inner):
    xp = instrumented(inner)
    x = xp.asarray([1.0 + 0j, 2.0, 0.0, -1.0])
    with xp.recording() as ops:
        f = xp.fft.fft(x)
        n = xp.linalg.vector_norm(x)
    assert array_namespace(f) is xp and array_namespace(n) is xp and [op.name for op in ops] == ["fft", "vector_norm"]
    np.testing.assert_allclose(as_numpy(f._x), np.fft.fft(np.array([1, 2, 0, -1.0])))


@pytest.mark.parametrize("function", ["finfo", "iinfo", "result_type", "can_cast", "isdtype"])
def test_dtype_functions_get_the_wrapped_arrays_and_dtypes(inner, function):
    """Arrays and dtypes, alone or nested in tuples and lists, reach the wrapped function unwrapped."""
    xp, checked = instrumented(inner), 0
    for dtype in DTYPES:
        raw = inner.zeros(2, dtype=getattr(inner, dtype))
        wrapped = xp.zeros(2, dtype=getattr(xp, dtype))
        calls = {"finfo": lambda a: [(a,)], "iinfo": lambda a: [(a,)], "isdtype": lambda a: [(a.dtype, ("integral", "real floating"))],
                 "result_type": lambda a: [(a, inner.int8), (a, a), (a, 1)], "can_cast": lambda a: [(a, inner.float64), (a, inner.int8)]}[function]
        for (mine, theirs) in zip(calls(wrapped), calls(raw)):
            got, expected = outcome(lambda: getattr(xp, function)(*mine)), outcome(lambda: getattr(inner, function)(*theirs))
            assert got[:2] == expected[:2] and (got[0] == "raises" or repr(got[2]) == repr(expected[2])), (function, dtype)
            checked += 1
    assert checked >= len(DTYPES)


def test_in_place_on_indexed_scalars_and_shifts_are_recorded():
    xp = instrumented(np_xp)
    a, b = xp.asarray([1, 2], dtype=xp.int8), xp.asarray([3, 4], dtype=xp.int16)
    with xp.recording() as ops:
        s = a[0]
        s += b[0]
        t = 1 << a
    assert int(s) == 4 and s.dtype == np.int16 and [int(v) for v in t] == [2, 4]
    assert [op.name for op in ops] == ["getitem", "getitem", "add", "bitwise_left_shift"]
    assert ops[2].outputs[0].shape == () and ops[3].outputs[0].shape == (2,)
