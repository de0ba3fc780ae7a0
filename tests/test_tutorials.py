"""Every tutorial runs end to end (small sizes), and the values it claims hold — its own cells
assert them (the explanation equals the trace, the bridge equals np.dot, the view is no copy)."""

import pytest

from nnkit import tutorials

ALL = tutorials.available()


def test_there_are_tutorials_and_each_has_code():
    assert ALL and all(tutorials.cells(path) for path in ALL)


@pytest.mark.parametrize("path", ALL, ids=[p.stem for p in ALL])
def test_a_tutorial_runs_from_top_to_bottom(path, tmp_path):
    tutorials.run(path, quick=True, out=str(tmp_path), echo=lambda text: None)


def test_the_dgemm_tutorial_shows_the_real_call():
    ns = tutorials.run(tutorials.find("np-dot"), quick=True, echo=lambda text: None)
    assert ns["real"].routine == "dgemm" and ns["real"].lda == ns["W1"].shape[1]
    assert (ns["C"] == ns["Z1"]).all()


def test_find_names_what_exists():
    with pytest.raises(ValueError, match="expected one of"):
        tutorials.find("no-such-tutorial")
