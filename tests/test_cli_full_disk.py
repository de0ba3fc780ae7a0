"""Outputs on a disk that fills up: the error is one line naming the option (``--out``, ``--csv``,
``--plots``) and the file, the status is a failure, the previous file is whole, and no temporary
is left behind.

Two ways to fill a disk: a real one — a small tmpfs, mounted when the tests run as root (skipped
otherwise: mounting needs root) — and one that works for anyone: a file size limit
(``RLIMIT_FSIZE``) on the nnkit process, which makes a write past it fail with EFBIG (Python
ignores SIGXFSZ, which would otherwise kill the process).
"""

from __future__ import annotations

import contextlib
import os
import random
import resource
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import skip_not_installable

from nnkit import checkpoint
from nnkit.files import quoted

TRAIN = ["train", "--epochs", "2", "--hidden", "128", "--dtype", "float64"]  # a checkpoint of ~80 kB
PREDICT_CSV_BYTES = 11486  # the predictions of the 1797 bundled digits


def nnkit(*args: str, file_size_limit: int | None = None) -> subprocess.CompletedProcess:
    def limit():
        resource.setrlimit(resource.RLIMIT_FSIZE, (file_size_limit, file_size_limit))

    return subprocess.run([sys.executable, "-m", "nnkit", *args], capture_output=True, text=True, timeout=300,
                          preexec_fn=limit if file_size_limit is not None else None)


def assert_one_line_naming(done: subprocess.CompletedProcess, command: str, option: str, path: Path, reason: str) -> None:
    lines = done.stderr.strip().splitlines()
    assert done.returncode == 1, done.stderr
    assert lines[-1].startswith(f"nnkit {command}: error: {option} {quoted(path)}: ") and reason in lines[-1], lines
    assert "Traceback" not in done.stderr and "nnkit-" not in lines[-1]  # the target is named, never a temporary


def no_temporaries(directory: Path) -> bool:
    return not [name for name in os.listdir(directory) if name.endswith(".tmp")]


@pytest.fixture(scope="module")
def model(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("model") / "m.npz"
    assert nnkit(*TRAIN, "--out", str(path)).returncode == 0
    return path


@contextlib.contextmanager
def small_disk(directory: Path, kib: int):
    """A tmpfs of ``kib`` KiB mounted at ``directory``; skips the test unless this runs as root."""
    directory.mkdir()
    if os.geteuid() != 0:
        skip_not_installable("mounting a small tmpfs needs root; the RLIMIT_FSIZE tests cover this without it")
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={kib}k", "tmpfs", str(directory)], capture_output=True, text=True)
    if mounted.returncode:
        skip_not_installable(f"cannot mount a tmpfs here: {mounted.stderr.strip()}")
    try:
        yield directory
    finally:
        subprocess.run(["umount", str(directory)], check=True)


# --- a file size limit (works without root) ------------------------------------------------------


def test_out_past_the_file_size_limit_keeps_the_previous_checkpoint(tmp_path, model):
    target = tmp_path / "m.npz"
    target.write_bytes(model.read_bytes())
    done = nnkit(*TRAIN, "--out", str(target), file_size_limit=40_000)
    assert_one_line_naming(done, "train", "--out", target, "File too large")
    assert target.read_bytes() == model.read_bytes() and no_temporaries(tmp_path)


def test_csv_past_the_file_size_limit(tmp_path, model):
    target = tmp_path / "predictions.csv"
    done = nnkit("predict", "--model", str(model), "--data", "digits", "--csv", str(target), file_size_limit=4_000)
    assert_one_line_naming(done, "predict", "--csv", target, "File too large")
    assert os.listdir(tmp_path) == []


def test_plots_past_the_file_size_limit(tmp_path):
    figures = tmp_path / "figs"
    done = nnkit(*TRAIN, "--plots", str(figures), file_size_limit=20_000)
    assert_one_line_naming(done, "train", "--plots", figures, "File too large")
    assert no_temporaries(figures)


@pytest.mark.long
def test_random_file_size_limits_on_every_output(tmp_path, model):
    """~20 s: 24 limits drawn below each output's size; each run fails cleanly, the old file whole."""
    rng = random.Random(0)
    for run in range(8):
        target = tmp_path / f"m{run}.npz"
        target.write_bytes(model.read_bytes())
        done = nnkit(*TRAIN, "--out", str(target), file_size_limit=rng.randrange(0, 80_000))
        assert_one_line_naming(done, "train", "--out", target, "File too large")
        assert target.read_bytes() == model.read_bytes()
        csv = tmp_path / f"p{run}.csv"
        done = nnkit("predict", "--model", str(model), "--data", "digits", "--csv", str(csv),
                     file_size_limit=rng.randrange(0, PREDICT_CSV_BYTES))
        assert_one_line_naming(done, "predict", "--csv", csv, "File too large")
        figures = tmp_path / f"figs{run}"
        done = nnkit(*TRAIN, "--plots", str(figures), file_size_limit=rng.randrange(0, 20_000))
        assert_one_line_naming(done, "train", "--plots", figures, "File too large")
    assert no_temporaries(tmp_path)


# --- a real full disk (root) ----------------------------------------------------------------------


def test_out_on_a_full_disk_keeps_the_last_good_epoch(tmp_path):
    """120 KiB holds one checkpoint (~80 kB) but not a second beside it: epoch 1 is written,
    epoch 2's write fails, and epoch 1's file is still there, whole."""
    with small_disk(tmp_path / "disk", 120) as disk:
        target = disk / "m.npz"
        done = nnkit(*TRAIN, "--out", str(target))
        assert_one_line_naming(done, "train", "--out", target, "No space left on device")
        assert checkpoint.load(target)[1]["training"]["epochs_done"] == 1
        assert os.listdir(disk) == ["m.npz"]


def test_csv_and_plots_on_a_full_disk(tmp_path, model):
    with small_disk(tmp_path / "disk", 8) as disk:
        csv = disk / "predictions.csv"
        done = nnkit("predict", "--model", str(model), "--data", "digits", "--csv", str(csv))
        assert_one_line_naming(done, "predict", "--csv", csv, "No space left on device")
        figures = disk / "figs"
        done = nnkit(*TRAIN, "--plots", str(figures))
        assert_one_line_naming(done, "train", "--plots", figures, "No space left on device")
        assert os.listdir(disk) == ["figs"] and no_temporaries(figures)
