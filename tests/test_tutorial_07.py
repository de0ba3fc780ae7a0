"""Tutorial 7: every verdict that places a paired ratio against a mark decides by ``verdicts.place`` — the ratio
widened by its pairs' own spread, a slowed core's ratio × s … ratio ÷ s, nothing when others were busy — and its
words follow the ranges it prints, for every outcome (seeded generators over the cell's own functions, 50 cases each
by default and their full counts under ``-m long``; the quick run with the machine's load replaced by a calm one)."""

import math
import re

import numpy as np
import pytest

from nnkit import tutorials
from nnkit.bench import verdicts
from generators import examples
from text import unwrap

PAIR = re.compile(r"^  (.+?) +÷ (.+?) +(\d+\.\d\d)×  the core at (\d+)%, others (\d+\.\d\d) cores, noise (\d+)%$"
                  r"((?:\n    disturbed: .*)?)", re.M)
RANGE = r"(\d+\.\d\d+)…(\d+\.\d\d+)×"
SAMPLE = 50   # seeded cases per generator in the default run; `pytest -m long` runs each generator's full count


def counts(full: int) -> list:
    """The case counts a generator test runs: ``SAMPLE`` by default, ``full`` under ``-m long``."""
    return [pytest.param(SAMPLE, id=f"{SAMPLE}"), pytest.param(full, id=f"{full}", marks=pytest.mark.long)]


@pytest.fixture
def calm(calm_run):
    """Tutorial 7's quick run on a machine made to look calm (shared with tests/test_tutorials_settled.py): its
    namespace, with each plots.bars call under "figures drawn", and what it printed."""
    return calm_run("the-speed-ladder")[:2]


def test_on_a_calm_machine_each_pair_line_prints_its_ratio_and_spread(calm):
    ns, text = calm
    pairs = list(PAIR.finditer(text))
    assert len(pairs) == 5   # the padded rows, the two sizes, two swaps, the loop order alone (reader 24 b1)
    for line, (rate, seen, why, noise) in zip(pairs, ns["again"].values()):
        assert float(line.group(3)) == rate and int(line.group(6)) == round(100 * noise)
        assert line.group(4, 5, 7) == ("100", "0.00", "") and not why
    assert "for scale only" in text and "not the size of an effect" in unwrap(text)
    assert tutorials.fit(ns["order_worth"](ns["again"]["order"])) in text   # the loop order alone, from its own pairs
    assert "a pair marked disturbed" not in text and ", disturbed)" not in text
    flat = unwrap(text)   # reader 35 c2, c3: the probe's line reads the second timings and its best
    assert unwrap(tutorials.fit(ns["against_probe"](ns["walks"], ns["held"], ns["shaky"], ns["scalar"],
                                                                  ns["seconds"], ns["step_noise"],
                                                                  ns["probe_said"]))) in flat
    assert set(ns["seconds"]) == {f"ikj, n = {ns['size']}", f"ijk, n = {ns['size']}"} & set(ns["moments"])
    assert "the best of all its runs — 3 sweeps over" in flat and "unexplained" not in flat


def test_each_out_of_order_line_decides_by_its_pairs_own_spread(calm):
    """Reader 16: 0.94× against 0.95 from 3 pairs was called 'the code's, not noise' with no noise estimate."""
    ns, text = calm
    lines = re.findall(r"re-measured in 3 alternating pairs: .*(?:\n    .*)*\n  → (.*(?:\n    .*)*)", text)
    assert len(lines) == len(ns["retimed"])
    for said, ((name, earlier), (again, others, speed, noise, _)) in zip(lines, ns["retimed"].items()):
        table = round(ns["results"][name], 2) / round(ns["results"][earlier], 2)   # reader 33 a2: Step 2's, as printed
        flagged = bool({name, earlier} & (ns["shaky"] | ns["suspect"]))   # a SUPER-LINEAR pair's rate is not counted
        expected = ns["order_said"](again, others, speed, noise, table, flagged,
                                    ns["past_the_cores"](name, earlier, again, ns["cores"]), ns["sizes_at"](name, earlier))
        said = unwrap(said)   # CI stop 28: "the pairs' 1%" and "spread" fell on two lines
        assert said == unwrap(expected)
        assert "the code's" not in said   # reader 36 c3: an order that held is this run's at its sizes
        assert noise == 0 or "not settled" in said or f"{noise:.0%} spread" in said


def test_the_ladder_is_dots_on_its_log_axis_and_every_disturbed_rate_is_drawn_hollow(calm):
    """Reader 21 c4: a bar on a log axis is as long as the axis's arbitrary start makes it, so the ladder is a dot per
    rung; the flagged rates (``shaky``, lower bounds) hollow after a '≥', as the loop orders' bars (a linear axis)."""
    ns, text = calm
    (ladder, ladder_said), (loops, loops_said) = ns["figures drawn"]
    # reader 31 c10: the C rung's label says when its rows are whole 4 KiB; reader 36 c4: each rung's label carries
    # its orders the pairs did not bear out (``figure_notes``), and the title says what the brackets mean
    label = lambda name: ns["drawn_label"](name, ns["notes"].get(name, ()))
    assert ladder[0] == {label(name): rate for name, rate in ns["results"].items()} and ladder_said["log"]
    assert ladder_said["flagged"] == {label(name) for name in ns["shaky"]}
    assert ns["notes"] == ns["figure_notes"](ns["orders"], ns["results"], ns["suspect"])
    assert ("[vs …] under a rung" in ladder[3]) == bool(ns["unborne"](ns["orders"], ns["results"]))
    assert tutorials.fit(ns["orders_said"](ns["orders"], ns["results"])) in text
    assert loops[0] is ns["walks"] and not loops_said.get("log") and loops_said["flagged"] is ns["shaky"]
    for said in (ladder_said, loops_said):
        assert said["flag_mark"] == "≥" and "lower bound" in said["flag_label"]
    assert sorted(ladder_said["marks"].values()) == sorted((ns["peak_one"], ns["peak_all"]))
    assert [line.split("figure: ")[1] for line in text.splitlines() if line.startswith("figure: ")] == [
        ladder[1], loops[1]]


def test_what_the_cores_added_is_printed_once_and_read_from_its_pairs(calm):
    """Reader 21 c8: the closing text's 'several cores' is qualified by this run's line, which re-times the all-core
    rung against one thread (the out-of-order check's pairs where it made them) and says what its range shows."""
    ns, text = calm
    flat = unwrap(text)
    said = re.findall(r"^what the cores added: .*(?:\n  .*)*", text, re.M)
    assert len(said) == 1
    every, one = ns["top"], "OpenBLAS, 1 thread"
    assert ns["gain"] == ns["retimed"].get((every, one), ns["gain"])
    gain = ns["gain"]
    table = round(ns["results"][every], 2) / round(ns["results"][one], 2)   # Step 2's ratio, from its rates as printed
    flagged = bool({every, one} & ns["shaky"])
    assert unwrap(said[0]) == unwrap(ns["cores_added"](every, one, *gain[:3], verdicts.spread(
        gain[4]), ns["cores"], ns["control"], table, flagged))
    assert f"Step 2's table's {table:.2f}×" in unwrap(said[0])   # reader 33 a2: the table is set beside it
    # b5: the noise of a median, measured on medians — the A/A control's two orders' medians, not its single pairs
    assert ns["control"] == max(verdicts.apart(m) for m in ns["same"]["by_order"].values()) and len(ns["same"]["ratios"]) == 5
    assert "out of order on this machine" not in flat
    assert len(re.findall(r"^out of order in the table: ", text, re.M)) == len(ns["retimed"])


def test_the_lines_the_text_names_are_the_lines_the_run_prints(calm):
    """The prose points at printed lines by their opening words; each one it names is one this run prints, and the
    text states why several threads may run slower only as a hypothesis, with the alternatives named (reader 21 b2)."""
    ns, text = calm[0], unwrap(calm[1])
    page = re.sub(r"\s+", " ", tutorials.find("the-speed-ladder").read_text())
    printed = {"out of order in the table": bool(ns["retimed"]), "what the cores added": ns["cores"] > 1}   # when due
    for line, due in printed.items():
        assert f'"{line}' in page and (f"{line}:" in text) == due
    hypothesis = page[page.index("*slower* than one, why is not isolated here"):][:600]
    assert "a hypothesis is" in hypothesis and "spinning against the caller" in hypothesis and "core late" in hypothesis
    assert "for as long as another process holds a core" not in page


@pytest.mark.parametrize("count", counts(2000))
def test_what_the_cores_added_follows_its_range(count):
    """Seeded pairs of the all-core rung ÷ one thread (and reader 21's 0.41× with others at 1.01 cores), calm, slowed
    or with others busy, with a drawn spread: 'faster' only where the whole range (``verdicts.place``) lies at or above
    1×, 'slower' only where it lies below, else not settled — with the range printed, its top never above the cores
    (reader 23 c4: 1.45…2.53× on 2 cores), and lines ≤ 118 once wrapped."""
    cores_added = _cores_added()
    rng = np.random.default_rng(21)
    cases = [(0.41, 1.01, 0.91, 0.05, 0.0), (1.8, 0.0, 1.0, 0.02, 0.0), (0.6, 0.0, 0.97, 0.1, 0.0), (0.98, 0.0, 0.7, 0.0, 0.0),
             (1.44, 0.0, 1.0, 0.01, 0.57)] + [   # reader 26 a3: a wide A/A control unsettles 1.44×
        (round(float(rng.uniform(0.2, 2.5)), 2), float(rng.choice([0.0, 0.1, 0.5, 1.5])),
         float(rng.choice([0.6, 0.8, 0.9, 1.0])), float(rng.choice([0.0, 0.02, 0.1, 0.3])),
         float(rng.choice([0.0, 0.03, 0.2, 0.6]))) for _ in range(count)]
    for again, others, speed, noise, control in cases:
        said = unwrap(cores_added("OpenBLAS, 2 threads", "OpenBLAS, 1 thread", again, others, speed, noise, 2,
                                                control, again))
        region, (low, high) = verdicts.place(again, (1.0,), others, speed, max(noise, control))
        past = verdicts.super_linear(round(again, 2), 2)   # reader 35 a3: above the cores, the pairs judge nothing
        region = "past" if past else region
        assert f"its two orders' medians' {noise:.0%} spread, an A/A control's medians' {control:.0%} from 1" in said
        assert ("its top capped at the 2 cores" in said) == (2 < high < math.inf and not past)   # reader 23 c4
        high = min(high, 2) if high < math.inf and not past else high
        assert ("faster on every core" in said) == (region == 1) == ("the extra cores paid" in said)
        assert ("slower on every core" in said) == (region == 0) == ("cost time" in said)
        assert ("not settled in this run" in said) == (region in (None, "past"))
        assert ("which bounds nothing" in said) == (high == math.inf and not past)
        assert (f"these pairs' ratio: {past}" in said) == bool(past) == ("SUPER-LINEAR (above)" in said)
        assert f"{again:.2f}× (its range " in said and (high == math.inf or _span(low, high, (1.0,)) in said)
        assert all(len(line) <= tutorials.WIDTH for line in tutorials.fit(said).split("\n"))
    assert "not settled" in cores_added("OpenBLAS, 2 threads", "OpenBLAS, 1 thread", *cases[0][:4], 2, 0.0, 0.41)   # reader 21
    assert "…2.00×" in cores_added("OpenBLAS, 2 threads", "OpenBLAS, 1 thread", 1.92, 0.0, 0.79, 0.05, 2, 0.02, 1.92)  # reader 23
    assert "not settled" in cores_added("OpenBLAS, 2 threads", "OpenBLAS, 1 thread", *cases[4][:4], 2, 0.57, 1.44)   # reader 26


def _cores_added():
    """Step 3's ``cores_added``, with the functions it reads of Step 2's table (``table_stray``, ``table_said``)."""
    return _cell_functions("def cores_added(", "if cores > 1:", **_cell_functions("def table_stray(", "ahead_of = {"))[
        "cores_added"]


@pytest.mark.parametrize("count", counts(3000))
def test_what_the_cores_added_leaves_no_unflagged_table_ratio_outside_its_range(count):
    """Reader 33 a2: '1.11× (1.06…1.17×) → faster on every core, by 1.06…1.17×' beside Step 2's unflagged 49.718 ÷
    29.387 = 1.69×. Seeded pairs with a table ratio drawn about them, its rates flagged or not: an unflagged table's
    ratio widens the noise to how far it lies from the pairs' (``table_stray``), so the range the verdict prints holds
    it (below the cores' cap) and the verdict is the one ``verdicts.place`` gives that range; a flagged one is named
    and not counted. The reader's own figures: not settled."""
    cores_added, cell = _cores_added(), _cell_functions("def table_stray(", "ahead_of = {")
    rng = np.random.default_rng(33)
    cases = [(1.11, 0.02, 0.99, 0.05, 0.04, 49.718 / 29.387, False), (1.11, 0.02, 0.99, 0.05, 0.04, 1.69, True)] + [
        (round(float(rng.uniform(0.3, 2.2)), 2), float(rng.choice([0.0, 0.1, 1.5])), float(rng.choice([0.7, 0.9, 1.0])),
         float(rng.choice([0.0, 0.03, 0.1])), float(rng.choice([0.0, 0.04, 0.2])),
         float(rng.uniform(0.2, 2.4)), bool(rng.random() < 0.3)) for _ in range(count)]
    outcomes = set()
    for again, others, speed, noise, control, table, flagged in cases:
        said = unwrap(cores_added("OpenBLAS, 2 threads", "OpenBLAS, 1 thread", again, others, speed, noise,
                                                2, control, table, flagged))
        past = verdicts.super_linear(round(again, 2), 2)        # reader 35 a3: either ratio above the cores is
        table_past = verdicts.super_linear(round(table, 2), 2)  # read as disturbed; the table's then widens nothing
        stray = 0.0 if flagged or table_past else verdicts.apart(table / again)
        assert stray == cell["table_stray"](again, table, flagged or bool(table_past))
        region, (low, high) = verdicts.place(again, (1.0,), others, speed, max(noise, control, stray))
        region = "past" if past else region
        outcomes.add((region, flagged, stray > max(noise, control)))
        assert ("faster on every core" in said) == (region == 1) and ("slower on every core" in said) == (region == 0)
        assert ("not settled in this run" in said) == (region in (None, "past"))
        assert (f"Step 2's table's ratio: {table_past}" in said) == bool(table_past)
        if flagged:
            assert f"Step 2's table's {table:.2f}×, a rate of it disturbed: not counted" in said
            continue
        if table_past:
            assert f"Step 2's table's {table:.2f}×, SUPER-LINEAR (below): not counted, it widens nothing" in said
            continue
        assert f"Step 2's table's {table:.2f}×, neither rate flagged, {stray:.0%} from these pairs" in said
        if high < math.inf and table <= 2:   # the range it prints holds the table's ratio, as printed
            shown_low, shown_high = (float(x) for x in re.search(r"its range (\d+\.\d+)…(\d+\.\d+)×", said).groups())
            assert shown_low <= round(table, 2) + 0.01 and round(table, 2) - 0.01 <= shown_high, (table, said)
        assert all(len(line) <= tutorials.WIDTH for line in tutorials.fit(said).split("\n"))
    assert {(0, False, True), (1, False, True), (None, False, True), (1, True, False)} <= outcomes
    reader = unwrap(cores_added("OpenBLAS, 2 threads", "OpenBLAS, 1 thread", *cases[0][:4], 2, 0.04,
                                               49.718 / 29.387))
    assert "not settled in this run" in reader and "faster on every core" not in reader


@pytest.mark.parametrize("count", counts(1000))
def test_a_super_linear_ratio_of_the_cores_judges_and_widens_nothing(count):
    """Reader 35 a3: 'widened by … Step 2's table's 2.19×, neither rate flagged' on 2 cores — a ratio the book's rule
    (``verdicts.super_linear``: above 1.05 × the cores) reads as disturbed. Seeded all-core ÷ 1-thread pairs and table
    ratios about the cores: a SUPER-LINEAR table ratio (as printed) is flagged on its own line and widens nothing — the
    verdict is the one its range without it gives; a SUPER-LINEAR pairs' ratio is flagged and judges nothing, in the
    "what the cores added" line and in an "out of order" line of the same two rungs; any other two rungs are never
    flagged. The reader's figures: 1.45× (9 % spread, 2 % control) beside the table's 2.19× is faster on both cores."""
    cores_added, cell = _cores_added(), _cell_functions("def table_stray(", "ahead_of = {")
    rng = np.random.default_rng(35)
    reader = (1.45, 0.01, 0.97, 0.09, 0.02, round(67.079, 2) / round(30.581, 2), False)
    cases = [reader] + [(round(float(rng.uniform(1.5, 2.4)), 2), float(rng.choice([0.0, 0.1, 1.5])),
                         float(rng.choice([0.7, 0.9, 1.0])), float(rng.choice([0.0, 0.03, 0.1])),
                         float(rng.choice([0.0, 0.02, 0.1])), float(rng.uniform(1.5, 2.4)), bool(rng.random() < 0.2))
                        for _ in range(count)]
    outcomes = set()
    for again, others, speed, noise, control, table, flagged in cases:
        said = unwrap(cores_added("OpenBLAS, 2 threads", "OpenBLAS, 1 thread", again, others, speed, noise,
                                                2, control, table, flagged))
        past, table_past = (round(ratio, 2) > 2.1 for ratio in (again, table))   # 1.05 × 2 cores, as printed
        outcomes.add((past, table_past))
        assert ("these pairs' ratio: SUPER-LINEAR on 2 cores" in said) == past
        assert ("Step 2's table's ratio: SUPER-LINEAR on 2 cores" in said) == table_past
        assert ("SUPER-LINEAR (below): not counted, it widens nothing" in said) == (table_past and not flagged)
        counted = not (flagged or table_past)
        region, (low, high) = verdicts.place(again, (1.0,), others, speed,
                                             max(noise, control, verdicts.apart(table / again) if counted else 0.0))
        if past:
            assert said.endswith("not settled in this run: these pairs' ratio is SUPER-LINEAR (above) — so it judges "
                                 "nothing here") and "capped" not in said
        else:
            assert ("faster on every core" in said) == (region == 1) and ("slower on every core" in said) == (region == 0)
            assert ("not settled in this run — run it again" in said) == (region is None)
        assert all(len(line) <= tutorials.WIDTH for line in tutorials.fit(said).split("\n"))
        for name, earlier in (("OpenBLAS, 2 threads", "OpenBLAS, 1 thread"), ("OpenBLAS, 2 threads", "nnkit's dgemm, 1 thread"),
                              ("reference BLAS", "C, textbook loop (ijk)")):   # an out-of-order line's pairs
            flag = cell["past_the_cores"](name, earlier, again, 2)
            assert bool(flag) == (past and earlier == "OpenBLAS, 1 thread")
            ordered = cell["order_said"](again, others, speed, noise, 1 / table, flagged, flag)
            assert ordered.startswith("not settled in this run: these pairs' ratio is SUPER-LINEAR") == bool(flag)
    assert count == SAMPLE or outcomes == {(True, True), (True, False), (False, True), (False, False)}
    said = unwrap(cores_added("OpenBLAS, 2 threads", "OpenBLAS, 1 thread", *reader[:4], 2, *reader[4:]))
    assert "Step 2's table's 2.19×, SUPER-LINEAR (below): not counted" in said and "faster on every core, by 1.33…1.58×" in said
    assert cell["past_the_cores"]("OpenBLAS, 1 threads", "OpenBLAS, 1 thread", 1.5, 1) == ""   # one core: no speed-up


def test_the_python_rungs_rate_across_its_sizes_is_named_by_its_range(calm):
    """The bottom-to-top ratio divides rates at two sizes: the line before it says, from alternating pairs of the
    Python rung at two of its own sizes, whether its rate stands for the larger n — only where its range says so."""
    ns, text = calm[0], unwrap(calm[1])
    line = re.search(rf"Python loops' rate at n = \d+ ÷ at n = \d+, in 3 alternating pairs: (\d+\.\d\d)× \(its range "
                     rf"{RANGE}, its (\d+)% noise: the larger of its pairs' \d+% spread and timed alone, (.*?)\) — (.*)$",
                     text, re.M)
    low, high = ns["low"], ns["high"]   # as decided: the printed figures round them (0.7996 prints 0.80)
    # reader 37 a1, the class: widened to the same ratio timed alone (Step 2's rate ÷ the smaller n's timed alone)
    table = ns["rates_alone"][0] / ns["rates_alone"][1]
    same = round(8 / ns["python"]["ratio"], 2)   # its rate at the larger n ÷ at the smaller, as printed
    assert ns["python_stray"] == ns["table_stray"](same, table, ns["python_flagged"])
    assert ns["python_noise"] == max(verdicts.spread(ns["python"]["ratios"]), ns["python_stray"])
    assert (low, high) == verdicts.place(same, (0.8, 1.25), 0.0, 1.0, ns["python_noise"])[1]
    assert int(line.group(4)) == round(100 * ns["python_noise"]) and f"{table:.2f}×" in line.group(5)
    assert line.group(2, 3) == (_near(low, (0.8, 1.25)), _near(high, (0.8, 1.25)))
    assert line.group(6).startswith("within 0.8–1.25×") == (0.8 <= low and high < 1.25)
    assert line.group(6).startswith("outside") == (high < 0.8 or low >= 1.25)
    assert "rate to rate (Python loops at n = 32" in text


def _near(end: float, marks) -> str:
    """A range's end as the tutorial prints it: beside the mark nearest it (``verdicts.beside``)."""
    return verdicts.beside(end, min(marks, key=lambda mark: abs(mark - end)))


def _span(low: float, high: float, marks) -> str:
    return f"{_near(low, marks)}…{_near(high, marks)}×"


def _percent(share: float) -> float:
    """A share as printed, a whole percent (inf stays inf)."""
    return share if share == math.inf else float(f"{share:.0%}"[:-1]) / 100


def _cell_functions(start: str, end: str, **scope) -> dict:
    """The functions the tutorial's cell defines between ``start`` and ``end``, run with ``scope``."""
    source = tutorials.find("the-speed-ladder").read_text()
    base = {"math": math, "np": np, "verdicts": verdicts}
    scope = {**base, **scope}
    exec(source[source.index(start):source.index(end)], scope)
    return scope


def _entry(rng, calm_share=0.3):
    """A drawn pair: (its ratio as printed, watch's figures, the disturbance, its pairs' spread)."""
    ratio = round(float(rng.uniform(0.3, 4)), 2)
    others, speed = (0.0, 1.0) if rng.random() < calm_share else (float(rng.choice([0.0, 0.1, 0.5, 1.5])),
                                                                  float(rng.choice([0.6, 0.8, 0.9, 1.0])))
    return ratio, {"others": others, "speed": speed}, verdicts.cause(others, speed), float(rng.choice([0.0, 0.01, 0.05, 0.2]))


def _place(entry, marks):
    rate, seen, _, noise = entry
    return verdicts.place(rate, marks, seen["others"], seen["speed"], noise)


@pytest.mark.parametrize("count", counts(3000))
def test_each_share_wording_follows_the_two_ranges(count):
    """3,000 seeded pairs of pairs (and the reader's: the sizes' 3.01× on a core at 63 %, padding's 2.72× at 92 %):
    the stride's share is 'not settled' exactly when a range spans its mark (the gap 1.1×, padding 1×) or is
    unbounded; otherwise the words follow the ranges, and 'at least' is padding's lowest gain over the highest gap."""
    share = _cell_functions("def placed(", "def verdict(", size=512)["share"]
    rng = np.random.default_rng(5)
    reader = ((3.01, {"others": 0.01, "speed": 0.63}, "slow", 0.0), (2.72, {"others": 0.0, "speed": 0.92}, "", 0.0))
    for sizes, padded in [reader] + [(_entry(rng), _entry(rng)) for _ in range(count)]:
        said = share(sizes, padded)
        (gap_at, (_, gap_high)), (gain_at, (gain_low, _)) = _place(sizes, (1.1,)), _place(padded, (1.0,))
        assert said.startswith("the stride's share of the size gap is not settled") == (gap_at is None or gain_at is None)
        assert said.startswith("no gap for the stride") == (gap_at == 0 and gain_at is not None)
        assert said.startswith("the gap is not the stride's") == (gap_at == 1 and gain_at == 0)
        settled = gap_at == 1 and gain_at == 1
        least = math.log(gain_low) / math.log(gap_high) if settled else None
        assert ("accounts for all of that gap" in said) == (settled and least >= 1)
        if "at least" in said:
            assert abs(int(re.search(r"at least (\d+)% from their ranges", said).group(1)) - 100 * least) <= 0.5
        assert all(len(line) <= tutorials.WIDTH for line in tutorials.fit(said).split("\n"))
    said = share(*reader)
    assert "at least 64% from their ranges" in said and "(1.90…4.78×, disturbed)" in said   # reader 16: log 2.72 / log 4.78


@pytest.mark.parametrize("count", counts(2000))
def test_step_4s_verdict_follows_each_pairs_range_and_takes_step_3s_re_timing_where_it_settles(count):
    """2,000 seeded sets of four pairs (and of Step 3's re-timing of ijk ÷ NumPy), each calm, slowed or with others
    busy, with a drawn spread: the verdict names exactly the disturbed pairs; each conclusion is drawn only where its
    pair's range (``verdicts.place``) lies wholly on one side of its mark; the swap uses Step 3's re-timing exactly
    when its own pair leaves it open and Step 3's settles; 'run it again' exactly when something is left open; every
    line fits 118 characters once wrapped. (The reader's run: swap disturbed at 63 %, Step 3's 0.75× calm.)"""
    cell = _cell_functions("MARKS = {", "step_3 = retimed", size=512, n=512)
    verdict = cell["verdict"]
    rng = np.random.default_rng(15)
    calm = lambda rate, speed=0.98, noise=0.02: (rate, {"others": 0.0, "speed": speed}, verdicts.cause(0.0, speed), noise)
    reader = ({"padded": calm(2.72, 0.92), "sizes": calm(3.01, 0.63), "swap": calm(0.73, 0.63), "away": calm(1.93)},
              calm(0.75))
    cases = [reader] + [({key: _entry(rng) for key in ("padded", "sizes", "swap", "away")},
                         _entry(rng) if rng.random() < 0.7 else None) for _ in range(count)]
    for again, earlier in cases:
        said = verdict(again, earlier)
        at = {key: _place(entry, cell["MARKS"][key]) for key, entry in again.items()}
        assert all(len(line) <= tutorials.WIDTH for line in tutorials.fit(said).split("\n"))
        head, body = said.split(":\n  ", 1)
        lines = body.split(";\n  ")
        assert len(lines) == 3
        for key, line in (("padded", lines[0]), ("swap", lines[1]), ("away", lines[1])):   # reader 18 c1: each range
            rate, _, why, _ = again[key]                                                 # a verdict reads, printed
            figures = f"{cell['PAIRS'][key]}, {rate:.2f}× ({verdicts.span(*at[key][1], cell['MARKS'][key])}" + (
                ", disturbed" * bool(why))
            assert figures + ")" in line and line.startswith(cell["PAIRS"]["padded" if key == "padded" else "swap"])
        assert lines[2].startswith(("n = 500's", "the stride's share", "no gap", "the gap is not"))
        conflict = at["padded"][0]
        assert ("the price of a power-of-two row" in said) == (conflict == 1)
        assert ("no price of the power-of-two row visible" in said) == (conflict == 0)
        assert ("not settled whether a power-of-two row has a price" in said) == (conflict is None)
        from_step_3 = at["swap"][0] is None and earlier is not None and _place(earlier, (1.0,))[0] is not None
        assert ("by Step 3's re-timing of the same pair" in said) == from_step_3
        beats = _place(earlier, (1.0,))[0] if from_step_3 else at["swap"][0]
        beats_smaller = at["away"][0]
        assert ("swap between the sizes" in said) == (beats is None or beats_smaller is None)
        assert ("Step 3's swap of the two fits that price" in said) == (conflict == 1 and beats == 0 and beats_smaller == 1)
        assert ("fits that price" in said) == ("whether its own rate moves between the two sizes is not measured" in said)
        assert ("beats NumPy's rung at n = 512" in said) == (beats == 1 and beats_smaller is not None)
        assert ("not settled in this run" in head) == ("not settled" in body)
        assert ("a pair marked disturbed by its slowed core too" in head) == (", disturbed" in body)
        assert any(why for _, _, why, _ in again.values()) <= (", disturbed" in body)
        if "by Step 3's re-timing" in said:
            step_3 = f"{earlier[0]:.2f}×, {verdicts.span(*_place(earlier, (1.0,))[1], (1.0,))}" + ", disturbed" * bool(earlier[2])
            assert f"by Step 3's re-timing of the same pair, {step_3}; this step's left it open" in said
    said = verdict(*reader)
    assert "loses to NumPy's rung at n = 512 (by Step 3's re-timing of the same pair, 0.75×" in said
    assert "Step 3's swap of the two fits that price" in said and "at least" in said


OUTCOMES = ("far below the probe (", "near the probe", "not far below", "not settled in this run")


def _against_probe() -> dict:
    """The last cell's functions that read the loops against the scalar probe, with those they call (its moments')."""
    return _cell_functions("\ndef stood(", "\ndef scalar_best(", **_disassembly())


@pytest.mark.parametrize("count", counts(3000))
def test_the_instruction_verdict_names_the_tables_fastest_and_reads_a_disturbed_rate_only_as_its_bound(count):
    """3,000 seeded tables of five rates, some disturbed, some timed a second time (and reader 17's: ijk at n = 500
    2.51 on a core at 62 %, ikj 3.22 undisturbed, the probe 7.4; reader 35 c2's: ikj 3.40 in the table, 2.62 in its
    pairs): the loop named the fastest in the table is the fastest the table prints; a second timing that agrees within
    the slower's moment (``within_moment``) lets the faster stand, one that does not makes the table's figure count
    only down to the lower of the two (and the fastest floor is named where it differs); a disturbed rate whose bound
    (rate ÷ share; none with others busy) tops every timing is named as a bound; 'far below' only when every top and
    bound is at most half the probe, 'near' only when the fastest floor is 80 % of it or more, 'not far below' when
    both lie between, else not settled; lines ≤ 118 once wrapped."""
    cell = _against_probe()
    against_probe, within = cell["against_probe"], cell["within_moment"]
    labels = ["ijk, n = 500", "ijk, n = 512", "ijk, n = 520", "ijk, n = 512, rows 520 apart", "ikj, n = 512"]
    reader = ({k: r for k, r in zip(labels, (2.51, 0.91, 2.59, 2.54, 3.22))}, dict.fromkeys(labels, 1.0) | {
        labels[0]: 0.62}, {labels[0]}, 7.4, {}, 0.0)
    rng = np.random.default_rng(17)
    cases = [reader]
    for _ in range(count):   # rates from a tenth of the probe to above it: every band and edge drawn
        scalar, top = round(float(rng.uniform(3, 9)), 1), float(rng.uniform(0.1, 1.1))
        walks = {k: round(scalar * top * float(rng.uniform(0.5, 1)), 2) for k in labels}
        seconds = {k: (round(walks[k] * float(rng.uniform(0.6, 1.2)), 2), "its pairs", float(rng.choice([0.0, 0.9, 1.0])))
                   for k in labels if rng.random() < 0.3}
        cases.append((walks, {k: round(float(rng.uniform(0.5, 1)), 2) if rng.random() < 0.9 else 0.0 for k in labels},
                      {k for k in labels if rng.random() < 0.3} | {"reference BLAS"}, scalar,   # an earlier step's
                      seconds, float(rng.choice([0.0, 0.01, 0.05]))))
    outcomes = dict.fromkeys(OUTCOMES, 0)
    for walks, held, shaky, scalar, seconds, noise in cases:
        said = against_probe(walks, held, shaky, scalar, seconds, noise)
        flat = unwrap(said)
        named = re.search(r"the fastest loop in the table: (.+?), (\d+\.\d\d) GFLOP/s \((\d+)% of the probe\)", flat)
        assert float(named.group(2)) == round(max(walks.values()), 2) == round(walks[named.group(1)], 2)
        floors, tops = {}, {}
        for k, rate in walks.items():   # each loop as far as the run stands behind it
            timings = [round(rate, 2)] + ([round(seconds[k][0], 2)] if k in seconds else [])
            agree = k not in seconds or within(((rate, "", held[k]), seconds[k]), noise)
            floors[k], tops[k] = (max(timings) if agree else min(timings)), max(timings)
        fastest = max(floors, key=lambda k: (floors[k], k == named.group(1)))
        ceilings = {k: walks[k] / held[k] if held[k] else math.inf for k in shaky & walks.keys()}   # 0: others busy
        high = max([max(tops.values())] + list(ceilings.values())) / scalar
        low = floors[fastest] / scalar
        shown_low, shown_high = _percent(low), _percent(high)   # a verdict reads its figures as printed
        stands = re.search(r"the fastest this run stands behind: (.+?), (\d+\.\d\d) GFLOP/s", flat)
        assert bool(stands) == ((fastest, floors[fastest]) != (named.group(1), round(walks[named.group(1)], 2)))
        if stands:
            assert stands.groups() == (fastest, f"{floors[fastest]:.2f}")
        if named.group(1) in seconds:   # c2: a second timing of the table's fastest is named beside it
            assert f"and {seconds[named.group(1)][0]:.2f} (" in flat
            assert ("does not bear out" in flat) == (floors[named.group(1)] < tops[named.group(1)])
        higher = re.search(r"may stand higher: (.+?), at most (\d+\.\d\d) ÷ (\d+\.\d\d) .*?= (\d+\.\d)", flat)
        unbounded = re.search(r"may stand higher: (.+?), with other processes busy around it, which bounds nothing", flat)
        assert bool(unbounded) == (high == math.inf)
        assert bool(higher) == (max(tops.values()) / scalar < high < math.inf)
        for said_top in filter(None, (higher, unbounded)):
            top = said_top.group(1).removesuffix(" itself")   # the fastest itself, when it may stand higher
            assert top in shaky and said_top.group(1).endswith(" itself") == (top == fastest)
            assert held[top] == 0 if said_top is unbounded else abs(float(higher.group(4)) - high * scalar) <= 0.051
        assert ("far below the probe" in flat) == (shown_high <= 0.5)
        # reader 20 b3: the probe is register-only; far below it leaves an instruction-count limit (loads, stores) open
        assert ("does not rule out the instruction set" in flat) == (shown_high <= 0.5) and "not what limits" not in flat
        assert ("near the probe" in flat) == (shown_low >= 0.8 and shown_high > 0.5)
        assert ("not far below" in flat) == (0.5 < shown_low and shown_high < 0.8)
        assert ("not settled in this run" in flat) == (shown_low < 0.8 and shown_high > 0.5 and not (
            0.5 < shown_low and shown_high < 0.8))
        assert "far below: at most 50% of it; near: 80% or more" in flat
        assert all(len(line) <= tutorials.WIDTH for line in tutorials.fit(said).split("\n"))
        outcomes[next(key for key in OUTCOMES if key in flat)] += 1
    assert count == SAMPLE or min(outcomes.values()) >= 50, outcomes   # every outcome drawn (the full count)
    said = unwrap(against_probe(*reader))
    assert "the fastest loop in the table: ikj, n = 512, 3.22 GFLOP/s (44% of the probe)" in said
    assert "ijk, n = 500, at most 2.51 ÷ 0.62" in said and "= 4.0 (55% of the probe)" in said
    assert "not settled in this run" in said


@pytest.mark.parametrize("sweep_best, runs", [(7.7, [11.3, 10.9]), (11.3, [10.2, 7.0]), (8.55, [8.5, 8.54])])
def test_the_scalar_probe_is_its_best_over_chain_counts_and_runs_and_says_which(sweep_best, runs, monkeypatch):
    """Reader 35 c3: tutorial 7's scalar probe, 7.7 GFLOP/s, was tutorial 6's 8-chain figure, 68 % of its best 11.3.
    It is now taken as tutorial 6 takes it — the best of 3 sweeps over the chain counts and more runs at the sweeps'
    best count — and its line says which run gave it (a run only where it prints higher than the sweeps' best)."""
    from nnkit.bench import peak
    sweep = {1: 1.0, 2: 2.0, 4: 2.8, 8: 4.4, 12: sweep_best, 14: sweep_best - 0.5}
    asked = []
    monkeypatch.setattr(peak, "chain_sweep", lambda kernel, rounds: asked.append((kernel, rounds)) or sweep)
    monkeypatch.setattr(peak, "alternate", lambda kernels, rounds, times, repeats: asked.append(
        (kernels, rounds, times, repeats)) or {kernels[0]: runs[:times]})
    best, said = _cell_functions("def scalar_best(", "\nAGAIN = {", peak=peak)["scalar_best"](10_000_000, 2)
    assert best == max(sweep_best, *runs) and asked == [("scalar", 10_000_000), ([("scalar", 12)], 10_000_000, 2, 2)]
    assert said.startswith("the best of all its runs — 3 sweeps over 1–14 chains and 2 runs at 12, its best count")
    from_run = round(max(runs), 1) > round(sweep_best, 1)
    assert said.endswith(f"a run at 12 chains (the sweeps' best: {sweep_best:.1f})" if from_run else "the sweeps, at 12 chains")


def test_the_probe_reads_the_fastest_loop_only_as_far_as_its_second_timing_bears_it_out():
    """Reader 35 c2: ikj at n = 512 ran 3.40 GFLOP/s in the table and 2.62 in its pairs with the reference BLAS — 30 %
    apart, beyond what the slower's moment allows — yet 3.40 was named 'the fastest loop' and set the 'for scale'
    5.9×. The table's figure now counts only down to the lower timing; the fastest the run stands behind is the padded
    ikj's 2.66; the 'for scale' line sets the pairs' quotient beside the table's."""
    labels = ["ijk, n = 500", "ijk, n = 512", "ijk, n = 520", "ijk, n = 512, rows 520 apart", "ikj, n = 512",
              "ikj, n = 512, rows 520 apart"]
    walks = dict(zip(labels, (2.02, 0.58, 2.02, 1.79, 3.40, 2.66)))
    held = dict.fromkeys(labels, 0.95)
    seconds = {"ikj, n = 512": (2.62, "its pairs with the reference BLAS", 0.93), "ijk, n = 512": (0.55, "Step 2's table", 0.98)}
    cell = _cell_functions("\ndef stood(", "\ndef scalar_best(", **_disassembly(), held=held, smaller="ijk, n = 500",
                           plain="ijk, n = 512", mark=lambda *names: "")
    said = unwrap(tutorials.fit(cell["against_probe"](walks, held, set(), 11.3, seconds, 0.01)))
    assert "the fastest loop in the table: ikj, n = 512, 3.40 GFLOP/s (30% of the probe), and 2.62 (23% of the probe)" in said
    assert "does not bear out" in said and "the fastest this run stands behind: ikj, n = 512, rows 520 apart, 2.66" in said
    assert "far below the probe" in said
    scale = unwrap(tutorials.fit(cell["scale_said"](walks, seconds, 0.01)))
    assert "5.9× from the table — ikj's 3.40 there is one timing that its 2.62 in its pairs with the reference BLAS" in scale
    assert scale.endswith("with that one, 4.5×")
    agreeing = {"ikj, n = 512": (3.30, "its pairs with the reference BLAS", 0.97)}
    assert cell["scale_said"](walks, agreeing, 0.01).endswith("5.9× from the table")
    assert "agree within what the slower one's moment allows" in cell["against_probe"](walks, held, set(), 11.3, agreeing, 0.01)


def _drawn_pairs(rng, count: int, top: float) -> list:
    """``count`` seeded (ratio, others' cores, the core's speed, the pairs' spread): calm, slowed, busy, noisy."""
    return [(round(float(rng.uniform(0.3, top)), 2), float(rng.choice([0.0, 0.1, 0.5])),
             float(rng.choice([0.6, 0.8, 0.9, 1.0])), float(rng.choice([0.0, 0.02, 0.1]))) for _ in range(count)]


@pytest.mark.parametrize("count", counts(2000))
def test_what_the_loop_order_alone_is_worth_follows_its_range(count):
    """Reader 24 b1: 'ikj … shows what the loop order is worth' read a table ratio at n = 512 that carries ijk's 4 KiB
    stride. ikj is timed beside ijk, both on padded rows (reader 25: ikj's rows of B and C could alias at 512 too), and
    the ratio is placed by its range against 0.8–1.25×: 'less than 1.25×' only inside that band, with the side of 1
    its range lies on; 'more' only outside it, each way named; else not settled."""
    cell = _cell_functions("def placed(", "\n\ndef share(")
    cell.update(_cell_functions("def order_worth(", "\n\nstep_3 = ", placed=cell["placed"], size=512,
                                MARKS={"order": (0.8, 1.25)}, PAIRS={"order": "ikj ÷ ijk"}))
    for ratio, others, speed, noise in [(1.0, 0.0, 1.0, 0.02), (2.5, 0.0, 0.9, 0.02)] + _drawn_pairs(
            np.random.default_rng(24), count, 3.0):
        entry = (ratio, {"others": others, "speed": speed}, verdicts.cause(others, speed), noise)
        said = unwrap(cell["order_worth"](entry))
        region, (low, high) = verdicts.place(ratio, (0.8, 1.25), others, speed, noise)
        assert ("by less than 1.25×" in said) == (region == 1) and ("ikj runs more than 1.25×" in said) == (region == 2)
        assert ("ijk runs more than 1.25×" in said) == (region == 0) and ("not settled" in said) == (region is None)
        way = re.search(r"less than 1\.25× \((.+?)\)", said)   # reader 25 c: a range wholly below 1 says so
        assert way is None or way.group(1) == ("ikj the slower" if high < 1 else "ikj the faster" if low > 1 else "either way")
        assert (", disturbed)" in said) == bool(verdicts.cause(others, speed))
        assert ("which bounds nothing" in said) == (high == math.inf) and ("its range spans" in said) == (
            region is None and high < math.inf)
        assert all(len(line) <= tutorials.WIDTH for line in tutorials.fit(cell["order_worth"](entry)).split("\n"))


@pytest.mark.parametrize("count", counts(2000))
def test_what_the_walk_down_b_costs_follows_its_range(count):
    """Reader 23 b2: the serial-sum verdict matched a rate inside a ±25 % band and left the walk down B's columns
    open. The same loop on 8 columns of B (a walk of one line after the next) is timed beside ijk: its ratio is
    placed by its range against 0.8–1.25×, and only inside that band is the walk 'not what holds' the loop."""
    walk_cost = _cell_functions("def banded(", "def sum_bound(")["walk_cost"]
    for ratio, others, speed, noise in [(1.0, 0.0, 1.0, 0.0), (1.3, 0.0, 1.0, 0.02)] + _drawn_pairs(
            np.random.default_rng(23), count, 2.5):
        region, said = walk_cost(ratio, others, speed, noise)
        placed, (low, high) = verdicts.place(ratio, (0.8, 1.25), others, speed, noise)
        assert region == placed
        assert ("is not what holds ijk" in said) == (region == 1) and ("costs ijk time" in said) == (region == 2)
        assert said.startswith("below") == (region == 0) and said.startswith("not settled") == (region is None)
        assert high == math.inf or f"({_span(low, high, (0.8, 1.25))}, its {noise:.0%} noise" in said
        assert all(len(line) <= tutorials.WIDTH for line in tutorials.fit("  → " + said).split("\n"))


@pytest.mark.parametrize("count", counts(2000))
def test_what_bounds_the_ijk_loop_is_said_only_when_the_pairs_range_falls_in_one_band(count):
    """2,000 seeded ratios of ijk's rate to twice one add chain's, with the pairs calm, on a slowed core, or with
    others busy, and a drawn spread, beside each verdict the walk down B can get: 'the add's latency … is what
    bounds' only where the whole range (``verdicts.place``) lies inside 0.8–1.25× AND the walk was ruled out (reader
    23 b2: matched is not isolated); inside the band otherwise both fit, by name; 'below' and 'above' likewise
    outside; otherwise not settled, with the range printed; every line within 118 characters once wrapped."""
    sum_bound = _cell_functions("def banded(", "def latency(", m=500)["sum_bound"]
    rng = np.random.default_rng(7)
    for ratio, others, speed, noise in [(1.0, 0.0, 1.0, 0.0), (1.0, 1.6, 0.98, 0.02), (0.9, 0.01, 0.98, 0.03)] + (
            _drawn_pairs(rng, count, 2.5)):
        for walked in (1, 2, 0, None):
            said = sum_bound(ratio, others, speed, noise, walked)
            region, (low, high) = verdicts.place(ratio, (0.8, 1.25), others, speed, noise)
            assert ("is what bounds" in said) == (region == 1 and walked == 1)
            assert ("which one bounds the loop this run does not isolate" in said) == (region == 1 and walked != 1)
            assert region != 0 or ("the walk down B was ruled out above" in said) == (walked == 1) != (   # reader 27 a1
                "the walk down a column of B" in said)
            assert said.startswith("below") == (region == 0) and said.startswith("above") == (region == 2)
            assert said.startswith("not settled") == (region is None)
            assert high == float("inf") or f"({_span(low, high, (0.8, 1.25))}, its {noise:.0%} noise" in said
            assert all(len(line) <= tutorials.WIDTH for line in tutorials.fit("  → " + said).split("\n"))


@pytest.mark.parametrize("count", counts(3000))
def test_the_add_against_multiply_chain_verdict_follows_its_range(count):
    """Reader 18 a3: 2.0× on a core at 69 % refused outright; it is placed by its range (the rounds' median ratio,
    bounded by the core's speed, widened by the rounds' spread) against 0.8–1.25×, and the range is printed."""
    latency = _cell_functions("def latency(", "print(fit(f\"one chain of", fit=tutorials.fit)["latency"]
    rng = np.random.default_rng(11)
    cases = [(2.0, 0.0, 0.69, 0.05), (1.0, 0.0, 1.0, 0.0), (0.5, 0.0, 1.0, 0.1), (1.3, 2.0, 1.0, 0.0)] + [
        (round(float(rng.uniform(0.3, 3)), 2), float(rng.choice([0.0, 0.1, 0.5])),
         float(rng.choice([0.6, 0.7, 0.9, 1.0])), float(rng.choice([0.0, 0.02, 0.1, 0.3]))) for _ in range(count)]
    seen = set()
    for ratio, others, speed, noise in cases:
        said = latency(ratio, others, speed, noise)
        region, (low, high) = verdicts.place(ratio, (0.8, 1.25), others, speed, noise)
        seen.add(region if high < math.inf else "busy")
        assert said.startswith("above 1.25×") == (region == 2) == ("shorter than a multiply's" in said)
        assert said.startswith("within 0.8–1.25×") == (region == 1) == ("about a multiply's" in said)
        assert said.startswith("below 0.8×") == (region == 0) == ("longer than a multiply's" in said)
        assert said.startswith("not settled") == (region is None)
        if high < math.inf:
            assert f"its range {_span(low, high, (0.8, 1.25))}" in said and f"the rounds' {noise:.0%} spread" in said
            assert ("slowed core" in said) == bool(verdicts.cause(others, speed))
            if region in (0, 2):
                assert f"{1 / high:.0%}…{1 / low:.0%} of it" in said
        assert all(len(line) <= tutorials.WIDTH for line in tutorials.fit("  → " + said).split("\n"))
    assert count == SAMPLE or seen == {0, 1, 2, None, "busy"}   # every outcome drawn (the full count)
    assert latency(2.0, 0.0, 0.69, 0.05).startswith("above 1.25×")   # the reader's run: 1.31…3.04× settles


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
    sums = [body for body in _disassembly()["inner_loops"](rung)
            if any(op.startswith("mulsd") for op in body) and any(re.match(r"addsd +%xmm\d+,%xmm\d+$", op) for op in body)]
    assert len(sums) == 1, sums
    adds = [op for op in sums[0] if op.startswith(("addsd", "addpd", "vaddsd", "vaddpd"))]
    assert len(adds) == 1 and sum(op.startswith("mulsd") for op in sums[0]) == 1, sums[0]
    source, target = re.match(r"addsd +(%xmm\d+),(%xmm\d+)$", adds[0]).groups()
    assert source != target and not any(op.startswith("movsd") and op.endswith(")") and target in op for op in sums[0])


RUNGS = ["Python loops", "C, textbook loop (ijk)", "nnkit's dgemm, 1 thread", "OpenBLAS, 1 thread", "OpenBLAS, 2 threads"]


def _peak_cases(rng, count):
    """Reader 20's Step 1 and 2 (a 1-core probe of 58.6 below two undisturbed 1-thread rates, the 2-core probe 98.9
    flagged UNSTEADY), then ``count`` seeded ones: probes steady or not, rates from half to 1.4× the probe's
    figure, some disturbed — (1-core probe, 2-core probe, rates, shaky)."""
    cases = [(58.6, 98.9, dict(zip(RUNGS, (0.034, 0.796, 69.963, 61.870, 90.058))), set())]
    for _ in range(count):
        one = round(float(rng.uniform(20, 100)), 1)
        rates = {k: round(one * float(rng.uniform(0.5, 1.4)) * (2 if k.endswith("2 threads") else 1), 3) for k in RUNGS}
        cases.append((one, round(one * 2 * float(rng.uniform(0.5, 1.3)), 1), rates | {RUNGS[0]: 0.03, RUNGS[1]: 0.8},
                      {k for k in RUNGS if rng.random() < 0.3}))
    return cases


@pytest.mark.parametrize("count", counts(3000))
def test_a_peak_below_an_undisturbed_rate_is_named_slowed_and_no_share_passes_its_peak(count):
    """Reader 20 a2 and c4, 3,000 seeded runs of Step 1 and 2 (and the reader's): a peak is only ever slowed, so an
    undisturbed rate above it stands in as a lower bound and a line names what set it (2 × the 1-core bound where
    that lifts the 2-core peak; the 2-core probe ÷ 2 where it stands above the 1-core one, reader 24 a1); every share
    then is "at most", no printed share exceeds 100 %, a rate above its
    peak or disturbed against a slowed peak is "not settled", and the figure's legend marks a slowed peak so."""
    cell = _cell_functions("on_all = lambda", "peak_one, peak_all, slowed, said = bound_peaks(", fit=tutorials.fit)
    bound_peaks, on_all = cell["bound_peaks"], cell["on_all"]
    share_said = _cell_functions("def share_said(", "\nfor name, rate in results.items():")["share_said"]
    outcomes = {"steady": 0, "1-core slowed": 0, "1-core by the 2-core probe": 0, "2-core by a rate": 0, "2-core by scale": 0}
    for one, measured_all, rates, shaky in _peak_cases(np.random.default_rng(20), count):
        probes = dict(zip((False, True), verdicts.steady_peaks(one, measured_all, 2)))
        peak_one, peak_all, slowed, said = bound_peaks(probes[False], probes[True], measured_all, rates, shaky, 2)
        peaks, flat = {False: peak_one, True: peak_all}, unwrap(said)
        assert peak_one >= measured_all / 2   # one core runs the probe at least as fast as each of two
        for level in (False, True):
            assert peaks[level] >= probes[level] and bool(slowed[level]) == (peaks[level] > probes[level])
            assert bool(slowed[level]) == (f"({probes[level]:.1f}): " in flat and
                                           f"shares of it below divide by {peaks[level]:.1f}" in flat)
        for name, rate in rates.items():
            level = on_all(name)
            assert name in shaky or rate <= peaks[level]
            words = share_said(rate / peaks[level], name in shaky, bool(slowed[level]))
            shown = re.search(r"([\d.]+)% of the peak", words)
            assert shown is None or float(shown.group(1)) < 100 or rate >= peaks[level]   # no 99.6 % shown as 100
            assert shown is None or abs(float(shown.group(1)) / (100 * rate / peaks[level]) - 1) < 0.05
            assert shown is None or 99.5 <= float(shown.group(1)) < 100 or len(   # 2 digits (3 on a carry); more by 100
                shown.group(1).replace(".", "").lstrip("0")) <= 3
            assert words.startswith("at most") == (bool(slowed[level]) and name not in shaky)
            assert words.startswith("at least") == (not slowed[level] and name in shaky and rate <= peaks[level])
            assert ("not settled" in words) == (rate > peaks[level] or (name in shaky and bool(slowed[level])))
        legend = _cell_functions("def peak_label(", "\nfrom nnkit.bench.timing import paired", peak_one=peak_one,
                                 peak_all=peak_all,
                                 slowed=slowed, one_core={"gflops": one}, all_cores={"gflops": measured_all})["peak_label"]
        for level in (False, True):
            label = legend(level)
            assert ("slowed: a lower bound" in label) == bool(slowed[level]) and f"{peaks[level]:.1f} GFLOP/s" in label
            assert ("(measured)" in label) == (not slowed[level] and peaks[level] == (measured_all if level else one))
        assert all(len(line) <= 118 for line in said.split("\n"))
        outcomes["1-core slowed" if slowed[False] else "steady"] += 1
        outcomes["1-core by the 2-core probe"] += slowed[False] == "the 2-core probe ÷ 2"
        if slowed[True]:
            outcomes["2-core by scale" if slowed[True].startswith("2 ×") else "2-core by a rate"] += 1
    assert count == SAMPLE or min(outcomes.values()) >= 50, outcomes   # every outcome drawn (the full count)
    reader24 = dict(zip(RUNGS, (0.031, 0.796, 57.509, 51.331, 90.861)))   # reader 24 a1: 80.5 on one core, 170.1 on 2
    one, every, slowed, said = bound_peaks(80.5, 170.1, 170.1, reader24, set(), 2)
    assert (one, slowed[False], slowed[True]) == (85.05, "the 2-core probe ÷ 2", None)
    assert "the 2-core probe ÷ 2 is 85.0 GFLOP/s, above the 1-core peak so far (80.5)" in unwrap(said)
    assert share_said(57.509 / one, False, True) == "at most 68% of the peak"
    peak_one, peak_all, slowed, said = bound_peaks(58.6, 2 * 58.6, 98.9, _peak_cases(None, 0)[0][2], set(), 2)
    assert (peak_one, slowed[False], slowed[True]) == (69.963, "nnkit's dgemm, 1 thread", "2 × the 1-core bound")
    assert "nnkit's dgemm, 1 thread ran 70.0 GFLOP/s undisturbed, above the 1-core peak so far (58.6)" in unwrap(said)
    assert share_said(90.058 / peak_all, False, True) == "at most 64% of the peak"


def test_the_readers_re_timing_inside_the_tie_band_is_an_order_that_held_not_noise():
    """Reader 20 c1: 0.97× from pairs that strayed 1 % (0.96…0.98×, wholly below 1) held the order by a few percent;
    only the declared 0.95 band makes it a tie — no flip, no noise."""
    said = verdicts.order(0.97, 0.01, 1.0, 0.01)
    assert said.startswith("the order held, by 2%…4% (0.97, widened by the pairs' 1% spread, = 0.96…0.98×)")
    assert "inside the 0.95 tie band" in said and "flip" not in said and "noise" not in said


def test_on_a_calm_machine_no_table_share_passes_its_peak_nor_is_called_implausible_against_a_slowed_one(calm):
    """Whatever this run's rates: each printed share is at most 100 % or not settled, and an IMPLAUSIBLE line
    against "the measured peak" is printed only for a peak not found slowed."""
    ns, text = calm
    shares = re.findall(r"^\S.*? n=\d+ +[\d.]+ GFLOP/s  (.*)$", text, re.M)
    assert len(shares) == len(ns["results"])
    for words in shares:
        shown = re.search(r"([\d.]+)% of the peak", words)
        assert (shown and float(shown.group(1)) <= 100) or "not settled" in words
    for name in re.findall(r"^IMPLAUSIBLE: (.+?)  \(ABOVE", text, re.M):
        assert not ns["slowed"][ns["on_all"](name)]


def _near_marks(rng, marks, count):
    """``count`` seeded (ratio, others, speed, noise) whose ratio — or its range's end — lies a hair from a mark:
    where a verdict decided from hidden digits would print a range that reads as the mark itself."""
    cases = []
    for _ in range(count):
        mark, noise = float(rng.choice(marks)), float(rng.choice([0.0, 0.0, 1e-4, 0.003, 0.02]))
        hair = float(rng.choice([1, -1])) * float(rng.choice([1e-5, 1e-4, 2e-3, 4e-3]))
        speed = float(rng.choice([1.0, 1.0, 0.84]))
        ratio = mark * (1 + hair) * (1 + noise) ** float(rng.choice([1, -1, 0]))
        cases.append((ratio, float(rng.choice([0.0, 0.0, 0.1])), speed, noise))
    return cases


def _printed_side(said: str, marks) -> int | None:
    """The region (``verdicts.place``'s numbering against ``marks``) that the first printed range 'a…b×' lies in,
    read from its printed figures; None when its printed ends lie on two sides of a mark."""
    import bisect
    low, high = (float(x) for x in re.search(r"(\d+\.\d+)…(\d+\.\d+)×", said).groups())
    regions = {bisect.bisect_right(marks, low), bisect.bisect_right(marks, high)}
    return regions.pop() if len(regions) == 1 else None


@pytest.mark.parametrize("count", counts(3000))
def test_every_verdict_against_a_mark_agrees_with_its_range_as_printed(count):
    """Reader 28 a7: 'ijk at n = 500 ÷ NumPy, 0.95× (0.95…0.95×) … loses' was decided from digits the line does not
    print. The class, over every verdict of tutorial 7 that reads a range against a mark: ratios a hair from each mark
    (seeded), and wherever a verdict settles a side, its range as printed lies wholly on that side; wherever it does
    not, the printed ends lie on two sides of a mark. ``verdicts.order`` (Step 3's lines) is swept with them."""
    walk = _cell_functions("def banded(", "def sum_bound(")
    sums = _cell_functions("def banded(", "def latency(", m=500)
    latency = _cell_functions("def latency(", "print(fit(f\"one chain of", fit=tutorials.fit)["latency"]
    cores_added = _cores_added()
    cell = _cell_functions("MARKS = {", "step_3 = retimed", size=512, n=512)
    band = (0.8, 1.25)
    checks = {   # name → (marks, the verdict's words for a drawn case, the marks its printed range is read against)
        "the walk down B": (band, lambda r, o, s, n: walk["walk_cost"](r, o, s, n)[1], band),
        "the serial sum": (band, lambda r, o, s, n: sums["sum_bound"](r, o, s, n, 1), band),
        "add against multiply": (band, lambda r, o, s, n: latency(r, o, s, n), band),
        "what the cores added": ((1.0,), lambda r, o, s, n: cores_added("all", "one", r, o, s, n, 8, 0.0, r), (1.0,)),
        "the loop order alone": (band, lambda r, o, s, n: cell["order_worth"](
            (r, {"others": o, "speed": s}, verdicts.cause(o, s), n)), (0.8, 1.0, 1.25)),
        "Step 3's order lines": ((0.95,), lambda r, o, s, n: verdicts.order(r, o, s, n or 1e-9), (0.95,)),
    }
    rng = np.random.default_rng(28)
    for name, (marks, said_for, printed_marks) in checks.items():
        for ratio, others, speed, noise in _near_marks(rng, printed_marks, count):
            region, (low, high) = verdicts.place(ratio, marks, others, speed, noise if name != "Step 3's order lines"
                                                 else noise or 1e-9)
            said = said_for(ratio, others, speed, noise)
            if high == math.inf:
                continue   # nothing printed to read: "which bounds nothing"
            if name == "what the cores added" and high > 8:
                continue   # its top capped at the cores
            side = _printed_side(said, marks)
            assert side == region, (name, ratio, others, speed, noise, said)
            if name == "the loop order alone" and region == 1:   # the side of 1 it names, as printed
                shown_low, shown_high = (float(x) for x in re.search(r"(\d+\.\d+)…(\d+\.\d+)×", said).groups())
                way = re.search(r"less than 1\.25× \((.+?)\)", said).group(1)
                assert way == ("ikj the slower" if shown_high < 1 else "ikj the faster" if shown_low > 1 else
                               "either way"), said
    for _ in range(count):   # Step 4's swap: both sizes' ranges against 1×, the price against 1.3×
        entries = {key: (r, {"others": o, "speed": s}, verdicts.cause(o, s), n) for key, (r, o, s, n) in zip(
            ("padded", "sizes", "swap", "away"), _near_marks(rng, (1.3, 1.1, 1.0, 1.0), 1) + _near_marks(
                rng, (1.1,), 1) + _near_marks(rng, (1.0,), 2))}
        said = unwrap(cell["verdict"](entries))
        for key in ("swap", "away", "padded"):
            region, (low, high) = _place(entries[key], cell["MARKS"][key])
            if high < math.inf:
                shown = said[said.index(cell["PAIRS"][key] + ","):]
                assert _printed_side(shown, cell["MARKS"][key]) == region, (key, entries[key], said)
        if "loses to NumPy's rung at n = 512 and at n = 500 too" in said:
            assert "(both ranges wholly below 1×)" in said
    assert "0.9502" in verdicts.span(0.9502, 0.9502, (0.95,)) and verdicts.span(0.84, 1.3, (0.8, 1.25)) == "0.84…1.30×"


def test_the_2_core_probe_stands_in_for_the_1_core_peak_only_beyond_the_probes_noise():
    """Reader 28 c4: 45.8 (the 2-core probe ÷ 2) against 45.6 switched every 1-thread share to 'at most'; within the
    probe's own noise (two bests of short runs, measured in Step 1) it stands, and a line says why."""
    bound_peaks = _cell_functions("on_all = lambda", "peak_one, peak_all, slowed, said = bound_peaks(",
                                  fit=tutorials.fit)["bound_peaks"]
    rates = dict(zip(RUNGS, (0.02, 0.57, 36.8, 32.0, 61.9)))
    one, _, slowed, said = bound_peaks(45.6, 91.6, 91.6, rates, set(), 2, 0.014)
    assert (one, slowed[False]) == (45.6, None) and "not read as a slowed 1-core probe" in unwrap(said)
    one, _, slowed, said = bound_peaks(45.6, 91.6, 91.6, rates, set(), 2, 0.002)
    assert (one, slowed[False]) == (45.8, "the 2-core probe ÷ 2") and "not read as" not in said
    rng = np.random.default_rng(4)
    for _ in range(300):
        probe, noise = float(rng.uniform(20, 90)), float(rng.choice([0.0, 0.005, 0.02, 0.1]))
        every = 2 * probe * float(rng.uniform(0.9, 1.1))
        one, _, slowed, said = bound_peaks(probe, every, every, {k: 0.01 for k in RUNGS}, set(), 2, noise)
        assert (slowed[False] == "the 2-core probe ÷ 2") == (every / 2 > probe * (1 + noise))
        assert ("not read as a slowed 1-core probe" in unwrap(said)) == (probe < every / 2 <= probe * (1 + noise))


@pytest.mark.parametrize("count", counts(2000))
def test_what_the_c_rung_carries_of_its_power_of_two_row_follows_the_padded_pairs_range(count):
    """Reader 29 c5: the ladder runs at n = 512, where a row is 4 KiB; Step 4's padded rows (the same loop on rows
    padded apart ÷ on plain ones) say what the C rung's rate carries of that: a price only where the whole range lies
    above 1×, none where it lies below, else not settled — and the line says which run's figure it reads."""
    cell = _cell_functions("def placed(", "\n\ndef share(")
    cell.update(_cell_functions("def c_rung_price(", "\n\nif n == size and C_RUNG", placed=cell["placed"],
                                size=512))
    for ratio, others, speed, noise in [(3.5, 0.0, 1.0, 0.03), (1.0, 0.0, 1.0, 0.0)] + _drawn_pairs(
            np.random.default_rng(29), count, 4.0):
        entry = (ratio, {"others": others, "speed": speed}, verdicts.cause(others, speed), noise)
        said = unwrap(cell["c_rung_price"](entry))
        region, _ = verdicts.place(ratio, (1.0,), others, speed, noise)
        assert said.startswith(f"the ladder's C rung (Step 2) ran at n = 512, rows 4 KiB apart: padded apart, the same "
                               f"loop ran {ratio:.2f}× (")
        assert ("carry that price of the size" in said) == (region == 1)
        assert ("no price of the size" in said) == (region == 0) and ("not settled" in said) == (region is None)
        assert (", disturbed)" in said) == bool(entry[2])
        assert all(len(line) <= tutorials.WIDTH for line in tutorials.fit(cell["c_rung_price"](entry)).split("\n"))


@pytest.mark.parametrize("n", [128, 500, 512, 1024])
@pytest.mark.parametrize("with_c_rung", [True, False])
def test_the_headline_says_when_the_rungs_ran_on_rows_of_whole_4_kib(n, with_c_rung):
    """Reader 29 c5: beside the bottom-to-top ratio, a line says that the rungs ran at a size whose rows are whole
    multiples of 4 KiB (the C rung's cache-set penalty, measured in Step 4) — and only then."""
    source = tutorials.find("the-speed-ladder").read_text()
    printed = []
    results = {"C, textbook loop (ijk)": 0.5} if with_c_rung else {}
    exec(source[source.index('C_RUNG = "'):source.index("\nfor name, earlier in slower:")],   # noqa: S102 — the cell's own lines
         {"n": n, "results": results, "fit": tutorials.fit, "print": printed.append})
    due = with_c_rung and n % 512 == 0
    assert len(printed) == due
    if due:
        flat = unwrap(printed[0])
        assert f"every rung but Python's ran at n = {n}, whose rows are {n * 8 // 1024} KiB" in flat
        assert "neither end of this ratio is the C rung" in flat


@pytest.mark.parametrize("found", [["numpy-openblas", "reference", "nnkit"], ["numpy-openblas", "nnkit"]])
def test_a_missing_reference_blas_rung_is_said_skipped_with_what_to_install(found):
    """Reader 29 c4: the intro lists the reference BLAS; where libblas3 is missing, one line says the rung was skipped,
    why, and what installs it — and the rung is in the ladder exactly when the library was found."""
    source = tutorials.find("the-speed-ladder").read_text()
    printed, rungs = [], {}
    libraries = [type("Library", (), {"name": name}) for name in found]
    exec(source[source.index('if any(l.name == "reference"'):source.index("rungs[\"nnkit's dgemm")],   # noqa: S102
         {"find_libraries": lambda: libraries, "rungs": rungs, "dgemm": None, "print": printed.append})
    assert ("reference BLAS" in rungs) == ("reference" in found)
    assert printed == ([] if "reference" in found else [
        "reference BLAS: skipped — Debian's libblas3 was not found (`sudo apt-get install libblas3` adds that rung)"])


def _disassembly(size: int = 512, **scope) -> dict:
    """The cell that reads the compiled loops and places the reference BLAS beside the ikj rung: its functions."""
    import subprocess

    return _cell_functions("ARITHMETIC = re.compile", "\nmoments = (", re=re, subprocess=subprocess, size=size,
                           fit=tutorials.fit, **scope)


@pytest.mark.parametrize("count", counts(2000))
def test_the_reference_blas_beside_ikj_follows_its_range_and_names_no_cause_it_did_not_read(count):
    """Reader 30 b2: 'plain loops too, in the ikj order' was offered as the reference rung's place while it ran 2× the
    ikj rung's rate, each timed at its own moment. Now a pair places the ratio against 0.8–1.25×: the words follow the
    range (``verdicts.place``), and a gap is tied to packed instructions only where the faster loop has more of them,
    always as a hypothesis; with the instructions unread, no cause is named."""
    tables = _cell_functions("def table_stray(", "ahead_of = {")
    cell, rng, seen = _disassembly(table_said=tables["table_said"]), np.random.default_rng(30), set()
    for _ in range(count):
        ratio, watched, _, noise = _entry(rng)
        packed = {name: (None if rng.random() < 0.2 else float(rng.choice([0.0, 0.5, 1.0])))
                  for name in ("reference BLAS", "ikj rung")}
        drawn, flagged = float(rng.uniform(0.3, 4)), bool(rng.random() < 0.3)   # reader 33 a2: the tables' ratio too
        table = (drawn, tables["table_stray"](ratio, drawn, flagged), flagged) if rng.random() < 0.5 else None
        said = unwrap(cell["reference_beside_ikj"](ratio, watched["others"], watched["speed"], noise, packed,
                                                                 None, table))
        widened = max(noise, table[1] if table else 0.0)
        region, (low, high) = verdicts.place(ratio, (0.8, 1.25), watched["others"], watched["speed"], widened)
        seen.add(region if high < math.inf else "busy")
        assert f"its {widened:.0%} noise" in said and (table is None or tables["table_said"](*table, "the tables'") in said)
        if table and not flagged and high < math.inf:   # the range it prints holds the tables' unflagged ratio
            shown = [float(x) for x in re.search(r"\((\d+\.\d+)…(\d+\.\d+)×", said).groups()]
            assert shown[0] <= round(drawn, 2) + 0.01 and round(drawn, 2) - 0.01 <= shown[1], (table, said)
        verdict = said.split("→ ")[1]
        assert f"{ratio:.2f}× (" in said and (high == math.inf or _span(low, high, (0.8, 1.25)) in said)
        assert verdict.startswith("not settled") == (region is None)
        assert verdict.startswith("within 0.8–1.25×") == (region == 1)
        assert verdict.startswith("above 1.25×: the reference BLAS runs faster") == (region == 2)
        assert verdict.startswith("below 0.8×: the ikj rung runs faster") == (region == 0)
        if region in (0, 2):
            faster, slower = ("reference BLAS", "ikj rung") if region == 2 else ("ikj rung", "reference BLAS")
            unread = None in (packed[faster], packed[slower])
            assert ("isolate" in verdict) and ("hypothesis" in verdict) != unread
            assert ("more packed (vector) instructions" in verdict) == (not unread and packed[faster] > packed[slower])
        assert all(len(line) <= tutorials.WIDTH for line in tutorials.fit(said).split("\n"))
    assert count == SAMPLE or seen == {0, 1, 2, None, "busy"}


def test_the_loop_reader_counts_packed_and_scalar_multiply_adds_and_reads():
    """The loop line counts what objdump shows: a scalar axpy loop (reference BLAS's, as Debian builds it), a packed
    one (what a vectorising build would give), and none where no loop multiplies, adds and stores."""
    cell = _disassembly()
    scalar = ["movsd  (%rdx),%xmm1", "add    $0x8,%rax", "mulsd  %xmm4,%xmm1", "addsd  -0x8(%rax),%xmm1",
              "movsd  %xmm1,-0x8(%rax)", "cmp    %r14,%rax", "jne    30e50 <dgemm_@@Base+0x4a0>"]
    packed = ["vmovupd (%rdx,%rax,1),%ymm1", "vfmadd213pd (%rcx,%rax,1),%ymm2,%ymm1", "vmovupd %ymm1,(%rcx,%rax,1)",
              "add    $0x20,%rax", "cmp    %rax,%rsi", "jne    1234 <f+0x10>"]
    said, share = cell["loop_said"]("reference BLAS", [scalar])
    assert share == 0 and "0 of 2 multiply/add instructions packed (0%)" in said and "reads memory 2 times a pass" in said
    said, share = cell["loop_said"]("ikj rung", [packed])
    assert share == 1 and "1 of 1 multiply/add instructions packed (100%)" in said and "reads memory 2 times" in said
    assert cell["loop_said"]("x", [])[1] is None


def test_the_compiled_axpy_loops_are_found_in_nnkit_and_in_the_reference_blas():
    """On this build: nnkit's ikj rung has one loop that multiplies, adds and stores (the ijk loop stores nothing);
    Debian's libblas3 dgemm_, where installed, has such loops too (its NN and NT cases)."""
    import platform
    import shutil

    from nnkit.backends import _native
    from nnkit.backends.libraries import find_libraries

    if platform.machine() != "x86_64" or not shutil.which("objdump"):
        pytest.skip("needs x86-64 and binutils' objdump to read the compiled loop")
    cell = _disassembly()
    assert len(cell["axpy_loops"](_native.__file__, "nk_gemm_rung")) == 1
    assert cell["axpy_loops"](_native.__file__, "no_such_function") == []
    reference = [library for library in find_libraries() if library.name == "reference"]
    if reference:
        assert cell["axpy_loops"](reference[0].path, "dgemm_")


@pytest.mark.parametrize("found", [True, False])
def test_a_missing_reference_blas_skips_its_pair_with_one_line(found, monkeypatch):
    """A fresh machine without libblas3: the cell prints one line and times nothing; with it, it reads and times."""
    source = tutorials.find("the-speed-ladder").read_text()
    printed, calls = [], []
    rungs = {"reference BLAS": None} if found else {}
    library = type("Library", (), {"name": "reference", "path": "/nonexistent"})
    scope = {"find_libraries": lambda: [library] if found else [], "rungs": rungs, "print": printed.append,
             "platform": type("P", (), {"machine": staticmethod(lambda: "none")}), "fit": tutorials.fit,
             "rng": np.random.default_rng(0), "size": 4, "n": 4, "C_RUNG": "C", "plain": "ijk, n = 4",
             "results": {"reference BLAS": 1.0, "C": 1.0}, "walks": {"ikj, n = 4": 1.0, "ijk, n = 4": 1.1},
             "held": {"ikj, n = 4": 1.0, "ijk, n = 4": 1.0}, "rung_held": {"reference BLAS": 1.0, "C": 1.0},
             "strayed": 0.0, "again": {"padded": (1.0, {}, "", 0.0)}, "walk_noise": 0.0, "sum_noise": 0.0,
             "verdicts": verdicts, "np": np,
             "watch": lambda f: calls.append(f) or f() or {"others": 0.0, "speed": 1.0, "ours": 1.0},
             "paired": lambda *a, **k: {"ratio": 1.0, "plain": 1e-6, "other": 1e-6, "by_order": {"a": 1.0, "b": 1.0}},
             "own_dgemm": None, "dgemm": None, "reference_beside_ikj": lambda *a: "verdict",
             "tables_ratio": lambda first, second, rate: calls.append((first, second)) or None}
    cell = _disassembly(size=4)
    scope.update(moments_said=cell["moments_said"], held_share=_held_share())
    start = source.index("\nmoments = (")
    exec(source[start:source.index("\ndef stood(", start)], scope)  # noqa: S102 — the cell's own lines
    tail = source.index("\nAGAIN = {")   # the second timings the probe's line reads: ikj's only where its pairs ran
    exec(source[tail:source.index("\nprint(fit(scale_said", tail)], scope)  # noqa: S102
    assert set(scope["seconds"]) == {"ijk, n = 4"} | ({"ikj, n = 4"} if found else set())
    moments = unwrap(next(line for line in printed if line.startswith("one call, two moments ")))
    assert "ijk, n = 4: 1.10 GFLOP/s in this step's table (100% of a core), 1.00 in Step 2's (100% of a core), 10% apart" in moments
    if not found:
        assert printed[0] == "reference BLAS beside the ikj rung: skipped — the reference BLAS rung was skipped (Step 2)"
        assert not calls and len(printed) == 2
    else:
        assert printed[0].startswith("the loops' instructions: not read") and printed[-1] == "verdict"
        assert ("ikj, n = 4", "reference BLAS") in calls   # reader 33 a2: the tables' ratio of the same two calls
        assert " reference BLAS: 0.13 GFLOP/s in these pairs (100% of a core), 1.00 in Step 2's table (100% of a core)" in moments
        assert " ikj, n = 4: " in moments


def test_the_extra_read_follows_the_pairs_verdict_for_every_outcome():
    """Reader 31 b9: 'the extra read is likely A[i, p]' was left a suspect while the pair gave 1.01×. Over 300 seeded
    pairs and read counts: the extra read is named only where nnkit's loop reads more a pass than netlib's, and what
    it costs follows the pair's range — less than the pair can see within the band, not the pace where ikj is faster,
    a hypothesis where the reference is faster, nothing where not settled."""
    cell, rng, seen = _disassembly(), np.random.default_rng(31), set()
    cases = [(1.01, {"others": 0.0, "speed": 1.0}, None, 0.03, {"reference BLAS": 2, "ikj rung": 3})]   # reader 31's
    for _ in range(300):
        ratio, watched, _, noise = _entry(rng)
        cases.append((ratio, watched, None, noise, {name: (None if rng.random() < 0.15 else int(rng.integers(1, 5)))
                                                    for name in ("reference BLAS", "ikj rung")}))
    for ratio, watched, _, noise, reads in cases:
        packed = {"reference BLAS": 0.0, "ikj rung": 0.0}
        said = unwrap(cell["reference_beside_ikj"](ratio, watched["others"], watched["speed"], noise,
                                                                 packed, reads))
        region, (low, high) = verdicts.place(ratio, (0.8, 1.25), watched["others"], watched["speed"], noise)
        ikj, reference = reads["ikj rung"], reads["reference BLAS"]
        more = None not in (ikj, reference) and ikj > reference
        seen.add((region, more))
        assert ("likely `A[i, p]` again" in said) == more
        if more:
            assert f"reads memory {ikj - reference} more time" in said and f"({ikj} against {reference};" in said
        assert ("costs less than this pair can see" in said) == (more and region == 1)
        assert ("that read does not set its pace here" in said) == (more and region == 0)
        assert ("one more hypothesis for the gap" in said) == (more and region == 2)
        assert ("whether it costs anything this run does not settle" in said) == (more and region is None)
        assert all(len(line) <= tutorials.WIDTH for line in tutorials.fit(said).split("\n"))
    assert {(region, True) for region in (0, 1, 2, None)} <= seen


def test_the_loop_reader_counts_reads_a_pass_as_the_loop_line_prints_them():
    """The reads the extra-read clause compares are the ones each loop's line prints (``reads_per_pass``)."""
    cell = _disassembly()
    scalar = ["movsd  (%rsi),%xmm0", "mulsd  (%rdx),%xmm0", "addsd  -0x8(%rax),%xmm0", "movsd  %xmm0,-0x8(%rax)",
              "lea    0x8(%rax),%rax", "cmp    %rcx,%rax", "jne    1234 <f+0x10>"]
    assert cell["reads_per_pass"](scalar) == 3 and "reads memory 3 times a pass" in cell["loop_said"]("ikj", [scalar])[0]


@pytest.mark.parametrize("n", [128, 500, 512, 1024])
def test_the_c_rung_says_in_the_table_and_the_figure_when_its_rows_are_whole_4_kib(n):
    """Reader 31 c10: at n = 512 the C rung sits below NumPy's with no mark; now its table row carries a note and its
    figure label a bracket, both pointing to Step 4's price — only for the C rung, only on rows of whole 4 KiB."""
    step_2 = _cell_functions("def whole_4_kib(", "\n\nfor name, rate in results.items():", fit=tutorials.fit)
    label = _cell_functions("def drawn_label(", "\n\nfigure = plots.bars(", n=n, whole_4_kib=step_2["whole_4_kib"])
    due = n * 8 % 4096 == 0
    for name in ("Python loops", "NumPy elementwise", "C, textbook loop (ijk)", "reference BLAS"):
        note, drawn = step_2["row_note"](name, n), label["drawn_label"](name)
        assert bool(note) == bool(drawn != name) == (due and name == "C, textbook loop (ijk)")
        if note:
            assert f"its rows are {n * 8 // 1024} KiB apart (n = {n})" in unwrap(note)
            assert "Step 4 measures" in note and drawn == f"{name}\n[rows {n * 8 // 1024} KiB apart: Step 4 prices that]"
            assert all(len(line) <= 118 for line in note.split("\n"))


def _held_share():
    """Step 2's ``held_share``: the share of a full-speed core a timing had (0 with others busy)."""
    return _cell_functions("def held_share(", "\n\nfor name, multiply in rungs.items():")["held_share"]


def _timing(rng, where: str) -> tuple:
    """A drawn timing of one call: (GFLOP/s, where, the share of a full-speed core it had; 0: others busy)."""
    share = 0.0 if rng.random() < 0.1 else float(rng.choice([0.6, 0.84, 0.85, 0.9, 0.96, 1.0]))
    return float(rng.uniform(0.3, 5)), where, share


@pytest.mark.parametrize("count", counts(3000))
def test_one_call_at_two_moments_blames_the_moments_only_where_the_slowed_core_allows_the_gap(count):
    """Reader 32 a1: the reference BLAS ran 2.42 GFLOP/s in its pairs and 4.21 in Step 2's table, neither flagged, and
    the line said the moments did that — but a moment only slows a call, and a core at 96 % cannot slow it 1.74×. Over
    seeded timings (and the reader's): the gap is said to fit the moment exactly when the faster printed rate is within
    the slower's printed rate ÷ its printed share × (1 + the noise), or others were busy around the slower (nothing
    bounds it); otherwise it is unexplained, with what differs between the timings named as a hypothesis — the 4 KiB
    alignment only on rows of whole 4 KiB, the pairs' alternation only where one timing is from pairs."""
    rng, seen = np.random.default_rng(32), set()
    reader = (512, "reference BLAS", ((2.42, "these pairs", 0.96), (4.214, "Step 2's table", 0.94)), 0.02)
    cases = [reader] + [(int(rng.choice([500, 512])), "ijk", (_timing(rng, str(rng.choice(["these pairs", "Step 2's"]))),
                                                             _timing(rng, "this step's table")),
                         float(rng.choice([0.0, 0.02, 0.05, 0.2]))) for _ in range(count)]
    for size, name, timings, noise in cases:
        said = unwrap(tutorials.fit(_disassembly(size)["moment_said"](name, timings, noise)))
        printed = sorted(((round(rate, 2), round(share, 2)) for rate, _, share in timings), key=lambda t: t[0])
        (slower, share), (faster, _) = printed
        bounded = share > 0
        fits = not bounded or faster <= slower / share * (1 + round(noise, 2))
        seen.add((bounded, fits))
        # reader 35 b7, reader 37 b3: the noise is a lower bound (pairs of 3) — a gap past it is not settled, never
        # called "beyond" it
        assert "unexplained" not in said and "beyond" not in said
        assert ("— not settled: more than the slower one's moment allows" in said) == (not fits) == (
            "whether more noise or a difference between the two timings made the gap, this run does not settle" in said)
        assert ("within what the slower one's moment allows" in said) == (bounded and fits)
        assert ("which bounds nothing" in said) == (not bounded)
        if bounded:   # the bound it prints lies on the side of the faster rate that its words say
            most = float(re.search(r"at most (\d+\.\d+)\)", said).group(1))
            assert (faster <= most) == fits
        assert ("4 KiB boundary" in said) == (not fits and size * 8 % 4096 == 0)
        assert ("alternated with another" in said) == (not fits and any("pairs" in where for _, where, _ in timings))
        assert all(len(line) <= tutorials.WIDTH for line in tutorials.fit(said).split("\n"))
    said = unwrap(tutorials.fit(_disassembly()["moment_said"](*reader[1:])))
    assert "not settled: more than the slower one's moment allows with that noise" in said
    ijk = ("ijk, n = 512", ((0.58, "this step's table", 1.0), (0.55, "Step 2's", 0.98)), 0.01)   # reader 35 b7: 5% apart
    said = unwrap(tutorials.fit(_disassembly()["moment_said"](*ijk)))
    assert "at most 0.57), but the noise is only a lower bound" in said and "unexplained" not in said
    assert count == SAMPLE or seen == {(True, True), (True, False), (False, True)}


def test_the_reference_pairs_verdict_leaves_the_tables_gap_to_the_moments_line():
    """Reader 32 a1: within the band, the pair's verdict no longer says the moments made the tables' gap; it points to
    the line that decides that."""
    said = _disassembly()["reference_beside_ikj"](1.03, 0.0, 1.0, 0.04, {"reference BLAS": 0.0, "ikj rung": 0.0})
    assert "did that" not in said and "says whether the moments they were timed at allow that" in unwrap(said)


def test_the_add_chain_line_says_its_ratio_is_the_rounds_median_and_prints_the_best_rates_quotient(calm):
    """Reader 32 c7: "0.84 GFLOP/s, 1.02× one chain of multiplies (0.87)" read as 0.97: the line now says the 1.02× is
    the median of the rounds' own ratios and prints the quotient of the two best rates beside it."""
    ns, text = calm
    line = unwrap(re.search(r"^one chain of dependent adds .*(?:\n  .*)*", text, re.M).group(0))
    quotient = round(ns["adds"], 2) / round(ns["multiplies"], 2)
    assert f"{ns['adds']:.2f} GFLOP/s, one chain of multiplies {ns['multiplies']:.2f} (each its best of 5" in line
    assert f"the median of the 5 rounds' own ratios: {ns['faster']:.2f}×" in line
    assert f"the quotient of the two best rates above, {quotient:.2f}×" in line


def test_the_cores_line_says_the_books_other_two_thread_figures_are_separate_measurements():
    """Reader 32 c8: OpenBLAS's two-thread speed-up near n = 500 reads differently in tutorials 6, 7 and 8; the text
    beside tutorial 7's line says how its method differs and that the three are separate measurements."""
    text = re.sub(r"\s+", " ", tutorials.find("the-speed-ladder").read_text())
    # reader 33 b6: one sentence names the three orderings and tutorial 8's measurement of spinning helpers, and
    # words the ordering as a hypothesis for the difference
    said = text[text.index("Tutorials 6 (Step 4), 7 and 8 (Step 8)"):][:1000]
    said = said[:said.index("which one is right.") + len("which one is right.")]
    assert "." not in said[:-1].replace("n.", "")   # one sentence
    for method in ("tutorial 6 waits before every half until the helper threads sleep",
                   "this line times the halves back to back",
                   "tutorial 8 pauses between the two libraries and then times each one's halves back to back",
                   "tutorial 8's Step 8 times whether OpenBLAS's helpers, still spinning, slow a 2-thread product",
                   "the ordering is a hypothesis for where the three figures differ, not measured here",
                   "they are separate measurements", "does not measure which one is right"):
        assert method in said, method
    assert "like tutorial 8's, times the two back to back" not in text


@pytest.mark.parametrize("count", counts(3000))
def test_each_out_of_order_verdict_holds_step_2s_unflagged_ratio_in_its_range(count):
    """Reader 33 a2, the class: Step 3's re-timing of a swap ('1.05× … the order flips') beside Step 2's unflagged
    29.39 ÷ 31.02 = 0.95×. Seeded pairs and table ratios: where the table lies farther from the pairs than their spread,
    the verdict is ``verdicts.order``'s on the range widened that far — the table's ratio inside it — and names that
    noise as the table's, not the pairs' spread; where its range spans 0.95, not settled; a flagged table is not counted."""
    cell = _cell_functions("def table_stray(", "ahead_of = {")
    order_said, rng = cell["order_said"], np.random.default_rng(331)
    cases = [(1.05, 0.13, 0.95, 0.03, 29.39 / 31.02, False), (0.32, 0.02, 0.93, 0.04, 0.53 / 1.55, False),
             (0.99, 0.0, 1.0, 0.0, 0.97, False)] + [   # the last: widened, still inside the tie band
        (round(float(rng.uniform(0.3, 1.4)), 2), float(rng.choice([0.0, 0.1, 1.5])), float(rng.choice([0.7, 0.9, 1.0])),
         float(rng.choice([0.0, 0.02, 0.1])), float(rng.uniform(0.2, 0.999)), bool(rng.random() < 0.2)) for _ in range(count)]
    outcomes = set()
    for again, others, speed, noise, table, flagged in cases:
        said = unwrap(order_said(again, others, speed, noise, table, flagged))
        stray = 0.0 if flagged else verdicts.apart(table / again)
        if stray <= noise:
            assert said == unwrap(verdicts.order(again, others, speed, noise))
            outcomes.add("pairs")
            continue
        region, (low, high) = verdicts.place(again, (0.95,), others, speed, stray)
        counted = f"the {stray:.0%} noise (Step 2's table's {table:.2f}×, neither rate flagged, {stray:.0%} from these pairs"
        if high == math.inf:
            assert "which bounds nothing" in said
        elif region is None:
            assert said.startswith("not settled in this run") and counted in said and "across the 0.95 mark" in said
            outcomes.add("open")
        else:
            assert said == unwrap(verdicts.order(again, others, speed, stray)).replace(
                f"the pairs' {stray:.0%} spread", counted + f", more than the pairs' {noise:.0%} spread)")
            assert counted in said and f"the pairs' {stray:.0%} spread," not in said.replace(counted, "")
            shown = [float(x) for x in re.search(r"= (\d+\.\d+)…(\d+\.\d+)×", said).groups()]
            assert shown[0] <= round(table, 2) + 0.01 and round(table, 2) - 0.01 <= shown[1], (table, said)
            outcomes.add(region)
        assert all(len(line) <= tutorials.WIDTH for line in tutorials.fit(said).split("\n"))
    assert {"pairs", "open", 0, 1} <= outcomes
    first = order_said(*cases[0])   # the reader's: Step 2's 0.95× against the pairs' 1.05× (1.02…1.09×)
    assert first.startswith("not settled in this run") and "flips" not in first
    assert "holds" in order_said(*cases[1])   # 0.34× against 0.32×: the same side, the order still the code's


@pytest.mark.parametrize("m", [116, 244, 500, 1012])
@pytest.mark.parametrize("l1", [32 * 1024, 48 * 1024])
def test_the_8_column_walks_cache_level_is_computed_from_the_sizes_and_the_l1_read(m, l1):
    """Reader 33 b1: 'the 8 columns' walk stays in L1' — at n − 12 = 500, B's 8 columns are 500 lines (31.25 KiB), with
    a row of A and C's 35.2 KiB, more than a 32 KiB L1d. The line sums the lines and says L1 or L2 by capacity, for this
    CPU's 32 KiB and an Intel's 48 KiB."""
    walk_lines = _cell_functions("def walk_lines(", "caches = own_dgemm")["walk_lines"]
    said = walk_lines(m, l1, 64, "from sysfs")
    total = (m + -(-m * 8 // 64) + 1) * 64
    assert f": {total / 1024:.1f} KiB against this CPU's L1d of {l1 / 1024:g} KiB (from sysfs)" in said
    assert ("can stay in L1" in said) == (total <= l1) and ("runs from L2, not L1" in said) == (total > l1)
    if m == 500:
        assert ("runs from L2" in said) == (l1 == 32 * 1024)
    page = re.sub(r"\s+", " ", tutorials.find("the-speed-ladder").read_text())
    assert "stays in L1" not in page


def test_step_4s_pairs_are_widened_to_the_tables_unflagged_ratio_of_the_same_calls(calm):
    """Reader 33 a2, the class in Step 4: each pair's tables' ratio (this step's table, Step 2's for NumPy's rung at this
    size) is printed under its line, and where neither rate is flagged its noise is at least how far that ratio lies
    from the pair's, so every range read from it holds the tables' figure."""
    ns, text = calm
    for key, (first, second) in ns["checks"].items():
        rate, _, _, noise = ns["again"][key]
        table = ns["tables"][key]
        assert table == ns["tables_ratio"](first[0], second[0], rate)
        if table is None:
            continue
        ratio, stray, flagged = table
        expected = [ns["tabled"](label)[0] for label in (first[0], second[0])]
        assert ratio == expected[1] / expected[0] and stray == (0.0 if flagged else verdicts.apart(ratio / rate))
        assert noise >= stray and f"\n    {ns['table_said'](*table, 'the tables' + chr(39))}" in text
    assert all(ns["tables"][key] for key in ns["checks"])   # quick run: n equals Step 4's size, every call tabled


def _step_3() -> dict:
    """Step 3's functions that decide and say a re-timed pair's order, and those that mark it in the figure."""
    cell = _cell_functions("def table_stray(", "ahead_of = {")
    return _cell_functions("def order_words(", "\n\nnotes = figure_notes(", fit=tutorials.fit, **cell)


@pytest.mark.parametrize("count", examples(30, 3000))
def test_an_order_that_held_is_said_of_its_sizes_and_the_figures_outcome_is_the_lines(count):
    """Reader 36 c3: 'C, textbook loop (ijk) … slower than NumPy elementwise … the code's, not noise' at n = 512, where
    Step 4 finds the 4 KiB row costs that loop 3.24×. Seeded re-timings (calm, slowed, busy; tables counted or not;
    SUPER-LINEAR or not): no line calls an order the code's; one that held is 'this run's order at' the sizes given;
    and ``pair_order``'s outcome — what the figure and the answer read — is the one the line's words give."""
    cell = _step_3()
    rng = np.random.default_rng(36)
    reader = (0.29, 0.0, 0.74, 0.28, round(0.55, 2) / round(2.46, 2), True, "")
    cases = [reader] + [(round(float(rng.uniform(0.3, 1.6)), 2), float(rng.choice([0.0, 0.1, 1.5])),
                         float(rng.choice([0.7, 0.9, 1.0])), float(rng.choice([0.0, 0.01, 0.1])),
                         float(rng.uniform(0.2, 1.2)), bool(rng.random() < 0.3),
                         "SUPER-LINEAR on 2 cores (2.31×)" if rng.random() < 0.1 else "") for _ in range(count)]
    seen = set()
    for again, others, speed, noise, table, flagged, past in cases:
        at = "n = 512 (rows 4 KiB apart: Step 4 prices that, and re-times the two at n = 500)"
        said = unwrap(cell["order_said"](again, others, speed, noise, table, flagged, past, at))
        outcome, bounds, marks = cell["pair_order"](again, others, speed, noise, table, flagged, past)
        seen.add(outcome)
        assert "the code's" not in said and marks == (0.95,)
        assert (f"this run's order at {at}, not noise" in said) == (outcome == "slower")
        assert ("not settled in this run" in said) == (outcome is None)
        assert ("flips" in said) == (outcome == "faster")
        assert (" ties" in said or "count as tied" in said) == (outcome == "tied")
        if outcome is not None and re.search(r"= \d+\.\d+…", said):   # the range the figure's line prints: the verdict's
            assert f"= {verdicts.span(*bounds, marks)}" in said, (said, bounds)
    assert count == 30 or seen == {"slower", "faster", "tied", None}
    first = cell["order_said"](*reader[:-1], "", "n = 512")
    assert first.endswith("this run's order at n = 512, not noise") and "…0.50×" in first


@pytest.mark.parametrize("count", examples(30, 2000))
def test_the_figure_marks_exactly_the_orders_its_pairs_did_not_bear_out(count):
    """Reader 36 c4: the ladder drew nnkit's dgemm, 1 thread (≥33.6) above OpenBLAS, 1 thread (≥25.7) while their
    pairs left that order not settled (0.80…2.37×). Seeded tables and pair outcomes: a rung's label carries a bracket
    for each re-timed order of it that is not settled, tied or settled the other way round from the drawn one — and
    none for an order its pairs bore out; the line under the figure lists every re-timed pair once, settled or not,
    with its range, and says every other order is the table's."""
    cell = _step_3()
    rungs = ["NumPy elementwise", "C, textbook loop (ijk)", "nnkit's dgemm, 1 thread", "OpenBLAS, 1 thread",
             "OpenBLAS, 2 threads"]
    rng = np.random.default_rng(364)
    reader = ({"nnkit's dgemm, 1 thread": 33.632, "OpenBLAS, 1 thread": 25.729},
              {("OpenBLAS, 1 thread", "nnkit's dgemm, 1 thread"): (None, (0.80, 2.37), (0.95,))})
    cases = [reader]
    for _ in range(count):
        results = {name: float(rng.uniform(0.5, 50)) for name in rungs}
        pairs = [tuple(rng.choice(rungs, 2, replace=False)) for _ in range(int(rng.integers(0, 4)))]
        cases.append((results, {pair: (rng.choice(["slower", "faster", "tied", None]), (0.5, 1.5), (0.95,))
                                for pair in pairs}))
    for results, orders in cases:
        notes = cell["figure_notes"](orders, results, set())
        said = unwrap(cell["orders_said"](orders, results))
        for (name, earlier), (outcome, bounds, marks) in orders.items():
            drawn = "faster" if results[name] > results[earlier] else "slower"
            marked = [note for note in notes.get(name, []) if note.startswith(f"[vs {earlier}:")]
            assert bool(marked) == (outcome != drawn), (name, earlier, outcome, drawn)
            assert said.count(cell["order_words"](name, earlier, outcome, bounds, marks)) >= 1
            assert verdicts.span(*bounds, marks) in said
        assert ("the figure marks" in said) == any(notes.values())
        assert "every other order in it is the table's" in said or "each is the table's" in said
        assert all(len(line) <= 118 for line in cell["orders_said"](orders, results).split("\n"))
    notes = cell["figure_notes"](reader[1], reader[0], set())
    assert notes == {"OpenBLAS, 1 thread": ["[vs nnkit's dgemm, 1 thread: not settled]"]}
    assert "not settled — OpenBLAS, 1 thread against nnkit's dgemm, 1 thread (0.80…2.37×)" in unwrap(cell["orders_said"](reader[1], reader[0]))


def _step_2(results: dict, shaky: set, cores: int = 2) -> dict:
    """Step 2's functions that find a SUPER-LINEAR pair in its table and say it, run on ``results`` and ``shaky``."""
    return _cell_functions("def super_linear_pair(", "\n\ndef share_said(", results=results, shaky=shaky, cores=cores,
                           on_all=lambda name: "threads" in name and not name.endswith("1 thread"),
                           fit=tutorials.fit)


@pytest.mark.parametrize("count", examples(30, 2000))
def test_a_super_linear_table_pair_is_said_disturbed_on_both_rows_and_counts_in_no_order(count):
    """Noticed in session 14: a SUPER-LINEAR table ratio of OpenBLAS on 2 threads ÷ 1 thread left the 1-thread rung's
    share and an "out of order" line reading both rates as undisturbed. Seeded tables: exactly where the ratio as
    printed is SUPER-LINEAR and neither rate is flagged, both rows say one of the two was disturbed (not which), a
    share against a slowed peak is not settled, and an out-of-order line of either against another rung counts the
    table's ratio for nothing and says why."""
    rng = np.random.default_rng(3614)
    cases = [(25.729, 61.3, set())] + [(float(rng.uniform(10, 40)), float(rng.uniform(10, 100)),
                                        set(rng.choice(["OpenBLAS, 1 thread", "OpenBLAS, 2 threads", "none"],
                                                       int(rng.integers(0, 2)))) - {"none"}) for _ in range(count)]
    outcomes = set()
    for one, every, shaky in cases:
        results = {"nnkit's dgemm, 1 thread": 33.632, "OpenBLAS, 1 thread": one, "OpenBLAS, 2 threads": every}
        cell = _step_2(results, shaky)
        suspect, flag = cell["super_linear_pair"](results, shaky, 2)
        due = not shaky and round(round(every, 2) / round(one, 2), 2) > 2.1
        outcomes.add(due)
        assert bool(suspect) == due == bool(flag) and (not due or suspect == {"OpenBLAS, 1 thread", "OpenBLAS, 2 threads"})
        cell["suspect"], cell["suspect_flag"] = suspect, flag
        for name in results:
            note = unwrap(cell["suspect_note"](name))
            assert bool(note) == (name in suspect)
            if note:
                assert "SUPER-LINEAR on 2 cores" in note and "which of the two, this run does not measure" in note
                assert all(len(line) <= 118 for line in cell["suspect_note"](name).split("\n"))
        step_3 = _cell_functions("def sizes_at(", "\n\nretimed = {}", **_step_3(), results=results, shaky=shaky,
                                 suspect=suspect, cores=2, n=512, n_python=96, C_RUNG="C, textbook loop (ijk)",
                                 whole_4_kib=lambda name, size: False)
        outcome, said = step_3["out_of_order"]("OpenBLAS, 1 thread", "nnkit's dgemm, 1 thread", 0.95, 0.0, 1.0, 0.01)
        flat = unwrap(said)
        assert ("not counted: OpenBLAS, 1 thread is one of a SUPER-LINEAR pair there" in flat) == due
        assert "neither rate flagged" not in flat or not due
    assert outcomes == {True, False}
    share = _cell_functions("def share_said(", "\n\ndef whole_4_kib(")["share_said"]
    assert share(0.5, False, True, True) == "share of the peak not settled (a perhaps disturbed rate, a slowed peak)"
    assert share(0.5, False, False, True) == "50% of the peak"


@pytest.mark.parametrize("count", examples(30, 2000))
def test_step_4s_answer_reads_each_verdicts_range(count):
    """Reader 36 c1: each step ends with its answer. Step 4's names the power-of-two row's price, the loop order's
    worth and what bounds ijk only as far as the ranges its verdicts read settle them (seeded pairs)."""
    rng = np.random.default_rng(3641)
    for _ in range(count):
        again = {key: _entry(rng) for key in ("padded", "sizes", "swap", "away", "order")}
        walked, summed = rng.choice([0, 1, 2, None]), (rng.choice([0, 1, 2, None]), 1.0, " (0.9…1.1×, its 5% noise)")
        cell = _cell_functions("def step_4_answer(", "\n\nprint(step_4_answer(", size=512, MARKS={
            "padded": (1.3,), "sizes": (1.1,), "swap": (1.0,), "away": (1.0,), "order": (0.8, 1.25)},
            placed=_place, fit=tutorials.fit)
        said = unwrap(cell["step_4_answer"](again, walked, summed))
        padded, order = _place(again["padded"], (1.3,))[0], _place(again["order"], (0.8, 1.25))[0]
        assert ("the 4 KiB row costs it that" in said) == (padded == 1)
        assert ("is not settled" in said.split("the loop order")[0]) == (padded is None)
        assert ("ikj the faster" in said) == (order == 2) and ("ijk the faster" in said) == (order == 0)
        assert ("the add's latency" in said) == (summed[0] == 1 and walked == 1)
        assert said.startswith("Step 4's answer — why the textbook C loop is slow at n = 512:")


def test_each_step_ends_with_its_answer(calm):
    """Reader 36 c1: each of the four steps prints one answer line, in order; Step 3's lists the orders its pairs
    settled and those they did not, as the line under the figure does."""
    ns, text = calm
    answers = re.findall(r"^Step (\d)'s answer — ", text, re.M)
    assert answers == ["1", "2", "3", "4"]
    flat = unwrap(text)
    settled, open_ = ns["settled_or_not"](ns["orders"])
    step_3 = flat[flat.index("Step 3's answer"):]
    assert all(words in step_3 for words in settled + open_)
    assert ("not settled: " in step_3.split("\n")[0]) == bool(open_)


@pytest.mark.parametrize("flagged, suspect", [(set(), set()), ({"Python loops"}, set()),
                                              (set(), {"OpenBLAS, 2 threads", "OpenBLAS, 1 thread"})])
def test_the_bottom_to_top_ratio_says_when_its_top_is_one_of_a_super_linear_pair(flagged, suspect):
    """Noticed in session 14, the class of a SUPER-LINEAR table pair: the bottom-to-top line read the all-core rung
    as undisturbed where Step 2's table's ratio of it to one thread is SUPER-LINEAR; it now says the rate is perhaps
    disturbed — and only then."""
    source, printed = tutorials.find("the-speed-ladder").read_text(), []
    exec(source[source.index("ratio = results[top] / results[bottom]"):source.index('C_RUNG = "')],   # noqa: S102
         {"results": {"Python loops": 0.02, "OpenBLAS, 2 threads": 61.3, "OpenBLAS, 1 thread": 25.7}, "shaky": flagged,
          "suspect": suspect, "top": "OpenBLAS, 2 threads", "bottom": "Python loops", "region": 1, "low": 1.0,
          "high": 1.0, "same": 1.0, "half": 48, "n_python": 96, "n": 512, "verdicts": verdicts, "fit": tutorials.fit,
          "print": printed.append, "python": {"ratios": [1.0]}, "python_noise": 0.0, "python_stray": 0.0,
          "python_flagged": False, "rates_alone": [0.02, 0.02], "python_why": "", "python_alone": "alone"})
    line = unwrap(printed[-1])
    assert ("rests on a disturbed rate (Python loops" in line) == bool(flagged)
    assert ("rests on a rate perhaps disturbed (OpenBLAS, 2 threads: one of a SUPER-LINEAR pair" in line) == (
        bool(suspect) and not flagged)
    assert ("neither rung was disturbed" in line) == (not flagged and not suspect)


def _timed_alone() -> dict:
    """Step 3's ``timed_alone`` (a pair's ratio measured a second time from rates timed alone), with the
    ``table_stray`` and ``table_said`` it calls, and ``sum_bound`` and ``walk_cost`` that read the noise it widens."""
    return {**_cell_functions("def banded(", "def latency(", m=500),
            **_cell_functions("def table_stray(", "def past_the_cores(")}


@pytest.mark.parametrize("count", examples(30, 2000))
def test_the_serial_sum_and_the_walk_are_widened_to_their_ratios_timed_alone(count):
    """Reader 37 a1: 'ijk at n = 500 … ÷ twice the add chain's rate: 0.66× … below 0.8× (0.66…0.66×, its 1% noise)'
    while the same run's rates timed alone gave 1.69 ÷ (2 × 0.93) = 0.91×. Each of the two verdicts is widened to its
    ratio timed alone where that lies farther (not where a rate of it was disturbed): over seeded pairs, the range
    holds that ratio, and the verdict's words follow the widened range; the reader's figures are not settled."""
    cell = _timed_alone()
    stray, said = cell["timed_alone"](0.66, 1.69, 2 * 0.93, False, "timed alone, ijk's 1.69 ÷ twice the chain's 0.93:")
    assert said == f"timed alone, ijk's 1.69 ÷ twice the chain's 0.93: 0.91×, neither rate flagged, {stray:.0%} from these pairs"
    assert cell["sum_bound"](0.66, 0.0, 0.95, max(0.01, stray), 1).startswith("not settled in this run")
    rng = np.random.default_rng(3701)
    for _ in range(count):
        ratio, top, bottom = (round(float(rng.uniform(0.3, 3)), 2) for _ in range(3))
        flagged, noise = bool(rng.random() < 0.2), float(rng.choice([0.0, 0.01, 0.05, 0.3]))
        others, speed = (0.0, 1.0) if rng.random() < 0.5 else (float(rng.choice([0.0, 1.5])), float(rng.choice([0.7, 1.0])))
        stray, said = cell["timed_alone"](ratio, top, bottom, flagged, "alone:")
        assert stray == (0.0 if flagged else verdicts.apart(top / bottom / ratio))
        assert said.startswith(f"alone: {top / bottom:.2f}×") and ("not counted" in said) == flagged
        widened = max(noise, stray)
        region, (low, high) = verdicts.place(ratio, (0.8, 1.25), others, speed, widened)
        assert flagged or low * (1 - 1e-12) <= top / bottom <= high * (1 + 1e-12)
        for verdict in (cell["sum_bound"](ratio, others, speed, widened, 1), cell["walk_cost"](ratio, others, speed, widened)[1]):
            assert verdict.split(" ")[0] == {None: "not", 0: "below", 1: "within", 2: "above"}[region]
            assert high == math.inf or f"its {widened:.0%} noise" in verdict


def test_the_serial_sum_and_the_walk_print_their_ratios_timed_alone_and_read_them(calm):
    """Reader 37 a1, in the run: the walk's and the sum's lines print their ratio timed alone under the pairs, their
    noise is the larger of the pairs' (``verdicts.median_noise``) and how far that ratio lies, and Step 4's answer
    reads the sum's verdict as widened."""
    ns, text = calm
    flat = unwrap(text)
    for stray, alone, noise, pairs in (("walk_stray", "walk_alone", "walk_noise", "walk"), ("sum_stray", "sum_alone",
                                                                                           "sum_noise", "pair")):
        assert ns[noise] == max(verdicts.median_noise(ns["strayed"], list(ns[pairs]["by_order"].values())), ns[stray])
        assert unwrap(ns[alone]) in flat and ns[alone].startswith("timed alone, ")
    assert ns["summed"] == ns["banded"](ns["to_sum"], ns["seen"]["others"], ns["seen"]["speed"], ns["sum_noise"])
    table = round(ns["walks"][ns["smaller"]], 2) / (2 * round(ns["adds"], 2))   # as printed
    assert f"(its rounds, above): {table:.2f}×" in flat


def test_one_call_at_two_moments_is_set_against_the_largest_noise_of_the_steps_pairs(calm):
    """Reader 37 b3: 'ijk, n = 512: 0.60 … 0.65 … 8% apart — beyond what the slower one's moment allows … widened by
    the 0% noise: at most 0.62' — an A/A control's 0 % from 3 pairs is a lower bound, while the step's own pairs were
    widened by 34–68 %. The moments line uses the largest noise of the step's pairs, and says so; with the reader's
    figures the gap lies within it."""
    ns, text = calm
    noise = ns["step_noise"]
    assert noise == max([entry[3] for entry in ns["again"].values()] + [ns["walk_noise"], ns["sum_noise"]])
    flat = unwrap(text)
    assert f"widened by the {noise:.0%} noise — the largest this step's pairs above were widened by" in flat
    said = _disassembly()["moment_said"]("ijk, n = 512", ((0.60, "this step's table", 0.97), (0.65, "Step 2's", 0.98)),
                                         0.68)   # the reader's pairs: noise 34 %, 35 %, 18 %, 18 %, 68 %
    assert "within what the slower one's moment allows (0.60 ÷ 97%, widened by the 68% noise" in unwrap(said)


def test_4k_aliasing_is_named_as_a_load_store_hazard_documented_by_intel_and_a_hypothesis_elsewhere():
    """Reader 38 b3: "ikj's rows of B and C could share cache sets too (4K aliasing)" took 4K aliasing (a load held by
    an earlier store whose low 12 address bits match) for a cache-set conflict, and cited no vendor for it. The prose
    now tells the two apart, names Intel's manual as where it is documented, calls it a hypothesis on AMD's cores, and
    says this run does not measure it apart; the code's line on it stays a hypothesis too."""
    source = tutorials.find("the-speed-ladder").read_text()
    page = re.sub(r"\s+", " ", source)
    assert "share cache sets too (4K aliasing)" not in page
    said = page[page.index("For ikj the padding also bears on a second suspect"):]
    said = said[:said.index("How fast can a serial sum go?")]
    assert "not a cache-set conflict (which lines the cache can keep) but a hazard between a load and a store" in said
    assert "in the low 12 bits of its address" in said and "*4K aliasing*" in said
    assert "Intel documents it for its cores (the Intel 64 and IA-32 Architectures Optimization Reference Manual" in said
    assert "the book cites no AMD document for it, so on AMD's cores it is a hypothesis" in said
    assert "This run does not measure it apart" in said
    assert [m.start() for m in re.finditer(r"4K aliasing", page)] == [page.index("*4K aliasing*") + 1, page.index(
        '"4K aliasing"') + 1]   # named nowhere else as a finding
    assert "a hypothesis this run does not test" in page   # the two-moments line's own mention of loads and stores aliasing
