"""How much memory this process may still take, so that work too big for it is refused up front.

:func:`require` is asked before a large allocation whose size is known from the input (a network's
layer sizes, a checkpoint's ``.npy`` headers, the operands ``nnkit explain`` builds);
:func:`allocating` turns a ``MemoryError`` that still happens into one line saying what was being
allocated.
"""

from __future__ import annotations

import contextlib
import os
import resource
from collections.abc import Iterator

__all__ = ["MemoryLimitError", "allocating", "available", "require", "size"]


class MemoryLimitError(ValueError):
    """Work that needs more memory than this process can have; the message says what and how much."""


def size(nbytes: int) -> str:
    """``nbytes`` for a reader: ``size(3 * 2**30) == '3.0 GiB'``."""
    value, unit = float(nbytes), "bytes"
    for unit in ("bytes", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"):
        if value < 1024 or unit == "EiB":
            break
        value /= 1024
    return f"{nbytes} bytes" if unit == "bytes" else f"{value:.1f} {unit}"


def available() -> int:
    """Bytes this process may still allocate: the least of the memory the kernel reports
    available, what the address-space and data limits (``ulimit -v``, ``-d``) leave, and what
    a cgroup memory limit leaves."""
    status = _read_kib("/proc/self/status", ("VmSize", "VmData"))
    limits = [_meminfo_available()]
    for limit, used in ((resource.RLIMIT_AS, status.get("VmSize", 0)), (resource.RLIMIT_DATA, status.get("VmData", 0))):
        soft = resource.getrlimit(limit)[0]
        if soft != resource.RLIM_INFINITY:
            limits.append(max(soft - used, 0))
    limits.append(_cgroup_left())
    return min(limits)


def require(nbytes: int, what: str) -> None:
    """Raise :class:`MemoryLimitError` when ``what`` (needing ``nbytes``) cannot fit."""
    left = available()
    if nbytes > left:
        raise MemoryLimitError(f"{what} needs {size(nbytes)}, more than the {size(left)} of memory available")


@contextlib.contextmanager
def allocating(what: str) -> Iterator[None]:
    """Re-raise a ``MemoryError`` from the block as one line: ``out of memory while <what>: …``."""
    try:
        yield
    except MemoryError as error:
        raise MemoryError(f"out of memory while {what}: {str(error) or 'no detail'}") from None


def _read_kib(path: str, keys: tuple[str, ...]) -> dict[str, int]:
    """``key: N kB`` lines of a /proc file, in bytes; empty where /proc is not there."""
    found = {}
    with contextlib.suppress(OSError, ValueError), open(path) as f:
        for line in f:
            key, _, value = line.partition(":")
            if key in keys:
                found[key] = int(value.split()[0]) * 1024
    return found


def _meminfo_available() -> int:
    """MemAvailable from /proc/meminfo, or the machine's physical memory where that is missing."""
    kib = _read_kib("/proc/meminfo", ("MemAvailable",))
    if "MemAvailable" in kib:
        return kib["MemAvailable"]
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")


def _cgroup_left() -> int:
    """What a cgroup memory limit leaves above current use (v2 ``memory.max``, v1
    ``memory.limit_in_bytes``); unbounded when none is set or none can be read."""
    left = 2**63
    for limit_file, used_file in _cgroup_files():
        with contextlib.suppress(OSError, ValueError), open(limit_file) as limit, open(used_file) as used:
            text = limit.read().strip()
            if text != "max":
                left = min(left, max(int(text) - int(used.read()), 0))
    return left


def _cgroup_files() -> list[tuple[str, str]]:
    """(limit, usage) files of this process's memory cgroup, v2 and v1, and of the v1 root as
    mounted (inside a container that is the container's own group)."""
    found = [("/sys/fs/cgroup/memory/memory.limit_in_bytes", "/sys/fs/cgroup/memory/memory.usage_in_bytes")]
    with contextlib.suppress(OSError), open("/proc/self/cgroup") as f:
        for line in f:
            _, controllers, group = line.rstrip("\n").split(":", 2)
            if controllers == "":
                found.append((f"/sys/fs/cgroup{group}/memory.max", f"/sys/fs/cgroup{group}/memory.current"))
            elif "memory" in controllers.split(","):
                base = f"/sys/fs/cgroup/memory{group}"
                found.append((f"{base}/memory.limit_in_bytes", f"{base}/memory.usage_in_bytes"))
    return found
