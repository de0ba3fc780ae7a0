"""The seed's full-batch gradient descent (784-10-10) on dask — a real 2-worker LocalCluster, the
data chunked along the samples, one chunk per worker — against plain numpy, over data sizes: the
samples per second of each, and the size (if any, on this machine) from which chunking pays.

The data are made on the workers (dask's own random generator, one chunk each) and copied back for
numpy: shipped from here, 12–600 MiB would travel inside the task graph."""

from __future__ import annotations

import numpy as np

from nnkit.bench.timing import median_seconds


def step_on(xp, X, Y, materialise=None):
    from nnkit import model, optim, train

    params = model.init([784, 10, 10], xp, np.random.default_rng(0))
    optimizer = optim.SGD(0.5)

    def step():
        result = train.train_step(params, X, Y, optimizer)
        if materialise is not None:
            materialise(*result[0].values(), result[1])
        else:
            float(result[1])
    return step


def one_step_anatomy(client, X, Y) -> tuple[int, int]:
    """dask's own account of one step: tasks in its graph, and bytes the workers sent each other."""
    import array_api_compat.dask.array as dxp
    import dask

    from nnkit import model, optim, train

    params = model.init([784, 10, 10], dxp, np.random.default_rng(0))
    new_params, loss, _ = train.train_step(params, X, Y, optim.SGD(0.5))
    outputs = [*new_params.values(), loss]
    tasks = len({key for output in outputs for key in dict(output.__dask_graph__())})
    sent = lambda: sum(client.run(lambda dask_worker: dask_worker.transfer_outgoing_bytes_total).values())  # noqa: E731
    before = sent()
    dask.compute(*outputs)
    return tasks, sent() - before


def data_on_workers(n: int, chunk: int, seed: int = 0):
    """Lazy ``(X, Y)``: ``X`` ``(784, n)`` uniform in [0, 1), ``Y`` ``(10, n)`` one-hot of random labels,
    in chunks of ``chunk`` samples, each made where it is computed."""
    import dask.array as da

    rng = da.random.default_rng(seed)
    X = rng.random((784, n), chunks=(784, chunk))
    labels = rng.integers(0, 10, n, chunks=chunk)
    Y = (labels[None, :] == da.arange(10)[:, None]).astype(np.float64)
    return X, Y


def run(quick: bool, say, results: dict | None = None) -> dict:
    import array_api_compat.numpy as np_xp
    import dask

    from nnkit import cluster
    from nnkit.backends import namespace

    sizes = (2_000, 20_000) if quick else (2_000, 10_000, 50_000, 100_000)
    rows = []
    with cluster.connect("local") as client:
        workers = len(client.scheduler_info()["workers"])
        for n in sizes:
            chunk = -(-n // workers)
            Xd, Yd = dask.persist(*data_on_workers(n, chunk))
            X, Y = dask.compute(Xd, Yd)
            plain = median_seconds(step_on(np_xp, X, Y), 3, min_time=0.0)
            on_dask = median_seconds(step_on(namespace("dask"), Xd, Yd, dask.compute), 3, min_time=0.0)
            graph, moved = one_step_anatomy(client, Xd, Yd)
            rows.append({"samples": n, "numpy samples/s": n / plain, "dask samples/s": n / on_dask,
                         "dask÷numpy": plain / on_dask, "chunks": workers, "tasks per step": graph,
                         "bytes between workers per step": moved})
            say(f"n = {n:>7,} × 784, full batch: numpy {n / plain:12,.0f} samples/s, dask ({workers} workers, "
                f"{workers} chunks) {n / on_dask:12,.0f} — dask ÷ numpy {plain / on_dask:.2f}; "
                f"one step: {graph} tasks, {moved:,} bytes between workers")
    crossing = next((r["samples"] for r in rows if all(q["dask÷numpy"] >= 1 for q in rows if q["samples"] >= r["samples"])), None)
    say(f"chunking pays from n = {crossing:,} on" if crossing else
        "chunking never paid at these sizes: the two workers share this machine's cores with numpy's own threads")
    return {"rows": rows, "crossover_samples": crossing}
