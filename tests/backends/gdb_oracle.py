"""An oracle nnkit did not write: gdb stops at every ``cblas_*`` routine of numpy's own OpenBLAS
and reads its arguments from the registers and the stack (x86-64 System V calling convention).

A script runs under gdb; each time it calls :func:`os.getppid` (``mark()`` below) gdb prints a
``MARK`` line, so the calls it prints between two marks belong to one case, in the order gdb saw
them, whatever Python's own output buffering does.

>>> signature("zgemv")[:4]
['order', 'transa', 'm', 'n']
"""

from __future__ import annotations

import platform
import shutil
import subprocess
import sys
from pathlib import Path

# cblas signatures, argument by argument; "alpha"/"beta" are floats (in xmm registers) for s/d,
# pointers for c/z; "a"/"b"/"c" are the pointers nnkit's explain names (x → a, y → b or c).
_SIGNATURES = {
    "gemm": ["order", "transa", "transb", "m", "n", "k", "alpha", "a", "lda", "b", "ldb", "beta", "c", "ldc"],
    "gemv": ["order", "transa", "m", "n", "alpha", "a", "lda", "b", "incx", "beta", "c", "incy"],
    "syrk": ["order", "uplo", "transa", "n", "k", "alpha", "a", "lda", "beta", "c", "ldc"],
    "dot": ["n", "a", "incx", "b", "incy"],
    "dotu_sub": ["n", "a", "incx", "b", "incy", "c"],
    "dotc_sub": ["n", "a", "incx", "b", "incy", "c"],
    "axpy": ["n", "alpha", "a", "incx", "c", "incy"],
}
ROUTINES = [p + r for r in ("gemm", "gemv", "syrk", "axpy") for p in "sdcz"] + ["sdot", "ddot"] + [
    p + r for r in ("dotu_sub", "dotc_sub") for p in "cz"]
POINTERS = ("a", "b", "c")
ENUMS = {"order": {101: "RowMajor", 102: "ColMajor"}, "transa": {111: "NoTrans", 112: "Trans", 113: "ConjTrans"},
         "uplo": {121: "Upper", 122: "Lower"}}
ENUMS["transb"] = ENUMS["transa"]
_REGISTERS = ["$rdi", "$rsi", "$rdx", "$rcx", "$r8", "$r9"]


def signature(routine: str) -> list[str]:
    """The cblas arguments of ``routine`` (e.g. ``"dgemm"``), in order."""
    return _SIGNATURES[routine[1:]]


def symbol(routine: str) -> str:
    """numpy's wheel name for ``routine``: OpenBLAS built ILP64 with a prefix and a suffix."""
    return f"scipy_cblas_{routine}64_"


def _locations(routine: str) -> list[tuple[str, str]]:
    """(argument, gdb expression) for every integer-class argument, in order."""
    integer_slots = iter(_REGISTERS + [f"*(long*)($rsp+{8 * i})" for i in range(1, 12)])
    out = []
    for arg in signature(routine):
        if arg in ("alpha", "beta") and routine[0] in "sd":
            continue  # a float: passed in an xmm register
        where = next(integer_slots)
        if arg not in ("alpha", "beta"):
            cast = "(int)" if arg in ENUMS else "(long)"
            out.append((arg, cast + where))
    return out


def gdb_commands() -> str:
    """A gdb script: stop once numpy's BLAS is loaded, then print every routine's arguments."""
    lines = ["set pagination off", "set confirm off", "set debuginfod enabled off", "catch load libscipy_openblas", "run", "delete 1",
             "break getppid", 'commands\nsilent\nprintf "ORACLE MARK\\n"\ncontinue\nend']
    for routine in ROUTINES:
        found = _locations(routine)
        fmt = " ".join("%#lx" if arg in POINTERS else "%ld" for arg, _ in found)
        lines += [f"break *{symbol(routine)}",
                  f'commands\nsilent\nprintf "ORACLE {routine} {fmt}\\n", {", ".join(e for _, e in found)}\ncontinue\nend']
    return "\n".join(lines + ["continue"]) + "\n"


def unavailable() -> str | None:
    """Why the oracle cannot run here, or None."""
    if platform.machine() != "x86_64":
        return "reads x86-64 registers"
    if not shutil.which("gdb"):
        return "needs gdb (.ci/run installs it)"
    import ctypes

    import numpy as np

    libs = list((Path(np.__file__).parent.parent / "numpy.libs").glob("libscipy_openblas64_*.so"))
    if not libs or not hasattr(ctypes.CDLL(str(libs[0])), symbol("dgemm")):
        return "numpy's wheel OpenBLAS (scipy_cblas_*64_ symbols) not found"
    return None


def run(script: Path, workdir: Path, timeout: float = 1800) -> tuple[list[list[dict]], subprocess.CompletedProcess]:
    """Run ``script`` under gdb; the calls gdb saw, one list per ``mark()`` (the first: before it)."""
    commands = workdir / "oracle.gdb"
    commands.write_text(gdb_commands())
    done = subprocess.run(["gdb", "-batch", "-nx", "-x", str(commands), "--args", sys.executable, str(script)],
                          capture_output=True, text=True, timeout=timeout)
    return parse(done.stdout), done


def parse(stdout: str) -> list[list[dict]]:
    """gdb's ``ORACLE`` lines as calls (``{"routine": …, "m": …, "a": address …}``), split at marks."""
    cases: list[list[dict]] = [[]]
    for line in stdout.splitlines():
        if not line.startswith("ORACLE "):
            continue
        routine, *values = line.split()[1:]
        if routine == "MARK":
            cases.append([])
            continue
        call = {"routine": routine}
        for (arg, _), value in zip(_locations(routine), values):
            number = int(value, 0)
            call[arg] = ENUMS[arg].get(number, number) if arg in ENUMS else number
        cases[-1].append(call)
    return cases
