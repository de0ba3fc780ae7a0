"""Tutorial 5's traced product, on seeded made-up call times: the line after the traced call puts the first call's
time down to one-time costs only when it stood over 2× above every later call, and prints the times it judged."""

import re
import textwrap
from types import SimpleNamespace

import numpy as np
import pytest

from nnkit import tutorials


def _lines() -> str:
    """The tutorial's own lines that judge the first traced call against the later ones."""
    code = next(c for c in tutorials.cells(tutorials.find("np-dot")) if "first, later = " in c)
    start = code.index("first, later = ")
    return code[start:code.index("\n", code.index('subsequent_indent="  "))', start))]


@pytest.mark.parametrize("seed", range(200))
def test_the_first_call_is_called_one_time_cost_only_when_it_stands_above_every_later_one(seed):
    rng = np.random.default_rng(seed)
    later = [float(rng.uniform(300, 30_000)) * 1e-6 for _ in range(3)]
    first = max(later) * float(rng.choice([0.3, 1.0, 1.9, 2.1, 25.0]))
    printed = []
    scope = {"t": SimpleNamespace(calls=[SimpleNamespace(seconds=s) for s in [first, *later]]),
             "m": 128, "n": 1797, "k": 64, "textwrap": textwrap, "print": printed.append}
    exec(_lines(), scope)   # noqa: S102 — the tutorial's own lines
    text = printed[0]
    assert all(len(line) <= 100 for line in text.splitlines())
    said = " ".join(text.split())
    assert f"the first took {first * 1e6:,.0f} µs" in said
    assert [float(x.replace(",", "")) for x in re.search(r"the next ([\d, ]+) µs", said).group(1).split(", ")] == \
        [round(s * 1e6) for s in later]
    assert ("one-time costs" in said) == (first > 2 * max(later))
    assert ("no one-time cost stood out" in said) == (first <= 2 * max(later))
