"""The ``blas`` backend: numpy, except that every matrix product goes through nnkit's dgemm bridge.

Arrays are :class:`BridgedArray`, an ``ndarray`` subclass whose ``@`` calls
:func:`nnkit.backends.dgemm.dgemm` (numpy's ufuncs keep the subclass, so every array computed
from one stays bridged). ``array_api_compat.array_namespace`` sees them as numpy arrays, so the
network runs unchanged; only its products take the other road to the same BLAS.
"""

from __future__ import annotations

import collections
import functools
import types

import array_api_compat.numpy as compat_numpy
import numpy as np

from nnkit.backends import dgemm as bridge

LIBRARY: str | None = None
"""Library name for the bridge (``nnkit info``); None means numpy's own."""


class BridgedArray(np.ndarray):
    """An ndarray whose matrix product is a direct dgemm call on its buffer."""

    def __matmul__(self, other):
        return matmul(self, other)

    def __rmatmul__(self, other):
        return matmul(other, self)


CALLS: collections.Counter = collections.Counter()
"""How each product was computed: ``"dgemm"`` (a bridge call) or ``"not a bridge call"``."""


def matmul(x1, x2, /, **kwargs) -> BridgedArray:
    """``x1 @ x2``: 2-D float64 matrices through the bridge's dgemm (copying only layouts BLAS cannot
    take); every other product the standard defines (1-D, batched, integer, float32, complex), or one
    given numpy's keywords, through numpy's own matmul, counted in :data:`CALLS` as ``"not a bridge call"``."""
    a, b = np.asarray(x1), np.asarray(x2)
    if a.ndim == b.ndim == 2 and a.dtype == b.dtype == np.float64 and not kwargs:
        product = bridge.dgemm(a, b, library=LIBRARY, copy=True).view(BridgedArray)
        CALLS["dgemm"] += 1  # counted once made: a refused call is no call
        return product
    CALLS["not a bridge call"] += 1
    return np.asarray(compat_numpy.matmul(a, b, **kwargs)).view(BridgedArray)


def _bridged(create):
    @functools.wraps(create)
    def wrapper(*args, **kwargs):
        return np.asarray(create(*args, **kwargs)).view(BridgedArray)

    return wrapper


_CREATION = ("asarray", "zeros", "ones", "empty", "full", "eye", "arange", "linspace", "zeros_like", "ones_like", "empty_like", "full_like")

namespace = types.SimpleNamespace(**{name: getattr(compat_numpy, name) for name in compat_numpy.__all__})
namespace.__name__ = __name__
namespace.__dict__.update({name: _bridged(getattr(compat_numpy, name)) for name in _CREATION})
namespace.matmul = matmul
namespace.linalg = types.SimpleNamespace(**{name: getattr(compat_numpy.linalg, name) for name in compat_numpy.linalg.__all__})
namespace.linalg.matmul = matmul  # the same product, the same road
namespace.linalg.__name__ = f"{__name__}.linalg"
