"""The program ``nnkit`` (and ``python -m nnkit``): signal handling first, then the command line.

The handlers go in before :mod:`nnkit.cli` and everything it loads, so that a Ctrl-C or SIGTERM at
any moment is one line on stderr (see :mod:`nnkit.interrupts`).
"""

from nnkit import interrupts

interrupts.install()


def run() -> int:
    """Run the command line on ``sys.argv``; return the exit status."""
    from nnkit.cli import main

    status = main()
    interrupts.quiet()  # the result is out: a late signal must not turn it into a failure
    return status


if __name__ == "__main__":
    raise SystemExit(run())
