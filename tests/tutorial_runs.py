"""Running a tutorial in a test: at its quick size, with everything it printed gathered; and, for
tests that must see both branches of a verdict whatever this machine is doing, stand-ins for
``load.watch`` that make the machine look calm or busy."""

from pathlib import Path

import pytest

from nnkit import plots, tutorials
from nnkit.bench import load


def quick(name: str, out) -> tuple[dict, str]:
    """Tutorial ``name`` run at its quick size, figures written to ``out``: its namespace, and all
    it printed as one text."""
    printed = []
    ns = tutorials.run(tutorials.find(name), quick=True, out=str(out), echo=printed.append)
    return ns, "\n".join(printed)


class PlainRuns:
    """Each tutorial's one plain quick run, shared by every test that only reads it (the ``plain_run`` fixture):
    a tutorial at its quick size costs up to a minute, and several test files read the same run. A test that
    changes what a run sees (``CALM``, ``BUSY``, a patched function) runs its own with :func:`quick`."""

    def __init__(self, folder) -> None:
        self.folder, self.runs = folder, {}

    def __call__(self, name: str) -> tuple[dict, str, Path]:
        """Tutorial ``name`` (as :func:`nnkit.tutorials.find` takes it): its namespace, all it printed, and the
        folder its figures went to — run on the first call, the same objects after."""
        stem = tutorials.find(name).stem
        if stem not in self.runs:
            out = self.folder / stem.split("-")[0]   # its number: the figures' paths print in lines of ≤ 118 columns
            out.mkdir()
            self.runs[stem] = (*self.run(stem, out), out)
        return self.runs[stem]

    def run(self, stem: str, out) -> tuple[dict, str]:
        """The one run of tutorial ``stem``: plain."""
        return quick(stem, out)


class CalmRuns(PlainRuns):
    """Each tutorial's one quick run on a machine made to look calm (``load.watch`` → ``CALM``), shared by every test
    that only reads such a run (the ``calm_run`` fixture), as :class:`PlainRuns` shares the plain ones. Each call the
    run made to ``plots.bars`` is kept in its namespace under "figures drawn" (not a name a tutorial can use): its
    arguments."""

    def run(self, stem: str, out) -> tuple[dict, str]:
        """The one calm run of tutorial ``stem``, the figures it drew recorded."""
        drawn, draw = [], plots.bars
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(load, "watch", CALM)
            patch.setattr(plots, "bars", lambda *args, **kwargs: drawn.append((args, kwargs)) or draw(*args, **kwargs))
            ns, text = quick(stem, out)
        ns["figures drawn"] = drawn
        return ns, text


def looks(others: float):
    """A stand-in for ``load.watch``: runs the function and reports ``others`` cores used by other
    processes meanwhile, the core at its full speed."""
    def watch(function):
        function()
        return {"wall": 0.0, "ours": 1.0, "helpers": 0.0, "others": others, "speed": 1.0}
    return watch


CALM, BUSY = looks(0.0), looks(1.5)


def printed_disturbed(text: str, name: str, n: int) -> bool:
    """Whether tutorial 8's ``text`` flagged Step 3's rate of ``name`` at ``n`` as disturbed: under the table, or
    later where the pairs that lowered it ran ("Step 3's table, …")."""
    return any(f"\n  {where}{name}, n = {n}: disturbed" in text for where in ("", "Step 3's table, "))
