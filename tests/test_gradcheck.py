"""nnkit.gradcheck: backward agrees with finite differences for every parameter."""

import numpy as np
import pytest

import array_api_compat.numpy as xnp
import array_api_strict as xstrict
from nnkit import gradcheck, model


def random_problem(xp, sizes, n, seed):
    rng = np.random.default_rng(seed)
    params = model.init(sizes, xp, rng)
    params = {k: v + xp.asarray(0.1 * rng.standard_normal(v.shape)) for k, v in params.items()}
    X = xp.asarray(rng.standard_normal((sizes[0], n)))
    Y = xp.asarray(np.eye(sizes[-1])[:, rng.integers(0, sizes[-1], n)])
    return params, X, Y


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("l2", [0.0, 0.05])
def test_backward_matches_finite_differences(seed, l2):
    rng = np.random.default_rng(100 + seed)
    sizes = [int(s) for s in rng.integers(2, 7, size=rng.integers(2, 5))]
    params, X, Y = random_problem(xnp, sizes, n=int(rng.integers(1, 9)), seed=seed)
    errors = gradcheck.relative_errors(params, X, Y, l2=l2)
    assert set(errors) == set(params)
    assert max(errors.values()) < 1e-6, errors


def test_runs_unchanged_on_array_api_strict():
    errors = gradcheck.relative_errors(*random_problem(xstrict, [4, 5, 3], n=6, seed=0))
    assert max(errors.values()) < 1e-6


def test_catches_a_wrong_gradient(monkeypatch):
    """The check can fail: the seed's scalar bias gradient is caught."""
    real_backward = model.backward

    def seed_bias_bug(params, Zs, As, Y, l2=0.0):
        grads = real_backward(params, Zs, As, Y, l2)
        grads["b1"] = grads["b1"] * 0 + np.sum(grads["b1"])
        return grads

    monkeypatch.setattr(model, "backward", seed_bias_bug)
    errors = gradcheck.relative_errors(*random_problem(xnp, [4, 5, 3], n=6, seed=1))
    assert errors["b1"] > 0.1 and errors["W1"] < 1e-6
