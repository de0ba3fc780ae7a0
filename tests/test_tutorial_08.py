"""Tutorial 8 run at its quick size under a seeded stand-in for ``load.watch`` that reports, at random,
other processes' cores and the core's speed: for every outcome it prints, the words agree with the flags
printed above them — a Step 8 row outside the band lists every flag printed about the figures it compares
and says "neither measurement saw" only when there is none; Step 3's table row names a flagged rate under
it; an agreeing pair of rounds says which round was disturbed."""

import re

import numpy as np
import pytest

from nnkit.bench import load, verdicts
from tutorial_runs import quick

SEEDS = (3, pytest.param(11, marks=pytest.mark.long))   # each seed one quick run, ~30 s


@pytest.fixture(scope="module", params=SEEDS)
def run(request, tmp_path_factory):
    rng = np.random.default_rng(request.param)
    real = load.watch

    def watch(function):
        seen = real(function)
        return {**seen, "others": float(rng.choice([0.0, 0.0, 0.1, 0.6, 1.5])), "speed": float(rng.choice([0.7, 0.9, 1.0, 1.0]))}

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(load, "watch", watch)
        yield quick("inside-dgemm", tmp_path_factory.mktemp("t8"))


def _printed_flags(text, n, who, compared, threads_name, one_name, row):
    flags = [f"Step 3's {name}: disturbed" for name in compared if f"\n  {name}, n = {n}: disturbed" in text]
    impossible = re.search(rf"^  {re.escape(threads_name)} ÷ {re.escape(one_name)}, n = {n}: (IMPOSSIBLE[^:]*):", text, re.M)
    flags += [f"Step 3's ratio: {impossible.group(1)}"] if impossible else []
    flags += ["these pairs: disturbed"] if "\n  disturbed: " in row else []
    pairs = re.search(rf"^  {re.escape(who)}: (IMPOSSIBLE[^:]*):", row, re.M)
    return flags + ([f"these pairs' ratio: {pairs.group(1)}"] if pairs else [])


def test_a_step_8_row_outside_the_band_lists_exactly_the_flags_printed_about_its_figures(run):
    ns, text = run
    blocks = list(re.finditer(r"^n = (\d+) +\d+ threads ÷ 1 thread.*(?:\n  .*)*", text, re.M))
    assert len(blocks) == len(ns["sizes"])
    pairs_of = {"nnkit's": ("+ threads", "+ cache blocking"), "OpenBLAS's": (ns["threaded"][1], "numpy's OpenBLAS, 1 thread")}
    for block in blocks:
        n, row = int(block.group(1)), block.group(0)
        for who, (threads_name, one_name) in pairs_of.items():
            band = re.search(r"^  — (.*)", row, re.M).group(1)
            if "outside" not in band or who not in band.split("outside")[0]:
                assert f"{who}, flagged" not in row and f"{who}: by something" not in row
                continue
            expected = _printed_flags(text, n, who, ns["COMPARED"][who], threads_name, one_name, row)
            listed = re.search(rf"^    {re.escape(who)}, flagged in this run:((?:\n      .*)*)", row, re.M)
            if expected:
                assert listed and [f.strip() for f in listed.group(1).strip("\n").split("\n")] == expected
            else:
                assert f"{who}: by something neither measurement saw" in row


def test_step_3s_table_row_names_every_flagged_rate_under_it(run):
    ns, text = run
    top = max(ns["sizes"])
    for who in ("+ cache blocking", "numpy's OpenBLAS, 1 thread"):
        flagged = f"\n  {who}, n = {top}: disturbed" in text
        assert (f"it rests on a rate flagged disturbed above: {who}, n = {top}" in text) == flagged


def test_an_agreeing_pair_of_rounds_says_which_round_was_disturbed(run):
    _, text = run
    assert "hit both rounds alike" not in text
    for said in re.finditer(r"^  disturbed: (round .*)\n  the two rounds are \d+% apart, within .*", text, re.M):
        hit = {int(i) for i in re.findall(r"round (\d): ", said.group(1))}
        line = said.group(0)
        assert ("both rounds were disturbed" in line) == (hit == {1, 2})
        if len(hit) == 1:
            (i,) = hit
            assert f"the disturbed round {i} agreed with the undisturbed round {3 - i}" in line


def test_every_line_it_prints_at_the_touched_places_fits_118_characters(run):
    _, text = run
    for line in text.splitlines():
        if any(key in line for key in ("flagged", "rests on a rate", "the two rounds are", "called as the library", "one call at")):
            assert len(line) <= 118, line
