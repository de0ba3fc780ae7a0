"""The ``blas`` backend: the unchanged network, every product through the bridge, numpy's numbers."""

import numpy as np
import pytest

from nnkit import data, model, optim, train
from nnkit.backends import bridged, dgemm as bridge, namespace


def train_digits(backend: str, epochs: int = 2):
    xp = namespace(backend)
    train_set, _, test_set = data.split(data.load_digits(), seed=0)
    X = xp.asarray(np.ascontiguousarray(data.normalise(train_set.images, 16).T))
    Y = data.one_hot(xp.asarray(train_set.labels), 10, dtype=xp.float64)
    rng = np.random.default_rng(0)
    params = model.init([64, 32, 10], xp, rng, xp.float64)
    params, _ = train.fit(params, X, Y, optim.make("adam"), epochs=epochs, batch_size=32, rng=rng, progress=False)
    return params


def test_training_on_the_bridge_gives_numpys_parameters_bit_for_bit(monkeypatch):
    calls = []
    real = bridge.dgemm
    monkeypatch.setattr(bridge, "dgemm", lambda *a, **k: calls.append(1) or real(*a, **k))
    on_bridge = train_digits("blas")
    on_numpy = train_digits("numpy")
    # 40 batches × 2 epochs × (2 forward + 3 backward products: dW2, dA1, dW1), and per epoch the
    # 2 forward products of the end-of-epoch divergence check
    assert len(calls) == 40 * 2 * 5 + 2 * 2
    for name in on_numpy:
        assert type(on_bridge[name]) is bridged.BridgedArray
        np.testing.assert_array_equal(np.asarray(on_bridge[name]), on_numpy[name])


def test_products_of_bridged_arrays_stay_bridged_and_float32_is_refused():
    xp = namespace("blas")
    a = xp.asarray(np.ones((2, 3)))
    assert type(a @ np.ones((3, 2))) is bridged.BridgedArray
    assert type(np.ones((4, 2)) @ a) is bridged.BridgedArray
    with pytest.raises(bridge.BridgeError, match="float64"):
        xp.asarray(np.ones((2, 2), np.float32)) @ xp.asarray(np.ones((2, 2), np.float32))
