"""Tutorials 1, 3, 4 and 6 print verdicts that follow from what the run measured: the page size the
array lies on decides the page wording, a share is claimed only as far as the printed numbers
show it, a disturbed timing supports no conclusion, every Step 1 rate is printed where it is
judged, a rate above the peak is blamed on the cores it used only when it used more than one, and a
mark beside a number (a wrong gradient, a loss that rose) stands exactly where the number earns it."""

import contextlib
import io
import mmap
import re
import statistics

import numpy as np
import pytest

from nnkit import tutorials
from nnkit.bench import verdicts
from generators import seeds
from text import unwrap


@pytest.fixture(scope="module")
def memory(plain_run):
    return plain_run("memory")[:2]


@pytest.fixture(scope="module")
def simd(plain_run):
    return plain_run("threads-and-simd")[:2]


def _thp_mode() -> str | None:
    try:
        with open("/sys/kernel/mm/transparent_hugepage/enabled") as f:
            return re.search(r"\[(\w+)\]", f.read()).group(1)
    except OSError:
        return None


def test_the_page_verdict_names_the_page_size_measured(memory):
    ns, text = memory
    assert f"\nits pages: {ns['huge']:.0%} of it on 2 MiB huge pages" in text   # rounded as printed: 37.5 % → 38 %
    verdict = re.search(r"^step 64 \(512 B\) → 512 \(4 KiB\), in alternating pairs: .*$", unwrap(text), re.M).group(0)
    printed = int(f"{ns['huge']:.0%}"[:-1])   # the share as the line prints it decides: 91 % or more is huge pages
    assert ("on huge pages a 4 KiB step is not a new page" in verdict) == (printed > 90)
    assert ("on 4 KiB pages every read is on a new page" in verdict) == (printed <= 90)


@pytest.mark.parametrize("mib", [4, 16, 40])
def test_memory_nobody_advised_lies_on_no_huge_page_and_the_share_is_a_fraction(memory, mib):
    """The kernel's THP in 'madvise' mode gives huge pages only where a program asked (madvise): a
    fresh anonymous mapping that did not ask holds none; one that asked holds some share of them."""
    if _thp_mode() != "madvise":
        pytest.skip(f"transparent huge pages are {_thp_mode()!r} here, not 'madvise'")
    share = memory[0]["huge_page_share"]
    plain, advised = mmap.mmap(-1, mib * 2**20), mmap.mmap(-1, mib * 2**20)
    advised.madvise(mmap.MADV_HUGEPAGE)
    arrays = [np.frombuffer(m, dtype=np.float64) for m in (plain, advised)]
    for array in arrays:
        array[:] = 1.0                                  # touched: the pages exist now
    assert share(arrays[0]) == 0.0 and share(arrays[0][1000:]) == 0.0
    assert 0.0 <= share(arrays[1]) <= 1.0


def test_every_step_1_rate_is_printed_beside_its_verdict(simd):
    ns, text = simd
    if "nnkit" in ns["library_rates"]:   # reader 32 c9: nnkit's row names the kernel its own dgemm chose, not "—"
        from nnkit.backends import own_dgemm
        kernel = own_dgemm.config().kernel
        assert ns["kernel_of"]["nnkit"] == kernel and re.search(rf"^nnkit +kernel {re.escape(kernel)} ", text, re.M)
    judged = re.findall(r"^Step 1's (\S+): (\d+\.\d) GFLOP/s = (at least )?\d+% of the 1-core peak(.*)$",
                        _unwrapped(text, 4), re.M)
    assert {name for name, _, _, _ in judged} == set(ns["library_rates"])
    for name, rate, at_least, rest in judged:
        shared = ns["cores_used"][name] < ns["SHARED_CORE"]     # reader 19, a2: a shared core's rate is a lower bound
        assert bool(at_least) == shared and ("SHARED CORE in Step 1" in rest) == shared
        assert float(rate) == pytest.approx(ns["library_rates"][name], abs=0.051)
        above = float(rate) > ns["one_core"]["gflops"]
        assert ("ABOVE the 1-core peak" in rest or "ABOVE the measured peak" in rest) == above
        assert ("because it ran on" in rest) == (above and ns["cores_used"][name] > 1.2)
        assert ("UNSTEADY in Step 1" in rest) == (name in ns["unsteady_rate"])
        probe = re.search(r"(at most |at least )?\d+% of the sse2 probe's (≥?)(\d+\.\d)", rest)
        assert bool(probe) == (ns["kernel_of"][name] in ns["sse_only"] and "sse2" in ns["best"])
        if probe:
            lower = "sse2" in ns["lower"]     # the probe's figure a lower bound: the share an upper one
            assert float(probe.group(3)) == pytest.approx(ns["best"]["sse2"], abs=0.051)
            assert (probe.group(1) or "") == ("" if lower == shared else "at least " if shared else "at most ")
            assert bool(probe.group(2)) == lower and ("this share bounds nothing" in rest) == (lower and shared)
            above = ns["library_rates"][name] > 1.1 * ns["best"]["sse2"]
            assert ("ABOVE its instruction set's rate" in rest) == (above and not lower)


def test_the_fma_verdict_follows_the_range_of_its_pairs(simd):
    ns, text = simd
    line = re.search(r"^FMA's share, per lane: .*$", _unwrapped(text, 4), re.M).group(0)
    low, high = ns["per_lane"][0], ns["per_lane"][-1]
    two, widest, lower, climbing = ns["two"], ns["fused"], ns["lower"], ns["climbing"]   # the share's two kernels
    registers = two in climbing and widest not in lower   # the register limit comes first: no rerun settles it
    both = {two, widest} <= lower                         # two lower bounds: the share bounds nothing
    settled = (low > 1.15 or high < 1.15) and ns["enough"]     # and on three steady rounds (A/A within 5 %)
    # a bound that settles nothing: a flag whose size, undone (reader 37 a4: SLOWED alone has one), could move it
    bounded_open = ((low > 1.15 and two in lower and not (ns["lifted_low"] or 0) > 1.15)
                    or (high < 1.15 and widest in lower and not (ns["lifted_high"] or 2) < 1.15))
    parted = ns["parted"](two, widest)   # the rounds and the sweeps disagree on the two beyond the A/A drift
    # reader 29 b4: a rerun settles it where the two-instruction kernel levels off; no pair isolates FMA alone
    assert ("settles it only in a run where" in line) == (registers or (both and bool({two, widest} & climbing)))
    assert "a rerun cannot settle" not in line
    assert ("not settled" in line) == (registers or both or not settled or bounded_open or parted)
    assert ("the rounds and the sweeps disagree on them" in line) == (
        parted and settled and not (registers or both or bounded_open))
    assert line.startswith("FMA's share, per lane: ≤") == (two in lower and not both)
    assert line.startswith("FMA's share, per lane: ≥") == (widest in lower and not both)
    assert f"{low:.2f} to {high:.2f}" in line
    # reader 30 a1: with an AVX2 kernel without FMA the share is at equal width, and no outcome names a kind of core
    if {"avx2", "avx2+fma"} <= set(ns["best"]):
        assert (two, widest) == ("avx2", "avx2+fma")
    assert ("width held fixed, the two differ in FMA alone" in line) == (ns["lanes"][two] == ns["lanes"][widest])
    assert "this CPU" not in line
    width = re.search(r"^avx2\+fma → avx512f\+fma \(width alone.*$", _unwrapped(text, 4), re.M)
    if width:    # it may not claim what the share's line declined to settle, nor promise a rerun settles it
        claims = "the share above is fusing's" in width.group(0)
        assert not claims or (low > 1.15 and "not settled" not in line)
        assert not registers or "a rerun settles" not in width.group(0)


def test_the_pipes_and_the_ports_lines_read_this_runs_own_rounds(simd):
    """Reader 37 (a3, b1): where the probe has AVX2 without FMA, its adds alone and multiplies alone ran in every
    round beside the pair, and the line after the share prints them per lane a cycle of the FMA kernel's clock from
    those rounds; on a documented core the ports line sets each kernel without FMA against the FMA kernel's rate per
    lane in the same rounds, and says matched, not matched or not settled."""
    ns, text = simd
    flat = _unwrapped(text, 4)
    pipes = re.search(r"^each kind's pipes timed apart, .*$", flat, re.M)
    assert bool(pipes) == (ns["two"] == "avx2")
    if pipes:
        fused, kept = ns["fused"], ns["kept"]
        for kernel, name in ns["PIPES"].items():
            assert len(ns["pipe_rates"][kernel]) == len(ns["drift"])   # in every round
            per_cycle = sorted(round(4 * (ns["pipe_rates"][kernel][i] / 4) / (ns["round_rates"][fused][i]
                                                                             / ns["lanes"][fused]), 2) for i in kept)
            said = f"{name} {statistics.median(per_cycle):.2f} ({per_cycle[0]:.2f} to {per_cycle[-1]:.2f})"
            assert said in pipes.group(0)
        assert ("not settled in this run: only" in pipes.group(0)) == (not ns["enough"])
    ports = re.search(r"^this run against those ports, per lane: .*$", flat, re.M)
    assert bool(ports) == bool(ns["core"])
    if ports:
        verdicts_said = [words for words in (": this run does not match the ports' prediction",
                                             ": this run matches the ports' prediction",
                                             "whether this run matches the ports' prediction is not settled",
                                             "not settled in this run: only") if words in ports.group(0)]
        assert len(verdicts_said) == 1
        assert verdicts_said[0].startswith("not settled in this run") == (not ns["enough"])
        # reader 38 (a1, c11): both statistics named, and the prediction said with its verb
        assert ("; by the bests (each kernel's fastest run" in ports.group(0)) == ns["enough"]
        assert f"so the ports predict {ns['fused']}'s rate per lane ÷ each one's to be" in ports.group(0)


def test_step_1_sets_the_names_the_text_quotes_against_this_runs_rows(simd):
    """Reader 38 (c12): the line after Step 1's rows reads this run's kernel names, library by library."""
    ns, text = simd
    line = re.search(r"^the names the text quotes from an AMD Zen 3 .*$", unwrap(text), re.M).group(0)
    assert line == ns["against_the_book"](ns["kernel_of"])
    assert ("on this machine the text's names are yours" in line) == all(
        ns["kernel_of"].get(name) == kernel for name, kernel in ns["BOOK_KERNELS"].items())


def test_the_rounds_against_the_sweeps_say_what_their_figures_show(simd):
    """The run's own line (its outcomes: tests/test_tutorial_06.py): "as in their sweeps" only where the share's two
    kernels both lie within the A/A noise of 1; kernels within that noise of each other but not of 1 slowed (or sped
    up) alike, and the line names it (reader 18, a2)."""
    ns, text = simd
    line = re.search(r"^the rounds against each kernel's own sweep.*$", _unwrapped(text, 4), re.M).group(0)
    assert line == ns["rounds_against_sweeps"]()
    figures = {k: float(v) for k, v in re.findall(r"(\S+) (\d+\.\d\d)×", line.split(" — ")[0])}
    noise = float(re.search(r"the (\d+)% the A/A control drifted", line).group(1)) / 100
    near = all(verdicts.apart(figures[k]) <= noise + 0.01 for k in (ns["two"], ns["fused"]))   # 0.01: rounding
    if "as in their sweeps" in line:
        assert near
    elif "alike" in line:
        snug = all(verdicts.apart(figures[k]) <= noise - 0.01 for k in (ns["two"], ns["fused"]))
        assert not snug and ("slowed alike" in line) == (figures[ns["two"]] < 1)
    else:
        assert "a disturbance that reached one kernel more than the other" in line


def test_a_sweep_is_still_climbing_only_at_its_best_beyond_the_aa_drift(simd):
    """The run's own sweeps (every shape: tests/test_tutorial_06.py): a kernel is STILL CLIMBING exactly where its last
    count, as printed, is its best and gained a quarter of what the extra chains could, and that gain, ÷ and × (1 +
    the A/A drift printed), lies wholly at or above 1 (reader 35 a1: a dip at 12 chains read as a climb)."""
    ns, text = simd
    for k, sweep in ns["sweeps"].items():
        shown = [round(rate, 1) for rate in sweep.values()]
        (before, last), gain = list(sweep)[-2:], shown[-1] / shown[-2]
        rose = shown[-1] > max(shown[:-1]) and shown[-1] >= shown[-2] * (1 + (last / before - 1) / 4)
        climbs = rose and gain / (1 + ns["aa_noise"]) >= 1
        assert (k in ns["climbing"]) == climbs == (f"STILL CLIMBING: {k} gained" in _unwrapped(text, 4))


def test_each_kernel_has_one_best_and_a_change_is_printed_where_it_happens(simd):
    """The per-lane line uses each kernel's median in the rounds kept (never a sweep's figure) and marks a kernel
    whose sweep still climbed as a lower bound (≥); a kernel's best — the sweep's top, or the rounds' when they
    beat it, said on a line of its own — is what Step 3 and the scalar 8-chain line use, and a sweep below it beyond
    the A/A drift is flagged SLOWED."""
    ns, text = simd
    text = _unwrapped(text, 4)
    line = re.search(r"^per lane, each kernel's median in \w+ rounds \(what the ratios below divide, not its best\): "
                     r"(.*) GFLOP/s", text, re.M).group(1)
    per_lane = dict(re.findall(r"(\S+) (≥?\d+\.\d)", line))
    assert set(per_lane) == set(ns["best"])
    for kernel, shown in per_lane.items():
        assert shown.startswith("≥") == (kernel in ns["lower"])
        median = np.median([ns["round_rates"][kernel][i] for i in ns["kept"]]) / ns["lanes"][kernel]
        assert float(shown.lstrip("≥")) == pytest.approx(median, abs=0.051)
    # reader 31 c12: one best per kernel, the fastest of all its runs, printed once with where it came from
    bests = re.search(r"^each kernel's best, .*?: (.*) GFLOP/s$", text, re.M).group(1)
    said = {k: (shown, swept) for k, shown, swept in
            re.findall(r"(\S+) (≥?\d+\.\d) \((?:a round; its sweep's (\d+\.\d)|its sweep)\)", bests)}
    assert set(said) == set(ns["best"])
    for kernel, (shown, from_sweep) in said.items():
        swept = max(ns["sweeps"][kernel].values())
        assert shown.startswith("≥") == (kernel in ns["lower"])
        assert float(shown.lstrip("≥")) == pytest.approx(ns["best"][kernel], abs=0.051)
        shown_as = lambda rate: float(f"{rate:.1f}")   # as printed
        assert bool(from_sweep) == (shown_as(max(ns["round_rates"][kernel])) > shown_as(swept))
        assert ns["best"][kernel] == (max(ns["round_rates"][kernel]) if from_sweep else swept)
        # reader 33 a1: a sweep whose top lies below that best beyond the A/A drift is flagged SLOWED, a lower bound
        ratio = shown_as(swept) / shown_as(ns["best"][kernel])
        slowed = ns["verdicts"].place(ratio, (1.0,), noise=ns["aa_noise"])[0] == 0
        assert (f"SLOWED: {kernel}'s sweep topped at {swept:.1f} GFLOP/s, {ratio:.2f}× its best" in text) == slowed
        assert not slowed or kernel in ns["lower"]
    # reader 33 c8: the scalar 8-chain line divides by that one best
    scalar = ns["best"]["scalar"]
    assert (f"{ns['sweeps']['scalar'][8] / scalar:.0%} of its best ({'≥' * ('scalar' in ns['lower'])}{scalar:.1f}, "
            "above)") in text


def _unwrapped(text: str, indent: int = 2) -> str:
    """The printed text with each wrapped line (continued after a newline and ``indent`` spaces) made one again:
    tutorial 4 wraps with two, tutorial 6 with ``tutorials.fit``'s four."""
    return re.sub(rf"\n {{{indent}}}(?=\S)", " ", text)


def test_each_thread_row_flags_exactly_the_speed_ups_its_own_measurements_rule_out(simd):
    ns, text = simd
    rows = dict(re.findall(r"^n = +(\d+): (1 thread .*\n +helper threads .*(?:\n {10}\(.*)*)$", text, re.M))
    assert {int(n) for n in rows} == set(ns["sizes"])
    for n, row in rows.items():
        speedup, helpers = ns["speedups"][int(n)], ns["helpers"][int(n)]
        quotient = ns["rates"][f"{ns['cores']} threads"][int(n)] / ns["rates"]["1 thread"][int(n)]
        superlinear = speedup > 1.05 * ns["cores"]
        assert ("SUPER-LINEAR above" in row) == superlinear
        assert ("IMPLAUSIBLE with idle helpers" in row) == (not superlinear and speedup > 1.2 and helpers < 0.1)
        assert f"({quotient:.3f}×); pair by pair {speedup:.3f}×" in row and f"helper threads {helpers:.2f} cores" in row
        low, high = sorted(round(x * 1000) for x in (float(f"{quotient:.3f}"), float(f"{speedup:.3f}")))
        assert ("they differ" in row) == (100 * high > 115 * low)   # decided on the ratios as printed (reader 21 c2)
    # reader 32 c10: the rows' speed figures are said to be the probe's readings around the halves, which a probe
    # as short as its runs may take at a slow moment
    # reader 36 b2: and as a share of the probe's usual reading, its A/A's median, printed with the A/A's figures
    assert (f"(speed ≥: the probe's reading of the cores' speed around the halves — the lowest of its "
            f"{ns['peak'].RUN_SECONDS * 1e3:.0f}-ms runs just before and after each — not a timing of the halves — as a "
            f"share of its usual reading: the median of its A/A, {ns['load'].AA_PAIRS} pairs of runs back to back with "
            f"nothing between, each pair's slower: 1 core {ns['one_aa']['usual']:.1f} GFLOP/s") in _unwrapped(text, 4)


def test_the_step_1_comparison_names_every_flag_and_reads_as_its_function_does(simd):
    """The line setting Step 4's 1-thread rate against Step 1's is the cell's ``step_1_line`` of the run's own
    figures (its outcomes: tests/test_tutorial_06.py), and names Step 1's UNSTEADY flag and Step 4's row's
    disturbance exactly when they were raised."""
    ns, text = simd
    line = re.search(r"^numpy's OpenBLAS at n = .*(?:\n  .*)*", text, re.M)
    if "numpy-openblas" not in ns["library_rates"]:
        assert line is None
        return
    line = _unwrapped(line.group(0), 4)
    expected = ns["step_1_line"](ns["rates"]["1 thread"][128], ns["rounds_of"]["numpy-openblas"],
                                 (ns["probe"][128], ns["statistics"].median(ns["probe_of"]["numpy-openblas"])),
                                 ns["others"][128], ns["slowed"], ns["flagged"])
    assert line == expected
    assert ("Step 1 UNSTEADY" in line) == ("numpy-openblas" in ns["unsteady_rate"])
    assert ("Step 4's n = 128, 1 thread" in line) == bool(ns["disturbed_one"][128])
    # reader 27 a2: the range's top divides by the speed the flag names (the one-core probe's), not the both-core one
    assert ns["slowed"] == (min(1.0, ns["speed_one"][128]) if ns["disturbed_one"][128] else 1.0)
    assert not ns["verdicts"].slow(ns["speed_one"][128]) or f"as slow as {ns['speed_one'][128]:.0%} of its usual speed" in line


def _noise(ns: dict) -> float:
    """The pair noise the verdicts widen every ratio by at least, measured on medians (reader 26, a1): how far
    (``verdicts.apart``) the A/A controls' (sizes whose helper threads stayed idle) orders' medians strayed from 1, from
    the controls no flag touched — all of them when none is left."""
    controls = [n for n in ns["sizes"] if ns["helpers"][n] < 0.1]
    quiet = [n for n in controls if not ns["disturbed"][n] and not ns["unfair"][n]]
    return max(verdicts.apart(m) for n in quiet or controls for m in _medians(ns, n))


def _medians(ns: dict, n: int) -> list[float]:
    """Size ``n``'s two orders' median pair ratios: of the pairs run 1-thread half first, and the others."""
    ratios = ns["pair_ratios"][n]
    return [statistics.median(ratios[0::2]), statistics.median(ratios[1::2])]


def _own(ns: dict, n: int) -> float:
    """Size ``n``'s pairs' own spread, as the run printed it or wider: all its pairs', or either order's."""
    ratios = ns["pair_ratios"][n]
    return max(map(verdicts.spread, (ratios, ratios[0::2], ratios[1::2])))


def _noise_at(ns: dict, n: int) -> float:
    """The pair noise size ``n`` is widened by: the controls' medians' or its own two medians' spread, whichever is
    wider — but where every control was flagged, an undisturbed row's own single pairs' spread: a noise measured only
    on disturbed rows does not bound it (reader 25, a1)."""
    controls = [m for m in ns["sizes"] if ns["helpers"][m] < 0.1]
    lone = not any(not ns["disturbed"][m] and not ns["unfair"][m] for m in controls)
    return _own(ns, n) if lone and not ns["disturbed"][n] else max(_noise(ns), verdicts.spread(_medians(ns, n)))


def _noisy(ns: dict, steady: list[int]) -> bool:
    """Whether the noise the ``steady`` sizes are widened by reaches the 20 % a 1.2× speed-up must clear: then no
    trend of the split cost is read."""
    return max((_noise_at(ns, n) for n in steady), default=0.0) >= 0.2


def test_the_order_lines_read_the_runs_own_alternated_pairs(simd):
    """Step 4's pairs alternate which half runs first (reader 18, b1): the run prints each size's two orders' medians
    and the spread within them as its own pair ratios give them, its pair-by-pair ratio is the two medians' geometric
    mean, and the line on the order at the A/A controls is the cell's ``order_verdict`` of this run's own pairs,
    whichever outcome it took (each outcome's words against its figures: tests/test_tutorial_06.py)."""
    ns, text = simd
    flat = unwrap(text)
    line = re.search(r"^which half ran first.*$", flat, re.M).group(0)
    for n in ns["sizes"]:
        firsts, seconds = ns["pair_ratios"][n][0::2], ns["pair_ratios"][n][1::2]
        assert (len(firsts), len(seconds)) == (2, 1)
        one, every = ns["statistics"].median(firsts), ns["statistics"].median(seconds)
        within = max(verdicts.spread(firsts), verdicts.spread(seconds))
        assert f"n = {n}: {one:.2f} | {every:.2f}× ±{within:.0%}" in line
        assert ns["speedups"][n] == pytest.approx((one * every) ** 0.5)
    said = re.search(r"^the order, at those controls: (.*)$", flat, re.M)
    assert bool(said) == bool(ns["aa"])
    assert not said or said.group(1) == ns["order_verdict"](ns["aa"])


def test_the_split_cost_verdict_rests_on_three_undisturbed_sizes_or_is_not_settled(simd):
    ns, text = simd
    line = re.search(r"^what splitting cost beyond an even share.*$", _unwrapped(text, 4), re.M)
    if not ns["shared"]:
        assert line is None
        return
    sizes = re.findall(r"n = (\d+)(\*?): -?\d+ µs = -?\d+% of t1", line.group(0))
    assert [int(n) for n, _ in sizes] == list(ns["shared"])
    left_out = {n for n in ns["shared"] if ns["disturbed"][n] or ns["unfair"][n]}   # a flag of either kind
    assert {int(n) for n, star in sizes if star} == left_out
    steady = [n for n in ns["shared"] if n not in left_out]
    assert ("not settled in this run" in line.group(0)) == (len(steady) < 3 or _noisy(ns, steady))
    if len(steady) >= 3 and not _noisy(ns, steady):
        said = verdicts.trend([ns["cost"][n] / ns["t1"][n] for n in steady])
        assert f"of the undisturbed sizes, the share {said}" in line.group(0)


_PAYING = r"^(?:from n = \d+ on|a second thread paid|no size whose range|whether a second thread pays).*$"   # its line


def _opening(ns: dict) -> str:
    """How the paying verdict opens, by the book's one rule (``verdicts.place``) on the sizes whose ratio is the
    code's: a slowed core on either side alone, busy others bounding nothing, the pair noise both ways."""
    fair = [n for n in ns["shared"] if not ns["unfair"][n]]
    region = {n: verdicts.place(ns["speedups"][n], (1.2,), ns["others"][n], ns["slowest_of"][n],
                                _noise_at(ns, n))[0]
              for n in fair}
    settled = [n for n in fair if region[n] is not None]
    above = [n for n in settled if region[n] == 1]
    paying = [n for n in settled if all(region[m] == 1 for m in settled if m >= n)]
    if not settled:
        return "whether a second thread pays more than 1.2×: not settled"
    if len(paying) > 1 and paying == above:
        return f"from n = {paying[0]} on"
    return (f"a second thread paid more than 1.2× (the whole range above) at n = {', '.join(map(str, above))}" if above
            else "no size whose range settles")


def _left_out(verdict: str) -> set[int]:
    """The sizes (n ≥ 100) the verdict's "(left out, …)" clause names."""
    clause = re.search(r"\(left out, .*", verdict)
    return {int(n) for n in re.findall(r"(?<![\d.])\d{3,4}(?![\d.])", clause.group(0))} if clause else set()


def test_the_paying_verdict_rests_on_the_fair_ratios_and_names_the_rest(simd):
    ns, text = simd
    line = re.search(_PAYING, _unwrapped(text, 4), re.M).group(0)
    assert _left_out(line) == {n for n in ns["shared"] if ns["unfair"][n]}
    assert line.startswith(_opening(ns))


@pytest.mark.parametrize("seed", seeds(150, 30))
def test_the_verdicts_never_count_a_size_they_must_leave_out(simd, seed):
    """Seeded made-up rows run through the tutorial's own verdict cell: the paying verdict is the one the book's one
    rule gives on the sizes whose ratio is the code's (a busy or slowed row placed by its range, never counted as
    exact), the split-cost trend the one the undisturbed sizes alone give (not settled when the A/A noise reaches
    20 %), and every size left out is named — whatever the left-out sizes measured."""
    rng = np.random.default_rng(seed)
    allowed = [104, 128, 256, 384, 512, 768, 1024]       # sizes a second thread is allowed at
    shared = sorted(rng.choice(allowed, size=int(rng.integers(1, 7)), replace=False).tolist())
    sizes = [16, 64] + shared
    rows = {"sizes": sizes, "helpers": {n: 0.9 * (n in shared) for n in sizes},
            "speedups": {n: float(rng.uniform(0.2, 1.9)) for n in sizes},
            "others": {n: float(rng.choice([0.05, 0.05, 1.2])) for n in sizes},
            "slowest_of": {n: float(rng.choice([1.0, 0.9, 0.8, 0.6])) for n in sizes},
            "rates": {label: {n: float(rng.uniform(5, 90)) for n in sizes} for label in ("1 thread", "2 threads")}}
    spread = float(rng.choice([0.1, 0.19, 0.21, 0.5]))     # how far the A/A controls (helpers idle) may stray
    rows["speedups"] |= {n: float(rng.uniform(1 - spread, 1 + spread)) for n in (16, 64)}
    rows["pair_ratios"] = {n: [rows["speedups"][n] * float(rng.choice([1.0, 1.0, 0.85, 1.15])) for _ in range(3)]
                           for n in sizes}   # their own spread: 0 or 15 %, wider than the A/A noise or not
    rows["unfair"] = {n: "its two ratios differ (1.00× and 1.30×): the pairs saw different moments"
                      if rng.random() < 0.2 else "" for n in sizes}
    rows["disturbed"] = {n: "slow core" if rows["slowest_of"][n] < verdicts.SLOW or rows["others"][n] > 1 else ""
                         for n in sizes}
    printed = io.StringIO()
    cell = next(code for code in tutorials.cells(tutorials.find("threads-and-simd")) if "paying = " in code)
    with contextlib.redirect_stdout(printed):
        exec(cell, dict(simd[0]) | rows | {"cores": 2})   # noqa: S102 — the tutorial's own cell
    text = _unwrapped(printed.getvalue(), 4)
    verdict = re.search(_PAYING, text, re.M).group(0)
    assert verdict.startswith(_opening(rows | {"shared": shared}))
    assert _left_out(verdict) == {n for n in shared if rows["unfair"][n]}
    steady = [n for n in shared if not rows["disturbed"][n] and not rows["unfair"][n]]
    cost = re.search(r"^what splitting cost.*$", text, re.M).group(0)
    t1 = {n: 2 * n**3 / rows["rates"]["1 thread"][n] for n in steady}
    share = [(2 * n**3 / rows["rates"]["2 threads"][n] - t1[n] / 2) / t1[n] for n in steady]
    noisy = _noisy(rows, steady)
    assert ("not settled in this run" in cost) == (len(steady) < 3 or noisy)
    if len(steady) >= 3 and not noisy:
        assert f"the share {verdicts.trend(share)}" in cost


def test_the_batch_split_adds_up_and_follows_the_pairs_printed(memory):
    """Step 3 splits a batch's time into page faults, writing an epoch of results, different rows and the gather
    itself from a chain of alternating pairs' ratios (reader 24 b2): the shares add up."""
    text = unwrap(memory[1])                      # its lines wrapped by tutorials.fit
    ratios = re.search(r"every result kept took (\d+\.\d\d)× the same gathers into pre-faulted results \(.*?\), those "
                       r"(\d+\.\d\d)× the reused buffer, different rows (\d+\.\d\d)×", text)
    kept, prefaulted, different = (float(r) for r in ratios.groups())
    split = re.search(r"^a batch's time, split by the three pairs' ratios(:|, on a slowed core| — other) .*$", text,
                      re.M).group(0)
    shares = [int(p) for p in re.findall(r"\((-?\d+)%\)", split)]
    pairs = text[text.index("every result kept took"):text.index("page faults in one epoch")]
    assert bool(shares) == ("disturbed (" not in pairs)                 # milliseconds and shares from calm pairs only
    if not shares:                                                       # a slowed core: ranges; others: none
        assert len(re.findall(r" -?\d+%…-?\d+%", split)) == (0 if "not settled in this run" in split else 4)
    if shares:
        assert len(shares) == 4 and abs(sum(shares) - 100) <= 3
        assert shares[0] == pytest.approx(100 - 100 / kept, abs=2)
        assert shares[3] == pytest.approx(100 / kept / prefaulted / different, abs=2)


@pytest.fixture(scope="module")
def network(plain_run):
    return plain_run("the-network")[1]


def test_each_learning_rate_shows_its_own_path_and_is_called_up_and_down_only_when_it_rose(network):
    paths = re.findall(r"^ +(\d+(?:\.\d+)?): ((?:\d+\.\d{4}(?: → )?)+)(  \((?:up and down|diverged)\))?$", network, re.M)
    assert len(paths) == 6
    for _, losses, mark in paths:
        values = [float(v) for v in losses.split(" → ")]
        assert ("up and down" in mark) == any(b >= a for a, b in zip(values, values[1:]))


def test_the_first_check_prints_each_classs_guess_and_flags_it_only_when_far_from_a_tenth(network):
    low, high, far = re.search(r"^    each class's mean probability over the \d+ images: (\S+) to (\S+); 1/10 = 0.100(  — FAR)?",
                               network, re.M).groups()
    assert bool(far) == (not (0.05 <= float(low) and float(high) <= 0.2))


def test_the_seed_bug_check_marks_exactly_the_wrong_gradient(network):
    checks = re.findall(r"^(W1|b1|W2|b2): relative error (\S+)(  ← wrong)?$", network, re.M)
    assert [name for name, _, _ in checks] == ["W1", "b1", "W2", "b2"] * 2         # Step 4's check, then Step 5's
    rows = checks[4:]
    assert all(bool(wrong) == (float(error) > 1e-6) for _, error, wrong in rows)
    assert [name for name, _, wrong in rows if wrong] == ["b1"]
    b1 = float(dict((name, error) for name, error, _ in rows)["b1"])
    assert 0.1 <= b1 <= 1          # "of order 1", and the measure's bound the prose gives
    prose = re.sub(r"\s+", " ", "".join(tutorials.prose(tutorials.find("the-network"))))
    assert "by a relative error of order 1 (this measure," in prose and "never exceeds 1)" in prose


def test_the_broadcast_ratios_are_called_unsettled_exactly_when_a_timing_was_disturbed(plain_run):
    text = plain_run("broadcasting")[1]
    step_2 = text[text.index("Python loop over samples"):text.index("the table's ratio")]
    verdict = unwrap(text[text.index("the table's ratio"):]).split("\n")[0]
    assert ("disturbed timings" in verdict) == ("disturbed:" in step_2)
    assert ("not settled in this run" in verdict) == ("disturbed:" in step_2)
