"""Update rules: the seed's gradient descent, momentum and Adam (all array-API, no numpy import).

Each optimiser has ``step(params, grads) -> params`` and returns new arrays (it never writes into
the caller's, so a step can be undone by keeping the old dict). Full-batch gradient descent and
minibatch SGD share one rule, ``p ← p − lr·g``; they differ only in how many samples ``g`` averages,
which is the training loop's business (``batch_size``). L2 weight decay is part of the loss
(:func:`nnkit.model.loss`), so its gradient arrives in ``grads`` and every rule honours it.
"""

from __future__ import annotations

from nnkit.model import Params


class SGD:
    """``p ← p − lr·g`` — the seed's update (``W1 = W1 - alpha * dW1``)."""

    def __init__(self, lr: float = 0.1):
        self.lr = lr

    def step(self, params: Params, grads: Params) -> Params:
        return {k: p - self.lr * grads[k] for k, p in params.items()}


class Momentum:
    """Heavy-ball momentum: ``v ← μ·v + g``, ``p ← p − lr·v``."""

    def __init__(self, lr: float = 0.05, mu: float = 0.9):
        self.lr, self.mu, self.v = lr, mu, None

    def step(self, params: Params, grads: Params) -> Params:
        self.v = dict(grads) if self.v is None else {k: self.mu * v + grads[k] for k, v in self.v.items()}
        return {k: p - self.lr * self.v[k] for k, p in params.items()}


class Adam:
    """Adam (Kingma & Ba, 2015): bias-corrected running means of ``g`` and ``g²``.

    ``m ← β1·m + (1−β1)·g``, ``s ← β2·s + (1−β2)·g²``, ``p ← p − lr·m̂ / (√ŝ + ε)`` with
    ``m̂ = m / (1−β1ᵗ)``, ``ŝ = s / (1−β2ᵗ)``.
    """

    def __init__(self, lr: float = 1e-3, beta1: float = 0.9, beta2: float = 0.999, eps: float = 1e-8):
        self.lr, self.beta1, self.beta2, self.eps = lr, beta1, beta2, eps
        self.t, self.m, self.s = 0, None, None

    def step(self, params: Params, grads: Params) -> Params:
        b1, b2 = self.beta1, self.beta2
        if self.m is None:
            self.m = {k: 0 * g for k, g in grads.items()}
            self.s = {k: 0 * g for k, g in grads.items()}
        self.t += 1
        self.m = {k: b1 * m + (1 - b1) * grads[k] for k, m in self.m.items()}
        self.s = {k: b2 * s + (1 - b2) * grads[k] ** 2 for k, s in self.s.items()}
        c1, c2 = 1 - b1**self.t, 1 - b2**self.t
        return {k: p - self.lr * (self.m[k] / c1) / ((self.s[k] / c2) ** 0.5 + self.eps) for k, p in params.items()}


OPTIMIZERS = {"gd": SGD, "sgd": SGD, "momentum": Momentum, "adam": Adam}
"""Names the CLI accepts. ``gd`` is ``sgd`` on the whole training set at once (the seed's mode)."""

DEFAULT_LR = {"gd": 0.5, "sgd": 0.1, "momentum": 0.05, "adam": 3e-3}


def make(name: str, lr: float | None = None):
    """Build an optimiser by name with its default learning rate unless ``lr`` is given."""
    if name not in OPTIMIZERS:
        raise ValueError(f"unknown optimizer {name!r}; choose one of {', '.join(OPTIMIZERS)}")
    return OPTIMIZERS[name](lr=DEFAULT_LR[name] if lr is None else lr)
