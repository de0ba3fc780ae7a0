"""Tutorial 5's traced products (Step 4's and Step 6's transposed one), on seeded made-up call times and watches: the
line after each traced product puts the first call's time down to one-time costs only where the whole range of the
first over the slowest later call lies at or above 2× (the book's one bound rule, ``verdicts.place``: the later calls'
own spread, a slowed core either call alone, busy other processes bounding nothing), says none that large stood out
only where it lies wholly below, flags a disturbed watch, and prints the times it judged. The line after it gives
the call shown its rate and the threads it may have run on (numpy's OpenBLAS's, and those its rule gives the
product), so a rate above one core's peak is explained."""

import re
import textwrap
from types import SimpleNamespace

import numpy as np
import pytest

from generators import seeds, watched
from nnkit import tutorials
from nnkit.backends.libraries import get_library
from nnkit.bench import verdicts
from nnkit.threads import openblas_threads


def _tutorials_function(name: str, **scope):
    """The tutorial's own function ``name`` (its lines up to the cell's print of it), run in ``scope``."""
    code = next(c for c in tutorials.cells(tutorials.find("np-dot")) if f"def {name}" in c)
    start = code.index(f"def {name}")
    exec(code[start:code.index(f"\nprint({name}", start)], scope)   # noqa: S102 — the tutorial's own lines
    return scope[name]


def test_both_traced_products_are_watched_and_judged_by_the_same_lines():
    """Reader 19 c2: both traced products' four calls run under ``load.watch``, and both lines are judged
    with what it saw."""
    source = "\n".join(tutorials.cells(tutorials.find("np-dot")))
    assert source.count("print(first_against_later(t.calls, ") == source.count(", seen))") == 2
    assert "seen = watch(lambda: products.extend(np.dot(W1, X) for _ in range(4)))" in source
    assert "seen = watch(lambda: products.extend(dZ1 @ X.T for _ in range(4)))" in source


@pytest.mark.parametrize("seed", seeds(400))
def test_the_first_call_is_called_one_time_cost_only_where_its_whole_range_stands_above_2x(seed):
    rng = np.random.default_rng(seed)
    later = [float(rng.uniform(300, 30_000)) * 1e-6 for _ in range(3)]
    if rng.random() < 0.5:                                      # later calls that agree, so a verdict can settle
        later = [later[0] * float(rng.uniform(0.98, 1.02)) for _ in later]
    first = max(later) * float(rng.choice([0.3, 1.0, 1.5, 1.9, 2.1, 3.0, 25.0]))
    seen = dict(zip(("others", "speed"), watched(rng)))
    calls = [SimpleNamespace(seconds=s) for s in [first, *later]]
    text = _tutorials_function("first_against_later", textwrap=textwrap, verdicts=verdicts)(calls, 2 * 128 * 1797 * 64, seen)
    assert all(len(line) <= 100 for line in text.splitlines())
    said = " ".join(text.split())
    assert said.startswith("(that is the 4th such call, each 2mnk = 29.4 MFLOP:")
    assert f"the first took {first * 1e6:,.0f} µs" in said
    later_us = [c.seconds * 1e6 for c in calls[1:]]
    assert [float(x.replace(",", "")) for x in re.search(r"the next ([\d, ]+) µs", said).group(1).split(", ")] == \
        [round(s) for s in later_us]
    ratio = float(re.search(r"the first (\d+\.\d\d)× the slowest of them", said).group(1))
    assert ratio == round(first * 1e6 / max(later_us), 2)
    region, (low, high) = verdicts.place(ratio, (2.0,), seen["others"], seen["speed"], verdicts.spread(later_us))
    if high == float("inf"):
        assert "(other processes ran, which bounds nothing)" in said
    else:
        shown = [float(x) for x in re.search(r"\(range (\d+\.\d\d)…(\d+\.\d\d)×\)", said).groups()]
        assert shown == pytest.approx([low, high], abs=0.0051)
    assert ("2× or more: likely a first call's one-time costs" in said) == (region == 1)
    assert ("below 2×: no one-time cost that large stood out in this run (a smaller one would not show)" in said) == \
        (region == 0)
    assert ("not settled in this run, run it again" in said) == (region is None)
    cause = verdicts.cause(seen["others"], seen["speed"])
    assert ("disturbed: " in said) == bool(cause) and (not cause or cause in said)


def _call(rng) -> SimpleNamespace:
    """A made-up traced dgemm: sizes from tiny (one thread by OpenBLAS's rule) to Step 6's, a time in µs to ms."""
    m, n, k = (int(rng.choice([4, 16, 64, 128, 1797])) for _ in range(3))
    return SimpleNamespace(m=m, n=n, k=k, seconds=float(rng.uniform(20, 50_000)) * 1e-6)


@pytest.mark.parametrize("seed", seeds(300))
def test_the_rate_line_says_how_many_cores_the_call_may_have_used(seed):
    """Reader 37 b5: Step 6's traced call ran at 54.9 GFLOP/s, above one core's peak, and nothing said it may have run
    on two threads. Made-up calls, thread counts (None: threadpoolctl did not find the library) and watches: the rate
    printed is 2mnk ÷ the time; the threads printed are the library's, and those OpenBLAS's rule gives the product;
    "may have run on N cores" exactly where that is more than one, "one core's" where it is one; "may read low"
    exactly where the watch was disturbed; lines ≤ 100 columns."""
    rng = np.random.default_rng(seed)
    call, threads, disturbed = _call(rng), [None, 1, 2, 8][seed % 4], bool(rng.random() < 0.3)
    text = _tutorials_function("rate_said", textwrap=textwrap, openblas_threads=openblas_threads)(call, threads, disturbed)
    said = " ".join(text.split())
    assert all(len(line) <= 100 for line in text.splitlines())
    flops = 2 * call.m * call.n * call.k
    assert said.startswith(f"the call shown: 2mnk = {flops / 1e6:.1f} MFLOP in {call.seconds * 1e6:,.2f} µs = "
                           f"{flops / call.seconds / 1e9:.1f} GFLOP/s")
    assert ("the watch around the calls was disturbed (above): a time reads long there, so the rate may read low"
            in said) == disturbed
    if threads is None:
        assert "threads not read" in said and "not one core's" in said
        return
    allowed = openblas_threads(call.m * call.n * call.k, threads)
    assert f"had {threads} thread{'s' * (threads != 1)} (threadpoolctl)" in said
    assert f"multiply-adds {allowed} of them" in said
    assert (f"may have run on {allowed} cores at once" in said) == (allowed > 1) != ("the rate is one core's" in said)


def test_both_traced_products_print_their_rate_with_the_threads_read_in_the_run(plain_run):
    """The quick run prints the rate line under Step 4's and Step 6's traced product, from the call shown, the threads
    numpy's OpenBLAS had in the run and whether the line above it flagged the watch (Step 6: 128·64·1797, above two
    of OpenBLAS's units)."""
    ns, text, _ = plain_run("np-dot")
    threads = get_library().num_threads()
    blocks = re.findall(r"^\(that is the 4th such call.*?\n(?=the call shown: )(.*?)(?=\n(?! ))", text, re.M | re.S)
    judged = [block[:block.index("the call shown: ")] for block in re.split(r"(?=^\(that is the 4th)", text, flags=re.M)
              if block.startswith("(that is the 4th")]
    assert len(blocks) == len(judged) == 2
    for call, line, above in zip((ns["real"], ns["call"]), blocks, judged):
        assert line == ns["rate_said"](call, threads, "\n  disturbed: " in above)
    assert ("\n  disturbed: " in judged[1]) == bool(verdicts.cause(ns["seen"]["others"], ns["seen"]["speed"]))
    assert ns["call"].m * ns["call"].n * ns["call"].k == 128 * 64 * 1797
