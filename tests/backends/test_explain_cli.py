"""``nnkit explain`` as a reader types it: vectors, batches, every dtype, out=, one buffer twice,
offsets and steps, every call in --json; a bad spec is one line naming the argument."""

from __future__ import annotations

import json
import random
import re

import pytest

from nnkit import cli, specs


def run(capsys, *argv: str) -> tuple[int, list[str], dict | None]:
    status = cli.main(["explain", *argv, "--json"])
    captured = capsys.readouterr()
    return status, captured.err.strip().splitlines(), json.loads(captured.out) if status == 0 else None


def test_vectors_and_batches(capsys):
    _, _, result = run(capsys, "7", "7")
    assert [c["routine"] for c in result["dot"]["calls"]] == ["ddot"]
    _, _, result = run(capsys, "2x7x4", "4x3", "--call", "matmul")
    assert [(c["routine"], c["a"]) for c in result["calls"]] == [("dgemm", ["A", 0]), ("dgemm", ["A", 224])]


def test_json_lists_every_call(capsys):
    _, _, result = run(capsys, "3x8x5", "5x4")
    assert len(result["calls"]) == result["total_calls"] == 96 and result["call_of"] == "dot"


@pytest.mark.parametrize("word, routine", [("f32", "sgemm"), ("f64", "dgemm"), ("c64", "cgemm"), ("c128", "zgemm")])
def test_every_blas_dtype(capsys, word, routine):
    _, _, result = run(capsys, f"5x4:{word}", f"4x3:{word}")
    assert result["routine"] == routine and [c["routine"] for c in result["calls"]] == [routine]


def test_integers_and_halves_never_reach_blas(capsys):
    for word in ("i32", "i64", "f16"):
        _, _, result = run(capsys, f"2x5x4:{word}", f"4x3:{word}")
        assert result["calls"] == [] and "no BLAS" in result["dot"]["reason"]


def test_out_the_same_buffer_twice_offsets_and_steps(capsys):
    _, _, result = run(capsys, "6x6", "6x6:sub", "--out", "A")
    assert result["dot"]["calls"][0]["c"] == ["temp", 0] and result["matmul"]["calls"][0]["ldb"] == 11
    _, _, result = run(capsys, "7x4", "4x3", "--out", "7x3:sub", "--call", "matmul")
    assert result["calls"][0]["ldc"] == 8
    _, _, result = run(capsys, "7x4", "A.T")
    assert result["routine"] == "dsyrk"
    _, _, result = run(capsys, "7x4:T", "4:step3", "--call", "matmul")
    assert result["calls"][0]["incx"] == 3


def bad_specs(rng: random.Random, count: int) -> list[str]:
    """Random near-misses of the spec language: a wrong separator, a stray word, two dtypes, …"""
    pieces = ["7", "x", "4", ":", "F", "f32", "c128", "step", "step0", "Q", "-", "y", "", " ", "A", ".T", "0", "9" * 20]
    out = []
    while len(out) < count:
        text = "".join(rng.choice(pieces) for _ in range(rng.randint(1, 6)))
        if text.startswith("-"):
            continue  # argparse reads that as an option
        try:
            specs.parse(text)
        except ValueError:
            out.append(text)
    return out


@pytest.mark.parametrize("where", ["A", "B", "--out"])
def test_a_bad_spec_is_one_line_naming_the_argument(capsys, where):
    """60 random bad specs in each position: exit 1, one stderr line, the argument and the spec named."""
    for bad in bad_specs(random.Random(where), 60):
        argv = {"A": [bad, "4x3"], "B": ["7x4", bad], "--out": ["7x4", "4x3", "--out", bad]}[where]
        if bad in ("A", "A.T") and where != "A":
            continue  # a valid reference to A, not a bad spec
        status, lines, _ = run(capsys, *argv)
        assert status == 1 and len(lines) == 1, (bad, lines)
        assert lines[0].startswith(f"nnkit explain: error: {where}: ") and repr(bad) in lines[0], lines


def test_the_answer_comes_first(capsys):
    """Right after the operands, one line each for np.dot and ``@``: the first call as --json lists it
    (routine, m, n, k and every ld) and how many copies, or "no BLAS call" with numpy's reason — on
    random layout pairs, with and without ``--out``."""
    rng = random.Random(7)
    words = [*specs.LAYOUTS, "step3"]
    for _ in range(40):
        m, k, n = rng.randint(1, 9), rng.randint(1, 9), rng.randint(1, 9)
        argv = [f"{m}x{k}:{rng.choice(words)}", f"{k}x{n}:{rng.choice(words)}"]
        if rng.random() < 0.3:
            argv += ["--out", rng.choice(["A", "B", f"{m}x{n}:{rng.choice(words)}"])]
        status, lines, result = run(capsys, *argv)
        assert status == 0, (argv, lines)
        assert lines[0].startswith("0. the operands") and all(l.startswith("in short: ") for l in lines[1:3]), lines[:3]
        for line, name in zip(lines[1:3], ("dot", "matmul")):
            calls, copies = result[name]["calls"], result[name]["copies"]
            if not calls:
                assert "→ no BLAS call: " + result[name]["reason"] in line, (argv, line)
            elif line.endswith("the same call" + "s" * (len(calls) > 1)):
                assert name == "matmul" and calls == result["dot"]["calls"] and copies == result["dot"]["copies"]
            else:
                first = calls[0]
                assert line.split("→ ", 1)[1].startswith(first["routine"] + "("), (argv, line)
                for key in ("m", "n", "k", "lda", "ldb", "ldc"):
                    assert first.get(key) is None or re.search(rf"[(, ]{key}={first[key]}[,)]", line), (argv, key, line)
                assert line.endswith(f"; {len(copies) or 'no'} cop{'y' if len(copies) == 1 else 'ies'}"), (argv, line)


def _numpy_says(function, spec_a: str, spec_b: str, spec_out: str) -> str | None:
    """What numpy itself raises (its message), or None, for these specs."""
    import numpy as np

    A, B = specs.operands(spec_a, spec_b)
    try:
        getattr(np, function)(A, B, out=specs.matrix(spec_out))
    except (ValueError, TypeError) as error:
        return str(error)
    return None


def test_an_out_numpy_rejects_is_said_per_function_with_numpys_reason(capsys):
    """60 seeded cases, 2-D and not: exit 0, each function's reason says numpy raises exactly when it does."""
    rng, raised = random.Random(14), 0
    pairs = [("7x4", "4x3", "7x3"), ("2x7x4", "4x3", "2x7x3"), ("7x4", "4", "7"), ("4", "4x3", "3"), ("2x7x4", "2x4x3", "2x7x3")]
    for _ in range(60):
        a, b, shape = rng.choice(pairs)
        out = shape + rng.choice([":bcast", ":i64", ":f32", ":c128", ":F", ""])
        status, _, result = run(capsys, a, b, "--out", out)
        assert status == 0, (a, b, out)
        for function in ("dot", "matmul"):
            said = _numpy_says(function, a, b, out)
            reason = result[function]["reason"]
            assert reason.startswith("numpy raises") == (said is not None), (function, a, b, out, reason, said)
            if said is not None:
                raised += 1
                words = said if function == "matmul" else "output array is not acceptable"
                assert words in reason, (function, a, b, out, reason, said)
    assert raised > 30


def test_matmul_broadcasts_the_operands_to_an_out_with_more_batch_axes(capsys):
    _, _, result = run(capsys, "7x4", "4x3", "--out", "5x7x3", "--call", "matmul")
    assert [(c["routine"], c["c"]) for c in result["calls"]] == [("dgemm", ["out", 168 * i]) for i in range(5)]


def test_a_negative_length_is_one_line_naming_it(capsys):
    with pytest.raises(SystemExit) as stop:  # argparse's way out, status 2 as for every bad option
        cli.main(["explain", "-3x4", "4x3"])
    assert stop.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "'-3x4'" in err[0] and "≥ 0" in err[0]


def test_a_batchs_A_T_reverses_all_axes_and_says_so(capsys):
    status, err, _ = run(capsys, "2x7x4", "A.T")
    assert status == 1 and len(err) == 1 and "(4, 7, 2)" in err[0] and "2x7x4:T" in err[0]
