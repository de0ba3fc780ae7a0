"""Tutorial 6's FMA verdict, run on seeded made-up sweeps and pairs: a two-instruction kernel that ran out of
registers still climbing makes FMA's share an upper bound that no rerun settles — whatever the pairs' range —
and the width line below it never promises what a rerun would settle."""

import contextlib
import io
import re
from textwrap import fill
from types import SimpleNamespace

import numpy as np
import pytest

from nnkit import tutorials

LANES = {"scalar": 1, "sse2": 2, "avx2+fma": 4, "avx512f+fma": 8}


def _fma_cell() -> str:
    return next(code for code in tutorials.cells(tutorials.find("threads-and-simd")) if "fusing = " in code)


def _run(rng: np.random.Generator) -> tuple[str, dict]:
    """The tutorial's FMA cell on made-up sweeps (GFLOP/s by chains) and alternating pairs; its printed text."""
    sweeps = {k: {c: float(rng.uniform(1, 10)) * LANES[k] * min(c, 8) / 8 for c in (1, 2, 4, 8, 12, 14)}
              for k in LANES}
    climbing = {k for k in ("scalar", "sse2", "avx2+fma", "avx512f+fma") if rng.random() < 0.4}
    share = float(rng.choice([0.9, 1.1, 1.15, 1.3, 1.6]))     # per lane, avx512f+fma against sse2, around 1.15
    spread = float(rng.choice([0.02, 0.1, 0.3]))

    def alternate(kernels, rounds, times, repeats=1):
        (two, c_two), (wide, c_wide) = kernels
        base = [sweeps[two][c_two] * float(rng.uniform(0.9, 1.0)) for _ in range(times)]
        ratio = [share * float(rng.uniform(1 - spread, 1 + spread)) for _ in range(times)]
        return {(two, c_two): base, (wide, c_wide): [b / LANES[two] * r * LANES[wide] for b, r in zip(base, ratio)]}

    ns = {"sweeps": sweeps, "best": {k: max(s.values()) for k, s in sweeps.items()}, "lanes": LANES,
          "climbing": climbing, "unsteady": set(), "rounds": 1, "QUICK": True,
          "peak": SimpleNamespace(alternate=alternate), "say": lambda t: print(fill(t, 118, subsequent_indent="  "))}
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        exec(_fma_cell(), ns)   # noqa: S102 — the tutorial's own cell
    return re.sub(r"\n  (?=\S)", " ", printed.getvalue()), ns


@pytest.mark.parametrize("seed", range(200))
def test_a_register_limit_makes_the_share_an_upper_bound_no_rerun_settles(seed):
    text, ns = _run(np.random.default_rng(seed))
    line = re.search(r"^FMA's share, per lane: .*$", text, re.M).group(0)
    width = re.search(r"the two FMA kernels per lane: .*$", text, re.M).group(0)   # joined to the line above
    low, high = ns["per_lane"][0], ns["per_lane"][-1]
    registers, wide_climbing = "sse2" in ns["climbing"], "avx512f+fma" in ns["climbing"]
    if registers:     # the limit comes first, whatever the pairs' range
        assert "a rerun cannot settle it" in line and "run it again" not in line
        assert "a rerun settles" not in width
        assert line.startswith("FMA's share, per lane: ≤") == (not wide_climbing)
    else:
        assert ("not settled in this run" in line) == (low <= 1.15 <= high)
        assert line.startswith("FMA's share, per lane: ≥") == wide_climbing
    assert ("this CPU issues a separate multiply and add slower than one FMA" in line
            and "not settled" not in line) <= (low > 1.15 and not registers)


@pytest.mark.parametrize("seed", range(40))
def test_step_3_never_uses_a_peak_below_the_best_step_2_saw_and_says_when_it_lifts_it(seed):
    """Step 3's own measurement of a kernel, against Step 2's best of it (seeded made-up figures): the clock and
    every share after it use the higher of the two, and a line says so exactly when Step 2's best is the higher."""
    rng = np.random.default_rng(seed)
    source = next(code for code in tutorials.cells(tutorials.find("threads-and-simd")) if "one_core = peak.measure" in code)
    code = source[source.index("seen = best.get"):source.index("reported = ")]
    measured, swept = (round(float(rng.uniform(60, 90)), 2) for _ in range(2))
    printed = []
    scope = {"one_core": {"gflops": measured, "kernel": "avx512f+fma", "lanes": 8}, "best": {"avx512f+fma": swept},
             "bound": lambda k: "", "units": 2, "say": printed.append}
    exec(code, scope)
    lifted = round(swept, 1) > round(measured, 1)
    assert bool(printed) == lifted
    assert scope["one_core"]["gflops"] == (swept if lifted else measured)
    assert scope["clock"] == pytest.approx(scope["one_core"]["gflops"] / 32)
    if lifted:
        assert f"use {swept:.1f}" in printed[0]
