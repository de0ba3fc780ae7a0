"""How many cases a generator test draws: a sample in the default run, every case under ``pytest -m long``
(``.ci/run`` runs both stages, so CI sees them all)."""

import pytest
from hypothesis import given, settings


def seeds(total: int, default: int = 30) -> list:
    """Seeds 0 … ``total`` − 1 for a parametrized generator: the first ``default`` plain, the rest marked long.

    >>> [getattr(seed, "values", seed) for seed in seeds(4, 2)]
    [0, 1, (2,), (3,)]
    """
    return [seed if seed < default else pytest.param(seed, marks=pytest.mark.long) for seed in range(total)]


def examples(default: int, full: int) -> list:
    """Values for a hypothesis check's ``examples`` parameter: ``default`` in the default run, ``full`` under
    ``-m long``."""
    return [default, pytest.param(full, marks=pytest.mark.long)]


def drawn(default: int, full: int, *strategies, **named):
    """``@given(*strategies, **named)`` drawing ``default`` examples in the default run and ``full`` under
    ``-m long``: the decorated test (no fixtures; ``@example``s kept) becomes two pytest cases, ``[default]`` and
    ``[full]`` (marked long)."""
    def sampled(test):
        @pytest.mark.parametrize("examples", examples(default, full))
        def run(examples):
            settings(max_examples=examples, deadline=None)(given(*strategies, **named)(test))()
        run.__name__, run.__qualname__, run.__doc__, run.__module__ = (test.__name__, test.__qualname__, test.__doc__,
                                                                       test.__module__)
        return run
    return sampled


def watched(rng) -> tuple:
    """(others' cores, the core's speed) as ``load.watch`` may report them around a timing: calm, a slowed core with
    others idle, busy other processes, or not read (None, None) — one kind drawn by ``rng``."""
    kind = rng.choice(["calm", "slowed", "busy", "unread"])
    others = {"calm": rng.uniform(0, 0.25), "slowed": rng.uniform(0, 0.25), "busy": rng.uniform(0.26, 2.0)}.get(kind)
    speed = {"calm": rng.uniform(0.85, 1.05), "slowed": rng.uniform(0.3, 0.84), "busy": rng.uniform(0.5, 1.0)}.get(kind)
    return (None if others is None else float(others)), (None if speed is None else float(speed))
