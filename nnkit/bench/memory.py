"""Memory measured, not modelled: the most bytes a call holds at once.

NumPy reports every data buffer it allocates to Python's ``tracemalloc``, so the peak it records
while a call runs counts the copies that call made — a measurement that a busy machine cannot
disturb, unlike a time.
"""

from __future__ import annotations

import tracemalloc
from typing import Callable


def peak_bytes(function: Callable[[], object]) -> int:
    """The most bytes held at once by the allocations made while ``function()`` runs (its result
    included), in bytes. Not reentrant: a call inside ``function`` resets the peak it reads.

    >>> import numpy as np
    >>> a = np.ones((1000, 1000))
    >>> peak_bytes(lambda: a.T) < 1000            # a view: no data buffer
    True
    >>> peak_bytes(lambda: a.T.copy()) >= a.nbytes  # a copy: one more buffer of 8 MB
    True
    """
    was_tracing = tracemalloc.is_tracing()
    if not was_tracing:
        tracemalloc.start()
    before, _ = tracemalloc.get_traced_memory()
    tracemalloc.reset_peak()
    try:
        function()
        return tracemalloc.get_traced_memory()[1] - before
    finally:
        if not was_tracing:
            tracemalloc.stop()
