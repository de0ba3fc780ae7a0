"""Tutorial 10: Step 1 rotates the backends' order from turn to turn, and Step 3 reads a blas ratio below 1× only
when every undisturbed turn is below 1×, naming what one product timed alone says — on seeded made-up turns, for every
outcome, and once in a whole quick run."""

import re

import numpy as np
import pytest

from nnkit import tutorials
from tutorial_runs import CALM, quick


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
    text = _reading()(turns[0], turns[-1], one_product, settled)
    assert text.startswith("→ ") and all(len(line) <= 118 for line in text.splitlines())
    assert ("not settled in this run" in text) == (not settled)
    assert ("costs more than none" in text) == (settled and turns[0] >= 1)
    assert ("on both sides of 1×" in text) == (settled and turns[0] < 1 <= turns[-1])
    below = settled and turns[-1] < 1
    assert ("consistent with\n  the bridge's direct dgemm call" in text) == (below and one_product < 1)
    assert ("not explained" in text) == (below and one_product >= 1)
    if below:
        assert "a hypothesis" in text or "left:" in text            # a reading is never stated as measured fact
        assert f"({one_product:.2f}×)" in text or f"{one_product:.2f}× through it" in text


@pytest.mark.parametrize("repeats", range(1, 9))
def test_each_turn_starts_one_backend_further_on_so_no_backend_always_runs_first(repeats):
    code = next(code for code in tutorials.cells(tutorials.find("backends")) if "turns = []" in code)
    backends, calls = ("numpy", "strict", "instrumented", "blas"), []

    def run(backend):
        calls.append(backend)
        return {}, 0.9, 1.0 + len(calls) / 100, backend

    scope = {"run": run, "backends": backends, "repeats": repeats, "watch": CALM, "np": np,
             "verdicts": __import__("nnkit.bench.verdicts", fromlist=["cause"])}
    exec(code[code.index("turns = []"):], scope)   # noqa: S102 — the tutorial's own code
    orders = [calls[i:i + 4] for i in range(0, len(calls), 4)]
    assert len(orders) == repeats and all(sorted(order) == sorted(backends) for order in orders)
    assert [order[0] for order in orders] == [backends[turn % 4] for turn in range(repeats)]
    assert list(scope["runs"]) == list(backends)                 # printed in the same order whatever ran first


@pytest.mark.long   # ~20 s: tests/test_tutorials.py runs the same quick run by default; this reads its Step 3
def test_the_quick_run_times_one_product_and_reads_the_blas_ratio(tmp_path, monkeypatch):
    monkeypatch.setattr("nnkit.bench.load.watch", CALM)
    _, text = quick("backends", tmp_path)
    assert re.search(r"^one product \(32×64 @ 64×32\): numpy's @ [\d.]+ µs, the blas backend's @ [\d.]+ µs: [\d.]+× ",
                     text, re.M)
    assert re.search(r"^→ (blas took|blas ran faster|Step 1's times are not settled)", text, re.M)
