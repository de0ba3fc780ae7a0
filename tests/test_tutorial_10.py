"""Tutorial 10: Step 1 rotates the backends' order from turn to turn, and Step 3 reads a blas ratio below 1× only
when every undisturbed turn is below 1×, naming what one product timed alone says — on seeded made-up turns, for every
outcome, and once in a whole quick run."""

import contextlib
import io
import re

import numpy as np
import pytest

from nnkit import tutorials
from tutorial_runs import BUSY, CALM, quick


def _reading():
    code = next(code for code in tutorials.cells(tutorials.find("backends")) if "def blas_reading" in code)
    scope: dict = {}
    exec(code[code.index("def blas_reading"):code.index("print(blas_reading(")], scope)   # noqa: S102 — the tutorial's
    return scope["blas_reading"]


@pytest.mark.parametrize("seed", range(200))
def test_a_blas_ratio_below_one_is_read_only_when_every_turn_agrees(seed):
    rng = np.random.default_rng(seed)
    turns = sorted(round(float(rng.uniform(0.6, 1.4)), 1) for _ in range(int(rng.integers(1, 6))))
    one_product, settled = round(float(rng.uniform(0.7, 1.3)), 2), bool(rng.random() < 0.8)
    balanced = bool(rng.random() < 0.5)
    text = _reading()(turns[0], turns[-1], one_product, settled, balanced)
    assert text.startswith("→ ") and all(len(line) <= 118 for line in text.splitlines())
    # reader 20 c8: the place in the turn is ruled out only when every backend started equally often
    assert ("so not the place in the turn" in text) == (settled and turns[-1] < 1 <= one_product and balanced)
    assert ("the place in the turn is" in text) == (settled and turns[-1] < 1 and not balanced)
    assert ("not settled in this run" in text) == (not settled)
    assert ("costs more than none" in text) == (settled and turns[0] >= 1)
    assert ("on both sides of 1×" in text) == (settled and turns[0] < 1 <= turns[-1])
    below = settled and turns[-1] < 1
    assert ("consistent with\n  the bridge's direct dgemm call" in text) == (below and one_product < 1)
    assert ("not explained" in text) == (below and one_product >= 1)
    if below:
        assert "a hypothesis" in text or "left:" in text or "others:" in text   # a reading, never a measured fact
        assert f"({one_product:.2f}×)" in text or f"{one_product:.2f}× through it" in text


@pytest.mark.parametrize("repeats", range(1, 9))
@pytest.mark.parametrize("dropped", [(), (2,), (0, 5), (1, 2, 3), tuple(range(8))])
def test_each_turn_starts_one_backend_further_on_and_the_starts_kept_are_counted(repeats, dropped):
    """Each turn starts one backend further on; reader 20 c8: the run says how often each backend started among the
    turns its figures come from (disturbed turns, ``dropped``, left out), and calls the place in the turn favouring
    none only when those counts are all equal — as the full run's 8 turns, two whole rotations, are when none drops.
    Reader 21 a7: when every turn was left out, the figures still printed and drawn come from the disturbed turns, and
    the counting line, the summary line, the figure's axis label and its title say so."""
    code = next(code for code in tutorials.cells(tutorials.find("backends")) if "turns = []" in code)
    backends, calls, watched = ("numpy", "strict", "instrumented", "blas"), [], []

    def run(backend):
        calls.append(backend)
        return {}, 0.9, 1.0 + len(calls) / 100, backend

    def watch(function):
        busy = len(watched) in dropped
        watched.append(busy)
        return (BUSY if busy else CALM)(function)

    scope = {"run": run, "backends": backends, "repeats": repeats, "watch": watch, "np": np,
             "verdicts": __import__("nnkit.bench.verdicts", fromlist=["cause"])}
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(code[code.index("turns = []"):], scope)   # noqa: S102 — the tutorial's own code
        drawn = _drawn(scope)
    orders = [calls[i:i + 4] for i in range(0, len(calls), 4)]
    assert len(orders) == repeats and all(sorted(order) == sorted(backends) for order in orders)
    assert [order[0] for order in orders] == [backends[turn % 4] for turn in range(repeats)]
    assert list(scope["runs"]) == list(backends)                 # printed in the same order whatever ran first
    kept = [turn for turn in range(repeats) if turn not in dropped] or list(range(repeats))
    starts = {backend: sum(backends[turn % 4] == backend for turn in kept) for backend in backends}
    assert all(len(printed) <= 118 for printed in out.getvalue().splitlines())
    line = re.sub(r"\n +", " ", re.search(r"^first in a turn, .*(?:\n  .*)?", out.getvalue(), re.M).group(0))
    every = all(turn in dropped for turn in range(repeats))
    assert f"of the {len(kept)}{' disturbed' * every} turn" in line
    flat = re.sub(r"\n +", " ", out.getvalue())
    assert (f"every turn was left out, so the times above come from the {repeats} disturbed turn" in flat) == every
    assert ("disturbed" in drawn["xlabel"]) == every
    settled = repeats - len([turn for turn in dropped if turn < repeats]) >= (3 if repeats > 1 else 1)
    assert drawn["title"].endswith("namespace" if settled else "not settled: from disturbed turns" if every else
                                   "not settled: too few undisturbed turns")
    assert ", ".join(f"{backend} {count}" for backend, count in starts.items()) in line
    equal = len(set(starts.values())) == 1
    assert ("each equally often: the place in the turn favours none" in line) == equal
    assert ("not equally often: the place in the turn is not ruled out" in line) == (not equal)
    assert equal == (len(kept) % 4 == 0 and all(count == len(kept) // 4 for count in starts.values()))


class _Axes:
    """Keeps what the tutorial's figure sets on its axes (title, labels)."""

    def __init__(self):
        self.said: dict = {}

    def set(self, **said):
        self.said.update(said)

    def barh(self, *args, **named):
        pass

    def invert_yaxis(self):
        pass

    def grid(self, *args, **named):
        pass


def _drawn(scope: dict) -> dict:
    """The title and labels Step 3's figure draws from Step 1's figures in ``scope``."""
    code = next(code for code in tutorials.cells(tutorials.find("backends")) if "def draw(" in code)
    figure, axes = dict(scope, epochs=2), _Axes()
    exec(code[code.index("def draw("):code.index('print("figure:"')], figure)   # noqa: S102 — the tutorial's own code
    figure["draw"]([axes])
    return axes.said


def test_the_full_run_turns_are_two_whole_rotations():
    """Reader 20 c8: 5 turns over 4 backends could never start each equally often; the full run takes 8."""
    code = next(code for code in tutorials.cells(tutorials.find("backends")) if "turns = []" in code)
    scope = {"QUICK": False, "backends": ("numpy", "strict", "instrumented", "blas")}
    exec(code[code.index("repeats = "):code.index("turns = []")], scope)   # noqa: S102 — the tutorial's own code
    assert scope["repeats"] == 8


@pytest.mark.long   # ~20 s: tests/test_tutorials.py runs the same quick run by default; this reads its Step 3
def test_the_quick_run_times_one_product_and_reads_the_blas_ratio(tmp_path, monkeypatch):
    monkeypatch.setattr("nnkit.bench.load.watch", CALM)
    _, text = quick("backends", tmp_path)
    assert re.search(r"^one product \(32×64 @ 64×32\): numpy's @ [\d.]+ µs, the blas backend's @ [\d.]+ µs: [\d.]+× ",
                     text, re.M)
    assert re.search(r"^→ (blas took|blas ran faster|Step 1's times are not settled)", text, re.M)
