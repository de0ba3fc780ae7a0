"""The cost of one call on tiny matrices, where the arithmetic is nothing and the bookkeeping is
everything: the bridge (checks in Python, no explanation), a prebuilt bridge plan, ``np.dot``, ``@`` —
and what ``nnkit trace`` adds to each BLAS call (recording, then finding the line) and to each product
of a traced script (the recorder's bookkeeping)."""

from __future__ import annotations

import contextlib

import numpy as np

from nnkit.bench.timing import median_seconds, paired


def run(quick: bool, say, results: dict | None = None) -> dict:
    from nnkit.backends.dgemm import dgemm, plan

    rows = []
    for n in (2, 4, 8, 16):
        A, B = np.ones((n, n)), np.ones((n, n))
        prepared = plan(A, B, explain=False)
        times = {"bridge": lambda: dgemm(A, B), "prebuilt plan": prepared.run, "np.dot": lambda: np.dot(A, B), "@": lambda: A @ B}
        us = {k: median_seconds(f, 3 if quick else 9) * 1e6 for k, f in times.items()}
        rows.append({"n": n, **{f"{k} µs": v for k, v in us.items()}, "bridge÷np.dot time": us["bridge"] / us["np.dot"]})
        say(f"{n}×{n}: " + "  ".join(f"{k} {v:.2f} µs" for k, v in us.items()) + f"   bridge takes {us['bridge'] / us['np.dot']:.1f}× np.dot's time")
    return {"rows": rows, "trace": tracing(quick, say)}


def tracing(quick: bool, say) -> dict:
    """µs the tracer adds per BLAS call (4×4 ``A @ A`` made from a function of this file), median of
    alternating pairs: recording alone; recording and the line, found in the calling frame; recording
    with a source that is not on the stack (every frame of the stack compared); and what the
    recorder of ``nnkit trace`` adds to each product on top."""
    from nnkit.backends._native import lib as native
    from nnkit.backends.trace import trace
    from nnkit.backends.trace_products import Recorder, compile_script

    repeats = 7 if quick else 21
    A = np.ones((4, 4))
    product = lambda: A @ A  # noqa: E731  the traced call is made on this line of this file

    @contextlib.contextmanager
    def no_lines():
        with trace():
            native.nk_trace_unwatch()  # record the calls, look for no line
            yield

    blocks = {"record only": no_lines, "record + line": lambda: trace(source=__file__),
              "record + source not on the stack": lambda: trace(source="/not/on/the/stack.py")}
    result = {}
    for name, block in blocks.items():
        timed = paired(product, product, repeats, around_other=block)
        result[f"{name} µs"] = timed["difference"] * 1e6
    script = "<bench: a traced script>"
    code, sites = compile_script("def product():\n    return A @ B\n", script)
    recorder = Recorder(sites)
    namespace = {"A": A, "B": np.ones((4, 4)), **recorder.hooks()}
    exec(code, namespace)

    @contextlib.contextmanager
    def as_nnkit_trace():
        with trace(source=script):
            yield
        recorder.products.clear()

    timed = paired(product, namespace["product"], repeats, around_other=as_nnkit_trace)
    result["nnkit trace per product µs"] = timed["difference"] * 1e6
    result["plain 4×4 A @ A µs"] = median_seconds(product, repeats) * 1e6
    say(f"trace, per BLAS call (4×4 A @ A, {result['plain 4×4 A @ A µs']:.2f} µs untraced): recording "
        f"{result['record only µs']:+.3f} µs, with its line {result['record + line µs']:+.3f} µs, with a source not on the "
        f"stack (every frame compared) {result['record + source not on the stack µs']:+.3f} µs (median of {repeats} alternating "
        f"pairs); a product in a script under nnkit trace (its BLAS call with the line, the recorder, explain's cached "
        f"verdict) {result['nnkit trace per product µs']:+.3f} µs")
    return result

