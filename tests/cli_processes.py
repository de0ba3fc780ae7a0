"""Helpers for tests that start real ``nnkit`` processes and signal them: start, wait for the handlers, signal,
and collect what happened — also every process the run left behind."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

SCRIPT = Path(sys.executable).with_name("nnkit")  # the console script a user runs


def command(*args: str, console_script: bool = True) -> list[str]:
    """``nnkit ARGS`` (the installed console script) or ``python -m nnkit ARGS``."""
    if console_script and SCRIPT.exists():
        return [str(SCRIPT), *args]
    return [sys.executable, "-m", "nnkit", *args]


def caught_signals(pid: int) -> int:
    """The mask of signals ``pid`` has handlers for (``SigCgt`` in /proc), 0 once it is gone."""
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("SigCgt:"):
                    return int(line.split()[1], 16)
    except OSError:
        pass
    return 0


def start(argv: list[str], **popen) -> subprocess.Popen:
    """Start ``argv`` in its own process group (as a shell starts a job) and return once it handles
    SIGTERM — nnkit's first act; before that only the interpreter's start-up has run."""
    process = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, process_group=0, **popen)
    deadline = time.monotonic() + 60
    while not caught_signals(process.pid) >> (signal.SIGTERM - 1) & 1:
        if process.poll() is not None or time.monotonic() > deadline:
            break
        time.sleep(0.0005)
    return process


def send(process: subprocess.Popen, signum: int) -> None:
    """SIGINT as a terminal's Ctrl-C sends it (to the whole process group); anything else to the process."""
    try:
        if signum == signal.SIGINT:
            os.killpg(process.pid, signum)
        else:
            process.send_signal(signum)
    except ProcessLookupError:  # it had already ended
        pass


@dataclass
class Outcome:
    status: int
    stdout: str
    stderr_lines: list[str]
    seconds: float  # from the signal to the end of the process
    left_behind: list[int]  # processes of its group still alive after it ended


def finish(process: subprocess.Popen, signalled_at: float, timeout: float = 120) -> Outcome:
    stdout, stderr = process.communicate(timeout=timeout)
    seconds = time.monotonic() - signalled_at
    return Outcome(process.returncode, stdout, stderr.splitlines(), seconds, group_members(process.pid))


def group_members(pgid: int, grace: float = 5.0) -> list[int]:
    """Processes still in process group ``pgid`` after ``grace`` seconds (zombies are gone processes)."""
    deadline = time.monotonic() + grace
    while True:
        alive = [pid for pid, (group, state) in _groups_and_states() if group == pgid and state not in "ZX"]
        if not alive or time.monotonic() > deadline:
            return alive
        time.sleep(0.1)


def _groups_and_states() -> list[tuple[int, tuple[int, str]]]:
    """``(pid, (process group, state letter))`` of every process, from /proc/PID/stat (after the name:
    state, ppid, pgrp)."""
    found = []
    for name in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{name}/stat") as stat:
                state, _, group = stat.read().rsplit(")", 1)[1].split()[:3]
        except OSError:  # it ended meanwhile
            continue
        found.append((int(name), (int(group), state)))
    return found
