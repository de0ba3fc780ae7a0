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
from nnkit.backends.layout import extent
from nnkit.backends.trace_pointers import region
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


def test_in_place_matmul_says_numpy_computes_into_a_temporary():
    """``X @= Y`` is ``np.matmul(X, Y, out=X)``: out overlaps an input, so the gemm writes a temporary
    that numpy copies back — the copy explain names is the C the call wrote."""
    recorder, calls = traced("X @= Right", X=np.ones((4, 3)), Right=np.ones((3, 3)))
    (product,) = recorder.products
    (owners,) = owners_of(recorder, calls)
    assert owners["c"] == "temporary" and owners["a"] == "X"
    assert [copy for copy in product.copies if copy.startswith("out overlaps")], product.copies


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
    return Product("@", 1, "<module>", thread, start, stop, (), [], "<f8")


def test_another_types_own_product_is_not_numpys():
    source = ("class Odd:\n    __array_ufunc__ = None  # numpy defers to its __rmatmul__\n"
              "    def __matmul__(self, other):\n        return 42\n    def __rmatmul__(self, other):\n        return 43\n"
              "a = Odd() @ Left\nb = Left @ Odd()\nc = Left @ Left\n")  # c, line 9: numpy's
    recorder, calls = traced(source, Left=np.ones((2, 2)))
    assert [(p.kind, p.lineno) for p in recorder.products] == [("@", 9)] and len(calls) == 1


def test_the_result_is_named_by_its_target_even_an_operands_and_out_by_its_text():
    """Generated statements ``T = product`` / ``product`` over K, G, H (n×n), the result assigned to an
    operand's name or another, ``out=O`` given by keyword or position: c is the out argument's text,
    else the name assigned to, else "result" — never "temporary", which is numpy's own copy."""
    rng = random.Random(5)
    forms = {"@": "{a} @ {b}", "dot": "np.dot({a}, {b}{out})", "matmul": "np.matmul({a}, {b}{out})", "method": "{a}.dot({b})"}
    seen = {"out": 0, "an operand's name": 0, "another name": 0, "result": 0}
    for case in range(400):
        form = rng.choice(list(forms))
        a, b = rng.choice(["K", "G", "K.T", "G.T"]), rng.choice(["K", "G"])
        out = rng.choice(["", ", out=O", ", O"]) if form in ("dot", "matmul") else ""
        target = rng.choice(["K", "G", "H", None])
        text = forms[form].format(a=a, b=b, out=out)
        n = rng.randint(2, 9)
        names = {name: np.random.default_rng(case).standard_normal((n, n)) for name in "KGH"}
        recorder, calls = traced(f"{target} = {text}" if target else text, O=np.empty((n, n)), **names)
        (call,) = calls
        (owners,) = owners_of(recorder, calls)
        want = "O" if out else target or "result"
        assert owners["c"] == want, (case, target, text, owners)
        seen["out" if out else "result" if not target else "an operand's name" if target in a + b else "another name"] += 1
    assert min(seen.values()) >= 40, seen


def test_a_pointer_is_an_operands_only_on_one_of_its_elements():
    """Generated ``np.matmul(X[…], B, out=X[…])``: blocks of one buffer X, out beside, below or across
    the left operand's block; each pointer is named after an array with an element there (counted
    element by element), c after out whenever out shares no memory with the operands."""
    rng = random.Random(6)
    beside = 0
    for case in range(300):
        rows, cols = rng.randint(6, 24), rng.randint(6, 24)
        m, k, n = rng.randint(1, rows // 2), rng.randint(1, cols // 2), rng.randint(1, cols // 2)
        r0, c0 = rng.randint(0, rows - m), rng.randint(0, cols - k)
        r1, c1 = rng.randint(0, rows - m), rng.randint(0, cols - n)
        left, out = f"X[{r0}:{r0 + m}, {c0}:{c0 + k}]", f"X[{r1}:{r1 + m}, {c1}:{c1 + n}]"
        X, B = np.zeros((rows, cols)), np.ones((k, n))
        recorder, calls = traced(f"np.matmul({left}, B, out={out})", X=X, B=B)
        arrays = {left: eval(left), "B": B, out: eval(out)}
        for call, owners in zip(calls, owners_of(recorder, calls)):
            for role, name in owners.items():
                address = getattr(call, role)
                holders = [text for text, x in arrays.items() if address in _element_starts(x)]
                assert (name in holders) if holders else name == "temporary", (case, left, out, role, name, holders)
            if "c" in owners and not np.shares_memory(arrays[left], arrays[out]):
                assert owners["c"] == out, (case, left, out, owners)
                low, high = extent(arrays[left])
                beside += low <= region(arrays[out])[0] < high  # out starts between the left block's elements
    assert beside >= 15, beside


def _element_starts(x: np.ndarray) -> set[int]:
    data, shape, strides, _ = region(x)
    return {data + sum(i * s for i, s in zip(index, strides)) for index in itertools.product(*(range(d) for d in shape))}
