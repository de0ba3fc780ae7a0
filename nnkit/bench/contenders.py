"""The same classifier trained four ways, for :mod:`nnkit.bench.time_to_accuracy`: nnkit with the
defaults of ``nnkit train``, and an MLP with one hidden layer of 128 ReLU units, softmax and
cross-entropy, Adam with its published defaults (lr 1e-3, β 0.9/0.999, ε 1e-8), minibatches of
32, float32, samples in rows — written by hand in plain NumPy, scikit-learn's ``MLPClassifier``
(``alpha=0``: no L2, like the others) and PyTorch on the CPU.

Each ``fit_*`` takes the splits of one seed and returns a :class:`Run`: seconds since start and
validation accuracy after every epoch (the validation is part of the timed loop, for everyone),
and the test accuracy at the end. Normalising the data happens before the clock starts.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from nnkit import data

HIDDEN, BATCH, LR = 128, 32, 1e-3


@dataclass
class Run:
    """One training run: per epoch ``seconds`` since start and ``val_accuracy``; ``test_accuracy``."""

    seconds: list[float]
    val_accuracy: list[float]
    test_accuracy: float

    def time_to(self, threshold: float) -> float | None:
        """Seconds until the validation accuracy first reached ``threshold`` (None: never)."""
        return next((s for s, a in zip(self.seconds, self.val_accuracy) if a >= threshold), None)


def _rows(ds: data.Dataset) -> np.ndarray:
    return data.normalise(ds.images, ds.pixel_max, "float32")


def fit_nnkit(splits, seed: int, epochs: int, threads: int) -> Run:
    """``nnkit train --seed SEED --epochs EPOCHS`` on these splits, without its printing (the caller
    holds the threads): its default hidden layers between the splits' pixels and classes."""
    from nnkit import cli, commands
    from nnkit.experiment import Experiment

    args = commands.train_defaults(cli.build_parser().parse_args(
        ["train", "--seed", str(seed), "--epochs", str(epochs)]))
    train_set, val_set, test_set = splits
    sizes = [train_set.images.shape[1], *args.hidden, train_set.n_classes]
    experiment = Experiment(train_set, args.backend, args.dtype, sizes, seed=args.seed, chunk_size=args.chunk_size)
    history = experiment.fit(train_set, val_set, args)
    return Run(history.seconds, history.val_accuracy, experiment.accuracy(test_set))


def fit_plain_numpy(splits, seed: int, epochs: int, threads: int) -> Run:
    """The MLP by hand: ``Z = X·W + b`` with one sample per row, Adam's moments updated in place."""
    train_set, val_set, test_set = splits
    X, X_val, X_test = (_rows(ds) for ds in splits)
    Y = np.eye(10, dtype=np.float32)[train_set.labels]
    rng = np.random.default_rng(seed)
    n, d = X.shape
    params = [(rng.standard_normal((d, HIDDEN)) * (2 / d) ** 0.5).astype(np.float32), np.zeros(HIDDEN, np.float32),
              (rng.standard_normal((HIDDEN, 10)) * (2 / HIDDEN) ** 0.5).astype(np.float32), np.zeros(10, np.float32)]
    moments = [np.zeros_like(p) for p in params], [np.zeros_like(p) for p in params]
    predict = lambda X: (np.maximum(X @ params[0] + params[1], 0) @ params[2] + params[3]).argmax(axis=1)  # noqa: E731
    seconds, accuracy, step, start = [], [], 0, time.perf_counter()
    for _ in range(epochs):
        perm = rng.permutation(n)
        Xs, Ys = X[perm], Y[perm]
        for i in range(0, n, BATCH):
            step += 1
            _plain_step(params, moments, Xs[i : i + BATCH], Ys[i : i + BATCH], step)
        accuracy.append(float((predict(X_val) == val_set.labels).mean()))
        seconds.append(time.perf_counter() - start)
    return Run(seconds, accuracy, float((predict(X_test) == test_set.labels).mean()))


def _plain_step(params: list, moments: tuple, X: np.ndarray, Y: np.ndarray, t: int) -> None:
    W1, b1, W2, b2 = params
    H = X @ W1 + b1
    A = np.maximum(H, 0)
    Z = A @ W2 + b2
    E = np.exp(Z - Z.max(axis=1, keepdims=True))
    dZ = (E / E.sum(axis=1, keepdims=True) - Y) / len(X)
    dA = dZ @ W2.T
    dA *= H > 0
    grads = (X.T @ dA, dA.sum(axis=0), A.T @ dZ, dZ.sum(axis=0))
    step = LR * (1 - 0.999**t) ** 0.5 / (1 - 0.9**t)
    for p, m, s, g in zip(params, *moments, grads):
        m *= 0.9
        m += 0.1 * g
        s *= 0.999
        s += 0.001 * g * g
        p -= step * m / (np.sqrt(s) + 1e-8)


def fit_sklearn(splits, seed: int, epochs: int, threads: int) -> Run:
    """scikit-learn's ``MLPClassifier``, one ``partial_fit`` (one shuffled epoch) at a time."""
    from sklearn.neural_network import MLPClassifier

    train_set, val_set, test_set = splits
    X, X_val, X_test = (_rows(ds) for ds in splits)
    net = MLPClassifier(hidden_layer_sizes=(HIDDEN,), solver="adam", batch_size=BATCH, learning_rate_init=LR, alpha=0.0,
                        random_state=seed)
    seconds, accuracy, start = [], [], time.perf_counter()
    for _ in range(epochs):
        net.partial_fit(X, train_set.labels, classes=np.arange(10))
        accuracy.append(float((net.predict(X_val) == val_set.labels).mean()))
        seconds.append(time.perf_counter() - start)
    return Run(seconds, accuracy, float((net.predict(X_test) == test_set.labels).mean()))


def fit_torch(splits, seed: int, epochs: int, threads: int) -> Run:
    """PyTorch on the CPU on ``threads`` threads: ``nn.Linear`` layers, ``optim.Adam``."""
    import torch

    train_set, val_set, test_set = splits
    X, X_val, X_test = (torch.from_numpy(_rows(ds)) for ds in splits)
    y = torch.from_numpy(train_set.labels)
    torch.manual_seed(seed)
    torch.set_num_threads(threads)
    net = torch.nn.Sequential(torch.nn.Linear(X.shape[1], HIDDEN), torch.nn.ReLU(), torch.nn.Linear(HIDDEN, 10))
    optimizer, loss = torch.optim.Adam(net.parameters(), lr=LR), torch.nn.CrossEntropyLoss()

    def accuracy_on(X, labels) -> float:
        with torch.no_grad():
            return float((net(X).argmax(dim=1).numpy() == labels).mean())

    seconds, accuracy, start = [], [], time.perf_counter()
    for _ in range(epochs):
        perm = torch.randperm(len(X))
        for i in range(0, len(X), BATCH):
            batch = perm[i : i + BATCH]
            optimizer.zero_grad()
            loss(net(X[batch]), y[batch]).backward()
            optimizer.step()
        accuracy.append(accuracy_on(X_val, val_set.labels))
        seconds.append(time.perf_counter() - start)
    return Run(seconds, accuracy, accuracy_on(X_test, test_set.labels))


CONTENDERS = {"nnkit": (fit_nnkit, None), "plain numpy": (fit_plain_numpy, None),
              "scikit-learn": (fit_sklearn, "sklearn"), "pytorch": (fit_torch, "torch")}
"""name → (fit function, the optional module it needs or None)."""
