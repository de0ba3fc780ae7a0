"""Tutorial 5's traced products (Step 4's and Step 6's transposed one), on seeded made-up call times: the line after
each traced product puts the first call's time down to one-time costs only when it stood over 2× above every later
call, and prints the times it judged."""

import re
import textwrap
from types import SimpleNamespace

import numpy as np
import pytest

from nnkit import tutorials


def _first_against_later():
    """The tutorial's own function that judges the first traced call against the later ones."""
    code = next(c for c in tutorials.cells(tutorials.find("np-dot")) if "def first_against_later" in c)
    start = code.index("def first_against_later")
    scope = {"textwrap": textwrap}
    exec(code[start:code.index("\nprint(first_against_later", start)], scope)   # noqa: S102 — the tutorial's own lines
    return scope["first_against_later"]


def test_both_traced_products_are_judged_by_the_same_lines():
    cells = tutorials.cells(tutorials.find("np-dot"))
    assert sum(c.count("print(first_against_later(t.calls, ") for c in cells) == 2
    assert any("for _ in range(4):" in c and "dZ1 @ X.T" in c and "t.calls[-1]" in c for c in cells)


@pytest.mark.parametrize("seed", range(200))
def test_the_first_call_is_called_one_time_cost_only_when_it_stands_above_every_later_one(seed):
    rng = np.random.default_rng(seed)
    later = [float(rng.uniform(300, 30_000)) * 1e-6 for _ in range(3)]
    first = max(later) * float(rng.choice([0.3, 1.0, 1.9, 2.1, 25.0]))
    calls = [SimpleNamespace(seconds=s) for s in [first, *later]]
    text = _first_against_later()(calls, 2 * 128 * 1797 * 64)
    assert all(len(line) <= 100 for line in text.splitlines())
    said = " ".join(text.split())
    assert said.startswith("(that is the 4th such call, each 2mnk = 29.4 MFLOP:")
    assert f"the first took {first * 1e6:,.0f} µs" in said
    assert [float(x.replace(",", "")) for x in re.search(r"the next ([\d, ]+) µs", said).group(1).split(", ")] == \
        [round(s * 1e6) for s in later]
    assert ("one-time costs" in said) == (first > 2 * max(later))
    assert ("no one-time cost stood out" in said) == (first <= 2 * max(later))
