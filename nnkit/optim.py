"""Update rules: the seed's gradient descent, momentum and Adam (all array-API, no numpy import).

Each optimiser has ``step(params, grads) -> params`` and returns new arrays (it never writes into
the caller's, so a step can be undone by keeping the old dict). Full-batch gradient descent and
minibatch SGD share one rule, ``p ← p − lr·g``; they differ only in how many samples ``g`` averages,
which is the training loop's business (``batch_size``). L2 weight decay is part of the loss
(:func:`nnkit.model.loss`), so its gradient arrives in ``grads`` and every rule honours it.
"""

from __future__ import annotations

import math

from array_api_compat import array_namespace

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

    How it is computed, for speed (each measured in tutorial 9), never changing the equations:

    * all parameters as one flat vector: every rule above is elementwise, so it runs once over
      the concatenated gradients instead of once per array — twelve operations a step rather
      than twelve per parameter array (four arrays for one hidden layer). The parameters handed
      back are views of the new vector; the vector this optimiser returned last time is reused
      when the same arrays come back, and made again by concatenation otherwise.
    * the paper's own "more efficient" order (end of its section 2): both bias corrections folded
      into one step size ``lr·√(1−β2ᵗ)/(1−β1ᵗ)`` and ``ε·√(1−β2ᵗ)``.
    * ``m`` and ``s`` are the optimiser's own, updated in place (``*=``, ``+=``; where arrays
      cannot be written, as in dask, Python makes new ones). The parameters are never written.
    * every :attr:`FLUSH_EVERY` steps, a moment that would decay into the subnormal range before
      the next flush (below ``smallest_normal / βᴷ``) is set to 0. A weight whose gradient has
      stopped (a pixel that is off in every later batch) has its ``m`` shrink by ``β1`` a step,
      below float32's smallest normal (1.2e-38) after log(|m| ÷ 1.2e-38) ÷ log(1/β1) steps (about
      800 from |m| = 0.05; tutorial 9 counts the default training's); many CPUs compute with such
      numbers through a slow microcode path (a whole step was 1.3–1.6× slower late in a run on the
      Xeon this was written on; tutorial 9 times the flush on yours: 4.5 % on a Zen 3). What is
      zeroed is below ``7e-38``; its share of an update, ``lr·m/(√s + ε)``, is below ``lr·1e-29``.
    """

    FLUSH_EVERY = 16

    def __init__(self, lr: float = 1e-3, beta1: float = 0.9, beta2: float = 0.999, eps: float = 1e-8):
        self.lr, self.beta1, self.beta2, self.eps = lr, beta1, beta2, eps
        self.t, self.m, self.s = 0, None, None
        self._returned: tuple = ()  # the arrays the last step handed back, and the vector they view
        self._flat = None

    def step(self, params: Params, grads: Params) -> Params:
        b1, b2 = self.beta1, self.beta2
        xp = array_namespace(next(iter(grads.values())))  # once a step: finding it costs a few µs
        g = _flatten(xp, [grads[k] for k in params])  # in the parameters' order (backward makes the last layer's first)
        if self.m is None:
            self.m, self.s = 0 * g, 0 * g
        self.t += 1
        root_c2 = (1 - b2**self.t) ** 0.5
        lr, eps = self.lr * root_c2 / (1 - b1**self.t), self.eps * root_c2
        self.m *= b1
        self.m += (1 - b1) * g
        self.s *= b2
        self.s += (1 - b2) * (g * g)
        p = self._flat if _same(params.values(), self._returned) else _flatten(xp, list(params.values()))
        self._flat = p - lr * self.m / (self.s**0.5 + eps)
        new = _unflatten(xp, self._flat, params)
        self._returned = tuple(new.values())
        if self.t % self.FLUSH_EVERY == 0:
            self._flush()
        return new

    def _flush(self) -> None:
        """Zero the moments that would be subnormal before the next flush (see the class docstring)."""
        xp = array_namespace(self.m)
        tiny = xp.finfo(self.m.dtype).smallest_normal
        self.m *= xp.astype(xp.abs(self.m) >= tiny / self.beta1**self.FLUSH_EVERY, self.m.dtype)
        self.s *= xp.astype(self.s >= tiny / self.beta2**self.FLUSH_EVERY, self.s.dtype)


def _flatten(xp, arrays: list):
    """All of ``arrays`` (of namespace ``xp``), in order, as one 1-D array (a copy)."""
    return xp.concat([xp.reshape(a, (-1,)) for a in arrays])


def _unflatten(xp, flat, like: Params) -> Params:
    """Views of the 1-D ``flat`` (of namespace ``xp``), shaped and named like ``like``'s arrays, in order."""
    start, out = 0, {}
    for k, a in like.items():
        size = math.prod(a.shape)
        out[k] = xp.reshape(flat[start : start + size], a.shape)
        start += size
    return out


def _same(arrays, returned: tuple) -> bool:
    """Whether ``arrays`` are exactly the arrays of ``returned`` (identity, not values)."""
    arrays = tuple(arrays)
    return len(arrays) == len(returned) and all(a is b for a, b in zip(arrays, returned))


OPTIMIZERS = {"gd": SGD, "sgd": SGD, "momentum": Momentum, "adam": Adam}
"""Names the CLI accepts. ``gd`` is ``sgd`` on the whole training set at once (the seed's mode)."""

DEFAULT_LR = {"gd": 0.5, "sgd": 0.1, "momentum": 0.05, "adam": 1e-2}


def make(name: str, lr: float | None = None):
    """Build an optimiser by name with its default learning rate unless ``lr`` is given."""
    if name not in OPTIMIZERS:
        raise ValueError(f"unknown optimizer {name!r}; choose one of {', '.join(OPTIMIZERS)}")
    return OPTIMIZERS[name](lr=DEFAULT_LR[name] if lr is None else lr)
