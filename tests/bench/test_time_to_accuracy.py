"""nnkit.bench.time_to_accuracy: medians, ratios to plain NumPy per seed, and the busy processes."""

import os

import psutil
import pytest

from nnkit.bench import time_to_accuracy as suite
from nnkit.bench.contenders import Run


def runs(times_to, seconds, test=0.98):
    """One Run per seed: reaching 0.97 at ``times_to[i]`` (None: never), ending at ``seconds[i]``."""
    return [Run([t if t is not None else s, s], [0.97 if t is not None else 0.5, 0.5 if t is not None else 0.6], test)
            for t, s in zip(times_to, seconds)]


def test_ratios_are_medians_of_per_seed_ratios_to_plain_numpy():
    plain = runs([1.0, 2.0, 4.0], [10.0, 10.0, 10.0])
    mine = runs([0.5, 3.0, 1.0], [5.0, 30.0, 2.0])
    row = suite._row("nnkit", mine, plain, epochs=2)
    assert row["ratio to threshold"] == 0.5  # per seed 0.5, 1.5, 0.25
    assert row["ratio all epochs"] == 0.5  # per seed 0.5, 3.0, 0.2
    assert row["seconds to threshold"] == 1.0 and row["seconds for 2 epochs"] == 5.0 and row["reached"] == 3


def test_the_table_prints_each_seeds_ratios_the_medians_come_from():
    plain = runs([1.0, 2.0, 4.0], [10.0, 10.0, 10.0])
    rows = [suite._row(name, mine, plain, epochs=2) for name, mine in
            (("nnkit", runs([0.5, 3.0, 1.0], [5.0, 30.0, 2.0])), (suite.BASELINE, plain),
             ("slow", runs([None, 1.0, 1.0], [2.0, 2.0, 2.0])))]
    lines = suite._table(rows, 2)
    assert "  nnkit         to 0.97: 0.50×, 1.50×, 0.25×; 2 epochs: 0.50×, 3.00×, 0.20×" in lines
    assert any(line.strip().startswith("slow") and "to 0.97: —;" in line for line in lines)
    assert not any(line.strip().startswith(suite.BASELINE) and "to 0.97:" in line for line in lines)


def test_a_seed_that_never_reaches_the_threshold_leaves_no_median():
    row = suite._row("slow", runs([None, 1.0, 1.0], [2.0, 2.0, 2.0]), runs([1.0, 1.0, 1.0], [2.0, 2.0, 2.0]), epochs=2)
    assert row["seconds to threshold"] is None and row["ratio to threshold"] is None and row["reached"] == 2
    assert "—" in suite._table([row], 2)[1]


def test_busy_processes_spin_during_the_block_and_are_gone_after_it():
    me = psutil.Process()
    before = set(me.children())  # other tests may have left children of this process
    with suite._busy(2):
        children = set(me.children()) - before
        assert len(children) == 2 and all(child.is_running() for child in children)
    assert not any(child.is_running() and child.status() != psutil.STATUS_ZOMBIE for child in children)
    assert not children & set(me.children())


def test_a_missing_optional_contender_is_said_and_listed(monkeypatch):
    said = []
    real = suite.importlib.util.find_spec
    monkeypatch.setattr(suite.importlib.util, "find_spec", lambda name: None if name == "torch" else real(name))
    monkeypatch.setattr(suite, "loaded_machine", lambda quick, say, threads, dataset: {})
    monkeypatch.setattr(suite, "CONTENDERS", {k: v for k, v in suite.CONTENDERS.items() if k in ("plain numpy", "pytorch")})
    result = suite.run(True, said.append, threads=1)
    assert result["skipped"] == ["pytorch"] and any("pytorch: skipped — torch is not installed" in line for line in said)
    assert [row["contender"] for row in result["rows"]] == ["plain numpy"] and result["threads"]["threads"] == 1
