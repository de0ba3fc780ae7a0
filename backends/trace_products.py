"""The matrix products a traced script asks for — each with the BLAS calls it made, the operands numpy
copied first and why, or the reason it made no BLAS call at all.

:func:`compile_script` compiles a script with every ``a @ b`` and ``x @= b``, and every call of a
function named like a product (``dot``, ``matmul``, ``vdot``, ``inner``, ``outer``, ``tensordot``,
``einsum``, ``multi_dot``, ``kron``), routed through a :class:`Recorder`. At run time the recorder
checks that the function called really is numpy's (``from numpy import dot as matmul`` counts, a
function of the script's own called ``dot`` does not; numpy's under another name, ``d = np.dot``, is
not seen — its BLAS calls are still traced, as no product's; nor is a product whose result is not
numpy's, such as another type's own ``__matmul__``), then notes the tracer's position before and
after — the BLAS calls recorded in between, on the same thread, are that product's — and the
operands' memory.
explain's rules (:func:`~nnkit.backends.explain.predict_dot`, :func:`~nnkit.backends.explain.predict_matmul`)
say which operands numpy copies first, and why; a product during which no BLAS call happened was
computed by numpy's own loops — a *fallback*.
"""

from __future__ import annotations

import ast
import sys
import threading
import weakref
from dataclasses import dataclass, field, fields
from functools import partial
from types import CodeType
from typing import Callable

import numpy as np

from nnkit.backends._native import lib as native
from nnkit.backends.explain import predict, predict_dot, predict_matmul
from nnkit.backends.trace_pointers import Region, holder, region

__all__ = ["PRODUCT_NAMES", "Product", "Recorder", "Site", "assign", "compile_script"]

PRODUCT_NAMES = ("dot", "matmul", "vdot", "inner", "outer", "tensordot", "einsum", "multi_dot", "kron")
_BLAS_DTYPES = {np.dtype(t) for t in (np.float32, np.float64, np.complex64, np.complex128)}
_HOOK_PRODUCT, _HOOK_INPLACE, _HOOK_CALL = "__nnkit_product__", "__nnkit_inplace_product__", "__nnkit_call__"


@dataclass(frozen=True)
class Site:
    """One place in the source that may make a product: its line, the text of its operands
    (``as_method``: of ``x`` and ``y`` when ``x.dot(y)`` turns out to be ndarray's method), and
    ``result``: the name the result is assigned to when the statement is ``name = …``; ``out``: the
    text of the ``out`` argument."""

    lineno: int
    operands: tuple[str, ...]
    as_method: tuple[str, ...] = ()
    result: str = "result"
    elements: tuple[str, ...] = ()  # the texts of the first operand's items when it is a list: multi_dot([A, B])
    out: str = "out"


@dataclass
class Product:
    """One product the script computed: which function (``kind``: ``@``, ``@=``, ``np.dot``,
    ``ndarray.dot``, …), where (line, function), on which thread, the tracer's records
    ``[start, stop)`` made meanwhile, its operands (source text), the memory of its operands, ``out``
    and result then (``(name, region)`` pairs, see :mod:`~nnkit.backends.trace_pointers`), the dtype
    of its result, and explain's copies and reason for it (``predicted``: whether explain's rules
    cover this case)."""

    kind: str
    lineno: int
    function: str
    thread: int
    start: int
    stop: int
    operands: tuple[str, ...]
    memory: list[tuple[str, Region]]
    dtype: str
    copies: list[str] = field(default_factory=list)
    reason: str = ""
    predicted: bool = False

    def fallback_reason(self) -> str:
        """Why a product that made no BLAS call did not: explain's reason, or the dtypes'."""
        if np.dtype(self.dtype) not in _BLAS_DTYPES:
            return f"{np.dtype(self.dtype).name}: numpy's own loops (BLAS takes float32/64 and complex64/128 only)"
        return self.reason if self.predicted else "numpy's own loops"

    def owner(self, address: int) -> str:
        """Which of the operands (by source text), ``out`` (by its text) and the result (by the name it
        is assigned to) has an element at ``address`` when the product ran (see
        :func:`~nnkit.backends.trace_pointers.holder`), or ``"temporary"``: memory numpy allocated for
        the product (a copy of an operand)."""
        return holder(address, self.memory) or "temporary"

    def record(self) -> list:
        """Every field in order, for JSON: :meth:`from_record` makes the product again. (A list: a dict,
        or ``asdict``'s deep copy, costs µs more a product.)"""
        return [getattr(self, f.name) for f in fields(self)]

    @classmethod
    def from_record(cls, record: list) -> "Product":
        product = cls(*record)
        product.operands, product.memory = tuple(product.operands), [tuple(m) for m in product.memory]
        return product

    def to_dict(self) -> dict:
        return {"kind": self.kind, "line": self.lineno, "function": self.function, "dtype": np.dtype(self.dtype).name,
                "operands": list(self.operands), "copies": self.copies, "reason": self.reason}


def compile_script(source: str, path: str) -> tuple[CodeType, list[Site]]:
    """The script's code, compiled under ``path`` with its products routed through the recorder's
    hooks (see :meth:`Recorder.hooks`), and the sites, indexed as the hooks receive them."""
    tree = ast.parse(source, path)
    rewriter = _Rewriter(source)
    tree = ast.fix_missing_locations(rewriter.visit(tree))
    return compile(tree, path, "exec", dont_inherit=True), rewriter.sites


class _Rewriter(ast.NodeTransformer):
    def __init__(self, source: str):
        self.source, self.sites, self._targets = source, [], {}

    def _site(self, node: ast.AST, operands: list[ast.expr], as_method: list[ast.expr] = ()) -> ast.Constant:
        items = operands[0].elts if operands and isinstance(operands[0], (ast.List, ast.Tuple)) else []
        self.sites.append(Site(node.lineno, self._texts(operands), self._texts(as_method), self._targets.get(id(node), "result"),
                               self._texts(items), self._out_text(node)))
        return ast.Constant(len(self.sites) - 1)

    def _texts(self, nodes: list[ast.expr]) -> tuple[str, ...]:
        return tuple(_short(ast.get_source_segment(self.source, n) or "?") for n in nodes)

    def _out_text(self, node: ast.AST) -> str:
        """The text of a call's ``out`` argument: ``out=O``, or the third positional one of dot and matmul."""
        if not isinstance(node, ast.Call):
            return "out"
        out = next((k.value for k in node.keywords if k.arg == "out"), None)
        name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", None)
        if out is None and name in ("dot", "matmul") and len(node.args) > 2 and not isinstance(node.args[2], ast.Starred):
            out = node.args[2]
        return self._texts([out])[0] if out is not None else "out"

    def visit_Assign(self, node: ast.Assign) -> ast.AST:
        if len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            self._targets[id(node.value)] = node.targets[0].id
        return self.generic_visit(node)

    def visit_BinOp(self, node: ast.BinOp) -> ast.AST:
        if not isinstance(node.op, ast.MatMult):
            return self.generic_visit(node)
        site = self._site(node, [node.left, node.right])
        self.generic_visit(node)
        call = ast.Call(ast.Name(_HOOK_PRODUCT, ast.Load()), [site, node.left, node.right], [])
        return ast.copy_location(call, node)

    def visit_AugAssign(self, node: ast.AugAssign) -> ast.AST:
        if not (isinstance(node.op, ast.MatMult) and isinstance(node.target, ast.Name)):
            return self.generic_visit(node)  # x[i] @= y: evaluating the target twice could change it
        self._targets[id(node)] = node.target.id
        site = self._site(node, [node.target, node.value])
        self.generic_visit(node)
        load = ast.copy_location(ast.Name(node.target.id, ast.Load()), node.target)
        call = ast.copy_location(ast.Call(ast.Name(_HOOK_INPLACE, ast.Load()), [site, load, node.value], []), node)
        return ast.copy_location(ast.Assign([node.target], call), node)

    def visit_Call(self, node: ast.Call) -> ast.AST:
        name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", None)
        if name not in PRODUCT_NAMES:
            return self.generic_visit(node)
        operands = [a for a in node.args if not isinstance(a, ast.Starred)][:2]
        method = [node.func.value, *operands[:1]] if isinstance(node.func, ast.Attribute) and name == "dot" else []
        site = self._site(node, operands, method)
        self.generic_visit(node)
        return ast.copy_location(ast.Call(ast.Name(_HOOK_CALL, ast.Load()), [site, node.func, *node.args], node.keywords), node)


def _short(text: str, width: int = 24) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


class Recorder:
    """Runs the rewritten script's products and keeps one :class:`Product` each; ``sink``, when given,
    receives each product as soon as it is complete (to get it out of a process that may crash)."""

    def __init__(self, sites: list[Site], sink: Callable[[Product], None] | None = None):
        self.sites, self.products, self.sink = sites, [], sink
        self._predictions: dict[tuple, object] = {}
        self._kinds = _numpy_products()

    def hooks(self) -> dict[str, object]:
        """The names the rewritten code calls, to put in the script's globals."""
        return {_HOOK_PRODUCT: self.matmul, _HOOK_INPLACE: self.inplace, _HOOK_CALL: self.call}

    def matmul(self, site: int, a, b):
        return self._run("@", site, lambda: a @ b, (a, b), None)

    def inplace(self, site: int, a, b):
        def compute():
            nonlocal a
            a @= b
            return a
        return self._run("@=", site, compute, (a, b), None)

    def call(self, site: int, function, *args, **kwargs):
        kind = self._kind(function)
        if kind is None:  # not numpy's product: the script's own function, or another library's
            return function(*args, **kwargs)
        operands = (function.__self__, *args) if kind == "ndarray.dot" else args
        out = kwargs.get("out", args[2] if kind in ("np.dot", "np.matmul") and len(args) > 2 else None)
        return self._run(kind, site, lambda: function(*args, **kwargs), operands, out)

    def _kind(self, function) -> str | None:
        owner = getattr(function, "__self__", None)
        if isinstance(owner, np.ndarray) and getattr(function, "__name__", "") == "dot":
            return "ndarray.dot"
        try:
            return self._kinds.get(function)
        except TypeError:  # unhashable
            return None

    def _run(self, kind: str, site_index: int, compute, operands: tuple, out):
        site = self.sites[site_index]
        start = native.nk_trace_position()
        result = compute()
        stop = native.nk_trace_position()
        if not isinstance(result, (np.ndarray, np.generic)):  # another type's own product (its __matmul__, __array_function__)
            return result
        texts = site.as_method if kind == "ndarray.dot" else site.operands
        product = Product(kind, site.lineno, sys._getframe(2).f_code.co_qualname, threading.get_native_id(), start, stop,
                          texts, [], result.dtype.str)
        if stop > start:  # the operands are still what they were during the calls: name their memory
            product.memory = _memory(site, texts, operands, out, result)
        self._explain(product, operands)
        self.products.append(product)
        if self.sink is not None:
            self.sink(product)
        return result

    def _explain(self, product: Product, operands: tuple) -> None:
        """explain's copies and reason, for the np.dot and matmul family on two operands."""
        family = _EXPLAINED.get(product.kind)
        if family is None or len(operands) < 2:
            return
        try:
            a, b = np.asarray(operands[0]), np.asarray(operands[1])
            twins = _root(a) is _root(b) and a.__array_interface__["data"][0] == b.__array_interface__["data"][0]  # A·Aᵀ?
            key = (family, _signature(a), _signature(b), twins, np.may_share_memory(a, b))
            if key not in self._predictions:
                self._predictions[key] = family(a, b)
        except Exception as error:  # operands numpy cannot read as arrays: the script's business, not nnkit's
            product.reason = f"not predicted: explain cannot read these operands ({type(error).__name__}: {error})"
            return
        prediction = self._predictions[key]
        product.copies, product.reason = list(prediction.copies), prediction.reason
        product.predicted = not prediction.reason.startswith("not predicted")


_EXPLAINED = {"@": predict_matmul, "@=": partial(predict, "imatmul"), "np.matmul": predict_matmul, "np.dot": predict_dot,
              "ndarray.dot": predict_dot}


def _root(x: np.ndarray):
    return x if x.base is None else x.base


def _signature(x: np.ndarray) -> tuple:
    """What explain's verdict depends on: dtype, shape, strides, alignment."""
    return x.dtype.str, x.shape, x.strides, x.flags.aligned


_regions: dict[int, tuple] = {}  # id(array) → (weak reference, its region): an ndarray's memory never moves


def _region(x: np.ndarray) -> Region:
    """``trace_pointers.region(x)``, remembered while ``x`` lives (reading ``__array_interface__`` costs µs)."""
    known = _regions.get(id(x))
    if known is not None and known[0]() is x:
        return known[1]
    key = id(x)
    _regions[key] = (weakref.ref(x, lambda _: _regions.pop(key, None)), region(x))
    return _regions[key][1]


def _memory(site: Site, texts: tuple[str, ...], operands: tuple, out, result) -> list[tuple[str, Region]]:
    """The regions of the operands (by their text; each array of a list operand too), ``out`` (by its
    text) and the result (by the name it is assigned to — an operand's own, in ``K = K @ K``)."""
    names = list(zip(texts, operands[:2]))
    for text, x in names[:2]:
        if isinstance(x, (list, tuple)):  # multi_dot([A, B, C]): each array of the list, by its text
            items = site.elements if len(site.elements) == len(x) else [f"{text}[{j}]" for j in range(len(x))]
            names.extend(zip(items, x))
    memory = [(name, _region(x)) for name, x in [*names, (site.out, out)] if isinstance(x, np.ndarray)]
    if isinstance(result, np.ndarray):
        memory.append((site.result, region(result)))  # often a new array: nothing to remember
    return memory


def assign(numbers: list[tuple[int, int]], products: list[Product]) -> list[int | None]:
    """For each BLAS call (its record number and thread), the index of the product that made it: the
    innermost one running on that thread when the call was recorded; None outside every product.
    (One thread's products nest or follow each other: a sweep with a stack finds the innermost.)"""
    owners: list[int | None] = [None] * len(numbers)
    for thread in {t for _, t in numbers}:
        mine = sorted((i for i, p in enumerate(products) if p.thread == thread), key=lambda i: products[i].start)
        calls = sorted((n, j) for j, (n, t) in enumerate(numbers) if t == thread)
        open_, k = [], 0
        for number, j in calls:
            while k < len(mine) and products[mine[k]].start <= number:
                open_.append(mine[k])
                k += 1
            while open_ and products[open_[-1]].stop <= number:
                open_.pop()
            owners[j] = open_[-1] if open_ else None
    return owners


def _numpy_products() -> dict:
    return {np.dot: "np.dot", np.matmul: "np.matmul", np.vdot: "np.vdot", np.inner: "np.inner", np.outer: "np.outer",
            np.tensordot: "np.tensordot", np.einsum: "np.einsum", np.linalg.multi_dot: "np.linalg.multi_dot",
            np.kron: "np.kron"}
