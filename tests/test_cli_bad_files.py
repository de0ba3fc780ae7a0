"""Malformed data and model files, generated (seeded): truncations, bit flips, huge, zero and
negative sizes, numbers of thousands of digits, bad encodings, gzipped or not. ``nnkit predict``
on each either works (the damage left a valid file) or fails with exit status 1 and one line on
stderr naming the damaged file — never a traceback, never a second line."""

from __future__ import annotations

import gzip
import random
import struct
from pathlib import Path

import numpy as np
import pytest

from nnkit import checkpoint, cli
from nnkit.files import quoted

SIDE = 4  # 4×4 images: small files, many cases
N = 12


def kaggle_csv(rng: random.Random, labels: bool = True) -> bytes:
    header = ["label"] * labels + [f"pixel{i}" for i in range(SIDE * SIDE)]
    rows = [[rng.randrange(10)] * labels + [rng.randrange(256) for _ in range(SIDE * SIDE)] for _ in range(N)]
    return "\n".join(",".join(map(str, row)) for row in [header, *rows]).encode() + b"\n"


def digits_csv(rng: random.Random) -> bytes:
    rows = [[rng.randrange(17) for _ in range(SIDE * SIDE)] + [rng.randrange(10)] for _ in range(N)]
    return "\n".join(",".join(map(str, row)) for row in rows).encode() + b"\n"


def idx(array: np.ndarray) -> bytes:
    return struct.pack(f">4B{array.ndim}I", 0, 0, 8, array.ndim, *array.shape) + array.astype(np.uint8).tobytes()


# --- mutations: each takes the bytes of a valid file and returns damaged ones ---------------------


def truncate(rng, data):
    return data[: rng.randrange(len(data))]


def flip_bits(rng, data):
    data = bytearray(data)
    for _ in range(rng.randint(1, 4)):
        data[rng.randrange(len(data))] ^= 1 << rng.randrange(8)
    return bytes(data)


def replace_a_cell(rng, data):
    """One CSV cell becomes a huge, negative, fractional, empty or foreign value."""
    lines = data.split(b"\n")
    row = rng.randrange(len(lines))
    cells = lines[row].split(b",")
    cells[rng.randrange(len(cells))] = rng.choice([
        b"9" * rng.randint(4000, 6000), b"0" * 5000 + b"7", b"-1", b"3.5", b"", b"1e3", b"0x10", b"\xff\xfe",
        "٣".encode(), b" 4 ", b"+" + b"9" * 5000, b"nan", b"\x00",
    ])
    lines[row] = b",".join(cells)
    return b"\n".join(lines)


def reshape_rows(rng, data):
    """A row gains or loses a column, or a blank line appears."""
    lines = data.split(b"\n")
    row = rng.randrange(len(lines))
    lines[row] = rng.choice([lines[row] + b",0", lines[row].rsplit(b",", 1)[0], b""])
    return b"\n".join(lines)


def re_encode(rng, data):
    return rng.choice([data.decode("latin-1").encode("utf-16"), b"\xef\xbb\xbf" + data, data.replace(b"\n", b"\r"),
                       data.replace(b",", b";"), b"\x80" + data])


def idx_sizes(rng, data):
    """The IDX header's sizes (or its magic's dimension byte) set to zero, huge or random values."""
    ndim = data[3]
    sizes = [rng.choice([0, 1, 2**32 - 1, 2**31, rng.randrange(2**32), rng.randrange(64)]) for _ in range(ndim)]
    head = data[:3] + bytes([rng.choice([ndim, ndim, 0, 2, 4, 255])])
    return head + struct.pack(f">{ndim}I", *sizes) + data[4 + 4 * ndim :]


def gzipped(rng, data):
    packed = gzip.compress(data, mtime=0)
    return packed if rng.random() < 0.5 else packed[: rng.randrange(len(packed))]


CSV_MUTATIONS = [truncate, flip_bits, replace_a_cell, reshape_rows, re_encode]
IDX_MUTATIONS = [truncate, flip_bits, idx_sizes, idx_sizes]


def damaged(rng: random.Random, data: bytes, mutations: list) -> bytes:
    for _ in range(rng.randint(1, 2)):
        if len(data) > 16:  # a second mutation needs something left to damage
            data = rng.choice(mutations)(rng, data)
    return gzipped(rng, data) if rng.random() < 0.25 else data


# --- the CLI on each ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def model(tmp_path_factory) -> Path:
    """A checkpoint for 4×4 images."""
    path = tmp_path_factory.mktemp("model") / "m.npz"
    sizes = [SIDE * SIDE, 4, 10]
    rng = np.random.default_rng(0)
    params = {"W1": rng.standard_normal((4, 16)), "b1": np.zeros((4, 1)), "W2": rng.standard_normal((10, 4)), "b2": np.zeros((10, 1))}
    checkpoint.save(path, params, {"layer_sizes": sizes, "dtype": "float64", "normalisation": {}, "classes": list(range(10))})
    return path


def predict(model: Path, data: Path, capsys) -> tuple[int, list[str]]:
    status = cli.main(["predict", "--model", str(model), "--data", str(data)])
    return status, capsys.readouterr().err.strip().splitlines()


def assert_works_or_one_line_naming(status: int, lines: list[str], *paths: Path) -> str:
    if status == 0:
        assert lines == [], lines  # nothing on stderr either: no numpy warning
        return "valid"
    assert status == 1 and len(lines) == 1, lines
    assert lines[0].startswith("nnkit predict: error: ") and any(quoted(p) in lines[0] for p in paths), lines[0]
    return "refused"


def csv_cases(tmp_path: Path, model: Path, capsys, cases: int, seed: int) -> dict[str, int]:
    rng, outcomes = random.Random(seed), {"valid": 0, "refused": 0}
    for case in range(cases):
        original = rng.choice([kaggle_csv(rng), kaggle_csv(rng, labels=False), digits_csv(rng)])
        path = tmp_path / f"case{case}.csv"
        path.write_bytes(damaged(rng, original, CSV_MUTATIONS))
        outcomes[assert_works_or_one_line_naming(*predict(model, path, capsys), path)] += 1
    return outcomes


def idx_cases(tmp_path: Path, model: Path, capsys, cases: int, seed: int) -> dict[str, int]:
    rng, outcomes = random.Random(seed), {"valid": 0, "refused": 0}
    for case in range(cases):
        folder = tmp_path / f"case{case}"
        folder.mkdir()
        images_data = idx(np.array([[[rng.randrange(256) for _ in range(SIDE)] for _ in range(SIDE)] for _ in range(N)]))
        labels_data = idx(np.array([rng.randrange(rng.choice([10, 12])) for _ in range(N)]))
        images, labels = folder / "train-images-idx3-ubyte", folder / "train-labels-idx1-ubyte"
        which = rng.choice(["images", "labels", "both"])
        images.write_bytes(damaged(rng, images_data, IDX_MUTATIONS) if which != "labels" else images_data)
        labels.write_bytes(damaged(rng, labels_data, IDX_MUTATIONS) if which != "images" else labels_data)
        outcomes[assert_works_or_one_line_naming(*predict(model, images, capsys), images, labels)] += 1
    return outcomes


def model_cases(tmp_path: Path, model: Path, capsys, cases: int, seed: int) -> dict[str, int]:
    rng, outcomes, good = random.Random(seed), {"valid": 0, "refused": 0}, model.read_bytes()
    data = tmp_path / "digits16.csv"
    data.write_bytes(digits_csv(rng))
    for case in range(cases):
        path = tmp_path / f"m{case}.npz"
        path.write_bytes(rng.choice([truncate, flip_bits, flip_bits])(rng, good))
        outcomes[assert_works_or_one_line_naming(*predict(path, data, capsys), path)] += 1
    return outcomes


def test_damaged_csv_files(tmp_path, model, capsys):
    outcomes = csv_cases(tmp_path, model, capsys, cases=100, seed=0)   # 3 000 more under -m long
    assert outcomes["refused"] > 66, outcomes  # the damage mostly matters
    print(outcomes)


def test_damaged_idx_files(tmp_path, model, capsys):
    outcomes = idx_cases(tmp_path, model, capsys, cases=60, seed=0)    # 2 000 more under -m long
    assert outcomes["refused"] > 30, outcomes
    print(outcomes)


def test_damaged_model_files(tmp_path, model, capsys):
    outcomes = model_cases(tmp_path, model, capsys, cases=50, seed=0)   # 1 000 more under -m long
    assert outcomes["refused"] > 33, outcomes
    print(outcomes)


def test_the_issues_5000_digit_cell_names_file_line_and_column(tmp_path, model, capsys):
    path = tmp_path / "big.csv"
    path.write_text("label," + ",".join(f"pixel{i}" for i in range(16)) + "\n3," + "0," * 7 + "9" * 5000 + ",0" * 8 + "\n")
    status, lines = predict(model, path, capsys)
    assert status == 1 and lines == [f"nnkit predict: error: {path}: line 2, column 9 (pixel7): expected an integer "
                                     f"0..255, got '{'9' * 40}'…"]


@pytest.mark.parametrize("shape", [(0, 0, 0), (3, 0, 0), (0, 4, 4), (3, 4, 0)])
def test_the_issues_idx_of_zero_sized_images_is_one_clear_line(tmp_path, model, capsys, shape):
    images = tmp_path / "train-images-idx3-ubyte"
    images.write_bytes(idx(np.zeros(shape, np.uint8)))
    (tmp_path / "train-labels-idx1-ubyte").write_bytes(idx(np.zeros(shape[:1], np.uint8)))
    status, lines = predict(model, images, capsys)
    assert status == 1 and lines == [f"nnkit predict: error: {images}: bytes 4-15 (IDX sizes): expected 3 sizes of "
                                     f"at least 1, got shape {shape}"]


@pytest.mark.long
def test_many_damaged_files(tmp_path, model, capsys):
    """~1 minute: 6 000 more cases."""
    kinds = {"csv": (csv_cases, 3000), "idx": (idx_cases, 2000), "npz": (model_cases, 1000)}
    outcomes = {}
    for kind, (cases, count) in kinds.items():
        (tmp_path / kind).mkdir()
        outcomes[kind] = cases(tmp_path / kind, model, capsys, cases=count, seed=1)
    print(outcomes)  # after the last capsys.readouterr(), so that it shows with -s
