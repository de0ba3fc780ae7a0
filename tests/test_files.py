"""nnkit.files, read as a specification: only regular files are read or replaced, writes are
atomic and synced (file, then the rename, then the directory), a killed writer's temporary is
removed by the next write, and every path in a message keeps the message on one line."""

from __future__ import annotations

import ast
import os
import socket
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from conftest import skip_not_installable

from nnkit import files
from nnkit.files import PathError, atomic_write, open_regular, quoted


def special_files(directory: Path) -> dict[str, Path]:
    """One of each kind of non-regular file, made in ``directory`` without root: a FIFO, a
    listening Unix socket, a directory, and a symbolic link to the character device /dev/null."""
    made = {"fifo": directory / "fifo", "socket": directory / "socket", "directory": directory / "dir",
            "link to a device": directory / "null"}
    os.mkfifo(made["fifo"])
    server = socket.socket(socket.AF_UNIX)
    server.bind(str(made["socket"]))
    made["directory"].mkdir()
    made["link to a device"].symlink_to("/dev/null")
    return made


def device_node(directory: Path) -> Path:
    """A character device node (1, 3: what /dev/null is) inside ``directory``; needs root."""
    if os.geteuid() != 0:
        skip_not_installable("making a device node needs root (mknod)")
    path = directory / "device"
    os.mknod(path, 0o666 | stat.S_IFCHR, os.makedev(1, 3))
    return path


def kind_of(path: Path) -> int:
    return stat.S_IFMT(os.lstat(path).st_mode)


# --- quoting ------------------------------------------------------------------------------------


@given(st.text())
def test_a_quoted_path_is_one_line_and_says_exactly_which_path(text):
    shown = quoted(text)
    assert "\n" not in shown and "\r" not in shown
    assert shown == text or ast.literal_eval(shown) == text


def test_plain_paths_are_shown_as_typed():
    assert [quoted(p) for p in ("model.npz", "runs/é/m-1.npz", "~/x")] == ["model.npz", "runs/é/m-1.npz", "~/x"]


# --- reading ------------------------------------------------------------------------------------


def test_only_a_regular_file_is_opened(tmp_path):
    """A FIFO without a writer would block open() forever; it, a socket, a directory and a device
    are refused at once, naming what they are."""
    for kind, path in special_files(tmp_path).items():
        with pytest.raises(PathError, match="expected a regular file") as excinfo:
            open_regular(path).close()
        assert kind.split()[-1] in str(excinfo.value) and "\n" not in str(excinfo.value)
    regular = tmp_path / "data.csv"
    regular.write_bytes(b"1,2\n")
    with open_regular(regular) as f:
        assert f.read() == b"1,2\n"


def test_check_input_names_the_option(tmp_path):
    fifo = special_files(tmp_path)["fifo"]
    with pytest.raises(PathError, match=f"^--data {fifo}: is a FIFO"):
        files.check_input(fifo, "--data")
    with pytest.raises(PathError, match="^--data '': expected a file path"):
        files.check_input("", "--data")


# --- writing: never replace what is not a regular file ------------------------------------------


def test_atomic_write_refuses_every_non_regular_target_and_leaves_it_as_it_was(tmp_path):
    for kind, path in special_files(tmp_path).items():
        before = kind_of(path)
        with pytest.raises(PathError, match="will not replace it|is a directory; expected a file name"):
            atomic_write(path, lambda f: f.write(b"x"))
        assert kind_of(path) == before, kind
    assert Path("/dev/null").is_char_device()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dir", "fifo", "null", "socket"]  # no temporary left


def test_a_device_node_is_not_replaced_even_by_root(tmp_path):
    device = device_node(tmp_path)
    with pytest.raises(PathError, match="is a character device"):
        atomic_write(device, lambda f: f.write(b"x"))
    assert device.is_char_device()


def test_a_symlink_to_a_regular_file_is_followed_and_stays_a_link(tmp_path):
    (tmp_path / "real.npz").write_bytes(b"old")
    link = tmp_path / "latest.npz"
    link.symlink_to("real.npz")
    atomic_write(link, lambda f: f.write(b"new"))
    assert link.is_symlink() and (tmp_path / "real.npz").read_bytes() == b"new"


def test_check_output_refuses_before_any_work(tmp_path):
    cases = {"": "expected a file path", str(tmp_path): "is a directory", str(tmp_path / "no" / "m.npz"):
             "expected a writable directory", str(special_files(tmp_path)["fifo"]): "is a FIFO"}
    for path, message in cases.items():
        with pytest.raises(PathError, match=message) as excinfo:
            files.check_output(path, "--out")
        assert str(excinfo.value).startswith("--out ")


def test_a_failing_write_names_the_target_never_the_temporary(tmp_path):
    target = tmp_path / "m.npz"
    target.write_bytes(b"old")

    def full_disk(f):
        f.write(b"half")
        raise OSError(28, "No space left on device")

    with pytest.raises(PathError) as excinfo:
        atomic_write(target, full_disk)
    assert str(excinfo.value) == f"{target}: cannot write it: No space left on device" and excinfo.value.errno == 28
    assert target.read_bytes() == b"old" and os.listdir(tmp_path) == ["m.npz"]
    with pytest.raises(PathError, match=f"^--out {target}: cannot write it: No space"), files.naming("--out", target):
        atomic_write(target, full_disk)


# --- writing: synced in order -------------------------------------------------------------------


def test_the_file_is_synced_before_the_rename_and_the_directory_after_it(tmp_path, monkeypatch):
    """fsync(file) → rename → fsync(directory): without the last, a crash can lose the rename."""
    events = []
    real_fsync, real_replace = os.fsync, os.replace

    def fsync(fd):
        info = os.fstat(fd)
        events.append(("fsync", "directory" if stat.S_ISDIR(info.st_mode) else "file", (info.st_dev, info.st_ino)))
        real_fsync(fd)

    def replace(src, dst):
        events.append(("rename", Path(dst), None))
        real_replace(src, dst)

    monkeypatch.setattr(os, "fsync", fsync)
    monkeypatch.setattr(os, "replace", replace)
    target = tmp_path / "m.npz"
    atomic_write(target, lambda f: f.write(b"data"))
    directory = os.stat(tmp_path)
    assert [e[:2] for e in events] == [("fsync", "file"), ("rename", target), ("fsync", "directory")]
    assert events[2][2] == (directory.st_dev, directory.st_ino)  # the target's own directory
    assert events[0][2] == (os.stat(target).st_dev, os.stat(target).st_ino)  # the file that became the target


# --- writing: temporaries of killed writers ------------------------------------------------------


def dead_pid() -> int:
    """The pid of a process that has exited (and been reaped)."""
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_the_next_write_removes_temporaries_of_dead_writers_only(tmp_path):
    target = tmp_path / "m.npz"
    dead = [tmp_path / f".m.npz.nnkit-{dead_pid()}.tmp" for _ in range(3)]
    alive = tmp_path / f".m.npz.nnkit-{os.getppid()}.tmp"  # the process that runs pytest: alive
    other_target = tmp_path / f".other.npz.nnkit-{dead_pid()}.tmp"
    for path in [*dead, alive, other_target]:
        path.write_bytes(b"partial")
    atomic_write(target, lambda f: f.write(b"data"))
    assert sorted(os.listdir(tmp_path)) == sorted([target.name, alive.name, other_target.name])
