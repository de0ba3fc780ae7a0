"""nnkit.backends.trace: the BLAS calls numpy really makes — and explain's prediction of them.

The corpus below runs np.dot and @ on a few hundred layouts inside ``trace()`` and checks that
:mod:`nnkit.backends.explain` predicted every recorded call: routine, flags, sizes, leading
dimensions, increments, and which array each pointer points into.
"""

from __future__ import annotations

import itertools
import sys
import threading

import numpy as np
import pytest
import traced_scripts

from nnkit.backends.explain import predict_dot, predict_matmul
from nnkit.backends.trace import LINES, Trace, remember_lines, trace

FIELDS = ("routine", "order", "transa", "transb", "uplo", "m", "n", "k", "lda", "ldb", "ldc", "incx", "incy")


def layouts(rows: int, cols: int, dtype, rng):
    """(name, matrix) in every layout numpy treats differently."""
    draw = lambda shape, order="C": np.array(rng.standard_normal(shape), dtype=dtype, order=order)  # noqa: E731
    yield "C", draw((rows, cols))
    yield "F", draw((rows, cols), "F")
    yield "T", draw((cols, rows)).T
    yield "sub", draw((rows + 2, cols + 3))[1 : 1 + rows, :cols]
    yield "Fsub", draw((rows + 2, cols), "F")[:rows]
    yield "step", draw((rows, 2 * cols))[:, ::2]
    yield "rows-step", draw((2 * rows, cols))[::2]
    yield "rev", draw((rows, cols))[::-1]
    yield "bcast", np.broadcast_to(draw((1, cols)), (rows, cols))
    raw = np.zeros(rows * cols * np.dtype(dtype).itemsize + 1, np.uint8)[1:]
    misaligned = raw.view(dtype).reshape(rows, cols)
    misaligned[...] = 1
    yield "misaligned", misaligned


def vectors(n: int, dtype, rng):
    yield "v", rng.standard_normal(n).astype(dtype)
    yield "v-step", rng.standard_normal(2 * n).astype(dtype)[::2]
    yield "v-rev", rng.standard_normal(n).astype(dtype)[::-1]


def corpus():
    rng = np.random.default_rng(0)
    pick = np.random.default_rng(1)
    for dtype in (np.float64, np.float32):
        for m, k, n in itertools.product((0, 1, 2, 5), repeat=3):
            for (la, A), (lb, B) in itertools.product(list(layouts(m, k, dtype, rng)), list(layouts(k, n, dtype, rng))):
                if pick.random() < 0.06 or (la, lb) in (("C", "C"), ("sub", "C"), ("F", "T")):
                    yield f"{np.dtype(dtype).name} {la}{A.shape}·{lb}{B.shape}", A, B
        for m, k in itertools.product((1, 3, 5), (1, 4)):
            for (la, A), (lv, v) in itertools.product(list(layouts(m, k, dtype, rng))[:6], list(vectors(k, dtype, rng))):
                yield f"{np.dtype(dtype).name} {la}{A.shape}·{lv}", A, v
                if m == k:
                    yield f"{np.dtype(dtype).name} {lv}·{la}{A.shape}", v, A
        X = rng.standard_normal((6, 4)).astype(dtype)
        yield "A·Aᵀ", X, X.T
        yield "Aᵀ·A", X.T, X
        yield "batched", rng.standard_normal((3, 4, 5)).astype(dtype), rng.standard_normal((5, 2)).astype(dtype)
        Y = rng.standard_normal((3, 4, 5)).astype(dtype)
        yield "batched A·Aᵀ", Y, Y.transpose(0, 2, 1)
        yield "1×1", rng.standard_normal((1, 1)).astype(dtype), rng.standard_normal((1, 4)).astype(dtype)
    for (la, A), (lb, B) in itertools.product(list(layouts(6, 7, np.float32, rng))[:5], list(layouts(7, 5, np.float64, rng))[:5]):
        yield f"mixed float32 {la} · float64 {lb}", A, B  # the float32 operand is cast first
    yield "mixed batched", rng.standard_normal((3, 6, 7)).astype(np.float32), rng.standard_normal((7, 5))
    yield "mixed vector · matrix", rng.standard_normal(7).astype(np.float32), rng.standard_normal((7, 5))
    yield "mixed matrix · vector", rng.standard_normal((6, 7)), rng.standard_normal(7).astype(np.float32)


CASES = list(corpus())


def mismatch(prediction, calls, A, B, out) -> str | None:
    """Why the traced calls differ from the prediction, or None when they agree."""
    if len(prediction.calls) != len(calls):
        return f"{len(prediction.calls)} predicted, {len(calls)} traced: {[c.routine for c in calls]}"
    arrays = {"A": A, "B": B, "out": out} if isinstance(out, np.ndarray) else {"A": A, "B": B}
    for want, got in zip(prediction.calls, calls):
        for f in FIELDS:
            if getattr(want, f) != getattr(got, f):
                return f"{f}: predicted {getattr(want, f)}, traced {getattr(got, f)}"
        for role in ("a", "b", "c"):
            where, address = getattr(want, role), getattr(got, role)
            if where is None:
                continue
            name, offset = where
            if name == "copy":
                if Trace.owner(address, **arrays) != "temporary":
                    return f"{role}: predicted a temporary copy, traced a pointer into {Trace.owner(address, **arrays)}"
            elif address != arrays[name].__array_interface__["data"][0] + offset:
                return f"{role}: predicted {name}+{offset}, traced {Trace.owner(address, **arrays)}"
    return None


def test_the_corpus_is_large_and_covers_every_routine():
    assert len(CASES) >= 200
    routines = {c.routine for _, A, B in CASES for p in (predict_dot, predict_matmul) for c in p(A, B).calls if A.ndim <= 2 and B.ndim <= 2}
    assert {"dgemm", "sgemm", "dsyrk", "dgemv", "sgemv", "ddot", "daxpy"} <= routines


@pytest.mark.parametrize("function", ["dot", "matmul"])
def test_explain_predicts_every_call_numpy_really_makes(function):
    run, predict = (np.dot, predict_dot) if function == "dot" else (np.matmul, predict_matmul)
    checked, failures = 0, []
    for label, A, B in CASES:
        if function == "dot" and (A.ndim > 2 or B.ndim > 2):
            continue
        with trace() as t:
            out = run(A, B)
        problem = mismatch(predict(A, B), t.calls, A, B, out)
        checked += 1
        if problem:
            failures.append(f"{label}: {problem}")
    assert not failures, f"{len(failures)} of {checked} cases differ, e.g. {failures[:5]}"
    assert checked >= 200


def test_nested_blocks_each_see_their_own_calls_and_numpy_is_restored():
    A = np.ones((4, 4))
    with trace() as outer:
        A @ A
        with trace() as inner:
            A @ A.copy()
        A @ A
    assert (len(outer.calls), len(inner.calls)) == (3, 1)
    with trace() as after:
        pass
    A @ A
    assert after.calls == []  # nothing recorded outside a block


def test_an_exception_inside_the_block_still_restores_numpy():
    A = np.ones((3, 3))
    with pytest.raises(ZeroDivisionError):
        with trace() as t:
            A @ A
            1 / 0
    assert len(t.calls) == 1
    np.testing.assert_array_equal(A @ A, np.full((3, 3), 3.0))
    for _ in range(50):  # repeated use
        with trace() as t:
            A @ A
        assert len(t.calls) == 1


def test_calls_from_other_threads_are_recorded_with_their_thread():
    A = np.ones((64, 64))
    with trace() as t:
        workers = [threading.Thread(target=lambda: [A @ A for _ in range(20)]) for _ in range(3)]
        for w in workers:
            w.start()
        for w in workers:
            w.join()
    assert len(t.calls) == 60 and len({c.thread for c in t.calls}) == 3


def test_a_call_line_reads_like_mkl_verbose():
    A, B = np.ones((2, 3)), np.ones((3, 4))
    with trace() as t:
        A @ B
    line = t.calls[0].line()
    assert line.startswith(f"NNKIT_TRACE DGEMM(RowMajor,NoTrans,NoTrans,2,4,3,1,{hex(A.ctypes.data)},3,")
    assert t.calls[0].seconds > 0


def test_the_comparison_can_fail():
    import dataclasses

    A, B = np.ones((5, 4))[:, :3], np.ones((3, 2))
    with trace() as t:
        out = np.dot(A, B)
    good = predict_dot(A, B)
    assert mismatch(good, t.calls, A, B, out) is None
    wrong = dataclasses.replace(good, calls=[dataclasses.replace(good.calls[0], lda=4)])
    assert "lda" in mismatch(wrong, t.calls, A, B, out)
    in_place = dataclasses.replace(good, calls=[dataclasses.replace(good.calls[0], a=("A", 0))])
    assert "traced temporary" in mismatch(in_place, t.calls, A, B, out)  # np.dot copied the sub-block


def test_a_training_step_makes_exactly_the_models_five_matrix_products():
    """Z1 = W1·X, Z2 = W2·A1, then dW2 = dZ2·A1ᵀ, dA1 = W2ᵀ·dZ2, dW1 = dZ1·Xᵀ — with the batch a
    column block of the shuffled data (leading dimension N, passed in place, no copy)."""
    from nnkit import model, optim, train

    n0, h, k, N, b = 64, 32, 10, 200, 16
    rng = np.random.default_rng(0)
    params = model.init([n0, h, k], np, rng)
    X = rng.standard_normal((n0, N))
    Y = np.eye(k)[:, rng.integers(0, k, N)]
    Xb, Yb = X[:, 16 : 16 + b], Y[:, 16 : 16 + b]
    with trace() as t:
        train.train_step(params, Xb, Yb, optim.SGD(0.1))
    calls = [(c.routine, c.transa, c.transb, c.m, c.n, c.k, c.lda, c.ldb, c.ldc) for c in t.calls]
    assert calls == [
        ("dgemm", "NoTrans", "NoTrans", h, b, n0, n0, N, b),  # Z1 = W1 @ X: X read in place, ldb = N
        ("dgemm", "NoTrans", "NoTrans", k, b, h, h, b, b),  # Z2 = W2 @ A1
        ("dgemm", "NoTrans", "Trans", k, h, b, b, b, h),  # dW2 = dZ2 @ A1.T
        ("dgemm", "Trans", "NoTrans", h, b, k, h, b, b),  # dA1 = W2.T @ dZ2
        ("dgemm", "NoTrans", "Trans", h, n0, b, b, N, n0),  # dW1 = dZ1 @ X.T: X again in place
    ]
    assert t.owner(t.calls[0].b, X=X) == "X" and t.owner(t.calls[4].b, X=X) == "X"


def test_the_complex_and_single_precision_siblings_are_recorded_too():
    Z, S = np.ones((3, 4), np.complex128) * (1 + 2j), np.ones((4, 5), np.float32)
    with trace() as t:
        Z @ Z.conj().T  # zgemm (the conjugate is a copy, so not one buffer)
        Z @ Z.T  # zsyrk
        np.vdot(Z[0], Z[1])  # zdotc_sub
        S.T @ S  # ssyrk
        np.dot(Z.astype(np.complex64), np.ones(4, np.complex64))  # cgemv
    assert [c.routine for c in t.calls] == ["zgemm", "zsyrk", "zdotc_sub", "ssyrk", "cgemv"]
    assert t.calls[0].alpha == 1.0 and t.calls[0].beta == 0.0  # real parts of the complex scalars
    assert len(t.hooked) == 22


def test_a_block_keeps_its_own_calls_whatever_comes_after():
    A, x = np.ones((3, 3)), np.ones(3)
    with trace() as old:
        A @ A
    with trace() as later:
        for _ in range(70_000):  # more than the ring buffer holds
            np.dot(x, x)
    assert [c.routine for c in old.calls] == ["dgemm"]
    assert len(later.calls) == 65_536 and later.dropped == 70_000 - 65_536
    assert {c.routine for c in later.calls} == {"ddot"}


def test_thread_ids_are_the_kernels():
    with trace() as t:
        np.ones((2, 2)) @ np.ones((2, 2))
    assert t.calls[0].thread == threading.get_native_id()


needs_lines = pytest.mark.skipif(not LINES, reason="lines are read from CPython 3.11's frames; this Python records none")


def lines_of_generated_scripts(seeds: range, tmp_path, remember_every: int) -> int:
    """Run each generated script under ``trace(source=its file)``; every call must carry the line and
    function the generator put its product at — found by CPython's own lookup, or (one script in
    ``remember_every``) in the line tables given by ``remember_lines``. Returns how many calls were checked."""
    checked = 0
    for seed in seeds:
        text, products = traced_scripts.script(seed)
        path = tmp_path / f"generated_{seed}.py"
        path.write_text(text)
        code = compile(text, str(path), "exec")
        if seed % remember_every == 0:
            remember_lines(code)
        with trace(source=str(path)) as t:
            exec(code, {"__name__": "__main__"})
        want = traced_scripts.calls(products)
        assert [(c.lineno, c.function) for c in t.calls] == want, f"seed {seed}:\n{text}"
        assert {c.file for c in t.calls} <= {str(path)}
        checked += len(want)
    return checked


@needs_lines
def test_every_call_carries_the_line_and_function_that_made_it(tmp_path):
    """Module level, functions, nested functions, methods, lambdas, comprehensions, generators, threads;
    products in numpy's Python code (multi_dot, tensordot, einsum) reported on the script's line."""
    assert lines_of_generated_scripts(range(200), tmp_path, remember_every=4) >= 2000  # 2 370 calls in 200 scripts


@needs_lines
@pytest.mark.long
def test_lines_of_many_generated_scripts(tmp_path):
    assert lines_of_generated_scripts(range(1000, 3000), tmp_path, remember_every=20) >= 20_000  # 23 926 calls in 2 000 scripts, ~8 s


@needs_lines
def test_by_default_the_lines_are_the_blocks_own_file():
    A = np.ones((3, 3))
    with trace() as t:
        A @ A; line = sys._getframe().f_lineno  # noqa: E702  (the same line)
    assert (t.calls[0].file, t.calls[0].lineno, t.calls[0].function) == (__file__, line, "test_by_default_the_lines_are_the_blocks_own_file")
    assert f"at {__file__}:{line} in " in t.calls[0].line() and t.calls[0].to_dict()["line"] == line


def test_calls_from_outside_the_source_carry_no_line():
    from nnkit import model

    params = model.init([4, 3, 2], np, np.random.default_rng(0))
    with trace(source="/nowhere/else.py") as t:
        model.forward(params, np.ones((4, 5)))
    assert len(t.calls) == 2 and all(c.file is c.lineno is c.function is None for c in t.calls)
    assert " at " not in t.calls[0].line() and "line" not in t.calls[0].to_dict()


@needs_lines
def test_nested_blocks_watch_both_files_then_forget_them(tmp_path):
    from nnkit.backends import trace as tracing

    other = tmp_path / "other.py"
    other.write_text("import numpy as np\ndef product(A):\n    return A @ A\n")
    namespace: dict = {}
    exec(compile(other.read_text(), str(other), "exec"), namespace)
    A = np.ones((3, 3))
    with trace() as outer:
        with trace(source=str(other)) as inner:
            namespace["product"](A)
    assert [(c.file, c.lineno) for c in inner.calls] == [(str(other), 3)]
    assert tracing._watched == []  # the last block out forgets the files
    with trace(source="/nowhere/else.py") as after:
        namespace["product"](A)
    assert after.calls[0].file is None


@needs_lines
def test_a_call_at_the_end_of_a_long_module_finds_its_line_either_way(tmp_path):
    """CPython's lookup scans the module's whole location table; the remembered table answers at once."""
    path = tmp_path / "long_module.py"
    text = "import numpy as np\n" + "".join(f"x{i} = {i} * 2\n" for i in range(3000)) + "A = np.ones((3, 3))\nA @ A\nA @ (\n  A)\n"
    path.write_text(text)
    for remember in (False, True):
        code = compile(text, str(path), "exec")
        if remember:
            remember_lines(code)
        with trace(source=str(path)) as t:
            exec(code, {})
        assert [c.lineno for c in t.calls] == [3003, 3004], remember
