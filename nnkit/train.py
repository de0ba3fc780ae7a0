"""The training loop: shuffle, batch, forward, backward, step — with history and divergence checks.

Array-API only (no numpy import): the data arrive in the namespace the network runs on, and the
random generator is passed in, so the same seed gives the same numbers on every backend.
"""

from __future__ import annotations

import math
import time
from dataclasses import asdict, dataclass, field
from typing import Any, Callable

from array_api_compat import array_namespace

from nnkit import float_errors, model
from nnkit.model import Params

Array = Any


class Diverged(ArithmeticError):
    """The loss became NaN or infinite; training stopped. ``epoch`` and ``batch`` are 1-based;
    ``batch`` is None when the parameters left by an epoch's last update are the bad ones. The advice
    fits the run: a smaller learning rate always; float64 only when the run is in float32."""

    def __init__(self, epoch: int, batch: int | None, value: float, float32: bool = False):
        self.epoch, self.batch, self.value = epoch, batch, value
        where = f"batch {batch}" if batch else "the end (after its last update)"
        advice = "try a smaller --lr" + (", or --dtype float64" if float32 else "")
        super().__init__(f"training diverged: loss is {value} at epoch {epoch}, {where} ({advice})")


@dataclass
class History:
    """Per-epoch figures: mean batch loss (cross-entropy), running training accuracy over the
    epoch's batches, validation loss and accuracy at the end of the epoch (empty without
    validation data), seconds since start."""

    loss: list[float] = field(default_factory=list)
    train_accuracy: list[float] = field(default_factory=list)
    val_loss: list[float] = field(default_factory=list)
    val_accuracy: list[float] = field(default_factory=list)
    seconds: list[float] = field(default_factory=list)

    def to_dict(self) -> dict:
        return asdict(self)


def train_step(params: Params, X: Array, Y: Array, optimizer, l2: float = 0.0) -> tuple[Params, Array, Array]:
    """One forward/backward/update on a batch; return ``(new params, loss, output probabilities)``.

    The loss (of the parameters before the update) is read off the softmax the forward pass
    computed (:func:`nnkit.model.cross_entropy_of_softmax`), not computed again from the logits."""
    Zs, As = model.forward(params, X)
    grads = model.backward(params, Zs, As, Y, l2)
    return optimizer.step(params, grads), model.cross_entropy_of_softmax(As[-1], Y), As[-1]


def fit(
    params: Params,
    X: Array,
    Y: Array,
    optimizer,
    *,
    epochs: int,
    batch_size: int,
    rng,
    l2: float = 0.0,
    validation: tuple[Array, Array] | None = None,
    on_epoch: Callable[[int, Params, History], None] | None = None,
    progress: bool | None = None,
    materialise: Callable | None = None,
) -> tuple[Params, History]:
    """Train on ``X`` (``(n_in, n)``) with one-hot targets ``Y`` (``(n_out, n)``).

    ``X`` is fastest as the transpose of C-contiguous rows, one sample per row (Fortran order, as
    :meth:`nnkit.experiment.Experiment.features` makes it): the shuffle gathers whole rows and each
    batch is one contiguous block (numpy's ``take`` first copies an input that is not C-contiguous
    whole, so another layout costs a copy per epoch). ``rng`` (a ``numpy.random.Generator``) shuffles the samples every epoch (not when one
    batch holds them all: the seed's full-batch mode); ``validation`` is ``(X_val, labels_val)``;
    ``on_epoch(epoch, params, history)`` runs after each epoch (the CLI saves its checkpoint
    there). ``progress`` shows a bar on stderr (``None``: only on a terminal). ``materialise``
    (for lazy namespaces such as dask: ``dask.persist``) computes each step's results together, so
    that the next step starts from values, not from an ever longer task graph.

    Raises :class:`Diverged` as soon as a batch loss is not finite, or when the parameters an
    epoch ends with give a non-finite loss — in both cases before ``on_epoch`` sees them. numpy's
    overflow warnings on the way there are silenced (:mod:`nnkit.float_errors`): the error says it.
    """
    from tqdm.auto import tqdm

    history, start = History(), time.perf_counter()
    n_batches = -(-X.shape[1] // batch_size)
    validation_Y = _one_hot_like(validation[1], Y) if validation is not None else None  # once, not per epoch
    float32 = X.dtype == array_namespace(X).float32
    with tqdm(total=epochs * n_batches, unit="batch", disable=None if progress is None else not progress) as bar, \
            float_errors.silenced():
        for epoch in range(1, epochs + 1):
            params, loss, accuracy, last_batch = _epoch(params, X, Y, optimizer, batch_size, rng, l2, epoch, bar, materialise)
            check = (validation[0], validation_Y, validation[1]) if validation is not None else last_batch
            end_loss, end_accuracy = _evaluate(params, *check)
            if not math.isfinite(end_loss):
                raise Diverged(epoch, None, end_loss, float32)
            history.loss.append(loss)
            history.train_accuracy.append(accuracy)
            if validation is not None:
                history.val_loss.append(end_loss)
                history.val_accuracy.append(end_accuracy)
            history.seconds.append(time.perf_counter() - start)
            bar.set_postfix(epoch=epoch, loss=f"{loss:.4f}", acc=f"{accuracy:.3f}")
            if on_epoch is not None:
                on_epoch(epoch, params, history)
    return params, history


def _epoch(params: Params, X: Array, Y: Array, optimizer, batch_size: int, rng, l2: float, epoch: int, bar, materialise):
    """One pass over the data; returns params, mean batch loss, running accuracy, the last batch
    (its samples, one-hot targets and labels)."""
    xp = array_namespace(X, Y)
    n = X.shape[1]
    if batch_size < n:
        # One gather per epoch of whole samples — the rows of X.T, contiguous when the data are
        # stored one sample per row (nnkit.experiment does) — then every batch is a view.
        perm = xp.asarray(rng.permutation(n))
        X, Y = xp.take(X.T, perm, axis=0).T, xp.take(Y, perm, axis=1)
    labels = xp.argmax(Y, axis=0)  # once per epoch: each batch's accuracy compares with a slice of it
    total_loss, correct = 0.0, 0
    for b, i in enumerate(range(0, n, batch_size), start=1):
        j = min(i + batch_size, n)  # the array API leaves out-of-range slice ends unspecified
        Xb, Yb = X[:, i:j], Y[:, i:j]
        params, batch_loss, out = train_step(params, Xb, Yb, optimizer, l2)
        if materialise is not None:
            names = list(params)
            *values, batch_loss, out = materialise(*params.values(), batch_loss, out)
            params = dict(zip(names, values))
        value = float(batch_loss)
        if not math.isfinite(value):
            raise Diverged(epoch, b, value, X.dtype == xp.float32)
        total_loss += value * (j - i)
        correct += int(xp.count_nonzero(xp.argmax(out, axis=0) == labels[i:j]))
        bar.update()
    return params, total_loss / n, correct / n, (Xb, Yb, labels[i:j])


def _evaluate(params: Params, X: Array, Y: Array, labels: Array) -> tuple[float, float]:
    """Cross-entropy (from the logits: exact however wrong the network) and accuracy of the
    network on ``X``, from one forward pass."""
    xp = array_namespace(X)
    Z = model.forward(params, X)[0][-1]
    loss = float(model.cross_entropy(Z, Y))
    return loss, float(xp.count_nonzero(xp.argmax(Z, axis=0) == labels)) / X.shape[1]


def _one_hot_like(labels: Array, Y: Array) -> Array:
    """One-hot columns for ``labels`` with ``Y``'s classes and dtype (comparison form: portable)."""
    xp = array_namespace(labels, Y)
    classes = xp.arange(Y.shape[0], dtype=labels.dtype)
    return xp.astype(xp.reshape(labels, (1, -1)) == xp.reshape(classes, (-1, 1)), Y.dtype)
