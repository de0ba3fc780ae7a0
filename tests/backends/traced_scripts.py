"""Generated scripts whose every BLAS call has a known line: the oracle for the tracer's lines.

:func:`script` writes a seeded random Python script from the constructs below — products written
with ``@``, ``np.dot``, ``np.matmul``, ``A.dot``, numpy's Python functions (``multi_dot``,
``tensordot``, ``einsum``), products in numpy's own loops (integer and object dtypes), copies, batches
— each placed at module level, in a function, a nested function, a method, a lambda, a
comprehension, a generator or another thread, some spread over several lines. The generator knows
where it put each product, so it knows the line (the first line of the product's expression, as
Python's own tracebacks give it), the function and the number of BLAS calls of every product.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

HEADER = """import threading
import numpy as np
rng = np.random.default_rng(0)
A = rng.standard_normal((5, 6))
B = rng.standard_normal((6, 4))
C = rng.standard_normal((4, 3))
Bt = np.asfortranarray(B)
Wide = rng.standard_normal((5, 9))
Ai = np.arange(30).reshape(5, 6)
Bi = np.arange(24).reshape(6, 4)
"""


@dataclass(frozen=True)
class Expr:
    """A product: its text (lines joined by newlines), BLAS calls made, whether numpy copies an
    operand first (explain's verdict) or computes it in its own loops (a fallback), and — for a single
    gemm — what its pointers a and b point into then (an operand's text, or a temporary copy)."""

    text: str
    calls: int
    copies: int = 0
    fallback: bool = False
    owners: tuple[str, str] | None = None


EXPRESSIONS = [
    Expr("A @ B", 1, owners=("A", "B")), Expr("np.dot(A, B)", 1, owners=("A", "B")),
    Expr("np.matmul(A, B)", 1, owners=("A", "B")), Expr("A.dot(B)", 1, owners=("A", "B")),
    Expr("np.dot(A, Bt)", 1, owners=("A", "Bt")), Expr("np.dot(Wide[:, :6], B)", 1, copies=1, owners=("temporary", "B")),
    Expr("Wide[:, :6] @ B", 1, owners=("Wide[:, :6]", "B")),
    Expr("np.linalg.multi_dot([A, B, C])", 2), Expr("np.tensordot(A, B, axes=1)", 1),
    Expr("np.einsum('ij,jk->ik', A, B, optimize=True)", 1), Expr("np.stack([A, A]) @ B", 2),
    Expr("Ai @ Bi", 0, fallback=True), Expr("np.dot(Ai, Bi)", 0, fallback=True),
    Expr("A.astype(object) @ B", 0, fallback=True), Expr("np.einsum('ij,jk->ik', A, B)", 0, fallback=True),
    Expr("np.dot(\n    A,\n    B)", 1, owners=("A", "B")), Expr("(A\n @ B)", 1, owners=("A", "B")),
    Expr("np.dot(A[::-1], B)", 1, copies=1, owners=("temporary", "B")),
]


@dataclass(frozen=True)
class Product:
    """Where one product of the script runs: line, function, how many times, and what it is."""

    lineno: int
    function: str
    times: int
    expr: Expr
    result: str = "result"  # the name its result is assigned to, as nnkit trace names it


def script(seed: int, statements: int = 12, threads: bool = True) -> tuple[str, list[Product]]:
    """A script of ``statements`` products in random places, and the products in the order they run."""
    rng = random.Random(seed)
    lines = HEADER.splitlines()
    products = []
    places = [_module, _function, _nested, _method, _comprehension, _generator] + [_thread] * threads
    for i in range(statements):
        expr = rng.choice(EXPRESSIONS)
        if "\n" not in expr.text and rng.random() < 0.15:
            place = _lambda
        else:
            place = rng.choice(places)
        body, offset, function, times = place(i, expr.text)
        products.append(Product(len(lines) + 1 + offset, function, times, expr, f"r{i}" if place is _module else "result"))
        lines.extend(body)
    return "\n".join(lines) + "\n", products


def calls(products: list[Product]) -> list[tuple[int, str]]:
    """(line, function) of every BLAS call, in the order they are made."""
    return [(p.lineno, p.function) for p in products for _ in range(p.times * p.expr.calls)]


def _indent(text: str, spaces: int) -> list[str]:
    return [" " * spaces + line for line in text.splitlines()]


def _module(i, text):
    body = _indent(f"r{i} = {text}", 0)
    return body, 0, "<module>", 1


def _function(i, text):
    return [f"def f{i}():", *_indent(f"return {text}", 4), f"f{i}()"], 1, f"f{i}", 1


def _nested(i, text):
    return ([f"def g{i}():", "    def inner():", *_indent(f"return {text}", 8), "    return inner()", f"g{i}()"],
            2, f"g{i}.<locals>.inner", 1)


def _method(i, text):
    return ([f"class K{i}:", "    def m(self):", *_indent(f"return {text}", 8), f"K{i}().m()"], 2, f"K{i}.m", 1)


def _lambda(i, text):
    return [f"h{i} = lambda: {text}", f"h{i}()"], 0, "<lambda>", 1


def _comprehension(i, text):
    return _indent(f"r{i} = [{text}\n       for _ in range(2)]", 0), 0, "<listcomp>", 2


def _generator(i, text):
    return [f"def gen{i}():", *_indent(f"yield {text}", 4), f"next(gen{i}())"], 1, f"gen{i}", 1


def _thread(i, text):
    return ([f"def work{i}():", *_indent(f"return {text}", 4), f"t{i} = threading.Thread(target=work{i})",
             f"t{i}.start()", f"t{i}.join()"], 1, f"work{i}", 1)
