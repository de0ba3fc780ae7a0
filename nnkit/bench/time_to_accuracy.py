"""Time to accuracy on the bundled digits (or any data set ``nnkit train`` reads): nnkit's defaults against plain NumPy, scikit-learn and
PyTorch (:mod:`nnkit.bench.contenders`), each on the same splits and seeds, one after the other for
each seed (so a moment's noise falls on all of them), all on the thread count ``nnkit train``
chooses (or ``--threads``). Figures: seconds until the validation accuracy first reaches the
threshold, seconds for all the epochs, test accuracy — medians over the seeds, and each time as a
ratio to plain NumPy's of the same seed (median of the ratios).

Then the thread choice on a loaded machine: the suite starts one busy process per core, says what
``nnkit train`` would choose now, and times nnkit's training on that choice and on every core.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import statistics
import subprocess
import sys
import time

from nnkit import data, threads as threads_module
from nnkit.bench.contenders import CONTENDERS, Run

THRESHOLD = 0.97
BASELINE = "plain numpy"


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
    }


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
    lines.append("  each seed's ratios (the medians above come from these, not from dividing the medians):")
    for row in (row for row in rows if row["contender"] != BASELINE):   # the baseline's own are all 1
        lines.append(f"  {row['contender']:<14}to {threshold:.2f}: {_each(row['ratios to threshold per seed'])}; "
                     f"{epochs} epochs: {_each(row['ratios all epochs per seed'])}")
    return lines


def _each(ratios: list[float] | None) -> str:
    """``ratios`` as "0.19×, 0.44×, 0.60×" (one per seed), or "—" where a seed never reached the threshold."""
    return ", ".join(f"{r:.2f}×" for r in ratios) if ratios is not None else "—"


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
