"""Tutorial 8 prints verdicts that follow from what the run measured: a ratio timed in two rounds of
alternating pairs stands only when the rounds agree, a share of the peak from a disturbed rate is a
lower bound, a disturbed block-size sweep gets no verdict, and only undisturbed rungs are named as
bounded by neither roof."""

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nnkit.bench import verdicts
from tutorial_runs import quick


@pytest.fixture(scope="module")
def dgemm(tmp_path_factory):
    return quick("inside-dgemm", tmp_path_factory.mktemp("t8"))


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
    assert ("both of the two sweeps disturbed" in noise) == all(ns["sweep_why"].values())
    assert ("one of the two sweeps disturbed" in noise) == (any(ns["sweep_why"].values()) and not all(ns["sweep_why"].values()))


def test_only_undisturbed_rungs_under_every_roof_are_said_to_be_bound_by_neither(dgemm):
    ns, text = dgemm
    n = max(m for m in ns["sizes"] if m <= ns["slow_up_to"])
    lowest, peak = min(ns["found"]["roofs"].values()), ns["peak_one"]
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


def test_step_1_prints_the_kernel_body_with_its_loop_over_k(dgemm):
    ns, text = dgemm
    assert ns["kernel"] in text
    assert "for (int64_t p = 0; p < k; p++)" in ns["kernel"]
    assert ("fmadd" in ns["kernel"]) == (ns["config"].kernel != "portable")


def test_the_peak_is_printed_before_any_share_of_it_and_never_below_the_all_core_one_per_core(dgemm):
    ns, text = dgemm
    assert text.index("\npeak: ") < text.index("of the peak")
    one, every = verdicts.steady_peaks(ns["one_core"]["gflops"], ns["all_cores"]["gflops"], ns["cores"])
    slowed = every / ns["cores"] > 1.001 * one
    assert ns["peak_one"] == (every / ns["cores"] if slowed else one)
    assert ("so every share of" in text) == slowed


@settings(max_examples=100, deadline=None)
@given(st.lists(st.floats(0.3, 3), min_size=2, max_size=2), st.floats(0, 0.5))
def test_packing_is_said_to_pay_or_cost_only_when_both_rounds_leave_the_same_work_noise(dgemm, rounds, noise):
    effect = dgemm[0]["measured_effect"](rounds, noise)
    assert (effect == "paid") == all(r > 1 + noise for r in rounds)
    assert (effect == "cost") == all(r < 1 - noise for r in rounds)


def test_step_4_says_for_each_size_what_its_pairs_measured(dgemm):
    ns, text = dgemm
    for n, effect in ns["effects"].items():
        block = re.search(rf"^n = {n} .*with packing .*(?:\n  .*)*", text, re.M).group(0)
        assert ("packing paid" in block) == (effect == "paid")
        assert ("packing cost" in block) == (effect == "cost")
        assert ("not settled in this run" in block) == (effect is None)
    if ns["small"]:
        summary = re.search(r"^where nnkit's dgemm skips packing .*", text, re.M).group(0)
        assert ("the rule's reason holds here" in summary) == (set(ns["small"].values()) == {"cost"})
        assert ("does not hold" in summary) == ("paid" in ns["small"].values() and None not in ns["small"].values())


@settings(max_examples=100, deadline=None)
@given(st.floats(0.3, 3), st.sampled_from(["", "other processes used 1.20 cores"]))
def test_a_same_work_ratio_is_called_about_1_only_within_the_stated_band(dgemm, ratio, why):
    ns = dgemm[0]
    line = ns["one_thread_pair"](ratio, why)
    assert f"{ratio:.2f}×" in line
    assert ("within ±10% of 1" in line) == (abs(ratio - 1) <= ns["BAND"])
    assert ("a disturbance was measured" in line) == (abs(ratio - 1) > ns["BAND"] and bool(why))


def test_step_8_names_the_same_work_pairs_and_how_far_they_strayed(dgemm):
    ns, text = dgemm
    small = [n for n in ns["sizes"] if n**3 <= ns["config"].one_thread_up_to]
    assert list(ns["same_work"]) == small
    if small:
        strayed = max(abs(r - 1) for r in ns["same_work"].values())
        assert f"strayed up to {strayed:.0%} from 1" in text


_interval = st.tuples(st.floats(0.1, 20), st.floats(1, 3), st.floats(0, 1))   # low, width factor, where the truth lies


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(st.sampled_from(["a", "b", "c", "d", "e"]), _interval, min_size=2, max_size=5))
def test_a_step_is_named_biggest_only_when_no_gain_its_bounds_allow_can_lose(dgemm, drawn):
    ns = dgemm[0]
    bounds = {name: (low, low * width) for name, (low, width, _) in drawn.items()}
    truth = {name: low * width**at for name, (low, width, at) in drawn.items()}   # one gain each, inside its bounds
    winner = ns["biggest"](bounds)
    if winner:
        assert max(truth, key=truth.get) == winner
        assert all(bounds[winner][0] > high for name, (_, high) in bounds.items() if name != winner)
    else:
        assert all(any(high >= low for other, (_, high) in bounds.items() if other != name) for name, (low, _) in bounds.items())
    said = ns["ranking_said"](bounds)
    assert ("not settled in this run" in said) == (winner is None)
    assert ("bounded, not exact" in said) == any(low != high for low, high in bounds.values())


def test_the_biggest_step_is_printed_from_the_table_and_again_from_the_pairs(dgemm):
    ns, text = dgemm
    assert "from the table's rates, each timed at its own moment" in text
    assert text.count(f"Step 3's ranking at n = {ns['ranked_n']} with ") == 2   # Step 4's packing pairs, Step 8's threads
    last = text[text.rindex(f"Step 3's ranking at n = {ns['ranked_n']} with "):]
    assert ns["ranking_said"](ns["steps"]) in last


def test_every_step_8_row_sets_its_ratios_beside_step_3s_and_says_the_band(dgemm):
    ns, text = dgemm
    rows = re.findall(r"^n = \d+ +\d+ threads ÷ 1 thread.*(?:\n  .*)*", text, re.M)
    assert len(rows) == len(ns["sizes"])
    for row in rows:
        assert "Step 3's table: nnkit's" in row
        assert ("0.80–1.25× of these pairs" in row)


@settings(max_examples=100, deadline=None)
@given(st.dictionaries(st.sampled_from(["+ packing", "+ threads", "b", "c"]), _interval, min_size=2, max_size=4),
       st.one_of(st.none(), st.floats(0.1, 40)))
def test_the_pairs_replace_a_steps_gain_and_void_the_tables_verdict_only_when_the_winner_changes(dgemm, drawn, ratio):
    ns = dgemm[0]
    kept = ns["steps"]
    ns["steps"] = {name: (low, low * width) for name, (low, width, _) in drawn.items()}
    try:
        was = ns["biggest"](dict(ns["steps"]))
        said = ns["rerank"]("+ packing", ratio, "these pairs")
        if ratio is not None:
            assert ns["steps"]["+ packing"] == (ratio, ratio)
        assert ns["ranking_said"](ns["steps"]) in said
        assert ("the pairs void that verdict" in said) == (ns["biggest"](ns["steps"]) != was)
    finally:
        ns["steps"] = kept
