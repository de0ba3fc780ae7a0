"""The array API standard's own suite on nnkit's namespaces: nothing fails on a wrapper that passes on
what it wraps.

The suite (data-apis/array-api-tests, pinned in :mod:`array_api_suite`) runs on each wrapper and on the
namespace it wraps with the same seed and examples. A test failing on both is the wrapped library's
deviation from the standard (listed, not counted against the wrapper); a test failing only on the
wrapper is ours. The default run draws 5 examples per test and leaves out the special-value cases;
``-m long`` runs the whole suite with 100.
"""

from concurrent.futures import ThreadPoolExecutor

import pytest

import array_api_suite
from conformance_targets import WRAPS
from conftest import skip_not_installable

if array_api_suite.location() is None:  # on no package index, and fetched code is never committed here
    skip_not_installable(f"the array API suite (data-apis/array-api-tests {array_api_suite.COMMIT}) is not in "
                         "third_party/array-api-tests and NNKIT_ARRAY_API_TESTS names no copy of it", module=True)


def run_all(workdir, max_examples: int, seed: int, leave_out: tuple[str, ...] = ()) -> dict[str, dict[str, str]]:
    """Namespace name → the suite's outcomes on it, two runs at a time (one per core)."""
    names = sorted(set(WRAPS) | set(WRAPS.values()))
    with ThreadPoolExecutor(max_workers=2) as pool:
        runs = pool.map(lambda name: array_api_suite.run(name, workdir, max_examples, seed, leave_out=leave_out), names)
        return dict(zip(names, runs))


def check_no_regressions(results: dict[str, dict[str, str]], workdir, max_examples: int, seed: int) -> None:
    """Per wrapper: counts, and no test failing on it that passes on what it wraps. A test that passed on
    the wrapped namespace in the first run is run there 5 more times first (the suite draws some
    examples outside the seed's control): failing there once makes it the wrapped library's."""
    lines, ours = [], {}
    for wrapper, wrapped in WRAPS.items():
        mine, theirs = results[wrapper], results[wrapped]
        candidates = array_api_suite.regressions(mine, theirs)
        theirs_too = array_api_suite.sometimes_failing(wrapped, candidates, workdir, max_examples, range(seed + 1, seed + 6))
        ours[wrapper] = [test for test in candidates if test not in theirs_too]
        lines.append(f"{wrapper}: {array_api_suite.counts(mine)}; {wrapped}: {array_api_suite.counts(theirs)}; "
                     f"failing on both: {len(array_api_suite.inherited(mine, theirs)) + len(theirs_too)} "
                     f"({len(theirs_too)} of them on other examples); failing only on the wrapper: {len(ours[wrapper])}")
    print("\n".join(lines))
    assert all(len(r) > 700 for r in results.values()), "the suite ran too few tests"
    assert not any(ours.values()), "\n".join(lines + [f"{w}: {t}" for w, tests in ours.items() for t in tests])


def test_nothing_fails_on_a_wrapper_that_passes_on_what_it_wraps(tmp_path):
    """Every module of the suite but its 621 special-value cases (two thirds of its time, each a single
    ``.example()`` of one elementwise function, which ``-m long`` runs)."""
    results = run_all(tmp_path, max_examples=5, seed=0, leave_out=("test_special_cases",))
    check_no_regressions(results, tmp_path, max_examples=5, seed=0)


@pytest.mark.long
def test_nothing_fails_on_a_wrapper_that_passes_on_what_it_wraps_in_the_whole_suite(tmp_path):
    check_no_regressions(run_all(tmp_path, max_examples=100, seed=1), tmp_path, max_examples=100, seed=1)
