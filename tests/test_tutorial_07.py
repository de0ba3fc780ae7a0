"""Tutorial 7, Step 4: the share of the n = 500 / n = 512 gap put on the 4 KiB stride follows the two
alternating pairs printed beside it, for every outcome (the machine's load replaced by a calm one); each pair's
line prints the core's speed and other processes' cores it was judged by."""

import math
import re

import numpy as np

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
    _, text = quick("the-speed-ladder", tmp_path)
    pairs = list(PAIR.finditer(text))
    assert len(pairs) == 4
    for line, seen in zip(pairs, reported[-4:]):     # the pairs are the last four runs it watched
        speed, others = int(line.group(4)) / 100, float(line.group(5))
        assert (speed, others) == (round(seen["speed"], 2), seen["others"])
        assert bool(line.group(6)) == bool(verdicts.cause(others, speed))
    disturbed = any(line.group(6) for line in pairs)
    assert bool(re.search(r"^→ not settled in this run: the pairs above were disturbed", text, re.M)) == disturbed


def test_each_share_wording_matches_its_numbers():
    """The four outcomes of the share, from the cell's own expression, on made-up pairs."""
    source = tutorials.find("the-speed-ladder").read_text()
    code = source[source.index("kib = size * 8"):source.index('print(f"→ not settled')]
    said = {}
    for gap, recovered in ((3.0, 3.44), (3.4, 1.7), (1.05, 1.2), (2.0, 0.9)):
        scope = {"np": __import__("numpy"), "size": 512, "gap": gap, "recovered": recovered}
        exec(code, scope)
        said[gap, recovered] = scope["stride_share"]
    assert "all of that gap" in said[3.0, 3.44]
    assert "43% of it" in said[3.4, 1.7]
    assert "no gap" in said[1.05, 1.2] and "not the stride's" in said[2.0, 0.9]


def test_the_instruction_verdict_reads_a_disturbed_rate_only_as_its_bound():
    """Seeded made-up table rates, some disturbed: 'far below' only when every rate, a disturbed one divided by the
    share of a full-speed core it had, is under 0.7 of the scalar probe; a disturbed fastest loop near it settles nothing."""
    import numpy as np

    source = tutorials.find("the-speed-ladder").read_text()
    code = source[source.index("ceiling = {label"):source.index("from nnkit import plots")]
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
