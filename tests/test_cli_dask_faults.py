"""``nnkit train --backend dask`` under faults: Ctrl-C or SIGTERM at a random moment with ``--scheduler
local``, the scheduler killed mid-run, a run that diverges on the workers — each one line on stderr, a
non-zero exit, no process of the run left behind, the checkpoint absent or whole.

Timings are printed (seconds from the fault to the end of nnkit), never asserted; a hang fails by the
time-out of :func:`cli_processes.finish`. Each run starts a cluster (15–30 s on 2 cores): the default suite keeps
the Ctrl-C and SIGTERM pair; the scheduler killed and the divergence run with ``-m long`` (.ci/run).
"""

from __future__ import annotations

import random
import signal
import subprocess
import sys
import time

import pytest

import cli_processes as procs
from nnkit import checkpoint

pytest.importorskip("distributed", reason="the dask tests need dask.distributed (pip install -e '.[test]')")

TRAIN = ("train", "--backend", "dask", "--optimizer", "gd", "--epochs", "60", "--chunk-size", "700")


def signal_a_local_cluster_run(case: int, folder) -> tuple[str, float]:
    rng = random.Random(case)
    signum = [signal.SIGINT, signal.SIGTERM][case % 2]
    delay = rng.uniform(0, 10)  # start-up, the cluster starting, training, checkpoints (a run takes ~15-40 s)
    out = folder / f"case{case}.npz"
    process = procs.start(procs.command(*TRAIN, "--scheduler", "local", "--out", str(out)))
    time.sleep(delay)
    signalled = time.monotonic()
    procs.send(process, signum)
    outcome = procs.finish(process, signalled)
    where = f"case {case}: {signal.Signals(signum).name} after {delay:.2f} s: {outcome}"
    print(f"{signal.Signals(signum).name} after {delay:5.2f} s: ended {outcome.seconds:.2f} s later, status "
          f"{outcome.status}, {len(outcome.stderr_lines)} stderr line(s), {len(outcome.left_behind)} process(es) left")
    assert outcome.left_behind == [], where
    assert outcome.status == 128 + signum and len(outcome.stderr_lines) == 1, where
    assert "interrupted" in outcome.stderr_lines[0], where
    if out.exists():
        assert checkpoint.load(out)[1]["training"]["epochs_done"] >= 1, where
    return signal.Signals(signum).name, outcome.seconds


def test_ctrl_c_and_sigterm_on_a_local_cluster_are_one_line_within_seconds(tmp_path):
    for case in range(2):
        signal_a_local_cluster_run(case, tmp_path)


@pytest.mark.long
def test_many_signals_on_local_cluster_runs(tmp_path):
    seconds = [signal_a_local_cluster_run(case, tmp_path)[1] for case in range(100, 130)]
    print(f"30 runs: from the signal to the end {min(seconds):.2f}–{max(seconds):.2f} s")


@pytest.fixture
def scheduler(tmp_path):
    """A dask scheduler and one worker, as separate processes; yields (the scheduler process, its address)."""
    address_file = tmp_path / "scheduler.json"
    dask = [sys.executable, "-m", "distributed.cli.dask_scheduler"]
    sched = subprocess.Popen([*dask, "--host", "127.0.0.1", "--port", "0", "--no-dashboard", "--scheduler-file",
                              str(address_file)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    worker = None
    try:
        deadline = time.monotonic() + 60
        while not address_file.exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        worker = subprocess.Popen([sys.executable, "-m", "distributed.cli.dask_worker", "--scheduler-file", str(address_file),
                                   "--nthreads", "1", "--no-dashboard"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        import json

        yield sched, json.loads(address_file.read_text())["address"]
    finally:
        for process in (worker, sched):
            if process is not None and process.poll() is None:
                process.kill()
                process.wait()


@pytest.mark.long
def test_the_scheduler_killed_mid_run_is_one_line(scheduler, tmp_path):
    sched, address = scheduler
    out = tmp_path / "m.npz"
    process = procs.start(procs.command(*TRAIN, "--epochs", "100000", "--scheduler", address, "--out", str(out)))
    while not out.exists() and process.poll() is None:  # training has reached its first checkpoint
        time.sleep(0.05)
    killed = time.monotonic()
    sched.kill()
    outcome = procs.finish(process, killed)
    print(f"scheduler killed: nnkit ended {outcome.seconds:.2f} s later, status {outcome.status}: {outcome.stderr_lines}")
    assert outcome.status == 1 and len(outcome.stderr_lines) == 1, outcome
    assert outcome.stderr_lines[0].startswith(f"nnkit train: error: --scheduler {address}: "), outcome
    assert outcome.left_behind == [], outcome
    checkpoint.load(out)  # the last good epoch, whole


@pytest.mark.long
def test_divergence_on_a_local_cluster_is_one_line_without_the_workers_warnings():
    done = subprocess.run(procs.command(*TRAIN, "--scheduler", "local", "--optimizer", "sgd", "--lr", "1e200"),
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 1 and "Warning" not in done.stderr, done.stderr
    assert done.stderr.splitlines() == ["nnkit train: error: training diverged: loss is nan at epoch 1, batch 2 "
                                        "(try a smaller --lr, or --dtype float64)"]
