"""Finite-difference check of :func:`nnkit.model.backward`, entry by entry, on any namespace.

For every parameter entry θ the central difference ``(L(θ+ε) − L(θ−ε)) / 2ε`` is computed, and
each parameter's numerical gradient ``n`` is compared with the analytic one ``a`` by the relative
error ``‖a − n‖ / (‖a‖ + ‖n‖)``. Whole-tensor norms, not entry by entry: an entry whose true
gradient is 0 (a dead ReLU) has a numerical value of rounding noise (~1e-10), which would read as
"100 % wrong" entry-wise. In float64 with ``ε = 1e-6`` a correct backward scores ~1e-9; a wrong
one scores near 1.
"""

from __future__ import annotations

from array_api_compat import array_namespace

from nnkit import model
from nnkit.model import Array, Params


def numerical_gradient(params: Params, X: Array, Y: Array, name: str, l2: float = 0.0, eps: float = 1e-6) -> Array:
    """Central-difference gradient of :func:`nnkit.model.loss` with respect to ``params[name]``."""
    xp = array_namespace(X)
    rows, cols = params[name].shape
    grad = xp.zeros((rows, cols), dtype=X.dtype)
    for i in range(rows):
        for j in range(cols):
            grad[i, j] = (_loss_moved(params, X, Y, name, i, j, eps, l2) - _loss_moved(params, X, Y, name, i, j, -eps, l2)) / (2 * eps)
    return grad


def _loss_moved(params: Params, X: Array, Y: Array, name: str, i: int, j: int, delta: float, l2: float) -> float:
    xp = array_namespace(X)
    moved = xp.asarray(params[name], copy=True)
    moved[i, j] += delta
    return float(model.loss({**params, name: moved}, X, Y, l2))


def relative_errors(params: Params, X: Array, Y: Array, l2: float = 0.0, eps: float = 1e-6) -> dict[str, float]:
    """Relative error ``‖a − n‖ / (‖a‖ + ‖n‖)`` of analytic against numerical gradient, per parameter.

    >>> import numpy as np, array_api_compat.numpy as xp
    >>> rng = np.random.default_rng(0)
    >>> p = model.init([3, 4, 2], xp, rng)
    >>> X, Y = xp.asarray(rng.standard_normal((3, 5))), xp.asarray(np.eye(2)[:, [0, 1, 1, 0, 1]])
    >>> max(relative_errors(p, X, Y).values()) < 1e-6
    True
    """
    xp = array_namespace(X)
    Zs, As = model.forward(params, X)
    analytic = model.backward(params, Zs, As, Y, l2)
    errors = {}
    for name in params:
        a, n = analytic[name], numerical_gradient(params, X, Y, name, l2, eps)
        scale = float(xp.linalg.vector_norm(a) + xp.linalg.vector_norm(n))
        errors[name] = float(xp.linalg.vector_norm(a - n)) / scale if scale else 0.0
    return errors
