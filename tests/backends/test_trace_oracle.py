"""An independent witness for the tracer: gdb stops at numpy's BLAS symbols and reads the
arguments straight from the registers and the stack (:mod:`gdb_oracle`). What it reads must be
what ``trace()`` recorded for the same calls."""

from __future__ import annotations

import pytest

import gdb_oracle

pytestmark = pytest.mark.skipif(gdb_oracle.unavailable() is not None, reason=str(gdb_oracle.unavailable()))

SCRIPT = r"""
import os
import numpy as np
from nnkit.backends.trace import trace
rng = np.random.default_rng(0)
X = rng.standard_normal((9, 7))
cases = [(rng.standard_normal((3, 4)), np.asfortranarray(rng.standard_normal((4, 5)))),   # C · F
         (X[:, :4], rng.standard_normal((4, 6))),                                            # sub-block, @ keeps it
         (np.asfortranarray(rng.standard_normal((5, 2))), rng.standard_normal((2, 3)))]
os.getppid()  # gdb's mark: the calls below are the cases'
with trace() as t:
    for A, B in cases:
        A @ B
for c in t.calls:
    print("TRACED", c.order, c.transa, c.transb, c.m, c.n, c.k, hex(c.a), c.lda, hex(c.b), c.ldb, hex(c.c), c.ldc, flush=True)
"""
FIELDS = ("order", "transa", "transb", "m", "n", "k", "a", "lda", "b", "ldb", "c", "ldc")


def test_gdb_sees_the_calls_the_tracer_recorded(tmp_path):
    script = tmp_path / "calls.py"
    script.write_text(SCRIPT)
    seen, done = gdb_oracle.run(script, tmp_path, timeout=300)
    traced = [line.split()[1:] for line in done.stdout.splitlines() if line.startswith("TRACED")]
    # the breakpoint is on the real routine, which the tracer's wrapper calls once per call
    assert len(traced) == 3, done.stdout + done.stderr
    oracle = [[hex(c[f]) if f in gdb_oracle.POINTERS else str(c[f]) for f in FIELDS] for c in seen[1]]
    assert oracle == traced
    assert [c["routine"] for c in seen[1]] == ["dgemm"] * 3
    assert (seen[1][1]["m"], seen[1][1]["n"], seen[1][1]["k"], seen[1][1]["lda"]) == (9, 6, 4, 7)  # the sub-block in place, lda 7
