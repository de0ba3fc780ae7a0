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


def textbook_adam(params, gradient_steps, lr, b1=0.9, b2=0.999, eps=1e-8):
    """Adam as the paper's algorithm 1 writes it, one parameter array at a time, in float64."""
    p = {k: v.astype(np.float64) for k, v in params.items()}
    m = {k: np.zeros_like(v) for k, v in p.items()}
    s = {k: np.zeros_like(v) for k, v in p.items()}
    for t, grads in enumerate(gradient_steps, start=1):
        for k in p:
            g = grads[k].astype(np.float64)
            m[k] = b1 * m[k] + (1 - b1) * g
            s[k] = b2 * s[k] + (1 - b2) * g**2
            p[k] = p[k] - lr * (m[k] / (1 - b1**t)) / (np.sqrt(s[k] / (1 - b2**t)) + eps)
    return p


ADAM_CASES = 24  # seeded: layer sizes × dtype × learning rate × steps


@pytest.mark.parametrize("case", range(ADAM_CASES))
def test_flat_adam_is_the_textbook_rule_on_every_array(case):
    """One flat vector for all parameters (and folded bias corrections) changes no equation: the
    result is the per-array float64 transcription's, to the dtype's rounding."""
    rng = np.random.default_rng(case)
    dtype = [np.float32, np.float64][case % 2]
    sizes = rng.integers(1, 20, size=rng.integers(2, 5)).tolist()
    params = {k: v.astype(dtype) for k, v in model.init(sizes, xnp, rng).items()}
    steps = [{k: (rng.standard_normal(v.shape) * 10.0 ** rng.uniform(-4, 1)).astype(dtype) for k, v in params.items()}
             for _ in range(int(rng.integers(1, 40)))]
    lr = 10.0 ** rng.uniform(-4, -1)
    opt, p = optim.Adam(lr), params
    for grads in steps:
        p = opt.step(p, dict(reversed(list(grads.items()))))  # the order backward makes them in: last layer first
    want = textbook_adam(params, steps, lr)
    for k in params:
        assert p[k].dtype == dtype and p[k].shape == params[k].shape
        np.testing.assert_allclose(p[k], want[k], rtol=2e-5 if dtype == np.float32 else 1e-12, atol=lr * 1e-5, err_msg=k)


def test_adam_uses_the_arrays_it_is_given_not_a_stale_copy():
    opt = optim.Adam(0.1)
    p = opt.step({"W1": np.ones((2, 2)), "b1": np.zeros((2, 1))}, {"W1": np.ones((2, 2)), "b1": np.ones((2, 1))})
    assert p["W1"].base is not None and p["W1"].base is p["b1"].base  # views of one vector
    edited = dict(p, W1=np.full((2, 2), 5.0))  # a new array for W1: the next step must start from it
    again = opt.step(edited, {"W1": np.zeros((2, 2)), "b1": np.zeros((2, 1))})
    assert np.all(again["W1"] > 4) and np.all(again["b1"] < 0)
    assert np.all(edited["W1"] == 5.0)  # and never writes the arrays it is given


@pytest.mark.parametrize("seed", range(4))
def test_adam_moments_never_become_subnormal_when_gradients_stop(seed):
    """Gradients of normal size that stop (0 from a random step on, per weight): without the flush,
    m decays through float32's subnormal range (after about 800 steps from |m| = 0.05), where arithmetic is slow."""
    rng = np.random.default_rng(seed)
    params = {"W1": rng.standard_normal((8, 16)).astype(np.float32), "b1": np.zeros((8, 1), np.float32)}
    stops = {k: rng.integers(1, 200, size=v.shape) for k, v in params.items()}
    opt, tiny = optim.Adam(1e-3), np.finfo(np.float32).smallest_normal
    for t in range(1, 3000):
        grads = {k: np.where(stops[k] > t, rng.standard_normal(v.shape), 0).astype(np.float32) for k, v in params.items()}
        params = opt.step(params, grads)
        for moment in (opt.m, opt.s):
            assert not np.any((moment != 0) & (np.abs(moment) < tiny)), t
    assert not np.any(opt.m)  # every moment reached 0 (it would still be subnormal, or decaying, without the flush)
