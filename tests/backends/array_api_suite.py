"""Runs the array API standard's conformance suite (data-apis/array-api-tests) on one namespace.

The suite is a pytest project: it is run in a subprocess, with ``ARRAY_API_TESTS_MODULE`` naming a
namespace of :mod:`conformance_targets`, a fixed hypothesis seed, derandomized and without the
example database (so the wrapper and the namespace it wraps draw the same examples), and its
JUnit XML read back into one outcome per test.

Where the suite comes from: a copy of data-apis/array-api-tests at commit 55fcc60 (MIT licence), with
its ``array-api`` submodule (the standard's text and signature stubs, ``src/array_api_stubs`` and
``spec/2025.12``) at 5f847a3, in ``third_party/array-api-tests`` or in the folder
``$NNKIT_ARRAY_API_TESTS`` names. It is not on the package index; it needs ``ndindex``,
``pytest-json-report`` (its conftest imports it) and ``hypothesis>=6.151``: the ``test`` extra.
"""

from __future__ import annotations

import os
import subprocess
import sys
import xml.etree.ElementTree as ElementTree
from pathlib import Path

COMMIT = "55fcc60"
"""The suite's pinned commit (data-apis/array-api-tests 55fcc60, with its array-api submodule at 5f847a3)."""

VENDORED = Path(__file__).resolve().parents[2] / "third_party" / "array-api-tests"
HERE = Path(__file__).resolve().parent


def location() -> Path | None:
    """The suite's folder: ``$NNKIT_ARRAY_API_TESTS``, else ``third_party/array-api-tests``; None if neither
    holds it (its ``array_api_tests`` package and the spec's signature stubs under ``array-api/``)."""
    path = Path(os.environ.get("NNKIT_ARRAY_API_TESTS", VENDORED))
    complete = (path / "array_api_tests").is_dir() and (path / "array-api" / "src" / "array_api_stubs").is_dir()
    return path if complete else None


def run(target: str, workdir: Path, max_examples: int, seed: int, tests: list[str] | None = None,
        leave_out: tuple[str, ...] = (), timeout: float = 3600) -> dict[str, str]:
    """Test id → ``"passed"``, ``"failed"`` or ``"skipped"`` for the suite (or only ``tests``, by id) run
    on namespace ``target``, less its modules named in ``leave_out`` (``"test_special_cases"``)."""
    suite = location()
    assert suite is not None, "the array API suite is not there: see array_api_suite.location()"
    report = workdir / f"{target}-{seed}-{len(tests or ())}.xml"
    selected = [node_id(suite, test) for test in tests] if tests else [str(suite / "array_api_tests")]
    env = {**os.environ, "ARRAY_API_TESTS_MODULE": f"conformance_targets.{target}",
           "PYTHONPATH": os.pathsep.join([str(HERE), os.environ.get("PYTHONPATH", "")])}
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-c", str(suite / "pytest.ini"),
               "--rootdir", str(suite), "-o", "addopts=", f"--hypothesis-max-examples={max_examples}",
               f"--hypothesis-seed={seed}", "--hypothesis-derandomize", "--hypothesis-disable-deadline",
               f"--junitxml={report}", *selected, *(f"--ignore={suite / 'array_api_tests' / m}.py" for m in leave_out)]
    done = subprocess.run(command, cwd=workdir, env=env, capture_output=True, text=True, timeout=timeout)
    assert report.exists(), f"the suite did not run on {target} (exit {done.returncode}):\n{done.stdout[-3000:]}{done.stderr[-3000:]}"
    return outcomes(report)


def node_id(suite: Path, test: str) -> str:
    """The pytest node id of a test id ``package.module[.Class]::name``, to run it alone."""
    dotted, name = test.split("::", 1)
    parts = dotted.split(".")
    for end in range(len(parts), 0, -1):
        module = suite.joinpath(*parts[:end]).with_suffix(".py")
        if module.exists():
            return "::".join([str(module), *parts[end:], name])
    raise ValueError(f"no module of the suite holds {test}")


def outcomes(junit_xml: Path) -> dict[str, str]:
    """Test id → outcome, from a pytest JUnit XML report."""
    result = {}
    for case in ElementTree.parse(junit_xml).iter("testcase"):
        tags = {child.tag for child in case}
        outcome = "failed" if tags & {"failure", "error"} else "skipped" if "skipped" in tags else "passed"
        result[f"{case.get('classname')}::{case.get('name')}"] = outcome
    return result


def counts(result: dict[str, str]) -> dict[str, int]:
    """``{"passed": n, "failed": n, "skipped": n}``."""
    return {outcome: sum(1 for o in result.values() if o == outcome) for outcome in ("passed", "failed", "skipped")}


def regressions(wrapper: dict[str, str], wrapped: dict[str, str]) -> list[str]:
    """The tests that fail on the wrapper but pass on the namespace it wraps (or did not run there)."""
    return sorted(test for test, outcome in wrapper.items() if outcome == "failed" and wrapped.get(test) != "failed")


def sometimes_failing(target: str, tests: list[str], workdir: Path, max_examples: int, seeds: range) -> set[str]:
    """Those of ``tests`` that fail on ``target`` in at least one run of ``seeds``: some of the suite's
    tests draw their example with ``.example()``, outside the seed's control, so one run of the wrapped
    namespace can pass a test its library fails on other examples."""
    failing: set[str] = set()
    for seed in seeds if tests else ():
        result = run(target, workdir, max_examples, seed, tests)
        failing |= {test for test, outcome in result.items() if outcome == "failed"}
    return failing


def inherited(wrapper: dict[str, str], wrapped: dict[str, str]) -> list[str]:
    """The tests that fail on both: the wrapped library's own deviations from the standard."""
    return sorted(test for test, outcome in wrapper.items() if outcome == "failed" and wrapped.get(test) == "failed")
