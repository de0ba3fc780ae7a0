"""What CI runs: every test case marked long runs in one of .ci/run's `-m long` stages — a file left out of them
runs its long cases nowhere (session 15 found files so)."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LONG_CASES = re.compile(r"pytest\.mark\.long|\b(?:seeds|examples|drawn)\(")   # tests/generators.py marks the rest long


def long_stage_files() -> set[Path]:
    """The test files .ci/run's `pytest -m long` commands name (their globs expanded)."""
    script = (ROOT / ".ci" / "run").read_text().replace("\\\n", " ")
    named = [word for line in script.splitlines() if "-m long" in line and not line.lstrip().startswith("#")
             for word in line.split() if word.startswith("tests/")]
    return {path for word in named for path in ROOT.glob(word)}


def test_every_file_with_long_cases_is_in_a_long_stage():
    with_long = {path for path in (ROOT / "tests").rglob("test_*.py") if LONG_CASES.search(path.read_text())}
    assert with_long, "the pattern finds no long case at all"
    assert sorted(str(p.relative_to(ROOT)) for p in with_long - long_stage_files()) == []
