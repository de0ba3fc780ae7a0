"""A dask cluster for the length of one run: started (or joined), and always closed again.

``local`` starts a ``dask.distributed.LocalCluster`` of 2 worker processes (1 thread each) on
loopback (its dashboard on any free port); any other value is the address of a running scheduler
(``tcp://host:8786``). Closing happens on normal exit, on an error and on Ctrl-C alike, within
seconds, leaving no process behind. Starting and closing are not cut short by a signal (it is
held until they are done: see :mod:`nnkit.interrupts`); a second one ends nnkit at once (the
cluster's processes follow: each watches its parent). dask's own log lines are silenced for the
run: what goes wrong reaches the reader as nnkit's one line (a lost scheduler included). The
workers of nnkit's own cluster print no numpy floating-point warnings (see :mod:`nnkit.float_errors`).
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import logging
import threading
from typing import Iterator

from nnkit import interrupts

TIMEOUT = 10.0  # seconds to reach a scheduler
CLOSE_TIMEOUT = 5.0  # seconds to close the client and the cluster


@contextlib.contextmanager
def connect(scheduler: str, workers: int = 2) -> Iterator[object]:
    """Yield a ``distributed.Client`` for ``scheduler`` (``"local"`` or an address)."""
    from distributed import Client, LocalCluster

    logging.disable()  # distributed's, asyncio's and tornado's lines would follow nnkit's own
    cluster = client = None
    try:
        with interrupts.held(), interrupts.start_deaf():  # the workers start with Ctrl-C blocked, until dask_setup
            if scheduler == "local":
                cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, host="127.0.0.1",
                                       dashboard_address=":0",  # any free port: never clash with another cluster
                                       silence_logs=logging.CRITICAL + 1, preload=[__name__])
            client = _client(Client, cluster if cluster is not None else scheduler, scheduler)
            if cluster is not None:
                client.run(_silence_float_warnings)
        yield client
    except concurrent.futures.CancelledError:  # a lost scheduler cancels every pending result
        if client.status == "running":
            raise OSError(f"--scheduler {scheduler}: dask cancelled the computation mid-run") from None
        raise OSError(f"--scheduler {scheduler}: lost the connection to the dask scheduler mid-run") from None
    finally:
        with interrupts.held():
            _close(client, cluster)
    logging.disable(logging.NOTSET)  # (after a failure nnkit ends: nothing more of dask's is wanted)


def _close(client, cluster) -> None:
    for closing in (client, cluster):
        if closing is not None:
            try:
                closing.close(timeout=CLOSE_TIMEOUT)
            except (OSError, TimeoutError, RuntimeError):  # already gone (a lost scheduler), or out of time
                pass


def _client(Client, target, scheduler: str, seconds: float = TIMEOUT):
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
    reason = str(error) if error else f"no dask answer within {seconds + 2:.0f} s — is this a dask scheduler?"
    raise OSError(f"--scheduler {scheduler}: cannot connect ({reason})")


def dask_setup(worker) -> None:
    """Run by each worker process of nnkit's own cluster as it starts (a dask "preload"): the terminal's
    Ctrl-C reaches the whole process group, but only nnkit acts on it, by closing the cluster. A worker starts
    with it blocked (:class:`nnkit.interrupts.start_deaf`), so one that came while its interpreter was starting is
    discarded here, not raised in Python's start-up (started by the ``nnkit`` program, a worker ignores it earlier
    still: see :mod:`nnkit.__main__`)."""
    interrupts.ignore_ctrl_c()


def _silence_float_warnings() -> None:
    """In a worker of nnkit's own cluster: numpy's overflow warnings are noise (see :mod:`nnkit.float_errors`)."""
    import warnings

    from nnkit.float_errors import MESSAGES

    warnings.filterwarnings("ignore", message=MESSAGES, category=RuntimeWarning)
