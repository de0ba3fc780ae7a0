"""nnkit.backends.trace_script: a script traced in a child process — each call on the script's line that
made it, each product with its BLAS calls, copies and fallbacks, each pointer named as it was when the
call happened, and a summary per line; checked against generated scripts whose answers are known."""

from __future__ import annotations

import collections
import os

import pytest
import traced_scripts

from nnkit.backends import trace_script
from nnkit.backends.trace import LINES
from nnkit.trace_command import per_line

pytestmark = pytest.mark.skipif(not LINES, reason="lines are read from CPython 3.11's frames; this Python records none")


def check(seed: int, tmp_path) -> collections.Counter:
    text, want = traced_scripts.script(seed, statements=10)
    path = tmp_path / f"generated_{seed}.py"
    path.write_text(text)
    run = trace_script.run(str(path), [])
    where = f"seed {seed}:\n{text}"
    assert run.failure is None and run.status == 0, where
    assert [(c.lineno, c.function) for c in run.calls] == traced_scripts.calls(want), where
    each = [p for p in want for _ in range(p.times)]
    assert [(p["line"], p["function"]) for p in run.products] == [(p.lineno, p.function) for p in each], where
    assert [(p["calls"], len(p["copies"]), bool(p["fallback"])) for p in run.products] == \
           [(p.expr.calls, p.expr.copies, p.expr.fallback) for p in each], where
    for call in run.calls:  # named as they were when the call happened
        product = each[run.made_by[call.number]]
        if product.expr.owners:
            owners = run.owners[call.number]
            assert (owners["a"], owners["b"], owners["c"]) == (*product.expr.owners, product.result), where
    rows = collections.defaultdict(lambda: [0, 0, 0, 0])
    for p in each:
        row = rows[p.lineno]
        row[0], row[1], row[2], row[3] = row[0] + 1, row[1] + p.expr.calls, row[2] + p.expr.copies, row[3] + p.expr.fallback
    got = {r["line"]: [r["products"], r["calls"], r["copies"], r["fallbacks"]] for r in per_line(run)}
    assert got == dict(rows), where
    return collections.Counter(calls=len(run.calls), products=len(run.products),
                               fallbacks=sum(bool(p["fallback"]) for p in run.products))


def test_generated_scripts_every_call_product_and_line_as_the_generator_placed_it(tmp_path):
    total = sum((check(seed, tmp_path) for seed in range(4)), collections.Counter())
    assert total["calls"] >= 30 and total["fallbacks"] >= 4, total


@pytest.mark.long
def test_many_generated_scripts(tmp_path):
    total = sum((check(seed, tmp_path) for seed in range(100, 160)), collections.Counter())
    print(dict(total))
    assert total["calls"] >= 600


def test_a_freed_temporary_is_not_named_after_the_array_that_reuses_its_memory(tmp_path):
    """``(X + i) @ Y`` makes a temporary that numpy frees; the next array of that size often lands
    at the same address. The call's pointer is named when the call is made: the temporary."""
    script = tmp_path / "reuse.py"
    script.write_text("import numpy as np\nX, Y = np.ones((40, 30)), np.ones((30, 20))\nreused = 0\n"
                      "for i in range(20):\n"
                      "    Z = (X + i) @ Y\n"
                      "    G = np.empty_like(X)\n"
                      "    print(G.ctypes.data)\n")
    read, write = os.pipe()
    with os.fdopen(read) as printed:
        run = trace_script.run(str(script), [], stdout=write)
        os.close(write)
        g_addresses = {int(line) for line in printed}
    assert len(run.calls) == 20
    assert {run.owners[c.number]["a"] for c in run.calls} == {"X + i"}
    assert any(c.a in g_addresses for c in run.calls)  # G did reuse a freed temporary: the old naming said a→G
