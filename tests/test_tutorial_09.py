"""Tutorial 9: Step 3 ranks the products' share of their roof only when every roof a share rests on was steady
(another round within 10 % of its best), and Step 7's verdict on the larger learning rate follows the validation
accuracy per epoch it prints — on seeded made-up measurements, for every outcome, and once in a whole quick run."""

import contextlib
import io
import re
import statistics

import numpy as np
import pytest

from nnkit import tutorials
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
    """Step 7's per-epoch table and verdict on made-up validation accuracies of the three runs (180 samples)."""
    code = _cell("def won_back")
    code = code[code.index("def won_back"):]
    samples = 180
    old = rng.integers(100, 181, 8)

    def later(most: int):
        """A run up to ``most`` samples behind the old one per epoch (at times a few ahead), all by one random scale."""
        return np.clip(old - (rng.integers(-3, most, 8) * rng.random()).astype(int), 0, samples)

    runs = {"old": old, "alone": later(30), "both": later(12)}
    accuracy = {k: [int(v) / samples for v in r] for k, r in runs.items()}
    scope = {"statistics": statistics, "val_set": type("Set", (), {"labels": [0] * samples}),
             "trained": {"batch 32, lr 0.003": (0, 0, 0, accuracy["old"]), "batch 128, lr 0.01": (0, 0, 0, accuracy["both"])},
             "train_for": lambda batch, lr, epochs: (0, 0, 0, accuracy["alone"][:epochs])}
    return _printed(code, scope), 100 / samples


@pytest.mark.parametrize("seed", range(300))
def test_the_verdict_on_the_learning_rate_follows_the_accuracies_it_prints(seed):
    text, one_sample = _won_back(np.random.default_rng(seed))
    table = {name: [float(v) for v in values.split()]
             for name, values in re.findall(r"^  (batch \d+, lr [\d.]+) +([\d. ]+)$", text, re.M)}
    assert list(table) == ["batch 32, lr 0.003", "batch 128, lr 0.003", "batch 128, lr 0.01"]
    old, alone, both = table.values()
    lost, left = (statistics.mean(o - a for o, a in zip(old, run)) for run in (alone, both))
    shortfall = re.search(r"^mean shortfall per epoch below batch 32, lr 0\.003 \(points\): batch 128 alone (-?[\d.]+), "
                          r"with lr 0\.01 (-?[\d.]+); one sample is ([\d.]+)$", text, re.M)
    assert [float(g) for g in shortfall.groups()] == pytest.approx([lost, left, one_sample], abs=0.11)
    verdict = re.search(r"^→ (.*)$", text, re.M).group(1)
    if min(abs(lost - one_sample), abs(left - one_sample), abs(left - lost)) < 0.15:
        return                                               # too close to a mark for the printed figures to decide
    assert ("loses no accuracy per epoch here" in verdict) == (lost <= one_sample)
    assert ("keeps the accuracy per epoch" in verdict) == (one_sample < lost and left <= one_sample)
    won = re.search(r"wins back (\d+)% of the accuracy per epoch", verdict)
    assert bool(won) == (one_sample < left < lost)
    if won:
        assert abs(int(won.group(1)) - 100 * (1 - left / lost)) <= 5
    assert ("does not win back" in verdict) == (one_sample < lost <= left)


def test_a_whole_run_with_an_unsteady_peak_settles_no_ranking(monkeypatch, tmp_path):
    """The quick tutorial, its peak probe made to run fast in the first round only: the peak's line says UNSTEADY, the
    products' ranking is not settled, and Step 7's table and verdict are printed."""
    monkeypatch.setattr(load, "watch", CALM)          # nothing else calls the probe: its calls are the rounds' own
    calls = iter(range(10**6))
    monkeypatch.setattr(peak, "now", lambda threads=1: 80.0 if next(calls) < 5 else 50.0)
    _, text = quick("training", tmp_path)
    assert re.search(r"^  peak, 1 core +80\.0 +50\.0 +50\.0 GFLOP/s → +80\.0, the flat roof: UNSTEADY", text, re.M)
    assert re.search(r"^  not settled in this run: the peak roof came out UNSTEADY \(above\)", text, re.M)
    assert re.search(r"^validation accuracy \(%\) after each of the first 8 epochs, on \d+ samples:$", text, re.M)
    assert re.search(r"^→ the larger rate (keeps|wins back|does not)|^→ batch 128 alone loses no", text, re.M)
