"""Every path option of the CLI, given every kind of path it cannot use: refused at once, in one
line on stderr naming the option and the path (quoted: a newline in a name stays on one line),
a failure status, and the thing at that path left exactly as it was — a FIFO never blocks, a
device node is never replaced by a regular file."""

from __future__ import annotations

import os
import signal
import socket
import stat
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from conftest import skip_not_installable

from nnkit import checkpoint, cli
from nnkit.files import quoted

# (command, option, what the option is): every path option of train and predict
OPTIONS = [
    ("train", "--data", "input"), ("train", "--test-data", "input"), ("train", "--out", "output"),
    ("train", "--plots", "directory"), ("predict", "--model", "input"), ("predict", "--data", "input"),
    ("predict", "--csv", "output"),
]
# Names a path may have: plain, with a space, with a newline, with a byte that is not UTF-8.
NAMES = ["plain", "with space", "new\nline", "bad\udcffbyte"]


def make(kind: str, path: Path) -> Path:
    """Create a ``kind`` of thing at ``path`` (or nothing, for "missing")."""
    if kind == "fifo":
        os.mkfifo(path)
    elif kind == "socket":
        server = socket.socket(socket.AF_UNIX)
        server.bind(os.fsencode(path))
        make.sockets.append(server)  # keep it listening for the test's life
    elif kind == "directory":
        path.mkdir()
    elif kind == "file":
        path.write_bytes(b"")
    elif kind == "link to /dev/null":
        path.symlink_to("/dev/null")
    elif kind == "device":
        os.mknod(path, 0o666 | stat.S_IFCHR, os.makedev(1, 3))
    elif kind == "in a missing directory":
        return path / "x"
    return path


make.sockets = []


@pytest.fixture(autouse=True)
def _close_sockets():
    """The sockets a test made live as long as it does."""
    yield
    while make.sockets:
        make.sockets.pop().close()

# What cannot be used, per kind of option (a missing output file is fine: it gets created;
# an existing directory is what --plots wants; an empty file is a path --data may read).
BAD = {
    "input": ["", "missing", "fifo", "socket", "directory", "link to /dev/null", "device"],
    "output": ["", "fifo", "socket", "directory", "link to /dev/null", "device", "in a missing directory"],
    "directory": ["", "fifo", "socket", "file", "link to /dev/null", "device"],
}
CASES = [pytest.param(command, option, kind, name, id=f"{command} {option} {kind} {name!r}")
         for command, option, role in OPTIONS for kind in BAD[role] for name in (NAMES if kind else [""])]


@pytest.fixture
def model(tmp_path_factory) -> Path:
    """A valid checkpoint for the bundled digits (64 pixels), for predict."""
    path = tmp_path_factory.mktemp("model") / "m.npz"
    sizes = [64, 4, 10]
    params = {"W1": np.zeros((4, 64)), "b1": np.zeros((4, 1)), "W2": np.zeros((10, 4)), "b2": np.zeros((10, 1))}
    checkpoint.save(path, params, {"layer_sizes": sizes, "dtype": "float64", "normalisation": {}, "classes": list(range(10))})
    return path


@pytest.fixture
def no_hang():
    """Fail, rather than hang, if anything blocks (a FIFO opened for reading waits for a writer)."""

    def timeout(*_):
        raise TimeoutError("blocked for 20 s")

    previous = signal.signal(signal.SIGALRM, timeout)
    signal.alarm(20)
    yield
    signal.alarm(0)
    signal.signal(signal.SIGALRM, previous)


def run(argv: list[str], capsys) -> tuple[int, list[str]]:
    """``nnkit ARGV`` in this process: exit status and stderr lines."""
    try:
        status = cli.main(argv)
    except SystemExit as exit_:  # argparse
        status = exit_.code
    return status, capsys.readouterr().err.strip().splitlines()


def argv_for(command: str, option: str, value: str, model: Path) -> list[str]:
    """A command line that would succeed quickly but for ``option value``."""
    base = {"train": ["train", "--epochs", "1", "--hidden", "4"],
            "predict": ["predict", "--model", str(model), "--data", "digits"]}[command]
    return [*base, option, value]


@pytest.mark.usefixtures("no_hang")
@pytest.mark.parametrize("command, option, kind, name", CASES)
def test_a_path_the_option_cannot_use_is_refused_in_one_line(command, option, kind, name, tmp_path, model, capsys):
    if kind == "device" and os.geteuid() != 0:
        skip_not_installable("making a device node needs root (mknod)")
    path = make(kind, tmp_path / name) if kind else Path("")
    value = os.fspath(path) if kind else ""
    before = {p: os.lstat(p).st_mode for p in tmp_path.iterdir()}
    status, lines = run(argv_for(command, option, value, model), capsys)
    assert status != 0 and len(lines) == 1, lines
    assert lines[0].startswith(f"nnkit {command}: error: {option} {quoted(value)}: "), lines[0]
    assert {p: os.lstat(p).st_mode for p in tmp_path.iterdir()} == before  # nothing replaced, nothing left


@pytest.mark.usefixtures("no_hang")
@pytest.mark.parametrize("kind", ["fifo", "link to /dev/null", "device", "directory"])
def test_a_plot_that_cannot_be_written_names_plots_and_the_file(kind, tmp_path, capsys):
    """--plots DIR is fine, but DIR/curves.png is in the way: found when the figures are written."""
    if kind == "device" and os.geteuid() != 0:
        skip_not_installable("making a device node needs root (mknod)")
    figures = tmp_path / "figs"
    figures.mkdir()
    blocker = make(kind, figures / "curves.png")
    before = os.lstat(blocker).st_mode
    status, lines = run(["train", "--epochs", "1", "--hidden", "4", "--plots", str(figures)], capsys)
    assert status == 1 and lines[-1].startswith(f"nnkit train: error: --plots {figures}: {blocker}: is "), lines
    assert os.lstat(blocker).st_mode == before and not [p for p in os.listdir(figures) if p.endswith(".tmp")]


def test_a_fifo_as_data_fails_at_once_in_a_real_process(tmp_path):
    fifo = tmp_path / "data\n.csv"
    os.mkfifo(fifo)
    done = subprocess.run([sys.executable, "-m", "nnkit", "train", "--data", str(fifo)],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 1 and done.stderr == f"nnkit train: error: --data {quoted(fifo)}: is a FIFO (named pipe); expected a regular file\n"
