"""nnkit.optim: each update rule as its equation, and each one actually minimises."""

import numpy as np
import pytest

import array_api_compat.numpy as xnp
from nnkit import model, optim, train


def test_sgd_is_the_seeds_update():
    p, g = {"W1": np.array([1.0, -2.0])}, {"W1": np.array([0.5, 0.25])}
    new = optim.SGD(lr=0.1).step(p, g)
    np.testing.assert_array_equal(new["W1"], p["W1"] - 0.1 * g["W1"])
    np.testing.assert_array_equal(p["W1"], [1.0, -2.0])  # the caller's arrays are never written


def test_momentum_accumulates_velocity():
    opt, p = optim.Momentum(lr=0.1, mu=0.9), {"w": np.array([0.0])}
    p = opt.step(p, {"w": np.array([1.0])})  # v = 1
    p = opt.step(p, {"w": np.array([1.0])})  # v = 0.9 + 1
    assert p["w"][0] == pytest.approx(-0.1 * (1 + 1.9))


def test_adam_matches_its_equations_over_three_steps():
    opt, p = optim.Adam(lr=0.01), {"w": np.array([1.0, 1.0])}
    grads = [np.array([0.3, -4.0]), np.array([0.1, -3.0]), np.array([-0.2, 5.0])]
    m = s = np.zeros(2)
    want = p["w"].copy()
    for t, g in enumerate(grads, start=1):
        p = opt.step(p, {"w": g})
        m, s = 0.9 * m + 0.1 * g, 0.999 * s + 0.001 * g**2
        want = want - 0.01 * (m / (1 - 0.9**t)) / (np.sqrt(s / (1 - 0.999**t)) + 1e-8)
    np.testing.assert_allclose(p["w"], want, rtol=1e-15)


def test_adam_first_step_is_lr_times_sign():
    p = optim.Adam(lr=0.01).step({"w": np.array([0.0, 0.0])}, {"w": np.array([1e-3, -50.0])})
    np.testing.assert_allclose(p["w"], [-0.01, 0.01], rtol=1e-4)


@pytest.mark.parametrize("name, lr", [("gd", 0.5), ("sgd", 0.1), ("momentum", 0.05), ("adam", 0.01)])
def test_every_optimizer_fits_a_separable_problem(name, lr):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((4, 200))
    labels = (X[0] + X[1] > 0).astype(int)
    params = model.init([4, 8, 2], xnp, rng)
    Y = np.eye(2)[:, labels]
    before = float(model.loss(params, X, Y))
    params, history = train.fit(params, X, Y, optim.make(name, lr), epochs=200 if name == "gd" else 50,
                                batch_size=200 if name == "gd" else 20, rng=rng, progress=False)
    assert float(model.loss(params, X, Y)) < before / 4
    assert model.accuracy(params, X, labels) > 0.95


def test_unknown_optimizer_is_named_in_the_error():
    with pytest.raises(ValueError, match="'rmsprop'.*gd, sgd, momentum, adam"):
        optim.make("rmsprop")
