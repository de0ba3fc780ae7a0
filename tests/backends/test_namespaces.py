"""nnkit.backends.namespaces: backend names, and the network unchanged on each namespace."""

import numpy as np
import pytest
from array_api_compat import array_namespace

from digits_training import train_digits
from nnkit.backends import namespace, to_numpy


@pytest.mark.parametrize("name, module", [("numpy", "array_api_compat.numpy"), ("strict", "array_api_strict")])
def test_names_give_namespaces(name, module):
    xp = namespace(name)
    assert xp.__name__ == module
    assert array_namespace(xp.asarray([1.0])) is xp


def test_unknown_backend_lists_the_choices():
    with pytest.raises(ValueError, match="'torch'.*numpy, strict"):
        namespace("torch")


def test_to_numpy_gives_numpy_arrays():
    x = namespace("strict").asarray([[1.0, 2.0]])
    assert isinstance(to_numpy(x), np.ndarray)
    np.testing.assert_array_equal(to_numpy(x), [[1.0, 2.0]])


@pytest.mark.parametrize("dtype, atol", [("float64", 1e-12), ("float32", 1e-6)])
def test_numpy_and_array_api_strict_train_to_the_same_network(dtype, atol):
    p_np, _, acc_np = train_digits(namespace("numpy"), dtype, epochs=3)
    p_st, _, acc_st = train_digits(namespace("strict"), dtype, epochs=3)
    assert acc_np == acc_st and acc_np > 0.9
    for k in p_np:
        assert p_st[k].dtype == p_np[k].dtype == np.dtype(dtype)
        np.testing.assert_allclose(p_st[k], p_np[k], rtol=0, atol=atol)
