"""``nnkit trace`` on scripts that end badly: every BLAS call made before the end is listed, one line says
how the script ended (the signal or status named), nnkit's exit status is the script's own (as Python's:
1 for an exception, N for an exit with status N; 1 for a signal), a script's exception has its traceback
printed as Python prints it (nnkit's own never), and ``--json`` still ends stdout with the JSON line (its
``failure`` saying the same).

The scripts are generated (seeded): a random number of matrix products of random shapes — plain, with
an operand numpy copies first, in integers (numpy's own loops) — a print or not, then one of the endings
below: crashes in Python's own code, inside a BLAS call, from a thread. However the script ends, its
completed products are all reported: each call's pointers named, the per-line table's products, copies
and fallbacks.
"""

from __future__ import annotations

import collections
import json
import random
import subprocess
import sys

import pytest

ENDINGS = {  # the script's last line → what nnkit must say about it, and its exit status
    "segfault": ("import ctypes; ctypes.string_at(0)", "was killed by SIGSEGV", 1),
    "abort": ("import os; os.abort()", "was killed by SIGABRT", 1),
    "os._exit": ("import os; os._exit(3)", "ended with status 3 without returning", 3),
    "sys.exit": ("import sys; sys.exit(2)", "exited with status 2", 2),
    "raise": ("raise RuntimeError('boom')", "raised RuntimeError: boom", 1),
    "SIGKILL": ("import os, signal; os.kill(os.getpid(), signal.SIGKILL)", "was killed by SIGKILL", 1),
    "SIGTERM": ("import os, signal; os.kill(os.getpid(), signal.SIGTERM)", "was killed by SIGTERM", 1),
    "segfault in a thread": ("import ctypes, threading; t = threading.Thread(target=ctypes.string_at, args=(0,)); "
                             "t.start(); t.join()", "was killed by SIGSEGV", 1),
    "segfault inside dgemm": ("from numpy.lib.stride_tricks import as_strided; "  # lda = 10⁸ elements: unmapped
                              "as_strided(np.ones(4), (64, 64), (8 * 10**8, 8)) @ np.ones((64, 64))",
                              "was killed by SIGSEGV (segmentation fault), inside 1 BLAS call not yet returned", 1),
    "returns": ("pass", None, 0),
}


PRODUCTS = {  # kind → its line (operands L, R made on it), its row of the per-line table, the names of its dgemm's pointers
    "plain": ("L{i}, R{i} = np.ones(({m}, {k})), np.ones(({k}, {n})); P{i} = L{i} @ R{i}",
              {"products": 1, "calls": 1, "copies": 0, "fallbacks": 0}, {"a": "L{i}", "b": "R{i}", "c": "P{i}"}),
    "copied": ("L{i}, R{i} = np.ones(({m}, {k})), np.ones(({k}, {n})); P{i} = L{i}[:, ::-1] @ R{i}",
               {"products": 1, "calls": 1, "copies": 1, "fallbacks": 0}, {"a": "temporary", "b": "R{i}", "c": "P{i}"}),
    "integer": ("P{i} = np.arange({k}) @ np.arange({k})", {"products": 1, "calls": 0, "copies": 0, "fallbacks": 1}, None),
}


def script(rng: random.Random, ending: str) -> tuple[str, list[tuple[str, tuple[int, int, int]]]]:
    """A script making products of random shapes (m, n, k ≥ 2) on lines 2, 3, …: none, or every kind and a
    few more; then ``ending``. And the products' kinds and shapes."""
    kinds = [] if rng.random() < 0.2 else rng.sample(list(PRODUCTS), len(PRODUCTS)) + rng.choices(list(PRODUCTS), k=rng.randint(0, 3))
    plan = [(kind, tuple(rng.randint(2, 40) for _ in range(3))) for kind in kinds]
    lines = ["import numpy as np"]
    for i, (kind, (m, n, k)) in enumerate(plan):
        lines.append(PRODUCTS[kind][0].format(i=i, m=m, n=n, k=k))
    if rng.random() < 0.5:
        lines.append("print('the script speaks', flush=True)")
    lines.append(ENDINGS[ending][0])
    return "\n".join(lines) + "\n", plan


def check(case: int, tmp_path) -> tuple[str, bool]:
    """Run generated script ``case`` under nnkit trace and check all it says; its ending, and whether it made products."""
    rng = random.Random(case)
    ending = list(ENDINGS)[case % len(ENDINGS)]
    text, plan = script(rng, ending)
    shapes = [shape for kind, shape in plan if kind != "integer"]
    path = tmp_path / f"case{case}.py"
    path.write_text(text)
    as_json = rng.random() < 0.5
    done = subprocess.run([sys.executable, "-m", "nnkit", "trace", *["--json"] * as_json, str(path)],
                          capture_output=True, text=True, timeout=120)
    where = f"case {case} ({ending}, json={as_json}):\n{text}\nstdout: {done.stdout[-2000:]}\nstderr: {done.stderr[-2000:]}"
    last_line, expected, status = ENDINGS[ending]
    errors = [line for line in done.stderr.splitlines() if line.startswith("nnkit trace: error")]
    assert done.returncode == status, where
    if ending == "raise":  # the script's traceback, as Python prints it: its own frame only
        traceback = f'Traceback (most recent call last):\n  File "{path}", line {text.count(chr(10))}, in <module>\n'
        assert traceback + f"    {last_line}\nRuntimeError: boom\n" in done.stderr, where
        assert done.stderr.count('  File "') == 1, where
    else:
        assert "Traceback" not in done.stderr, where
    if expected is None:
        assert errors == [], where
    else:
        assert len(errors) == 1 and expected in errors[0], where
    listed = done.stderr if as_json else done.stdout
    made = [line for line in listed.splitlines() if line.startswith("NNKIT_TRACE DGEMM(RowMajor,NoTrans,NoTrans,")]
    assert [tuple(map(int, line.split(",")[3:6])) for line in made] == shapes, where  # m, n, k in order
    assert [line.split(" at ")[1].split()[0] for line in made] == [f"{path}:{2 + i}" for i, (kind, _) in enumerate(plan)
                                                                   if kind != "integer"], where
    named = [{role: name.format(i=i) for role, name in PRODUCTS[kind][2].items()} for i, (kind, _) in enumerate(plan) if PRODUCTS[kind][2]]
    assert [line.split("  [")[1].split("]")[0] for line in made] == [", ".join(f"{r}→{n}" for r, n in o.items()) for o in named], where
    rows = {2 + i: PRODUCTS[kind][1] for i, (kind, _) in enumerate(plan)}
    assert table(listed) == rows, where
    if as_json:
        result = json.loads(done.stdout.splitlines()[-1])
        assert [(c["m"], c["n"], c["k"]) for c in result["calls"]] == shapes, where
        assert [c["owners"] for c in result["calls"]] == named, where
        assert {r["line"]: {k: r[k] for k in ("products", "calls", "copies", "fallbacks")} for r in result["lines"]} == rows, where
        assert (result["failure"] is None) == (expected is None), where
        assert expected is None or expected.split(", inside")[0] in result["failure"], where
    return ending, bool(plan)


def table(listed: str) -> dict[int, dict[str, int]]:
    """The per-line table nnkit printed: line → products, calls, copies, fallbacks."""
    lines = listed.split("per line of ")[1].splitlines()[2:] if "per line of " in listed else []
    rows = {}
    for line in lines:
        fields = line.split()
        if not fields or not fields[0].isdigit():
            break
        rows[int(fields[0])] = dict(zip(("products", "calls", "copies", "fallbacks"), map(int, fields[1:3] + fields[4:6])))
    return rows


def run_cases(cases, tmp_path) -> collections.Counter:
    counts = collections.Counter(check(case, tmp_path) for case in cases)
    print(dict(counts))
    return counts


def test_every_ending_keeps_the_calls_and_the_products_and_is_named(tmp_path):
    counts = run_cases([*range(len(ENDINGS)), 11], tmp_path)  # case 1 (abort) makes no product, case 11 does
    assert {ending for ending, products in counts if products} == set(ENDINGS)


@pytest.mark.long
def test_many_generated_scripts_that_end_badly(tmp_path):
    assert sum(run_cases(range(100, 300), tmp_path).values()) == 200


def test_ctrl_c_ends_nnkit_and_the_script_with_one_line(tmp_path):
    """The script ignores the terminal's SIGINT; nnkit ends it on the way out."""
    import signal
    import time

    import cli_processes as procs

    path = tmp_path / "slow.py"
    path.write_text("import numpy as np, time\nnp.ones((3, 3)) @ np.ones((3, 3))\nprint('started', flush=True)\ntime.sleep(60)\n")
    process = procs.start(procs.command("trace", str(path)))
    assert process.stdout.readline() == "started\n"
    time.sleep(0.2)
    signalled = time.monotonic()
    procs.send(process, signal.SIGINT)
    outcome = procs.finish(process, signalled)
    assert outcome.status == 130 and outcome.stderr_lines == ["nnkit trace: interrupted (SIGINT, Ctrl-C)"], outcome
    assert outcome.left_behind == [], outcome


AS_PYTHON = {  # scripts that end with an error Python reports itself: nnkit must report it the same way
    "a product's shape error, two functions deep": "def f(a, b):\n    return a @ b\ndef g():\n    return f(np.ones((2, 3)), np.ones((2, 3)))\ng()\n",
    "raise from": "try:\n    np.dot(np.ones(2), np.ones(3))\nexcept ValueError as e:\n    raise KeyError('k') from e\n",
    "during handling": "try:\n    1 / 0\nexcept ZeroDivisionError:\n    np.ones((2, 2)) @ [1, 2, 3]\n",
    "in a comprehension": "r = [np.ones((2, 2)) @ np.ones((k, 2)) for k in (2, 3)]\n",
    "syntax error": "x = (1 +\n",
    "exit with a message": "import sys\nsys.exit('bye')\n",
    "exit 3": "import sys\nnp.ones((3, 3)) @ np.ones((3, 3))\nsys.exit(3)\n",
    "an error in an imported module": "import helper_that_fails\n",
}


@pytest.mark.parametrize("case", AS_PYTHON)
def test_a_failing_script_ends_as_python_ends_it(case, tmp_path):
    """The same traceback (or message) on stderr, the same exit status, as ``python SCRIPT``."""
    (tmp_path / "helper_that_fails.py").write_text("import numpy as np\n\nnp.linalg.multi_dot([np.ones((2, 2)), np.ones(3)])\n")
    path = tmp_path / "script.py"
    path.write_text("import numpy as np\n" + AS_PYTHON[case])
    python = subprocess.run([sys.executable, str(path)], capture_output=True, text=True, timeout=120)
    done = subprocess.run([sys.executable, "-m", "nnkit", "trace", str(path)], capture_output=True, text=True, timeout=120)
    *shown, error = done.stderr.splitlines(keepends=True)
    assert python.returncode != 0 and done.returncode == python.returncode, done.stderr
    assert "".join(shown) == python.stderr and error.startswith("nnkit trace: error: "), done.stderr
