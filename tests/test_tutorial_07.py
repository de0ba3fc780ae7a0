"""Tutorial 7, Step 4: the share of the n = 500 / n = 512 gap put on the 4 KiB stride follows the two
alternating pairs printed beside it, for every outcome (the machine's load replaced by a calm one); each pair's
line prints the core's speed and other processes' cores it was judged by."""

import math
import re

import numpy as np
import pytest

from nnkit import tutorials
from nnkit.bench import load, verdicts
from tutorial_runs import CALM, quick

PAIR = re.compile(r"^  (.+?) +÷ (.+?) +(\d+\.\d\d)×  the core at (\d+)%, others (\d+\.\d\d) cores$((?:\n    disturbed: .*)?)", re.M)


def test_the_strides_share_of_the_gap_follows_the_pairs(monkeypatch, tmp_path):
    monkeypatch.setattr(load, "watch", CALM)
    ns, text = quick("the-speed-ladder", tmp_path)
    pair = lambda label, base: float(re.search(rf"^  {re.escape(label)} +÷ {re.escape(base)} +(\d+\.\d\d)×  the core at ", text, re.M).group(1))
    recovered, gap = pair(ns["spaced"], ns["plain"]), pair(ns["smaller"], ns["plain"])
    verdict = re.search(r"^→ .*(?:\n  .*)*", text, re.M).group(0)
    if recovered >= gap > 1.1:
        assert "accounts for all of that gap" in verdict
    elif gap > 1.1 and recovered > 1:
        share = int(re.search(r"(\d+)% of it \(on a log scale\)", verdict).group(1))
        assert abs(share - 100 * math.log(recovered) / math.log(gap)) <= 1.5
    elif gap <= 1.1:
        assert "no gap for the stride to explain" in verdict
    else:
        assert "the gap is not the stride's" in verdict
    assert "for scale only" in text and "not the size of an effect" in text
    assert [m.group(4, 5, 6) for m in PAIR.finditer(text)] == [("100", "0.00", "")] * 4


def test_each_pair_line_prints_the_figures_its_verdict_reads(monkeypatch, tmp_path):
    """A seeded stand-in for ``load.watch`` reports, at random, a core's speed and other processes' cores on both
    sides of each mark: every pair line prints what its own watch reported, says 'disturbed' exactly when
    ``verdicts.cause`` does on the figures printed, and the verdict concludes only when no pair was disturbed."""
    rng, reported = np.random.default_rng(7), []

    def watch(function):
        function()
        reported.append({"wall": 0.0, "ours": 1.0, "helpers": 0.0, "others": float(rng.choice([0.0, 0.1, 0.5, 1.5])),
                         "speed": float(rng.choice([0.6, 0.8, 0.9, 1.0]))})
        return reported[-1]

    monkeypatch.setattr(load, "watch", watch)
    ns, text = quick("the-speed-ladder", tmp_path)
    pairs = list(PAIR.finditer(text))
    assert len(pairs) == 4
    for line, (_, seen, why) in zip(pairs, ns["again"].values()):
        speed, others = int(line.group(4)) / 100, float(line.group(5))
        assert (speed, others) == (round(seen["speed"], 2), seen["others"])
        assert bool(line.group(6)) == bool(verdicts.cause(others, speed)) == bool(why)
    disturbed = [ns["PAIRS"][key] for key, (_, _, why) in ns["again"].items() if why]
    head = re.search(r"^→ .*\n  (.*)", text, re.M)
    assert ("disturbed pairs, counted only by their bounds" in head.group(0)) == bool(disturbed)
    assert not disturbed or head.group(1) == ", ".join(disturbed) + "; the rest by their ratios —"


def _cell_functions(start: str, end: str, **scope) -> dict:
    """The functions the tutorial's cell defines between ``start`` and ``end``, run with ``scope``."""
    source = tutorials.find("the-speed-ladder").read_text()
    scope = {"np": np, "verdicts": verdicts, **scope}
    exec(source[source.index(start):source.index(end)], scope)
    return scope


def test_each_share_wording_matches_its_numbers():
    """The four outcomes of the share, from the cell's own function, on made-up pairs."""
    share = _cell_functions("def share(", "def verdict(", size=512)["share"]
    said = {(gap, recovered): share(gap, recovered) for gap, recovered in ((3.0, 3.44), (3.4, 1.7), (1.05, 1.2), (2.0, 0.9))}
    assert "all of that gap" in said[3.0, 3.44]
    assert "43% of it" in said[3.4, 1.7]
    assert "no gap" in said[1.05, 1.2] and "not the stride's" in said[2.0, 0.9]


def _pair(rng):
    ratio, others, speed = float(rng.uniform(0.3, 4)).__round__(2), float(rng.choice([0.0, 0.1, 0.5, 1.5])), float(rng.choice([0.6, 0.8, 0.9, 1.0]))
    return ratio, {"others": others, "speed": speed}, verdicts.cause(others, speed)


def test_step_4s_verdict_settles_by_undisturbed_ratios_and_by_disturbed_pairs_bounds_only():
    """2,000 seeded sets of four pairs, each undisturbed, slowed or with others busy: the verdict names exactly the
    disturbed pairs; each conclusion is drawn only when the pair's bounds (the ratio itself when undisturbed; × and ÷
    a slowed core's speed; nothing when others were busy) lie on one side of its mark; 'run it again' exactly when
    something is left open; every line fits 118 characters. (The reader's run: padded at 81 %, the rest calm.)"""
    verdict = _cell_functions("def share(", "print(verdict(again))", size=512)["verdict"]
    rng = np.random.default_rng(15)
    cases = [{"padded": (2.97, {"others": 0.01, "speed": 0.81}, "slow"), "sizes": (2.88, {"others": 0.0, "speed": 0.94}, ""),
              "swap": (0.69, {"others": 0.0, "speed": 0.93}, ""), "away": (2.03, {"others": 0.0, "speed": 0.93}, "")}]
    cases += [{key: _pair(rng) for key in ("padded", "sizes", "swap", "away")} for _ in range(2000)]
    for again in cases:
        said = verdict(again)
        span = {key: verdicts.ratio_bounds(rate, seen["others"], seen["speed"]) for key, (rate, seen, _) in again.items()}
        side = lambda key, mark: True if span[key][0] > mark else False if span[key][1] <= mark else None
        assert all(len(line) <= 118 for line in said.split("\n"))
        disturbed = [key for key, (_, _, why) in again.items() if why]
        assert ("counted only by their bounds" in said) == bool(disturbed)
        assert ("the price of a power-of-two row" in said) == (side("padded", 1.3) is True)
        assert ("no price of the power-of-two row visible" in said) == (side("padded", 1.3) is False)
        beats, beats_smaller = side("swap", 1), side("away", 1)
        assert ("Step 3's swap of the two is that price" in said) == (
            side("padded", 1.3) is True and beats is False and beats_smaller is True)
        assert ("swap between the sizes" in said) == (beats is None or beats_smaller is None)
        share_said = "KiB stride" in said or "no gap for the stride" in said or "the gap is not the stride's" in said
        bounded = "sizes" not in disturbed and again["sizes"][0] > 1.1 and 1 < span["padded"][0] and span["padded"][1] < 9e9
        assert share_said == ("sizes" not in disturbed and ("padded" not in disturbed or bounded))
        if "at least" in said:
            share = int(re.search(r"at least (\d+)% of it", said).group(1))
            assert abs(share - min(100, 100 * math.log(span["padded"][0]) / math.log(again["sizes"][0]))) <= 0.5
        body = said.split("\n", 2)[2] if disturbed else said
        assert ("not settled in this run" in said.split("\n")[0]) == (bool(disturbed) and "not settled" in body)
        assert disturbed or "not settled whether" not in said and "share of the size gap is not" not in said


def test_the_instruction_verdict_reads_a_disturbed_rate_only_as_its_bound():
    """Seeded made-up table rates, some disturbed: 'far below' only when every rate, a disturbed one divided by the
    share of a full-speed core it had, is under 0.7 of the scalar probe; a disturbed fastest loop near it settles nothing."""
    source = tutorials.find("the-speed-ladder").read_text()
    code = source[source.index("ceiling = {label"):source.index("from nnkit.backends._native import lib as native")]
    code = code.replace("print(", "said.append(", 1)
    rng = np.random.default_rng(0)
    for _ in range(300):
        labels = ["ijk, n = 500", "ijk, n = 512", "ikj, n = 512"]
        walks = {k: float(rng.uniform(0.5, 5)) for k in labels}
        held = {k: float(rng.uniform(0.3, 1)) for k in labels}
        shaky = {k for k in labels if rng.random() < 0.5}
        scope = {"walks": walks, "held": held, "shaky": shaky, "scalar": 6.0, "said": []}
        exec(code, scope)
        verdict = scope["said"][0]
        bound = max(r / held[k] if k in shaky else r for k, r in walks.items())
        assert ("the instruction set is not what limits" in verdict) == (bound < 0.7 * 6.0)
        fastest = scope["fastest"]
        assert ("not settled" in verdict) == (bound >= 0.7 * 6.0 and fastest in shaky)
        assert (f"at most {walks[fastest]:.2f} ÷ {held[fastest]:.2f}" in verdict) == (fastest in shaky)


def test_what_bounds_the_ijk_loop_is_said_only_when_the_pairs_bounds_fall_in_one_band():
    """2,000 seeded ratios of ijk's rate to twice one add chain's, with the pairs calm, on a slowed core, or with
    others busy: 'one serial sum … is what bounds' only inside 0.8–1.25× (all of a disturbed pair's bounds), 'below'
    and 'above' likewise outside; otherwise not settled; every line within 118 characters once printed after '  → '."""
    sum_bound = _cell_functions("def sum_bound(", "rough = verdicts.cause(", m=500)["sum_bound"]
    rng = np.random.default_rng(7)
    for ratio, others, speed in [(1.0, 0.0, 1.0), (1.0, 1.6, 0.98), (2.08, 1.62, 0.91)] + [
            (round(float(rng.uniform(0.3, 2.5)), 2), float(rng.choice([0.0, 0.1, 0.5])), float(rng.choice([0.6, 0.8, 0.9, 1.0])))
            for _ in range(2000)]:
        said = sum_bound(ratio, others, speed)
        low, high = verdicts.ratio_bounds(ratio, others, speed)
        assert ("is what bounds" in said) == (0.8 <= low and high <= 1.25)
        assert said.startswith("below") == (high < 0.8) and said.startswith("above") == (low > 1.25)
        assert said.startswith("not settled") == (not (0.8 <= low and high <= 1.25) and high >= 0.8 and low <= 1.25)
        assert not said.startswith("not settled") or verdicts.cause(others, speed)
        assert all(len(line) <= 118 for line in ("  → " + said).split("\n"))


def _inner_loops(disassembly: str) -> list[list[str]]:
    """The innermost loops in ``objdump -d`` text: each backward jump's instructions, from its target to the jump,
    with no other jump between."""
    lines = [line.split("\t") for line in disassembly.splitlines() if re.match(r"^ +[0-9a-f]+:\t", line)]
    at = {int(cells[0].strip(" :"), 16): i for i, cells in enumerate(lines)}
    loops = []
    for i, cells in enumerate(lines):
        jump = re.match(r"j\w+ +([0-9a-f]+) <", cells[-1].strip())
        if jump and int(jump.group(1), 16) in at and at[int(jump.group(1), 16)] <= i:
            body = [c[-1].strip() for c in lines[at[int(jump.group(1), 16)]:i + 1]]
            if not any(op.startswith("j") for op in body[:-1]):
                loops.append(body)
    return loops


def test_the_compiled_ijk_loop_keeps_one_sum():
    """Tutorial 7 says so: in nk_gemm_rung's machine code, the innermost loop that multiplies into a register and adds
    into a register (ijk's; ikj adds into memory) has one mulsd and one addsd into one accumulator — no second sum,
    no unrolling, no reassociation (built at -O2, no -ffast-math)."""
    import platform
    import shutil
    import subprocess

    from nnkit.backends import _native

    if platform.machine() != "x86_64" or not shutil.which("objdump"):
        pytest.skip("needs x86-64 and binutils' objdump to read the compiled loop")
    text = subprocess.run(["objdump", "-d", "--no-show-raw-insn", _native.__file__], capture_output=True, text=True,
                          check=True).stdout
    rung = text[text.index("<nk_gemm_rung>:"):]
    rung = rung[:rung.index("\n\n")]
    sums = [body for body in _inner_loops(rung)
            if any(op.startswith("mulsd") for op in body) and any(re.match(r"addsd +%xmm\d+,%xmm\d+$", op) for op in body)]
    assert len(sums) == 1, sums
    adds = [op for op in sums[0] if op.startswith(("addsd", "addpd", "vaddsd", "vaddpd"))]
    assert len(adds) == 1 and sum(op.startswith("mulsd") for op in sums[0]) == 1, sums[0]
    source, target = re.match(r"addsd +(%xmm\d+),(%xmm\d+)$", adds[0]).groups()
    assert source != target and not any(op.startswith("movsd") and op.endswith(")") and target in op for op in sums[0])
