"""The seed's network, for any number of hidden layers, on any array-API namespace.

Samples are the *columns* of ``X`` (shape ``(n_features, n_samples)``), as in the seed::

    Z1 = W1 @ X  + b1     A1 = relu(Z1)
    Z2 = W2 @ A1 + b2     A2 = softmax(Z2)        (the last layer)

Parameters live in a dict ``{"W1": (h1, n_in), "b1": (h1, 1), ..., "WL": (n_out, h), "bL": (n_out, 1)}``.
The namespace comes from the arrays themselves (``array_api_compat.array_namespace``); this module
never imports numpy, so the same code runs on numpy, array_api_strict and nnkit's own backends.
"""

from __future__ import annotations

from typing import Any

from array_api_compat import array_namespace

Array = Any
Params = dict[str, Array]


def layer_sizes(params: Params) -> list[int]:
    """Return ``[n_in, h1, ..., n_out]`` read off the weight shapes."""
    n = num_layers(params)
    return [params["W1"].shape[1]] + [params[f"W{l}"].shape[0] for l in range(1, n + 1)]


def num_layers(params: Params) -> int:
    """Return the number of weight layers (hidden layers + 1): a ``W`` and a ``b`` each."""
    return len(params) // 2


def init(sizes: list[int], xp, rng, dtype=None) -> Params:
    """He-initialised weights and zero biases for layer sizes ``[n_in, h1, ..., n_out]``.

    ``W_l ~ N(0, 2 / fan_in)`` keeps the variance of ReLU activations constant from layer to
    layer; the seed's ``randn - 0.5`` has no such scale. ``rng`` is a ``numpy.random.Generator``
    (array namespaces need not have a random module); draws are float64, then cast, so float32
    and float64 networks start from the same numbers.

    >>> import numpy as np, array_api_compat.numpy as xp
    >>> p = init([64, 32, 10], xp, np.random.default_rng(0))
    >>> p["W1"].shape, p["b1"].shape, p["W2"].shape
    ((32, 64), (32, 1), (10, 32))
    """
    dtype = xp.float64 if dtype is None else dtype
    params = {}
    for l, (fan_in, fan_out) in enumerate(zip(sizes[:-1], sizes[1:]), start=1):
        W = rng.standard_normal((fan_out, fan_in)) * (2.0 / fan_in) ** 0.5
        params[f"W{l}"] = xp.asarray(W, dtype=dtype)
        params[f"b{l}"] = xp.zeros((fan_out, 1), dtype=dtype)
    return params


def relu(Z: Array, xp=None) -> Array:
    """``max(Z, 0)`` elementwise. ``xp``: Z's namespace when the caller has it already (finding it
    costs a few µs, a noticeable share of a small step)."""
    return (xp or array_namespace(Z)).maximum(Z, 0.0)  # a Python scalar: no array of zeros is made


def log_softmax(Z: Array) -> Array:
    """``log(softmax(Z))`` over each column, stable for any ``Z``.

    Subtracting the column maximum first means ``exp`` never overflows and the largest term is
    ``exp(0) = 1``, so the log never sees 0 (the seed's ``exp(Z) / sum(exp(Z))`` gives nan for
    logits around 800).
    """
    xp = array_namespace(Z)
    shifted = Z - xp.max(Z, axis=0, keepdims=True)
    return shifted - xp.log(xp.sum(xp.exp(shifted), axis=0, keepdims=True))


def softmax(Z: Array, xp=None) -> Array:
    """``exp(Z) / Σ exp(Z)`` over each column, with the column maximum subtracted first (so no
    ``exp`` overflows); cheaper than ``exp(log_softmax(Z))`` and as stable."""
    xp = xp or array_namespace(Z)
    E = xp.exp(Z - xp.max(Z, axis=0, keepdims=True))
    return E / xp.sum(E, axis=0, keepdims=True)


def forward(params: Params, X: Array) -> tuple[list[Array], list[Array]]:
    """Run the network on ``X`` (``(n_in, n)``); return the pre-activations ``Zs`` and
    activations ``As`` of every layer (``As[0]`` is ``X``, ``As[-1]`` the softmax, ``(n_out, n)``)."""
    xp, L = array_namespace(X), num_layers(params)
    Zs, As = [], [X]
    for l in range(1, L + 1):
        Z = params[f"W{l}"] @ As[-1] + params[f"b{l}"]
        Zs.append(Z)
        As.append(relu(Z, xp) if l < L else softmax(Z, xp))
    return Zs, As


def predict(params: Params, X: Array) -> Array:
    """Class index (row of the largest output) for every column of ``X``; shape ``(n,)``."""
    xp = array_namespace(X)
    return xp.argmax(forward(params, X)[0][-1], axis=0)


def cross_entropy(Z: Array, Y: Array) -> Array:
    """Mean cross-entropy of ``softmax(Z)`` against one-hot ``Y`` (both ``(n_out, n)``), a 0-d array.

    Computed from the logits through ``log_softmax``, so it stays finite even when a probability
    underflows to 0 (where ``log(softmax(Z))`` would give ``-inf``).
    """
    xp = array_namespace(Z, Y)
    return -xp.sum(Y * log_softmax(Z)) / Y.shape[1]


def cross_entropy_of_softmax(P: Array, Y: Array) -> Array:
    """Mean cross-entropy ``−Σ log p_true / n`` read off probabilities ``P = softmax(Z)`` already
    computed (``(n_out, n)``, one-hot ``Y`` alike), a 0-d array: six operations, two of them over
    ``n_out·n`` numbers, instead of :func:`cross_entropy`'s ten, seven of them over ``n_out·n``.

    A true-class probability that underflowed to 0 counts as the smallest normal number (a loss of
    87.3 for that sample in float32, 708.4 in float64), where the exact value is larger still; use
    :func:`cross_entropy` for that. NaN stays NaN, so a diverged network is still seen.
    """
    xp = array_namespace(P)
    p_true = xp.sum(Y * P, axis=0)  # not vecdot: numpy's makes one BLAS ddot call per sample
    return xp.sum(xp.log(xp.maximum(p_true, xp.finfo(P.dtype).smallest_normal))) / -Y.shape[1]


def loss(params: Params, X: Array, Y: Array, l2: float = 0.0) -> Array:
    """The training objective: :func:`cross_entropy` of the network's output plus ``l2/2 · Σ‖W‖²``."""
    xp = array_namespace(X)
    data_loss = cross_entropy(forward(params, X)[0][-1], Y)
    if not l2:
        return data_loss
    return data_loss + l2 / 2 * sum(xp.sum(params[f"W{l}"] ** 2) for l in range(1, num_layers(params) + 1))


def backward(params: Params, Zs: list[Array], As: list[Array], Y: Array, l2: float = 0.0) -> Params:
    """Gradients of :func:`loss` with respect to every parameter, from one :func:`forward` pass.

    Softmax and cross-entropy together give ``dZ_L = (A_L - Y) / n``; then for each layer::

        dW_l = dZ_l @ A_{l-1}.T + l2·W_l      db_l = Σ_columns dZ_l  (keepdims: shape (h_l, 1))
        dZ_{l-1} = (W_l.T @ dZ_l) * [Z_{l-1} > 0]

    The seed summed ``db`` over the whole matrix into one scalar; here each neuron gets its own.
    """
    xp = array_namespace(Y)
    L = num_layers(params)
    dZ = (As[-1] - Y) / Y.shape[1]
    grads = {}
    for l in range(L, 0, -1):
        W = params[f"W{l}"]
        grads[f"W{l}"] = dZ @ As[l - 1].T
        if l2:
            grads[f"W{l}"] = grads[f"W{l}"] + l2 * W
        grads[f"b{l}"] = xp.sum(dZ, axis=1, keepdims=True)
        if l > 1:
            # a 0/1 mask multiplied in, not xp.where: numpy's where is ~5× slower than a multiply here
            dZ = (W.T @ dZ) * xp.astype(Zs[l - 2] > 0, dZ.dtype)
    return grads


def accuracy(params: Params, X: Array, labels: Array) -> float:
    """Fraction of columns of ``X`` whose prediction equals ``labels`` (``(n,)`` integers)."""
    xp = array_namespace(X)
    return float(xp.mean(xp.astype(predict(params, X) == labels, X.dtype)))
