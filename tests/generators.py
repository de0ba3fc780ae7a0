"""How many cases a generator test draws: a sample in the default run, every case under ``pytest -m long``
(``.ci/run`` runs both stages, so CI sees them all)."""

import pytest


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
