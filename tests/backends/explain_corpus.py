"""A seeded random corpus of products a learner writes, each predicted by nnkit's explain and then
observed by gdb (:mod:`gdb_oracle`) in the same process, with the operands it predicted for.

A case is plain data: the function, the operand specs (:mod:`nnkit.specs`; a later operand may be
``A``/``A.T``), an ``out`` spec (or ``A``/``B``: the same buffer as an operand) and options; with a
``buffer`` spec, an operand or out may be ``{"of": "X", "index": [...]}``, a view of that buffer. Each
pointer — predicted or observed — is named the same way: the first of the case's arrays whose
bytes hold it, with its offset from that array's first element, or ``temp`` for any other memory.
"""

from __future__ import annotations

import json
import random
import subprocess
import sys
from pathlib import Path

import gdb_oracle
import numpy as np

from nnkit import specs

LAYOUTS = ["", ":F", ":T", ":sub", ":colsub", ":step", ":rev", ":bcast", ":misaligned"]
REAL, COMPLEX = [":f64", ":f32"], [":c128", ":c64"]


def _dtype(rng: random.Random) -> str:
    roll = rng.random()
    return rng.choice(REAL) if roll < 0.6 else rng.choice(COMPLEX) if roll < 0.9 else rng.choice([":i64", ":f16"])


def _spec(rng: random.Random, shape: tuple[int, ...], dtype: str) -> str:
    layout = rng.choice(LAYOUTS + ["", "", ":step3"])
    if len(shape) == 1 and layout in (":T", ":colsub") or not shape and layout != ":misaligned":
        layout = ""
    return ("x".join(map(str, shape)) or "()") + layout + dtype


def _dim(rng: random.Random) -> int:
    return rng.choice([1, 1, 2, 3, 4, 5, 6, 7, 9, 0] if rng.random() < 0.3 else [2, 3, 4, 5, 6, 7, 8])


def _pair_dtypes(rng: random.Random) -> tuple[str, str]:
    first = _dtype(rng)
    return first, (first if rng.random() < 0.8 else _dtype(rng))


def dot_case(rng: random.Random) -> dict:
    m, k, n = _dim(rng), _dim(rng), _dim(rng)
    da, db = _pair_dtypes(rng)
    kind = rng.choice(["mm", "mm", "mv", "vm", "vv", "nd", "nd", "scalar"])
    a, b = {"mm": ((m, k), (k, n)), "mv": ((m, k), (k,)), "vm": ((k,), (k, n)), "vv": ((k,), (k,)),
            "nd": rng.choice([((2, m, k), (k, n)), ((m, k), (3, k, n)), ((k,), (2, k, n)), ((2, 2, m, k), (k,))]),
            "scalar": rng.choice([((), (m, k)), ((m, k), ()), ((), (k,)), ((1, 1), (m, k)), ((k, 1), (1,)), ((), (2, m, k))])}[kind]
    case = {"function": "dot", "operands": [_spec(rng, a, da), _spec(rng, b, db)]}
    if kind == "mm" and rng.random() < 0.2:
        case["operands"][1] = "A.T"  # (m, k)·(k, m) on one buffer: syrk
        b, db = a[::-1], da
    if rng.random() < 0.3:
        case["out"] = _dot_out(rng, a, b, da, db)
    return case


def _dot_out(rng: random.Random, a, b, da, db) -> str:
    """np.dot's ``out``: exactly the result's dtype and C-contiguous; sometimes A's own buffer."""
    shape, word = (a[:-1] + b[:-2] + b[-1:] * (len(b) > 1) if a and b else a or b), _result_word(da, db)
    if shape == a and da == db == word and rng.random() < 0.5:
        return "A"
    if shape == b and da == db == word and rng.random() < 0.5:
        return "B"
    return _spec(rng, shape, word) if rng.random() < 0.2 else ("x".join(map(str, shape)) or "()") + word


def matmul_case(rng: random.Random) -> dict:
    m, k, n = _dim(rng), _dim(rng), _dim(rng)
    da, db = _pair_dtypes(rng)
    batch_a = tuple(rng.choice([1, 2, 3, 0] if rng.random() < 0.2 else [2, 3]) for _ in range(rng.choice([0, 0, 1, 1, 2])))
    batch_b = batch_a[rng.randrange(len(batch_a) + 1):] if rng.random() < 0.7 else tuple(1 for _ in batch_a)
    a = batch_a + (m, k) if rng.random() < 0.85 else (k,)  # a vector has no batch axes
    b = batch_b + (k, n) if rng.random() < 0.85 else (k,)
    function = rng.choice(["matmul", "matmul", "matmul", "imatmul"])
    if function == "imatmul":  # A @= B keeps A's shape and dtype
        a, b, db = batch_a + (m, k), (k, k), da
    case = {"function": function, "operands": [_spec(rng, a, da), _spec(rng, b, db)]}
    if function == "matmul" and len(a) == 2 and rng.random() < 0.2:
        case["operands"][1] = "A.T"  # (m, k) @ (k, m) on one buffer: syrk
        b, db = a[::-1], da
    out_shape = np.broadcast_shapes(a[:-2], b[:-2]) + (a[-2:-1] if len(a) > 1 else ()) + (b[-1:] if len(b) > 1 else ())
    if case["function"] == "imatmul" and (tuple(out_shape) != a or da != _result_word(da, db)):
        case["function"] = "matmul"
    if case["function"] == "matmul" and out_shape and rng.random() < 0.4:
        cast = rng.random() < 0.1 and _result_word(da, db) in (":f32", ":f64")  # out of a wider kind: cast back
        more = rng.choice([(), (), (), (2,), (3, 1)])  # out's extra batch axes: the operands broadcast to them
        shape = (more + tuple(out_shape))[rng.random() < 0.1:]  # or one axis fewer: numpy may still take it
        case["out"] = _spec(rng, shape, ":c128" if cast else _result_word(da, db))
    return case


def _result_word(da: str, db: str) -> str:
    """The dtype word of the product of two dtype words."""
    result = np.result_type(specs.parse("1" + da)[2], specs.parse("1" + db)[2])
    return ":" + next(w for w, d in specs.DTYPES.items() if np.dtype(d) == result)


def other_case(rng: random.Random) -> dict:
    m, k, n = _dim(rng), _dim(rng), _dim(rng)
    da, db = _pair_dtypes(rng)
    function = rng.choice(["vdot", "inner", "outer", "tensordot", "einsum", "einsum", "multi_dot"])
    if function == "vdot":
        shape_a, shape_b = rng.choice([((k,), (k,)), ((m, k), (m, k)), ((2, m, k), (2, m, k)), ((m, k), (m * k,)), ((k, m), (m, k)),
                                        ((k,), (k + 1,)), ((m, k), (n, k))])  # the last two: sizes that may differ
        return {"function": function, "operands": [_spec(rng, shape_a, da), _spec(rng, shape_b, db)]}
    if function in ("inner", "outer"):
        return {"function": function, "operands": [_spec(rng, rng.choice([(k,), (m, k), (2, m, k)]), da),
                                                   _spec(rng, rng.choice([(k,), (n, k), (2, n, k)]), db)]}
    if function == "tensordot":
        return {"function": function, "operands": [_spec(rng, (m, 2, k), da), _spec(rng, (2, k, n), db)],
                "options": {"axes": rng.choice([2, 0, [[1, 2], [0, 1]], [[2], [1]], [[1], [0]]])}}
    if function == "einsum":
        subscripts, shapes = rng.choice([("ij,jk->ik", ((m, k), (k, n))), ("ij,kj->ik", ((m, k), (n, k))),
                                         ("bij,bjk->bik", ((2, m, k), (2, k, n))), ("ij,ij->", ((m, k), (m, k))),
                                         ("i,j->ij", ((m,), (n,))), ("ijk,kj->i", ((m, 2, k), (k, 2))),
                                         ("ij,jk", ((m, k), (k, n))), ("ij,j->i", ((m, k), (k,))), ("i,i->", ((k,), (k,))),
                                         ("bij,bkj->bki", ((2, m, k), (2, n, k))), ("ij,jk,kl->il", ((m, k), (k, n), (n, 3)))])
        return {"function": function, "operands": [_spec(rng, s, d) for s, d in zip(shapes, (da, db, da))],
                "options": {"subscripts": subscripts, "optimize": rng.choice([False, True, True, "greedy", "optimal"])}}
    shapes = rng.choice([[(m, k), (k, n), (n, 3)], [(k,), (k, n), (n, m)], [(m, k), (k, n), (n, 2), (2, 5)], [(m, k), (k, n)],
                         [(k,), (k, n), (n,)], [(m, k), (k, n), (n, 2), (2, 5), (5,)]])
    return {"function": function, "operands": [_spec(rng, s, da) for s in shapes]}


def shared_case(rng: random.Random) -> dict:
    """np.dot or matmul with ``out`` and one or both operands cut from one buffer ``X``: random
    starts and steps (sometimes backwards) make disjoint sub-blocks, interleaved rows or columns,
    and true overlaps — numpy copies out only when ``solve_may_share_memory`` says they may meet."""
    m, k, n = (rng.choice([1, 2, 3, 4, 5, 8]) for _ in range(3))
    dtype = rng.choice(REAL + COMPLEX)
    function = rng.choice(["dot", "matmul"])
    a, b = rng.choice([((m, k), (k, n)), ((m, k), (k,)), ((k,), (k, n)), ((k,), (k,))])
    if len(a) == len(b) == 1:  # vector · vector: give it a matrix operand and a vector out
        a = (m, k)
    shape = a[:-1] + b[1:]
    side = (3 * max(m, k, n) + 2, 3 * max(m, k, n) + 2)
    if function == "dot" and len(shape) == 2 and rng.random() < 0.7:
        side = (side[0], n)  # np.dot takes only a C-contiguous out: whole rows of a buffer as wide as it
    cut = {"A": a, "B": b, "out": shape}
    shared = rng.choice([["A", "out"], ["B", "out"], ["A", "B", "out"]])
    views = {name: _cut(rng, cut[name], side) if name in shared and _fits(cut[name], side) else "x".join(map(str, cut[name])) + dtype
             for name in cut}
    return {"function": function, "buffer": "x".join(map(str, side)) + dtype, "operands": [views["A"], views["B"]], "out": views["out"]}


def _fits(shape: tuple[int, ...], side: tuple[int, int]) -> bool:
    return all(length <= bound for length, bound in zip(shape[::-1], side[::-1]))


def _cut(rng: random.Random, shape: tuple[int, ...], side: tuple[int, int]) -> dict:
    """A view of ``shape`` into the case's buffer of ``side``: [start, stop, step] per axis (a 1-D
    one along the last axis, in a row of the buffer)."""
    axes = []
    for length, bound in zip(shape, side[-len(shape):]):
        step = rng.choice([s for s in (1, 1, 2, 3, -1, -2) if (length - 1) * abs(s) < bound])
        span = (length - 1) * abs(step) + 1
        start = rng.randrange(bound - span + 1)
        axes.append([start, start + span, step] if step > 0 else [start + span - 1, (start - 1) if start else None, step])
    return {"of": "X", "index": ([rng.randrange(side[0])] if len(shape) == 1 else []) + axes}


def misfit_case(rng: random.Random) -> dict:
    """A case of any kind with one operand's length changed by one: numpy may raise (before any
    call, or after some: multi_dot's first products), or still accept it (a length 1 broadcasts)."""
    case = rng.choice([dot_case, matmul_case, other_case])(rng)
    plain = [i for i, spec in enumerate(case["operands"]) if spec not in ("A", "A.T") and specs.parse(spec)[0]]
    if plain:
        i = rng.choice(plain)
        shape_text, _, words = case["operands"][i].partition(":")
        dims = shape_text.split("x")
        axis = rng.randrange(len(dims))
        dims[axis] = str(int(dims[axis]) + rng.choice([1, -1]) if dims[axis] != "0" else 1)
        case["operands"][i] = "x".join(dims) + (":" + words if words else "")
    return case


KINDS = {"dot": dot_case, "matmul": matmul_case, "other": other_case, "shared": shared_case, "misfit": misfit_case}


def corpus(seed: int, per_kind: int) -> list[dict]:
    """``per_kind`` cases of each kind, drawn from ``random.Random(seed)``."""
    rng = random.Random(seed)
    return [dict(KINDS[kind](rng), kind=kind) for kind in KINDS for _ in range(per_kind)]


CHILD = r'''
import json, os, sys
import numpy as np
from nnkit import specs
from nnkit.backends import explain

cases, results = json.load(open(sys.argv[1])), open(sys.argv[2], "w")
RUN = {"dot": lambda o, out, kw: np.dot(*o, out=out), "matmul": lambda o, out, kw: np.matmul(*o, out=out),
       "vdot": lambda o, out, kw: np.vdot(*o), "inner": lambda o, out, kw: np.inner(*o),
       "outer": lambda o, out, kw: np.outer(*o), "tensordot": lambda o, out, kw: np.tensordot(*o, axes=kw["axes"]),
       "einsum": lambda o, out, kw: np.einsum(kw["subscripts"], *o, optimize=kw["optimize"]),
       "multi_dot": lambda o, out, kw: np.linalg.multi_dot(o)}


def imatmul(o, out, kw):
    A = o[0]
    A @= o[1]
    return A


RUN["imatmul"] = imatmul


def where(address, named):
    for name, x in named:
        low, high = np.lib.array_utils.byte_bounds(x)
        if low <= address < high or address == low:
            return [name, address - x.__array_interface__["data"][0]]
    return ["temp", 0]


def build(spec, named, seed, buffer):
    if isinstance(spec, dict):  # a view of the case's buffer X
        return buffer[tuple(slice(*i) if isinstance(i, list) else i for i in spec["index"])]
    return specs.operand(spec, named, seed=seed)


for i, case in enumerate(cases):
    named, buffer = {}, specs.matrix(case["buffer"], seed=7) if "buffer" in case else None
    for j, spec in enumerate(case["operands"]):
        named["ABCDEFGH"[j]] = build(spec, named, j, buffer)
    arrays = list(named.values())
    out = build(case["out"], named, 9, buffer) if case.get("out") else None
    options = {k: (tuple(map(tuple, v)) if k == "axes" and isinstance(v, list) else v) for k, v in case.get("options", {}).items()}
    try:
        predicted, error = explain.predict(case["function"], *arrays, out=out, **options), None
    except Exception as e:
        predicted, error = None, repr(e)
    roots = list(named.items()) + ([("out", out)] if out is not None else [])
    os.getppid()
    try:
        result, raised = RUN[case["function"]](arrays, out, options), None
    except Exception as e:
        result, raised = None, repr(e)
    if isinstance(result, np.ndarray) and out is None and case["function"] != "imatmul":
        roots.append(("out", result))
    by_name = dict(roots)

    def resolve(pointer):
        name, offset = pointer
        if name not in by_name:
            return ["temp", 0]
        return where(by_name[name].__array_interface__["data"][0] + offset, roots)

    calls = None if predicted is None else [
        {k: (resolve(v) if k in "abc" else v) for k, v in c.to_dict().items()} for c in predicted.calls]
    results.write(json.dumps({"case": i, "error": error, "raised": raised, "predicted": calls,
                              "count": None if predicted is None else predicted.count,
                              "reason": None if predicted is None else predicted.reason, "fresh": out is None,
                              "raises": None if predicted is None else predicted.raises,
                              "roots": {n: [*map(int, np.lib.array_utils.byte_bounds(x)), x.__array_interface__["data"][0]] for n, x in roots}}) + "\n")
    results.flush()
os.getppid()
'''


def observe(cases: list[dict], workdir: Path) -> list[dict]:
    """Run ``cases`` under gdb: each case's record (prediction, count, reason) with ``observed``,
    the calls gdb saw, pointers named by :func:`name_pointers`."""
    (workdir / "cases.json").write_text(json.dumps(cases))
    script = workdir / "child.py"
    script.write_text(CHILD)
    results = workdir / "results.jsonl"
    commands = workdir / "oracle.gdb"
    commands.write_text(gdb_oracle.gdb_commands())
    done = subprocess.run(["gdb", "-batch", "-nx", "-x", str(commands), "--args", sys.executable, str(script),
                           str(workdir / "cases.json"), str(results)], capture_output=True, text=True, timeout=3600)
    seen = gdb_oracle.parse(done.stdout)[1:]  # before the first mark: numpy's import, the first prediction
    records = [json.loads(line) for line in results.read_text().splitlines()] if results.exists() else []
    assert len(records) == len(cases) and len(seen) == len(cases) + 1, done.stdout[-3000:] + done.stderr[-3000:]
    for record, calls in zip(records, seen):
        record["observed"] = _before_the_result([name_pointers(c, record["roots"]) for c in calls], record["fresh"])
    return records


def _before_the_result(calls: list[dict], fresh: bool) -> list[dict]:
    """A fresh result is never read by the calls that compute it (gemm, gemv and syrk only write
    their c): memory of that result read by a call — and anything there before — belonged to a
    temporary of an earlier step (``multi_dot``'s first products), freed and reused for the result."""
    if not fresh:
        return calls
    last = max((i for i, c in enumerate(calls) if any(c.get(r, [None])[0] == "out" for r in ("a", "b"))), default=-1)
    return [{k: (["temp", 0] if i <= last and k in gdb_oracle.POINTERS and v[0] == "out" else v) for k, v in c.items()}
            for i, c in enumerate(calls)]


def name_pointers(call: dict, roots: dict[str, list[int]]) -> dict:
    """gdb's call with each pointer named like the child names them (first root holding it)."""
    def where(address):
        for name, (low, high, _) in roots.items():
            if low <= address < high or address == low:
                return name
        return None
    named = dict(call)
    for role in gdb_oracle.POINTERS:
        if role in call:
            named[role] = _named(call[role], roots, where(call[role]))
    return named


def _named(address: int, roots: dict, name: str | None) -> list:
    return ["temp", 0] if name is None else [name, address - roots[name][2]]
