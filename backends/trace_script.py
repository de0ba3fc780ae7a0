"""Trace a Python script in a child process, and keep the BLAS calls it made however it ends.

:func:`run` starts ``python -m nnkit.backends.trace_script``, which runs the script as ``__main__`` inside
:func:`nnkit.backends.trace.trace`, recording into a shared memory mapping (:func:`nnkit.backends.trace.share`).
The parent reads that mapping once the child is gone, so the calls made before a segfault, an abort,
``os._exit`` or a SIGKILL are all there; how the child ended is read from its exit status. When the script
returns (or raises, or calls ``sys.exit``) the child also sends, through a pipe, how it ended and which of
the script's global arrays each pointer points into.

The child starts with SIGINT blocked: a Ctrl-C stops nnkit, which ends the child (SIGTERM, then SIGKILL).
"""

from __future__ import annotations

import json
import mmap
import os
import runpy
import signal
import subprocess
import sys
from dataclasses import dataclass, field

from nnkit.backends.trace import STORE_BYTES, TracedCall, read_shared, share, trace

__all__ = ["ScriptRun", "run"]


@dataclass
class ScriptRun:
    """What a traced script did: its calls (the newest 65 536; ``dropped`` older ones), the calls it had
    started but not finished when it died (``unfinished``), per call the script's global arrays its
    pointers point into (``owners``, role → name; empty if the script did not return), and how it
    ended when not well (``failure``: "raised …", "exited with status 2", "was killed by SIGSEGV …")."""

    calls: list[TracedCall]
    dropped: int = 0
    unfinished: int = 0
    owners: list[dict[str, str]] = field(default_factory=list)
    failure: str | None = None


def run(script: str, args: list[str], stdout: int | None = None) -> ScriptRun:
    """Run ``script`` with ``args`` in a child process under the tracer; ``stdout``: where the script's
    standard output goes (a file descriptor; default: this process's)."""
    store = os.memfd_create("nnkit-trace")
    report_in, report_out = os.pipe()
    try:
        os.ftruncate(store, STORE_BYTES)
        child = _start([sys.executable, "-m", __name__, str(store), str(report_out), script, *args], stdout,
                       pass_fds=(store, report_out))
        os.close(report_out)
        report_out = None
        report = _wait(child, report_in)
        with mmap.mmap(store, STORE_BYTES, prot=mmap.PROT_READ) as memory:
            calls, dropped, unfinished = read_shared(memory)
    finally:
        for fd in (store, report_in, report_out):
            if fd is not None:
                os.close(fd)
    failure = report["failure"] if report else _ending(child.returncode)
    return ScriptRun(calls, dropped, unfinished, report.get("owners", []) if report else [], failure)


def _start(argv: list[str], stdout: int | None, **popen) -> subprocess.Popen:
    """Start the child with SIGINT blocked: it inherits this thread's mask. (Blocked here too for that
    moment, a Ctrl-C is not lost: it waits, and nnkit's handler takes it right after.)"""
    for stream in (sys.stdout, sys.stderr):
        stream.flush()  # what nnkit printed comes before what the script prints
    mask = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        return subprocess.Popen(argv, stdout=stdout, **popen)
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, mask)


def _wait(child: subprocess.Popen, report_in: int) -> dict | None:
    """Read the child's report (None if it sent none) and wait for it; end it if this process is stopped."""
    try:
        chunks = []
        while chunk := os.read(report_in, 1 << 16):
            chunks.append(chunk)
        child.wait()
    except BaseException:  # Ctrl-C, SIGTERM: the script goes too
        child.terminate()
        try:
            child.wait(5)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()
        raise
    return json.loads(b"".join(chunks)) if chunks else None


def _ending(status: int) -> str:
    """How a child that sent no report ended, from its exit status."""
    if status < 0:
        name = signal.Signals(-status).name
        return f"was killed by {name} ({signal.strsignal(-status).lower()})"
    return f"ended with status {status} without returning to nnkit (os._exit, or the process was replaced)"


def _child(store: int, report_out: int, script: str, args: list[str]) -> int:
    """In the child: record into the shared mapping, run the script, send the report; exit 0 or 1."""
    share(mmap.mmap(store, STORE_BYTES))
    os.close(store)
    sys.argv = [script, *args]
    sys.path[0] = os.path.dirname(os.path.abspath(script))  # as `python SCRIPT` does
    failure, names = None, {}
    with trace() as t:
        try:
            names = runpy.run_path(script, run_name="__main__")
        except SystemExit as exit_:
            if exit_.code not in (None, 0):
                failure = f"exited with status {exit_.code}" if isinstance(exit_.code, int) else f"exited: {exit_.code}"
        except BaseException as error:  # the script's own error: reported after the calls it made
            failure = f"raised {type(error).__name__}: {error}"
    arrays = {k: v for k, v in names.items() if hasattr(v, "__array_interface__") and not k.startswith("_")}
    owners = [{role: t.owner(getattr(c, role), **arrays) for role in ("a", "b", "c") if getattr(c, role)}
              for c in t.calls] if arrays else []
    with os.fdopen(report_out, "w") as report:
        json.dump({"failure": failure, "owners": owners}, report)
    return 1 if failure else 0


if __name__ == "__main__":
    sys.exit(_child(int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4:]))
