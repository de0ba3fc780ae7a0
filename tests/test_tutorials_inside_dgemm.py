"""Tutorial 8 prints verdicts that follow from what the run measured: a ratio timed in two rounds of
alternating pairs stands only when the rounds agree, a share of the peak from a disturbed rate is a
lower bound, a disturbed block-size sweep gets no verdict, and only undisturbed rungs are named as
bounded by neither roof."""

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nnkit import tutorials
from nnkit.bench import verdicts


@pytest.fixture(scope="module")
def dgemm(tmp_path_factory):
    printed = []
    ns = tutorials.run(tutorials.find("inside-dgemm"), quick=True, out=str(tmp_path_factory.mktemp("t8")),
                       echo=printed.append)
    return ns, "\n".join(printed)


def _agree(rounds) -> bool:
    return verdicts.LOW < rounds[0] / rounds[1] < 1 / verdicts.LOW


@settings(max_examples=60, deadline=None)
@given(st.tuples(st.floats(0.05, 20), st.floats(0.05, 20)), st.sampled_from(["", "other processes used 1.20 cores"]))
def test_two_rounds_of_pairs_settle_a_ratio_only_when_they_agree(dgemm, rounds, why):
    agree, line = dgemm[0]["settled"](list(rounds), why)
    assert agree == _agree(rounds)
    assert ("not settled in this run" in line) == (not agree)
    assert ("disturbed: " + why in line) if why else "disturbed" not in line
    assert (line == "") == (agree and not why)


def test_the_stride_price_is_named_only_from_agreeing_rounds(dgemm):
    ns, text = dgemm
    line = re.search(r"^same n, rows .*(?:\n  .*)*", text, re.M).group(0)
    stride = ns["stride"]
    assert " and ".join(f"{r:.2f}×" for r in stride) in line
    assert ("not settled in this run" in line) == (not _agree(stride))
    assert ("the price of the power-of-two row" in line) == (_agree(stride) and min(stride) > 1.3)
    assert ("disturbed:" in line) == bool(ns["stride_why"])


def test_nnkit_against_openblas_is_flagged_and_its_share_a_lower_bound_when_disturbed(dgemm):
    ns, text = dgemm
    line = re.search(r"^at n = \d+, 1 thread, 2 rounds .*(?:\n  .*)*", text, re.M).group(0)
    assert " and ".join(f"{r:.2f}×" for r in ns["versus"]) in line
    assert ("at least" in line and "disturbed:" in line) == bool(ns["versus_why"])
    assert ("not settled in this run" in line) == (not _agree(ns["versus"]))


def test_a_disturbed_block_size_sweep_gets_no_verdict(dgemm):
    ns, text = dgemm
    for label, why in ns["sweep_why"].items():
        block = re.search(rf"^{label}, n = \d+: .*(?:\n  .*)*", text, re.M).group(0)
        assert ("gives" in block) == (not why)
        assert ("read nothing off this sweep" in block) == bool(why)
    noise = re.search(r"^the rule's own KC and MC ran in both sweeps.*\n.*", text, re.M).group(0)
    assert ("differences up to that are noise" in noise) == (not any(ns["sweep_why"].values()))


def test_only_undisturbed_rungs_under_every_roof_are_said_to_be_bound_by_neither(dgemm):
    ns, text = dgemm
    n = max(m for m in ns["sizes"] if m <= ns["slow_up_to"])
    lowest, peak = min(ns["found"]["roofs"].values()), ns["one_core"]["gflops"]
    under = {name for name, (intensity, rate) in ns["points"].items()
             if intensity * lowest < peak and rate < ns["HELD"] * intensity * lowest}
    assert set(ns["under"]) == under
    found = re.search(r"^below even .*(?:\n  .*)*", text, re.M)
    assert bool(found) == bool(under)
    if under:
        steady = {name for name in under if not ns["disturbed"][name][n]}
        said, _, rest = found.group(0).partition("by those bytes neither roof binds them")
        assert {name for name in ns["points"] if f"{name} (" in said} == steady
        assert bool(rest) == bool(steady)
