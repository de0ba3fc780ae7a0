"""Verdicts the tutorials print from their own measurements, so that no sentence claims what the
numbers beside it do not show: a trend, a super-linear speed-up, an order that held or flipped."""

from __future__ import annotations

import bisect
import statistics

STEP = 1.1      # a trend needs every step to move by more than this factor
IDLE = 0.25     # cores other processes may use while a machine still counts as idle
SLOW = 0.85     # a core below this share of the probe's usual reading ran slow (``load.watch``'s ``speed``): 60
#                 back-to-back readings of nothing on an idle 2-vCPU Zen 3 VM read 0.85 to 0.93 (min, median) of the
#                 probe's best, so none below 0.91 of their median — 0.85 of it leaves the probe's own spread out
LOW = 0.8       # a rate below this share of the same work's rate elsewhere in the run was disturbed


def busy(others: float | None) -> bool:
    """Whether other processes' ``others`` cores (None: not measured) disturbed a run: more than ``IDLE``, decided
    on the figure as printed (two decimals), so a printed "0.25 cores" is never called busy.

    >>> busy(0.2504), busy(0.2551), busy(None)
    (False, True, False)
    """
    return others is not None and float(f"{others:.2f}") > IDLE


def slow(speed: float | None, mark: float = SLOW) -> bool:
    """Whether a core at ``speed`` (share of the probe's usual reading, ``load.usual``; None: not measured) ran slow:
    below ``mark`` (``SLOW``, or lower: a probe's own floor where it reads lower than that with nothing to read,
    ``load.placed_aa``), decided on the figures as printed (whole percents), so a printed "85%" is never called slow.

    >>> slow(0.8496), slow(0.8449), slow(None), slow(0.6, mark=0.55)
    (False, True, False, False)
    """
    return speed is not None and _percent(speed) < _percent(mark)


def _percent(share: float) -> float:
    """``share`` as printed, a whole percent."""
    return float(f"{share:.0%}"[:-1])


HELD = "timed while the probe held it"   # how ``load.watch`` times the core's speed
# what a slow core reading with other processes idle leaves open when the probe's own spread was not measured
UNISOLATED = "the host, the CPU's own clock, or the probe's own short reading; which, this run does not isolate"
# what no reading from inside a virtual machine tells apart, steal or not: said where steal was 0
GUEST = ("the host's other guests or the CPU's own clock, not counted as steal (which misses a guest sharing the "
         "physical core or its L3); which, no reading inside a virtual machine isolates")


def cause(others: float | None, speed: float | None, probe: str = HELD, low: float | None = None,
          steal: float | None = None, own: float | None = None) -> str:
    """The measured disturbance of a run ('' when neither measurement shows one): ``others`` cores
    used by other processes, and the core's ``speed`` (share of the probe's usual reading) around it, as
    timed by ``probe`` (how the speed was measured: ``load.watch``'s one-core probe by default). A slow core
    with other processes idle is set against ``own`` — the cores this process's own other threads (a library's
    helpers) used during the probe that read it — then ``low`` — the lowest the probe read of nothing in its A/A
    (``load.aa``) — and the host's ``steal`` (cores, part of ``others``: named among busy ones where given); each
    None takes this process's figure (``own``: ``load.own_beside`` of ``speed``; ``load.measured``: the one-core
    probe's A/A, the steal over every watch), said as unmeasured when there is none."""
    said = f"other processes used {others:.2f} cores" + (
        f" (the host's steal among them: {steal:.2f})" if steal is not None and float(f"{steal:.2f}") > 0 else "") \
        if busy(others) else ""
    if slow(speed):
        said += ("; " if said else "") + f"the core ran as slow as {speed:.0%} of its usual speed around it ({probe})" + (
            "" if busy(others) else f", with other processes at {others or 0:.2f} cores" + idle_cause(speed, low, steal, own))
    return said


def idle_cause(speed: float, low: float | None, steal: float | None, own: float | None) -> str:
    """What a slow ``speed`` with other processes idle is, from ``cause``'s text on: first what this process's own
    other threads used during the probe (``own``, cores; None: :func:`nnkit.bench.load.own_beside`, unmeasured when
    it has none) — more than 0.00 as printed, they may have shared its core — then :func:`idle_slow`."""
    if own is None:
        from nnkit.bench import load
        own = load.own_beside(speed)
    if own is None:
        return ": not another process (this process's own threads during the probe: not measured) — " + idle_slow(
            speed, low, steal)
    if float(f"{own:.2f}") > 0:
        return (f": not another process, but this process's own other threads ran beside the probe ({own:.2f} cores: "
                "a library's helpers spinning after a product, say) and may have shared its core — whether that is all "
                "of it, this run does not isolate")
    return (f", this process's own other threads at 0.00 during the probe: neither another process nor this process's "
            "own threads — " + idle_slow(speed, low, steal))


def idle_slow(speed: float, low: float | None, steal: float | None) -> str:
    """What a slow ``speed`` with other processes and this process's own threads idle is, by the probe's A/A ``low``
    and the host's ``steal`` (None: this process's figures, :func:`cause`)."""
    where = " meanwhile" if steal is not None else " over this run's watches"
    if low is None or steal is None:
        from nnkit.bench import load
        seen = load.measured()
        low, steal = (seen["low"] if low is None else low), (seen["steal"] if steal is None else steal)
    if low is None:
        return UNISOLATED
    if _percent(speed) >= _percent(low):
        return f"the probe's own noise reaches {low:.0%} (the lowest of its A/A): this flag may be the probe's noise"
    own = f"below the lowest the probe read of nothing ({low:.0%}, its A/A): not its own reading; "
    if steal is None:
        return own + "the host or the CPU's own clock; which, this run does not isolate"
    if float(f"{steal:.2f}") > 0:
        return own + f"the host took {steal:.2f} cores as steal{where}, and may have slowed it further unseen"
    return own + f"no steal{where}: " + GUEST


def trend(values: list[float]) -> str:
    """How a series (in order of n) moves: 'grows with n' when every step rises more than ``STEP``×,
    'shrinks with n' when every step falls more than that, otherwise no steady trend — and then which held, its
    steps (each value ÷ the one before, printed :func:`beside` the mark so that a step prints on its own side of
    it): a step within ``STEP``× either way (named: "the first", "each" …), or steps beyond it both up and down.
    Steps are factors only between values above 0; a series with one at or below 0 names that instead.

    >>> trend([16.0, 17.0, 21.0])
    'shows no steady trend with n (its steps ×1.06, ×1.24: the first within ×1.1 either way)'
    >>> trend([10.0, 20.0, 5.0])
    'shows no steady trend with n (its steps ×2.00, ×0.25: beyond ×1.1 both up and down)'
    """
    if len(values) < 2:
        return "shows no steady trend with n (one value: no step)"
    if min(values) <= 0:
        return "shows no steady trend with n (not every value lies above 0, so no step is a factor)"
    steps = [b / a for a, b in zip(values, values[1:])]
    if all(s > STEP for s in steps):
        return "grows with n"
    if all(s < 1 / STEP for s in steps):
        return "shrinks with n"
    within = [i for i, s in enumerate(steps) if 1 / STEP <= s <= STEP]
    printed = ", ".join(f"×{beside(s, STEP if s >= 1 else 1 / STEP)}" for s in steps)
    if len(steps) == 1:
        return f"shows no steady trend with n (its one step, {printed}, within ×{STEP:g} either way)"
    held = [f"{_which(within, len(steps))} within ×{STEP:g} either way"] if within else []
    if any(s > STEP for s in steps) and any(s < 1 / STEP for s in steps):
        held.append("the others beyond it, both up and down" if within else f"beyond ×{STEP:g} both up and down")
    return f"shows no steady trend with n (its steps {printed}: {'; '.join(held)})"


ORDINALS = ("first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth", "ninth", "tenth")


def _which(indices: list[int], total: int) -> str:
    """The steps at ``indices`` (0-based, of ``total`` steps, more than one) in words: "each", or "the first and
    third"."""
    if len(indices) == total:
        return "each"
    named = [ORDINALS[i] if i < len(ORDINALS) else f"{i + 1}th" for i in indices]
    return "the " + (named[0] if len(named) == 1 else ", ".join(named[:-1]) + " and " + named[-1])


def super_linear(gain: float, cores: int) -> str:
    """A warning ('' when there is none) for a many-thread ÷ one-thread speed-up above 1.05 × the number of
    cores. ``cores`` cores do at most ``cores``× the work of one unless their added caches change the work itself:
    each core's own L2 holds its own share (in nnkit's dgemm, each core packs its own A block into its own L2), so
    a few percent above ``cores``× is plausible. The 5 % allowance covers that and the timers' noise; no tutorial
    measures either (per-core cache misses would). Beyond it the book reads the speed-up as one of the two runs
    disturbed."""
    if gain <= 1.05 * cores:
        return ""
    return (f"SUPER-LINEAR on {cores} cores ({gain:.2f}×): more than {cores} cores add unless their added caches "
            "change the work, which this run does not measure — read as one of the two runs disturbed; run it again")


def unsteady_peak(one_core: float, all_cores: float, cores: int, others: float | None = None) -> str:
    """A warning ('' when there is none) for an all-core peak (GFLOP/s) off ``cores`` × the 1-core
    one by more than 10 %: the FMA loop's cores are independent, so it scales by exactly that unless
    something held or slowed a core during the runs of one of the two. Below: the all-core runs were
    hit; above: the 1-core runs were. ``others`` (cores other processes used meanwhile, None if not
    measured) says what: other work, or — with others idle, a reading no run isolates — the host running a core
    slow or a probe thread running late."""
    scale = all_cores / one_core
    if 0.9 * cores <= scale <= 1.1 * cores:
        return ""
    late = "a thread of the probe started or ran late, which its rate, timed by the wall clock, counts too"
    if others is None:
        why = (f"a reading, not isolated here: other processes held a core, the host or the CPU's own clock slowed "
               f"one, or {late}")
    elif busy(others):
        why = f"other processes used {others:.2f} cores during its runs"
    else:
        why = (f"other processes used only {others:.2f} cores during its runs — what slowed it is a reading, not "
               f"isolated here: the host or the CPU's own clock ran a core of this virtual machine slow, or {late}")
    one, every = steady_peaks(one_core, all_cores, cores)
    hit, base = (f"the {cores}-core peak", f"{cores} × the 1-core one ({every:.0f})") if scale < cores else \
        ("the 1-core peak", f"the {cores}-core one ÷ {cores} ({one:.0f})")
    return (f"UNSTEADY: the {cores}-core peak ({all_cores:.0f}) came out {scale:.2f}× the 1-core one "
            f"({one_core:.0f}), not about {cores}×:\n  {why} (of {hit}) — run it again; shares of {hit} "
            f"below use {base}")


def steady_peaks(one_core: float, all_cores: float, cores: int) -> tuple[float, float]:
    """The 1-core and all-core peaks (GFLOP/s) to divide by: the measured ones, or, when
    :func:`unsteady_peak` flags them, the unflagged one scaled by ``cores`` in place of the other."""
    if all_cores < 0.9 * cores * one_core:
        return one_core, cores * one_core
    if all_cores > 1.1 * cores * one_core:
        return all_cores / cores, all_cores
    return one_core, all_cores


def peak_bound(probe: float, seen: dict[str, float]) -> tuple[float, str | None]:
    """The peak to divide by (GFLOP/s) and the rate that set it (None: the ``probe``'s figure). A peak, like every
    rate, is only ever slowed, so the highest undisturbed rate in ``seen`` (name → GFLOP/s) is a lower bound of it:
    above the probe's figure, the probe was slowed and that rate stands in (every share of it then an upper bound).

    >>> peak_bound(80.0, {"packing": 84.0, "loops": 2.0}), peak_bound(80.0, {"loops": 2.0})
    ((84.0, 'packing'), (80.0, None))
    """
    name = max(seen, key=seen.get, default=None)
    return (seen[name], name) if name is not None and seen[name] > probe else (probe, None)


def below(rate: float, reference: float, what: str) -> str:
    """A warning ('' when there is none) for a rate under ``LOW`` × the same work's ``reference``
    rate measured elsewhere in the run (``what`` names it): the machine disturbed the slower one,
    so no conclusion may rest on it."""
    if rate >= LOW * reference:
        return ""
    return f"{rate:.1f} is only {rate / reference:.2f}× {what} ({reference:.1f}): read nothing off it, run it again"


def ratio_bounds(ratio: float, others: float | None, speed: float | None) -> tuple[float, float]:
    """What a ratio of two rates timed in alternating pairs can truly be, given the disturbance around the
    pairs: exact when undisturbed; a core slowed to ``speed`` (share of its usual) with other processes
    idle may have slowed either side alone, so ``ratio × speed`` … ``ratio ÷ speed``; other processes
    busy (more than ``IDLE`` cores) bound nothing: (0, inf)."""
    if busy(others):
        return 0.0, float("inf")
    slowed = min(speed, 1.0) if slow(speed) else 1.0
    return ratio * slowed, ratio / slowed


def place(ratio: float, marks: tuple[float, ...], others: float | None = None, speed: float | None = None,
          noise: float = 0.0) -> tuple[int | None, tuple[float, float]]:
    """The one rule by which the book places a ratio of two rates timed in alternating pairs against
    ``marks`` (ascending; region 0 lies below the first mark, region i at or above mark i − 1 and
    below mark i): decided from the range the ratio can truly lie in — :func:`ratio_bounds` for the
    disturbance around the pairs (a slowed core may have slowed either side alone), widened both ways
    by the pair ``noise`` (an :func:`apart` share: an A/A control's spread, or the pairs' own, from
    :func:`spread`). Returns the region the whole range lies in (None when it spans a mark, or other
    processes were busy, which bounds nothing) and the range. ``load.watch`` samples the core's speed
    around the pairs, not during them, so the range holds only if the pairs ran no slower than that.

    >>> place(1.3, (0.8, 1.25))                          # undisturbed, no noise: at or above 1.25
    (2, (1.3, 1.3))
    >>> place(1.3, (0.8, 1.25), others=0.0, speed=0.8)[0] is None    # 1.04…1.63 spans 1.25
    True
    """
    low, high = ratio_bounds(ratio, others, speed)
    low, high = low / (1 + noise), high * (1 + noise)
    region = bisect.bisect_right(marks, low)
    return (region if high < float("inf") and bisect.bisect_right(marks, high) == region else None), (low, high)


def beside(value: float, mark: float) -> str:
    """``value`` printed beside ``mark``: two decimals, or as many more (up to 17, a double's digits) as it takes to
    tell the two apart — an end of a range that rounds to its mark would read as reaching it when it does not.

    >>> beside(0.9512, 0.95), beside(0.9499, 0.95), beside(0.84, 0.95)
    ('0.951', '0.9499', '0.84')
    """
    digits = next((d for d in range(2, 18) if f"{value:.{d}f}" != f"{mark:.{d}f}"), 2)
    return f"{value:.{digits}f}"


def span(low: float, high: float, marks: tuple[float, ...]) -> str:
    """A range (:func:`place`'s) in words, each end printed :func:`beside` the mark nearest it, so that the side of a
    mark it lies on is the side it prints on; nothing bounds it when other processes were busy (``high`` infinite).

    >>> span(0.9499, 1.3, (0.95,)), span(0.5, float("inf"), (1.0,))
    ('0.9499…1.30×', 'unbounded: others were busy')
    """
    near = lambda end: beside(end, min(marks, key=lambda mark: abs(mark - end)))
    return "unbounded: others were busy" if high == float("inf") else f"{near(low)}…{near(high)}×"


def spread(ratios: list[float]) -> float:
    """The pair noise of a set of pair ratios: how far (:func:`apart`) the one farthest from their median
    lies from it — with a handful of pairs a lower bound on the noise, never zero unless they all agree.

    >>> round(spread([1.0, 1.1, 0.9]), 3)
    0.111
    """
    middle = statistics.median(ratios)
    return max(apart(r / middle) for r in ratios)


def median_noise(strayed: float, medians: list[float]) -> float:
    """The noise of a median of pair ratios, measured on medians (an :func:`apart` share): the larger of
    ``strayed`` — how far an A/A control's medians (the same work on both sides) strayed from 1 — and the
    compared ``medians``' own :func:`spread`. Never narrower than the run measured it: a verdict reads
    medians, so it is widened by medians' noise, not by its single pairs'.

    >>> median_noise(0.05, [1.30, 1.40])          # the medians agree to 4 %: the control's 5 % is the noise
    0.05
    >>> round(median_noise(0.05, [1.0, 1.2]), 3)  # they lie 10 % from their median: wider than the control
    0.1
    """
    return max(strayed, spread(medians))


def order(again: float, others: float, speed: float = 1.0, noise: float = 0.0, noise_said: str = "",
          at: str = "this size") -> str:
    """Whether a rung found slower than an earlier one stays slower when the two are re-timed in
    alternating pairs (``again``: its speed ÷ the earlier one's), with ``others`` cores used by
    other processes meanwhile, the core at ``speed`` of its usual and the pairs' own ``noise`` (an
    :func:`apart` share, :func:`spread` of their ratios). Any other work counts, even on a core the
    pair leaves free: on a shared or virtual machine it slows one-thread code too (memory, the host's
    scheduling); so does a core the host ran slow. Decided by :func:`place` against 0.95: a hold or a
    flip only when the ratio's whole range lies on one side of it; a range above 0.95 yet wholly below 1 is an
    order that held, by less than the tie band. ``noise_said``: what the noise was, where it is not the pairs'
    spread (the words after "widened by"). ``at``: the sizes the pairs ran at — an order that held is this run's
    order there, not the two codes' at every size (pairs timed at one size do not measure that)."""
    region, (low, high) = place(again, (0.95,), others, speed, noise)
    noise_said = noise_said or f"the pairs' {noise:.0%} spread"
    disturbed = cause(others, speed)
    bound = (f"{again:.2f} × {speed:.2f} … {again:.2f} ÷ {speed:.2f}" if disturbed else f"{again:.2f}") + (
        f", widened by {noise_said}," if noise else "") + f" = {beside(low, 0.95)}…{beside(high, 0.95)}×"
    said = f" ({bound})" if disturbed or noise else ""
    if region == 1 and round(high, 2) < 1:   # slower still, by less than the 0.95 mark: a tie by it, not a flip
        return (f"the order held{' even at its bounds' if disturbed else ''}, by {1 - high:.0%}…{1 - low:.0%}{said} — "
                "inside the 0.95 tie band, so by that mark the two count as tied")
    if region == 1:
        return (f"the order {'flips' if low >= 1 else 'ties'}{' even at its bounds' if disturbed else ''}{said}"
                + ("" if low >= 1 else ", its range reaching 1") + ": the first run's order did not hold")
    if region == 0 and not disturbed:
        return (f"the order holds on an idle machine, the core at {speed:.0%} of its usual speed (within the {SLOW:.0%} "
                f"mark){said}: this run's order at {at}, not noise")
    if region == 0:
        return f"the order holds even at its bounds{said}: this run's order at {at}, not noise"
    if high == float("inf"):
        return f"not settled in this run — run it again: other processes used {others:.2f} cores, which bounds nothing"
    if not disturbed:
        return (f"not settled in this run — run it again: the pairs' own {noise:.0%} spread leaves {again:.2f} at "
                f"{beside(low, 0.95)}…{beside(high, 0.95)}×, across the 0.95 mark")
    return (f"not settled in this run — run it again: the core ran at {speed:.0%} (below the {SLOW:.0%} mark), so either\n"
            f"    side alone may have been slowed: {bound} spans the 0.95 mark")


def apart(ratio: float) -> float:
    """How far ``ratio`` lies from 1, either way, as a share: a pair timed the other way round gives the
    inverse ratio, so 0.8× and 1.25× are equally far (0.25) — the one measure of pair noise in the book.

    >>> round(apart(0.8), 2), round(apart(1.25), 2)
    (0.25, 0.25)
    """
    return max(ratio, 1 / ratio) - 1


def closest(chosen: float, rest: list[float], noise: float = 0.0) -> str:
    """How a share (of a roof) compares with the other shares: above all, above their median, or not — each said
    only when ``chosen`` lies farther from that mark than ``noise`` (an :func:`apart` share: how far its ratio to
    another share strayed over repeated measurements), as ``chosen ÷ (1 + noise)`` … ``chosen × (1 + noise)``;
    a range that reaches a mark is not settled.

    >>> closest(0.242, [0.227, 0.224, 0.05]), closest(0.242, [0.227, 0.224, 0.05], noise=0.1)[:11]
    ('came closest', 'not settled')
    """
    ordered, median = sorted(rest), statistics.median(rest)
    low, high = chosen / (1 + noise), chosen * (1 + noise)
    if low > ordered[-1]:
        return "came closest"
    if high <= ordered[-1] and low > median:
        return "came closer than most"
    if high <= median:
        return "came no closer than the median operation"
    mark, name = (ordered[-1], "the closest other's") if high > ordered[-1] else (median, "the median's")
    return (f"not settled in this run: {chosen:.1%} ÷/× {1 + noise:.2f} (the noise) = {low:.1%}–{high:.1%} reaches "
            f"{name} {mark:.1%} — run it again")
