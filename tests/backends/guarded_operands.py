"""Run as a script: nnkit's dgemm on operands that end (or begin) exactly at an inaccessible page.

A kernel that reads one element past an operand — a row of A past the edge, a column of B past
`cols` — touches the guard page and the process dies of SIGSEGV; so the caller (a test) needs only
the exit status. Usage: ``python guarded_operands.py SEED COUNT``; prints the number of products
checked against numpy.
"""

import ctypes
import mmap
import sys

import numpy as np

from nnkit.backends._native import ffi, lib
from nnkit.backends import own_dgemm

PAGE = mmap.PAGESIZE
_libc = ctypes.CDLL(None, use_errno=True)
_keep = []  # the mappings live as long as the process: arrays view them


def guarded(values: np.ndarray, at_end: bool) -> np.ndarray:
    """A copy of ``values`` (1-D float64) whose last byte precedes, or whose first byte follows, a PROT_NONE page."""
    nbytes = values.size * 8
    pages = -(-nbytes // PAGE) + 1
    region = mmap.mmap(-1, (pages + 1) * PAGE)
    base = ctypes.addressof(ctypes.c_char.from_buffer(region))
    guard = base + (pages * PAGE if at_end else 0)
    if _libc.mprotect(ctypes.c_void_p(guard), PAGE, 0) != 0:  # PROT_NONE
        raise OSError(ctypes.get_errno(), "mprotect")
    offset = pages * PAGE - nbytes if at_end else PAGE
    out = np.frombuffer(region, dtype=np.float64, count=values.size, offset=offset)
    out[:] = values
    _keep.append(region)
    return out


def one_product(rng: np.random.Generator) -> None:
    m, n, k = (int(rng.integers(1, 130)) for _ in range(3))
    row_major, ta, tb, at_end = (bool(rng.integers(2)) for _ in range(4))
    opA, opB = rng.standard_normal((m, k)), rng.standard_normal((k, n))
    A, B = (op.T if t else op for op, t in ((opA, ta), (opB, tb)))  # what the library reads as op(X)
    A, B = (np.ascontiguousarray(x) if row_major else np.asfortranarray(x) for x in (A, B))
    lda, ldb = (x.shape[1] if row_major else x.shape[0] for x in (A, B))
    gA, gB = (guarded(x.ravel(order="C" if row_major else "F"), at_end) for x in (A, B))
    C = np.zeros((m, n)) if row_major else np.zeros((n, m))
    ptr = lambda x: ffi.cast("double *", x.ctypes.data)  # noqa: E731
    lib.nk_gemm_cblas_dgemm(101 if row_major else 102, 112 if ta else 111, 112 if tb else 111, m, n, k, 1.0,
                            ptr(gA), lda, ptr(gB), ldb, 0.0, ptr(C), n if row_major else m)
    got = C if row_major else C.T
    if not np.allclose(got, opA @ opB, rtol=1e-12, atol=1e-12 * k):
        sys.exit(f"wrong product: m={m} n={n} k={k} row_major={row_major} ta={ta} tb={tb}")


if __name__ == "__main__":
    seed, count = int(sys.argv[1]), int(sys.argv[2])
    rng = np.random.default_rng(seed)
    for kernel in own_dgemm.kernels():
        with own_dgemm.configured(kernel, threads=1):
            for _ in range(count):
                one_product(rng)
    print(count * len(own_dgemm.kernels()))
