"""The ``blas`` backend: numpy, except that every matrix product goes through nnkit's dgemm bridge.

Arrays are :class:`BridgedArray`, an ``ndarray`` subclass whose ``@`` calls
:func:`nnkit.backends.dgemm.dgemm` (numpy's ufuncs keep the subclass, so every array computed
from one stays bridged). ``array_api_compat.array_namespace`` sees them as numpy arrays, so the
network runs unchanged; only its products take the other road to the same BLAS.
"""

from __future__ import annotations

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


def matmul(a, b) -> BridgedArray:
    """``a @ b`` for 2-D float64 arrays through the bridge (copying only layouts BLAS cannot take)."""
    a, b = np.asarray(a), np.asarray(b)
    if a.ndim != 2 or b.ndim != 2 or a.dtype != np.float64 or b.dtype != np.float64:
        raise bridge.BridgeError(f"the blas backend multiplies 2-D float64 matrices with dgemm; got {a.dtype} {a.shape} @ {b.dtype} {b.shape}")
    return bridge.dgemm(a, b, library=LIBRARY, copy=True).view(BridgedArray)


def _bridged(create):
    def wrapper(*args, **kwargs):
        return np.asarray(create(*args, **kwargs)).view(BridgedArray)

    wrapper.__name__ = wrapper.__qualname__ = create.__name__
    wrapper.__doc__ = create.__doc__
    return wrapper


_CREATION = ("asarray", "zeros", "ones", "empty", "full", "eye", "arange", "linspace", "zeros_like", "ones_like", "empty_like", "full_like")

namespace = types.SimpleNamespace(**{name: getattr(compat_numpy, name) for name in compat_numpy.__all__})
namespace.__name__ = __name__
namespace.__dict__.update({name: _bridged(getattr(compat_numpy, name)) for name in _CREATION})
namespace.matmul = matmul
