"""nnkit.trace_command: the durations ``nnkit trace`` prints say what was measured, in ms, or in µs
below 1 ms — a fast call is never shown as 0.000 ms."""

from __future__ import annotations

import json
import math
import random
import re
import statistics
import subprocess
import sys

from nnkit.trace_command import duration

UNITS = {"ms": 1e-3, "µs": 1e-6}


def parsed(text: str) -> tuple[float, str, int]:
    """A printed duration: its value in seconds, its unit, its number of decimals."""
    number, unit = text.split()
    return float(number) * UNITS[unit], unit, len(number.split(".")[1])


def test_duration_in_ms_or_below_1_ms_in_us():
    rng = random.Random(7)
    units = {"ms": 0, "µs": 0}
    for _ in range(5000):
        seconds = 10 ** rng.uniform(-8, 1)
        value, unit, decimals = parsed(duration(seconds))
        assert unit == ("µs" if seconds < 1e-3 else "ms"), seconds
        assert math.isclose(value, seconds, abs_tol=0.5 * 10**-decimals * UNITS[unit] * 1.000001), (seconds, duration(seconds))
        assert value > 0, (seconds, duration(seconds))
        units[unit] += 1
    assert min(units.values()) > 1000, units


def test_the_first_call_note_quotes_the_calls_as_measured(tmp_path):
    """Generated scripts repeating a product of one random shape: the note's two figures are the first
    call's time and the later calls' median, as ``--json`` lists them, each in its unit."""
    rng = random.Random(8)
    for case in range(3):
        m, n, k = (rng.randint(2, 30) for _ in range(3))
        times = rng.randint(2, 9)
        path = tmp_path / f"repeat{case}.py"
        path.write_text(f"import numpy as np\nA, B = np.ones(({m}, {k})), np.ones(({k}, {n}))\nfor _ in range({times}):\n    A @ B\n")
        done = subprocess.run([sys.executable, "-m", "nnkit", "trace", "--json", str(path)], capture_output=True, text=True,
                              timeout=120, check=True)
        seconds = [c["seconds"] for c in json.loads(done.stdout.splitlines()[-1])["calls"]]
        note = next(line for line in done.stderr.splitlines() if line.startswith("first call "))
        first, later = re.match(rf"first call (\S+ \S+), the {times - 1} later calls? of that shape (\S+ \S+) \(median\)", note).groups()
        for text, measured in ((first, seconds[0]), (later, statistics.median(seconds[1:]))):
            assert text == duration(measured) and "0.000" not in text, (note, seconds)
