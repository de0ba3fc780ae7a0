"""A machine without Debian's BLAS libraries or mkl — made here by NNKIT_ONLY_NUMPY_BLAS, which hides
them: a test that needs one skips, saying which; under NNKIT_REQUIRE_ALL_BLAS (CI, where every
library is installed) the same test fails. The rule is tests/conftest.py's and holds for every test
whatever way it meets the missing library (asking the bridge for it by name, or a skip of its own);
``.ci/run`` runs all the bridge tests this way as well.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path
from xml.etree import ElementTree

ROOT = Path(__file__).resolve().parents[2]
NEEDS_A_SYSTEM_LIBRARY = [
    "tests/backends/test_dgemm.py::test_a_plan_cannot_be_changed_after_its_checks",  # asks for "reference" by name
    "tests/backends/test_mkl_verbose.py",  # skips by itself when mkl is missing
]


def run_pytest(*arguments: str, **environment: str) -> dict[str, tuple[str, str]]:
    """Test name → (outcome, message) for pytest run on ``arguments`` on a machine that has only numpy's own
    BLAS. Read from pytest's JUnit XML report, not its terminal, whose lines shorten with the width."""
    env = {k: v for k, v in os.environ.items() if k != "NNKIT_REQUIRE_ALL_BLAS"}
    env.update(NNKIT_ONLY_NUMPY_BLAS="1", **environment)
    with tempfile.TemporaryDirectory() as folder:
        report = Path(folder) / "report.xml"
        done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", f"--junitxml={report}",
                               *arguments], cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
        assert report.exists(), done.stdout + done.stderr
        return {case.get("name"): outcome(case) for case in ElementTree.parse(report).iter("testcase")}


def outcome(case: ElementTree.Element) -> tuple[str, str]:
    """``("passed", "")``, or the tag (skipped, failure, error) of a JUnit test case and its message."""
    for child in case:
        if child.tag in ("skipped", "failure", "error"):
            return child.tag, child.get("message", "")
    return "passed", ""


def test_a_test_needing_a_missing_library_skips_with_its_reason():
    outcomes = run_pytest(*NEEDS_A_SYSTEM_LIBRARY)
    assert outcomes["test_a_plan_cannot_be_changed_after_its_checks"] == (
        "skipped", "needs the BLAS library 'reference', not on this machine (.ci/run installs it)")
    assert outcomes["test_mkl_receives_exactly_the_call_the_plan_describes"] == (
        "skipped", "mkl not found (the mkl wheel, in the test extra; .ci/run installs it)")


def test_under_require_all_blas_the_same_tests_fail():
    outcomes = run_pytest(*NEEDS_A_SYSTEM_LIBRARY, NNKIT_REQUIRE_ALL_BLAS="1")
    assert outcomes["test_a_plan_cannot_be_changed_after_its_checks"][0] == "failure"
    assert outcomes["test_mkl_receives_exactly_the_call_the_plan_describes"][0] == "error"  # a skipif mark fails at setup
    for kind, message in outcomes.values():
        assert "NNKIT_REQUIRE_ALL_BLAS is set (every optional part installed), so this skip is a failure" in message


def test_ci_runs_the_bridge_tests_with_the_system_libraries_hidden_then_the_readme_command():
    readme = (ROOT / "README.md").read_text().split("```bash\n", 1)[1].split("```", 1)[0].strip().splitlines()
    steps = [line for line in (ROOT / ".ci" / "run").read_text().splitlines() if line.strip() and not line.startswith("#")]
    hidden = [line for line in steps if "NNKIT_ONLY_NUMPY_BLAS=1" in line]
    assert hidden and "env -u NNKIT_REQUIRE_ALL_BLAS" in hidden[0] and "pytest" in hidden[0]
    assert any("-m long" in line and "test_dgemm_fuzz.py" in line for line in steps)
    assert steps[-1] == readme[1]  # the README's test command, verbatim, last
