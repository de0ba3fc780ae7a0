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


def test_products_of_bridged_arrays_stay_bridged():
    xp = namespace("blas")
    a = xp.asarray(np.ones((2, 3)))
    assert type(a @ np.ones((3, 2))) is bridged.BridgedArray
    assert type(np.ones((4, 2)) @ a) is bridged.BridgedArray


SHAPES = [((3,), (3,)), ((2, 3), (3,)), ((3,), (3, 4)), ((2, 3), (3, 4)), ((5, 2, 3), (3, 4)), ((2, 3), (5, 3, 4)),
          ((5, 2, 3), (5, 3, 4)), ((0, 3), (3, 4)), ((2, 0), (0, 4)), ((2, 3), (4, 2)), ((3,), (4,))]
DTYPES = ["float64", "float32", "int8", "int64", "uint16", "complex128", "bool"]


@pytest.mark.parametrize("dtypes", [(a, b) for a in DTYPES for b in DTYPES])
def test_every_matmul_of_the_standard_is_computed_and_only_2d_float64_goes_to_dgemm(dtypes):
    """1-D, batched, empty, mismatched and every dtype pair: the result (or the error) numpy's matmul gives;
    2-D float64 @ 2-D float64 through dgemm, the rest counted as not a bridge call."""
    xp, rng, checked = namespace("blas"), np.random.default_rng(DTYPES.index(dtypes[0]) * 10 + DTYPES.index(dtypes[1])), 0
    for shape_a, shape_b in SHAPES:
        a = xp.asarray(rng.integers(-4, 5, shape_a).astype(dtypes[0]))
        b = xp.asarray(rng.integers(-4, 5, shape_b).astype(dtypes[1]))
        before = dict(bridged.CALLS)
        try:
            expected = np.matmul(np.asarray(a), np.asarray(b))
        except (ValueError, TypeError) as error:
            with pytest.raises(Exception):
                xp.matmul(a, b)
            checked += 1
            continue
        for result in (xp.matmul(a, b), a @ b):
            assert type(result) is bridged.BridgedArray and result.dtype == expected.dtype, (dtypes, shape_a, shape_b)
            np.testing.assert_allclose(result, expected, rtol=1e-6 if "float32" in dtypes else 0, atol=0)
        route = "dgemm" if a.ndim == b.ndim == 2 and dtypes == ("float64", "float64") else "not a bridge call"
        assert bridged.CALLS[route] - before.get(route, 0) == 2, (dtypes, shape_a, shape_b)
        checked += 1
    assert checked == len(SHAPES)


def test_the_namespace_has_every_name_of_numpys_with_its_signature():
    """The blas namespace is a whole array-API namespace: every public name of array_api_compat.numpy,
    same callability and parameters (matmul included)."""
    import inspect

    import array_api_compat.numpy as compat

    xp, checked = namespace("blas"), 0
    for name in (n for n in dir(compat) if not n.startswith("_") or n == "__array_namespace_info__"):
        mine, theirs = getattr(xp, name), getattr(compat, name)
        assert callable(mine) == callable(theirs), name
        if inspect.isfunction(theirs):
            parameters = [[(p.name, p.kind, p.default) for p in inspect.signature(f).parameters.values()] for f in (mine, theirs)]
            assert parameters[0] == parameters[1], name
        checked += 1
    assert checked > 500


def test_linalg_matmul_takes_the_same_road_and_a_refused_call_is_not_counted():
    xp = bridged.namespace
    a = xp.asarray(np.arange(6.0).reshape(2, 3))
    before = bridged.CALLS["dgemm"]
    assert np.array_equal(xp.linalg.matmul(a, a.T), np.asarray(a) @ np.asarray(a).T)
    assert bridged.CALLS["dgemm"] == before + 1
    with pytest.raises(bridge.BridgeError):
        xp.matmul(a, xp.asarray(np.ones((2, 2))))  # shapes that do not fit: refused
    assert bridged.CALLS["dgemm"] == before + 1
