"""Tutorial 4 on a calm machine (``load.watch`` replaced): the batch split is printed, in shares that
add up, and the page verdict decides from the 0.9–1.1× band it prints. And, for every outcome a
generator draws, the words its verdicts print agree with the figures they print: a figure raised
from alternating pairs is compared only with figures from pairs, no figure or verdict rests on a
timing flagged as disturbed, a rate is judged against the traffic that isolates it, and "about
constant" holds only within the band the line prints."""

import contextlib
import io
import re

import pytest
from hypothesis import example, given, settings, strategies as st

from nnkit import tutorials
from nnkit.bench import load
from tutorial_runs import CALM, quick


@pytest.fixture(scope="module")
def calm(tmp_path_factory):
    """Tutorial 4's quick run on a machine made to look calm: its namespace and what it printed."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(load, "watch", CALM)
        yield quick("memory", tmp_path_factory.mktemp("t4"))


def _joined(text: str) -> str:
    return re.sub(r"\n +", " ", text)


def test_on_a_calm_machine_the_split_and_the_page_band_are_printed(calm):
    text = _joined(calm[1])
    split = re.search(r"^a batch's time, split by the two pairs' ratios: .*$", text, re.M).group(0)
    assert len(re.findall(r"\(-?\d+%\)", split)) == 3 and "not settled" not in text
    page = re.search(r"^step 64 \(512 B\) → 512 \(4 KiB\): (\d+\.\d\d)× .*$", text, re.M)
    ratio, verdict = float(page.group(1)), page.group(0)
    assert ("costs more" in verdict) == (ratio > 1.1) and ("costs less" in verdict) == (ratio < 0.9)
    assert ("within 0.9–1.1×: about the same" in verdict) == (0.9 <= ratio <= 1.1)
    assert "did not overlap, they added up" not in text      # a match of two moments is no measure of overlap


def test_the_one_chain_line_prints_the_share_its_own_figures_give(calm):
    """What 8 chains at one chain's pace predict is printed beside the adding it is compared with."""
    text = _joined(calm[1])
    adding = float(re.search(r"in the L2 cache: (\d+\.\d\d) ns per 8 numbers", text)[1])
    chain, again, share = re.search(r"one add per (\d+\.\d\d) ns — 8 chains at that pace add 8 numbers in "
                                    r"(\d+\.\d\d) ns, (\d+\.\d\d)× the adding alone", text).groups()
    assert chain == again and float(share) == pytest.approx(float(chain) / adding, abs=0.01 + 0.005 / adding)


@pytest.mark.parametrize("shaken", [[], [8], [1, 512]])
def test_the_legend_names_a_hollow_marker_only_when_a_point_is_drawn_hollow(calm, shaken):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ns = calm[0]
    kept, ns["shaken"] = ns["shaken"], shaken
    figure, ax = plt.subplots()
    try:
        ns["draw"]([ax])
    finally:
        ns["shaken"] = kept
        plt.close(figure)
    labels = [text.get_text() for text in ax.get_legend().get_texts()]
    assert ("hollow: disturbed timing" in labels) == bool(shaken)


# Step 3's last cell, rerun with its pairs and its watch replaced by drawn outcomes.
PAIRS = ("fresh against reused", "different rows against the same", "the gather against rows per batch kept",
         "the gather against each batch dropped", "the gather against the reused buffer",
         "the table's cut, same rows against different")
CALM_SEEN = (0.0, 1.0)
# A pair's own medians: the other's is not exactly ratio × the plain one's (a median of ratios is not a ratio of medians).
_pair = st.fixed_dictionaries({"plain": st.floats(0.001, 1.0), "ratio": st.floats(0.3, 12.0)}).map(
    lambda p: {**p, "other": p["plain"] * p["ratio"] * (1 + 0.1 * (p["ratio"] % 0.37 - 0.18))})
_watched = st.one_of(st.sampled_from([CALM_SEEN, (1.4, 1.0), (1.4, 0.7)]),     # calm; other processes; both
                     st.tuples(st.floats(0.0, 0.25), st.floats(0.3, 0.84)))     # a slow core alone


def _rerun_last_cell(ns: dict, pairs: list[dict], watched: list[tuple], epoch_seconds: dict) -> str:
    kept = {name: ns[name] for name in ("paired", "watch", "epoch_seconds")}
    drawn_pairs, drawn_watch = iter(pairs), iter(watched)

    def watch(function):
        function()
        others, speed = next(drawn_watch)
        return {"wall": 0.0, "ours": 1.0, "helpers": 0.0, "others": others, "speed": speed}

    ns.update(paired=lambda plain, other, repeats: next(drawn_pairs), watch=watch, epoch_seconds=epoch_seconds)
    printed = io.StringIO()
    try:
        with contextlib.redirect_stdout(printed):
            exec(tutorials.cells(tutorials.find("memory"))[-1], ns)
    finally:
        ns.update(kept)
    return _joined(printed.getvalue())


def _span(ratio: float, seen: tuple) -> tuple[float, float] | None:
    """All a pair's ratio, printed as ``ratio``, may truly be, from what was seen around it:
    undisturbed, itself; on a core at s of its best with no other process, ratio·s … ratio/s;
    with other processes, nothing bounds it (None)."""
    others, speed = seen
    if others > 0.25:
        return None
    return (ratio, ratio) if seen == CALM_SEEN else (ratio * speed, ratio / speed)


def _check_band_reading(ratio: float, seen: tuple, reading: str) -> None:
    """A ratio to the one gather is called below, within or above 0.8–1.25× only when all it may
    truly be (``_span``, printed when disturbed) lies there; otherwise it is not settled."""
    span = _span(ratio, seen)
    if span is None:
        assert reading == "not settled: other processes ran"
        return
    low, high = span
    if seen != CALM_SEEN:
        shown = [float(x) for x in re.search(r"(\d+\.\d\d)–(\d+\.\d\d)×", reading).groups()]
        assert shown == pytest.approx([low, high], abs=0.0051)
    assert reading.startswith("below 0.8×: cheaper") == (high < 0.8)
    assert reading.startswith("1.25× or more: costlier") == (low >= 1.25)
    assert reading.startswith("within 0.8–1.25×: about the same") == (0.8 <= low and high < 1.25)
    assert reading.startswith("not settled") == (low < 0.8 <= high or low < 1.25 <= high)


def _line(text: str, opening: str) -> str:
    return re.search(rf"^{re.escape(opening)}.*$", text, re.M).group(0)


@settings(max_examples=150, deadline=None)
@given(pairs=st.lists(_pair, min_size=6, max_size=6), watched=st.lists(_watched, min_size=6, max_size=6),
       elsewhere=st.floats(0.001, 10.0))
def test_step_3_derives_figures_from_its_pairs_alone_and_none_from_a_flagged_one(calm, pairs, watched, elsewhere):
    """Every outcome of Step 3's last cell: the split's milliseconds come from the first pair's own
    median and the ratios, whatever the whole-epoch lines (timed at other moments) said; each verdict
    settles exactly when none of its pairs is flagged, and prints no absolute figure otherwise; its
    words follow the bands it prints."""
    ns = calm[0]
    text = _rerun_last_cell(ns, pairs, watched, {key: elsewhere for key in ns["epoch_seconds"]})
    pair = dict(zip(PAIRS, pairs))
    flagged = {key for key, seen in zip(PAIRS, watched) if seen != CALM_SEEN}
    assert {key for key in PAIRS if f"disturbed ({key})" in text} == flagged
    fresh, cache = pair[PAIRS[0]], pair[PAIRS[1]]
    ms = lambda seconds: seconds / ns["batches"] * 1e3          # per batch, from an epoch's seconds
    split = _line(text, "a batch's time, split by the two pairs' ratios")
    figures = re.search(r"\d ms", split)
    assert ("not settled" in split) == bool(flagged & set(PAIRS[:2])) == (not figures)
    if figures:
        whole = float(re.search(r"of (\d+\.\d{3}) ms with every result kept \(the first pair's own median\)", split)[1])
        assert whole == pytest.approx(ms(fresh["other"]), abs=5.1e-4)
        parts = [float(t) for t in re.findall(r" (-?\d+\.\d{3}) \(-?\d+%\)", split)]
        assert sum(parts) == pytest.approx(whole, abs=2e-3)
        assert parts[2] == pytest.approx(ms(fresh["other"]) / fresh["ratio"] / cache["ratio"], abs=5.1e-4)
    gather = _line(text, "in alternating pairs with the whole-epoch gather")
    said = re.findall(r"(\d+\.\d\d)× (?:it )?with (?:every result kept|each dropped, as a training loop drops it|"
                      r"the reused buffer) \(([^)]*)\)|(\d+\.\d\d)× into the reused buffer \(([^)]*)\)", gather)
    readings = [(float(a or c), b or d) for a, b, c, d in said]
    assert len(readings) == 3
    for key, seen, (ratio, reading) in zip(PAIRS[2:5], watched[2:5], readings):
        assert ratio == round(pair[key]["ratio"], 2)
        _check_band_reading(ratio, seen, reading)
    dropped = readings[1][1]
    assert ("per batch is the cheaper way here" in gather) == dropped.startswith("below 0.8×")
    assert ("the one gather saves time" in gather) == dropped.startswith("1.25× or more")
    assert ("cost about the same here" in gather) == dropped.startswith("within")
    assert ("not settled in this run" in gather) == dropped.startswith("not settled")
    table = _line(text, "the table's cut, images[batch].T")
    ratio = float(re.search(r"different rows per batch took (\d+\.\d\d)× the same 32", table).group(1))
    assert ratio == round(pair[PAIRS[5]]["ratio"], 2)
    span = _span(ratio, watched[5])
    if span is None:
        assert "not settled in this run (other processes ran)" in table
        return
    low, high = span
    assert ("came from the cache" in table) == (low >= 1.25)
    assert ("the cache does not separate them" in table) == (0.8 <= low and high < 1.25)
    assert ("which the cache does not explain" in table) == (high < 0.8)
    assert ("not settled" in table) == (low < 0.8 <= high or low < 1.25 <= high)
    assert ("ms per batch" in table) == ("came from the cache" in table and PAIRS[5] not in flagged)
    if "ms per batch" in table:
        different, same = (float(t) for t in re.search(r"\((\d+\.\d{3}) against (\d+\.\d{3}) ms", table).groups())
        medians = (ms(pair[PAIRS[5]]["other"]), ms(pair[PAIRS[5]]["plain"]))
        assert (different, same) == pytest.approx(medians, abs=5.1e-4)


@settings(max_examples=400, deadline=None)
@given(lines_rate=st.floats(1.0, 60.0), triad=st.floats(1.0, 60.0), from_dram=st.booleans())
@example(lines_rate=27.2, triad=24.0, from_dram=True).via("the band's lower edge, 0.85× printed")
@example(lines_rate=36.8, triad=24.0, from_dram=True).via("the band's upper edge, 1.15× printed")
def test_the_step_8_rate_is_judged_against_the_bytes_moved_never_the_count(calm, lines_rate, triad, from_dram):
    """The lines a strided read fetches are bytes moved: the verdict decides from the share of the
    triad's moved bytes it prints (band 0.85–1.15×), whatever STREAM's counted share says."""
    ns = calm[0]
    kept, ns["from_dram"] = ns["from_dram"], from_dram
    try:
        measured, conclusion = ns["rate_verdict"](lines_rate, triad, triad * 32 / 24)
    finally:
        ns["from_dram"] = kept
    moved, counted = (float(x) for x in re.search(r": (\d+\.\d\d)× the bytes the triad moved \((\d+\.\d\d)× its rate as "
                                                   r"STREAM counts it\)", measured).groups())
    assert counted == pytest.approx(lines_rate / triad, abs=0.0051)
    assert moved == pytest.approx(lines_rate / (triad * 32 / 24), abs=0.0051)
    assert ("within 0.85–1.15×" in conclusion) == (0.85 <= moved <= 1.15)
    assert ("memory's rate" in conclusion) == (0.85 <= moved <= 1.15 and from_dram)
    assert ("below 0.85×" in conclusion) == (moved < 0.85) and ("above 1.15×" in conclusion) == (moved > 1.15)


@settings(max_examples=400, deadline=None)
@given(step_4=st.floats(0.5, 30.0), step_8=st.floats(0.5, 30.0), in_pairs=st.floats(0.5, 2.0),
       again=st.floats(0.8, 1.25), per_read_16=st.floats(0.5, 60.0))
@example(step_4=1.1, step_8=1.0, in_pairs=1.1, again=1.0, per_read_16=1.6).via("both bands' edges, printed")
@example(step_4=1.0, step_8=1.1, in_pairs=1.11, again=1.01, per_read_16=1.3).via("just past 1.10×, within the noise")
@example(step_4=1.0, step_8=1.1, in_pairs=1.2, again=1.01, per_read_16=1.3).via("beyond the band and the noise")
def test_constant_and_the_line_counts_are_said_only_within_the_bands_printed(calm, step_4, step_8, in_pairs, again,
                                                                            per_read_16):
    """`steps 4–8:` decides from the pairs' ratio it prints: about constant within 1.10×, beyond it
    only past that band widened by the A/A repeat's printed noise, and then names both readings
    (the lines' own rate, something besides the lines); `step 8 → 16` names one or two lines'
    time per read by the bands it prints, and two lines' as two readings, not as fact."""
    ns = calm[0]
    measured, conclusion = ns["per_line_verdict"]({4: step_4, 8: step_8}, in_pairs, again)
    shown = re.search(r"from (\d+\.\d\d) to (\d+\.\d\d) ns .* in pairs (\d+\.\d\d)× \(A/A (\d+\.\d\d)×\)", measured)
    first, last, ratio, noise = (float(x) for x in shown.groups())
    assert (first, last, ratio, noise) == (round(step_4, 2), round(step_8, 2), round(in_pairs, 2), round(again, 2))
    change, band = max(ratio, 1 / ratio), round(1.1 * max(noise, 1 / noise), 2)
    assert ("within 1.10× (the band this line calls about constant)" in conclusion) == (change <= 1.1)
    assert ("not told apart from noise" in conclusion) == (1.1 < change <= band)
    beyond = "moved with the stride" in conclusion
    assert beyond == (change > band) == (f"beyond {band:.2f}× (1.10× widened by the A/A noise)" in conclusion)
    if beyond:
        assert "this run does not separate them" in conclusion
        assert ("something besides the lines" in conclusion) == (ratio > 1)
    measured, conclusion = ns["pairs_verdict"]({8: step_8, 16: per_read_16}, 20.0)
    ratio = float(re.search(r": (\d+\.\d\d)× the cost per read", measured).group(1))
    assert ratio == round(per_read_16 / step_8, 2)
    assert ("above 1.6×: each read took two lines' time" in conclusion) == (ratio > 1.6)
    if ratio > 1.6:
        assert "adjacent-line prefetcher" in conclusion and "fewer lines were in flight" in conclusion
        assert "does not tell which" in conclusion
    assert ("below 1.3×: one line per read" in conclusion) == (ratio < 1.3)
    assert ("between 1.3× and 1.6×" in conclusion) == (1.3 <= ratio <= 1.6)
