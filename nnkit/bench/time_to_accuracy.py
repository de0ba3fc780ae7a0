"""Time to accuracy on the bundled digits (or any data set ``nnkit train`` reads): nnkit's defaults against plain NumPy, scikit-learn and
PyTorch (:mod:`nnkit.bench.contenders`), each on the same splits and seeds, one after the other for
each seed (so a moment's noise falls on all of them), all on the thread count ``nnkit train``
chooses (or ``--threads``). Figures: seconds until the validation accuracy first reaches the
threshold, seconds for all the epochs, test accuracy — medians over the seeds, and each time as a
ratio to plain NumPy's of the same seed (median of the ratios). Under the table, each seed's ratios, their range
(min–max) and a verdict: the median widened both ways by the seeds' own spread, placed by the book's one rule
(:func:`nnkit.bench.verdicts.place`) against a tie band of ``TIE`` — a handful of seeds that disagree settle
less than their median alone would claim.

Then the thread choice on a loaded machine: the suite starts one busy process per core, says what
``nnkit train`` would choose now, and times nnkit's training on that choice and on every core.
"""

from __future__ import annotations

import contextlib
import decimal
import importlib.util
import os
import statistics
import subprocess
import sys
import time

from nnkit import data, threads as threads_module
from nnkit.bench import verdicts
from nnkit.bench.contenders import CONTENDERS, Run

THRESHOLD = 0.97
BASELINE = "plain numpy"
TIE = (0.95, 1.05)  # a time ratio to plain NumPy's wholly inside these marks is a tie; printed exactly as they are

_WORDS = {  # (the region of the range's low end, of its high end, against TIE) → what the range settles
    (0, 0): f"less time (all below {TIE[0]:.2f}×)",
    (0, 1): f"not settled (spans {TIE[0]:.2f}×)",
    (0, 2): f"not settled (spans {TIE[0]:.2f}–{TIE[1]:.2f}×)",
    (1, 1): f"tied (all within {TIE[0]:.2f}–{TIE[1]:.2f}×)",
    (1, 2): f"not settled (spans {TIE[1]:.2f}×)",
    (2, 2): f"more time (all at or above {TIE[1]:.2f}×)",
}


def run(quick: bool, say, results: dict | None = None, threads: int | None = None, data_spec: str = "digits",
        threshold: float = THRESHOLD) -> dict:
    seeds, epochs = ((0, 1, 2), 12) if quick else ((0, 1, 2), 40)
    dataset = data.load_labelled(data_spec)
    choice = _choice(threads, dataset.images.shape[1])
    say(f"threads: {choice.threads} ({choice.reason}) — for every contender")
    contenders = {}
    for name, (fit, module) in CONTENDERS.items():
        if module and importlib.util.find_spec(module) is None:
            say(f"{name}: skipped — {module} is not installed (pip install 'nnkit[{'torch' if module == 'torch' else 'test'}]')")
        else:
            contenders[name] = fit
    runs: dict[str, list[Run]] = {name: [] for name in contenders}
    with threads_module.limited(choice.threads):
        for seed in seeds:
            splits = data.split(dataset, seed=seed)
            for name, fit in contenders.items():
                runs[name].append(fit(splits, seed, epochs, choice.threads))
    rows = [_row(name, runs[name], runs[BASELINE], epochs, threshold) for name in contenders]
    say(f"{data_spec} ({len(dataset.labels)} samples), {len(seeds)} seeds, medians; ratio = time ÷ plain NumPy's on the same seed (median of the ratios):")
    for line in _table(rows, epochs, threshold):
        say(line)
    result = {"data": data_spec, "threshold": threshold, "epochs": epochs, "seeds": list(seeds), "threads": choice.to_dict(), "rows": rows,
              "skipped": [name for name in CONTENDERS if name not in contenders]}
    result["loaded"] = loaded_machine(quick, say, threads, dataset)
    return result


def _choice(threads: int | None, features: int) -> threads_module.Choice:
    """What ``nnkit train`` chooses for its default network and batch on ``features`` inputs (or ``--threads``)."""
    from nnkit import cli, commands

    args = commands.train_defaults(cli.build_parser().parse_args(["train"]))
    sizes = [features, *args.hidden, 10]
    return threads_module.choose(sizes, args.batch_size, args.dtype, threads)


def _row(name: str, runs: list[Run], baseline: list[Run], epochs: int, threshold: float = THRESHOLD) -> dict:
    reached = [r.time_to(threshold) for r in runs]
    ratios_to = [t / b.time_to(threshold) for t, b in zip(reached, baseline) if t is not None and b.time_to(threshold)]
    ratios_all = [r.seconds[-1] / b.seconds[-1] for r, b in zip(runs, baseline)]
    return {
        "contender": name,
        "seconds to threshold": statistics.median(reached) if None not in reached else None,
        "reached": sum(t is not None for t in reached),
        f"seconds for {epochs} epochs": statistics.median(r.seconds[-1] for r in runs),
        "test accuracy": statistics.median(r.test_accuracy for r in runs),
        "ratio to threshold": statistics.median(ratios_to) if len(ratios_to) == len(runs) else None,
        "ratio all epochs": statistics.median(ratios_all),
        "ratios to threshold per seed": ratios_to if len(ratios_to) == len(runs) else None,
        "ratios all epochs per seed": ratios_all,
        "verdict to threshold": verdict(ratios_to) if len(ratios_to) == len(runs) else None,
        "verdict all epochs": verdict(ratios_all),
    }


def verdict(ratios: list[float]) -> dict:
    """What a contender's per-seed time ratios (÷ plain NumPy's, one per seed) settle, decided from the ratios as
    printed (``seeds``, :func:`nnkit.bench.verdicts.beside` 0) and computed on those decimals exactly: their
    ``range`` (min, max); their ``median`` and ``spread`` (:func:`nnkit.bench.verdicts.spread`, rounded up to a
    whole percent, so that the range below holds every seed); the median widened both ways by that spread
    (``low``, ``high``, as :func:`nnkit.bench.verdicts.place` widens a ratio by pair noise), each end placed
    against ``TIE`` by ``place``. A handful of seeds' spread is only a lower bound on the noise: the verdict claims
    no more than every seed agrees on. ``words``: where that range lies."""
    seeds = [verdicts.beside(ratio, 0.0) for ratio in ratios]
    exact = [decimal.Decimal(seed) for seed in seeds]
    median = statistics.median(exact)
    spread = (100 * verdicts.spread(exact)).to_integral_value(decimal.ROUND_CEILING) / 100
    low, high = median / (1 + spread), median * (1 + spread)
    words = _WORDS[verdicts.place(float(low), TIE)[0], verdicts.place(float(high), TIE)[0]]
    return {"seeds": seeds, "range": [min(seeds, key=decimal.Decimal), max(seeds, key=decimal.Decimal)],
            "median": str(median), "spread": float(spread), "low": float(low), "high": float(high), "words": words}


def _table(rows: list[dict], epochs: int, threshold: float = THRESHOLD) -> list[str]:
    def seconds(value):
        return f"{value:.3f}" if value is not None else "—"

    def ratio(value):
        return f"{value:.2f}×" if value is not None else "—"

    lines = [f"  {'':<14}{f's to {threshold:.2f} val':>14}{'ratio':>8}{f'{epochs} epochs, s':>16}{'ratio':>8}{'test acc':>10}"]
    for row in rows:
        lines.append(f"  {row['contender']:<14}{seconds(row['seconds to threshold']):>14}{ratio(row['ratio to threshold']):>8}"
                     f"{seconds(row[f'seconds for {epochs} epochs']):>16}{ratio(row['ratio all epochs']):>8}"
                     f"{row['test accuracy']:>10.3f}")
    lines += ["  each seed's ratios (the medians above come from these, not from dividing the medians), their range, and",
              "  what they settle: the median widened both ways by their spread (so few seeds' spread is a lower bound",
              f"  on the noise), placed against a tie band of {TIE[0]:.2f}–{TIE[1]:.2f}×:"]
    for row in (row for row in rows if row["contender"] != BASELINE):   # the baseline's own are all 1
        lines += _seeds(f"  {row['contender']:<14}to {threshold:.2f}:", row["verdict to threshold"], threshold)
        lines += _seeds(f"  {'':<14}{epochs} epochs:", row["verdict all epochs"])
    return lines


def _seeds(head: str, settled: dict | None, threshold: float | None = None) -> list[str]:
    """A contender's per-seed ratios with their range, and under them what they settle (:func:`verdict`); where a
    seed never reached the ``threshold`` (``settled`` None), a dash and why."""
    if settled is None:
        return [f"{head:<27}— a seed did not reach {threshold:.2f} (or plain NumPy did not): no ratio, no verdict"]
    low, high = settled["range"]
    return [f"{head:<27}seeds {', '.join(f'{seed}×' for seed in settled['seeds'])}, range {low}–{high}×",
            f"{'':<16}median {settled['median']}× ×/÷ {1 + settled['spread']:.2f} (their spread) = "
            f"{verdicts.span(settled['low'], settled['high'], TIE)}: {settled['words']}"]


def loaded_machine(quick: bool, say, threads: int | None, dataset: data.Dataset) -> dict:
    """Start one busy process per core; say what would be chosen then, and time nnkit's default
    training on ``dataset`` (seed 0) on that choice and on every core."""
    cores = os.cpu_count() or 1
    epochs = 5 if quick else 40
    with _busy(cores):
        time.sleep(0.3)  # the children are spinning by then
        choice = _choice(threads, dataset.images.shape[1])
        say(f"with {cores} busy process{'es' * (cores > 1)} started: threads {choice.threads} ({choice.reason})")
        splits = data.split(dataset, seed=0)
        seconds = {}
        for count in sorted({choice.threads, cores}):
            with threads_module.limited(count):
                seconds[count] = CONTENDERS["nnkit"][0](splits, 0, epochs, count).seconds[-1]
    say(f"  nnkit, {epochs} epochs while loaded: " + ", ".join(f"{s:.2f} s on {n} thread{'s' * (n > 1)}" for n, s in seconds.items()))
    return {"busy_processes": cores, "threads": choice.to_dict(), "epochs": epochs,
            "seconds_by_threads": {str(n): s for n, s in seconds.items()}}


@contextlib.contextmanager
def _busy(count: int):
    """``count`` child processes spinning on the CPU for the block, ended (and waited for) after it."""
    spin = "import time\nend = time.monotonic() + 600\nwhile time.monotonic() < end: pass\n"
    children = [subprocess.Popen([sys.executable, "-c", spin]) for _ in range(count)]
    try:
        yield
    finally:
        for child in children:
            child.kill()
            child.wait()
