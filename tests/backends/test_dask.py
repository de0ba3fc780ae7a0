"""The unchanged network on dask.array, on a real dask.distributed LocalCluster (2 worker
processes on loopback): full-batch gradient descent gives numpy's parameters — also when a
worker is killed in the middle of training (its nanny restarts it; what it held is recomputed).

Each test here that starts a cluster costs 10–20 s on 2 cores: the default suite keeps one run on a local cluster
(tests/test_cli.py's ``test_dask_backend_on_a_local_cluster_matches_numpy``: dask's run equals numpy's) and the
cluster closed after an error; the others run with ``-m long`` (.ci/run)."""

from __future__ import annotations

import numpy as np
import pytest

from nnkit import cluster, data, model, optim, train
from nnkit.backends import namespace, to_numpy


@pytest.fixture(scope="module")
def client():
    with cluster.connect("local") as c:
        yield c


def full_batch(backend: str, steps: int = 4, chunk: int = 300, on_epoch=None):
    import dask

    xp = namespace(backend)
    train_set, _, test_set = data.split(data.load_digits(), seed=0)
    X = np.ascontiguousarray(data.normalise(train_set.images, 16).T)
    labels = train_set.labels
    if backend == "dask":
        import dask.array as da

        X, labels = da.from_array(X, chunks=(64, chunk)), da.from_array(labels, chunks=chunk)
    Y = data.one_hot(xp.asarray(labels) if backend != "dask" else labels, 10, dtype=xp.float64)
    params = model.init([64, 32, 10], xp, np.random.default_rng(0))
    materialise = (lambda *arrays: dask.persist(*arrays)) if backend == "dask" else None
    params, history = train.fit(params, X, Y, optim.SGD(0.5), epochs=steps, batch_size=X.shape[1],
                                rng=np.random.default_rng(0), progress=False, materialise=materialise, on_epoch=on_epoch)
    X_test = np.ascontiguousarray(data.normalise(test_set.images, 16).T)
    params = {k: to_numpy(v) for k, v in params.items()}
    return params, history, model.accuracy(params, X_test, test_set.labels)


@pytest.mark.long   # the default suite's run on a local cluster: tests/test_cli.py's, through the command
def test_full_batch_descent_on_a_local_cluster_gives_numpys_parameters(client):
    assert len(client.scheduler_info()["workers"]) == 2
    on_dask, history, accuracy = full_batch("dask")
    on_numpy, _, expected = full_batch("numpy")
    for name in on_numpy:
        np.testing.assert_allclose(on_dask[name], on_numpy[name], rtol=0, atol=1e-10)
    assert accuracy == expected and history.loss[-1] < history.loss[0]


@pytest.mark.long   # a fault on a cluster: the default suite's is tests/test_cli_dask_faults.py's Ctrl-C and SIGTERM
def test_a_worker_killed_mid_training_does_not_lose_the_run(client, tmp_path):
    import os
    import signal

    from nnkit import checkpoint

    killed = []

    def kill_a_worker_after_epoch_2(epoch, params, history):
        meta = {"layer_sizes": [64, 32, 10], "dtype": "float64", "normalisation": {"pixel_max": 16}, "classes": list(range(10))}
        checkpoint.save(tmp_path / "model.npz", {k: to_numpy(v) for k, v in params.items()}, meta)
        if epoch == 2:
            victim = next(iter(client.scheduler_info()["workers"]))
            pid = client.run(os.getpid, workers=[victim])[victim]
            os.kill(pid, signal.SIGKILL)  # no goodbye: the worker and the chunks it held are gone
            killed.append(victim)

    on_dask, history, _ = full_batch("dask", steps=5, on_epoch=kill_a_worker_after_epoch_2)
    on_numpy, _, _ = full_batch("numpy", steps=5)
    assert killed and len(history.loss) == 5
    for name in on_numpy:
        np.testing.assert_allclose(on_dask[name], on_numpy[name], rtol=0, atol=1e-10)
    saved, meta = checkpoint.load(tmp_path / "model.npz")  # the last checkpoint is whole
    np.testing.assert_allclose(saved["W1"], on_numpy["W1"], rtol=0, atol=1e-10)


def test_the_cluster_is_closed_after_an_error():
    with pytest.raises(RuntimeError):
        with cluster.connect("local") as c:
            address = c.scheduler.address
            raise RuntimeError("boom")
    from distributed import Client

    with pytest.raises(OSError):
        Client(address, timeout="2s")


@pytest.mark.long   # the whole dask bench (~20 s); its data on the workers: the test below, in the default suite
def test_the_bench_makes_its_data_on_the_workers_not_in_the_task_graph():
    """dask warns "Sending large graph of size … MiB" when data travel inside a graph (the bench's
    20 000 × 784 samples did: 120 MiB); made on the workers, the same figures come without it."""
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-W", "always", "-c",
                           "from nnkit.bench import dask_scaling; dask_scaling.run(True, print)"],
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    assert "n =  20,000 × 784" in done.stdout and "one step: 92 tasks" in done.stdout
    assert "large graph" not in done.stderr, done.stderr


def test_the_benchs_data_are_the_same_on_the_workers_and_in_numpy():
    import dask

    from nnkit.bench.dask_scaling import data_on_workers

    X, Y = data_on_workers(1000, 300)
    assert X.chunks == ((784,), (300, 300, 300, 100)) and Y.chunks == ((10,), (300, 300, 300, 100))
    X_np, Y_np = dask.compute(X, Y)
    assert 0 <= X_np.min() and X_np.max() < 1 and (Y_np.sum(axis=0) == 1).all() and set(np.unique(Y_np)) == {0.0, 1.0}
    np.testing.assert_array_equal(dask.compute(*data_on_workers(1000, 300))[0], X_np)  # seeded: the same again
