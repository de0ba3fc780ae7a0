"""``nnkit trace SCRIPT``: run a script, list every BLAS call numpy made in it, say how it ended.

The script runs in a child process (:mod:`nnkit.backends.trace_script`), so a script that crashes,
aborts, calls ``os._exit`` or is killed takes nothing with it: its calls are listed, then one line
says what ended it, and nnkit's exit status is 1.
"""

from __future__ import annotations

import sys
from typing import Callable


class ScriptFailed(ValueError):
    """The traced script did not end well; ``result`` is what ``--json`` prints all the same."""

    def __init__(self, message: str, result: dict):
        super().__init__(message)
        self.result = result


def trace(args, say: Callable[[object, str], None]) -> dict:
    """Run ``args.script`` traced; print one line per call (pointers named after the script's global
    arrays when it returned); return the ``--json`` dict, or raise :class:`ScriptFailed` carrying it."""
    from nnkit.backends import trace_script

    run = trace_script.run(args.script, args.script_args, stdout=sys.stderr.fileno() if args.json else None)
    for call, owners in zip(run.calls, run.owners or [None] * len(run.calls)):
        named = ", ".join(f"{role}→{name}" for role, name in owners.items()) if owners else ""
        say(args, f"{call.line()}  [{named}]" if named else call.line())
    count = f"{len(run.calls)} BLAS call{'s' * (len(run.calls) != 1)}"
    say(args, f"{count} from numpy in {args.script}, {sum(c.seconds for c in run.calls) * 1e3:.3f} ms inside BLAS"
              + (f" ({run.dropped} earlier calls dropped: the ring buffer keeps the newest 65 536)" if run.dropped else ""))
    if run.owners and run.calls:
        say(args, "(a→, b→, c→: the script's global arrays holding each pointer when it ended; memory a temporary "
                  "freed during the script may since hold another array)")
    if not run.calls and not run.failure:
        say(args, "(numpy.linalg calls LAPACK, whose own BLAS calls stay inside OpenBLAS and are not seen here)")
    result = {"calls": [c.to_dict() for c in run.calls], "dropped": run.dropped, "script": args.script,
              "failure": run.failure, "unfinished": run.unfinished}
    if run.failure:
        inside = f", inside {run.unfinished} BLAS call{'s' * (run.unfinished != 1)} not yet returned" if run.unfinished else ""
        made = f"the {count} it made before {'is' if len(run.calls) == 1 else 'are'} listed above" if run.calls else "it made no BLAS call before"
        raise ScriptFailed(f"{args.script} {run.failure}{inside}; {made}", result)
    return result
