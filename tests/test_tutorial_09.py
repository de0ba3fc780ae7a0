"""Tutorial 9: Step 3 ranks the products' share of their roof only when every roof a share rests on was steady
(another round within 10 % of its best); the fixed cost per call is judged from the share measured with nothing
recorded; Step 7's verdict on the larger learning rate follows the validation accuracy per epoch of every seed it
prints, or says the seeds do not settle it; the roofline's points stay apart where they share an intensity — on seeded
made-up measurements, for every outcome, and once in a whole quick run."""

import contextlib
import io
import re
import statistics

import numpy as np
import pytest

from nnkit import plots, tutorials
from nnkit.bench import bandwidth, load, peak, verdicts
from tutorial_runs import CALM, quick

OPS = ["matmul", "sum", "max", "exp", "add", "multiply", "subtract"]


def _cell(marker: str) -> str:
    return next(code for code in tutorials.cells(tutorials.find("training")) if marker in code)


def _printed(code: str, scope: dict) -> str:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(code, scope)   # noqa: S102 — the tutorial's own code
    return out.getvalue()


def _rounds(rng: np.random.Generator, best: float) -> list[float]:
    """Three rounds of one figure: each at full speed, or slowed to 50–85 % of it (a slow moment only lowers a run)."""
    return [round(best * (1.0 if rng.random() < 0.6 else float(rng.uniform(0.5, 0.85))), 3) for _ in range(3)]


def _roofline(rng: np.random.Generator) -> str:
    """Step 3's roof lines, table and ranking, run on made-up rounds and a made-up recorded step."""
    code = _cell("def confirmed")
    code = code[code.index("def confirmed"):code.index("tiny_net = ")]
    rounds = {"peak": _rounds(rng, float(rng.uniform(40, 90))), "L2": _rounds(rng, float(rng.uniform(20, 60))),
              "main memory": _rounds(rng, float(rng.uniform(8, 30)))}
    sets = {"L2": 2**20, "main memory": 600 * 2**20}
    roofs = bandwidth.roofs({sets[k]: max(rounds[k]) for k in sets}, 2 * 2**20, 300 * 2**20)["roofs"]
    near, near_bandwidth = next(iter(roofs.items()))
    rows = [{"op": op, "flops": int(rng.integers(300, 700_000)), "bytes_read": int(rng.integers(2_000, 200_000)),
             "bytes_written": int(rng.integers(500, 50_000)), "seconds": float(rng.uniform(1e-6, 4e-5))} for op in OPS]
    scope = {"rounds": rounds, "sets": sets, "roofs": roofs, "near": near, "near_bandwidth": near_bandwidth,
             "top": max(rounds["peak"]), "rows": rows, "config": type("Config", (), {"l2_bytes": 2 * 2**20}),
             "statistics": statistics, "verdicts": verdicts}
    return _printed(code, scope)


@pytest.mark.parametrize("seed", range(300))
def test_the_ranking_speaks_only_when_every_roof_it_rests_on_was_steady(seed):
    text = _roofline(np.random.default_rng(seed))
    said, best = {}, {}                        # roof → steady, as its line prints it; its best
    for name, key in (("peak, 1 core", "peak"), ("triad, 1 MiB", "L2"), ("triad, 600 MiB", "main memory")):
        line = re.search(rf"^  {re.escape(name)} +([\d. ]+) (?:GFLOP/s|GB/s) +→ +([\d.]+), (.*)$", text, re.M)
        values, best[key], word = sorted(float(v) for v in line.group(1).split()), float(line.group(2)), line.group(3)
        assert best[key] == values[-1] and (word.endswith(": steady") or word.endswith(": UNSTEADY (no other round within 10%)"))
        said[key] = word.endswith(": steady")
        if abs(values[-2] / values[-1] - 0.9) > 0.005:        # clear of the printed figures' rounding
            assert said[key] == (values[-2] >= 0.9 * values[-1])
    l2_roof = best["L2"] > bandwidth.ABOVE * best["main memory"]
    assert (", the L2 roof: " in text) == l2_roof != (", no roof of its own: " in text)
    rows = re.findall(r"^(\w+) +[\d.]+ FLOPs/byte +[\d.]+ GFLOP/s = +([\d.]+)% of its roof, the "
                      r"(?:flat \((peak)\)|sloped \((L2|main memory)\)) one$", text, re.M)
    shares, binding = {op: float(share) for op, share, _, _ in rows}, {op: flat or sloped for op, _, flat, sloped in rows}
    assert set(shares) == set(OPS)
    verdict = re.search(r"of their roof; the other operations a median of .*\n  (.*)$", text, re.M).group(1)
    shaky = [roof for roof in said if roof in binding.values() and not said[roof]]
    if shaky:
        assert verdict.startswith(f"not settled in this run: the {' and the '.join(shaky)} roof")
        assert "UNSTEADY" in verdict and "clos" not in verdict
    else:
        rest = [s for op, s in shares.items() if op != "matmul"]
        if all(abs(shares["matmul"] - s) > 0.1 for s in rest):      # clear of the table's rounding
            assert verdict == f"the products {verdicts.closest(shares['matmul'], rest)}"


def _won_back(rng: np.random.Generator) -> tuple[str, float]:
    """Step 7's per-epoch table and verdict on made-up validation accuracies of the three runs (180 samples), for
    three seeds: how far each later run falls behind is drawn once per case, and each seed scales it by its own random
    factor, so the seeds agree at times and disagree at others."""
    code = _cell("def outcome")
    code = code[code.index("def outcome"):]
    samples, accuracy = 180, {}
    most = {(128, 3e-3): int(rng.choice([1, 30])), (128, 1e-2): int(rng.choice([1, 6, 12, 40]))}
    for seed in range(3):
        old = rng.integers(100, 181, 8)

        def later(most: int):
            """A run up to ``most`` samples behind the old one per epoch (at times a few ahead), by one random scale."""
            return np.clip(old - (rng.integers(-3, most, 8) * rng.uniform(0.5, 1.0)).astype(int), 0, samples)

        runs = {(32, 3e-3): old, **{run: later(behind) for run, behind in most.items()}}
        accuracy.update({(*k, seed): [int(v) / samples for v in r] for k, r in runs.items()})
    scope = {"statistics": statistics, "val_set": type("Set", (), {"labels": [0] * samples}), "QUICK": True,
             "train_for": lambda batch, lr, epochs, seed: (0, 0, 0, accuracy[batch, lr, seed][:epochs])}
    return _printed(code, scope), 100 / samples


def _said(lost: float, left: float, one_sample: float) -> str:
    """The outcome one seed's printed shortfalls call for (the verdict's words up to the first figure)."""
    return ("loses no accuracy per epoch here" if lost <= one_sample else "keeps the accuracy per epoch"
            if left <= one_sample else "wins back" if left < lost else "does not win back")


@pytest.mark.parametrize("seed", range(300))
def test_the_verdict_on_the_learning_rate_follows_every_seeds_accuracies_or_is_not_settled(seed):
    text, one_sample = _won_back(np.random.default_rng(seed))
    table = {name: [float(v) for v in values.split()]
             for name, values in re.findall(r"^  (batch \d+, lr [\d.]+) +([\d. ]+)$", text, re.M)}
    assert list(table) == ["batch 32, lr 0.003", "batch 128, lr 0.003", "batch 128, lr 0.01"]
    old, alone, both = table.values()
    printed = [(float(a), float(b)) for a, b in re.findall(r"seed \d: (-?[\d.]+) / (-?[\d.]+)", text)]
    assert len(printed) == 3
    assert list(printed[0]) == pytest.approx([statistics.mean(o - a for o, a in zip(old, run)) for run in (alone, both)],
                                             abs=0.11)
    verdict = re.search(r"^→ (.*)$", text, re.M).group(1)
    if any(min(abs(lost - one_sample), abs(left - one_sample), abs(left - lost)) < 0.15 for lost, left in printed):
        return                                               # too close to a mark for the printed figures to decide
    said = {_said(lost, left, one_sample) for lost, left in printed}
    if said == {"keeps the accuracy per epoch", "wins back"}:     # the rate helps in every seed; all of it in some
        least = re.search(r"^→ the larger rate wins back at least (-?\d+)% of the accuracy per epoch batch 128 loses in "
                          r"every seed; all of it\n  \(within one sample\) in (\d) of 3: whether it wins back all of it is "
                          r"not settled$", text, re.M)
        assert abs(int(least.group(1)) - min(100 * (1 - left / lost) for lost, left in printed)) <= 5
        assert int(least.group(2)) == sum(left <= one_sample for _, left in printed)
        return
    if len(said) > 1:
        assert verdict.startswith("not settled over 3 seeds") and "win" not in verdict and "keeps" not in verdict
        return
    assert "not settled" not in verdict and next(iter(said)) in verdict
    won = re.search(r"wins back (\d+)%–(\d+)% \(over 3 seeds\)", verdict)
    assert bool(won) == (said == {"wins back"})
    if won:
        fractions = sorted(100 * (1 - left / lost) for lost, left in printed)
        assert abs(int(won.group(1)) - fractions[0]) <= 5 and abs(int(won.group(2)) - fractions[-1]) <= 5


def _weighed(share: float, disturbed: str) -> str:
    code = _cell("def weighed")
    code = code[code.index("def weighed"):code.index("print(weighed(")]
    scope: dict = {}
    exec(code, scope)   # noqa: S102 — the tutorial's own code
    return scope["weighed"](share, disturbed)


@pytest.mark.parametrize("seed", range(100))
def test_the_fixed_cost_verdict_reads_the_unrecorded_share_and_refuses_when_disturbed(seed):
    rng = np.random.default_rng(seed)
    share = round(float(rng.uniform(0, 1)), 2)
    disturbed = "other processes used 0.80 cores" if rng.random() < 0.3 else ""
    verdict = _weighed(share, disturbed)
    assert ("not settled in this run" in verdict) == bool(disturbed)
    assert ("the fixed cost per call, not memory or arithmetic, set most" in verdict) == (not disturbed and share >= 0.5)
    assert ("the work on the data" in verdict) == (not disturbed and share < 0.5)


def test_a_whole_run_with_an_unsteady_peak_settles_no_ranking(monkeypatch, tmp_path):
    """The quick tutorial, its peak probe made to run fast in the first round only: the peak's line says UNSTEADY, the
    products' ranking is not settled, and Step 7's table and verdict are printed."""
    monkeypatch.setattr(load, "watch", CALM)          # nothing else calls the probe: its calls are the rounds' own
    calls = iter(range(10**6))
    monkeypatch.setattr(peak, "now", lambda threads=1: 80.0 if next(calls) < 5 else 50.0)
    _, text = quick("training", tmp_path)
    assert re.search(r"^  peak, 1 core +80\.0 +50\.0 +50\.0 GFLOP/s → +80\.0, the flat roof: UNSTEADY", text, re.M)
    assert re.search(r"^  not settled in this run: the peak roof came out UNSTEADY \(above\)", text, re.M)
    assert re.search(r"^validation accuracy \(%\) after each of the first 8 epochs, on \d+ samples \(seed 0\):$", text, re.M)
    assert re.search(r"^→ (the larger rate (keeps|wins back|does not)|batch 128 alone loses no|not settled over 3 seeds)",
                     text, re.M)
    assert re.search(r"^  beside the recorded step on 32 samples \([\d.]+ µs, the calls' own times\): \d+% of its time;$",
                     text, re.M)
    unrecorded = re.search(r"^  against the step on 32 samples \([\d.]+ µs\): (\d+)% of its time; this share, without "
                           r"the recording's cost, decides:\n(  → .*)$", text, re.M)
    assert unrecorded.group(2) == _weighed(int(unrecorded.group(1)) / 100, "")      # the unrecorded share decides


@pytest.mark.parametrize("seed", range(12))
def test_roofline_points_at_one_intensity_each_get_their_own_marker_colour_and_size(seed, tmp_path, monkeypatch):
    """Several operations at (nearly) one intensity and rate — add, maximum, multiply, subtract near 0.05 FLOPs/byte —
    are drawn so that each can be told apart: no two share marker, colour and size."""
    import matplotlib.axes

    rng = np.random.default_rng(seed)
    drawn, plot = [], matplotlib.axes.Axes.plot
    monkeypatch.setattr(matplotlib.axes.Axes, "plot", lambda ax, *a, **k: (drawn.append((a, k)), plot(ax, *a, **k))[1])
    n = int(rng.integers(2, 13))
    points = {f"op{i}": (0.05 * float(rng.uniform(0.98, 1.02)), 0.5 * float(rng.uniform(0.98, 1.02))) for i in range(n)}
    plots.roofline(points, 50.0, {"L2": 40.0}, str(tmp_path / "roof.png"), "t")
    looks = [(a[2], k["color"], k["markersize"]) for a, k in drawn if k.get("label") in points]
    assert len(looks) == n and len({look[1:] for look in looks}) == n     # colour and size together tell each apart
