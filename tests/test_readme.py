"""The README's promises: two commands first, and CI runs the second one verbatim."""

import re
from pathlib import Path

from nnkit import threads

ROOT = Path(__file__).resolve().parent.parent


def readme_commands() -> list[str]:
    text = (ROOT / "README.md").read_text()
    block = text.split("```bash\n", 1)[1].split("```", 1)[0]
    return block.strip().splitlines()


def test_readme_opens_with_two_commands():
    commands = readme_commands()
    assert len(commands) == 2
    assert commands[0].endswith("nnkit train") and "pytest" in commands[1]


def test_ci_runs_the_readme_test_command_verbatim():
    ci_lines = (ROOT / ".ci" / "run").read_text().splitlines()
    assert readme_commands()[1] in ci_lines


def _flat() -> str:
    return re.sub(r"\s+", " ", (ROOT / "README.md").read_text())


def test_the_tutorial_table_says_what_the_dask_step_needs():
    row = next(line for line in (ROOT / "README.md").read_text().splitlines() if line.startswith("| 10 |"))
    assert "dask on a 2-worker cluster (needs dask: `pip install -e '.[dask]'`, or the test extra)" in row


def test_the_thread_threshold_is_the_one_train_uses_and_openblas_rule_is_its_own():
    text = _flat()
    spaced = lambda number: f"{number:,}".replace(",", " ")          # the README groups digits by spaces
    assert f"under m·n·k = {spaced(threads.OPENBLAS_ONE_THREAD_BELOW)} multiply-adds" in text
    assert f"⌊m·n·k ÷ {spaced(threads.OPENBLAS_THREAD_UNIT)}⌋ threads, at most the cores" in text
    assert "m·n·k = 262 144 multiply-adds" not in text and "64³ up to which" not in text


def test_the_thread_choice_is_said_as_train_decides_it():
    """Reader 29 (b1): one timing a side flipped the choice; the README says the pairs, the margin and 'not settled'."""
    text = _flat()
    assert f"timed on one thread and on all in {threads.PAIRS} alternating pairs" in text
    assert f"wholly below {threads.CLEAR_GAIN:g}×" in text and "(`threads: 1 (not settled: …)`)" in text
    assert "clearly faster (≤ 0.9×)" not in text


def test_the_speed_claim_against_plain_numpy_names_the_command_that_measured_it():
    """Reader 29 (b9): the claim rests on `nnkit bench`'s time_to_accuracy: its command is given beside its figures."""
    text = _flat()
    assert "takes longer: `nnkit bench --suite time_to_accuracy`" in text and "Adam's published defaults" in text


def test_the_first_command_says_what_it_costs_on_a_fresh_machine_before_training():
    """Reader 30 (c2): the first command took 47.8 s, nearly all install and C build; the README gave only the 0.31 s
    of training. It says both, the install's figure with the conditions it was measured in."""
    text = _flat()
    opening = text[text.index("The first command installs nnkit"):text.index("## Tutorials")]
    assert "On a fresh machine it takes about 43–55 s in all" in opening and "compiling nnkit's C code" in opening
    assert "47.8 s and 43.2 s in two runs with no other process busy" in opening and "one-minute load average" in opening
    assert opening.index("43–55 s") < opening.index("0.31 s")


def test_adams_defaults_are_its_own_hyper_parameters_and_the_batch_size_is_said_apart():
    """Reader 32 (b7): a batch size of 32 is no part of Adam's published defaults (Kingma & Ba: lr 0.001, β₁ 0.9,
    β₂ 0.999, ε 1e-8). The README names those, as the plain-NumPy MLP uses them, and the batch size apart."""
    from nnkit.bench import contenders

    text = _flat()
    assert (f"Adam's published defaults for its own hyper-parameters (learning rate {contenders.LR:g}, β₁ 0.9, β₂ 0.999, "
            f"ε 1e-8) and minibatches of {contenders.BATCH} (a common choice, not part of Adam)") in text
    assert "(learning rate 0.001, minibatches of 32)" not in text


def test_the_thread_choices_cost_says_what_it_measures_and_the_warm_up_pair():
    """Reader 32 (b6, c17): "about 35 ms" did not say what it timed, and one first-call pair decided every run."""
    text = _flat()
    assert "after one warm-up pair that is printed and left out" in text
    assert "The whole timing took about 35 ms in a fresh process" in text and "(one run a side: about 35 ms" not in text
