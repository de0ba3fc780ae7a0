"""A dask cluster for the length of one run: started (or joined), and always closed again.

``local`` starts a ``dask.distributed.LocalCluster`` of 2 worker processes (1 thread each) on
loopback (its dashboard on any free port); any other value is the address of a running scheduler
(``tcp://host:8786``). Closing happens on normal exit, on an error and on Ctrl-C alike. The
workers of nnkit's own cluster print no numpy floating-point warnings (see :mod:`nnkit.float_errors`).
"""

from __future__ import annotations

import contextlib
import threading
from typing import Iterator

TIMEOUT = 10.0  # seconds to reach a scheduler


@contextlib.contextmanager
def connect(scheduler: str, workers: int = 2) -> Iterator[object]:
    """Yield a ``distributed.Client`` for ``scheduler`` (``"local"`` or an address)."""
    from distributed import Client, LocalCluster

    cluster = None
    if scheduler == "local":
        cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, host="127.0.0.1",
                               dashboard_address=":0")  # any free port: never clash with another cluster
    try:
        client = _client(Client, cluster if cluster is not None else scheduler)
    except OSError as error:
        if cluster is not None:
            cluster.close()
        raise OSError(f"--scheduler {scheduler}: cannot connect ({error})") from None
    try:
        if cluster is not None:
            client.run(_silence_float_warnings)
        yield client
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def _client(Client, target, seconds: float = TIMEOUT):
    """``Client(target)``, given up after ``seconds``. Client's own timeout covers a refused or
    silent port, but a port that accepts and then never speaks dask (a web server, a dashboard)
    would hold it forever: the attempt runs in a daemon thread that is abandoned on time-out."""
    outcome: dict = {}

    def attempt():
        try:
            outcome["client"] = Client(target, timeout=f"{seconds}s")
        except BaseException as error:  # handed to the caller below
            outcome["error"] = error

    thread = threading.Thread(target=attempt, daemon=True, name="nnkit-connect")
    thread.start()
    thread.join(seconds + 2)
    if "client" in outcome:
        return outcome["client"]
    error = outcome.get("error")
    raise OSError(str(error) if error else f"no dask answer within {seconds + 2:.0f} s — is this a dask scheduler?")


def _silence_float_warnings() -> None:
    """In a worker of nnkit's own cluster: numpy's overflow warnings are noise (see :mod:`nnkit.float_errors`)."""
    import warnings

    from nnkit.float_errors import MESSAGES

    warnings.filterwarnings("ignore", message=MESSAGES, category=RuntimeWarning)
