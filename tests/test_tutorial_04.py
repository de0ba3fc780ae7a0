"""Tutorial 4 on a calm machine (``load.watch`` replaced): the batch split is printed, in shares that
add up, and the page verdict decides from the 0.9–1.1× band it prints."""

import re

from nnkit.bench import load
from tutorial_runs import CALM, quick


def test_on_a_calm_machine_the_split_and_the_page_band_are_printed(monkeypatch, tmp_path):
    monkeypatch.setattr(load, "watch", CALM)
    text = re.sub(r"\n +", " ", quick("memory", tmp_path)[1])
    split = re.search(r"^of the \d+\.\d+ ms per batch, split by the two pairs' ratios: .*$", text, re.M).group(0)
    assert len(re.findall(r"\(-?\d+%\)", split)) == 3 and "not settled" not in text
    page = re.search(r"^step 64 \(512 B\) → 512 \(4 KiB\): (\d+\.\d\d)× .*$", text, re.M)
    ratio, verdict = float(page.group(1)), page.group(0)
    assert ("costs more" in verdict) == (ratio > 1.1) and ("costs less" in verdict) == (ratio < 0.9)
    assert ("within 0.9–1.1×: about the same" in verdict) == (0.9 <= ratio <= 1.1)
    assert "did not overlap, they added up" not in text      # a match of two moments is no measure of overlap
