"""Where arrays meet memory and BLAS (installed as ``nnkit.backends``).

:func:`namespace` turns a backend name into an array-API namespace the network can run on.
"""

from nnkit.backends.namespaces import BACKENDS, BackendUnavailable, namespace, to_numpy

__all__ = ["BACKENDS", "BackendUnavailable", "namespace", "to_numpy"]
