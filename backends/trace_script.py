"""Trace a Python script in a child process, and keep the BLAS calls it made however it ends.

:func:`run` starts ``python -m nnkit.backends.trace_script``, which compiles the script with its matrix
products routed through a recorder (:mod:`nnkit.backends.trace_products`) and runs it as ``__main__``
inside :func:`nnkit.backends.trace.trace`, watching the script's own file (each call carries its line),
recording into a shared memory mapping (:func:`nnkit.backends.trace.share`). The parent reads that
mapping once the child is gone, so the calls made before a segfault, an abort, ``os._exit`` or a SIGKILL
are all there; how the child ended is read from its exit status. Through a pipe the child sends each
product the script computes as soon as it is complete (one JSON line: its operands' memory, copies,
reason), so they too survive any ending; the parent finds the product that made each call and what
its pointers pointed into at that moment. When the script returns (or raises, or calls ``sys.exit``)
a last line says how it ended (the traceback Python would have printed, the exit status Python would
have given).

The child starts with SIGINT blocked: a Ctrl-C stops nnkit, which ends the child (SIGTERM, then SIGKILL).
"""

from __future__ import annotations

import json
import mmap
import os
import signal
import subprocess
import sys
import threading
import traceback
import types
from dataclasses import dataclass, field
from importlib.util import decode_source

from nnkit.backends import trace_products
from nnkit.backends.trace import STORE_BYTES, TracedCall, read_shared, remember_lines, share, trace

__all__ = ["ScriptRun", "run"]


@dataclass
class ScriptRun:
    """What a traced script did: its calls (the newest 65 536; ``dropped`` older ones), the calls it had
    started but not finished when it died (``unfinished``), and how it ended when not well (``failure``:
    "raised …", "exited with status 2", "was killed by SIGSEGV …"; ``traceback``: what Python would have
    printed; ``status``: the exit status Python would have given, None when a signal killed it or it
ended with status 0 without returning to nnkit).

    When the script returned to nnkit (or raised, or exited) there is also: ``products``, the matrix
    products it computed (:meth:`trace_products.Product.to_dict`, plus ``calls``: how many BLAS calls
    each made, and ``fallback``: why it made none, or None), and per call, by its ``number``, the
    product that made it (``made_by``) and what its pointers pointed into when it was made
    (``owners``, role → an operand's source text, ``out``, the result's name, or ``temporary``)."""

    calls: list[TracedCall]
    dropped: int = 0
    unfinished: int = 0
    failure: str | None = None
    traceback: str | None = None
    status: int | None = 0
    products: list[dict] = field(default_factory=list)
    made_by: dict[int, int] = field(default_factory=dict)
    owners: dict[int, dict[str, str]] = field(default_factory=dict)
    source: str = ""


def run(script: str, args: list[str], stdout: int | None = None) -> ScriptRun:
    """Run ``script`` with ``args`` in a child process under the tracer; ``stdout``: where the script's
    standard output goes (a file descriptor; default: this process's)."""
    store = os.memfd_create("nnkit-trace")
    report_in, report_out = os.pipe()
    source = os.path.abspath(script)  # as Python names the file of the script it runs
    try:
        os.ftruncate(store, STORE_BYTES)
        child = _start([sys.executable, "-m", __name__, str(store), str(report_out), script, *args], stdout,
                       pass_fds=(store, report_out))
        os.close(report_out)
        report_out = None
        products, end = _read_reports(_wait(child, report_in))
        with mmap.mmap(store, STORE_BYTES, prot=mmap.PROT_READ) as memory:
            calls, dropped, unfinished = read_shared(memory, [source])
    finally:
        for fd in (store, report_in, report_out):
            if fd is not None:
                os.close(fd)
    if end is None:
        end = {"failure": _ending(child.returncode), "traceback": None,
               "status": child.returncode if child.returncode > 0 else None}
    return ScriptRun(calls, dropped, unfinished, end["failure"], end["traceback"], end["status"], source=source,
                     **_attribute(calls, products))


def _read_reports(sent: bytes) -> tuple[list[trace_products.Product], dict | None]:
    """The products the child sent, and how it ended (None if it did not say: it died first). A line the
    child was still writing when it died has no newline yet, and is left out."""
    products, end = [], None
    for line in sent.split(b"\n")[:-1]:
        kind, value = json.loads(line)
        if kind == "product":
            products.append(trace_products.Product.from_record(value))
        else:
            end = value
    return products, end


def _attribute(calls: list[TracedCall], products: list[trace_products.Product]) -> dict:
    """Each call's product and what its pointers pointed into; each product with its number of calls and,
    when it made none, why (its fallback)."""
    made_by = trace_products.assign([(c.number, c.thread) for c in calls], products)
    owners = {c.number: {role: products[i].owner(getattr(c, role)) for role in ("a", "b", "c") if getattr(c, role)}
              for c, i in zip(calls, made_by) if i is not None}
    counts = [0] * len(products)
    for i in made_by:
        if i is not None:
            counts[i] += 1
    shown = [{**p.to_dict(), "calls": n, "fallback": None if n else p.fallback_reason()} for p, n in zip(products, counts)]
    return {"products": shown, "made_by": {c.number: i for c, i in zip(calls, made_by) if i is not None}, "owners": owners}


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


def _wait(child: subprocess.Popen, report_in: int) -> bytes:
    """Read what the child reports and wait for it; end it if this process is stopped."""
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
    return b"".join(chunks)


def _ending(status: int) -> str:
    """How a child that sent no report ended, from its exit status."""
    if status < 0:
        name = signal.Signals(-status).name
        return f"was killed by {name} ({signal.strsignal(-status).lower()})"
    return f"ended with status {status} without returning to nnkit (os._exit, or the process was replaced)"


def _child(store: int, report_out: int, script: str, args: list[str]) -> int:
    """In the child: record into the shared mapping, run the script sending each product, then how it
    ended; exit as Python would."""
    share(mmap.mmap(store, STORE_BYTES))
    os.close(store)
    sys.argv = [script, *args]
    path = os.path.abspath(script)
    sys.path[0] = os.path.dirname(path)  # as `python SCRIPT` does
    send = _sender(report_out)
    recorder = trace_products.Recorder([], lambda product: send("product", product.record()))
    failure, shown, status = None, None, 0
    with trace(source=path):
        try:
            _run_main(path, recorder)
        except SystemExit as exit_:
            status, failure, shown = _exit_status(exit_.code)
        except BaseException as error:  # the script's own error: its traceback comes after the calls it made
            status, failure = 1, f"raised {type(error).__name__}: {error}"
            shown = "".join(_script_traceback(error, path))
    send("end", {"failure": failure, "traceback": shown, "status": status})
    os.close(report_out)
    return status


def _sender(fd: int):
    """A function writing ``[kind, value]`` as one JSON line to ``fd``, whole — from any thread, one line at a time."""
    lock, encoder = threading.Lock(), json.JSONEncoder(check_circular=False, separators=(",", ":"))

    def send(kind: str, value) -> None:
        line = memoryview(encoder.encode([kind, value]).encode("ascii") + b"\n")
        with lock:
            while line:
                line = line[os.write(fd, line):]
    return send


def _run_main(path: str, recorder: trace_products.Recorder) -> None:
    """Run the script as ``__main__``, as ``python SCRIPT`` would, with the recorder's hooks in its globals."""
    with open(path, "rb") as file:
        source = decode_source(file.read())
    code, recorder.sites = trace_products.compile_script(source, path)
    remember_lines(code)
    main = types.ModuleType("__main__")
    main.__dict__.update(__file__=path, __builtins__=__builtins__, **recorder.hooks())
    sys.modules["__main__"] = main
    exec(code, main.__dict__)


def _exit_status(code) -> tuple[int, str | None, str | None]:
    """``sys.exit(code)`` as Python ends: the status, nnkit's words for it, and what Python prints."""
    if code is None or isinstance(code, int):
        status = (code or 0) & 0xFF
        return status, f"exited with status {status}" if status else None, None
    return 1, f"exited: {code}", f"{code}\n"


def _script_traceback(error: BaseException, path: str) -> list[str]:
    """The traceback Python prints for ``error``: from the script's first frame on (none for a
    syntax error), without nnkit's (the runner above the script, the recorder between it and numpy)."""
    recorder = os.path.abspath(trace_products.__file__)
    report = traceback.TracebackException.from_exception(error)
    for part in _chain(report):
        frames = list(part.stack)
        first = next((i for i, f in enumerate(frames) if f.filename == path), len(frames))
        part.stack = traceback.StackSummary.from_list([f for f in frames[first:] if os.path.abspath(f.filename) != recorder])
    return list(report.format())


def _chain(report: traceback.TracebackException):
    seen = set()
    while report is not None and id(report) not in seen:
        seen.add(id(report))
        yield report
        report = report.__cause__ or (report.__context__ if not report.__suppress_context__ else None)


if __name__ == "__main__":
    sys.exit(_child(int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4:]))
