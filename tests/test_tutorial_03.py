"""Tutorial 3: the loop's gap to the broadcast is split between its per-iteration cost and its walk across the grain
only as far as the pairs of the column loop and the row loop show it (reader 28 b8) — the verdict's words follow its
range, decided by ``verdicts.place`` against 0.8–1.25×, for every outcome (a seeded generator over the cell's own
function); the quick run, its machine made to look calm, prints the line the function gives on its own pairs. The
table's last line names the ratios a disturbed row unsettles, and says it covers the table only, not the pairs
(reader 32 c14), for every outcome."""

import math
import re

import numpy as np
import pytest

from nnkit import tutorials
from nnkit.bench import load, verdicts
from tutorial_runs import BUSY, CALM, quick


def _walk_verdict():
    """The tutorial's ``walk_verdict``, run from its own source."""
    source = tutorials.find("broadcasting").read_text()
    scope = {"verdicts": verdicts}
    exec(source[source.index("def walk_verdict("):source.index("walked = {}")], scope)
    return scope["walk_verdict"]


def _table_reading():
    """The tutorial's ``table_reading`` (and the ``quoted`` it calls), run from its own source."""
    source = tutorials.find("broadcasting").read_text()
    scope = {}
    exec(source[source.index("def quoted("):source.index("timings, disturbed = {}")], scope)
    return scope["table_reading"]


ROWS = ("Python loop over samples", "tile, then add", "broadcast")


@pytest.fixture(scope="module")
def calm(tmp_path_factory):
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(load, "watch", CALM)
        yield quick("broadcasting", tmp_path_factory.mktemp("t3"))


def test_the_column_loop_is_timed_against_a_row_loop_and_the_line_is_the_verdicts(calm):
    ns, text = calm
    flat = re.sub(r"\n +", " ", text)
    line = re.search(r"^the loop over contiguous rows ÷ the loop over columns .*$", flat, re.M).group(0)
    walked = ns["walked"]
    assert len(walked["ratios"]) == 5
    said = ns["walk_verdict"](walked["ratio"], 0.0, 1.0, verdicts.spread(walked["ratios"]))
    assert line.endswith(said)
    page = tutorials.find("broadcasting").read_text()
    assert "what that\ncosts: no loop in Python" not in page and "two suspects" in page


def test_the_walk_verdict_follows_its_range_for_every_outcome():
    """400 seeded (ratio, others, speed, spread), calm, slowed or busy: 'costs the column loop time' only where the
    range lies wholly below 0.8×, 'costs the loop little' only wholly inside the band, 'ran slower' wholly above; else
    not settled — the range printed with its ends beside the marks, lines ≤ 118 once wrapped."""
    walk_verdict = _walk_verdict()
    rng = np.random.default_rng(3)
    cases = [(0.15, 0.0, 1.0, 0.02), (1.0, 0.0, 1.0, 0.01), (0.8, 0.0, 1.0, 0.0), (1.4, 0.0, 1.0, 0.05),
             (0.5, 1.5, 1.0, 0.0)] + [(float(rng.uniform(0.1, 1.6)), float(rng.choice([0.0, 0.1, 0.5, 1.5])),
                                       float(rng.choice([0.6, 0.84, 1.0])), float(rng.choice([0.0, 0.02, 0.1, 0.3])))
                                      for _ in range(400)] + [
        (mark * (1 + hair), 0.0, 1.0, 0.0) for mark in (0.8, 1.25) for hair in (-1e-4, 0.0, 1e-4)]   # a hair from a mark
    seen = set()
    for ratio, others, speed, noise in cases:
        said = walk_verdict(ratio, others, speed, noise)
        region, (low, high) = verdicts.place(ratio, (0.8, 1.25), others, speed, noise)
        seen.add(region if high < math.inf else "busy")
        assert ("costs the column loop time" in said) == (region == 0)
        assert ("costs the loop little" in said) == (region == 1) == ("per-iteration cost (Python" in said)
        assert ("the contiguous loop ran slower" in said) == (region == 2)
        assert said.startswith("not settled") == (region is None)
        assert ("which bounds nothing" in said) == (high == math.inf)
        if high < math.inf:
            near = [verdicts.beside(end, min((0.8, 1.25), key=lambda mark: abs(mark - end))) for end in (low, high)]
            assert f"{near[0]}…{near[1]}×" in said
            printed = {sum(float(end) >= mark for mark in (0.8, 1.25)) for end in near}   # the side each end prints on
            assert region is None or printed == {region}
        assert all(len(line) <= 118 for line in tutorials.fit("the loop over contiguous rows ÷ the loop over columns "
                                                               "(50,000 iterations of 128 numbers each), 5 alternating "
                                                               "pairs: " + said).split("\n"))
    assert seen == {0, 1, 2, None, "busy"}


def test_the_loops_time_per_iteration_is_printed_from_its_row(calm):
    """Reader 29 c16: the loop's time ÷ its iterations is the per-iteration cost the text names; it is printed, from
    the row's own timing (a disturbed row's figure said as an upper bound)."""
    ns, text = calm
    line = re.search(r"^the Python loop: ([\d,]+) iterations, (\d+\.\d\d) µs each, all it does included(.*)$",
                     text, re.M)
    assert int(line.group(1).replace(",", "")) == ns["samples"]
    assert float(line.group(2)) == pytest.approx(ns["timings"][ns["LOOP"]] / ns["samples"] * 1e6, abs=0.006)
    assert bool(line.group(3)) == bool(ns["disturbed"][ns["LOOP"]])


def _by_size():
    """The tutorial's ``by_size``, run from its own source."""
    source = tutorials.find("broadcasting").read_text()
    scope = {}
    exec(source[source.index("def by_size("):source.index("caches = own_dgemm.config()")], scope)
    return scope["by_size"]


def test_the_walk_is_sized_from_the_shapes_and_this_machines_l1(calm):
    """Reader 31 b8: the column walk is a suspect only as far as its lines outgrow L1 — the line counts the lines one
    column touches from the cell's own shapes and the L1 size own_dgemm reads, and says 'weak suspect' only where they
    fit."""
    ns, text = calm
    flat = re.sub(r"\n +", " ", text)
    line = re.search(r"^by size: one column touches .*$", flat, re.M).group(0)
    caches = ns["caches"]
    assert line == ns["by_size"](ns["neurons"], 8, caches.line_bytes, caches.l1_bytes,
                                 ns["own_dgemm"].SOURCES[caches.l1_bytes_from])
    assert f"{2 * ns['neurons']} cache lines" in line and f"L1's {caches.l1_bytes / 1024:g} KiB" in line


def test_the_by_size_line_follows_the_sizes_for_every_outcome():
    """300 seeded (rows, itemsize, line, L1): 'weak suspect' exactly where 2·rows·line ≤ L1, 'real suspect' otherwise;
    the reuse count is line ÷ itemsize; lines ≤ 118 once wrapped."""
    by_size = _by_size()
    rng = np.random.default_rng(31)
    for _ in range(300):
        rows, itemsize = int(rng.integers(1, 1024)), int(rng.choice([4, 8]))
        line, l1 = int(rng.choice([32, 64, 128])), int(rng.choice([16, 32, 48, 64])) * 1024
        said = by_size(rows, itemsize, line, l1, "from sysfs")
        fits = 2 * rows * line <= l1
        assert ("weak suspect" in said) == fits != ("real suspect" in said)
        assert f"each line holds {line // itemsize} columns" in said
        assert all(len(part) <= 118 for part in tutorials.fit(said).split("\n"))


def _last_line(text: str) -> str:
    """The table's last line, its wrapped parts joined."""
    return re.sub(r"\n +", " ", text[text.index("the table's ratio"):]).split("\n")[0]


def test_the_tables_last_line_is_the_readings_on_the_rows_disturbed(calm, tmp_path):
    """The quick run prints ``table_reading`` of its rows' own disturbances, calm and made to look busy (every row
    disturbed: every ratio unsettled), lines ≤ 118 columns."""
    ns, text = calm
    assert _last_line(text) == ns["table_reading"](ns["disturbed"])
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(load, "watch", BUSY)
        busy_ns, busy = quick("broadcasting", tmp_path)
    assert all(busy_ns["disturbed"].values())
    line = _last_line(busy)
    assert line == busy_ns["table_reading"](busy_ns["disturbed"])
    assert line.startswith('the table\'s ratios of "Python loop over samples" and "tile, then add" to the broadcast')
    assert all(len(part) <= 118 for part in text.split("\n") + busy.split("\n"))


def test_the_tables_last_line_says_which_ratios_are_unsettled_for_every_outcome():
    """Every outcome — each row disturbed or not (all 8), with 300 seeded reasons: a ratio is called unsettled
    exactly when its own row or the broadcast's was disturbed, named in quotes; the undisturbed one, where there is
    one, named as resting on undisturbed timings; the disturbed rows named; "not settled" only with the words that
    it covers the table only, not the pairs; lines ≤ 118 once wrapped."""
    table_reading = _table_reading()
    rng = np.random.default_rng(32)
    outcomes = [dict(zip(ROWS, flags)) for flags in np.ndindex(2, 2, 2)]
    outcomes += [dict(zip(ROWS, rng.integers(0, 2, 3))) for _ in range(300)]
    for flags in outcomes:
        disturbed = {name: "slowed: " + "x" * int(rng.integers(1, 40)) if flag else "" for name, flag in flags.items()}
        said = table_reading(disturbed)
        shaky = [name for name in ROWS[:2] if disturbed[name] or disturbed["broadcast"]]
        assert ("not settled in this run" in said) == bool(shaky) == ("disturbed timings" in said)
        assert ("This line covers the table only: the pairs below are timed, and judged, on their own" in said) \
            == bool(shaky)
        if not shaky:
            assert said == "the table's ratios to the broadcast rest on timings of an undisturbed machine"
            continue
        named = said[:said.index(" to the broadcast")]
        assert [name for name in ROWS[:2] if f'"{name}"' in named] == shaky
        steady = [name for name in ROWS[:2] if name not in shaky]
        assert (f'; that of "{steady[0]}" rests on undisturbed ones' in said) if steady \
            else "rests on undisturbed" not in said
        rows = said[said.index("(disturbed: "):said.index("): not settled")]
        assert [name for name in ROWS if f'"{name}"' in rows] == [name for name in ROWS if disturbed[name]]
        assert all(len(part) <= 118 for part in tutorials.fit(said).split("\n"))
