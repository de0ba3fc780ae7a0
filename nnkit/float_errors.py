"""numpy's floating-point warnings silenced where nnkit checks the results itself.

A diverging run overflows (``overflow encountered in matmul``, ``invalid value encountered in
subtract``…); :func:`nnkit.train.fit` sees the non-finite loss and raises ``Diverged`` with one
clear message, so numpy's warnings before it are noise. They are silenced in the threads that
compute, for the length of one block — never process-wide.
"""

from __future__ import annotations

import contextlib
from typing import Iterator

IGNORED = {"over": "ignore", "invalid": "ignore", "divide": "ignore"}
# The same three as warning messages (numpy's wording), for processes that only a filter reaches.
MESSAGES = r"(overflow|invalid value|divide by zero) encountered"


@contextlib.contextmanager
def silenced() -> Iterator[None]:
    """Inside the block numpy does not warn on overflow, invalid values or division by zero —
    in this thread, and in the threads of dask's local scheduler (a pool made for the block)."""
    import numpy as np

    with np.errstate(**IGNORED), _dask_threads_silenced():
        yield


@contextlib.contextmanager
def _dask_threads_silenced() -> Iterator[None]:
    import sys

    if "dask" not in sys.modules:  # not a dask run: nothing to do, and nothing to import
        yield
        return
    from concurrent.futures import ThreadPoolExecutor

    import dask
    import numpy as np
    from dask.system import CPU_COUNT

    # numpy's error state is per thread (a context variable): a pool thread starts from the default,
    # so each of this pool's threads sets it once; the pool is dask's only for this block.
    pool = ThreadPoolExecutor(CPU_COUNT, initializer=lambda: np.seterr(**IGNORED))
    try:
        with dask.config.set(pool=pool):
            yield
    finally:
        pool.shutdown(wait=False, cancel_futures=True)
