"""The program ``nnkit`` (and ``python -m nnkit``): signal handling first, then the command line.

The handlers go in before :mod:`nnkit.cli` and everything it loads, so that a Ctrl-C or SIGTERM at
any moment is one line on stderr (see :mod:`nnkit.interrupts`).

A process that ``multiprocessing`` starts for nnkit (a dask worker of ``--scheduler local``) imports
the console script, and so this module, as its parent's main module (``__mp_main__``): it ignores
the terminal's Ctrl-C — the parent, which alone speaks for the run, closes it (see :mod:`nnkit.cluster`); one
that arrived while the process was starting waits blocked until here (:class:`nnkit.interrupts.start_deaf`).
"""

import sys

from nnkit import interrupts

if "__mp_main__" in sys.modules:
    interrupts.ignore_ctrl_c()
else:
    interrupts.install()


def run() -> int:
    """Run the command line on ``sys.argv``; return the exit status."""
    from nnkit.cli import main

    status = main()
    interrupts.quiet()  # the result is out: a late signal must not turn it into a failure
    return status


if __name__ == "__main__":
    raise SystemExit(run())
