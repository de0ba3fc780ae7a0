"""nnkit.model: the seed's equations, checked against a plain-NumPy transcription of the seed."""

import numpy as np
import pytest

import array_api_compat.numpy as xnp
from nnkit import model


# --- the oracle: the seed's own code, transcribed, with its bugs fixed (marked FIXED) -------------
def seed_forward(w1, b1, w2, b2, X):
    Z1 = w1.dot(X) + b1
    a1 = np.maximum(0, Z1)
    Z2 = w2.dot(a1) + b2
    e = np.exp(Z2 - Z2.max(axis=0, keepdims=True))  # FIXED: the seed's softmax overflows for large Z
    a2 = e / e.sum(axis=0, keepdims=True)
    return Z1, a1, Z2, a2


def seed_backward(Z1, a1, a2, w2, X, Y):
    m = X.shape[1]
    dZ2 = a2 - Y
    dW2 = 1 / m * dZ2.dot(a1.T)
    db2 = 1 / m * np.sum(dZ2, axis=1, keepdims=True)  # FIXED: the seed summed to one scalar
    dZ1 = w2.T.dot(dZ2) * (Z1 > 0)
    dW1 = 1 / m * dZ1.dot(X.T)
    db1 = 1 / m * np.sum(dZ1, axis=1, keepdims=True)  # FIXED: same
    return dW1, db1, dW2, db2


@pytest.fixture
def net():
    rng = np.random.default_rng(7)
    params = model.init([12, 9, 4], xnp, rng)
    params["b1"] = xnp.asarray(rng.standard_normal((9, 1)))  # non-zero biases exercise the broadcast
    X = rng.standard_normal((12, 15))
    Y = np.eye(4)[:, rng.integers(0, 4, 15)]
    return params, X, Y


def test_forward_matches_the_seed(net):
    params, X, Y = net
    Zs, As = model.forward(params, X)
    Z1, a1, Z2, a2 = seed_forward(params["W1"], params["b1"], params["W2"], params["b2"], X)
    for got, want in zip([Zs[0], As[1], Zs[1], As[2]], [Z1, a1, Z2, a2]):
        np.testing.assert_allclose(got, want, rtol=1e-14, atol=1e-15)


def test_backward_matches_the_seed(net):
    params, X, Y = net
    Zs, As = model.forward(params, X)
    grads = model.backward(params, Zs, As, Y)
    Z1, a1, _, a2 = seed_forward(params["W1"], params["b1"], params["W2"], params["b2"], X)
    want = dict(zip(["W1", "b1", "W2", "b2"], seed_backward(Z1, a1, a2, params["W2"], X, Y)))
    for name in want:
        assert grads[name].shape == params[name].shape
        np.testing.assert_allclose(grads[name], want[name], rtol=1e-12, atol=1e-15)


def test_bias_gradient_is_one_number_per_neuron(net):
    params, X, Y = net
    grads = model.backward(params, *model.forward(params, X), Y)
    assert grads["b1"].shape == (9, 1)
    assert len(np.unique(grads["b1"])) > 1  # the seed's bug made every entry the same


def test_init_is_he_scaled_and_biases_zero():
    params = model.init([400, 300, 10], xnp, np.random.default_rng(0))
    assert np.std(params["W1"]) == pytest.approx(np.sqrt(2 / 400), rel=0.02)
    assert np.std(params["W2"]) == pytest.approx(np.sqrt(2 / 300), rel=0.05)
    assert not params["b1"].any() and not params["b2"].any()
    assert model.layer_sizes(params) == [400, 300, 10]


def test_init_float32_and_float64_start_from_the_same_numbers():
    p64 = model.init([5, 4, 3], xnp, np.random.default_rng(3), xnp.float64)
    p32 = model.init([5, 4, 3], xnp, np.random.default_rng(3), xnp.float32)
    assert p32["W1"].dtype == np.float32
    np.testing.assert_array_equal(p32["W1"], p64["W1"].astype(np.float32))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_softmax_and_loss_are_finite_for_huge_logits(dtype):
    Z = np.array([[1000.0, -1000.0], [0.0, 1000.0], [-1000.0, 999.0]], dtype=dtype)
    Y = np.eye(3, dtype=dtype)[:, [2, 0]]  # the true classes get probability ~0
    P = model.softmax(Z)
    assert np.all(np.isfinite(P)) and np.allclose(P.sum(axis=0), 1)
    assert P.dtype == dtype
    loss = float(model.cross_entropy(Z, Y))
    assert np.isfinite(loss) and loss == pytest.approx((2000 + 2000 + np.log1p(np.exp(-1))) / 2, rel=1e-6)


def test_loss_adds_half_l2_of_the_weights(net):
    params, X, Y = net
    penalty = 0.5 * 0.1 * sum(np.sum(params[k] ** 2) for k in ("W1", "W2"))
    assert float(model.loss(params, X, Y, l2=0.1)) == pytest.approx(float(model.loss(params, X, Y)) + penalty, rel=1e-12)


@pytest.mark.parametrize("hidden", [[], [8], [8, 6], [8, 6, 5]])
def test_any_number_of_hidden_layers(hidden):
    rng = np.random.default_rng(1)
    sizes = [7, *hidden, 3]
    params = model.init(sizes, xnp, rng)
    Zs, As = model.forward(params, rng.standard_normal((7, 4)))
    assert [a.shape for a in As] == [(s, 4) for s in sizes]
    np.testing.assert_allclose(As[-1].sum(axis=0), 1)
    assert model.predict(params, As[0]).shape == (4,)


LOSS_CASES = 30  # seeded: dtype × classes × samples × logit scale


@pytest.mark.parametrize("case", range(LOSS_CASES))
def test_the_loss_read_off_the_softmax_is_the_loss_from_the_logits(case):
    rng = np.random.default_rng(case)
    dtype = [np.float32, np.float64][case % 2]
    k, n = int(rng.integers(2, 12)), int(rng.integers(1, 40))
    Z = (rng.standard_normal((k, n)) * 10.0 ** rng.uniform(-2, 1.2)).astype(dtype)  # |logit gaps| up to ~80: no underflow
    Y = np.eye(k, dtype=dtype)[:, rng.integers(0, k, n)]
    got = model.cross_entropy_of_softmax(model.softmax(Z), Y)
    assert got.dtype == dtype
    np.testing.assert_allclose(float(got), float(model.cross_entropy(Z, Y)), rtol=1e-4 if dtype == np.float32 else 1e-11, atol=1e-6)


@pytest.mark.parametrize("dtype, floor", [(np.float32, 87.33), (np.float64, 708.39)])
def test_an_underflowed_probability_gives_a_finite_loss_and_nan_stays_nan(dtype, floor):
    Z = np.array([[0.0, 0.0], [2000.0, 0.0]], dtype=dtype)  # sample 0: its true class 0 has probability e^-2000 = 0
    Y = np.eye(2, dtype=dtype)[:, [0, 0]]
    loss = float(model.cross_entropy_of_softmax(model.softmax(Z), Y))
    assert loss == pytest.approx((floor + np.log(2)) / 2, rel=1e-3)  # the smallest normal's -log, not inf
    assert np.isnan(float(model.cross_entropy_of_softmax(np.full((2, 2), np.nan, dtype), Y)))
