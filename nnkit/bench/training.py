"""Training speed, samples per second, side by side in one run:

* minibatch steps of 784-128-10 (batch 256, float32 and float64): nnkit on the numpy backend,
  the same network hand-written in plain NumPy, and PyTorch on the CPU when it is installed;
* the seed's mode — full-batch gradient descent, 784-10-10 on 41 000 samples — nnkit against
  the seed's own code (:mod:`nnkit.bench.seed_code`).
"""

from __future__ import annotations

import statistics

import numpy as np

from nnkit.bench.timing import median_seconds, paired

BATCH, SIZES = 256, (784, 128, 10)


def nnkit_step(dtype, rng):
    import array_api_compat.numpy as xp

    from nnkit import model, optim, train

    params = model.init(list(SIZES), xp, rng, getattr(xp, dtype))
    X = rng.random((SIZES[0], BATCH)).astype(dtype)
    Y = np.eye(SIZES[-1], dtype=dtype)[:, rng.integers(0, SIZES[-1], BATCH)]
    optimizer = optim.SGD(0.1)
    return lambda: train.train_step(params, X, Y, optimizer)


def numpy_step(dtype, rng):
    """The same network and SGD update, written directly in NumPy (no array-API layer)."""
    # scales as Python floats: a numpy float64 scalar would promote float32 weights to float64
    W1 = rng.standard_normal((SIZES[1], SIZES[0])).astype(dtype) * (2 / SIZES[0]) ** 0.5
    W2 = rng.standard_normal((SIZES[2], SIZES[1])).astype(dtype) * (2 / SIZES[1]) ** 0.5
    b1, b2 = np.zeros((SIZES[1], 1), dtype), np.zeros((SIZES[2], 1), dtype)
    X = rng.random((SIZES[0], BATCH)).astype(dtype)
    Y = np.eye(SIZES[-1], dtype=dtype)[:, rng.integers(0, SIZES[-1], BATCH)]

    def step():
        nonlocal W1, b1, W2, b2
        Z1 = W1 @ X + b1
        A1 = np.maximum(Z1, 0)
        Z2 = W2 @ A1 + b2
        E = np.exp(Z2 - Z2.max(axis=0, keepdims=True))
        P = E / E.sum(axis=0, keepdims=True)
        dZ2 = (P - Y) / BATCH
        dW2, db2 = dZ2 @ A1.T, dZ2.sum(axis=1, keepdims=True)
        dZ1 = (W2.T @ dZ2) * (Z1 > 0)
        dW1, db1 = dZ1 @ X.T, dZ1.sum(axis=1, keepdims=True)
        W1, b1, W2, b2 = W1 - 0.1 * dW1, b1 - 0.1 * db1, W2 - 0.1 * dW2, b2 - 0.1 * db2

    return step


def torch_step(dtype, rng):
    import torch

    torch_dtype = getattr(torch, dtype)
    net = torch.nn.Sequential(torch.nn.Linear(SIZES[0], SIZES[1]), torch.nn.ReLU(), torch.nn.Linear(SIZES[1], SIZES[2])).to(torch_dtype)
    optimizer = torch.optim.SGD(net.parameters(), lr=0.1)
    X = torch.from_numpy(rng.random((BATCH, SIZES[0])).astype(dtype))
    y = torch.from_numpy(rng.integers(0, SIZES[-1], BATCH))
    loss = torch.nn.CrossEntropyLoss()

    def step():
        optimizer.zero_grad()
        loss(net(X), y).backward()
        optimizer.step()

    return step


def seed_comparison(quick: bool, rng) -> dict:
    import array_api_compat.numpy as xp

    from nnkit import model, optim, train
    from nnkit.bench import seed_code

    n = 4_100 if quick else 41_000
    images = rng.integers(0, 256, (n, 784))
    labels = rng.integers(0, 10, n)
    X_seed = images.T / 255.0  # the seed's layout: a transposed (Fortran-ordered) view, float64
    seed_params = seed_code.init_params()
    repeats = 3 if quick else 5
    result = {"samples": n, "seed ms/iteration": median_seconds(lambda: seed_code.iteration(seed_params, X_seed, labels),
                                                                repeats, min_time=0.0) * 1e3}
    for dtype in ("float64", "float32"):  # full-batch GD reads all of X twice a step: half the bytes, half the time
        X = np.ascontiguousarray(images.T / 255.0, dtype=dtype)
        Y = np.eye(10, dtype=dtype)[:, labels]
        params, optimizer = model.init([784, 10, 10], xp, rng, getattr(xp, dtype)), optim.SGD(0.1)
        seconds = median_seconds(lambda: train.train_step(params, X, Y, optimizer), repeats, min_time=0.0)
        result[f"nnkit {dtype} ms/iteration"] = seconds * 1e3
        result[f"nnkit {dtype} speed-up"] = result["seed ms/iteration"] / (seconds * 1e3)
    return result


def run(quick: bool, say, results: dict | None = None) -> dict:
    rng = np.random.default_rng(0)
    makers = {"nnkit": nnkit_step, "plain numpy": numpy_step}
    try:
        import torch  # noqa: F401

        makers["pytorch"] = torch_step
    except ImportError:
        say("PyTorch is not installed (pip install 'nnkit[torch]' to compare with it)")
    rows = []
    for dtype in ("float32", "float64"):
        steps = {name: make(dtype, rng) for name, make in makers.items()}
        pairs = {name: paired(step, steps["nnkit"], 5 if quick else 15) for name, step in steps.items() if name != "nnkit"}
        rates = {"nnkit": BATCH / statistics.median(p["other"] for p in pairs.values()),
                 **{name: BATCH / p["plain"] for name, p in pairs.items()}}
        row = {"dtype": dtype, **{f"{k} samples/s": v for k, v in rates.items()},
               **{f"nnkit÷{k}": 1 / p["ratio"] for k, p in pairs.items()}}  # time ratio → speed ratio, per pair
        rows.append(row)
        say(f"784-128-10, batch {BATCH}, {dtype}: " + "  ".join(f"{k} {v:,.0f} samples/s" for k, v in rates.items())
            + "  — nnkit ÷ " + ", ".join(f"{k} {row[f'nnkit÷{k}']:.2f}" for k in rates if k != "nnkit"))
    seed = seed_comparison(quick, rng)
    say(f"seed's full-batch GD, 784-10-10 on {seed['samples']:,} samples: seed's code (float64) {seed['seed ms/iteration']:.1f} ms "
        f"per iteration; nnkit float64 {seed['nnkit float64 ms/iteration']:.1f} ms ({seed['nnkit float64 speed-up']:.2f}×), "
        f"float32 {seed['nnkit float32 ms/iteration']:.1f} ms ({seed['nnkit float32 speed-up']:.2f}×)")
    return {"minibatch": rows, "seed": seed}
