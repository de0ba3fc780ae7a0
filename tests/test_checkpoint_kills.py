"""``kill -9`` at random moments while a process writes checkpoints over and over: each time the
target loads whole (its parameters are the ones its meta says), and the next write removes every
temporary the killed writer left, so they never pile up."""

from __future__ import annotations

import os
import random
import re
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

from nnkit import checkpoint

SIZES = [784, 256, 10]  # ~1.6 MB a file: each write takes long enough for kills to land inside it
WRITER = textwrap.dedent(f"""
    import sys
    import numpy as np
    from nnkit import checkpoint

    sizes = {SIZES}
    meta = {{"layer_sizes": sizes, "dtype": "float64", "normalisation": {{}}, "classes": list(range(sizes[-1]))}}
    epoch = 0
    while True:
        epoch += 1
        params = {{}}
        for l in range(1, len(sizes)):
            params[f"W{{l}}"] = np.full((sizes[l], sizes[l - 1]), float(epoch))
            params[f"b{{l}}"] = np.full((sizes[l], 1), float(epoch))
        checkpoint.save(sys.argv[1], params, {{**meta, "training": {{"epochs_done": epoch}}}})
        if epoch == 1:
            print("saved", flush=True)
""")
TEMPORARY = re.compile(r"\.model\.npz\.nnkit-(\d+)\.tmp")


def kill_mid_write(target: Path, rng: random.Random) -> int:
    """Start a writer, let it save once, kill -9 it a random moment later; return its pid."""
    writer = subprocess.Popen([sys.executable, "-c", WRITER, str(target)], stdout=subprocess.PIPE, text=True)
    assert writer.stdout.readline() == "saved\n"
    time.sleep(rng.uniform(0, 0.05))
    writer.send_signal(signal.SIGKILL)
    writer.wait()
    writer.stdout.close()
    return writer.pid


def assert_loads_whole(target: Path) -> None:
    params, meta = checkpoint.load(target)
    epoch = meta["training"]["epochs_done"]
    assert all(np.all(array == epoch) for array in params.values()), "parameters of another epoch than the meta's"


def kill_and_check(tmp_path: Path, kills: int, seed: int) -> int:
    """``kills`` writers killed at random moments; return how many left a temporary behind."""
    rng, target, left_behind = random.Random(seed), tmp_path / "model.npz", 0
    for _ in range(kills):
        pid = kill_mid_write(target, rng)
        assert_loads_whole(target)
        stale = [name for name in os.listdir(tmp_path) if TEMPORARY.fullmatch(name)]
        assert all(TEMPORARY.fullmatch(name)[1] == str(pid) for name in stale)  # earlier ones were removed
        left_behind += bool(stale)
        params, meta = checkpoint.load(target)
        checkpoint.save(target, params, meta)  # the next run's first write
        assert os.listdir(tmp_path) == ["model.npz"], "a stale temporary survived the next write"
    return left_behind


def test_kill_9_at_random_moments_never_breaks_the_file_nor_piles_up_temporaries(tmp_path):
    left_behind = kill_and_check(tmp_path, kills=10, seed=0)
    print(f"10 kills, {left_behind} mid-write (left a temporary)")


@pytest.mark.long
def test_200_kills(tmp_path):
    """~1 minute. With 200 kills some must land mid-write, or this test did not test the cleanup."""
    left_behind = kill_and_check(tmp_path, kills=200, seed=1)
    print(f"200 kills, {left_behind} mid-write (left a temporary)")
    assert left_behind > 0
