"""An independent witness: with MKL_VERBOSE=1, MKL prints every call it receives. What it prints
must be the call the bridge's plan says it made — including the row-major → column-major swap —
and the ``ISAMAX(3, …)`` of the integer-width probe (an LP64 library sees n = 3)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys

import pytest

from nnkit.backends import libraries

pytestmark = pytest.mark.skipif("mkl" not in [lib.name for lib in libraries.find_libraries()],  # in CI a failure (conftest)
                                reason="mkl not found (the mkl wheel, in the test extra; .ci/run installs it)")

SCRIPT = r"""
import json, sys
import numpy as np
from nnkit.backends.dgemm import plan
rng = np.random.default_rng(0)
cases = [
    (rng.standard_normal((2, 3)), rng.standard_normal((4, 3)).T, None),                       # C · F
    (rng.standard_normal((5, 7))[1:4, 2:6], rng.standard_normal((4, 2)), None),              # row-strided sub-block
    (np.asfortranarray(rng.standard_normal((6, 3))), rng.standard_normal((3, 5)), np.zeros((6, 5), order="F")),
    (rng.standard_normal((4, 4)), rng.standard_normal((4, 4)), np.zeros((6, 9))[1:5, 2:6]),  # out a sub-block
]
for interface in ("cblas", "fortran"):
    for A, B, out in cases:
        p = plan(A, B, out=out, library="mkl", interface=interface)
        p.run()
        print(json.dumps({**p.column_major, "a": p.call["a"], "b": p.call["b"], "c": p.call["c"]}), file=sys.stderr)
"""

LINE = re.compile(r"MKL_VERBOSE DGEMM\((\w),(\w),(\d+),(\d+),(\d+),0x\w+,(0x\w+),(\d+),(0x\w+),(\d+),0x\w+,(0x\w+),(\d+)\)")


def test_mkl_receives_exactly_the_call_the_plan_describes():
    env = dict(os.environ, MKL_VERBOSE="1")
    done = subprocess.run([sys.executable, "-c", SCRIPT], env=env, capture_output=True, text=True, check=True)
    planned = [json.loads(line) for line in done.stderr.splitlines() if line.startswith("{")]
    seen = [m.groups() for m in LINE.finditer(done.stdout)]
    assert len(planned) == len(seen) == 8
    for plan, (ta, tb, m, n, k, first, lda, second, ldb, c, ldc) in zip(planned, seen):
        a, b = (plan["b"], plan["a"]) if plan["swapped"] else (plan["a"], plan["b"])
        assert (ta, tb, int(m), int(n), int(k)) == (plan["transa"], plan["transb"], plan["m"], plan["n"], plan["k"])
        assert (int(first, 16), int(lda), int(second, 16), int(ldb)) == (a, plan["lda"], b, plan["ldb"])
        assert (int(c, 16), int(ldc)) == (plan["c"], plan["ldc"])
    assert re.search(r"MKL_VERBOSE ISAMAX\(3,", done.stdout)  # the width probe, seen from inside MKL
