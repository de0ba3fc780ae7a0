"""Ctrl-C (SIGINT) and SIGTERM end every ``nnkit`` command alike: one line on stderr, exit status 128 + the signal.

:func:`install` runs first thing in the program (:mod:`nnkit.__main__`, before any heavy import). From then on:

- outside :class:`raising` (while modules load, while options are read, after the command's result is out) a signal
  ends the process at once — nothing is half-written then — after writing its one line;
- inside :class:`raising` (the command itself) it raises :class:`Interrupted`, so ``finally`` blocks run on the way
  out: temporaries are removed, a dask cluster is closed, a checkpoint is left as the last ``os.replace`` made it
  (see :mod:`nnkit.checkpoint`), and ``main`` writes the line — also when code on the way turned the
  exception into another or swallowed it;
- inside :class:`held` (code that must not stop half-way, such as starting or closing a dask cluster) it is
  noted, and raised as :class:`Interrupted` when the block ends;
- a second signal while unwinding (or while one is held) ends the process at once, after the line if not yet
  written — the way out of a clean-up that hangs.

What stays out of reach: the interpreter's own start-up before nnkit's first line runs (that of ``python -c pass``,
tens of milliseconds; there SIGTERM kills silently and SIGINT raises in Python's own import machinery). After
:func:`quiet` the signals are ignored, so a run whose result is out exits with its own status.
"""

from __future__ import annotations

import os  # only modules the interpreter has already loaded: this runs before anything else
import signal
import sys

__all__ = ["SIGNALS", "Interrupted", "held", "ignore_ctrl_c", "install", "raising", "report", "quiet", "start_deaf"]

SIGNALS = (signal.SIGINT, signal.SIGTERM)


class Interrupted(KeyboardInterrupt):
    """The command was stopped by ``signum``; ``status`` is the conventional exit status 128 + signum."""

    def __init__(self, signum: int):
        super().__init__(signal.Signals(signum).name)
        self.signum = signum
        self.status = 128 + signum


_state = {"prog": "nnkit", "raising": False, "holding": 0, "received": None, "reported": False,
          "raised": False, "again": None}   # raised: Interrupted left a handler or block; again: the signal resent


def install(prog: str = "nnkit") -> None:
    """Handle SIGINT and SIGTERM from now on (see the module docstring); ``prog`` starts the line."""
    _state["prog"] = prog
    for signum in SIGNALS:
        if signal.getsignal(signum) is not signal.SIG_IGN:  # `nohup` and the like asked to ignore it: keep that
            signal.signal(signum, _on_signal)
    sys.unraisablehook = _unraisable(sys.unraisablehook)


def _unraisable(previous):
    """Where Python cannot raise (a weakref callback inside the import machinery, ``__del__``, a gc callback such as
    dask's GC diagnosis) it prints the exception and goes on: not for :class:`Interrupted`, which is sent again
    (:func:`_again`) so that the command ends now rather than when it is done; nor, once a signal came, for what
    code it left half-way raises later (dask's GC diagnosis asserts on its broken state at the next collection)."""

    def hook(unraisable) -> None:
        if isinstance(unraisable.exc_value, Interrupted):
            _again(unraisable.exc_value.signum)
        elif _state["received"] is None:
            previous(unraisable)

    return hook


def _again(signum: int, seconds: float = 0.05) -> None:
    """Send ``signum`` to this process again after ``seconds`` unless an :class:`Interrupted` was raised meanwhile
    (by the end of a block): its handler then raises it in the code that runs next, as for the first signal."""
    import threading

    def send() -> None:
        if not _state["raised"]:
            _state["again"] = signum
            os.kill(os.getpid(), signum)

    _state["raised"] = False
    timer = threading.Timer(seconds, send)
    timer.daemon = True
    timer.start()


class raising:
    """``with raising("nnkit train"):`` — inside the block a signal raises :class:`Interrupted`; ``prog`` starts the line."""

    def __init__(self, prog: str):
        self.prog = prog

    def __enter__(self) -> None:
        _state.update(prog=self.prog, raising=True)

    def __exit__(self, kind, error, traceback) -> None:
        _state["raising"] = False
        if _state["received"] is not None and not isinstance(error, Interrupted):
            # Raised at an arbitrary line, the exception met code that turned it into another
            # (numpy's import makes an ImportError of it) or swallowed it: the signal still wins.
            _state["raised"] = True
            raise Interrupted(_state["received"]) from None


class held:
    """``with held():`` — a signal inside the block is raised as :class:`Interrupted` when the block ends
    (only inside :class:`raising`; blocks nest)."""

    def __enter__(self) -> None:
        self.before = _state["received"]
        _state["holding"] += 1

    def __exit__(self, *exc) -> None:
        _state["holding"] -= 1
        if self.before is None and _state["received"] is not None and not _state["holding"]:
            _raise(_state["received"])  # (the user's wish outranks an error the block raised)


def report(signum: int) -> int:
    """Write the one line for ``signum`` (once per process); return the exit status."""
    if not _state["reported"]:
        _state["reported"] = True
        name = signal.Signals(signum).name
        os.write(2, f"{_state['prog']}: interrupted ({name}{', Ctrl-C' * (signum == signal.SIGINT)})\n".encode())
    return 128 + signum


def quiet() -> None:
    """Ignore SIGINT and SIGTERM for the rest of the process: its result is out, let it exit with its own status.

    Ignored, not blocked: a mask is per thread, and the interpreter's last steps put back the default
    action (death by the signal) for every signal that had a Python handler — but not for ignored ones."""
    for signum in SIGNALS:
        signal.signal(signum, signal.SIG_IGN)


class start_deaf:
    """``with start_deaf():`` — processes started inside the block begin life with Ctrl-C (SIGINT) blocked: a
    signal mask survives fork and exec where a Python handler does not, so a Ctrl-C the terminal sends to the whole
    process group while a child's interpreter is still starting waits, pending, until the child calls
    :func:`ignore_ctrl_c`, which discards it (without the mask it raises KeyboardInterrupt in the child's start-up
    and prints a traceback). Threads started inside keep the mask; this process itself still receives a Ctrl-C
    through its other threads, or when the block ends (use it inside :class:`held`)."""

    def __enter__(self) -> None:
        from multiprocessing import resource_tracker

        resource_tracker.ensure_running()  # started later, it would unblock SIGINT on its way (it blocks it for its
        self.before = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})   # own child so: CPython bpo-33613)

    def __exit__(self, *exc) -> None:
        signal.pthread_sigmask(signal.SIG_SETMASK, self.before)


def ignore_ctrl_c() -> None:
    """Ignore SIGINT from now on, discarding one that waits pending (in a process :class:`start_deaf` started),
    then unblock it."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})


def _on_signal(signum: int, frame) -> None:
    resent, _state["again"] = _state["again"] == signum, None
    if _state["raising"] and (_state["received"] is None or resent):
        _state["received"] = signum
        if not _state["holding"]:
            _raise(signum)
        return
    os._exit(report(signum))


def _raise(signum: int) -> None:
    _state["raised"] = True
    raise Interrupted(signum)
