"""nnkit.train: batching, history, reproducibility and divergence detection."""

import numpy as np
import pytest

import array_api_compat.numpy as xnp
from nnkit import model, optim, train


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


@pytest.mark.filterwarnings("ignore:overflow:RuntimeWarning", "ignore:invalid value:RuntimeWarning")
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
