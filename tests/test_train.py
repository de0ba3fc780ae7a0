"""nnkit.train: batching, history, reproducibility and divergence detection."""

import warnings

import numpy as np
import pytest

import array_api_compat.numpy as xnp
from nnkit import model, optim, train
from nnkit.backends.namespaces import namespace


def problem(seed=0, n=120):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((6, n))
    labels = np.argmax(X[:3], axis=0)
    return X, np.eye(3)[:, labels], labels


def run(seed, epochs=3, optimizer="adam", lr=None, on_epoch=None):
    X, Y, labels = problem()
    rng = np.random.default_rng(seed)
    params = model.init([6, 10, 3], xnp, rng)
    return train.fit(params, X, Y, optim.make(optimizer, lr), epochs=epochs, batch_size=16, rng=rng,
                     validation=(X, labels), on_epoch=on_epoch, progress=False)


def test_every_sample_is_seen_once_per_epoch(monkeypatch):
    seen = []
    real_step = train.train_step

    def spy(params, X, Y, optimizer, l2=0.0):
        seen.append(np.asarray(X[0]))
        return real_step(params, X, Y, optimizer, l2)

    monkeypatch.setattr(train, "train_step", spy)
    X, Y, labels = problem(n=103)
    X[0] = np.arange(103)  # feature 0 names the sample
    train.fit(model.init([6, 4, 3], xnp, np.random.default_rng(0)), X, Y, optim.make("sgd"),
              epochs=2, batch_size=10, rng=np.random.default_rng(1), progress=False)
    assert [len(b) for b in seen] == ([10] * 10 + [3]) * 2
    first, second = np.concatenate(seen[:11]), np.concatenate(seen[11:])
    assert sorted(first) == sorted(second) == list(range(103))
    assert list(first) != list(second)  # reshuffled


def test_history_has_one_entry_per_epoch():
    _, history = run(seed=0, epochs=4)
    for series in (history.loss, history.train_accuracy, history.val_loss, history.val_accuracy, history.seconds):
        assert len(series) == 4
    assert history.loss[-1] < history.loss[0]
    assert history.seconds == sorted(history.seconds)


def test_same_seed_same_numbers_different_seed_different_numbers():
    (p1, h1), (p2, h2), (_, h3) = run(seed=5), run(seed=5), run(seed=6)
    assert h1.loss == h2.loss
    for k in p1:
        np.testing.assert_array_equal(p1[k], p2[k])
    assert h1.loss != h3.loss


def test_divergence_stops_with_a_clear_message_before_saving():
    saved = []
    with pytest.raises(train.Diverged, match=r"loss is (nan|inf) at epoch \d+, batch \d+") as info:
        run(seed=0, epochs=50, optimizer="sgd", lr=1e30, on_epoch=lambda epoch, params, history: saved.append(epoch))
    assert saved == list(range(1, info.value.epoch))  # every saved epoch came before the bad one


def test_an_epoch_whose_last_update_explodes_is_not_handed_on():
    """The loss of every batch was finite, but the parameters the epoch ends with are not usable."""
    X, Y, labels = problem()
    saved = []

    class ExplodeOnLastStep:
        steps = 0

        def step(self, params, grads):
            self.steps += 1
            return {k: v * (1e308 if self.steps == 8 * 2 else 1.0) - 0.01 * grads[k] for k, v in params.items()}

    with pytest.raises(train.Diverged, match="epoch 2, the end") as info:
        with np.errstate(all="ignore"):
            train.fit(model.init([6, 10, 3], xnp, np.random.default_rng(0)), X, Y, ExplodeOnLastStep(), epochs=3,
                      batch_size=16, rng=np.random.default_rng(0), on_epoch=lambda e, p, h: saved.append(e), progress=False)
    assert info.value.batch is None and saved == [1]


def test_full_batch_training_does_not_shuffle():
    X, Y, labels = problem()

    class NoRandom:
        def permutation(self, n):
            raise AssertionError("full-batch gradient descent drew a permutation")

    train.fit(model.init([6, 4, 3], xnp, np.random.default_rng(0)), X, Y, optim.make("gd"), epochs=2,
              batch_size=X.shape[1], rng=NoRandom(), progress=False)


DIVERGING_CASES = 18  # seeded: namespace × dtype × optimizer × learning rate × layer sizes


@pytest.mark.parametrize("case", range(DIVERGING_CASES))
def test_divergence_warns_nothing_and_its_advice_fits_the_run(case):
    """No numpy RuntimeWarning before the Diverged error (or at all: a few of these runs go flat, not
    to infinity); float64 is advised only to a float32 run; numpy's error state is the caller's again."""
    rng = np.random.default_rng(case)
    backend = ["numpy", "strict", "dask"][case % 3]
    dtype = ["float32", "float64"][rng.integers(2)]
    optimizer = ["gd", "sgd", "momentum", "adam"][rng.integers(2 if backend == "dask" else 4)]  # (dask: no running
    lr = 10.0 ** rng.uniform(30, 300)  # averages, whose graphs grow every step without the CLI's persisting wrapper)
    xp = namespace(backend)
    X, Y, labels = problem(seed=case)
    X, Y = (xp.asarray(a.astype(dtype)) for a in (X, Y))
    params = model.init([6, *rng.integers(1, 40, size=rng.integers(1, 3)).tolist(), 3], xp, np.random.default_rng(case), getattr(xp, dtype))
    before = np.geterr()
    with warnings.catch_warnings(record=True) as shown:
        warnings.simplefilter("always")
        try:
            train.fit(params, X, Y, optim.make(optimizer, lr), epochs=10, batch_size=16, rng=rng, progress=False,
                      validation=(X, xp.asarray(labels)) if case % 2 else None)
        except train.Diverged as error:
            assert "smaller --lr" in str(error)
            assert ("--dtype float64" in str(error)) == (dtype == "float32")
    assert [str(w.message) for w in shown] == []
    assert np.geterr() == before


def test_numpy_warns_again_after_training():
    """The silence is scoped to training: the caller's own overflow still warns."""
    X, Y, labels = problem()
    with pytest.raises(train.Diverged):
        train.fit(model.init([6, 4, 3], xnp, np.random.default_rng(0)), X, Y, optim.make("sgd", 1e200), epochs=3,
                  batch_size=16, rng=np.random.default_rng(0), progress=False)
    with pytest.warns(RuntimeWarning, match="overflow"):
        np.array([1e308]) * 10


@pytest.mark.parametrize("dtype, backends", [("float32", ["strict", "instrumented"]),
                                             ("float64", ["strict", "instrumented", "blas"])])
def test_every_backend_trains_to_the_same_bits_with_samples_stored_in_rows(dtype, backends):
    """The layout nnkit trains on (one sample per row, the network reads their transpose) and the
    flat Adam give numpy's parameters to the last bit on every backend; the blas bridge (dgemm)
    is float64 only."""
    from nnkit import data
    from nnkit.backends import to_numpy

    train_set, val_set, _ = data.split(data.load_digits(), seed=0)

    def trained(backend):
        xp = namespace(backend)
        X = xp.asarray(data.normalise(train_set.images, 16, dtype)).T
        Y = data.one_hot(xp.asarray(train_set.labels), 10, dtype=getattr(xp, dtype))
        X_val = xp.asarray(data.normalise(val_set.images, 16, dtype)).T
        rng = np.random.default_rng(0)
        params = model.init([64, 32, 10], xp, rng, getattr(xp, dtype))
        params, history = train.fit(params, X, Y, optim.make("adam"), epochs=2, batch_size=128, rng=rng,
                                    validation=(X_val, xp.asarray(val_set.labels)), progress=False)
        return {k: np.asarray(to_numpy(v)) for k, v in params.items()}, history

    expected, expected_history = trained("numpy")
    assert expected["W1"].dtype == dtype
    for backend in backends:
        params, history = trained(backend)
        assert history.loss == expected_history.loss and history.val_accuracy == expected_history.val_accuracy, backend
        for k in expected:
            np.testing.assert_array_equal(params[k], expected[k], err_msg=backend)
