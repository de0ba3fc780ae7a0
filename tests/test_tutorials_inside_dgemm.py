"""Tutorial 8 prints verdicts that follow from what the run measured: a ratio timed in rounds of
alternating pairs is placed by the book's one rule (``verdicts.place``: a slowed core on either side alone,
busy others bound nothing, the pair noise both ways), a share of the peak from a disturbed rate is a
lower bound, a block size is judged only in pairs beside a same-work control, and only undisturbed rungs
are named as bounded by neither roof."""

import math
import re

import numpy as np
import pytest
from hypothesis import event, example, given, settings
from hypothesis import strategies as st

from nnkit import tutorials
from nnkit.backends import own_dgemm
from nnkit.bench import verdicts
from text import unwrap
from tutorial_runs import printed_disturbed


@pytest.fixture(scope="module")
def dgemm(plain_run):
    return plain_run("inside-dgemm")[:2]


def _said(pattern: str, text: str) -> str:
    """The block the run printed from the line matching ``pattern`` over its indented continuation lines, as one
    line: ``fit`` wraps long lines at any space, so a phrase may be split across two printed lines."""
    return unwrap(re.search(pattern + r".*(?:\n  .*)*", text, re.M).group(0))


def _where(rounds, loads, mark, noise) -> str:
    """Where the book's one rule puts rounds of pairs against ``mark``, worked out here from ``verdicts.place``."""
    at = [(verdicts.place(r, (mark,), load["others"], load["speed"], noise)[0], verdicts.cause(load["others"], load["speed"]))
          for r, load in zip(rounds, loads)]
    regions, clean = {region for region, _ in at}, [region for region, why in at if not why]
    by_clean = clean[0] if len(clean) >= 2 and len(set(clean)) == 1 and not {0, 1} <= regions else None  # the rest span
    return ("above" if regions == {1} or by_clean == 1 else "below" if regions == {0} or by_clean == 0 else
            "within" if None in regions and not {0, 1} <= regions and len(clean) == len(at) else "open")


_load = st.fixed_dictionaries({"others": st.sampled_from([0.0, 0.1, 1.2]), "speed": st.sampled_from([1.0, 0.9, 0.7]),
                               "ratios": st.just([])})


@settings(max_examples=100, deadline=None)
@given(st.lists(_load, min_size=3, max_size=3))
def test_the_disturbance_line_names_every_disturbed_round_and_only_those(dgemm, loads):
    why = dgemm[0]["disturbance"](loads)
    for i, load in enumerate(loads, 1):
        assert (f"round {i}: " in why) == bool(verdicts.cause(load["others"], load["speed"]))


_names = st.lists(st.sampled_from(["+ cache blocking", "numpy's OpenBLAS, 1 thread"]), unique=True)


@settings(max_examples=100, deadline=None)
@given(st.floats(0.1, 10), st.tuples(st.floats(0.1, 10), st.floats(0.1, 10)), _names, st.integers(48, 1000))
def test_the_tables_row_names_every_flagged_rate_under_it(dgemm, table, pairs, flagged, n):
    line = dgemm[0]["table_row_said"](table, list(pairs), flagged, n)
    median = (pairs[0] + pairs[1]) / 2
    differ = not verdicts.LOW < table / median < 1 / verdicts.LOW
    assert f"the table's row gave {table:.2f}×" in line
    assert ("the two disagree" in line) == differ
    assert ("which rate is off this run does not say" in line) == differ   # reader 23 b3: not only the flagged one
    assert all((f"flagged disturbed above: {who}, n = {n}" in line) == (who in flagged)
               for who in ("+ cache blocking", "numpy's OpenBLAS, 1 thread"))
    assert ("read the pairs" in line) == (differ or bool(flagged))
    assert all(len(row) <= 118 for row in line.splitlines())


_flags = st.lists(st.sampled_from(["Step 3's ratio: SUPER-LINEAR on 2 cores (2.63×)", "these pairs: disturbed",
                                   "these pairs' ratio: SUPER-LINEAR on 2 cores (2.31×)"]), unique=True)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(["nnkit's", "OpenBLAS's"]), unique=True), _flags, _flags,
       st.lists(st.sampled_from(["nnkit's", "OpenBLAS's"]), unique=True))
def test_a_ratio_lists_every_flag_about_its_figures_outside_the_band_or_within_it(dgemm, apart, ours, theirs, missing):
    """Reader 34 a1: a library Step 3 kept no ratio of (``missing``) is set beside nothing — never said to agree, lie
    within or lie outside the band."""
    apart = [who for who in apart if who not in missing]   # the row compares only a ratio Step 3 kept
    flags = {"nnkit's": ours, "OpenBLAS's": theirs}
    line = dgemm[0]["band_said"](apart, flags, missing)
    compared = [who for who in flags if who not in missing]
    assert ("both within" in line) == (not apart and len(compared) == 2)
    assert ("set beside nothing" in line) == bool(missing)
    for who in apart:
        assert (f"{who}: by something neither measurement saw" in line) == (not flags[who])
        assert all(f"\n      {flag}" in line for flag in flags[who])
    for who in set(compared) - set(apart):   # within the band: an agreement on flagged figures names them
        assert (f"{who} agrees, on figures flagged in this run:" in line) == bool(flags[who])
        assert all(f"\n      {flag}" in line for flag in flags[who])
    for who in missing:
        assert f"{who} agrees" not in line and f"{who} within" not in line and f"{who}, flagged" not in line
    assert all(len(row) <= 118 for row in line.splitlines())


def test_step_8_flags_are_the_ones_the_run_printed(dgemm):
    """Every flag a Step 8 row lists is about the figures it compares: the ratio of the rates Step 3 kept (a
    SUPER-LINEAR one), and these pairs; the rates Step 3 kept are never flagged ones (reader 34 a1: the row "agreed"
    with a table rate Step 3 had discarded)."""
    ns = dgemm[0]
    for n in ns["sizes"]:
        table = {who: ns["kept_ratio"](who, n)[0] for who in ns["COMPARED"]}
        flags = ns["flagged"](table, {"nnkit's": 1.0, "OpenBLAS's": 1.0}, "")
        for who, names in ns["COMPARED"].items():
            for name in names:
                rate, which = ns["kept"](name, n)
                assert which == ("table" if not ns["disturbed"][name][n] else
                                 "re-timing" if not ns["retimed"][name][n][1] else "")
                assert rate == {"table": ns["rates"][name][n], "re-timing": ns["retimed"][name][n][0], "": None}[which]
            assert not any("disturbed" in flag for flag in flags[who])
            assert any(f.startswith("Step 3's ratio: SUPER-LINEAR") for f in flags[who]) == bool(
                table[who] is not None and verdicts.super_linear(table[who], ns["cores"]))


@pytest.mark.parametrize("examples", [30, pytest.param(200, marks=pytest.mark.long)])
def test_the_library_against_the_unpacked_rung_is_explained_only_as_far_as_measured(dgemm, examples):
    """Each round placed by the one rule: slower, faster, within the noise or nothing; when faster, the calls' own
    costs account for it only when every round's ratio ÷ theirs reaches 1 within the noise, undisturbed."""
    @settings(max_examples=examples, deadline=None)
    @given(st.lists(st.floats(0.3, 4), min_size=3, max_size=3), st.lists(_load, min_size=3, max_size=3), st.floats(0.1, 0.5),
           st.floats(1, 4))
    def check(ratios, loads, noise, expected):
        where = _where(ratios, loads, 1.0, noise)
        line = dgemm[0]["library_said"](where, ratios, loads, noise, expected)
        against = _where([r / expected for r in ratios], loads, 1.0, noise) if where == "above" else None
        assert ("ran slower" in line) == (where == "below")
        assert ("runs as the unpacked rung does, within this run's noise" in line) == (where == "within")
        # reader 25 (b3): the per-call costs are timed at n = 4 only, so "accounts for it" is a hypothesis, alternatives named
        assert "that accounts for it" not in line
        assert ("consistent with those costs accounting for it — a hypothesis: they were measured at n = 4, not at this "
                "n" in unwrap(line)) == (against == "within")
        assert ("not explained" in line) == (against in ("above", "below"))
        # reader 21 c9: every outcome prints a line — an unsettled one says what is not settled and that nothing is asked
        assert ("is not settled, so whether the calls' own costs account for it is not asked" in line) == (where == "open")
        assert ("whether the calls' own costs alone account for it is not settled" in line) == (against == "open")
        assert line.strip()

    check()


def test_step_4_times_the_library_call_against_the_unpacked_rung_where_it_skips_packing(dgemm):
    ns, text = dgemm
    small = [n for n in ns["packing_at"] if n**3 <= ns["config"].unpacked_up_to]
    assert small   # the largest size the library runs unpacked joins the pairs where no size of the table is one
    rows = re.findall(r"^n = (\d+) +nnkit's dgemm called as the library", text, re.M)
    assert [int(n) for n in rows] == small
    assert ("one call at n = 4" in text) == bool(small)


def test_the_stride_price_is_named_only_when_every_rounds_range_lies_above_its_mark(dgemm):
    ns, text = dgemm
    line = _said(r"^same n, rows ", text)
    stride, loads = ns["stride"], ns["stride_loads"]
    where = _where(stride, loads, 1.3, ns["stride_noise"])
    assert " and ".join(f"{r:.2f}×" for r in stride) in line
    assert ("not settled in this run" in line) == (where == "open")
    assert ("the price of the power-of-two row" in line) == (where == "above")
    assert ("disturbed: round " in line) == bool(ns["disturbance"](loads))   # not "no round disturbed: within …"


def test_nnkit_against_openblas_is_flagged_and_its_share_a_lower_bound_when_disturbed(dgemm):
    ns, text = dgemm
    line = _said(r"^at n = \d+, 1 thread, 3 rounds ", text)
    assert " and ".join(f"{r:.2f}×" for r in ns["versus"]) in line
    assert ("at least" in line and "disturbed: round " in line) == bool(ns["versus_why"])
    where = _where(ns["versus"], ns["versus_loads"], 1.0, ns["aa_noise"])
    assert ("not settled in this run" in line) == (where == "open")
    assert ("beyond this run's noise" in line) == (where in ("above", "below"))


def test_the_block_sizes_are_judged_in_pairs_beside_a_same_work_control(dgemm):
    """Reader 16 (a7): no verdict on a block size from one timing per value and one A/A sample: a sweep says only
    which value ran fastest (and that a disturbed sweep's order may be the moment's); the rule's choice is set
    against the fastest other value (reader 24 a2: the runner-up, when the rule's ran fastest) in three rounds of
    pairs beside three same-work rounds, and judged by the one rule."""
    ns, text = dgemm
    for label, why in ns["sweep_why"].items():
        block = _said(rf"^{label}, n = \d+: ", text)
        assert ("may be the moment's" in block) == bool(why)
        sweep = re.split(r"against the sweep's (?:fastest|runner-up)", block)[0]   # the sweep's own lines; the pairs follow
        assert "gives" not in sweep and "beyond this run's noise" not in sweep
    assert "the rule's own KC and MC ran in both sweeps" not in text
    for block in re.findall(r"against the sweep's (?:fastest|runner-up) .*?(?=\n\S|\Z)", text, re.S):
        shown = re.findall(r"(\d+\.\d\d)×", block.split("the pair noise")[0])
        assert len(shown) == 6       # three rounds against the fastest, three of the rule against itself


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
        said, _, rest = unwrap(found.group(0)).partition("by those bytes neither roof binds them")
        assert {name for name in ns["points"] if f"{name} (" in said} == steady   # read flattened: fit wraps anywhere
        assert bool(rest) == bool(steady)


def test_step_1_prints_the_kernel_body_with_its_loop_over_k(dgemm):
    ns, text = dgemm
    assert ns["kernel"] in text
    assert "for (int64_t p = 0; p < k; p++)" in ns["kernel"]
    assert ("fmadd" in ns["kernel"]) == (ns["config"].kernel != "portable")


def test_the_peak_is_printed_before_any_share_of_it_and_never_below_the_all_core_one_per_core(dgemm):
    ns, text = dgemm
    assert text.index("\npeak: ") < text.index("of the peak")
    one, every = verdicts.steady_peaks(ns["probe_one"], ns["all_cores"]["gflops"], ns["cores"])
    slowed = every / ns["cores"] > 1.001 * one
    assert ns["probe_at"]["1-core"] == (every / ns["cores"] if slowed else one)
    assert ("so every share of" in text) == slowed


def test_the_peak_is_the_best_of_at_least_three_probe_rounds_interleaved_with_the_rungs(dgemm):
    """Reader 17 (a5): one probe before the table came out 55.7 while the rungs ran up to 71.3. The probe now runs in
    rounds between the sizes (a slow moment lowers one round), and the peak is the best of them, each printed."""
    ns, text = dgemm
    rounds = [ns["one_core"]["gflops"], *ns["probe_rounds"]]
    assert len(rounds) >= 3 and len(ns["probe_rounds"]) == len(ns["sizes"]) + 1
    assert ns["probe_one"] == max(rounds)
    assert ", ".join(f"{r:.1f}" for r in rounds) in unwrap(text)


def test_every_undisturbed_rate_lies_under_the_peak_the_shares_and_the_roofline_divide_by(dgemm):
    """Reader 17 (a5): the roofline's flat roof sat under rates of the same run. The peak used is never below an
    undisturbed 1-core rate of Step 3 (nor, at the end, of Step 6's sweeps), and the line under the peak says so."""
    ns, text = dgemm
    for name, rate in ns["rates"].items():
        for n, gflops in rate.items():
            if not ns["disturbed"][name][n]:
                assert gflops <= (ns["peak_all"] if name in ns["threaded"] else ns["peak_one"])
    for label, sweep in (("KC", ns["by_kc"]), ("MC", ns["by_mc"])):
        assert ns["moment_why"][label] or max(sweep.values()) <= ns["peak_one"]
        # reader 25 (a2): off the band of the undisturbed rate beside it = disturbed; reader 26 (a2): with no
        # undisturbed rate of the same product (Step 3's and its re-timing both flagged), unchecked = disturbed too
        reference = ns["reference"]
        assert ns["moment_why"][label] == (ns["sweep_why"][label] or ("" if label not in ns["off"] else
            f"{ns['off'][label]:.2f}× {ns['reference_name']} of the same product" if reference else
            "no undisturbed rate of the same product to check its moment"))
        top = max(ns["sizes"])   # Step 6's n; a flagged Step 3 rate gives way to its re-timing, or to none
        again, again_why = ns["retimed"]["+ cache blocking"][top]
        assert reference == (ns["rates"]["+ cache blocking"][top] if not ns["disturbed"]["+ cache blocking"][top] else
                             None if again_why else again)
    assert (ns["slowed_one"] is not None) == (ns["peak_one"] > ns["probe_at"]["1-core"])
    assert ("so the probe was" in text) == (ns["slowed_one"] is not None or ns["slowed_all"] is not None)


_rate = st.tuples(st.floats(1, 150), st.booleans())   # GFLOP/s, disturbed


@pytest.mark.parametrize("examples", [30, pytest.param(1000, marks=pytest.mark.long)])
def test_no_share_of_the_peak_above_100_percent_is_printed_unflagged(dgemm, examples):
    """Reader 17 (a5): "at least 106% of the peak". For seeded probes and rates: the peak divided by is at least the
    probe and every undisturbed rate (a lower bound of the peak when above the probe: the line says so); a share of an
    undisturbed rate is then at most 100 %, an upper bound ("at most") when the peak stood in; a disturbed rate's is a
    lower bound ("at least"), or not settled when the peak stood in or the rate ran above it: no share above 100 %."""
    @settings(max_examples=examples, deadline=None)
    @given(st.floats(20, 120), st.dictionaries(st.text("abc", min_size=1, max_size=3), _rate, max_size=8))
    def check(probe, seen):
        ns = dgemm[0]
        undisturbed = {label: rate for label, (rate, hit) in seen.items() if not hit}
        bound, label = verdicts.peak_bound(probe, undisturbed)
        assert bound >= probe and all(rate <= bound for rate in undisturbed.values())
        assert (label is None) == all(rate <= probe for rate in undisturbed.values())
        if label is not None:
            said = ns["slowed_said"](probe, bound, label, "1-core")
            assert f"{bound:.1f} GFLOP/s" in said and "upper bound" in said
            assert all(len(line) <= 118 for line in said.splitlines())
        for rate, hit in seen.values():
            said = ns["share_said"](rate / bound, hit, label is not None)
            shown = re.search(r"(\d+)% of the peak", said)
            above = rate / bound > 1   # only a disturbed rate can: the peak was slowed, the share is not settled
            assert ("not settled" in said) == (hit and label is not None or above)
            assert ("at most" in said) == (not hit and label is not None)
            assert ("at least" in said) == (hit and label is None and not above)
            assert not shown or int(shown.group(1)) <= 100

    check()


_step = st.tuples(st.floats(0.1, 10), st.floats(1, 3), st.booleans())   # low, width factor, bounded above at all


@pytest.mark.parametrize("examples", [30, pytest.param(1000, marks=pytest.mark.long)])
def test_the_threads_step_is_bounded_by_the_core_count_and_the_ranking_settles_when_a_lowest_beats_every_highest(dgemm, examples):
    """Reader 17 (a6): SIMD's exact 7.40× beat every other step's highest (≤ 1.72×) but threads' "at least 0.81×" had no
    upper bound, so the ranking was refused. A 2-thread ÷ 1-thread gain is at most the core count: the threads step is
    bounded by it (a measured lowest above it is impossible and bounds nothing), and a step wins exactly when its
    lowest beats every other step's highest."""
    @settings(max_examples=examples, deadline=None)
    @given(st.dictionaries(st.sampled_from(["+ packing", "+ SIMD intrinsics", "+ cache blocking", "b"]), _step, max_size=4),
           st.floats(0.0, 5.0), st.booleans())
    def check(drawn, threads_low, threads_exact):
        ns = dgemm[0]
        cores = ns["cores"]
        bounds = {name: (low, low * width if bounded else math.inf) for name, (low, width, bounded) in drawn.items()}
        bounds["+ threads"] = ns["capped"]("+ threads", threads_low, threads_low if threads_exact else math.inf)
        low, high = bounds["+ threads"]
        assert high <= cores and low <= high
        assert (low == threads_low) == (threads_low <= cores)
        winner = ns["biggest"](bounds)
        lows = {name for name, (low, _) in bounds.items()   # over a gain from single timings by more than their band
                if all(low > high * (1.0 if {name, other} <= ns["paired_steps"] else ns["UNPAIRED"])
                       for other, (_, high) in bounds.items() if other != name)}
        assert winner == (next(iter(lows)) if lows else None)
        assert ("not settled" in ns["ranking_said"](bounds)) == (winner is None)
        assert ns["capped"]("+ packing", threads_low, math.inf) == (threads_low, math.inf)

    check()


def test_reader_17s_ranking_is_settled_by_simds_exact_gain():
    """out-8.txt:152–159 of reader 17's run: SIMD 7.40× exact; plain C 1.72×; blocking at most 1.70×; threads at least
    0.81× — on 2 cores at most 2×, so SIMD's lowest beats every other step's highest."""
    source = tutorials.find("inside-dgemm").read_text()
    scope = {"math": math, "cores": 2, "verdicts": verdicts}
    exec(source[source.index("def capped("):source.index("\ndef table_steps(")], scope)   # noqa: S102 — the tutorial's
    exec(source[source.index("UNPAIRED = "):source.index("def bound_said(")], scope)   # noqa: S102
    steps = {"loops, ikj": (1.05, 1.05), "micro-kernel, plain C": (1.72, 1.72), "+ SIMD intrinsics": (7.40, 7.40),
             "+ packing": (0.95, 0.95), "+ cache blocking": (0.0, 1.70),
             "+ threads": scope["capped"]("+ threads", 0.81, math.inf)}
    assert steps["+ threads"] == (0.81, 2) and scope["biggest"](steps) == "+ SIMD intrinsics"


@pytest.mark.parametrize("examples", [30, pytest.param(200, marks=pytest.mark.long)])
def test_packing_is_said_to_pay_or_cost_only_when_every_round_leaves_the_same_work_noise(dgemm, examples):
    @settings(max_examples=examples, deadline=None)
    @given(st.lists(st.floats(0.3, 3), min_size=3, max_size=3), st.floats(0, 0.5))
    def check(rounds, noise):
        calm = [{"others": 0.0, "speed": 1.0, "ratios": []}] * 3
        effect = dgemm[0]["EFFECT"][dgemm[0]["placed"](rounds, calm, 1.0, noise)[0]]
        assert (effect == "paid") == all(r / (1 + noise) >= 1 for r in rounds)   # noise either way from 1
        assert (effect == "cost") == all(r * (1 + noise) < 1 for r in rounds)
        assert (effect is None) == (any(r / (1 + noise) >= 1 for r in rounds) and any(r * (1 + noise) < 1 for r in rounds))

    check()


def test_step_4_says_for_each_size_what_its_pairs_measured(dgemm):
    ns, text = dgemm
    for n, effect in ns["effects"].items():
        block = _said(rf"^n = {n} .*with packing ", text)
        assert ("packing paid" in block) == (effect == "paid")
        assert ("packing cost" in block) == (effect == "cost")
        assert ("not settled in this run" in block) == (effect is None)
    summary = re.search(r"^the packing cut: .*(?:\n  .*)*", text, re.M).group(0)   # reader 37 c8: every size, as a cut
    assert summary == ns["cut_said"](ns["effects"], ns["edge"], of="packing")


@pytest.mark.parametrize("examples", [40, pytest.param(2000, marks=pytest.mark.long)])
def test_step_4s_cut_line_reads_packing_by_step_9s_rule_in_packings_words(dgemm, monkeypatch, examples):
    """Reader 37 c8/a2: the packing cut's note was never re-timed near it, and n = 120 finding nothing above the cut
    went unremarked. Over every outcome at the edge and 1½ and 2 × it (a seeded sample by default): the packing cut's
    line reads as Step 9's oracle does for threads, in packing's words, naming the machine the cut was set on; a size
    above the cut within the noise says Step 2's gain was not reproduced there; no line past 118 columns."""
    import itertools
    import random
    import types

    machines = [own_dgemm.config(), types.SimpleNamespace(kernel="avx512f+fma", unpacked_measured_on="an AVX-512 Xeon",
                                                          one_thread_measured_on="an AVX-512 Xeon")]
    cases = [(machine, edge, dict(zip(sizes, effects))) for machine in machines
             for edge in ((32,) if machine is machines[0] else (256,))
             for sizes in ((edge, 3 * edge // 2, 2 * edge), (edge, 2 * edge, 4 * edge))
             for effects in itertools.product(("paid", "cost", "", None), repeat=len(sizes))]
    chosen = cases if examples >= len(cases) else random.Random(37).sample(cases, examples)
    listed = lambda ns: ", ".join(map(str, ns))
    seen = set()
    for machine, edge, effects in chosen:
        monkeypatch.setitem(dgemm[0], "config", machine)
        printed = dgemm[0]["cut_said"](effects, edge, of="packing")
        assert all(len(line) <= 118 for line in printed.split("\n"))
        said, o = unwrap(printed), _cut_oracle(effects, edge)
        cut = f"the {machine.kernel} kernel's cut (n ≤ {edge}, set on {machine.unpacked_measured_on})"
        assert said.startswith("the packing cut: ") and "thread" not in said
        if not (o["paid"] or o["cost"] or o["within"]):
            assert said == "the packing cut: nothing settled in this run — run it again on an idle machine"
            seen.add("nothing")
            continue
        outcome = next((name for name in ("conflict", "too_high", "too_low", "fits") if o[name]),
                       "holds" if o["cost"] else "lets" if o["paid"] else "within")
        seen.add(outcome)
        assert ("no one cut fits these figures" in said) == (outcome == "conflict")
        assert (f"{cut} fits this machine" in said) == (outcome == "fits")
        if outcome == "too_high":
            assert f"packing paid at n = {listed([n for n in o['paid'] if n <= edge])}, within {cut}: on this " \
                   "machine the cut skipped packing for those products where it paid" in said
        if outcome == "too_low":
            assert f"packing cost at n = {listed([n for n in o['cost'] if n > edge])}, above {cut}: on this " \
                   "machine the cut packed those products where skipping it ran faster" in said
        if outcome in ("too_high", "too_low", "fits"):
            assert (f"at or above n = {max(o['cost'] or [0])} (packing cost there)" in said) == bool(o["cost"])
            assert (f"below n = {min(o['paid'] or [0])} (packing paid there)" in said) == bool(o["paid"])
        assert ("it lets them be packed there on this machine" in said) == (outcome == "lets")
        assert ("it holds there on this machine; no size above it settled that packing pays" in said) == (
            outcome == "holds")
        assert ("packing changed nothing beyond this run's noise" in said) == (outcome == "within")
        above = [n for n in o["within"] if n > edge]
        assert ("where Step 2's note has packing gaining: not reproduced here" in said) == bool(above)
        if above:
            assert f"n = {listed(above)}" in said.split("where Step 2's note")[0].rsplit(";", 1)[-1]
        assert said.endswith(f"; n = {listed(o['unsettled'])} not settled") == bool(o["unsettled"])
    if examples >= len(cases):
        assert seen == {"nothing", "conflict", "too_high", "too_low", "fits", "holds", "lets", "within"}


def test_every_cause_of_a_flagged_rate_is_kept_and_a_pairs_rate_flags_the_table(dgemm):
    """Reader 18 a4/a5: the flag line kept only the first cause; a table rate under 0.80× the same rung's rate in Step
    3's pairs (48.3 against ~70) went unflagged. Seeded: every cause is kept, in order, and the rate loses its upper
    bound exactly when it lies under 0.80× the other timing; the run flags, prints and redraws accordingly."""
    import random

    source = tutorials.find("inside-dgemm").read_text()
    rng, causes = random.Random(18), ["", "the core ran as slow as 70%", "other processes used 1.20 cores"]
    for _ in range(2000):
        rate, again, first = rng.uniform(1, 100), rng.uniform(1, 100), rng.choice(causes)
        scope = {"verdicts": verdicts, "math": math, "rates": {"r": {9: rate}}, "disturbed": {"r": {9: first}},
                 "highest": {"r": {9: rate}}}
        exec(source[source.index("def flag_below("):source.index("\nfor n, (A, B) in matrices.items():             #")],
             scope)   # noqa: S102
        low = scope["flag_below"]("r", 9, again, "its re-timing")
        assert bool(low) == (rate < verdicts.LOW * again) and (low == "" or "its re-timing" in low)
        assert scope["disturbed"]["r"][9] == "; ".join(filter(None, [first, low]))
        assert (scope["highest"]["r"][9] == math.inf) == bool(low)
    ns, text = dgemm
    flat, top = unwrap(text), ns["top"]
    for who, rate in ns["in_these"].items():
        flagged = ns["rates"][who][top] < verdicts.LOW * rate
        assert ("its rate in these pairs" in ns["disturbed"][who][top]) == flagged
        assert (f"Step 3's table, {who}, n = {top}: disturbed — " in flat) == flagged
        assert not flagged or who in ns["table_flags"]
    assert ("figure (redrawn" in text) == any(ns["lowered"].values())
    for name, by_n in ns["disturbed"].items():   # the lines under the table: every cause known then, in full
        for n, why in by_n.items():
            later = ns["lowered"].get(name, "") if n == top else ""
            before = why.removesuffix(later).removesuffix("; ") if later else why
            assert not before or f"{name}, n = {n}: disturbed — {before}" in flat


@settings(max_examples=100, deadline=None)
@given(st.floats(0.3, 3), st.sampled_from(["", "other processes used 1.20 cores"]))
def test_a_same_work_ratio_is_called_about_1_only_within_the_stated_band(dgemm, ratio, why):
    ns = dgemm[0]
    line = ns["one_thread_pair"](ratio, why)
    assert f"{ratio:.2f}×" in line
    assert ("within ±10% of 1" in line) == (verdicts.apart(ratio) <= ns["BAND"])
    assert ("a disturbance was measured" in line) == (verdicts.apart(ratio) > ns["BAND"] and bool(why))


def test_step_8_names_the_same_work_pairs_and_how_far_they_strayed(dgemm):
    ns, text = dgemm
    small = [n for n in ns["sizes"] if n**3 <= ns["config"].one_thread_up_to]
    assert list(ns["same_work"]) == small
    if small:
        strayed = max(verdicts.apart(r) for r in ns["same_work"].values())
        assert f"strayed up to {strayed:.0%} from 1" in text


_interval = st.tuples(st.floats(0.1, 20), st.floats(1, 3), st.floats(0, 1))   # low, width factor, where the truth lies


@pytest.mark.parametrize("examples", [30, pytest.param(200, marks=pytest.mark.long)])
def test_a_step_is_named_biggest_only_when_no_gain_its_bounds_allow_can_lose(dgemm, examples):
    @settings(max_examples=examples, deadline=None)
    @given(st.dictionaries(st.sampled_from(["a", "b", "c", "d", "e"]), _interval, min_size=2, max_size=5))
    def check(drawn):
        ns = dgemm[0]
        bounds = {name: (low, low * width) for name, (low, width, _) in drawn.items()}
        truth = {name: low * width**at for name, (low, width, at) in drawn.items()}   # one gain each, inside its bounds
        winner = ns["biggest"](bounds)
        if winner:
            assert max(truth, key=truth.get) == winner
            assert all(bounds[winner][0] > high for name, (_, high) in bounds.items() if name != winner)
        else:   # none beats every other by the band single timings may differ by (reader 28, b5)
            assert all(any(high * ns["UNPAIRED"] >= low for other, (_, high) in bounds.items() if other != name)
                       for name, (low, _) in bounds.items())
        said = ns["ranking_said"](bounds)
        assert ("not settled" in said) == (winner is None)
        assert ("bounded, not exact" in said) == any(low != high for low, high in bounds.values())

    check()


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
        flat = unwrap(row)
        assert "Step 3, from the rates it kept: nnkit's" in flat
        assert ("0.80–1.25× of these pairs" in flat) != ("Step 3 kept no ratio of either library here" in flat)


@settings(max_examples=100, deadline=None)
@given(_interval, st.dictionaries(st.sampled_from(["+ threads", "b", "c"]), _interval, min_size=1, max_size=3),
       st.one_of(st.none(), st.floats(0.1, 40)))
def test_the_pairs_replace_a_steps_gain_and_void_the_tables_verdict_only_when_the_winner_changes(dgemm, packing, drawn,
                                                                                                  ratio):
    ns = dgemm[0]
    kept = ns["steps"]
    ns["steps"] = {name: (low, low * width) for name, (low, width, _) in {"+ packing": packing, **drawn}.items()}
    try:
        was = ns["biggest"](dict(ns["steps"]))
        said = ns["rerank"]("+ packing", ratio, "these pairs")
        if ratio is not None:
            assert ns["steps"]["+ packing"] == (ratio, ratio)
        assert ns["ranking_said"](ns["steps"]) in said
        assert ("the pairs void that verdict" in said) == (ns["biggest"](ns["steps"]) != was)
    finally:
        ns["steps"] = kept


_table_rate = st.tuples(st.floats(1.0, 100.0), st.sampled_from([None, 1.0, 1.3, 2.5, math.inf]))   # GFLOP/s; flag: its slack
_AIMS = ("within", "below", "above", "beyond the cores")


def _outcome(step, ratio, low, high, cores):
    """Where a pairs' ``ratio`` of ``step`` lies against the bounds (``low``, ``high``) Step 3 printed on it."""
    return ("exact" if low == high else "no bound" if (low, high) == (0.0, math.inf) else
            "within" if low <= ratio <= high else
            "beyond the cores" if step == "+ threads" and ratio > cores else "below" if ratio < low else "above")


@pytest.mark.parametrize("examples", [50, pytest.param(2000, marks=pytest.mark.long)])
def test_the_pairs_ratio_is_said_within_the_printed_bounds_or_the_failed_bound_is_named(dgemm, examples):
    """Reader 22 (a2, a3): a pairs' ratio that replaces a step's gain Step 3 printed with bounds says whether it lies
    within them; outside, the bound FAILED — the line names the rate its failed end rested on (flagged or not, and the
    most it was taken to be) and drops the neighbouring step's bound resting on the same rate before ranking; the
    threads step's core count is no rate's bound, so passing it is the pairs' fault. The table's rates, flags and
    highest are drawn (each rung's rate held only by the peak when unflagged, else up to its slack × itself) and the
    bounds come from ``table_steps`` as in a run; the ratio is drawn to land in each outcome, right up to an end, and
    printed beside that end as far apart as the two are."""
    ns = dgemm[0]
    rungs, cores, n = ns["own_dgemm"].RUNGS, ns["cores"], ns["ranked_n"]

    @settings(max_examples=examples, deadline=None)
    @given(st.sampled_from(["+ packing", "+ threads"]), st.sampled_from(_AIMS), st.floats(0, 1, exclude_max=True),
           st.lists(_table_rate, min_size=len(rungs), max_size=len(rungs)))
    @example("+ packing", "within", 0.5, [(10.0, 1.3)] * 9)   # each outcome at least once, whatever is drawn
    @example("+ packing", "below", 0.0, [(37.5, None)] * 3 + [(37.5, None), (53.7, 1.19)] + [(64.6, 1.3)] * 4)
    @example("+ packing", "above", 0.0, [(37.5, None)] * 3 + [(37.5, None), (53.7, 1.19)] + [(64.6, 1.3)] * 4)
    @example("+ threads", "above", 0.1, [(10.0, None)] * 5 + [(64.6, 1.31), (96.3, None)] + [(1.0, None)] * 2)
    @example("+ threads", "below", 0.5, [(10.0, None)] * 5 + [(64.6, 1.31), (96.3, None)] + [(1.0, None)] * 2)
    @example("+ threads", "beyond the cores", 0.5, [(10.0, None)] * 5 + [(64.6, 1.31), (96.3, None)] + [(1.0, None)] * 2)
    @example("+ packing", "within", 0.3, [(10.0, None)] * 9)   # every rate exact: no bound to lie in
    def check(step, aim, at, drawn):
        kept = {key: ns[key] for key in ("steps", "rates", "highest", "disturbed")}
        ns["rates"], ns["highest"], ns["disturbed"] = ({k: dict(v) for k, v in ns[key].items()}
                                                       for key in ("rates", "highest", "disturbed"))
        for rung, (rate, slack) in zip(rungs, drawn):
            ns["rates"][rung][n], ns["disturbed"][rung][n] = rate, "" if slack is None else "drawn"
            ns["highest"][rung][n] = rate * slack if slack else ns["held"](rung, math.inf)   # unflagged: the peak's cap
        try:
            steps = ns["steps"] = ns["table_steps"](n)
            steps = dict(steps)
            low, high = steps[step]
            top = min(high, 50.0)
            ratio = {"within": low + at * (top - low), "below": low * (1 - 0.7 * at) - 1e-9,
                     "above": top * (1 + 2 * at) + 1e-9, "beyond the cores": cores * (1 + at) + 1e-9}[aim]
            if ratio <= 0:
                return   # no end below to fall outside of
            outcome = _outcome(step, ratio, low, high, cores)
            event(outcome)
            said = ns["rerank"](step, ratio, "these pairs")
            flat = unwrap(said)
            assert all(len(line) <= 118 for line in said.split("\n"))
            assert ns["ranking_said"](ns["steps"]) in said
            assert ns["steps"][step] == ns["capped"](step, ratio, ratio)
            assert ("Step 3 printed on it" in flat) == (outcome in ("within", "below", "above"))
            assert ("lies within the bounds Step 3 printed on it" in flat) == (outcome == "within")
            assert ("FAILED" in flat) == (outcome in ("below", "above"))
            assert (f"the most {cores} cores give" in flat) == (outcome == "beyond the cores")
            assert ("Step 3 printed no bound on it" in flat) == (outcome == "no bound")
            if outcome == "within":
                assert f"({ns['ends_said'](low, high)})" in flat
            touched = {step}
            if outcome in ("below", "above"):
                under = rungs[rungs.index(step) - 1] if outcome == "below" else step
                printed, end = map(float, re.search(r"these pairs' ([\d.]+)× lies (?:below|above) the \"at (?:least|most) "
                                                    r"([\d.]+)×\"", flat).groups())
                assert (printed < end) if outcome == "below" else (printed > end)   # told apart as printed
                assert f"It rested on the rate of {under} at n = {n} ({ns['rates'][under][n]:.1f} GFLOP/s)" in flat
                assert ("flagged nothing: 1.1 × the peak" in flat) == (not ns["disturbed"][under][n])
                assert f"taken as at most {ns['highest'][under][n]:.1f} GFLOP/s" in flat
                assert "taken as exact" not in flat   # reader 29 (a1): no bound rests on a single timing as exact
                assert "the probe samples the core only around a timing, not during it" in flat
                assert "or these pairs are off by their own noise" in flat
                neighbour = under if outcome == "below" else (rungs[rungs.index(step) + 1:] or [None])[0]
                assert ("the ranking below drops it" in flat) == (neighbour is not None)
                if neighbour is not None:
                    was_low, was_high = steps[neighbour]
                    assert ns["steps"][neighbour] == ((was_low, ns["capped"](neighbour, was_low, math.inf)[1])
                                                      if outcome == "below" else (0.0, was_high))
                    touched.add(neighbour)
            assert all(ns["steps"][name] == steps[name] for name in set(steps) - touched)
        finally:
            ns.update(kept)

    check()


def test_each_printed_ranking_with_pairs_says_where_their_ratio_lies_against_step_3s_printed_bounds(dgemm):
    """Reader 22 (a2, a3), read off the run: each ranking with a pairs' ratio in it says the ratio lies within the
    bounds the ladder printed on that step — the printed figures agreeing, to their rounding — or that the bound
    FAILED, the two printed figures on the failed side of each other; no word of bounds where the ladder printed
    the gain exact."""
    ns, text = dgemm
    blocks = re.findall(r"^ *Step 3's ranking at n = \d+ with these pairs' .*(?:\n  .*)*", text, re.M)
    recomputed = "that rate now bounded from below only" in text
    for block in (unwrap(b) for b in blocks):
        step, ratio = re.search(r"these pairs' (\+ [a-z ]+?) \(([\d.]+)×\)", block).groups()
        ladder = re.search(rf"^  {re.escape(step)} +[\d.]+×  — single timings \([^)]*\); (?:bounded: (.*)|nothing bounds it)$",
                           re.sub(r"\n      ", " ", text), re.M).group(1)
        if "lies within the bounds Step 3 printed on it" in block:
            ends = re.search(r"Step 3 printed on it \((.*?)\)(?: the biggest| $|$)", block).group(1)
            low = re.search(r"at least ([\d.]+)×", ends)
            high = re.search(r"at most ([\d.]+)×", ends)
            assert (not low or float(ratio) >= float(low.group(1)) - 0.005) and (
                not high or float(ratio) <= float(high.group(1)) + 0.005)
            assert recomputed or ladder and ends.startswith(ladder.split(" (no more")[0])
        elif "FAILED" in block:
            printed, side, end = re.search(r"these pairs' ([\d.]+)× lies (below|above) the \"at (?:least|most) ([\d.]+)×",
                                           block).groups()
            assert (float(printed) < float(end)) if side == "below" else (float(printed) > float(end))
            assert recomputed or f"at {'least' if side == 'below' else 'most'} {float(end):.2f}×" in ladder
        elif f"the most {ns['cores']} cores give" not in block:
            assert recomputed or ladder is None   # the ladder printed the gain exact
    assert len(blocks) == sum(f"with these pairs' {step} (" in text for step in ("+ packing", "+ threads"))


def test_the_ladders_legend_sits_outside_its_axes_clear_of_every_point(dgemm):
    ax = dgemm[0]["ladder_ax"]
    ax.figure.canvas.draw()
    legend, frame = ax.get_legend().get_window_extent(), ax.get_window_extent()
    assert legend.x0 >= frame.x1


def test_each_tiled_rungs_tile_is_printed_from_the_code_and_the_model_counts_that_tile(dgemm):
    """Reader 20 (a3): the prose called the intrinsics rung "the same tile" as plain C, while the model gave 0.50
    against 1.48 FLOPs/byte. The run prints each rung's MR×NR from the kernels it calls, and the model's intensity
    for each is the printed tile's MR·NR / (4·(MR + NR)) (large n)."""
    from nnkit.backends import own_dgemm

    ns, text = dgemm
    with own_dgemm.configured("portable") as plain:
        tiles = {"micro-kernel, plain C": (plain.mr, plain.nr), "+ SIMD intrinsics": (ns["config"].mr, ns["config"].nr)}
    line = re.search(r"^the register tiles: .*", text, re.M).group(0)
    n = 4096
    for name, (mr, nr) in tiles.items():
        assert f"{name} {mr}×{nr} (" in line
        model = 2 * n**3 / own_dgemm.bytes_moved(name, n, n, n, ns["config"])
        assert model == pytest.approx(mr * nr / (4 * (mr + nr)), rel=0.01)
    assert "the same tile" not in tutorials.find("inside-dgemm").read_text()


@settings(max_examples=50, deadline=None)
@given(st.sampled_from([None, "loops, ikj", "micro-kernel, plain C", "+ SIMD intrinsics", "+ packing",
                        "+ cache blocking", "+ threads"]),
       st.tuples(st.sampled_from([4, 8, 12, 24]), st.sampled_from([4, 8])))
def test_the_simd_step_is_credited_to_its_tile_and_its_instructions_together(dgemm, winner, simd_tile):
    """Reader 20 (b1): "the biggest step: + SIMD intrinsics" credited wider instructions and FMA alone, though that
    rung also changes the tile. When it wins, the line names both changes (the tile only where the tiles differ)
    and says this run does not time them apart; no other winner gets that line."""
    ns, _ = dgemm
    tiles = {"micro-kernel, plain C": (4, 4, "plain C, SSE2"), "+ SIMD intrinsics": (*simd_tile, "avx2+fma")}
    with pytest.MonkeyPatch.context() as patch:
        patch.setitem(ns, "tiles", tiles)
        steps = {name: (5.0 if name == winner else 1.0,) * 2 for name in ns["own_dgemm"].RUNGS[1:]}
        said = unwrap(ns["ranking_said"](steps))
    assert (f"the biggest step: {winner}" in said) == (winner is not None)
    differ = simd_tile != (4, 4)
    assert ("the instructions (plain C, SSE2 → avx2+fma)" in said) == (winner == "+ SIMD intrinsics")
    assert (f"the tile (4×4 → {simd_tile[0]}×{simd_tile[1]})" in said) == (winner == "+ SIMD intrinsics" and differ)
    assert ("does not time them apart" in said) == (winner == "+ SIMD intrinsics" and differ)


def test_a_printed_biggest_simd_step_names_both_changes(dgemm):
    ns, text = dgemm
    flat = unwrap(text)
    for said in re.findall(r"the biggest step: \+ SIMD intrinsics[^\n]*", flat):
        assert "it changes the tile" in said and "and the instructions" in said


@pytest.mark.parametrize("examples", [30, pytest.param(300, marks=pytest.mark.long)])
def test_a_share_of_a_roof_is_bounded_the_way_its_rate_and_roof_are(dgemm, examples):
    """Reader 21 (a4, a5): one rule words every roofline share — a disturbed rate (a lower bound) only lowers it ("at
    least"), a roof that is a lower bound only raises it ("at most"), both: not settled; neither: the bare share."""
    @settings(max_examples=examples, deadline=None)
    @given(st.floats(0.1, 200), st.floats(0.1, 200), st.booleans(), st.booleans())
    def check(rate, roof, rate_low, roof_low):
        ns = dgemm[0]
        said = ns["roof_share_said"](rate, roof, rate_low, roof_low)
        assert ("not settled" in said) == (rate_low and roof_low)
        assert ("at least" in said) == (rate_low and not roof_low)
        assert ("at most" in said) == (roof_low and not rate_low)
        assert f"{rate / roof:.0%}" in said
        assert ns["bound_word"](rate_low, roof_low) == {(True, True): None, (True, False): "at least ",
                                                         (False, True): "at most ", (False, False): ""}[rate_low, roof_low]

    check()


@pytest.mark.parametrize("served_mib", [None, 1, 4, 8, 12, 32, 96])
@pytest.mark.parametrize("settled", [True, False])
def test_nc_is_set_beside_the_measured_l3_only_where_the_sweeps_settle_it(dgemm, served_mib, settled):
    """Reader 24 (c9): every outcome of the NC line agrees with its figures: unsettled sweeps settle nothing about the
    panel; settled ones name the panel's MiB and whether it lies within the sets that ran faster than main memory,
    and what the same rule gives on that size — NC kept, or the NC it would be."""
    ns, _ = dgemm
    config = ns["config"]
    served = served_mib and served_mib * 2**20
    said = unwrap(ns["nc_said"](served, settled))
    assert all(len(line) <= tutorials.WIDTH for line in tutorials.fit(ns["nc_said"](served, settled)).splitlines())
    panel = config.kc * config.nc * 8
    assert f"its B panel ({config.kc}×{config.nc} doubles) is {panel / 2**20:.1f} MiB" in said
    assert ("is not settled in this run" in said) == (not settled)
    assert ("no set beyond L2 ran faster than main memory here" in said) == (settled and not served)
    if settled and served:
        rule = own_dgemm.config_for_l3(served)
        most, nc = rule.nc_model, rule.nc
        assert (" — no larger than the largest set" in said) == (panel <= served)
        assert (" — larger than the largest set" in said) == (panel > served)
        assert f"gives NC ≤ {most}" in said
        assert (f"NC stays {config.nc}" in said) == (nc == config.nc)
        assert (f"NC = {nc}, not {config.nc}" in said) == (nc != config.nc)
        assert ("a hypothesis from the model, not a timing" in said) == (nc != config.nc)   # reader 32 (b4)


def test_every_hollow_marker_of_tutorial_8s_figures_is_said_to_flag_what_it_flags(dgemm, monkeypatch):
    """Reader 24 (c8): elsewhere in the book a hollow marker flags a disturbed point, while tutorial 8's roofline drew
    every marker hollow. Reader 31 (c16): the ladder now draws hollow only its flagged rates, and its legend says so
    when there is one; reader 32 (c2): so does the roofline, in a short phrase, and no point of it is hollow
    unflagged."""
    import matplotlib.pyplot as plt

    from nnkit import plots

    ns, _ = dgemm
    seen = []
    monkeypatch.setattr(plots, "_save", lambda fig, path: seen.append(fig) or path)
    for flagged in (frozenset(), frozenset({"a"})):
        plots.roofline({"a": (0.25, 2.0), "b (x)": (0.25, 2.1)}, 80.0, {"L2": 45.0}, "unused.png", "t", flagged=flagged)
        labels = [t.get_text() for t in seen[-1].axes[0].get_legend().get_texts()]
        assert ("hollow: a disturbed rate; filled: no flag" in labels) == bool(flagged)
        hollow = {line.get_label() for line in seen[-1].axes[0].get_lines() if line.get_markerfacecolor() == "none"}
        assert hollow & {"a", "b (x)"} == flagged
    ladder = ns["draw_ladder"]()
    labels = [t.get_text() for t in ladder.get_legend().get_texts()]
    flagged = any(why for by_n in ns["disturbed"].values() for why in by_n.values())
    assert any(label.startswith("hollow: a flagged rate") and "filled: no flag" in label for label in labels) == flagged
    plt.close("all")


def test_no_step_bound_rests_on_an_unflagged_single_timing_taken_as_exact(dgemm):
    """Reader 29 (a1): "+ packing 3.04× … at least 3.04×" rested on the unflagged "+ SIMD intrinsics" rate taken as
    exact; the pairs then measured 1.86×. An unflagged single timing bounds nothing from above but by the peak: every
    step line says it rests on single timings and names the pairs that settle it, where a later step times it."""
    ns, text = dgemm
    for name, by_n in ns["highest"].items():
        for n, most in by_n.items():
            if not ns["disturbed"][name][n]:
                assert most == ns["held"](name, math.inf)   # the peak's cap, or ∞
    flat = re.sub(r"\n      ", " ", text)
    for step in ns["own_dgemm"].RUNGS[1:]:
        line = re.search(rf"^  {re.escape(step)} +[\d.]+×  — single timings \(([^)]*)\)", flat, re.M)
        assert line.group(1) == (f"{ns['PAIRED_IN'][step]}'s pairs settle it" if step in ns["PAIRED_IN"]
                                 else "no pairs time it")


# Reader 35 (a4) and the AVX2 cut's move to 64³: Step 9 timed only sizes at or under the kernel's cut (its edge ÷ 4,
# 2, 1), so with a cut of 64³ it could no longer show where two threads start to pay. It now brackets the cut — half
# the edge, the edge and twice it (half and twice under --quick) — holding the one-thread side on one thread above the
# cut with own_dgemm.one_thread_cut(n³), and its last line reads the cut off the settled sizes on both sides.

def _machines():
    """Stand-in configurations for Step 9's functions: this machine's own and an AVX-512 one (its cut 256³)."""
    import types
    return [own_dgemm.config(), types.SimpleNamespace(kernel="avx512f+fma", one_thread_measured_on="an AVX-512 Xeon",
                                                      unpacked_up_to=256**3)]


def _cut_cases():
    """Every assignment of the four effects (paid, cost, within the noise, not settled) to Step 9's sizes around a
    cut, for each machine of ``_machines`` and both modes (full: half, edge, twice; quick: half, twice)."""
    import itertools
    for machine in _machines():
        edge = max(n for n in range(1, 600) if n**3 <= getattr(machine, "one_thread_kernel_up_to", 256**3))
        for sizes in ((edge // 2, edge, 2 * edge), (edge // 2, 2 * edge)):
            for effects in itertools.product(("paid", "cost", "", None), repeat=len(sizes)):
                yield machine, edge, dict(zip(sizes, effects))


def _cut_oracle(effects, edge):
    """What Step 9's last line must say, worked out here: the sizes by effect, whether they conflict (two threads paid
    below a size where they cost), and where the kernel's cut (n ≤ ``edge``) stands against the cuts they allow."""
    at = lambda effect: [n for n, e in effects.items() if e == effect]
    paid, cost, within, unsettled = at("paid"), at("cost"), at(""), at(None)
    conflict = bool(paid and cost and max(cost) > min(paid))
    too_high = not conflict and any(n <= edge for n in paid)   # two threads paid where the cut holds one thread
    too_low = not conflict and any(n > edge for n in cost)     # two threads cost where the cut lets them run
    return {"paid": paid, "cost": cost, "within": within, "unsettled": unsettled, "conflict": conflict,
            "too_high": too_high, "too_low": too_low, "fits": bool(cost and paid) and not (conflict or too_high or too_low)}


@pytest.mark.parametrize("examples", [40, pytest.param(10_000, marks=pytest.mark.long)])
def test_step_9s_last_line_says_whether_the_kernels_cut_fits_or_where_one_would(dgemm, monkeypatch, examples):
    """For the sizes below and above the cut and every outcome (a seeded sample by default, all under -m long): the
    kernel's cut is said to fit this machine exactly when two threads settled as costing at or below it and paying
    above it; where a size contradicts it, the line says which and where a cut would fit (bounded on each side only by
    a settled size); a conflict fits no cut; one side settled says which is open; nothing read off unsettled sizes,
    which are named, as sizes within the noise are; no line past 118 columns."""
    import random
    cases = list(_cut_cases())
    chosen = cases if examples >= len(cases) else random.Random(35).sample(cases, examples)
    listed = lambda ns: ", ".join(map(str, ns))
    seen = set()
    pick = random.Random(36)
    for machine, edge, effects in chosen:
        monkeypatch.setitem(dgemm[0], "config", machine)
        above = [n for n in effects if n > edge]   # reader 36 b4: Step 8's sizes above the cut, timed in Step 9 too
        retimed = pick.sample(above, pick.randint(0, len(above)))
        printed = dgemm[0]["cut_said"](effects, edge, sorted(retimed))
        assert all(len(line) <= 118 for line in printed.split("\n"))
        said, o = unwrap(printed), _cut_oracle(effects, edge)
        step_8 = (f"; Step 8's sizes above the cut (n = {listed(sorted(retimed))}) timed here beside an A/A control: "
                  "its own pairs there (rungs, no yardstick of their size) are read through these")
        assert (step_8 in said) == bool(retimed) and said.count("Step 8's") == bool(retimed)
        said = said.replace(step_8, "")
        cut = f"the {machine.kernel} kernel's cut (n ≤ {edge}, set on {machine.one_thread_measured_on})"
        if not (o["paid"] or o["cost"] or o["within"]):
            assert said == "the one-thread cut: nothing settled in this run — run it again on an idle machine"
            seen.add("nothing")
            continue
        outcome = next(name for name in ("conflict", "too_high", "too_low", "fits") if o[name]) if any(
            o[name] for name in ("conflict", "too_high", "too_low", "fits")) else (
            "holds" if o["cost"] else "lets" if o["paid"] else "within")
        seen.add(outcome)
        assert ("no one cut fits these figures" in said) == (outcome == "conflict")
        assert (f"{cut} fits this machine" in said) == (outcome == "fits")
        assert ("fits this machine" in said) == (outcome == "fits")
        if outcome in ("too_high", "too_low", "fits"):   # the cuts these figures allow, each end from a settled size
            assert (f"at or above n = {max(o['cost'] or [0])} (two threads cost there)" in said) == bool(o["cost"])
            assert (f"below n = {min(o['paid'] or [0])} (two threads paid there)" in said) == bool(o["paid"])
        if outcome == "too_high":
            high = [n for n in o["paid"] if n <= edge]
            assert f"two threads paid at n = {listed(high)}, within {cut}: on this machine the cut held" in said
            assert ("(how far below, these sizes do not say)" in said) == (not o["cost"])
        if outcome == "too_low":
            low = [n for n in o["cost"] if n > edge]
            assert f"two threads cost at n = {listed(low)}, above {cut}: on this machine the cut let" in said
            assert ("(how far above, these sizes do not say)" in said) == (not o["paid"])
        if outcome == "fits":
            assert f"two threads cost at n = {listed(o['cost'])} and paid at n = {listed(o['paid'])}: {cut}" in said
            assert max(o["cost"]) <= edge < min(o["paid"])
        assert ("it holds there on this machine" in said) == (outcome == "holds")
        assert ("a higher cut would fit these figures as well" in said) == (outcome == "holds")
        assert ("it lets them run there on this machine" in said) == (outcome == "lets")
        assert ("a lower cut would fit these figures as well" in said) == (outcome == "lets")
        assert ("neither support nor contradict" in said) == (outcome == "within")
        assert said.endswith(f"; n = {listed(o['unsettled'])} not settled") == bool(o["unsettled"])
        assert (f"n = {listed(o['within'])} within this run's noise" in said) == bool(
            o["within"] and (o["paid"] or o["cost"]))
        assert ("would fit these figures" in said) == (outcome in ("too_high", "too_low", "holds", "lets"))
    if examples >= len(cases):
        assert seen == {"nothing", "conflict", "too_high", "too_low", "fits", "holds", "lets", "within"}


@pytest.mark.parametrize("quick_mode", [True, False])
def test_step_9s_sizes_bracket_the_kernels_cut(dgemm, quick_mode):
    """The sizes lie on both sides of the kernel's cut — half its edge and twice it, the edge too in a full run —
    none under 16: with the AVX2 cut of 64³, n = 32 (and 64) within it, 128 above."""
    sizes_for = dgemm[0]["cut_sizes_for"]
    for edge in (4, 8, 16, 32, 40, 64, 100, 256):
        sizes = sizes_for(edge, quick_mode)
        expected = (edge // 2, 2 * edge) if quick_mode else (edge // 2, edge, 2 * edge)
        assert sizes == [n for n in expected if n >= 16]
        assert max(sizes, default=edge + 1) > edge   # a size above the cut whenever any is timed
        if edge // 2 >= 16:
            assert min(sizes) <= edge   # and one at or below it
    assert sizes_for(64, False) == [32, 64, 128] and sizes_for(64, True) == [32, 128]


def test_the_quick_runs_step_9_brackets_the_cut_and_holds_one_thread_above_it(dgemm):
    """The quick run times a size at or below the kernel's cut and one above it; each prints the threads the library
    itself reported — 1 at its cut (or, above it, with the cut raised to the size) and 2 with the cut lifted, as a
    fresh call reports them here; its per-size effect and the last line are the ones ``cut_said`` gives, and the
    step leaves the cut as it found it."""
    from nnkit.backends.dgemm import dgemm as product
    ns, text = dgemm
    edge = ns["unpacked_edge"](own_dgemm.config().one_thread_kernel_up_to)
    assert ns["cut_edge"] == edge
    if ns["cores"] < 2 or not ns["cut_sizes"]:
        assert "no second thread, or no size of 16 or more around the cut, to time" in text
        return
    assert ns["cut_sizes"] == ns["cut_sizes_for"](edge, True)
    assert min(ns["cut_sizes"]) <= edge < max(ns["cut_sizes"])   # below and above the cut
    step_9 = text[text.index(f"n = {ns['cut_sizes'][0]:<5} the library reported"):]
    words = {"two threads paid": "paid", "two threads cost": "cost",
             "no effect of a second thread beyond this run's noise": ""}
    assert ns["step_8_above"] == [m for m in ns["matrices"] if m > edge and m not in ns["cut_sizes"]]
    for n in ns["cut_sizes"] + ns["step_8_above"]:   # reader 36 b4: Step 8's sizes above the cut timed too
        raised = None if n <= edge else n
        with own_dgemm.configured(threads=2):
            reported = []
            for cut in (None if raised is None else n**3, 0):
                with own_dgemm.one_thread_cut(cut):
                    product(np.ones((n, n)), np.ones((n, n)), library="nnkit")
                    reported.append(own_dgemm.last_threads())
        block = re.search(rf"^n = {n} +the library reported (.*)(?:\n  .*)*", step_9, re.M).group(0)
        flat = unwrap(block)
        assert flat.startswith(f"n = {n:<5} {ns['threads_said'](reported, raised)}")
        assert ("with the cut raised to" in flat.split(";")[0]) == (n > edge)
        if reported == [1, 2]:
            assert words.get(block.split("\n")[-1].strip()) == ns["lifted_effects"][n]
    flat_step = unwrap(step_9).rstrip()
    assert flat_step.endswith(unwrap(ns["cut_said"](dict(sorted(ns["lifted_effects"].items())), edge,
                                                                  ns["step_8_above"])))
    assert own_dgemm.config().one_thread_from == "kernel"


@pytest.mark.parametrize("examples", [40, pytest.param(300, marks=pytest.mark.long)])
def test_a_step_9_size_says_its_one_thread_side_and_the_effect_its_rounds_placed(dgemm, examples):
    """A size's lines, for rounds drawn at random (ratios, other processes, the core's speed) below and above the cut:
    the one-thread side named as the run held it (at the cut, or with the cut raised to n³), the last words the effect
    Step 3's rule placed (paid above 1, cost below, no effect within the noise, nothing more when not settled), the
    packing note exactly where the library runs unpacked at its cut; no line past 118 columns."""
    ns = dgemm[0]
    rng = np.random.default_rng(35)
    for _ in range(examples):
        centre = float(rng.choice([0.5, 0.9, 1.0, 1.1, 1.6]))
        lifted = [centre * float(rng.uniform(0.9, 1.1)) for _ in range(3)]
        same = [float(rng.uniform(0.95, 1.05)) for _ in range(3)]
        calm = rng.random() < 0.5
        loads = [{"others": 0.0 if calm else float(rng.choice([0.0, 0.1, 0.6, 1.5])),
                  "speed": 1.0 if calm else float(rng.choice([0.7, 0.9, 1.0])),
                  "ratios": [r * float(rng.uniform(0.9, 1.1)) for _ in range(2)]} for r in lifted]
        noise, noise_said = ns["pair_noise"](same, lifted, loads)
        where, verdict = ns["placed"](lifted, loads, 1.0, noise)
        n = int(rng.choice([16, 32, 64, 128]))
        raised = n if n > ns["cut_edge"] else None
        text = ns["lifted_line"](n, (1, 2), lifted, same, noise_said, verdict, ns["EFFECT"][where], raised)
        assert all(len(line) <= 118 for line in text.split("\n"))
        flat = unwrap(text)
        held = "at its cut" if raised is None else f"with the cut raised to {n}³"
        assert flat.startswith(f"n = {n:<5} the library reported 1 thread {held}, 2 threads with it lifted")
        assert ("(at its cut the library skips packing here;" in flat) == (n**3 <= ns["config"].unpacked_up_to)
        last = text.split("\n")[-1]
        assert last == {"above": "  two threads paid", "below": "  two threads cost",
                        "within": "  no effect of a second thread beyond this run's noise"}.get(where, last)
        assert where != "open" or "not settled in this run" in flat


@pytest.mark.parametrize("cut", [0, 48**3, 64**3, 96**3, 256**3, 1000**3])
def test_the_line_under_the_table_names_where_the_threads_rung_runs_one_thread_by_design(dgemm, cut):
    """With the AVX2 cut at 64³ the "+ threads" row runs two threads at n = 120 and 250, where with 256³ it ran one:
    the line under Step 3's table names the sizes within the cut (one thread, "+ cache blocking" again) and the rest,
    from the cut in force; the quick run printed it for its own sizes and cut."""
    ns, text = dgemm
    sizes = (48, 96, 120, 250, 500, 1000)
    line = unwrap(ns["threads_row_said"](sizes, cut, 2))
    within = [n for n in sizes if n**3 <= cut]
    beyond = [n for n in sizes if n**3 > cut]
    assert ("one thread by design at n = " + ", ".join(map(str, within)) + " (" in line) == bool(within)
    assert ("2 threads at n = " + ", ".join(map(str, beyond)) in line) == bool(within and beyond)
    assert ("2 threads at every size" in line) == (not within)
    assert "one thread" not in line or within
    assert all(len(part) <= 118 for part in ns["threads_row_said"](sizes, cut, 2).split("\n"))
    printed = ns["threads_row_said"](ns["sizes"], ns["config"].one_thread_up_to, ns["cores"])
    assert "\n" + printed + "\n" in text


@pytest.mark.parametrize("ratio", [0.05, 0.9, 1.0, 1.7, 2.02, 30.0])
@pytest.mark.parametrize("step", ["+ packing", "+ threads"])
def test_pairs_set_beside_a_step_step_3_left_unbounded_claim_no_bound(dgemm, step, ratio):
    """CI rehearsal ci14a: Step 3 printed "nothing bounds it" (both ends farther than WIDE from the gain, dropped),
    yet the ranking with pairs said their ratio "lies within the bounds Step 3 printed on it (no bound)". Where
    Step 3 left a step unbounded, the pairs' line says so and claims no bound to lie within, or to fail."""
    ns = dgemm[0]
    kept = ns["steps"]
    ns["steps"] = {**kept, step: ns["told"](1.0, 0.01, 100.0)}
    try:
        assert ns["steps"][step] == (0.0, math.inf) and ns["ends_said"](*ns["steps"][step]) == "no bound"
        said = unwrap(ns["against_bounds"](step, ratio, "these pairs"))
        assert "Step 3 printed no bound on it" in said
        assert "lies within the bounds" not in said and "FAILED" not in said
        assert ns["steps"] == {**kept, step: (0.0, math.inf)}   # nothing dropped from the ranking
    finally:
        ns["steps"] = kept


def test_step_8_reads_the_spin_cut_short_against_the_turns_with_it_in_every_outcome(dgemm):
    """Reader 36 b3: "likely the spinning helpers slowed nnkit's threads" was not isolated — the 1-thread control also
    left the second core idle. A child process with OPENBLAS_THREAD_TIMEOUT=4 runs the same turns with the spin cut
    short. For every place of the two verdicts and whether the child's helpers still spun: the spin is called the
    cause only when the turns here settled a cost and the child's did not; a cost left in the child says so; a child
    whose helpers still spun isolates nothing. Reader 39 b7: "isolated, across two processes" rested on two processes
    at two moments — now the spin is only "consistent with" the cost, never isolated, the two processes' control
    levels printed beside."""
    reading = dgemm[0]["spin_reading"]
    places = ("above", "below", "within", "open")
    for parent in places:
        for child in places:
            for spin in (0.0, 0.019, 0.02, 0.2):
                said = reading(parent, child, spin, "LEVELS")
                assert "isolated, across" not in said and "isolated here" not in said
                if spin >= 0.02:
                    assert said.startswith(f"the child's helpers still used {spin:.2f} cores") and "nothing is isolated" in said
                    continue
                cause = ("consistent with the spinning helpers, not the second core's prior work, having slowed nnkit's "
                         "threads here; not isolated: two processes at two moments (LEVELS)") in said
                assert cause == (parent == "below" and child in ("within", "above")), (parent, child)
                assert ("LEVELS" in said) == cause
                assert ("not the spin alone" in said) == (parent == "below" and child == "below")
                assert ("the spin's part is not isolated" in said) == (parent == "below" and child == "open")
                assert ("nothing to split" in said) == (parent in ("within", "above"))
                assert ("no cost of the spin to split" in said) == (parent == "open")


def test_the_quick_runs_step_8_prints_the_childs_turns_and_reads_them(dgemm):
    ns, text = dgemm
    block = text[text.index("the same turns in a child process with OPENBLAS_THREAD_TIMEOUT=4"):]
    block = block[:block.index("\nn = ")]   # the pairs' rows of Step 8's next cell follow
    flat = unwrap(block)
    if "the child failed" in flat:
        assert flat.endswith("the spin is not isolated in this run")
        return
    spin = ns["spin_cut"]["spin"]
    assert f"its helpers used {spin:.2f} cores in the" in flat
    assert flat.endswith("answer — what slowed nnkit right after a 2-thread OpenBLAS product: "
                         + ns["spin_reading"](ns["helpers_where"], ns["child_where"], spin, ns["spin_levels"]))


def test_step_2_ends_with_the_blocks_as_its_answer(dgemm):
    """Reader 36 c1: each step's answer in one line, not buried under its method."""
    ns, text = dgemm
    c = ns["config"]
    flat = unwrap(text)
    assert (f"answer — the blocks here: KC = {c.kc}, MC = {c.mc}, NC = {c.nc} around the {c.mr}×{c.nr} tile, the "
            "model's choice from the caches' figures, not a timing") in flat   # reader 38 b4/b5: a model, Step 6 times it
