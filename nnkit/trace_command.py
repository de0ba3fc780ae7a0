"""``nnkit trace SCRIPT``: run a script, list every BLAS call numpy made in it — each on the script's
line that made it, its pointers named as they were then, the operands numpy copied first and why —
then the products that never reached BLAS, a summary per source line, and how the script ended.

The script runs in a child process (:mod:`nnkit.backends.trace_script`), so a script that crashes,
aborts, calls ``os._exit`` or is killed takes nothing with it: its calls are listed, then one line
says what ended it. A script that raises has its traceback printed after the calls, as Python would
print it; nnkit's exit status is then the script's own (1 for an exception, N for ``sys.exit(N)``;
1 when a signal killed it).
"""

from __future__ import annotations

import linecache
import os
import statistics
import sys
from collections import defaultdict
from typing import Callable

STARTUP = ("the first BLAS call of a run may include OpenBLAS's one-time start-up (its work buffers, waking its "
           "threads): compare it with later calls")


class ScriptFailed(ValueError):
    """The traced script did not end well; ``result`` is what ``--json`` prints all the same, ``status``
    nnkit's exit status (the script's)."""

    def __init__(self, message: str, result: dict, status: int):
        super().__init__(message)
        self.result, self.status = result, status


def trace(args, say: Callable[[object, str], None]) -> dict:
    """Run ``args.script`` traced; print the calls, the fallbacks, the per-line summary; return the
    ``--json`` dict, or raise :class:`ScriptFailed` carrying it."""
    from nnkit.backends import trace_script

    if not os.path.isfile(args.script):
        raise ValueError(f"SCRIPT {args.script!r}: expected a Python file, found {'a directory' if os.path.isdir(args.script) else 'nothing'}")
    run = trace_script.run(args.script, args.script_args, stdout=sys.stderr.fileno() if args.json else None)
    shown = lambda path: args.script if path == run.source else path  # noqa: E731  the script as it was named
    for call in run.calls:
        say(args, _call_line(call, run, shown))
    fallbacks = [p for p in run.products if p["fallback"]]
    for line in _summary(run, fallbacks, args.script):
        say(args, line)
    lines = per_line(run)
    if lines:
        say(args, f"per line of {args.script}:")
        for line in _table(lines, run.source):
            say(args, line)
    result = {"calls": [_call_dict(c, run) for c in run.calls], "dropped": run.dropped, "script": args.script,
              "products": run.products, "lines": lines, "failure": run.failure, "unfinished": run.unfinished,
              "traceback": run.traceback, "first_call_note": STARTUP if run.calls and not run.dropped else None}
    if run.traceback:
        sys.stdout.flush()
        print(run.traceback, end="", file=sys.stderr)  # as Python prints it, after the calls
    if run.failure:
        count = f"{len(run.calls)} BLAS call{'s' * (len(run.calls) != 1)}"
        inside = f", inside {run.unfinished} BLAS call{'s' * (run.unfinished != 1)} not yet returned" if run.unfinished else ""
        made = f"the {count} it made before {'is' if len(run.calls) == 1 else 'are'} listed above" if run.calls else "it made no BLAS call before"
        raise ScriptFailed(f"{args.script} {run.failure}{inside}; {made}", result, run.status or 1)
    return result


def _call_line(call, run, shown) -> str:
    owners = run.owners.get(call.number)
    named = "  [" + ", ".join(f"{role}→{name}" for role, name in owners.items()) + "]" if owners else ""
    text = call.line().replace(f" at {call.file}:", f" at {shown(call.file)}:") + named
    if call.number == 0:
        text += "  (first call of the run: see below)"
    product = run.products[run.made_by[call.number]] if call.number in run.made_by else None
    for copy in copies_of(product, owners):
        text += f"\n    numpy copied first: {copy}"
    return text


def copies_of(product: dict | None, owners: dict | None) -> list[str]:
    """Why numpy copied an operand before the call: explain's reasons (``A``/``B`` named by their
    source text), or — where explain has no rule — the copy seen in the pointers."""
    if product is None:
        return []
    if product["copies"]:
        names = dict(zip("AB", product["operands"]))
        return [f"{c[0]} ({names[c[0]]}){c[1:]}" if c[:1] in names else c for c in product["copies"]]
    seen = [role for role in ("a", "b") if owners and owners.get(role) == "temporary"]
    if seen and product["reason"].startswith("not predicted"):
        return [f"{' and '.join(seen)} point into memory numpy allocated (explain has no rule here: {product['reason']})"]
    return []


def _summary(run, fallbacks: list[dict], script: str) -> list[str]:
    count = f"{len(run.calls)} BLAS call{'s' * (len(run.calls) != 1)}"
    seconds = sum(c.seconds for c in run.calls)
    lines = [f"{count} from numpy in {script}, {seconds * 1e3:.3f} ms inside BLAS"
             + (f" ({run.dropped} earlier calls dropped: the ring buffer keeps the newest 65 536)" if run.dropped else "")]
    first = next((c for c in run.calls if c.number == 0), None)
    if first is not None:
        same = [c.seconds for c in run.calls[1:] if (c.routine, c.m, c.n, c.k) == (first.routine, first.m, first.n, first.k)]
        again = f", the {len(same)} later call{'s' * (len(same) != 1)} of that shape {duration(statistics.median(same))} (median)" if same else ""
        lines.append(f"first call {duration(first.seconds)}{again} — {STARTUP}")
    if run.products:
        lines.append(f"{len(run.products)} matrix product{'s' * (len(run.products) != 1)} in the script's own code, "
                     f"{len(fallbacks)} never reached BLAS" + (":" if fallbacks else ""))
    for p in fallbacks:
        lines.append(f"  line {p['line']} in {p['function']}: {p['kind']} of {', '.join(p['operands']) or '?'} ({p['dtype']}) — {p['fallback']}")
    if not run.calls and not run.failure:
        lines.append("(numpy.linalg calls LAPACK, whose own BLAS calls stay inside OpenBLAS and are not seen here)")
    return lines


def duration(seconds: float) -> str:
    """``seconds`` in ms, or in µs below 1 ms (where ms would show a fast call as 0.000)."""
    return f"{seconds * 1e3:.3f} ms" if seconds >= 1e-3 else f"{seconds * 1e6:.2f} µs"


def per_line(run) -> list[dict]:
    """Per line of the script: BLAS calls made from it, their time, operand copies, fallbacks, products."""
    rows = defaultdict(lambda: {"calls": 0, "seconds": 0.0, "copies": 0, "fallbacks": 0, "products": 0})
    for call in run.calls:
        if call.file == run.source:
            rows[call.lineno]["calls"] += 1
            rows[call.lineno]["seconds"] += call.seconds
    for p in run.products:
        row = rows[p["line"]]
        row["products"] += 1
        row["copies"] += len(p["copies"])
        row["fallbacks"] += bool(p["fallback"])
    return [{"line": line, **row} for line, row in sorted(rows.items())]


def _table(rows: list[dict], source: str) -> list[str]:
    out = ["   line  products  BLAS calls  ms in BLAS  copies  fallbacks  source"]
    for r in rows:
        text = linecache.getline(source, r["line"]).strip()
        out.append(f"{r['line']:>7}  {r['products']:>8}  {r['calls']:>10}  {r['seconds'] * 1e3:>10.3f}  {r['copies']:>6}  "
                   f"{r['fallbacks']:>9}  {text[:60]}")
    return out


def _call_dict(call, run) -> dict:
    values = call.to_dict()
    product = run.products[run.made_by[call.number]] if call.number in run.made_by else None
    owners = run.owners.get(call.number)
    values.update(owners=owners, product=run.made_by.get(call.number), copies=copies_of(product, owners),
                  first=call.number == 0)
    return values
