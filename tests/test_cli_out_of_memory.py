"""Inputs that would need more memory than there is: refused before anything is allocated when
the size is known up front (a network's layer sizes, a checkpoint's ``.npy`` headers, explain's
operands — described from their shapes and strides instead), and any ``MemoryError`` that still
happens is one line saying what was being allocated. Never a traceback."""

from __future__ import annotations

import contextlib
import gzip
import io
import json
import random
import resource
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest

from nnkit import checkpoint, cli, specs
from nnkit.backends import explain as numpy_rules
from nnkit.checkpoint import CheckpointError

GiB = 2**30


@contextlib.contextmanager
def address_space_limit(extra: int):
    """Limit this process's address space to what it uses now plus ``extra`` bytes: a bug that
    allocates a huge operand then fails here, instead of taking the machine's memory."""
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    with open("/proc/self/status") as f:
        used = next(int(line.split()[1]) * 1024 for line in f if line.startswith("VmSize:"))
    resource.setrlimit(resource.RLIMIT_AS, (used + extra, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_AS, (soft, hard))


def run(argv: list[str], capsys) -> tuple[int, list[str], str]:
    status = cli.main(argv)
    captured = capsys.readouterr()
    return status, captured.err.strip().splitlines(), captured.out


def nnkit(*args: str, address_space: int | None = None) -> subprocess.CompletedProcess:
    def limit():
        resource.setrlimit(resource.RLIMIT_AS, (address_space, address_space))

    return subprocess.run([sys.executable, "-m", "nnkit", *args], capture_output=True, text=True, timeout=300,
                          preexec_fn=limit if address_space else None)


# --- train: the network's size is known before anything is allocated ----------------------------


def test_the_issues_hidden_layer_of_a_hundred_million_units_is_refused_in_one_line():
    done = nnkit("train", "--hidden", "100000000", address_space=2 * GiB)
    assert done.returncode == 1 and "Traceback" not in done.stderr
    line = done.stderr.strip().splitlines()[-1]
    assert line.startswith("nnkit train: error: --hidden 100000000: training layer sizes [64, 100000000, 10]")
    assert "TiB, more than the" in line and "of memory available" in line


def test_huge_networks_are_refused_before_allocating(capsys):
    rng = random.Random(0)
    cases = [[str(int(10 ** rng.uniform(8, 15))) for _ in range(rng.randint(1, 3))] for _ in range(25)]
    with address_space_limit(2 * GiB):
        for hidden in cases:
            status, lines, _ = run(["train", "--epochs", "1", "--hidden", *hidden], capsys)
            assert status == 1 and len(lines) == 1, lines
            assert lines[-1].startswith(f"nnkit train: error: --hidden {' '.join(hidden)}: ") and "needs" in lines[-1]


# --- explain: operands too big to allocate are described, not built -----------------------------

LAYOUTS = ["", ":F", ":T", ":sub", ":colsub", ":step", ":rev", ":bcast", ":misaligned", ":F:f32", ":f32"]


@pytest.mark.parametrize("layout_b", LAYOUTS)
@pytest.mark.parametrize("layout_a", LAYOUTS)
def test_a_phantom_operand_has_the_layout_of_the_real_one(layout_a, layout_b):
    """What numpy will do is predicted the same from the memory-less operands as from the real ones."""
    a, b = f"5x3{layout_a}", f"3x4{layout_b}"
    real, phantom = specs.operands(a, b), specs.operands(a, b, allocate=False)
    for r, p in zip(real, phantom):
        assert (r.shape, r.strides, r.dtype, r.flags.aligned, r.flags.c_contiguous, r.flags.f_contiguous) == \
               (p.shape, p.strides, p.dtype, p.flags.aligned, p.flags.c_contiguous, p.flags.f_contiguous)
    for predict in (numpy_rules.predict_dot, numpy_rules.predict_matmul):
        assert predict(*phantom).to_dict() == predict(*real).to_dict()
    assert specs.nbytes(a) == (real[0].base if real[0].base is not None else real[0]).nbytes


def test_the_issues_explain_with_operands_of_71_pib_is_refused_in_one_line():
    done = nnkit("explain", "99999999x99999999", "3x3", address_space=2 * GiB)
    assert done.returncode == 1 and done.stderr == (
        "nnkit explain: error: A (99999999, 99999999) and B (3, 3) do not fit: (m, k)·(k, n) needs B to have 99999999 rows\n")


def test_huge_operands_that_fit_are_explained_without_memory(capsys):
    """Random shapes up to 10¹⁸ × 10¹⁸ and every layout: the story of np.dot and @ from the layouts
    alone, the bridge not run (it would need the memory), under a 2 GiB address-space limit; or,
    past what any array can span (2⁶³ bytes), one line saying so."""
    rng, outcomes = random.Random(1), {0: 0, 1: 0}
    with address_space_limit(2 * GiB):
        for _ in range(60):
            m, k, n = (int(10 ** rng.uniform(6, 10)) for _ in range(3))
            a = f"{m}x{k}{rng.choice(LAYOUTS)}"
            b = "A.T" if rng.random() < 0.2 else f"{k}x{n}{rng.choice(LAYOUTS)}"
            n = m if b == "A.T" else n
            status, lines, out = run(["explain", a, b, "--json"], capsys)
            outcomes[status] += 1
            if status:
                assert status == 1 and len(lines) == 1 and "bytes any array can span" in lines[0], lines
                continue
            result = json.loads(out)
            assert "not run" in result["bridge"]["not_run"] and result["A"]["shape"] == [m, k]
            call = next(iter(result["dot"]["calls"]), {})
            assert (call.get("m"), call.get("n")) in {(m, n), (None, None), (None, n)}  # syrk has no m
    assert outcomes[0] and outcomes[1], outcomes  # both kinds drawn (52 and 8 with this seed)


def test_an_unknown_library_is_refused_before_any_work(capsys):
    status, lines, _ = run(["explain", "4x4", "4x4", "--library", "nosuchlib"], capsys)
    assert status == 1 and len(lines) == 1
    assert lines[0].startswith("nnkit explain: error: --library: library 'nosuchlib' not found; found: numpy-openblas")


# --- predict: a checkpoint cannot declare more data than it holds -------------------------------

SIZES = [64, 4, 10]


def npy_member(shape, descr: str = "<f8", data_bytes: int = 0) -> bytes:
    """A ``.npy`` file whose header declares ``shape`` (anything), followed by ``data_bytes`` bytes."""
    f = io.BytesIO()
    np.lib.format.write_array_header_1_0(f, {"descr": descr, "fortran_order": False, "shape": tuple(shape)})
    return f.getvalue() + bytes(data_bytes)


def lying_checkpoint(path: Path, rng: random.Random) -> str:
    """A checkpoint, valid but for one entry whose header declares a random wrong shape; returns it."""
    meta = {"layer_sizes": SIZES, "dtype": "float64", "normalisation": {}, "classes": list(range(10)),
            "format": "nnkit-checkpoint", "version": 1}
    params = {"W1": (4, 64), "b1": (4, 1), "W2": (10, 4), "b2": (10, 1)}
    liar = rng.choice([*params, "meta"])
    dims = rng.choice([lambda: int(10 ** rng.uniform(4, 19)), lambda: 0, lambda: -rng.randint(1, 99), lambda: 2**63 - 1])
    shape = tuple(dims() if rng.random() < 0.7 else rng.randint(1, 99) for _ in range(rng.randint(1, 3)))
    with zipfile.ZipFile(path, "w") as archive:
        for name, real in params.items():
            size = rng.randint(0, 4096) if name == liar else 8 * int(np.prod(real))
            archive.writestr(f"{name}.npy", npy_member(shape if name == liar else real, data_bytes=size))
        text = json.dumps(meta)
        if liar == "meta":
            archive.writestr("meta.npy", npy_member(shape, f"<U{len(text)}", rng.randint(0, 4096)))
        else:
            f = io.BytesIO()
            np.save(f, np.array(text))
            archive.writestr("meta.npy", f.getvalue())
    return liar


def test_lying_npy_headers_are_refused_before_allocating(tmp_path):
    rng, path = random.Random(2), tmp_path / "m.npz"
    with address_space_limit(2 * GiB):
        for _ in range(300):
            liar = lying_checkpoint(path, rng)
            with pytest.raises(CheckpointError) as excinfo:
                checkpoint.load(path)
            message = str(excinfo.value)
            assert message.startswith(f"{path}: ") and "\n" not in message and (liar in message or "meta" in message)


def test_the_issues_predict_with_a_header_of_a_million_by_a_million(tmp_path):
    path = tmp_path / "m.npz"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("W1.npy", npy_member((10**6, 10**6), data_bytes=2048))
        for name, shape in {"b1": (4, 1), "W2": (10, 4), "b2": (10, 1)}.items():
            archive.writestr(f"{name}.npy", npy_member(shape, data_bytes=8 * int(np.prod(shape))))
        f = io.BytesIO()
        np.save(f, np.array(json.dumps({"layer_sizes": SIZES, "dtype": "float64", "normalisation": {},
                                        "classes": list(range(10)), "format": "nnkit-checkpoint", "version": 1})))
        archive.writestr("meta.npy", f.getvalue())
    done = nnkit("predict", "--model", str(path), "--data", "digits", address_space=2 * GiB)
    assert done.returncode == 1 and done.stderr == (
        f"nnkit predict: error: {path}: cannot read entry 'W1': its header declares 8,000,000,000,000 bytes of data "
        "(shape (1000000, 1000000), float64), but the entry holds 2,048\n")


# --- what cannot be estimated: a MemoryError is still one line ----------------------------------


def sizes_near_the_limit(rng: random.Random, runs: int) -> list[list[str]]:
    """Commands whose memory lies around a 1.2 GB address-space limit, on either side of it."""
    commands = []
    for _ in range(runs):
        n = rng.randrange(3000, 12000, 100)
        commands.append(["explain", f"{n}x8{rng.choice(LAYOUTS[:3])}", f"8x{n}{rng.choice(LAYOUTS[:3])}", "--copy"])
        commands.append(["train", "--epochs", "1", "--hidden", str(int(10 ** rng.uniform(4, 5.5)))])
    return commands


def assert_ok_or_one_line_about_memory(done: subprocess.CompletedProcess) -> str:
    if done.returncode == 0:
        return "ran"
    last = done.stderr.strip().splitlines()[-1]
    assert done.returncode == 1 and "Traceback" not in done.stderr, done.stderr
    assert "of memory available" in last or "out of memory while" in last, last
    return "refused" if "of memory available" in last else "caught"


def test_commands_near_an_address_space_limit_run_or_fail_in_one_line():
    outcomes = [assert_ok_or_one_line_about_memory(nnkit(*argv, address_space=1_200_000_000))
                for argv in sizes_near_the_limit(random.Random(3), 2)]
    print(outcomes)


@pytest.mark.long
def test_many_commands_near_an_address_space_limit():
    """~2 minutes: 60 runs."""
    outcomes = [assert_ok_or_one_line_about_memory(nnkit(*argv, address_space=1_200_000_000))
                for argv in sizes_near_the_limit(random.Random(4), 30)]
    print({kind: outcomes.count(kind) for kind in ("ran", "refused", "caught")})


def test_a_gzip_bomb_as_data_is_refused_in_one_line(tmp_path):
    """210 MB of zeros in a 210 kB gzip file, read under an 800 MB address-space limit: reading
    stops at a quarter of the memory available (parsing takes a few times the text), at most
    200 MB here, whatever the process already uses."""
    bomb = tmp_path / "train.csv.gz"
    with gzip.open(bomb, "wb", compresslevel=1) as f:
        for _ in range(210):
            f.write(bytes(2**20))
    done = nnkit("train", "--data", str(bomb), address_space=800_000_000)
    assert done.returncode == 1 and done.stderr.startswith(f"nnkit train: error: {bomb}: more than ")
    assert done.stderr.endswith(" of memory available\n") and done.stderr.count("\n") == 1
