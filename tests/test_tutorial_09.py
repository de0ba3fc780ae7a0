"""Tutorial 9: Step 3 ranks the products' share of their roof beyond the noise, refusing for an UNSTEADY roof (no
other round within 10 % of its best) only where that roof could overturn the answer, and naming the reason it
refuses; the fixed cost per call is judged from the share measured with nothing recorded; Step 7's verdict on the
larger learning rate follows the validation accuracy per epoch of every seed it prints, or says the seeds do not
settle it; the roofline's points stay apart where they share an intensity — on seeded made-up measurements, for
every outcome, and once in a whole quick run."""

import collections
import contextlib
import functools
import io
import itertools
import math
import re
import statistics

import numpy as np
import pytest

from generators import seeds as _seeds
from nnkit import plots, tutorials
from nnkit.bench import bandwidth, load, peak, verdicts
from text import unwrap
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
    """Three rounds of one figure: each at full speed, or slowed to 50–85 % of it (a slow moment only lowers a run),
    or — at times — one far above the others (reader 35 c11: 71.1, 55.7 and 92.5 GB/s for one level)."""
    rounds = [round(best * (1.0 if rng.random() < 0.6 else float(rng.uniform(0.5, 0.85))), 3) for _ in range(3)]
    if rng.random() < 0.2:
        rounds[int(rng.integers(3))] = round(max(rounds) * float(rng.uniform(1.15, 1.6)), 3)
    return rounds


def _roofline(rng: np.random.Generator, slow: float = 1.0) -> str:
    """Step 3's roof lines, table and ranking, run on made-up rounds and a made-up recorded step (each operation's
    time × ``slow``)."""
    code = _cell("def confirmed")
    code = code[code.index("def confirmed"):code.index("tiny_net = ")]
    rounds = {"peak": _rounds(rng, float(rng.uniform(40, 90))), "L2": _rounds(rng, float(rng.uniform(20, 60))),
              "main memory": _rounds(rng, float(rng.uniform(8, 30)))}
    sets = {"L2": 2**20, "main memory": 600 * 2**20}
    rows = [{"op": op, "flops": int(rng.integers(300, 700_000)), "bytes_read": int(rng.integers(2_000, 200_000)),
             "bytes_written": int(rng.integers(500, 50_000)), "seconds": slow * float(rng.uniform(1e-6, 4e-5))} for op in OPS]
    if rng.random() < 0.25:    # reader 39 a1: the products near their roof, the peak (its rate 60–100 % of its best round)
        rows[0].update(flops=647_168, bytes_read=150_000, bytes_written=50_000)
        rows[0]["seconds"] = rows[0]["flops"] / (max(rounds["peak"]) * 1e9 * float(rng.uniform(0.6, 1.0)))
    jitter = float(rng.choice([0.0, 0.02, 0.3, 1.0]))     # how far a step's time may stray: none, a little, a lot
    loud = OPS[int(rng.integers(1, len(OPS)))] if rng.random() < 0.3 else None   # reader 39 a1: one op strays far
    stray = lambda op: float(rng.uniform(1, 10)) if op == loud else float(rng.uniform(1, 1 + jitter))
    step_rounds = [[{**r, "seconds": r["seconds"] * stray(r["op"])} for r in rows] for _ in range(int(rng.integers(3, 16)))]
    for step in step_rounds:
        if rng.random() < 0.2:                        # a preemption: one call of the round held up by a millisecond
            step[int(rng.integers(len(step)))]["seconds"] += 1e-3
    scope = {"rounds": rounds, "sets": sets, "rows": rows, "step_rounds": step_rounds,
             "config": type("Config", (), {"l2_bytes": 2 * 2**20, "l3_bytes": 300 * 2**20}), "statistics": statistics, "verdicts": verdicts,
             "fit": tutorials.fit, "np": np, "first_steps": [[]], "params": {}, "Xb": np.zeros(4), "Yb": np.zeros(4),
             "triads": bandwidth, "plots": plots, "no_arithmetic": [],   # every made-up row counts FLOPs
             "products_rate": _products_rate()}
    return _printed(code, scope), step_rounds


def _products_rate():
    """The step table's cell's ``products_rate``: the products' GFLOP/s in a recorded step's rows."""
    code, scope = _cell("def products_rate"), {}
    exec(code[code.index("def products_rate"):code.index("def kinds_said")], scope)   # noqa: S102 — the tutorial's
    return scope["products_rate"]


def _against_the_table():
    """The roofline cell's ``against_the_table``, with the cell's ``rate_text`` and the table cell's ``products_rate``."""
    code = _cell("def against_the_table")
    scope = {"statistics": statistics, "plots": plots, "products_rate": _products_rate()}
    exec(code[code.index("def rate_text"):code.index("def share_text")], scope)   # noqa: S102 — the tutorial's
    exec(code[code.index("def against_the_table"):code.index("print(fit(against_the_table(")], scope)   # noqa: S102
    return scope["against_the_table"]


@pytest.mark.parametrize("seed", [-1] + _seeds(300))
def test_the_step_tables_products_rate_is_set_beside_the_roundss_and_placed_by_their_range(seed):
    """Reader 38 c10: the step table's 647,168 FLOPs in 55.2 µs (11.7 GFLOP/s) and the roofline's 4.57 GFLOP/s for the
    same products stood 2.6× apart with the reason 60 lines later. A line under the roofline's table now sets the two
    side by side: the table's rate (as printed) above every round's — the rounds ran slower; below every round's —
    faster, each with a whole step's time on both sides; within their range — not set apart. Seed −1: reader 38's."""
    rng = np.random.default_rng(max(seed, 0))
    seconds = 55.2e-6 if seed < 0 else float(rng.uniform(10e-6, 100e-6))
    rows = [{"op": "matmul", "flops": 647_168, "seconds": seconds}, {"op": "sum", "flops": 3_040, "seconds": 43.9e-6}]
    table = 647_168 / seconds / 1e9
    factor = 0.39 if seed < 0 else float(rng.choice([0.3, 0.6, 0.95, 1.0, 1.05, 1.7, 2.5]))
    rates = [table * factor * float(rng.uniform(0.85, 1.15)) for _ in range(15 if seed < 0 else int(rng.integers(3, 16)))]
    if seed >= 0 and rng.random() < 0.2:
        rates[0] = table      # one round at the table's very rate: within, as printed
    kept = [[{"op": "matmul", "flops": 10 * 647_168, "seconds": 10 * 647_168 / rate / 1e9},
             {"op": "sum", "flops": 10 * 3_040, "seconds": 10 * float(rng.uniform(30e-6, 300e-6))}] for rate in rates]
    said = _against_the_table()(rows, kept, [{"matmul": rate} for rate in rates])
    assert all(len(line) <= tutorials.WIDTH for line in tutorials.fit(said).split("\n"))
    shown = lambda rate: plots.decimals_text(rate, 2)
    assert said.startswith(f"the products in the step table above: 647,168 FLOPs in {seconds * 1e6:.1f} µs, "
                           f"{shown(table)} GFLOP/s; here {shown(statistics.median(rates))}, the median of {len(rates)} "
                           f"rounds, which ran from {shown(min(rates))} to {shown(max(rates))}: the table's rate lies ")
    printed, each = float(shown(table)), [float(shown(rate)) for rate in rates]
    above, below = printed > max(each), printed < min(each)
    assert ("above every round's — the products ran slower in these rounds" in said) == above
    assert ("below every round's — the products ran faster in these rounds" in said) == below
    assert ("within the rounds' range — these rounds do not set the two apart" in said) == (not above and not below)
    step_here = statistics.median(sum(r["seconds"] for r in step) / 10 for step in kept)
    assert (f"a whole step took {step_here * 1e6:.1f} µs here" in said) == (above or below)
    assert (f"{(seconds + 43.9e-6) * 1e6:.1f} µs in the table — what made the two moments differ this run does not "
            "measure" in said) == (above or below)
    if seed < 0:
        assert above and "11.72 GFLOP/s" in said


def _strayed(ratios: list[float]) -> float:
    """How far the farthest of ``ratios`` lies from their median, either way (1.25× and 0.8× alike)."""
    middle = statistics.median(ratios)
    return max(max(r / middle, middle / r) for r in ratios) - 1


def _reach(roof: str, values: list[float], steady: bool) -> tuple[float, float]:
    """How far a share resting on ``roof`` may lie off the printed one (factors, least and most), from its printed
    rounds: an UNSTEADY roof is their median, its level anywhere from the lowest to the best; L2's, a lower bound,
    may sit any lower."""
    median = sorted(values)[1]
    least, most = (1.0, 1.0) if steady else (median / max(values), median / min(values))
    return (0.0 if roof == "L2" else least), most


@pytest.mark.parametrize("seed", _seeds(300))
def test_the_ranking_refuses_only_for_a_reason_that_could_overturn_it_and_names_it(seed):
    """Reader 25 c4, reader 35 c11: a roof takes the best of its rounds when another round came within 10 % of it,
    their median when none did (UNSTEADY: 71.1, 55.7, 92.5 GB/s set a roof of 92.5, against tutorial 8's ~59). An
    UNSTEADY roof's shares may read high or low (marked ~), as far as its rounds spread; L2's, a lower bound, only
    high (≤). The verdict is worked out again with each share moved to the end of its reach that works against it
    and refused only when that overturns it, naming the roofs; a lead within the noise names the operations level
    with it; otherwise the verdict stands and says which roof it was read against. Reader 39 a1: each comparison is
    widened by its own noise (the products' rate ÷ that operation's, round by round), not the widest one's, and a
    range's top stops at 100 % where the products' roof is the peak — over cases with one operation straying far and
    the products near their roof."""
    text, step_rounds = _roofline(np.random.default_rng(seed))
    said, figure, printed = {}, {}, {}         # roof → steady, as its line prints it; its figure; its rounds
    flat = unwrap(text)
    for name, key in (("peak, 1 core", "peak"), ("triad, 1 MiB", "L2"), ("triad, 600 MiB", "main memory")):
        line = re.search(rf"^  {re.escape(name)} +([\d. ]+) (?:GFLOP/s|GB/s) +→ +([\d.]+), (.*(?:\n {{6}}.*)*)$", text, re.M)
        values, figure[key], word = sorted(float(v) for v in line.group(1).split()), float(line.group(2)), unwrap(line.group(3))
        assert word.endswith(": steady") or word.endswith(": UNSTEADY, the median")
        said[key], printed[key] = word.endswith(": steady"), values
        assert figure[key] == (values[-1] if said[key] else values[1])      # the best, or the median where UNSTEADY
        if abs(values[-2] - 0.9 * values[-1]) > 0.05 * 1.9 + 1e-9:   # clear of the rounding (each printed to 0.05)
            assert said[key] == (values[-2] >= 0.9 * values[-1])
    l2_roof = figure["L2"] > bandwidth.ABOVE * figure["main memory"]
    if abs(figure["L2"] - bandwidth.ABOVE * figure["main memory"]) > 0.05 * (1 + bandwidth.ABOVE):
        assert (", the L2 roof: " in flat) == l2_roof != (", no roof of its own: " in flat)
    rows = re.findall(r"^(\w+)\*? +[\d.]+ FLOPs/byte +[\d.]+ GFLOP/s \(± *(\d+)%\) = ([ ≤~]) *([\d.]+)% of its roof, "
                      r"the (?:flat \((peak)\)|sloped \((L2|main memory)\)) one$", text, re.M)
    shares = {op: float(share) for op, _, _, share, _, _ in rows}
    binding = {op: flat_roof or sloped for op, _, _, _, flat_roof, sloped in rows}
    ends = {roof: _reach(roof, printed[roof], said[roof]) for roof in said}
    # the table marks a share that may only read high (L2's lower bound) ≤, one that may read either way (UNSTEADY) ~
    assert all(mark == ("~" if not said[binding[op]] else "≤" if binding[op] == "L2" else " ") for op, _, mark, _, _, _ in rows)
    unsteady = [roof for roof in ("peak", "L2", "main memory") if roof in binding.values() and not said[roof]]
    assert ("~ a share resting on an UNSTEADY roof" in flat) == bool(unsteady)
    if unsteady:
        assert f"~ a share resting on an UNSTEADY roof (here {' and '.join(unsteady)}): the median of its rounds" in flat
    assert ("; the L2 roof is what that triad reached on a set that fits in L2 — a lower bound on L2's bandwidth"
            in flat) == (", the L2 roof: " in flat)
    totals = [sum(r["seconds"] for r in step) for step in step_rounds]
    kept = [step for step, total in zip(step_rounds, totals) if total <= statistics.median(totals) / 0.8]
    said_kept = re.search(r"median of (\d+) of (\d+) rounds of 10 more recorded steps \(± how far the farthest round strayed "
                          r"from it\)(?:;\n  (\d+) left out: each took "
                          r"over 1\.25× the median round's time)?", text)
    # reader 23 c10: exp is counted 1 FLOP per element, and its row says so (a star, the note under the table)
    assert re.findall(r"^(\w+)\* ", text, re.M) == ["exp"] and flat.count(
        "* exp: counted as 1 FLOP per element, as every elementwise operation is — a count, not what one costs") == 1
    assert set(shares) == set(OPS) and [int(n) for n in said_kept.groups(0)] == [
        len(kept), len(step_rounds), len(step_rounds) - len(kept)]
    rates = [{r["op"]: r["flops"] / r["seconds"] for r in step} for step in kept]   # the rounds left in decide
    for op, strayed, _, _, _, _ in rows:                      # each rate's ± is how far its steps strayed from their median
        assert abs(int(strayed) - 100 * _strayed([r[op] for r in rates])) <= 0.5 + 1e-9
    noises = {op: _strayed([r["matmul"] / r[op] for r in rates]) for op in OPS if op != "matmul"}
    header = re.search(r"how far it strayed from its median is that comparison's noise — from ×/÷ ([\d.]+) \(\w+\*?\) to "
                       r"×/÷ ([\d.]+) \(\w+\*?\); each comparison below is widened by its own, not by another's", flat)
    assert float(header[1]) == pytest.approx(1 + min(noises.values()), abs=0.0051)
    assert float(header[2]) == pytest.approx(1 + max(noises.values()), abs=0.0051)
    verdict = " ".join(re.search(r"of\s+their\s+roof;\s+the\s+other\s+operations\s+a\s+median\s+of .*(?:\n    .*)*\n  (.*(?:\n     .*)*)",
                                 text, re.M).group(1).split())        # the verdict, its wrapped lines joined
    assert all(len(line) <= 118 for line in text.splitlines())
    _comparisons_follow_their_own_noise(verdict, shares, noises, binding)
    rest = {op: share for op, share in shares.items() if op != "matmul"}
    capped = binding["matmul"] == "peak" and shares["matmul"] <= 100   # a range's top capped at the products' roof
    expected = _standing(shares["matmul"], rest, noises, capped)
    if expected is None:                         # an end within the rounding of a share: the printed shares cannot decide it
        assert verdict.startswith(("the products came", "not settled in this run: "))
        return
    places = _places(shares["matmul"], rest, noises, capped)
    if expected != "came closest":               # how many lie above and below, each beyond its own noise
        assert f"above {places.count(1)} of the {len(rest)} others and below {places.count(0)}, each beyond" in verdict or (
            " read at " in verdict)
    if expected == "not settled":
        assert verdict.startswith("not settled in this run: the products' share lies above ") and " read at " not in verdict
        return
    lead = expected != "came no closer than the median operation"
    mine, theirs = (0, 1) if lead else (1, 0)    # each side's end that works against the verdict
    moved = shares["matmul"] * ends[binding["matmul"]][mine]
    moved_rest = {op: share * ends[binding[op]][theirs] for op, share in rest.items()}
    spread_ends = max(max(e) for e in ends.values())   # how far a printed share's rounding may be stretched
    worst = _standing(moved, moved_rest, noises, capped, 1.1 * max(spread_ends, 1), 0.02 * max([moved, *moved_rest.values()]))
    if worst is None:
        assert verdict.startswith(("the products came", "not settled in this run: "))
        return                                   # read at the ends, within the rounding of a share: either may print
    against = sorted({binding[op] for op in shares if ends[binding[op]][mine if op == "matmul" else theirs] != 1})
    reason = lambda roof: f"the {roof} roof " + ("came out UNSTEADY (above)" if not said[roof] else
                                                 "is a lower bound (one core's triad)")
    if worst != expected:
        assert verdict.startswith(f"not settled in this run: {' and '.join(reason(roof) for roof in against)}, under ")
        assert verdict.endswith(f"the products' {'lead' if lead else 'place at or below the median'} could turn — "
                                "run it again")
    else:                                        # read at its ends, no roof overturns it: it stands, and says so
        assert verdict.startswith(f"the products {expected}: above ")
        standing = [roof for roof in ("peak", "L2", "main memory") if roof in binding.values()
                    and (not said[roof] or roof == "L2")]
        one = len(standing) == 1
        assert verdict.endswith(f" ({' and '.join(reason(roof) for roof in standing)}: read at {'its' if one else 'their'} "
                                f"ends, {'it leaves' if one else 'they leave'} this standing)" if standing else "")
        assert bool(standing) == (" read at " in verdict)


def _standing(products: float, rest: dict[str, float], noises: dict[str, float], capped: bool, stretch: float = 1.0,
              slack: float = 0.0) -> str | None:
    """The verdict the printed shares (%) call for, each comparison widened by its own noise: None when an end of one
    lies within the rounding of the share it is set against (each share printed to 0.05 points, ``stretch``ed and
    widened by ``slack`` where the shares were moved to their roofs' ends)."""
    places = _places(products, rest, noises, capped, stretch, slack)
    if "?" in places:
        return None
    above, below = places.count(1), places.count(0)
    return ("came closest" if above == len(places) else "came closer than most" if above > len(places) / 2 else
            "came no closer than the median operation" if below > len(places) / 2 else "not settled")


def _places(products: float, rest: dict[str, float], noises: dict[str, float], capped: bool, stretch: float = 1.0,
            slack: float = 0.0) -> list:
    """Where the products' printed share (%) lies against each other one, widened by that comparison's own noise: 1
    above, 0 below, None level, "?" where an end lies within the rounding of the share (as ``_standing`` says)."""
    places = []
    for op, share in rest.items():
        low, high = products / (1 + noises[op]), products * (1 + noises[op])
        high = min(high, 100.0) if capped else high   # the products' roof, the peak, which no rate passes
        rounding = 0.05 * (2 + noises[op]) * stretch + slack + 1e-9
        near = min(abs(low - share), abs(high - share)) <= rounding
        places.append("?" if near else 1 if low > share else 0 if high < share else None)
    return places


ENTRY = re.compile(r"(\w+)\*? ([\d.]+)% \(the products' ([\d.]+)% ÷/× ([\d.]+) = ([\d.]+)%–([\d.]+)%"
                   r"( — capped at 100%: a rate does not pass its roof)?\)")


def _comparisons_follow_their_own_noise(verdict: str, shares: dict[str, float], noises: dict[str, float],
                                        binding: dict[str, str]) -> None:
    """Reader 39 a1: each comparison the verdict names carries its own noise (not the widest one's), its range lies
    where its list says (above, below, level: decided as printed), and its top is capped at 100 % — said so — only
    where the products' roof is the peak and the widened share would pass it."""
    counts = re.search(r": (?:the products' share lies )?above (?:all (\d+)|(\d+) of the (\d+) others and below (\d+))"
                       r"(?: others)?, each beyond its own comparison's noise", verdict)
    assert counts or " read at " in verdict and verdict.startswith("not settled")
    if counts and counts[1]:
        assert int(counts[1]) == len(shares) - 1
    for part, where in ((r"(?:the nearest, |; above: )(.*?)(?=; |$| \(the )", 1), (r"; below: (.*?)(?=; |$| \(the )", 0),
                        (r"; level with it within their own noise: (.*?)(?= — run it again|$)", None)):
        listed = re.search(part, verdict)
        for op, share, products, factor, low, high, capped in ENTRY.findall(listed.group(1) if listed else ""):
            assert float(factor) == pytest.approx(1 + noises[op], abs=0.0051)
            assert abs(float(share) - shares[op]) <= 0.051 and abs(float(products) - shares["matmul"]) <= 1e-9
            place = 1 if float(low) > float(share) else 0 if float(high) < float(share) else None
            assert place == where and float(low) != float(share) != float(high)    # its side as printed
            top = shares["matmul"] * (1 + noises[op])
            if abs(top - 100) > 0.05 * (2 + noises[op]):
                assert bool(capped) == (binding["matmul"] == "peak" and shares["matmul"] <= 100 < top)
            assert not capped or float(high) == 100


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


@pytest.mark.parametrize("seed", _seeds(300))
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


@functools.cache
def _weighed_function():
    code = _cell("def weighed")
    code = code[code.index("def weighed"):code.index("print(fit(weighed(")]
    scope: dict = {"verdicts": verdicts}
    exec(code, scope)   # noqa: S102 — the tutorial's own code
    return scope["weighed"]


def _weighed(share: float, noise: float, others: float | None, speed: float | None) -> str:
    return _weighed_function()(share, noise, others, speed)


FIXED = re.compile(r"^  → (?:(\d+)%, its range ([\d.]+)%–([\d.]+)% \(its pairs' (\d+)% spread(; disturbed: .*?)?\) "
                   r"(lies at or above 50%: the fixed cost per call, not memory or arithmetic, set most of the step's time"
                   r"|lies below 50%: the work on the data \(what grows with the arrays\), not the fixed cost per call, "
                   r"set most of the step's time)"
                   r"|not settled in this run — run it again: (?:(\d+)%, its range ([\d.]+)%–([\d.]+)% \(its pairs' "
                   r"(\d+)% spread(; disturbed: .*?)?\) spans 50%|(\d+)% \(its pairs' (\d+)% spread\), but (other processes used .*): "
                   r"busy other processes bound nothing))$")


def _fixed_cost_verdict_follows_its_range(said: str, share: float, noise: float, others, speed) -> str:
    """Check one printed fixed-cost verdict (flattened) against the figures it prints and the rule that decides it;
    return which outcome it was."""
    flat = unwrap(said)
    region, (low, high) = verdicts.place(share, (0.5,), others, speed, noise)
    line = FIXED.match(flat)
    assert line, flat
    if high == math.inf:
        assert line.group(12, 13, 14) == (f"{share * 100:.0f}", f"{noise * 100:.0f}", verdicts.cause(others, speed))
        return "busy"
    figures = line.group(1, 2, 3, 4) if line.group(1) else line.group(7, 8, 9, 10)
    assert figures == (f"{share * 100:.0f}", verdicts.beside(100 * low, 50.0), verdicts.beside(100 * high, 50.0),
                       f"{noise * 100:.0f}")
    assert bool(line.group(5) or line.group(11)) == bool(verdicts.cause(others, speed))
    printed_low, printed_high = float(figures[1]), float(figures[2])
    if region == 1:   # reader 28 a7: decided as printed — each end on the side of 50 % it prints on
        assert "at or above 50%" in flat and printed_low >= 50
    elif region == 0:
        assert "lies below 50%" in flat and printed_high < 50
    else:
        assert flat.startswith("  → not settled") and printed_low < 50 <= printed_high
    assert all(len(row) <= 118 for row in said.split("\n"))
    return {1: "fixed", 0: "work", None: "open"}[region]


def test_the_fixed_cost_verdict_places_the_unrecorded_shares_range_against_half():
    """Reader 18 c5: '→ the fixed cost per call … set most' came from a bare ≥ 50 % on a median share. 4,000 seeded
    shares, each with its pairs' spread, calm, on a slowed core or with others busy (and the reader's 60 % from 25
    pairs): the verdict is placed by ``verdicts.place`` against 0.5, prints the range it reads, names the fixed cost
    only where the whole range is at or above 50 %, the work on the data only where it is below, and 'not settled'
    where it spans 50 % or others were busy; every line ≤ 118 characters once wrapped."""
    rng = np.random.default_rng(9)
    cases = [(0.49999, 0.0, 0.0, 1.0), (0.50001, 0.0, 0.0, 1.0),   # a hair from the mark (reader 28 a7)
             (0.60, 0.08, 0.0, 1.0), (0.60, 0.25, 0.0, 1.0), (0.30, 0.05, 0.0, 0.7), (0.55, 0.0, 1.2, 1.0)] + [
        (round(float(rng.uniform(0.1, 1.1)), 2), float(rng.choice([0.0, 0.02, 0.08, 0.2, 0.5])),
         float(rng.choice([0.0, 0.1, 0.6])) if rng.random() < 0.9 else None,
         float(rng.choice([0.6, 0.8, 0.9, 1.0])) if rng.random() < 0.95 else None) for _ in range(4000)]
    seen = collections.Counter()
    for share, noise, others, speed in cases:
        said = tutorials.fit(_weighed(share, noise, others, speed))
        seen[_fixed_cost_verdict_follows_its_range(said, share, noise, others, speed)] += 1
    assert min(seen[outcome] for outcome in ("fixed", "work", "open", "busy")) >= 100, seen
    assert "lies at or above 50%" in _weighed(0.60, 0.08, 0.0, 1.0)          # 55.6–64.8 %
    assert _weighed(0.60, 0.25, 0.0, 1.0).startswith("  → not settled")      # 48.0–75.0 %


def test_a_whole_run_with_an_unsteady_peak_takes_its_median_and_reads_the_shares_at_its_ends(monkeypatch, tmp_path):
    """Reader 35 (c11): one round far off the others set the roof. The quick tutorial, its peak probe made to run fast
    in the first round only (80, 50, 50): the peak's line says UNSTEADY and takes the median, 50; the shares resting
    on it are marked ~; the verdict either stands read at the roof's ends (80 … 50) and says so, or is refused naming
    the roof; and Step 7's table and verdict are printed."""
    monkeypatch.setattr(load, "watch", CALM)          # nothing else calls the probe: its calls are the rounds' own
    calls = iter(range(10**6))
    monkeypatch.setattr(peak, "now", lambda threads=1: 80.0 if next(calls) < 5 else 50.0)
    triads = itertools.cycle([200.0, 20.0])           # L2, then main memory, each round: steady roofs, the products'
    monkeypatch.setattr(bandwidth, "triad", lambda size: next(triads))   # the flat one (a slow L2 moved it off it)
    ns, text = quick("training", tmp_path)
    assert re.search(r"^  peak, 1 core +80\.0 +50\.0 +50\.0 GFLOP/s → +50\.0,\s+the\s+flat\s+roof:\s+UNSTEADY,\s+the\s+median$",
                     text, re.M)   # read across fit's wrap
    assert ns["top"] == 50.0 and ns["reach"]("peak", ns["rounds"], ns["steady"]) == (50 / 80, 1.0)
    assert all(re.search(r" = ~ *[\d.]+% of its roof, the flat \(peak\) one$", line)
               for line in text.splitlines() if line.endswith("of its roof, the flat (peak) one"))
    verdict = " ".join(re.search(r"of\s+their\s+roof;\s+the\s+other\s+operations\s+a\s+median\s+of .*(?:\n    .*)*\n  (.*(?:\n     .*)*)",
                                 text, re.M).group(1).split())
    if verdict.startswith("the products"):       # read at the roof's ends, it stood: said so
        assert "the peak roof came out UNSTEADY (above)" in verdict and " this standing)" in verdict
    elif " reaches " not in verdict:             # not the noise: the roofs named (the peak's, or L2's, a lower bound)
        assert re.match(r"not settled in this run: (the L2 roof is a lower bound \(one core's triad\)(?: and |, )|)"
                        r"(the peak roof came out UNSTEADY \(above\), )?under ", verdict), verdict
    assert re.search(r"^validation accuracy \(%\) after each of the first 8 epochs, on \d+ samples \(seed 0\):$", text, re.M)
    assert re.search(r"^→ (the larger rate (keeps|wins back|does not)|batch 128 alone loses no|not settled over 3 seeds)",
                     text, re.M)
    assert re.search(r"^  beside the recorded step on 32 samples \([\d.]+ µs,\s+the\s+calls'\s+own\s+times\):\s+\d+%\s+of\s+its\s+time;$",
                     text, re.M)   # read across fit's wrap
    # reader 32 c15: the heading names the kinds that do no arithmetic; the others are the roofline's points
    idle = sorted(r["op"] for r in ns["rows"] if not r["flops"])
    heading = re.search(rf"of {len(ns['rows'])} kinds of operation \((\d+) of them do arithmetic, each on the roofline "
                        r"below(?:; (.*) do(?:es)? none)?\):", unwrap(text))
    assert heading and int(heading[1]) == len(ns["points"]) == len(ns["rows"]) - len(idle)
    assert sorted((heading[2] or "").split(" and ") if heading[2] else []) == idle
    # reader 32 b9: the estimate left after the fixed costs carries a range (calm: the pairs' spread alone)
    split = re.search(r"the products: \d+% of the recorded step's time, \d+% of its FLOPs; (less each side's fixed "
                      r"cost, (\d+)% of the time, range (\d+)%–(\d+)% \(an estimate|a fixed-cost share at or above 100%)",
                      unwrap(text))
    assert split and (not split[2] or int(split[3]) <= int(split[2]) <= int(split[4]))
    # reader 23 c9: the run says which recorded step is which, from the step it recorded three ways
    which = re.search(r"which step is which: the table's ([\d.]+) µs is the median of 9 steps recorded in a row .*?"
                      r"right after itself: ([\d.]+) µs\. The order .*? The moment ", unwrap(text))
    assert which and float(which[1]) == pytest.approx(statistics.median(ns["step_totals"]), abs=0.051)
    assert float(which[2]) == pytest.approx(statistics.median(a[1] for a in ns["again"]) * 1e6, abs=0.051)
    assert "question each line answers: is it faster now at all, by any amount?), and each side's median time" in (
        unwrap(text))   # reader 23 c5; reader 30 c4: each side's µs
    assert ("each side's median time, before → after, with those two medians' own quotient — another question than the "
            "pairs' median ratio (each side's typical time over all its pairs' moments, not the two side by side within "
            "one moment), so the two can differ:") in unwrap(text)   # reader 39 c16
    unwrapped = re.sub(r"\n {4,}", " ", text)      # fit's continuation lines joined; the 2-space lines kept
    unrecorded = re.search(r"^the fixed cost per call, not recorded \(plain numpy, whole steps, the Python between the "
                           r"calls included; \d+ alternating pairs\):\n  the same (\d+) calls on 1-element arrays took "
                           r"([\d.]+) µs \(([\d.]+) µs a call, the Python between them included\)\n  against the step on "
                           r"32 samples \(([\d.]+) µs\): (\d+)% of its time; the median of the \d+ pairs' ratios \(these "
                           r"two medians' own ratio: (\d+)%\) — this share, without the recording's cost, decides:\n"
                           r"(  → .*?)\n(?=with the recorder on)", unwrapped, re.M | re.S)
    noise = verdicts.spread(ns["plain"]["ratios"])   # the unrecorded share decides, by its range (calm: no slowed core)
    _fixed_cost_verdict_follows_its_range(unrecorded.group(7), int(unrecorded.group(5)) / 100, noise, 0.0, 1.0)
    # reader 17 c8: the ratio of the two printed medians is printed too, as those figures give it (each to 0.05 µs)
    tiny, step = float(unrecorded.group(2)), float(unrecorded.group(4))
    assert abs(int(unrecorded.group(6)) / 100 - tiny / step) <= 0.005 + 0.05 / step + 0.05 * tiny / step ** 2 + 1e-9
    # reader 31 c18: the unrecorded cost comes first; the recorded one follows as "with the recorder on", each a call
    calls, per_call = int(unrecorded.group(1)), float(unrecorded.group(3))
    assert calls == ns["calls"] and per_call == pytest.approx(tiny / calls, abs=0.006 + 0.05 / calls)
    recorder = re.search(r"^with the recorder on \(the instrumented namespace times each call, a cost of its own\): the "
                         rf"same {calls} calls took ([\d.]+) µs \(([\d.]+) µs a call against {per_call:.2f} unrecorded: "
                         r"each call's own time, the recorder's cost inside it, the Python between the calls not\)\n",
                         unwrapped, re.M)
    assert recorder and unrecorded.start() < recorder.start()
    assert float(recorder[2]) == pytest.approx(float(recorder[1]) / calls, abs=0.006 + 0.05 / calls)
    assert re.search(r"^each rate: the median of [345] of 5 rounds of 10 more recorded steps", text, re.M)
    # reader 38 c10: the step table's products rate, and under the roofline's table that rate beside the rounds'
    flat_text = unwrap(text)
    assert re.search(r"^matrix products: \d+% of the FLOPs, \d+% of the time; in this step [\d,]+ FLOPs in [\d.]+ µs, "
                     r"[\d.]+ GFLOP/s — the roofline below times every operation again", flat_text, re.M)
    assert ns["against_the_table"](ns["rows"], ns["kept"], ns["by_step"]) in flat_text
    assert flat_text.index("the products in the step table above: ") < flat_text.index("the products' rate ÷ each other")
    # reader 38 c13: where tutorial 8's own roofline is, and that both are this machine's at other moments
    assert ("tutorial 8 draws a roofline of its own (Step 7: its line \"roofs drawn (GB/s)\" and its figure "
            "roofline.png;") in flat_text and "both are this machine's figures, each from another moment" in flat_text
    if "faster" in ns:   # the full batch bumped: both rates on 3 seeds, the verdict following the curves it ran
        bumps = re.search(r"^over 3 seeds of the initial weights.*?\n→ .*?(?=\n(?! {4})|\Z)", text, re.M | re.S)
        _bumps_follow_the_counts(bumps.group(0), ns["faster"], ns["slower"])
    else:
        assert re.search(r"^the full batch's loss rose in 0 of its 60 passes$", text, re.M)
    for part in ("the whole step", "its five products alone"):
        assert re.search(rf"^float32 ÷ float64, {part}: [\d.]+× of [\d.]+ µs — saved -?[\d.]+ … -?[\d.]+ µs$", unwrapped, re.M)
    gain = re.search(r"^  the products' share of the step's saving: .*?\n  → .*?(?=\n(?! {4}))", text, re.M | re.S)
    assert gain and re.search(r"→ (wholly (at or above|below) 50%: most|across 50%, within 40–60%: about half|"
                              r"across 50% and beyond 40–60%: not settled|not settled in this run)", gain.group(0))
    share = re.search(r"^  each timed step starts from m with ([\d.]+)% of its entries subnormal, s with 0\.0%; after the "
                      r"step ([\d.]+)% of m still are", unwrapped, re.M)
    touched = ("subnormal", "float32 ÷", "→ ", "rounds of 10", "round by round", "not settled", "saved", "gain")
    long = [line for line in text.splitlines() if any(word in line for word in touched) and len(line) > 118]
    assert not long, long
    assert 20 < float(share.group(1)) < 30 and float(share.group(2)) < float(share.group(1))
    levers = re.findall(r"^(.{53}) +[\d.]+× +[\d.]+–[\d.]+ +(faster now|not faster now|not settled — run it again) +"
                        r"\([\d.]+→[\d.]+ [µm]s, quotient [\d.]+×\)$", unwrap(text), re.M)   # " +": a wrap at a double space reads as one
    assert len(levers) == 7 and "Adam step without subnormal moments" in levers[-1][0]   # every paired lever, placed
    # reader 34 b2: the measured difference, then the assist hypothesis sized from this run's counts beside it
    flat = unwrap(text)
    assert re.search(r"^  → (the step on flushed moments is (not )?faster here|whether the step on flushed moments is "
                     r"faster here is not settled)", text, re.M)
    assert re.search(r" a hypothesis, not measured: a slow path \(~100 cycles an assist, the low end of the \"hundreds of "
                     r"clock cycles\" Intel documents for its cores; none cited for AMD's\) would predict, at the [\d.]+ GHz ",
                     flat) and "(a slow path taken)" not in flat   # reader 39 b8: Intel's figure, said to be Intel's
    # reader 34 c4: the network is named where each part of the tutorial starts using it, from the code's sizes
    assert "the network of Steps 1–4: 64 inputs, 64 hidden units, 10 outputs (4,810 weights and biases)" in flat
    assert ("the network from here on: 64 inputs, 128 hidden units, 10 outputs (9,610 weights and biases) — `nnkit "
            "train`'s default (--hidden 128), not Steps 1–4's 64 inputs, 64 hidden units") in flat
    assert (flat.index("the network of Steps 1–4") < flat.index("figure: ") < flat.index("the network from here on")
            < flat.index("this machine's library on the step's largest product (128×64 times 64×128)"))


@pytest.mark.parametrize("seed", _seeds(12, 2))
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


def _step5() -> dict:
    """Step 5's float32 functions (``step_products``, ``saved``, ``gained_where``), defined by the tutorial's own code."""
    code = _cell("def gained_where")
    scope = {"model": __import__("nnkit.model", fromlist=["model"])}
    scope.update(math=math, verdicts=verdicts)
    exec(code[code.index("def step_products"):code.index('lever["float32 instead of float64 (one step)"]')], scope)  # noqa: S102
    return scope


def _measured(rng: np.random.Generator, plain: float) -> dict:
    """A made-up ``ratio`` result: a median ratio, its pairs, and a disturbance (none, a slow core, busy others) around
    them, placed by the book's one rule as the tutorial's ``ratio`` places it."""
    ratios = list(rng.uniform(0.3, 1.3) * rng.uniform(1 - rng.choice([0.01, 0.1, 0.4]), 1.0, 9))
    seen = {"others": float(rng.choice([0.0, 0.1, 0.9])), "speed": float(rng.choice([1.0, 0.9, 0.7]))}
    region, bounds = verdicts.place(statistics.median(ratios), (1.0,), seen["others"], seen["speed"],
                                    verdicts.spread(ratios))
    return {"ratio": statistics.median(ratios), "range": bounds, "region": region, "seen": seen,
            "pair": {"plain": plain, "other": plain * statistics.median(ratios), "ratios": ratios}}


GAIN = re.compile(r"^  the products' share of the step's saving: (?:(-?[\d.]+)…|at most )(-?[\d.]+)% \(each end the least or "
                  r"the most of products ÷ step over the two savings' ranges, each from its own pairs\)\n  → (.*)$")


def _gain_outcome(said: str, step: tuple[float, float], products: tuple[float, float], disturbed: bool) -> str:
    """Check one printed float32 verdict (flattened) against the share range it prints and the rule that decides
    it — worked out here from the two savings' ranges; return which outcome it was."""
    flat = re.sub(r"\n {4,}", " ", said)
    if step[0] <= 0:
        assert flat.startswith("  the products' share of the step's saving: unbounded") and "not settled" in flat
        return "unbounded"
    ends = [p / s for p in products for s in step]
    low, high = min(ends), max(ends)
    printed_low, printed_high, verdict = GAIN.match(flat).groups()
    assert (printed_low is None) == (low == -math.inf) and float(printed_high) == pytest.approx(100 * high, abs=0.01)
    shown = [float(printed_high)] + ([float(printed_low)] if printed_low else [])
    if low >= 0.5:     # decided as printed: each end on the side of 50 % (and of 40 %, 60 %) it prints on
        assert verdict.startswith("wholly at or above 50%: most of float32's gain came from the five products")
        assert min(shown) >= 50 and verdict.endswith("only a little over half") == (low < 0.6)
        return "products"
    if high < 0.5:
        assert verdict.startswith("wholly below 50%: most of float32's gain came from the rest of the step")
        assert max(shown) < 50 and verdict.endswith("only a little under half") == (high >= 0.4)
        return "rest"
    if 0.4 <= low and high < 0.6:
        assert verdict.startswith("across 50%, within 40–60%: about half of float32's gain came from the five products")
        assert 40 <= min(shown) < 50 <= max(shown) < 60
        return "half"
    assert verdict == f"across 50% and beyond 40–60%: not settled in this run — run it again (the pairs' noise" + (
        " and the disturbance around them)" if disturbed else ")")
    return "open"


@pytest.mark.parametrize("seed", _seeds(400))
def test_float32s_gain_is_placed_by_the_products_share_of_the_saving_against_half(seed):
    """Reader 31 c22: "most of float32's gain came from the five products" rested on a share of 51–63 % whose lower
    end only just cleared half, from two separate sets of pairs. The products' share of the step's saving is now
    printed as a range (each end the least or the most the two savings' ranges allow) and placed by the book's rule
    against 40 %, 50 % and 60 %: most, about half, or not settled, for made-up pairs of every kind (calm, slow core,
    busy others), every outcome reached over the seeds; lines ≤ 118 once fitted."""
    rng = np.random.default_rng(seed)
    step5 = _step5()
    whole, alone = _measured(rng, float(rng.uniform(100e-6, 300e-6))), _measured(rng, float(rng.uniform(20e-6, 100e-6)))
    step, products = step5["saved"](whole), step5["saved"](alone)
    for measured, (low, high) in ((whole, step), (alone, products)):   # the µs saved: 1 − the ratio's range, times float64's
        assert low <= measured["pair"]["plain"] * (1 - measured["ratio"]) * 1e6 <= high
    disturbed = any(verdicts.cause(m["seen"]["others"], m["seen"]["speed"]) for m in (whole, alone))
    said = tutorials.fit(step5["gained_where"](step, products, disturbed))
    _gain_outcome(said, step, products, disturbed)
    if verdicts.busy(whole["seen"]["others"]) or verdicts.busy(alone["seen"]["others"]):
        assert math.inf in (step[1] - step[0], products[1] - products[0])   # busy others bound a saving only by 0×
    assert all(len(line) <= 118 for line in said.split("\n"))


def test_float32s_gain_reaches_every_outcome_and_the_readers_case_says_only_a_little_over_half():
    """The generator's cases reach each outcome (most from the products, most from the rest, about half, not settled,
    unbounded) — 2,000 made-up savings ranges — and the reader's 112.0–119.3 µs of 187.9–220.8 µs (50.72–63.49 %) reads
    most, only a little over half at its lower end."""
    rng, seen = np.random.default_rng(31), collections.Counter()
    gained_where = _step5()["gained_where"]
    for _ in range(2000):
        step = [float(rng.uniform(-20, 300))]
        step.append(step[0] + abs(step[0]) * float(rng.uniform(0, 0.3)) + 1)
        centre, wide = float(rng.uniform(0.2, 0.8)), float(rng.choice([0.01, 0.05, 0.2]))
        products = sorted([centre * step[0] * (1 - wide), centre * step[1] * (1 + wide)])
        if rng.random() < 0.05:
            products[0] = -math.inf
        said = tutorials.fit(gained_where(tuple(step), tuple(products), bool(rng.random() < 0.5)))
        seen[_gain_outcome(said, tuple(step), tuple(products), "disturbance" in said)] += 1
    assert min(seen[o] for o in ("products", "rest", "half", "open", "unbounded")) >= 20, seen
    said = gained_where((187.9, 220.8), (112.0, 119.3))
    assert "50.72…63.49%" in said and said.endswith("most of float32's gain came from the five products (sgemm for dgemm), "
                                                   "not the elementwise rest — at its lower end only a little over half")


def test_the_products_timed_for_float32_are_the_steps_own_five():
    from nnkit import model

    rng = np.random.default_rng(0)
    net, X = model.init([64, 128, 10], np, rng), rng.random((64, 128))
    Y = np.eye(10)[:, rng.integers(0, 10, 128)]
    W1X, W2A1, dW2, W2tdZ2, dW1 = _step5()["step_products"](net, X, Y)()
    Zs, As = model.forward(net, X)
    grads = model.backward(net, Zs, As, Y)
    assert np.allclose(W1X + net["b1"], Zs[0]) and np.allclose(W2A1 + net["b2"], Zs[1])
    assert np.allclose(dW2, grads["W2"]) and np.allclose(dW1, grads["W1"]) and W2tdZ2.shape == (128, 128)


def _lever_line():
    code = _cell("def lever_line")
    scope = {"math": __import__("math"), "shaky_levers": {"timed apart"}, "verdicts": verdicts, "plots": plots,
             "fit": tutorials.fit}
    ratios = _cell("def settles")
    exec(ratios[ratios.index("def settles"):ratios.index("\nlever = {}")], scope)   # noqa: S102 — the tutorial's own code
    exec(code[code.index("def lever_line"):code.index("\n\nprint(")], scope)   # noqa: S102 — the tutorial's own code
    return scope["lever_line"]


@pytest.mark.parametrize("seed", _seeds(400))
def test_each_levers_verdict_follows_the_range_it_prints(seed):
    rng = np.random.default_rng(seed)
    line = _lever_line()("a lever", _measured(rng, 1e-4))
    assert all(len(row) <= tutorials.WIDTH for row in line.split("\n")) and ("\n" in line) == (len(unwrap(line)) > tutorials.WIDTH)
    found = re.fullmatch(r"a lever +(\d+\.\d\d+)× +(?:(\d+\.\d\d+)–(\d+\.\d\d+)|others busy) +(.*?) +\(([\d.]+)→([\d.]+) [µm]s, quotient [\d.]+×\)",
                         unwrap(line))
    if found.group(2) is None:
        assert found.group(4) == "not settled — run it again"
        return
    low, high = float(found.group(2)), float(found.group(3))
    assert low <= float(found.group(1)) + 0.005 and float(found.group(1)) <= high + 0.005
    assert found.group(4) == _as_printed(low, high)   # reader 28 a7: decided as printed, whatever the digits


@pytest.mark.parametrize("seed", _seeds(300))
def test_each_lever_prints_its_ratio_to_three_digits_and_each_sides_time(seed):
    """Reader 30 (c4): two levers printed the same figures, 0.55× 0.54–0.57, though timed apart. The ratio is printed
    to three significant digits and each side's median µs beside it, so two measurements look alike only where they
    agree to three digits."""
    rng = np.random.default_rng(seed)
    measured = _measured(rng, float(10 ** rng.uniform(-6.5, -1.5)))
    line = _lever_line()("a lever", measured)
    found = re.fullmatch(r"a lever +([\d.]+)× +.* +\(([\d.]+)→([\d.]+) ([µm]s), quotient [\d.]+×\)", unwrap(line))
    assert all(len(row) <= 118 for row in line.split("\n"))
    scale = 1e3 if measured["pair"]["plain"] >= 0.01 else 1e6
    assert found.group(4) == ("ms" if scale == 1e3 else "µs")
    for printed, value in zip(found.groups(), (measured["ratio"], *(measured["pair"][side] * scale for side in ("plain", "other")))):
        assert float(printed) == pytest.approx(value, rel=5e-3) and len(printed.replace(".", "").lstrip("0")) >= 3


@pytest.mark.parametrize("seed", _seeds(300))
def test_each_lever_prints_its_two_medians_own_quotient_beside_the_median_of_ratios(seed):
    """Reader 39 c16: the loss lever printed 27.4 → 17.4 µs (a quotient of 0.635×) beside 0.569× (0.55–0.59), and a
    reader who divides took it for an error. Each lever's line prints the two medians' own quotient too, as those
    medians give it (the quick run's test reads the heading that says why the two may differ)."""
    rng = np.random.default_rng(seed)
    measured = _measured(rng, float(10 ** rng.uniform(-6.5, -1.5)))
    measured["pair"]["other"] *= float(rng.choice([1.0, rng.uniform(0.8, 1.25)]))   # skewed pairs: the two differ
    line = unwrap(_lever_line()("a lever", measured))
    found = re.fullmatch(r"a lever +([\d.]+)× +.* +\(([\d.]+)→([\d.]+) [µm]s, quotient ([\d.]+)×\)", line)
    quotient = measured["pair"]["other"] / measured["pair"]["plain"]
    assert float(found.group(4)) == pytest.approx(quotient, rel=5e-3) and len(found.group(4).replace(".", "").lstrip("0")) >= 3
    assert float(found.group(1)) == pytest.approx(measured["ratio"], rel=5e-3)


def test_reader_30s_two_levers_alike_to_two_digits_print_apart():
    line = _lever_line()
    said = [line("a lever", {"ratio": ratio, "range": (0.54, 0.57), "region": 0, "pair": {"plain": plain, "other": plain * ratio}})
            for ratio, plain in ((0.553, 2.7e-5), (0.549, 9.1e-4))]
    assert said[0] != said[1] and re.search(r" 0\.553× +0\.54–0\.57 +faster now +\(27\.0→14\.9 µs, quotient 0\.553×\)", unwrap(said[0]))


def _as_printed(low: float, high: float) -> str:
    """What a range as printed settles against 1× (``verdicts.place``: at or above 1 is not below it)."""
    return "faster now" if high < 1 else "not faster now" if low >= 1 else "not settled — run it again"


def test_a_levers_range_a_hair_from_1_prints_the_side_it_is_decided_on():
    """Reader 28 a7's class in tutorial 9: a range whose end lies a hair from 1× prints enough digits to show its side."""
    line = _lever_line()
    for ratio in (0.99, 1.0, 1.01):
        for hair in (-1e-5, -1e-3, 0.0, 1e-3, 1e-5):
            for low, high in ((ratio * 0.9, 1 + hair), (1 + hair, ratio * 1.1)):
                region = 0 if high < 1 else 1 if low >= 1 else None
                said = line("a lever", {"ratio": ratio, "range": (low, high), "region": region,
                                        "pair": {"plain": 1e-4, "other": ratio * 1e-4}})
                found = re.fullmatch(r"a lever +\d+\.\d\d+× +(\d+\.\d+)–(\d+\.\d+) +(.*?) +\(100→[\d.]+ µs, quotient [\d.]+×\)", unwrap(said))
                assert found.group(3) == _as_printed(float(found.group(1)), float(found.group(2))), said


def test_a_figure_timed_otherwise_keeps_its_own_line_and_flag():
    assert _lever_line()("timed apart", 0.35).endswith(" 0.350×  — rests on a disturbed timing (above)")
    assert _lever_line()("namespace look-up (µs per call, not a ratio)", 1.35).endswith(" 1.35")


# reader 23's table: the operations on the roofline (FLOPs per byte, GFLOP/s), whose leaders crossed (c10)
READER_23 = {"matmul": (3.18, 10.63), "sum": (0.12, 0.05), "max": (0.11, 0.02), "greater": (0.11, 0.30),
             "exp": (0.06, 0.09), "log": (0.06, 0.01), "maximum": (0.06, 0.21), "add": (0.06, 0.17),
             "divide": (0.06, 0.05), "multiply": (0.05, 0.26), "subtract": (0.04, 0.25)}


def _crosses(p, q, r, s) -> bool:
    """Whether segment p–q and segment r–s cross at a point inside both."""
    side = lambda a, b, c: np.sign((b[0] - a[0]) * (c[1] - a[1]) - (b[1] - a[1]) * (c[0] - a[0]))
    return side(p, q, r) * side(p, q, s) < 0 and side(r, s, p) * side(r, s, q) < 0


@pytest.mark.parametrize("seed", [-1] + _seeds(12, 1))   # each draws and measures a figure: ~5 s
def test_roofline_points_crowded_at_one_spot_are_named_beside_them_and_the_names_do_not_overlap(seed, monkeypatch, tmp_path):
    """Step 3's roofline (``named=True``): every operation's name is written once, joined to its own point, no two
    names' boxes overlap and no two leader lines cross, however the points crowd (reader 16: multiply, subtract, add
    and maximum on one spot; reader 23 c10: the leaders of greater, multiply and subtract crossed — seed -1)."""
    import matplotlib.text

    rng = np.random.default_rng(seed if seed >= 0 else 0)
    points = ({f"{op} (x)": xy for op, xy in READER_23.items()} if seed < 0 else
              {f"op{i} (x)": (0.05 * float(rng.uniform(0.7, 2.5)), float(rng.choice([0.5, 0.1])) * float(rng.uniform(0.9, 1.1)))
               for i in range(int(rng.integers(2, 13)))})
    seen = {}
    real_save = plots._save

    def keep(fig, path):
        fig.canvas.draw()
        ax = fig.axes[0]
        seen["names"] = [(t.get_text(), t.xy, matplotlib.text.Text.get_window_extent(t))   # the name, not its line
                         for t in ax.texts]
        seen["at"] = [tuple(ax.transData.transform(t.xy)) for t in ax.texts]
        return real_save(fig, path)

    monkeypatch.setattr(plots, "_save", keep)
    plots.roofline(points, 50.0, {"L2": 40.0}, str(tmp_path / "roof.png"), "t", named=True)
    assert {(name, tuple(xy)) for name, xy, _ in seen["names"]} == {(label.split(" (")[0], xy) for label, xy in points.items()}
    boxes = [box for _, _, box in seen["names"]]
    assert not any(a.overlaps(b) for i, a in enumerate(boxes) for b in boxes[i + 1:])
    leaders = [(at, (box.x0, (box.y0 + box.y1) / 2)) for at, box in zip(seen["at"], boxes)]   # point → name's left middle
    assert not any(_crosses(*a, *b) for i, a in enumerate(leaders) for b in leaders[i + 1:])


def _which_step():
    code = _cell("def which_step")
    scope: dict = {"statistics": statistics, "verdicts": verdicts}
    exec(code[code.index("def which_step"):code.index("print(fit(which_step(")], scope)   # noqa: S102 — the tutorial's
    return scope["which_step"]


@pytest.mark.parametrize("seed", _seeds(200))
def test_which_recorded_step_is_which_splits_the_gap_into_order_and_moment_by_its_own_measurements(seed):
    """Reader 23 c9: the table's 121.7 µs and the 247.3 µs beside the 1-element step were two ways of recording the
    same step. For seeded steps (the table's nine in a row; later rounds, each right after the 1-element step and once
    more right after itself) and disturbances: the line names which is which; the order's verdict is the book's rule on
    the rounds' paired ratios against 0.91–1.10×, and the moment's follows where the steps in a row here lie against
    the table's nine — above, below or within their range."""
    rng = np.random.default_rng(seed)
    table = list(rng.uniform(100e-6, 180e-6, 9))
    rounds = int(rng.choice([5, 25]))
    in_a_row = list(float(rng.choice([0.6, 1.0, 1.6, 2.2])) * np.array(table).mean() * rng.uniform(0.9, 1.1, rounds))
    order, jitter = float(rng.choice([0.8, 1.0, 1.3, 2.0])), float(rng.choice([0.01, 0.05, 0.3]))   # one per run
    after_tiny = [a * order * float(rng.uniform(1 - jitter, 1 + jitter)) for a in in_a_row]
    others, speed = float(rng.choice([0.0, 0.0, 0.1, 0.9])), float(rng.choice([1.0, 1.0, 0.95, 0.7]))
    said = _which_step()(table, after_tiny, in_a_row, others, speed)
    assert all(len(line) <= tutorials.WIDTH for line in tutorials.fit(said).split("\n"))
    said = unwrap(tutorials.fit(said))
    assert f"the table's {statistics.median(table) * 1e6:.1f} µs is the median of 9 steps recorded in a row" in said
    assert f"the {statistics.median(after_tiny) * 1e6:.1f} µs above, of {rounds} recorded later, each right after the " \
           "1-element step" in said
    now = statistics.median(in_a_row)
    assert f"right after itself: {now * 1e6:.1f} µs." in said
    ratios = [t / a for t, a in zip(after_tiny, in_a_row)]
    region, (low, high) = verdicts.place(statistics.median(ratios), (1 / 1.1, 1.1), others, speed, verdicts.spread(ratios))
    order = said.split("The order")[1].split(". The moment")[0]
    assert ("below 0.91×" in order) == (region == 0) and ("within 0.91–1.10×" in order) == (region == 1)
    assert ("above 1.10×: right after the 1-element step it took longer" in order) == (region == 2)
    assert ("not settled in this run" in order) == (region is None)
    assert ("which bounds nothing" in order) == (high == float("inf"))
    moment = said.split(". The moment")[1]
    assert ("above all of the table's nine" in moment) == (now > max(table))
    assert ("below all of the table's nine" in moment) == (now < min(table))
    assert ("within the range of the table's nine" in moment) == (min(table) <= now <= max(table))
    assert ("this run does not separate" in moment) == (not min(table) <= now <= max(table))


def _split(products: float, step: float, seen: dict) -> dict:
    """The tutorial's fixed-cost split (``fixed_share`` … ``what_is_left``) with its recorded medians set to
    ``products`` and ``step`` (seconds) and its watch's reading to ``seen``."""
    code = _cell("def what_is_left")
    scope: dict = {"statistics": statistics, "verdicts": verdicts, "seen": seen, "products": products, "step": step}
    exec(code[code.index("def fixed_share"):code.index("products_fixed, products_span =")], scope)   # noqa: S102
    exec(code[code.index("NO_RANGE ="):code.index('print(fit(f"with the recorder on')], scope)       # noqa: S102
    exec(code[code.index("def without_fixed"):code.index("left = without_fixed(")], scope)           # noqa: S102
    return scope


@pytest.mark.parametrize("seed", _seeds(100))
def test_what_is_left_after_the_fixed_cost_names_all_that_grows_with_size_as_an_estimate(seed):
    """Reader 20 b2: 'the gap left is the other operations' low intensity' named one of several things that grow with
    the arrays. For seeded shares (None: a fixed-cost share at or above 100 %) and either outcome of the unrecorded
    verdict: the gap names the work at low intensity, new output arrays, cache misses and the recording's cost that
    grows, says the run does not separate them and that the split is an estimate — and that the unrecorded share did
    not settle exactly when it did not."""
    rng = np.random.default_rng(seed)
    left = None if rng.random() < 0.2 else float(rng.uniform(0.05, 0.95))
    span = (0.0, float("inf")) if rng.random() < 0.2 else (left or 0.5) * np.array([0.5, 1.5])
    settled = bool(rng.random() < 0.5)
    text = _split(1.0, 2.0, {})["what_is_left"](left, tuple(span), settled)
    if left is None:
        assert "not separated in this run" in text and "gap left" not in text
        return
    assert text.startswith(f"less each side's fixed cost, {left:.0%} of the time, ")
    assert "(an estimate from recorded medians" in text
    assert all(word in text for word in ("low intensity", "new output arrays", "cache misses",
                                         "recording cost that grows with size", "this run does not separate them"))
    assert ("the unrecorded fixed-cost share above did not settle" in text) == (not settled)
    assert "the gap left is the other operations' low intensity" not in text


@pytest.mark.parametrize("seed", _seeds(200))
def test_step_3s_heading_names_the_kinds_of_operation_that_do_no_arithmetic(seed):
    """Reader 32 c15: "its six slowest of 13 kinds" beside a roofline of 11 left two kinds unnamed. Over seeded
    kinds, some with no FLOPs: the heading counts those with FLOPs and names every one without, in the run's words."""
    rng = np.random.default_rng(seed)
    code = _cell("def kinds_said")
    scope: dict = {}
    exec(code[code.index("def kinds_said"):code.index("print(fit(", code.index("def kinds_said"))], scope)  # noqa: S102
    rows = [{"op": f"op{i}", "flops": int(rng.choice([0, 0, 10, 640]))} for i in range(int(rng.integers(1, 16)))]
    idle = [r["op"] for r in rows if not r["flops"]]
    said = scope["kinds_said"](len(rows), idle)
    assert said.startswith(f"of {len(rows)} kinds of operation ({len(rows) - len(idle)} of them do arithmetic, each "
                           "on the roofline below")
    assert all(re.search(rf"\b{op}\b", said) for op in idle) and not any(
        re.search(rf"\b{r['op']}\b", said) for r in rows if r["flops"])
    assert said.endswith(f"; {' and '.join(idle)} {'does' if len(idle) == 1 else 'do'} none)" if idle else "below)")


@pytest.mark.parametrize("seed", _seeds(600))
def test_the_share_left_after_each_sides_fixed_cost_carries_the_range_its_two_shares_allow(seed):
    """Reader 32 b9: "less each side's fixed cost, 60% of the time" was one figure, though the fixed-cost share beside
    it printed "not settled … 28.42%–102.62%". Over seeded pairs (shares near and past 100 %, a core slowed or not,
    other processes busy or not): each side's share prints with its range by the book's one rule, and the estimate
    with the range those two ranges allow — every estimate the ranges admit lies inside it and its ends are reached —
    or, busy, says once that nothing bounds it; none where a share's median reaches 100 %."""
    rng = np.random.default_rng(seed)
    step = float(rng.uniform(100e-6, 800e-6))
    products = step * float(rng.uniform(0.05, 0.95))
    busy, slowed = rng.random() < 0.15, rng.random() < 0.4
    seen = {"others": 1.5 if busy else float(rng.uniform(0, 0.2)),
            "speed": float(rng.uniform(0.5, 0.85)) if slowed else 1.0}
    scope = _split(products, step, seen)
    count = int(rng.integers(5, 26))
    ratios = [list(float(m) * rng.uniform(1 - w, 1 + w, count)) for m, w in
              ((rng.uniform(0.1, 1.1), rng.uniform(0, 0.6)), (rng.uniform(0.1, 1.1), rng.uniform(0, 0.6)))]
    (p, p_span), (o, o_span) = (scope["fixed_share"](r) for r in ratios)
    sides = scope["sides_said"](p, p_span, o, o_span, count)
    left = scope["without_fixed"](p, o) if max(p, o) < 1 else None
    span = scope["left_span"](p_span, o_span)
    text = scope["what_is_left"](left, span, True)
    assert sides.startswith(f"{p:.0%} of the products' ")
    if busy:
        assert sides.count("no range: busy other processes bound nothing") == 1 and "range " not in sides.replace(
            "no range", "")
        assert left is None or f"{left:.0%} of the time, no range: busy other processes bound nothing (" in text
        assert "its range from" not in text
        return
    assert f"({'range'} {p_span[0]:.0%}–{p_span[1]:.0%}) and {o:.0%} of the other operations' " in sides
    assert f"(range {o_span[0]:.0%}–{o_span[1]:.0%})" in sides and "no range" not in sides
    assert p_span[0] <= p <= p_span[1] and o_span[0] <= o <= o_span[1]
    if left is None:
        assert "not separated in this run" in text
        return
    low, high = span
    assert f"less each side's fixed cost, {left:.0%} of the time, range {low:.0%}–{high:.0%} (an estimate" in text
    assert "its range from the two fixed-cost shares' ranges above" in text
    grid = [scope["without_fixed"](a, b) for a in np.linspace(*p_span, 7) for b in np.linspace(*o_span, 7)]
    grid = [g for g in grid if g is not None]     # both sides' whole time fixed: no estimate there
    assert all(low - 1e-12 <= g <= high + 1e-12 for g in grid) and low <= left <= high
    assert min(grid) == pytest.approx(low) and max(grid) == pytest.approx(high)


def test_the_book_cites_tutorial_6_on_oversubscription_for_what_it_tests_not_as_a_finding():
    """Reader 20 c9: tutorial 6 prints 'oversubscription … fits, but is not isolated' only on a busy row; README and
    tutorial 9 cite what tutorial 6 does, not a finding it may not print — nor a test it does not make (reader 26 b3:
    tutorial 6 starts no busy processes; on an idle machine it has no busy row to name)."""
    root = tutorials.find("training").parent.parent
    for text in (tutorials.find("training").read_text(), (root / "README.md").read_text()):
        flat = " ".join(text.split())
        assert "tutorial 6: oversubscription fits" not in flat and "tutorial 6 finds oversubscription" not in flat
        assert "tutorial 6 tests this on a busy machine" not in flat   # reader 26 b3: it starts no busy process
        assert "tutorial 6 starts no" in flat and "busy" in flat


@functools.cache
def _with_the_rate():
    code = _cell("def with_the_rate")
    scope: dict = {}
    exec(code[code.index("def rises"):code.index("full_name = ")], scope)   # noqa: S102 — the tutorial's own code
    return scope["with_the_rate"]


def _descent(rng: np.random.Generator, passes: int, slowest: float, bumps: float) -> list[float]:
    """A made-up loss per pass: each pass a shrink by up to ``slowest`` (1: none), or, with probability ``bumps``, a
    rise by up to 10 %."""
    loss, losses = float(rng.uniform(1.5, 2.5)), []
    for _ in range(passes):
        losses.append(loss)
        loss *= float(rng.uniform(1.0001, 1.1)) if rng.random() < bumps else float(rng.uniform(slowest, 0.9999))
    return losses


BUMPS = re.compile(r"^over (\d) seeds of the initial weights, (\d+) passes each, the passes whose loss rose:\n"
                   r"  lr 0\.5:  ([\d, ]+) — in (\d) of \d seeds\n  lr 0\.25: ([\d, ]+) — in (\d) of \d seeds\n→ (.*)$", re.S)


def _bumps_follow_the_counts(said: str, faster: dict, slower: dict) -> str:
    """Check a printed bump verdict (flattened) against the loss curves it was given; return its outcome."""
    assert all(len(line) <= 118 for line in said.split("\n"))
    found = BUMPS.match(re.sub(r"\n {4,}", " ", said))   # wrapped lines joined; the two rate lines kept
    assert found, said
    rose = {lr: [int(np.sum(np.diff(curves[seed]) > 0)) for seed in curves] for lr, curves in ((0.5, faster), (0.25, slower))}
    assert [int(found.group(1)), int(found.group(2))] == [len(faster), len(faster[0])]
    assert [int(c) for c in found.group(3).split(", ")] == rose[0.5] and int(found.group(4)) == sum(c > 0 for c in rose[0.5])
    assert [int(c) for c in found.group(5).split(", ")] == rose[0.25] and int(found.group(6)) == sum(c > 0 for c in rose[0.25])
    verdict, high, low = found.group(7), sum(rose[0.5]), sum(rose[0.25])
    if high == 0:
        assert verdict == "the larger rate's runs did not rise: no bump to explain"
        return "none"
    if low >= high:
        assert verdict.startswith("the smaller rate's runs rose as often or more") and "come with" not in verdict
        return "not with the rate"
    if 4 * low >= high:
        assert "not settled over these seeds" in verdict and "come with" not in verdict
        return "open"
    assert verdict.startswith("the bumps come with the larger rate in these seeds — a correlation, not a cause isolated")
    assert "hypothesis" in verdict and "never reach the part of the surface where the faster ones bumped" in verdict
    bumped = [seed for seed in faster if rose[0.5][seed]]
    before = {seed: faster[seed][int(np.argmax(np.diff(faster[seed]) > 0))] for seed in bumped}   # just before the rise
    short = sum(min(slower[seed]) >= before[seed] for seed in bumped)
    if short:
        assert f"stays open: in {short} of {len(bumped)} seeds the slower run never got as low" in verdict
        return "with the rate, alternative open"
    assert f"is weakened, not ruled out: in all {len(bumped)} seeds that bumped" in verdict
    return "with the rate, alternative weakened"


def _bump_cases(count: int) -> collections.Counter:
    """``count`` seeded sets of made-up loss curves (3 or 5 seeds of 60 or 300 passes at each rate), each printed
    verdict checked against its curves; how often each outcome came."""
    rng, seen = np.random.default_rng(21), collections.Counter()
    for _ in range(count):
        seeds, passes = int(rng.choice([3, 5])), int(rng.choice([60, 300]))
        rate = {lr: float(rng.choice([0.0, 0.002, 0.01, 0.05, 0.2])) for lr in (0.5, 0.25)}
        faster = {seed: _descent(rng, passes, 0.95, rate[0.5] * (rng.random() < 0.8)) for seed in range(seeds)}
        slower = {seed: _descent(rng, passes, float(rng.choice([0.97, 0.9995])), rate[0.25]) for seed in range(seeds)}
        said = tutorials.fit(_with_the_rate()(faster, slower))
        seen[_bumps_follow_the_counts(said, faster, slower)] += 1
    return seen


def test_the_bump_verdict_follows_every_seeds_count_of_rises_at_both_rates():
    """Reader 21 b3: 'the bump comes with the larger learning rate' rested on one seed and one run per rate, and did not
    name the alternative (the slower run may never reach where the faster one bumped). On made-up loss curves: the
    counts printed are each curve's rises, the verdict follows the totals (with the rate only below a quarter as many
    rises at lr 0.25), names the correlation, the hypothesis and the alternative, and says in how many seeds the slower
    run never got below the loss where the faster one first rose. 50 cases here, every outcome among them."""
    seen = _bump_cases(50)
    assert len(seen) == 5, seen


@pytest.mark.long
def test_the_bump_verdict_follows_the_counts_over_many_made_up_runs():
    """As above, over 600 cases (~9 s), each outcome at least 20 times."""
    seen = _bump_cases(600)
    assert min(seen.values()) >= 20 and len(seen) == 5, seen


def test_step_1_does_not_take_where_a_second_thread_pays_from_tutorial_6s_square_products():
    """Reader 35 (b6): the full batch's thin products (64·1258·64) ran 1.35–1.69× slower on two threads while tutorial
    6's square ones paid from n = 104. Step 1 says tutorial 6 times square products only, that this network's own are
    timed by its threads lines (slower among their words), and keeps any reason why thin shapes split worse a
    hypothesis; Step 5's pointer to tutorial 6 says square products too."""
    flat = " ".join(tutorials.find("training").read_text().split())
    step_1 = flat[flat.index("## Step 1"):flat.index("## Step 2")]
    assert "Tutorial 6 Step 4 times square products only" in step_1
    assert "time them on one thread and on two" in step_1 and "clearly faster, not clearly faster, slower, or not settled" in step_1
    assert "Why thin shapes would split differently is not measured here; a hypothesis:" in step_1
    step_5 = flat[flat.index("## Step 5"):flat.index("## Step 6")]
    assert "tutorial 6 Step 4 measures where this machine's library draws the line, on square products" in step_5


def test_the_threads_lines_words_are_the_ones_step_1_names():
    """The words Step 1 lists for where the range lies are the words ``threads.decide`` prints."""
    from nnkit import threads
    assert {verdict for verdict, _ in threads._WORDS.values()} == {"clearly faster", "not clearly faster", "slower",
                                                                   "not settled"}


def test_the_prose_states_the_unisolated_causes_as_candidates_not_findings():
    """Reader 21 b3, b4: the prose called the bump's link to the rate a finding from one run, and the other operations'
    low intensity one of 'two things' that keep the products' time share low, though the run separates only the fixed
    cost. The prose now names the correlation, the hypothesis and its alternative, and the four candidates unsplit."""
    flat = " ".join(tutorials.find("training").read_text().split())
    assert "Two things keep the products' share" not in flat and "the bump comes with the larger learning rate" not in flat
    assert "that is a correlation: a hypothesis is that the larger steps overshoot" in flat
    assert "never reach the part of the surface where the faster ones bumped" in flat
    assert "four candidates fit it, which this run does not split: the other operations' low intensity" in flat


def test_prose_points_a_ratio_below_a_cell_only_where_that_cell_prints_it():
    """Reader 24 (c10): "the ratio below" stood above the Adam cell, whose ratio only Step 7's table prints. Every
    paragraph that points at a ratio or a line "below" is followed by a cell that prints a lever's ratio; the Adam
    paragraph points at Step 7's table, by the row's own name."""
    text = tutorials.find("training").read_text()
    parts = re.split(r"```\{code-cell\} ipython3\n(.*?)```", text, flags=re.S)
    pointing = [(prose, cell) for prose, cell in zip(parts[0::2], parts[1::2])
                if re.search(r"\b(ratio|line) below\b", prose)]
    assert pointing   # the subnormal lever's paragraph still points below, at the line its cell prints
    for prose, cell in pointing:
        assert re.search(r"print\([^`]*?\['ratio'\]", cell), prose[-300:]
    adam = next(prose for prose, cell in zip(parts[0::2], parts[1::2]) if "class AdamPerArray" in cell)
    row = "printed in Step 7's table (the row \"Adam over one flat vector, not per array\")"
    assert re.sub(r"\s+", " ", adam).count(row) == 1
    assert 'lever["Adam over one flat vector, not per array"]' in _cell("class AdamPerArray")


def _step3_function(name: str, end: str):
    """A function Step 3's roofline cell defines, run from its own source."""
    code = _cell("def footprint(")
    scope = {"np": np}
    exec(code[code.index(f"def {name}("):code.index(end)], scope)   # noqa: S102 — the tutorial's own code
    return scope[name]


def test_the_steps_footprint_is_its_distinct_arrays_and_the_l2_words_follow_it_both_ways():
    """Reader 28 a6: 'a few hundred kilobytes, which stay in the L2 cache' beside 'the step moves 618,576 bytes (model)'
    against L2's 524,288. The line prints the step's footprint — the arrays it is given and each new buffer it makes,
    once each — beside L2's size, and says which roof that makes L2's: all of it fits, or not (then L2's roof is the
    highest that could apply); the traffic (each array counted per read) is printed as traffic."""
    footprint = _step3_function("footprint", "def l2_roof(")
    l2_roof = _step3_function("l2_roof", "\n\nstep_bytes")
    out = lambda nbytes, new: type("Info", (), {"nbytes": nbytes, "new_buffer": new})
    ops = [type("Op", (), {"outputs": (out(800, True),)}), type("Op", (), {"outputs": (out(800, False), out(96, True))})]
    assert footprint(ops, [np.zeros(10), np.zeros((2, 3), dtype=np.float32)]) == 80 + 24 + 800 + 96
    rng = np.random.default_rng(6)
    for touched, l2 in [(618_576, 524_288), (300_000, 524_288), (524_288, 524_288)] + [
            (int(rng.integers(10_000, 4_000_000)), int(rng.choice([262_144, 524_288, 2**20, 2 * 2**20]))) for _ in range(300)]:
        said = l2_roof(touched, l2)
        fits = touched <= l2
        assert (": all of its arrays fit in L2 at once" in said) == fits == ("the sloped roof that applies is L2's" in said)
        assert ("not all of its arrays fit" in said) == (not fits) == ("the highest that could apply" in said)
        shown = re.match(r"(\d+)% of L2|(\d+\.\d)× L2", said)
        assert (shown.group(1) is not None) == fits
    page = tutorials.find("training").read_text()
    assert "which stay in the L2 cache" not in page and "the step's footprint" in page


def _subnormal_functions() -> dict:
    """Step 6's functions that word the subnormal lever's lines, run from their own source."""
    code = _cell("def what_was_measured(")
    scope = {"math": math, "np": np}
    exec(code[code.index("ASSIST_CYCLES = "):code.index("\n\nsaved = difference(")], scope)   # noqa: S102
    return scope


@pytest.mark.parametrize("seed", _seeds(300))
def test_the_subnormal_lines_state_the_difference_and_size_the_assist_hypothesis_for_every_outcome(seed):
    """Reader 28 b3, reader 34 b2: the line says what was measured — the difference in µs with its range, in the words
    of where the ratio's range lies against 1× — with no mechanism; the slow path is a hypothesis, its size computed
    from the counts (one ~100-cycle assist per subnormal entry, or per vector holding one) beside the measured range,
    and the comparison follows the figures as printed."""
    f, rng = _subnormal_functions(), np.random.default_rng(seed)
    ratio, busy = float(rng.uniform(0.3, 1.3)), rng.random() < 0.15
    low, high = (0.0, math.inf) if busy else (ratio * float(rng.uniform(0.8, 1)), ratio * float(rng.uniform(1, 1.2)))
    region = None if busy or low <= 1 <= high else (0 if high < 1 else 1)
    value = {"ratio": ratio, "range": (low, high), "region": region, "pair": {"plain": float(rng.uniform(20, 400)) * 1e-6}}
    saved = f["difference"](value)
    said = f["what_was_measured"](region, saved)
    assert said.startswith({0: "the step on flushed moments is faster here:", 1: "the step on flushed moments is not "
                            "faster here:"}.get(region, "whether the step on flushed moments is faster here is not settled"))
    assert "slow path" not in said and "paid" not in said
    shown = re.search(r": (-?[\d.]+) µs of (\d+) µs a step, (?:range (-?[\d.]+)…(-?[\d.]+) µs|no range)", said)
    assert float(shown[1]) == pytest.approx(float(shown[2]) * (1 - ratio), abs=0.06 + 0.5 * abs(1 - ratio))
    assert (shown[3] is None) == busy
    if not busy:
        assert float(shown[3]) <= float(shown[1]) + 0.05 <= float(shown[4]) + 0.1
        assert (region == 0) <= (float(shown[3]) >= -0.05) and (region == 1) <= (float(shown[4]) <= 0.05)
    mask = rng.random(int(rng.integers(1000, 20000))) < rng.uniform(0.0, 0.5)
    lanes = int(rng.choice([1, 4, 8, 16]))
    vectors = f["vectors_holding"](mask, lanes)
    assert vectors == sum(bool(mask[i:i + lanes].any()) for i in range(0, mask.size, lanes))
    ghz = float(rng.uniform(1.0, 5.0))
    line = f["assist_hypothesis"](int(mask.sum()), mask.size, vectors, lanes, ghz, "the CPU reports", saved)
    sizes = re.search(rf"at the {ghz:.2f} GHz the CPU reports, ([\d.]+) µs more a step for one assist per subnormal entry "
                      rf"\({int(mask.sum()):,} of m's {mask.size:,} entries, each read by `m \*= β1`\), ([\d.]+) µs for one per "
                      rf"{lanes}-entry vector holding one \({vectors:,} vectors\); measured (-?[\d.]+) µs — ", line)
    assert line.startswith("a hypothesis, not measured: a slow path (~100 cycles an assist, the low end of the "
                           "\"hundreds of clock cycles\" Intel documents for its cores; none cited for AMD's) would "
                           "predict") and sizes
    most, least = float(sizes[1]), float(sizes[2])
    assert most == pytest.approx(mask.sum() * 100 / (ghz * 1e3), abs=0.051) and least <= most
    printed_low, printed_high = (round(end, 1) for end in saved["range"])
    expected = ("no range to set beside it" if busy else "lies below both" if printed_high < least
                else "lies above both" if printed_low > most else "reaches what it predicts")
    assert expected in line and sum(words in line for words in ("no range to set", "lies below both",
                                                                "lies above both", "reaches what it predicts")) == 1
    # reader 39 b8: ~100 cycles is Intel's order, said so; a range below both is what no such assist would give
    assert ("lies below both: consistent with no such assist on these entries on this core" in line) == (
        expected == "lies below both")
    assert ("more than 100-cycle assists would cost (longer ones, which Intel's \"hundreds\" allows, could fit)"
            in line) == (expected == "lies above both")


def test_the_networks_sizes_come_from_one_name_each_and_the_switch_is_said():
    """Reader 34 c4: Steps 1–4 train 64-64-10, Steps 5–7 64-128-10; each network is one name in the code, and the
    prose says the network changes where Step 5 starts."""
    page = tutorials.find("training").read_text()
    assert page.count("[64, 64, 10]") == 1 and page.count("[64, 128, 10]") == 1
    assert "The network changes there too" in " ".join(page.split())
    code = _cell("def network_said(")
    scope: dict = {}
    exec(code[code.index("def network_said("):code.index("\n\nprint(f\"the network of Steps")], scope)   # noqa: S102
    for sizes in ([64, 64, 10], [64, 128, 10], [784, 256, 64, 10]):
        said = scope["network_said"](sizes)
        count = sum(a.size for a in _init_arrays(sizes))
        assert said.endswith(f"({count:,} weights and biases)") and f"{sizes[0]} inputs" in said


def _init_arrays(sizes: list[int]) -> list:
    """The weights and biases nnkit's own ``model.init`` makes for ``sizes``, in order."""
    from nnkit import model
    return [np.asarray(a) for a in model.init(sizes, np, np.random.default_rng(0)).values()]


def test_the_subnormal_prose_keeps_the_slow_path_a_hypothesis():
    """Reader 28 b3, reader 34 b2: the slow path is Intel-typical and named conditionally; this run measures the
    difference, not its cause, and never says a slow path was taken."""
    page = " ".join(tutorials.find("training").read_text().split())
    assert "The CPU computes with such *subnormal* numbers through a slow path" not in page
    assert "notably many of Intel's" in page and "whether this one pays is what the line below measures" in page
    assert "the difference in time, not its cause" in page and "(a slow path taken)" not in page
    assert "this core paid" not in page
    # reader 39 b8: the ~100 cycles has a source, Intel's, and is said to be its low end; no figure claimed for AMD's
    assert ('Intel\'s oneAPI C++ compiler guide, its page "Denormal Numbers", says such computations "can cost hundreds '
            'of clock cycles"; the line below takes ~100, the low end of that order' in page)
    assert "for AMD's cores this book cites no figure" in page and "often ~100 cycles" not in page


def _roofs_first():
    code = _cell("def roofs_first")
    scope: dict = {}
    exec(code[code.index("def roofs_first"):code.index('print("figure:", plots.roofline(')], scope)   # noqa: S102
    return scope["roofs_first"]


@pytest.mark.parametrize("seed", _seeds(6, 1))   # each draws a figure
def test_the_products_point_never_takes_a_roofs_colour(seed, tmp_path, monkeypatch):
    """Reader 29 c13: the products' marker was drawn in the main-memory roof's colour. Step 3 orders the points so that
    it comes after as many others as there are roofs (the roofs take the first colours): on the drawn figure its colour
    is no roof's, for any number of operations and of roofs."""
    import matplotlib.axes
    import matplotlib.colors

    rng = np.random.default_rng(seed)
    drawn, plot = [], matplotlib.axes.Axes.plot
    monkeypatch.setattr(matplotlib.axes.Axes, "plot", lambda ax, *a, **k: (drawn.append(plot(ax, *a, **k)), drawn[-1])[1])
    ops = ["matmul"] + [f"op{i}" for i in range(int(rng.integers(0, 14)))]
    rng.shuffle(ops)
    levels = ["L2", "L3", "main memory"][-int(rng.integers(1, 4)):]
    order = _roofs_first()(ops, len(levels))
    assert sorted(order) == sorted(ops)
    points = {op: (0.05 * (1 + i), 0.5) if op != "matmul" else (3.0, 10.0) for i, op in enumerate(order)}
    plots.roofline(points, 50.0, {level: 40.0 / (1 + i) for i, level in enumerate(levels)}, str(tmp_path / "r.png"), "t")
    lines = [line for group in drawn for line in group]
    roof_colours = {matplotlib.colors.to_hex(line.get_color()) for line in lines if line.get_label().startswith("roof: ")}
    products = next(line for line in lines if line.get_label() == "matmul")
    assert len(roof_colours) == len(levels) and matplotlib.colors.to_hex(products.get_color()) not in roof_colours


def test_step_5_says_the_thread_choice_is_a_measurement_that_may_differ_between_runs():
    """Reader 29 b1/c11: the README's run chose 1 thread for the same step where this tutorial's chose 2; the prose says
    the choice is the timing at that moment, and the line it prints carries the times it chose by."""
    text = " ".join(tutorials.find("training").read_text().split())
    assert "the choice is that measurement at that moment" in text and "choose the other count" in text
    assert 'print(choice.said("threads for this step:"))' in _cell("threads for this step")


def test_step_5s_shuffle_lever_says_it_is_rows_against_columns_not_tutorial_4s_one_gather_against_per_batch():
    """Reader 30 (c10): tutorial 4 may find cutting per batch cheaper than one gather per epoch, while Step 5 times
    rows against columns. The prose says which comparison this is and which it is not, names tutorial 4's line for
    the other by words that line really prints, and holds for any outcome: no figure from another run."""
    text = " ".join(tutorials.find("training").read_text().split())
    paragraph = text[text.index("What this lever compares is"):text.index("```{code-cell}", text.index("What this lever compares is"))]
    assert "rows against columns, each gathered once" in paragraph and "It is not the other question" in paragraph
    assert "one gather per epoch against cutting each batch" in paragraph and "may go either way" in paragraph
    quoted = re.search(r'its line "(.*?) …"', paragraph).group(1)
    assert quoted in " ".join(tutorials.find("memory").read_text().split())    # tutorial 4 prints that line
    assert not re.search(r"\d\.\d", paragraph)                                  # worded for any outcome


@pytest.mark.parametrize("seed", _seeds(200))
def test_no_rate_or_share_of_step_3_prints_as_zero(seed):
    """Reader 30 (c5): the table printed log's rate, about 0.005 GFLOP/s, as 0.00. Every intensity, rate and share of a
    roof in Step 3's table and verdict keeps at least two significant digits, however slow the operations ran."""
    rng = np.random.default_rng(seed)
    text, _ = _roofline(rng, slow=float(10 ** rng.uniform(0, 5)))
    rows = re.findall(r"^\w+\*? +([\d.]+) FLOPs/byte +([\d.]+) GFLOP/s \(± *\d+%\) = [ ≤~] *([\d.]+)% of its roof", text, re.M)
    verdict = re.search(r"^the products reached ([\d.]+)% of their roof; the other operations a median of ([\d.]+)% "
                        r"\(from ([\d.]+)% to ([\d.]+)%\)", unwrap(text), re.M)
    level = re.findall(r"\w+ ([\d.]+)%", unwrap(text).partition("level with it within their own noise: ")[2].partition(" — ")[0])
    figures = [f for row in rows for f in row] + list(verdict.groups()) + level
    assert len(rows) == len(OPS) and all(len(f.replace(".", "").lstrip("0")) >= 2 for f in figures), figures


def test_step_3s_figure_labels_print_rates_as_the_table_does():
    """The roofline's point labels use the table's own rate_text: a small rate keeps two significant digits there too."""
    code = _cell('print("figure:", plots.roofline(')
    assert "({rate_text(points[op][0])} FLOPs/byte, {rate_text(points[op][1])} GFLOP/s" in code


def _flush_counting() -> dict:
    """Step 6's counting of the default training's moments (``steps_to_subnormal``, ``CountingAdam``, ``flush_said``,
    ``guard_said``, ``stopped_moments_said``), run from its own source."""
    from nnkit import optim
    code = _cell("class CountingAdam(")
    scope = {"math": math, "np": np, "optim": optim, "tiny": np.finfo(np.float32).smallest_normal}
    exec(code[code.index("def steps_to_subnormal("):code.index("default_epochs = ")], scope)   # noqa: S102
    return scope


def test_the_count_of_steps_to_subnormal_is_the_decay_run_and_the_prose_example_is_its_figure():
    """Reader 36 (b5): "below float32's smallest normal number after ~800 steps" held only for a starting |m| near
    0.05, unstated. The count is the decay itself run in float32 (× β1 a step), it agrees with log(x ÷ tiny) ÷
    log(1/β1), and the prose's example (about 800 steps from x = 0.05) is what it gives."""
    steps = _flush_counting()["steps_to_subnormal"]
    tiny = float(np.finfo(np.float32).smallest_normal)
    rng = np.random.default_rng(36)
    for magnitude in [0.05, 1.0, 2 * tiny, *10.0 ** rng.uniform(-37, 1, 30)]:
        assert abs(steps(magnitude, 0.9) - math.log(magnitude / tiny) / math.log(1 / 0.9)) <= 2
    assert steps(tiny / 2, 0.9) == 0 and abs(steps(0.05, 0.9) - 800) <= 2
    page = " ".join(tutorials.find("training").read_text().split())
    assert "about 800 steps from x = 0.05, fewer from a smaller one" in page
    assert "after ~800 steps" not in page and "fewer than the ~800" not in page and "(not measured here)" not in page


def _flush_counts(seed: int) -> tuple[int, int]:
    """Seeded counts of the default training's subnormal entries and flushed ones: each 0, 1 or many."""
    rng = np.random.default_rng(seed)
    return tuple(int(rng.choice([0, 0, 1, int(rng.integers(2, 10**6))])) for _ in range(2))


def test_the_flush_count_generator_reaches_nothing_to_flush_and_each_count_alone():
    reached = {tuple(count > 0 for count in _flush_counts(seed)) for seed in range(30)}
    assert reached == {(False, False), (True, False), (False, True), (True, True)}


@pytest.mark.parametrize("seed", _seeds(300, 30))
def test_the_default_trainings_flush_words_follow_its_counts_for_every_outcome(seed):
    """Reader 36 (b5): "the default run has nothing to flush" rested on a step count. It is now counted: Step 6's line
    and Step 7's closing words say nothing to flush exactly when no entry was subnormal or zeroed, and else print
    both counts."""
    f = _flush_counting()
    subnormal, zeroed = _flush_counts(seed)
    said, closing = f["flush_said"](subnormal, zeroed), f["guard_said"](subnormal, zeroed)
    nothing = subnormal == zeroed == 0
    assert said.startswith("nothing to flush in this run's default training") == nothing
    assert closing.startswith("the subnormal line is a guard: Step 6's count found nothing to flush") == nothing
    if not nothing:
        for words in (said, closing):
            assert f"{zeroed:,} entries zeroed" in words and f"{subnormal:,} found subnormal" in words
            assert "nothing" not in words


def test_the_counting_adam_counts_what_the_flush_zeroes_and_trains_as_nnkits_adam():
    """Reader 36 (b5): the counts come from nnkit's own Adam, unchanged: the counting one returns the same parameters,
    and counts the entries the flush zeroes (moments decaying under a zero gradient) and the smallest |m| held."""
    from nnkit import optim
    f = _flush_counting()
    tiny = np.finfo(np.float32).smallest_normal
    params = {"W": np.ones(6, dtype=np.float32)}
    grads = {"W": np.array([1e-38, 1e-36, 1e-33, 1e-3, 0, 0], dtype=np.float32)}   # m: subnormal, flushed, kept, kept
    counting, plain = f["CountingAdam"](1e-2), optim.Adam(1e-2)
    zero = {"W": np.zeros(6, dtype=np.float32)}
    for step in range(2 * optim.Adam.FLUSH_EVERY):
        g = grads if step == 0 else zero
        mine, theirs = counting.step(params, g), plain.step(params, g)
        assert np.array_equal(mine["W"], theirs["W"]) and np.array_equal(counting.m, plain.m)
        held = np.count_nonzero(plain.m) + np.count_nonzero(plain.s)
        first = held if step == 0 else first
    assert counting.zeroed == first - held == 2                          # the subnormal m and the one below the threshold
    assert counting.subnormal == optim.Adam.FLUSH_EVERY - 1             # the subnormal m, after each step until its flush
    assert counting.smallest == pytest.approx(1e-39 * 0.9 ** (optim.Adam.FLUSH_EVERY - 1), rel=1e-3)
    assert counting.smallest < tiny
    said = f["stopped_moments_said"](counting)
    assert re.search(r"after [\d,]+ steps from m's median nonzero \|m\| at the end \([\d.e+-]+\), [\d,]+ from the "
                     r"smallest nonzero \|m\| the run held", said)


def test_a_quick_run_prints_the_default_trainings_counts_and_step_7_closes_on_them(plain_run):
    """Reader 36 (b5): the quick run trains the default configuration with the counting Adam; its line prints the
    counts, its verdict and the steps to subnormal from its own moments, and Step 7's last line follows the counts."""
    ns, text, _ = plain_run("training")
    flat = unwrap(text)
    counts = ns["default_flushed"]
    assert (f"the default configuration (seed 0) trained once more, {ns['default_epochs']} epochs: {ns['counting'].t} "
            f"steps, nnkit's Adam counting: entries of m or s subnormal after a step, summed over the steps: "
            f"{counts['subnormal']:,}; entries zeroed by the flush: {counts['zeroed']:,}") in flat
    assert f"→ {ns['flush_said'](**counts)}" in flat and ns["guard_said"](**counts) in flat
    assert ns["stopped_moments_said"](ns["counting"]) in flat
    ours = ("the default configuration (seed 0)", "steps from m's median", "nothing to flush", "flush's range")
    assert not [line for line in text.splitlines() if any(words in line for words in ours) and len(line) > 118]


@functools.cache
def _bumps_said():
    """The tutorial's ``bumps_said`` (with ``rises``, ``stretches``, ``stretch_said`` and ``EDGE``), from its source."""
    code = _cell("def bumps_said")
    scope: dict = {}
    exec(code[code.index("def rises"):code.index("full_name = ")], scope)   # noqa: S102 — the tutorial's own code
    return scope["bumps_said"], scope["GAP"]


def _stretches(losses: list[float], gap: int) -> list[list[int]]:
    """The 1-based passes whose loss rose, split wherever two rises lie more than ``gap`` passes apart — counted
    apart from the tutorial's code."""
    up = [int(i) + 2 for i in np.flatnonzero(np.diff(losses) > 0)]
    cuts = [0] + [i + 1 for i in range(len(up) - 1) if up[i + 1] - up[i] > gap] + [len(up)]
    return [up[a:b] for a, b in zip(cuts, cuts[1:]) if b > a]


@pytest.mark.parametrize("seed", _seeds(300))
def test_the_full_batchs_bumps_are_located_in_stretches_with_a_hypothesis_only_where_it_rose(seed):
    """Reader 37 c10: loss.png's full-batch curve bumps around passes 35–45 and the text said only how many passes rose.
    Made-up loss curves, smooth or bumpy, 60 or 300 passes: the count of rises; where there are any, each stretch
    (rises at most GAP passes apart) with its passes, its rises, its loss range and its largest rise as the curve gives
    them, the figure named and the edge of stability said as a hypothesis not measured; where none, the count alone."""
    bumps_said, gap = _bumps_said()
    rng = np.random.default_rng(seed)
    losses = _descent(rng, int(rng.choice([60, 300])), 0.95, float(rng.choice([0.0, 0.0, 0.005, 0.03, 0.2])))
    text = tutorials.fit(bumps_said(losses, 0.5))
    assert all(len(line) <= 118 for line in text.split("\n"))
    said, groups = unwrap(text), _stretches(losses, gap)
    rose = sum(len(group) for group in groups)
    assert said.startswith(f"the full batch's loss rose in {rose} of its {len(losses)} passes")
    if not groups:
        assert said == f"the full batch's loss rose in 0 of its {len(losses)} passes"
        return
    assert f", in {len(groups)} stretch{'es' * (len(groups) > 1)} (rises at most {gap} passes apart): " in said
    assert "loss.png" in said and "A hypothesis for why, not measured here" in said and "edge of stability" in said
    assert "2 ÷ lr (4 at lr 0.5)" in said and said.endswith("This run computes no curvature")
    found = re.findall(r"(?:passes (\d+)–(\d+)|pass (\d+)) \((\d+) rises?, the loss ([\d.e+-]+)…([\d.e+-]+), the largest "
                       r"rise \+([\d.e+-]+)%\)", said)
    assert len(found) == min(len(groups), 4) and (f"; and {len(groups) - 4} more" in said) == (len(groups) > 4)
    for group, (first, last, alone, count, low, high, largest) in zip(groups, found):
        assert (int(alone) if alone else (int(first), int(last))) == (group[0] if len(group) == 1 else
                                                                       (group[0], group[-1]))
        assert int(count) == len(group)
        part = losses[group[0] - 2:group[-1]]
        assert float(low) == pytest.approx(min(part), rel=1e-2) and float(high) == pytest.approx(max(part), rel=1e-2)
        assert float(low) < float(high)                              # the two ends printed apart
        steps = [100 * (losses[i - 1] / losses[i - 2] - 1) for i in group]
        assert float(largest) == pytest.approx(max(steps), abs=0.051, rel=0.05) and float(largest) > 0


def test_the_run_prints_its_own_full_batchs_bumps(plain_run):
    """The quick run prints ``bumps_said`` of its own full-batch loss history at lr 0.5."""
    ns, text, _ = plain_run("training")
    line = re.search(r"^the full batch's loss rose in .*?(?=\n(?! {4}))", text, re.M | re.S).group(0)
    assert unwrap(line) == unwrap(tutorials.fit(ns["bumps_said"](ns["full_loss"], 0.5)))


def _ranked():
    """Step 3's ``ranked`` with what it reads from its cell (``share_text``, ``reach``, ``may_move``, ``starred``)."""
    code, scope = _cell("def ranked("), {"statistics": statistics, "verdicts": verdicts, "plots": plots}
    for start, end in (("def rate_text", "def figure_of"), ("def figure_of", "\nsteady = "), ("def reach", "def mark"),
                       ("COUNTED = ", "\nfor op, (intensity, rate)"), ("def placed", "\nelementwise = ")):
        exec(code[code.index(start):code.index(end)], scope)   # noqa: S102 — the tutorial's own code
    return scope["ranked"]


READER_39 = {"matmul": 15.8, "sum": 0.56, "max": 0.25, "greater": 3.2, "exp": 1.0, "log": 0.16, "maximum": 4.7,
             "add": 3.6, "divide": 1.0, "multiply": 5.5, "subtract": 6.6}   # % of each roof, reader 39's Step 3


@pytest.mark.parametrize("subtract", [0.75, 1.0, 2.0])
def test_reader_39s_step_3_one_outlier_widens_only_its_own_comparison_and_no_range_passes_100(subtract):
    """Reader 39 a1: log's ±832 % (×/÷ 9.76) widened every comparison, and the products' 15.8 % read 1.6%–154.6%.
    Each comparison now takes its own noise — log's widens log's alone — and a range's top stops at 100 %, said so."""
    shares = {op: share / 100 for op, share in READER_39.items()}
    noises = {op: 0.6 for op in shares if op != "matmul"} | {"log": 8.76, "subtract": subtract}
    bound = {op: "peak" if op == "matmul" else "L2" for op in shares}
    rounds = {"peak": [45.5, 46.7, 45.8], "L2": [70.9, 64.4, 68.7], "main memory": [14.6, 11.9, 17.0]}
    steady = {"peak": True, "L2": True, "main memory": False}
    said = _ranked()(shares, bound, rounds, steady, noises)
    assert "÷/× 9.76" not in said and "154.6" not in said           # log's noise stays with log
    if subtract < 15.8 / 6.6 - 1:                                  # 15.8 ÷ (1 + noise) above subtract's 6.6: all settle
        assert said.startswith("the products came closest: above all 10 others, each beyond its own comparison's noise; "
                               f"the nearest, subtract 6.60% (the products' 15.8% ÷/× {1 + subtract:.2f} = ")
    else:                                                          # subtract level, the rest above: most
        assert said.startswith("the products came closer than most: above 9 of the 10 others and below 0, each beyond its "
                               "own comparison's noise; level with it within their own noise: subtract 6.60% (the "
                               "products' 15.8% ÷/× 3.00 = 5.27%–47.40%)")
    assert said.endswith("(the L2 roof is a lower bound (one core's triad): read at its ends, it leaves this standing)")
    noises["subtract"] = 9.0                                       # a comparison whose top would pass 100 %: capped
    assert "subtract 6.60% (the products' 15.8% ÷/× 10.00 = 1.58%–100.00% — capped at 100%: a rate does not pass its " \
           "roof)" in _ranked()(shares, bound, rounds, steady, noises)
