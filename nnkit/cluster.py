"""A dask cluster for the length of one run: started (or joined), and always closed again.

``local`` starts a ``dask.distributed.LocalCluster`` of 2 worker processes (1 thread each) on
loopback (its dashboard on any free port); any other value is the address of a running scheduler
(``tcp://host:8786``). Closing happens on normal exit, on an error and on Ctrl-C alike.
"""

from __future__ import annotations

import contextlib
from typing import Iterator


@contextlib.contextmanager
def connect(scheduler: str, workers: int = 2) -> Iterator[object]:
    """Yield a ``distributed.Client`` for ``scheduler`` (``"local"`` or an address)."""
    from distributed import Client, LocalCluster

    cluster = None
    if scheduler == "local":
        cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, host="127.0.0.1",
                               dashboard_address=":0")  # any free port: never clash with another cluster
    try:
        client = Client(cluster if cluster is not None else scheduler, timeout="10s")
    except (OSError, TimeoutError) as error:
        if cluster is not None:
            cluster.close()
        raise OSError(f"--scheduler {scheduler}: cannot connect ({error})") from None
    try:
        yield client
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
