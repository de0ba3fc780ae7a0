"""Tutorial 3: the loop's gap to the broadcast is split between its per-iteration cost and its walk across the grain
only as far as the pairs of the column loop and the row loop show it (reader 28 b8) — the verdict's words follow its
range, decided by ``verdicts.place`` against 0.8–1.25×, for every outcome (a seeded generator over the cell's own
function); the quick run, its machine made to look calm, prints the line the function gives on its own pairs. The
table's last line names the ratios a disturbed row unsettles, and says it covers the table only, not the pairs
(reader 32 c14), for every outcome."""

import collections
import math
import re

import numpy as np
import pytest

from generators import seeds, watched
from nnkit import tutorials
from nnkit.bench import load, verdicts
from text import unwrap
from tutorial_runs import BUSY, CALM, quick


def _walk_verdict():
    """The tutorial's ``walk_verdict``, run from its own source."""
    source = tutorials.find("broadcasting").read_text()
    scope = {"verdicts": verdicts}
    exec(source[source.index("KEPT = ("):source.index("walked = {}")], scope)
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
    flat = unwrap(text)
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
        assert ("costs the loop little" in said) == (region == 1)
        # what both loops keep per iteration — the interpreter's work and the sum's temporary — is named, together,
        # wherever the walk is placed, with the words that the run does not separate them
        kept = ("the per-iteration cost — Python's and numpy's dispatch once per sample, and the temporary "
                "`WX[:, j] + b[:, 0]` allocates for its sum: the row loop keeps both, so this run does not separate them")
        assert (kept in said) == (region in (0, 1))
        assert ("the contiguous loop ran slower" in said) == (region == 2)
        assert said.startswith("not settled") == (region is None)
        assert ("which bounds nothing" in said) == (high == math.inf)
        if high < math.inf:
            near = [verdicts.beside(end, min((0.8, 1.25), key=lambda mark: abs(mark - end))) for end in (low, high)]
            assert f"{near[0]}…{near[1]}×" in said
            printed = {sum(float(end) >= mark for mark in (0.8, 1.25)) for end in near}   # the side each end prints on
            assert region is None or printed == {region}
        assert all(len(line) <= tutorials.WIDTH for line in tutorials.fit("the loop over contiguous rows ÷ the loop over columns "
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


def _by_sets():
    """The tutorial's ``by_sets`` (and the ``column_sets`` it calls), run from its own source."""
    source = tutorials.find("broadcasting").read_text()
    scope = {"collections": collections}
    exec(source[source.index("def column_sets("):source.index("def read_from(")], scope)
    return scope["by_sets"]


def _fullest(rows: int, row_bytes: int, starts: tuple, line: int, sets: int) -> tuple[int, list[int]]:
    """The lines the fullest L1 set holds for one column of each array (first numbers at ``starts``), and how many sets
    each column falls into — counted line by line, apart from the tutorial's code."""
    per_set, used = [0] * sets, []
    for start in starts:
        lines = sorted({(start + row * row_bytes) // line for row in range(rows)})
        for number in lines:
            per_set[number % sets] += 1
        used.append(len({number % sets for number in lines}))
    return max(per_set), used


def test_the_walk_is_counted_by_sets_from_the_rows_addresses_and_this_machines_l1(calm):
    """The column walk was sized against L1 ("by size … they fit"), not counted by its sets: the line now counts, as
    tutorial 8 Step 5 does, the sets one column of WX and of out fall into from their rows' addresses and L1's size,
    ways and line as own_dgemm read them, and the lines the fullest set holds against its ways."""
    ns, text = calm
    flat = unwrap(text)
    line = re.search(r"^by sets: one column touches .*$", flat, re.M).group(0)
    caches, WX = ns["caches"], ns["WX"]
    sets = caches.l1_bytes // (caches.l1_ways * caches.line_bytes)
    assert (f"{sets} sets × {caches.l1_ways} ways × {caches.line_bytes} B lines ({ns['read_from'](caches)})" in line
            and f"its rows lie {WX.strides[0]:,} B apart" in line and "by size" not in flat)
    wx = len({(WX.ctypes.data + row * WX.strides[0]) // caches.line_bytes % sets for row in range(ns["neurons"])})
    assert f"so WX's column falls into {wx} of the {sets} sets" in line
    fullest = int(re.search(r": (\d+) lines in the fullest set, against its \d+ ways", line)[1])
    assert ("weak suspect" in line) == (fullest < caches.l1_ways) != ("real suspect" in line)


def _cases(total: int) -> list[tuple]:
    """(rows, row_bytes, itemsize, starts, line, sets, ways): reader 35's column (400,000-byte rows: 8 lines a set in
    32 of 64 sets, exactly the 8 ways), a 4 KiB stride (all in one set), and seeded shapes and caches."""
    rng = np.random.default_rng(35)
    cases = [(128, 400_000, 8, (4096 * 7 + 16, 4096 * 99 + 16), 64, 64, 8), (128, 4096, 8, (16, 8192), 64, 64, 8),
             (128, 16_000, 8, (16, 4096 * 3 + 16), 64, 64, 8), (128, 400_008, 8, (0, 64), 64, 64, 12)]
    for _ in range(total):
        line = int(rng.choice([32, 64, 128]))
        cases.append((int(rng.integers(1, 300)), int(rng.integers(1, 20_000)) * int(rng.choice([4, 8])),
                      int(rng.choice([4, 8])), tuple(int(a) for a in rng.integers(0, 2**20, 2) * 8), line,
                      int(rng.choice([16, 32, 64, 128])), int(rng.choice([2, 4, 8, 12, 16]))))
    return cases


@pytest.mark.parametrize("total", [40, pytest.param(400, marks=pytest.mark.long)])
def test_the_by_sets_line_follows_its_count_for_every_outcome(total):
    """Seeded shapes and caches: the sets each column falls into and the lines the fullest set holds are the ones a
    line-by-line count gives; 'weak suspect' exactly where the fullest set keeps a way to spare, 'real suspect'
    where it fills them ('more lines than' where it overflows); the reuse count is line ÷ itemsize; lines ≤ 118
    once wrapped."""
    by_sets = _by_sets()
    seen = set()
    for rows, row_bytes, itemsize, starts, line, sets, ways in _cases(total):
        said = by_sets(rows, row_bytes, itemsize, starts, line, sets, ways, "all three from sysfs")
        fullest, (wx, out) = _fullest(rows, row_bytes, starts, line, sets)
        assert f"so WX's column falls into {wx} of the {sets} sets and out's into {out}," in said
        assert f": {fullest} lines in the fullest set, against its {ways} ways" in said
        assert ("weak suspect" in said) == (fullest < ways) != ("real suspect" in said)
        assert ("more lines than the fullest set has ways" in said) == (fullest > ways)
        assert ("the fullest set's every way, none to spare" in said) == (fullest == ways)
        assert f"Each line holds {line // itemsize} columns" in said
        assert ("by virtual addresses" in said) == (sets * line > 4096)
        assert all(len(part) <= tutorials.WIDTH for part in tutorials.fit(said).split("\n"))
        seen.add((fullest > ways) - (fullest < ways))
    assert seen == {-1, 0, 1}
    reader_35 = by_sets(128, 400_000, 8, (4096 * 7 + 16, 4096 * 99 + 16), 64, 64, 8, "all three from sysfs")
    assert ("falls into 32 of the 64 sets and out's into 32, 32 in all: 8 lines in the fullest set, against its 8 "
            "ways" in reader_35 and "real suspect" in reader_35)


def _last_line(text: str) -> str:
    """The table's last line, its wrapped parts joined."""
    return unwrap(text[text.index("the table's ratio"):]).split("\n")[0]


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
    walk = re.search(r"^the loop over contiguous rows .*?(?=\n(?! {4}))", busy, re.M | re.S).end()
    assert busy[walk:].startswith("\n  disturbed: other processes used 1.50 cores")   # what widened the pairs' range
    assert "\n  disturbed: " not in text[text.index("the loop over contiguous rows"):]   # calm: no such line
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
        assert all(len(part) <= tutorials.WIDTH for part in tutorials.fit(said).split("\n"))


@pytest.mark.parametrize("seed", seeds(300))
def test_the_walk_verdict_prints_what_widened_its_range(seed):
    """Reader 37 c1: "0.88× (its range 0.63…1.23×, its pairs' 3% spread)" — a 3% spread cannot give ×/÷ 1.40; the core
    speed that widened it was not printed. Seeded ratios, spreads and watches: the line prints the core's speed (a
    whole percent) and the others' cores (two decimals) it was placed with, or says which was not read; where the core
    ran slow, the factor 1/speed it widened the ratio by — and the printed factor and spread give the printed range."""
    rng = np.random.default_rng(seed)
    ratio, noise = float(rng.uniform(0.3, 1.6)), float(rng.choice([0.0, 0.03, 0.1, 0.3]))
    others, speed = watched(rng)
    said = " ".join(tutorials.fit(_walk_verdict()(ratio, others, speed, noise)).split())
    assert (f"the core at {speed:.0%} of its usual speed" if speed is not None else "the core's speed not read") in said
    assert (f"other processes {others:.2f} cores" if others is not None else "other processes not read") in said
    slowed = verdicts.slow(speed) and not verdicts.busy(others)
    assert ("may have run that much slower alone" in said) == verdicts.slow(speed)
    region, (low, high) = verdicts.place(ratio, (0.8, 1.25), others, speed, noise)
    if high == math.inf:
        assert said.startswith("not settled") and "which bounds nothing" in said
        return
    assert f"widened by its pairs' {noise:.0%} spread and " in said
    factor = float(re.search(r"×/÷ (\d+\.\d\d)\)", said).group(1)) if slowed else 1.0
    assert high / low == pytest.approx((factor * (1 + noise)) ** 2, rel=0.02)
