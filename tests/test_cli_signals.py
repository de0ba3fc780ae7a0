"""Ctrl-C and SIGTERM at any moment of ``nnkit train --out``: one line on stderr, exit status 128 + the
signal, the checkpoint absent or whole — never a traceback, never a silent death.

Each case starts a real ``nnkit train`` (console script or ``python -m nnkit``), waits until nnkit
handles signals (its first act: only the interpreter's own start-up comes before), then sends SIGINT (to
the process group, as a terminal does) or SIGTERM after a seeded random delay drawn over the length
of a whole run — start-up imports, data loading, training, the checkpoint written after every epoch,
the result and the exit. Some cases send a second signal a few milliseconds after the first (an
impatient user, or ``kill`` followed by a service manager's own). A signal that arrives once the
result is out lets the run end as it would have: status 0, every epoch in the checkpoint.
"""

from __future__ import annotations

import collections
import random
import signal
import time

import pytest

from nnkit import checkpoint
import cli_processes as procs

pytestmark = pytest.mark.skipif(not procs.Path("/proc/self/status").exists(), reason="needs Linux's /proc")

EPOCHS = 12
TRAIN = ("train", "--hidden", "16", "--epochs", str(EPOCHS))


@pytest.fixture(scope="module")
def run_seconds(tmp_path_factory) -> float:
    """How long one whole run takes here, signal handlers to exit (the delays are drawn over it): the
    faster of two runs (the first one reads every module from a cold disk cache), and 10 % more."""
    seconds = []
    for run in range(2):
        out = tmp_path_factory.mktemp("whole") / "m.npz"
        process = procs.start(procs.command(*TRAIN, "--out", str(out)))
        ready = time.monotonic()
        outcome = procs.finish(process, ready)
        seconds.append(time.monotonic() - ready)
        assert outcome.status == 0 and outcome.stderr_lines == [], outcome
        assert checkpoint.load(out)[1]["training"]["epochs_done"] == EPOCHS
    return min(seconds) * 1.1


def signal_at_a_random_moment(case: int, run_seconds: float, folder) -> tuple[str, int, float]:
    """Run case ``case``; check its outcome; return (what happened, signal, delay)."""
    rng = random.Random(case)
    signum = rng.choice([signal.SIGINT, signal.SIGTERM])
    delay, second = rng.uniform(0, run_seconds), rng.random() < 0.25
    out = folder / f"case{case}.npz"
    process = procs.start(procs.command(*TRAIN, "--out", str(out), "--seed", str(case % 5),
                                        console_script=rng.random() < 0.5))
    time.sleep(delay)
    signalled_at = time.monotonic()
    procs.send(process, signum)
    if second:
        time.sleep(rng.uniform(0, 0.02))
        procs.send(process, rng.choice([signal.SIGINT, signal.SIGTERM]))
    outcome = procs.finish(process, signalled_at)
    where = f"case {case}: {signal.Signals(signum).name} after {delay:.3f} s{' (and a second)' * second}: {outcome}"
    if outcome.status == 0:  # it had finished: the signal came after the result
        assert outcome.stderr_lines == [] and "test accuracy" in outcome.stdout, where
        assert checkpoint.load(out)[1]["training"]["epochs_done"] == EPOCHS, where
        return "finished first", signum, delay
    assert outcome.status in (128 + signal.SIGINT, 128 + signal.SIGTERM), where
    assert len(outcome.stderr_lines) == 1, where
    assert outcome.stderr_lines[0].startswith(("nnkit train: interrupted (SIG", "nnkit: interrupted (SIG")), where
    if out.exists():  # whole: it loads, every check passing
        params, meta = checkpoint.load(out)
        assert 1 <= meta["training"]["epochs_done"] <= EPOCHS, where
    return f"interrupted, checkpoint {'whole' if out.exists() else 'absent'}", signum, delay


def run_cases(cases: range, run_seconds: float, folder) -> collections.Counter:
    counts = collections.Counter()
    for case in cases:
        what, signum, _ = signal_at_a_random_moment(case, run_seconds, folder)
        counts[(signal.Signals(signum).name, what)] += 1
    print(dict(counts))
    return counts


def test_a_signal_at_a_random_moment_is_one_line_and_leaves_the_checkpoint_whole(run_seconds, tmp_path):
    counts = run_cases(range(8), run_seconds, tmp_path)
    assert sum(n for (_, what), n in counts.items() if what.startswith("interrupted")) >= 2  # not all after the end


@pytest.mark.long
def test_many_signals_at_random_moments(run_seconds, tmp_path):
    counts = run_cases(range(1000, 1200), run_seconds, tmp_path)
    # enough signals landed mid-training for the checkpoint's cleanup to be tested: 43 of 200 on a quiet machine,
    # 15 beside other test runs (the delays are drawn over a run timed at the start, which load then stretches)
    assert sum(n for (_, what), n in counts.items() if what == "interrupted, checkpoint whole") >= 10


def test_a_signal_while_modules_load_is_one_line(tmp_path):
    """The first ~0.3 s are imports (numpy, the data, the network): the old traceback's home."""
    for case, signum in enumerate([signal.SIGINT, signal.SIGTERM] * 3):
        process = procs.start(procs.command(*TRAIN, "--out", str(tmp_path / "m.npz")))
        time.sleep(case * 0.01)
        procs.send(process, signum)
        outcome = procs.finish(process, time.monotonic())
        assert outcome.status == 128 + signum and len(outcome.stderr_lines) == 1, outcome
        assert "Traceback" not in outcome.stderr_lines[0] and "interrupted" in outcome.stderr_lines[0]
