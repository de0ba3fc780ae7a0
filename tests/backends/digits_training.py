"""Shared by the backend tests (imported by name): the same small training run on any namespace."""

from __future__ import annotations

import numpy as np

from nnkit import data, model, optim, train
from nnkit.backends import to_numpy


def train_digits(xp, dtype: str = "float64", epochs: int = 2):
    """Two epochs of Adam on the bundled digits (64-32-10, batch 32, seed 0) in namespace ``xp``.

    Returns the parameters as numpy arrays, the history and the test accuracy."""
    train_set, _, test_set = data.split(data.load_digits(), seed=0)
    features = lambda ds: xp.asarray(np.ascontiguousarray(data.normalise(ds.images, 16, dtype).T))  # noqa: E731
    Y = data.one_hot(xp.asarray(train_set.labels), 10, dtype=getattr(xp, dtype))
    rng = np.random.default_rng(0)
    params = model.init([64, 32, 10], xp, rng, getattr(xp, dtype))
    params, history = train.fit(params, features(train_set), Y, optim.make("adam"), epochs=epochs, batch_size=32,
                                rng=rng, progress=False)
    accuracy = model.accuracy(params, features(test_set), xp.asarray(test_set.labels))
    return {k: to_numpy(v) for k, v in params.items()}, history, accuracy
