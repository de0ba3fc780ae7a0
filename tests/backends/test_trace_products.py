"""nnkit.backends.trace_products: the products a script computes, each with its BLAS calls, explain's
copies — checked against the pointers numpy really passed — and its fallback to numpy's own loops,
checked against the calls that did (not) happen."""

from __future__ import annotations

import itertools
import random

import numpy as np
import pytest
from test_trace import layouts

from nnkit.backends.trace import trace
from nnkit.backends.trace_products import Product, Recorder, assign, compile_script

BLAS = {np.dtype(t) for t in (np.float32, np.float64, np.complex64, np.complex128)}


def traced(source: str, **names) -> tuple[Recorder, list]:
    """Run ``source`` (rewritten) with ``names`` as its globals, traced; the recorder and the calls."""
    code, sites = compile_script(source, "<products>")
    recorder = Recorder(sites)
    with trace() as t:
        exec(code, {**names, **recorder.hooks(), "np": np})
    return recorder, t.calls


def owners_of(recorder: Recorder, calls: list) -> list[dict]:
    made_by = assign([(c.number, c.thread) for c in calls], recorder.products)
    return [{r: recorder.products[i].owner(getattr(c, r)) for r in ("a", "b", "c") if getattr(c, r)} for c, i in zip(calls, made_by)]


@pytest.mark.parametrize("form", ["Left @ Right", "np.dot(Left, Right)", "Left.dot(Right)", "np.matmul(Left, Right)"])
def test_explains_copies_are_the_copies_numpy_made(form):
    """Every layout pair of the trace corpus, float64 and float32 and mixed: an operand explain says is
    copied is exactly one whose memory the gemm call does not read."""
    rng = np.random.default_rng(0)
    checked = copied = 0
    for dtypes in ((np.float64, np.float64), (np.float32, np.float32), (np.float32, np.float64)):
        for (la, A), (lb, B) in itertools.product(list(layouts(4, 3, dtypes[0], rng)), list(layouts(3, 5, dtypes[1], rng))):
            recorder, calls = traced(f"result = {form}", Left=A, Right=B)
            (product,) = recorder.products
            if [c.routine[1:] for c in calls] != ["gemm"]:
                continue
            (owners,) = owners_of(recorder, calls)
            seen = {name for name, text in zip("AB", ("Left", "Right")) if text not in (owners["a"], owners["b"])}
            assert {c[0] for c in product.copies} == seen, (la, lb, dtypes, product.copies, owners)
            assert owners["c"] == "result"
            checked += 1
            copied += bool(seen)
    assert checked >= 250 and copied >= 60, (checked, copied)


def test_a_product_without_blas_calls_is_a_fallback_and_says_why():
    """Random dtypes × shapes × forms: a product is a fallback exactly when no BLAS call happened
    during it; its reason names the dtype when BLAS has none for it."""
    rng = random.Random(0)
    kinds = [np.int8, np.int32, np.int64, np.uint16, np.bool_, np.float16, np.float32, np.float64, np.complex64,
             np.complex128, object]
    forms = ["Left @ Right", "np.dot(Left, Right)", "np.matmul(Left, Right)", "np.inner(Left, Right.T)",
             "np.einsum('ij,jk->ik', Left, Right)", "np.tensordot(Left, Right, axes=1)", "np.outer(Left, Right)"]
    fallbacks = 0
    for case in range(300):
        m, k, n = (rng.choice([1, 2, 5]) for _ in range(3))
        left = np.ones((m, k)).astype(rng.choice(kinds))
        right = np.ones((k, n)).astype(rng.choice(kinds))
        form = rng.choice(forms)
        recorder, calls = traced(f"result = {form}", Left=left, Right=right)
        (product,) = recorder.products
        made = sum(i == 0 for i in assign([(c.number, c.thread) for c in calls], recorder.products))
        assert made == len(calls), (case, form)
        if made:
            continue
        fallbacks += 1
        reason = product.fallback_reason()
        if np.dtype(product.dtype) not in BLAS:
            assert np.dtype(product.dtype).name in reason and "own loops" in reason, (case, form, reason)
        else:
            assert reason, (case, form)
    assert fallbacks >= 150


def test_only_numpys_own_functions_are_products():
    """Called by a product's name, numpy's function is a product and the script's own is not; numpy's
    under another name is not seen as one (its BLAS call is still traced, just not a product's)."""
    source = ("def dot(x, y):\n    return 0\nmine = dot(Left, Right)\ntheirs = np.dot(Left, Right)\n"
              "from numpy import dot as matmul\nalias = matmul(Left, Right)\nd = np.dot\nrenamed = d(Left, Right)\n")
    recorder, calls = traced(source, Left=np.ones((2, 3)), Right=np.ones((3, 2)))
    assert [(p.kind, p.lineno) for p in recorder.products] == [("np.dot", 4), ("np.dot", 6)] and len(calls) == 3
    assert assign([(c.number, c.thread) for c in calls], recorder.products) == [0, 1, None]


def test_in_place_matmul_is_a_product_and_keeps_its_meaning():
    A = np.ones((3, 3))
    recorder, calls = traced("X = Start\nX @= Right\nR = X", Start=A, Right=np.full((3, 3), 2.0))
    assert [p.kind for p in recorder.products] == ["@="] and len(calls) == 1
    np.testing.assert_array_equal(A, np.full((3, 3), 6.0))  # numpy's @= wrote into the array itself


def test_assign_finds_the_innermost_product_running_on_the_calls_thread():
    """Random nested and sequential product windows on two threads, against a direct search."""
    rng = random.Random(1)
    for case in range(500):
        products, position = [], 0
        for _ in range(rng.randint(0, 8)):
            thread = rng.choice([1, 2])
            start = position = position + rng.randint(0, 3)
            stop = start + rng.randint(0, 6)
            products.append(_window(thread, start, stop))
            if rng.random() < 0.4 and stop > start + 1:  # one nested inside it
                inner = rng.randint(start, stop - 1)
                products.append(_window(thread, inner, rng.randint(inner, stop)))
            position = stop
        rng.shuffle(products)
        numbers = [(n, rng.choice([1, 2])) for n in range(position + 3)]
        want = []
        for n, thread in numbers:
            inside = [i for i, p in enumerate(products) if p.thread == thread and p.start <= n < p.stop]
            starts = [products[i].start for i in inside]
            want.append({i for i in inside if products[i].start == max(starts)} if inside else {None})
        got = assign(numbers, products)
        assert all(g in w for g, w in zip(got, want)), case


def _window(thread: int, start: int, stop: int) -> Product:
    return Product("@", 1, "<module>", thread, start, stop, (), {}, "<f8")


def test_another_types_own_product_is_not_numpys():
    source = ("class Odd:\n    __array_ufunc__ = None  # numpy defers to its __rmatmul__\n"
              "    def __matmul__(self, other):\n        return 42\n    def __rmatmul__(self, other):\n        return 43\n"
              "a = Odd() @ Left\nb = Left @ Odd()\nc = Left @ Left\n")  # c, line 9: numpy's
    recorder, calls = traced(source, Left=np.ones((2, 2)))
    assert [(p.kind, p.lineno) for p in recorder.products] == [("@", 9)] and len(calls) == 1
