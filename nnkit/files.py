"""Paths nnkit reads and writes: refuse what is not a regular file, write atomically, name paths safely.

Reading: :func:`open_regular` opens only a regular file (never blocks on a FIFO, never reads a
device, a socket or a directory), checking what it really opened, not what a name pointed at a
moment earlier.

Writing: :func:`atomic_write` writes a temporary file beside the target, fsyncs it, renames it
onto the target and fsyncs the directory, so the target is always either the old file or the
new one. Temporaries are named ``.<name>.nnkit-<pid>.tmp``: a process killed mid-write (``kill
-9``) leaves one, and the next write to the same target removes every such file whose process
is gone. An existing target that is not a regular file (a device, a FIFO, a socket, a
directory) is refused, never replaced. A symbolic link is followed: the file it points to is
replaced and the link stays a link.

Messages: every path is shown by :func:`quoted` — as typed when it is plain, else as a Python
string literal — so an error stays one line whatever the path holds (newlines, control bytes).
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import re
import stat
from collections.abc import Callable, Iterator
from typing import BinaryIO

__all__ = ["PathError", "atomic_write", "check_input", "check_output", "naming", "open_regular", "quoted"]

StrPath = str | os.PathLike[str]

_PLAIN = re.compile(r"[\w@%+=:,./~-]+")  # shlex's safe characters (and any letter): shown as typed
_KINDS = {stat.S_IFDIR: "a directory", stat.S_IFIFO: "a FIFO (named pipe)", stat.S_IFSOCK: "a socket",
          stat.S_IFCHR: "a character device", stat.S_IFBLK: "a block device"}


class PathError(OSError):
    """A path nnkit cannot use. ``str()`` is one line: the option that gave it (if any), the
    quoted path, the reason — ``--out 'a b.npz': cannot write it: No space left on device``."""

    def __init__(self, path: StrPath, reason: str, code: int | None = None, option: str | None = None):
        super().__init__(code, reason, os.fspath(path))
        self.option = option

    def __str__(self) -> str:
        return f"{self.option + ' ' if self.option else ''}{quoted(self.filename)}: {self.strerror}"


def quoted(path: StrPath) -> str:
    """``path`` for a one-line message: as is when plain (``data/train.csv``), else ``repr``.

    >>> quoted("data/train.csv"), quoted("a b"), quoted("two\\nlines")
    ('data/train.csv', "'a b'", "'two\\\\nlines'")
    """
    text = os.fsdecode(path)
    return text if _PLAIN.fullmatch(text) else repr(text)


def _kind(mode: int) -> str | None:
    """What a file of mode ``mode`` is, when it is not a regular file."""
    return None if stat.S_ISREG(mode) else _KINDS.get(stat.S_IFMT(mode), "not a regular file")


# --- reading ------------------------------------------------------------------------------------


def check_input(path: StrPath, option: str) -> None:
    """Refuse an input ``path`` given as ``option`` that is empty, missing or not a regular file."""
    if not os.fspath(path):
        raise PathError(path, "expected a file path, got an empty string", errno.ENOENT, option)
    try:
        mode = os.stat(path).st_mode
    except OSError as error:
        raise PathError(path, f"cannot read it: {error.strerror}", error.errno, option) from None
    _refuse_to_read(path, mode, option)


def _refuse_to_read(path: StrPath, mode: int, option: str | None = None) -> None:
    kind = _kind(mode)
    if kind:
        raise PathError(path, f"is {kind}; expected a regular file", errno.EINVAL, option)


def open_regular(path: StrPath) -> BinaryIO:
    """Open ``path`` for binary reading if it is a regular file; else :class:`PathError`.

    Checked by ``stat`` first (opening a socket fails, opening a device may do something), then
    opened non-blocking (a FIFO swapped in meanwhile would block ``open`` forever) and checked
    again with ``fstat`` on what was opened, then switched back to blocking reads."""
    _refuse_to_read(path, os.stat(path).st_mode)
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC)
    try:
        _refuse_to_read(path, os.fstat(fd).st_mode)
        fcntl.fcntl(fd, fcntl.F_SETFL, fcntl.fcntl(fd, fcntl.F_GETFL) & ~os.O_NONBLOCK)
    except BaseException:
        os.close(fd)
        raise
    return os.fdopen(fd, "rb")


# --- writing ------------------------------------------------------------------------------------


def check_output(path: StrPath, option: str) -> None:
    """Refuse an output ``path`` given as ``option`` before any work: empty, an existing path that
    is not a regular file, or a directory to write into that is missing or not writable."""
    if not os.fspath(path):
        raise PathError(path, "expected a file path, got an empty string", errno.ENOENT, option)
    target = os.path.realpath(path)
    _refuse_to_replace(path, target, option)
    directory = os.path.dirname(target)
    if not os.path.isdir(directory) or not os.access(directory, os.W_OK):
        raise PathError(path, f"expected a writable directory {quoted(directory)}", errno.ENOTDIR, option)


@contextlib.contextmanager
def naming(option: str, value: StrPath) -> Iterator[None]:
    """Put ``option`` (and its ``value`` when the failed path is inside it) in front of a
    :class:`PathError` raised in the block: ``--out m.npz: cannot write it: No space left…``."""
    try:
        yield
    except PathError as error:
        where = "" if error.filename == os.fspath(value) else f"{quoted(error.filename)}: "
        raise PathError(value, where + error.strerror, error.errno, option) from None


def atomic_write(path: StrPath, write: Callable[[BinaryIO], object]) -> None:
    """Call ``write(f)`` on a binary file that becomes ``path`` only once it is whole and synced.

    Raises :class:`PathError` naming ``path`` (never the temporary) for an existing target that
    is not a regular file and for any error of the file system (full disk, quota, file size
    limit); ``path`` is then untouched and no temporary is left. An exception from ``write``
    itself propagates unchanged, with the same guarantees. One write at a time per target in a
    process: the temporary's name holds the pid, not a thread.
    """
    target = os.path.realpath(path)
    directory, name = os.path.split(target)
    _refuse_to_replace(path, target)
    _remove_stale_temporaries(target)
    temporary = os.path.join(directory, f".{name}.nnkit-{os.getpid()}.tmp")
    try:
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o666)
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        _refuse_to_replace(path, target)  # in case one appeared meanwhile
        os.replace(temporary, target)
    except BaseException as error:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        if isinstance(error, OSError) and not isinstance(error, PathError):
            raise PathError(path, f"cannot write it: {error.strerror or error}", error.errno) from None
        raise
    _fsync_directory(directory)


def _refuse_to_replace(path: StrPath, target: str, option: str | None = None) -> None:
    """Refuse ``path`` (resolved: ``target``) when something other than a regular file is there."""
    with contextlib.suppress(FileNotFoundError):
        kind = _kind(os.stat(target).st_mode)
        if kind:
            hint = "expected a file name such as model.npz" if kind == "a directory" else \
                   "nnkit writes only regular files, and will not replace it"
            raise PathError(path, f"is {kind}; {hint}", errno.EINVAL, option)


def _remove_stale_temporaries(target: str) -> None:
    """Remove the temporaries of ``target`` left by processes that no longer run (or by an
    earlier process that had this one's pid)."""
    directory, name = os.path.split(target)
    pattern = re.compile(re.escape(f".{name}.nnkit-") + r"(\d+)\.tmp")
    with contextlib.suppress(OSError), os.scandir(directory) as entries:
        for entry in entries:
            match = pattern.fullmatch(entry.name)
            if match and not _running(int(match[1])):
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(entry.path)


def _running(pid: int) -> bool:
    """Whether another process with ``pid`` runs (signal 0 checks without sending anything)."""
    if pid == os.getpid():
        return False  # this process writes one temporary per target at a time: an older one is stale
    try:
        os.kill(pid, 0)
    except (ProcessLookupError, OverflowError):  # no such process (OverflowError: no such pid either)
        return False
    except PermissionError:  # it exists, another user's
        return True
    return True


def _fsync_directory(directory: str) -> None:
    """Make the rename itself survive a crash. Best effort: some file systems refuse to fsync a
    directory, and by now the new file is in place, so failing here would misreport the write."""
    with contextlib.suppress(OSError):
        fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
