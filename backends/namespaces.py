"""Backend name → array-API namespace.

``numpy``  numpy through ``array_api_compat.numpy`` (the arrays are plain ``ndarray``\\s)
``strict`` ``array_api_strict``: the standard and nothing more, so code that runs here is portable
``blas``   numpy, with every matrix product a direct dgemm call through nnkit's bridge
``instrumented`` numpy, with every operation recorded (``xp.recording()``; see instrumented.py)
``dask``   dask.array: lazy, chunked along the samples, run by dask's scheduler (a cluster, perhaps)
"""

from __future__ import annotations

import importlib
from typing import Any

BACKENDS = ("numpy", "strict", "instrumented", "blas", "dask")

_MODULES = {"numpy": "array_api_compat.numpy", "strict": "array_api_strict", "blas": "nnkit.backends.bridged",
            "instrumented": "nnkit.backends.instrumented", "dask": "array_api_compat.dask.array"}
PENDING: dict[str, str] = {}  # backends announced but not built yet: name → why


class BackendUnavailable(ValueError):
    """The backend name is known but cannot be used (not built yet, or its library is missing)."""


def namespace(name: str):
    """Return the array namespace for backend ``name``.

    >>> namespace("numpy").__name__
    'array_api_compat.numpy'
    """
    if name in PENDING:
        raise BackendUnavailable(f"backend {name!r}: {PENDING[name]}; use one of: {', '.join(_MODULES)}")
    if name not in _MODULES:
        raise ValueError(f"unknown backend {name!r}; choose one of: {', '.join(BACKENDS)}")
    module = importlib.import_module(_MODULES[name])
    if name == "instrumented":
        return module.instrumented(importlib.import_module(_MODULES["numpy"]))
    return getattr(module, "namespace", module)


def to_numpy(x: Any):
    """A numpy array of ``x`` from any namespace: a view via DLPack where possible; a lazy array
    (dask) is computed first."""
    import numpy as np

    if hasattr(x, "compute") and hasattr(x, "dask"):
        x = x.compute()
    return x if isinstance(x, np.ndarray) else np.from_dlpack(x)
