"""An independent witness for the tracer: gdb stops at numpy's BLAS symbol and reads the
arguments straight from the registers and the stack (x86-64 System V calling convention). What it
reads must be what ``trace()`` recorded for the same calls."""

from __future__ import annotations

import platform
import re
import shutil
import subprocess
import sys

import pytest

pytestmark = pytest.mark.skipif(platform.machine() != "x86_64" or not shutil.which("gdb"),
                                reason="reads x86-64 registers with gdb (.ci/run installs gdb)")

SCRIPT = r"""
import numpy as np
from nnkit.backends.trace import trace
rng = np.random.default_rng(0)
X = rng.standard_normal((9, 7))
cases = [(rng.standard_normal((3, 4)), np.asfortranarray(rng.standard_normal((4, 5)))),   # C · F
         (X[:, :4], rng.standard_normal((4, 6))),                                            # sub-block, @ keeps it
         (np.asfortranarray(rng.standard_normal((5, 2))), rng.standard_normal((2, 3)))]
with trace() as t:
    for A, B in cases:
        A @ B
for c in t.calls:
    print("TRACED", c.order, c.transa, c.transb, c.m, c.n, c.k, hex(c.a), c.lda, hex(c.b), c.ldb, hex(c.c), c.ldc, flush=True)
"""

# At the first instruction of scipy_cblas_dgemm64_(order, transA, transB, M, N, K, alpha, A, lda, B,
# ldb, beta, C, ldc): six integers in rdi…r9, alpha/beta in xmm0/xmm1, the rest on the stack
# after the return address.
GDB = [
    "set pagination off", "set confirm off",
    "catch load libscipy_openblas", "run", "delete 1",  # stop once numpy's BLAS is loaded, then:
    "break *scipy_cblas_dgemm64_",
    "commands\nsilent\nprintf \"ORACLE %ld %ld %ld %ld %ld %ld %#lx %ld %#lx %ld %#lx %ld\\n\", $rdi, $rsi, $rdx, $rcx, $r8, $r9, "
    "*(long*)($rsp+8), *(long*)($rsp+16), *(long*)($rsp+24), *(long*)($rsp+32), *(long*)($rsp+40), *(long*)($rsp+48)\ncontinue\nend",
    "continue",
]
ENUM = {"101": "RowMajor", "102": "ColMajor", "111": "NoTrans", "112": "Trans"}


def test_gdb_sees_the_calls_the_tracer_recorded(tmp_path):
    script = tmp_path / "calls.py"
    script.write_text(SCRIPT)
    commands = tmp_path / "commands.gdb"
    commands.write_text("\n".join(GDB) + "\n")
    done = subprocess.run(["gdb", "-batch", "-nx", "-x", str(commands), "--args", sys.executable, str(script)],
                          capture_output=True, text=True, timeout=300)
    oracle = [line.split()[1:] for line in done.stdout.splitlines() if line.startswith("ORACLE")]
    traced = [line.split()[1:] for line in done.stdout.splitlines() if line.startswith("TRACED")]
    # the breakpoint is on the real routine, which the tracer's wrapper calls once per call
    assert len(traced) == 3, done.stdout + done.stderr
    assert [[ENUM.get(v, v) for v in row] for row in oracle] == traced
    assert re.search(r"ORACLE 101 111 111 9 6 4 0x[0-9a-f]+ 7 ", done.stdout)  # the (9, 4) sub-block in place, lda 7
