"""The ``blas`` backend: the unchanged network, every product through the bridge, numpy's numbers."""

import numpy as np
import pytest

from digits_training import train_digits
from nnkit.backends import bridged, dgemm as bridge, namespace


def test_training_on_the_bridge_gives_numpys_parameters_bit_for_bit(monkeypatch):
    calls = []
    real = bridge.dgemm
    monkeypatch.setattr(bridge, "dgemm", lambda *a, **k: calls.append(1) or real(*a, **k))
    on_bridge, _, _ = train_digits(namespace("blas"))
    on_numpy, _, _ = train_digits(namespace("numpy"))
    # 40 batches × 2 epochs × (2 forward + 3 backward products: dW2, dA1, dW1), per epoch the 2
    # forward products of the end-of-epoch divergence check, and 2 for the test accuracy
    assert len(calls) == 40 * 2 * 5 + 2 * 2 + 2
    for name in on_numpy:
        np.testing.assert_array_equal(on_bridge[name], on_numpy[name])


def test_products_of_bridged_arrays_stay_bridged_and_float32_is_refused():
    xp = namespace("blas")
    a = xp.asarray(np.ones((2, 3)))
    assert type(a @ np.ones((3, 2))) is bridged.BridgedArray
    assert type(np.ones((4, 2)) @ a) is bridged.BridgedArray
    with pytest.raises(bridge.BridgeError, match="float64"):
        xp.asarray(np.ones((2, 2), np.float32)) @ xp.asarray(np.ones((2, 2), np.float32))
