"""Verdicts the tutorials print from their own measurements, so that no sentence claims what the
numbers beside it do not show: a trend, an impossible speed-up, an order that held or flipped."""

from __future__ import annotations

STEP = 1.1      # a trend needs every step to move by more than this factor
IDLE = 0.25     # cores other processes may use while a machine still counts as idle


def trend(values: list[float]) -> str:
    """How a series (in order of n) moves: 'grows with n' when every step rises more than ``STEP``×,
    'shrinks with n' when every step falls more than that, otherwise no steady trend."""
    steps = [b / a for a, b in zip(values, values[1:])]
    if steps and all(s > STEP for s in steps):
        return "grows with n"
    if steps and all(s < 1 / STEP for s in steps):
        return "shrinks with n"
    return f"shows no steady trend with n (steps within ±{STEP - 1:.0%}, or up and down)"


def impossible_speed_up(gain: float, cores: int) -> str:
    """A warning ('' when there is none) for a many-thread ÷ one-thread speed-up above the number of
    cores (5 % of timer noise allowed): no code runs faster on ``cores`` cores than ``cores``× —
    one of the two runs was disturbed."""
    if gain <= 1.05 * cores:
        return ""
    return f"IMPOSSIBLE on {cores} cores ({gain:.2f}×): one of the two runs was disturbed — noise, run it again"


def unsteady_peak(one_core: float, all_cores: float, cores: int) -> str:
    """A warning ('' when there is none) for an all-core peak (GFLOP/s) below 0.9 × ``cores`` × the
    1-core one: the FMA loop's cores are independent, so only other processes holding a core during
    its runs make it scale less."""
    if all_cores >= 0.9 * cores * one_core:
        return ""
    return (f"UNSTEADY: the {cores}-core peak ({all_cores:.0f}) came out {all_cores / one_core:.2f}× the 1-core one "
            f"({one_core:.0f}), not about {cores}×:\n  other processes held a core during its runs — run it again")


def order(again: float, others: float) -> str:
    """Whether a rung found slower than an earlier one stays slower when the two are re-timed in
    alternating pairs (``again``: its speed ÷ the earlier one's), with ``others`` cores used by
    other processes meanwhile. Any other work counts, even on a core the pair leaves free: on a
    shared or virtual machine it slows one-thread code too (memory, the host's scheduling)."""
    if again >= 0.95:
        return "the order flips or ties: the first run was noise"
    if others > IDLE:
        return "the order holds on a busy machine: it may be the load's, run it on an idle one"
    return "the order holds on an idle machine: the code's, not noise"


def closest(chosen: float, rest: list[float]) -> str:
    """How a share (of a roof) compares with the other shares: above all, above the median, or not."""
    ordered = sorted(rest)
    median = (ordered[(len(ordered) - 1) // 2] + ordered[len(ordered) // 2]) / 2
    if chosen > ordered[-1]:
        return "came closest"
    if chosen > median:
        return "came closer than most"
    return "came no closer than the median operation"
