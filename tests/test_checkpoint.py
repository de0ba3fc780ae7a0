"""nnkit.checkpoint, read as a specification: what a checkpoint file is, what save() refuses to
write, what load() refuses to read and how it says so, and what a failed save leaves behind."""

import doctest
import json
import os
import pickle
import re
import struct
import zipfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nnkit import checkpoint
from nnkit.checkpoint import FORMAT, VERSION, CheckpointError, load, save

SIZES = [4, 3, 2]  # small on purpose: the property tests rewrite the whole file per example


def make_params(sizes: list[int], dtype: str = "float64", seed: int = 0) -> dict[str, np.ndarray]:
    """Random (not zero) parameters, so a bitwise comparison means something."""
    rng = np.random.default_rng(seed)
    params = {}
    for l in range(1, len(sizes)):
        params[f"W{l}"] = rng.standard_normal((sizes[l], sizes[l - 1])).astype(dtype)
        params[f"b{l}"] = rng.standard_normal((sizes[l], 1)).astype(dtype)
    return params


def make_meta(sizes: list[int], dtype: str = "float64", **extra) -> dict:
    return {
        "layer_sizes": sizes,
        "dtype": dtype,
        "normalisation": {"pixel_max": 16},
        "classes": list(range(sizes[-1])),
        **extra,
    }


def stored_meta(sizes: list[int] = SIZES, dtype: str = "float64", **extra) -> dict:
    """The meta save() writes: the caller's plus format and version."""
    return {**make_meta(sizes, dtype, **extra), "format": FORMAT, "version": VERSION}


def write_npz(path: Path, arrays: dict[str, np.ndarray], meta: dict | str | np.ndarray | None) -> None:
    """Write an .npz with plain np.savez, bypassing every check in save()."""
    entries = dict(arrays)
    if isinstance(meta, dict):
        meta = json.dumps(meta)
    if meta is not None:
        entries["meta"] = np.asarray(meta)
    with open(path, "wb") as f:
        np.savez(f, **entries)


def assert_bitwise_equal(got: dict[str, np.ndarray], want: dict[str, np.ndarray]) -> None:
    assert list(got) == list(want)
    for name in want:
        assert got[name].dtype == want[name].dtype, name
        assert got[name].shape == want[name].shape, name
        assert got[name].tobytes() == want[name].tobytes(), name


def cases(table: list[tuple]) -> list:
    """Rows ``(id, *values)`` of a table as pytest parameters named by their id."""
    return [pytest.param(*row[1:], id=row[0]) for row in table]


def flip(data: bytes, offset: int, mask: int = 0xFF) -> bytes:
    return data[:offset] + bytes([data[offset] ^ mask]) + data[offset + 1 :]


@pytest.fixture
def no_unpickling(monkeypatch):
    """Make any unpickling fail loudly: load() must refuse pickled data without running it."""

    def refuse(*args, **kwargs):
        raise AssertionError("checkpoint code unpickled data")

    monkeypatch.setattr(pickle, "load", refuse)
    monkeypatch.setattr(pickle, "loads", refuse)


@pytest.fixture
def good(tmp_path) -> Path:
    """A valid checkpoint at ``tmp_path/model.npz``."""
    path = tmp_path / "model.npz"
    save(path, make_params(SIZES), make_meta(SIZES))
    return path


# --- round trips ---------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("hidden", [[5], [5, 4], [5, 4, 4]], ids=["1-hidden", "2-hidden", "3-hidden"])
def test_round_trip_is_bitwise_exact(tmp_path, dtype, hidden):
    sizes = [6, *hidden, 3]
    params = make_params(sizes, dtype)
    save(tmp_path / "model.npz", params, make_meta(sizes, dtype))
    loaded, meta = load(tmp_path / "model.npz")
    assert_bitwise_equal(loaded, params)
    assert meta == stored_meta(sizes, dtype)


def test_meta_round_trips_with_extra_keys(tmp_path):
    extra = {
        "image_shape": [8, 8],
        "training": {"epochs": 3, "lr": 0.1, "loss": [2.3, 0.41], "note": "naïve ✓"},
    }
    save(tmp_path / "model.npz", make_params(SIZES), make_meta(SIZES, **extra))
    assert load(tmp_path / "model.npz")[1] == stored_meta(**extra)


def test_meta_may_hold_numpy_scalars_and_arrays(tmp_path):
    training = {"lr": np.float32(0.5), "epochs": np.int64(3)}
    meta = make_meta(SIZES, image_shape=np.array([8, 8]), training=training)
    meta["normalisation"] = {"pixel_max": np.uint8(16)}
    save(tmp_path / "model.npz", make_params(SIZES), meta)
    want = stored_meta(image_shape=[8, 8], training={"lr": 0.5, "epochs": 3})
    assert load(tmp_path / "model.npz")[1] == want


def test_big_endian_arrays_round_trip_and_load_in_native_order(tmp_path):
    """A file written on a big-endian machine holds '>f8' arrays; they are still float64."""
    params = make_params(SIZES)
    swapped = {name: array.astype(">f8") for name, array in params.items()}
    save(tmp_path / "model.npz", swapped, make_meta(SIZES))
    loaded, _ = load(tmp_path / "model.npz")
    assert_bitwise_equal(loaded, params)


def test_resaving_a_loaded_checkpoint_gives_the_same_checkpoint(good, tmp_path):
    params, meta = load(good)
    save(tmp_path / "copy.npz", params, meta)
    copy_params, copy_meta = load(tmp_path / "copy.npz")
    assert_bitwise_equal(copy_params, params)
    assert copy_meta == meta


def test_file_is_a_plain_npz_without_pickle(good):
    with np.load(good, allow_pickle=False) as npz:
        assert sorted(npz.files) == ["W1", "W2", "b1", "b2", "meta"]
        meta = npz["meta"]
        assert meta.ndim == 0 and meta.dtype.kind == "U"
        assert json.loads(str(meta[()])) == stored_meta()
        assert_bitwise_equal({name: npz[name] for name in make_params(SIZES)}, make_params(SIZES))


def test_file_is_an_uncompressed_zip_of_npy_members(good):
    with zipfile.ZipFile(good) as archive:
        assert sorted(archive.namelist()) == ["W1.npy", "W2.npy", "b1.npy", "b2.npy", "meta.npy"]
        assert {info.compress_type for info in archive.infolist()} == {zipfile.ZIP_STORED}


@pytest.mark.parametrize("as_path", [str, Path], ids=["str", "Path"])
@pytest.mark.parametrize("name", ["model.npz", "model.ckpt", "model"])
def test_save_writes_exactly_the_path_given(tmp_path, as_path, name):
    save(as_path(tmp_path / name), make_params(SIZES), make_meta(SIZES))
    assert os.listdir(tmp_path) == [name]  # no ".npz" appended, no temp file left
    assert load(as_path(tmp_path / name))[1] == stored_meta()


def test_save_replaces_an_existing_checkpoint(good):
    newer = make_params(SIZES, seed=1)
    save(good, newer, make_meta(SIZES))
    assert_bitwise_equal(load(good)[0], newer)


@pytest.mark.skipif(os.name != "posix", reason="POSIX permission bits")
@pytest.mark.parametrize("umask", [0o022, 0o077])
def test_saved_file_gets_the_mode_of_any_new_file(tmp_path, umask):
    """A checkpoint gets the mode any new file gets under the umask, as np.savez's would (a
    temporary made by mkstemp would be 0600), and the umask is left as it was."""
    previous = os.umask(umask)
    try:
        save(tmp_path / "model.npz", make_params(SIZES), make_meta(SIZES))
        assert os.umask(umask) == umask
        (tmp_path / "reference").touch()
    finally:
        os.umask(previous)
    assert (tmp_path / "model.npz").stat().st_mode & 0o777 == (tmp_path / "reference").stat().st_mode & 0o777


# --- load: every way a file can be damaged or foreign --------------------------------------


def _w1_data_offset(data: bytes) -> int:
    return data.index(make_params(SIZES)["W1"].tobytes())


def _meta_text_offset(data: bytes) -> int:
    return data.index('"format"'.encode("utf-32-le"))


def _in_central_directory(data: bytes, field: int, value: int) -> bytes:
    """``data`` with a 2-byte field of W1's central-directory record (flags 8, method 10) set."""
    at = data.index(b"PK\x01\x02") + field
    return data[:at] + struct.pack("<H", value) + data[at + 2 :]


def _npy_file(path: Path, data: bytes) -> None:
    with open(path, "wb") as f:
        np.save(f, make_params(SIZES)["W1"])


def _writes(corrupt):
    """A builder that writes ``corrupt(bytes of a good checkpoint)`` to the path."""
    return lambda path, data: path.write_bytes(corrupt(data))


def _noise(n: int) -> bytes:
    return np.random.default_rng(1).bytes(n)


# (id, build(path, bytes of a good checkpoint), message fragment, type of __cause__ or None)
BROKEN_FILES = [
    ("missing", lambda path, data: None, "cannot read: No such file", FileNotFoundError),
    ("directory", lambda path, data: path.mkdir(), "cannot read", OSError),
    ("empty", _writes(lambda d: b""), "file is empty", None),
    ("first half", _writes(lambda d: d[: len(d) // 2]), "damaged or truncated", zipfile.BadZipFile),
    ("all but last byte", _writes(lambda d: d[:-1]), "damaged or truncated", zipfile.BadZipFile),
    ("zip signature only", _writes(lambda d: d[:4]), "damaged or truncated", zipfile.BadZipFile),
    ("random bytes", _writes(lambda d: _noise(len(d))), "not a .npz archive", None),
    ("zip signature, random", _writes(lambda d: d[:4] + _noise(len(d))), "damaged", zipfile.BadZipFile),
    ("flipped W1 byte", _writes(lambda d: flip(d, _w1_data_offset(d))), "'W1'.*CRC", zipfile.BadZipFile),
    ("flipped meta byte", _writes(lambda d: flip(d, _meta_text_offset(d))), "'meta'", zipfile.BadZipFile),
    (
        "unknown compression method",
        _writes(lambda d: _in_central_directory(d, 10, 99)),
        "entry 'W1': compression method 99; nnkit reads stored or deflated entries",
        ValueError,
    ),
    (
        "encrypted flag",
        _writes(lambda d: _in_central_directory(d, 8, 1)),
        "entry 'W1'.* is encrypted",
        RuntimeError,
    ),
    ("a .npy file", _npy_file, r"not a .npz archive \(starts with b'\\x93NUM'", None),
    ("a pickle", _writes(lambda d: pickle.dumps(make_params(SIZES))), "not a .npz archive", None),
]


@pytest.mark.usefixtures("no_unpickling")
@pytest.mark.parametrize("build, fragment, cause", cases(BROKEN_FILES))
def test_load_refuses_a_broken_file(good, build, fragment, cause):
    data = good.read_bytes()
    good.unlink()
    build(good, data)
    with pytest.raises(CheckpointError, match=fragment) as excinfo:
        load(good)
    assert_names_file_in_one_line(excinfo.value, good)
    assert_caused_by(excinfo.value, cause)


def assert_names_file_in_one_line(error: CheckpointError, path: Path) -> None:
    assert str(error).startswith(f"{path}: ")
    assert "\n" not in str(error)


def assert_caused_by(error: CheckpointError, cause: type[BaseException] | None) -> None:
    """A low-level error is chained with ``from``; a problem found by the checks is not."""
    if cause is None:
        assert error.__cause__ is None
    else:
        assert isinstance(error.__cause__, cause)


_DROP = object()


def _replace(d: dict, **changes) -> dict:
    """A copy of ``d`` with ``changes``; a key changed to ``_DROP`` is left out."""
    return {key: value for key, value in {**d, **changes}.items() if value is not _DROP}


P = make_params(SIZES)
M = stored_meta()

# (id, parameter arrays, meta as dict / JSON text / array / None, message fragment, type of __cause__)
NOT_JSON = json.JSONDecodeError
FOREIGN_CONTENTS = [
    ("foreign npz", {"a": np.zeros(3), "b": np.ones(2)}, None, "no 'meta' entry.*entries: a, b", None),
    ("meta not a string", P, np.arange(3), r"meta entry is a int64 array of shape \(3,\)", None),
    ("meta a 1-d string array", P, np.array(["{}"]), "meta entry is a <U2 array", None),
    ("meta not JSON", P, "{layer_sizes: [4, 3, 2]", "meta is not valid JSON", NOT_JSON),
    ("meta a JSON list", P, "[4, 3, 2]", "meta is a JSON list, expected a JSON object", None),
    ("format missing", P, _replace(M, format=_DROP), "format is None, expected 'nnkit-checkpoint'", None),
    ("other format", P, _replace(M, format="keras"), "format is 'keras'", None),
    ("newer version", P, _replace(M, version=VERSION + 1), f"version {VERSION + 1} is newer", None),
    ("version as text", P, _replace(M, version="1"), "unknown version '1'", None),
    ("version 0", P, _replace(M, version=0), "unknown version 0", None),
    ("no layer_sizes", P, _replace(M, layer_sizes=_DROP), "meta has no 'layer_sizes'", None),
    ("no classes", P, _replace(M, classes=_DROP), "meta has no 'classes'", None),
    ("layer_sizes of floats", P, _replace(M, layer_sizes=[4.0, 3.0, 2.0]), "layer_sizes is", None),
    ("one layer size", P, _replace(M, layer_sizes=[4]), "layer_sizes is", None),
    ("dtype float16", P, _replace(M, dtype="float16"), "dtype is 'float16'", None),
    ("normalisation a number", P, _replace(M, normalisation=16), "normalisation is 16", None),
    ("classes vs outputs", P, _replace(M, classes=[0, 1, 2]), "3 classes for an output layer of 2", None),
    ("missing array", _replace(P, b2=_DROP), M, "missing parameter b2", None),
    ("extra layer", {**P, "W3": np.ones((2, 2)), "b3": np.ones((2, 1))}, M, "entries W3, b3", None),
    ("extra entry", {**P, "optimizer": np.zeros(3)}, M, "unexpected entries optimizer", None),
    ("shape vs layer_sizes", _replace(P, W1=P["W1"].T.copy()), M, r"W1 has shape \(4, 3\), exp", None),
    ("bias as a vector", _replace(P, b1=P["b1"].ravel()), M, r"shape \(3,\), expected \(3, 1\)", None),
    ("dtype vs meta", _replace(P, W2=P["W2"].astype("float32")), M, "W2 is float32, expected float64", None),
    ("float32 byte-swapped", _replace(P, W1=P["W1"].astype(">f4")), M, "W1 is >f4, expected float64", None),
    ("object array", _replace(P, W1=P["W1"].astype(object)), M, "'W1'.*allow_pickle=False", ValueError),
    ("nan", _replace(P, W1=np.where(P["W1"] > 0, np.nan, P["W1"])), M, "W1 has .* non-finite", None),
    ("inf", _replace(P, b2=np.full((2, 1), np.inf)), M, "b2 has 2 non-finite", None),
]


@pytest.mark.usefixtures("no_unpickling")
@pytest.mark.parametrize("arrays, meta, fragment, cause", cases(FOREIGN_CONTENTS))
def test_load_refuses_foreign_or_inconsistent_contents(tmp_path, arrays, meta, fragment, cause):
    path = tmp_path / "model.npz"
    write_npz(path, arrays, meta)
    with pytest.raises(CheckpointError, match=fragment) as excinfo:
        load(path)
    assert_names_file_in_one_line(excinfo.value, path)
    assert_caused_by(excinfo.value, cause)


def test_checkpoint_error_is_a_value_error():
    assert issubclass(CheckpointError, ValueError)


# --- load: any damage is reported, never mistaken for a different checkpoint ----------------


@pytest.fixture(scope="module")
def good_bytes(tmp_path_factory) -> bytes:
    path = tmp_path_factory.mktemp("good") / "model.npz"
    save(path, make_params(SIZES), make_meta(SIZES))
    return path.read_bytes()


@pytest.fixture(scope="module")
def scratch(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("scratch") / "model.npz"


def load_or_error(path: Path):
    """``load(path)``, or the CheckpointError it raised; any other exception fails the test."""
    try:
        return load(path)
    except CheckpointError as e:
        return e


@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_any_single_byte_flip_is_an_error_or_harmless(good_bytes, scratch, data):
    offset = data.draw(st.integers(0, len(good_bytes) - 1), label="offset")
    mask = data.draw(st.integers(1, 255), label="mask")
    scratch.write_bytes(flip(good_bytes, offset, mask))
    result = load_or_error(scratch)
    if not isinstance(result, CheckpointError):  # a flip in a field nobody reads (a zip timestamp)
        assert_bitwise_equal(result[0], make_params(SIZES))
        assert result[1] == stored_meta()


@settings(max_examples=30, deadline=None)
@given(data=st.data())
def test_any_truncation_is_an_error(good_bytes, scratch, data):
    length = data.draw(st.integers(0, len(good_bytes) - 1), label="length")
    scratch.write_bytes(good_bytes[:length])
    assert isinstance(load_or_error(scratch), CheckpointError)


# --- load(expect=...) ----------------------------------------------------------------------


def test_expect_accepts_agreeing_values(good):
    expect = {"layer_sizes": (4, 3, 2), "dtype": "float64", "normalisation": {"pixel_max": 16}}
    assert load(good, expect=expect)[1] == stored_meta()


@pytest.mark.parametrize(
    "expect, message",
    [
        ({"layer_sizes": [4, 5, 2]}, "layer_sizes is [4, 3, 2], expected [4, 5, 2]"),
        ({"dtype": "float32"}, "dtype is float64, expected float32"),
        ({"classes": [1, 0]}, "classes is [0, 1], expected [1, 0]"),
        ({"image_shape": [8, 8]}, "meta has no 'image_shape', expected [8, 8]"),
    ],
)
def test_expect_mismatch_names_the_key_the_value_and_the_expectation(good, expect, message):
    with pytest.raises(CheckpointError, match=f"^{re.escape(f'{good}: {message}')}$"):
        load(good, expect=expect)


# --- save: refuses what load would refuse, and a failure leaves the old file alone ---------


def assert_untouched(path: Path, data: bytes) -> None:
    assert path.read_bytes() == data
    assert os.listdir(path.parent) == [path.name], "a temp file was left behind"


# (id, params, meta as given to save, message fragment)
UNSAVEABLE = [
    ("nan", _replace(P, W2=np.full((2, 3), np.nan)), make_meta(SIZES), "W2 has 6 non-finite"),
    ("inf", _replace(P, b1=np.full((3, 1), np.inf)), make_meta(SIZES), "b1 has 3 non-finite"),
    ("-inf", _replace(P, W1=np.full((3, 4), -np.inf)), make_meta(SIZES), "W1 has 12 non-finite"),
    ("dtype vs meta", P, make_meta(SIZES, "float32"), "W1 is float64, expected float32"),
    ("mixed dtypes", _replace(P, b2=P["b2"].astype("float32")), make_meta(SIZES), "b2 is float32"),
    ("integer weights", _replace(P, W1=np.ones((3, 4), int)), make_meta(SIZES), "W1 is int64"),
    ("shape vs layer_sizes", P, make_meta([4, 5, 2]), r"W1 has shape \(3, 4\), expected \(5, 4\)"),
    ("missing array", _replace(P, W2=_DROP), make_meta(SIZES), "missing parameter W2"),
    ("extra array", {**P, "W9": np.ones(1)}, make_meta(SIZES), "unexpected entries W9"),
    ("meta without dtype", P, _replace(make_meta(SIZES), dtype=_DROP), "meta has no 'dtype'"),
    ("meta not JSON-able", P, make_meta(SIZES, training={"when": object()}), "not JSON-serialisable"),
    ("meta with NaN", P, make_meta(SIZES, training={"loss": float("nan")}), "not JSON-serialisable"),
    ("classes vs outputs", P, _replace(make_meta(SIZES), classes=[0]), "1 classes for an output layer of 2"),
]


@pytest.mark.parametrize("params, meta, fragment", cases(UNSAVEABLE))
def test_save_refuses_invalid_input_and_keeps_the_old_file(good, params, meta, fragment):
    before = good.read_bytes()
    with pytest.raises(CheckpointError, match=fragment) as excinfo:
        save(good, params, meta)
    assert_names_file_in_one_line(excinfo.value, good)
    assert_untouched(good, before)


def _savez_then_disk_full(file, **arrays):
    file.write(b"PK\x03\x04 half an archive")
    raise OSError(28, "No space left on device")


def _interrupted(*args, **kwargs):
    raise KeyboardInterrupt


def _fail(*args, **kwargs):
    raise OSError(5, "Input/output error")


# (id, what to patch, replacement, exception save() must let through)
FAILURE_POINTS = [
    ("savez disk full", (np, "savez"), _savez_then_disk_full, OSError),
    ("savez interrupted", (np, "savez"), _interrupted, KeyboardInterrupt),
    ("fsync fails", (os, "fsync"), _fail, OSError),
    ("replace fails", (os, "replace"), _fail, OSError),
]


@pytest.mark.parametrize("target, replacement, error", cases(FAILURE_POINTS))
def test_failed_save_keeps_old_file_and_leaves_no_temp_file(good, monkeypatch, target, replacement, error):
    before = good.read_bytes()
    monkeypatch.setattr(*target, replacement)
    with pytest.raises(error):
        save(good, make_params(SIZES, seed=1), make_meta(SIZES))
    assert_untouched(good, before)


def test_save_renames_a_hidden_temp_file_from_the_same_directory(good, monkeypatch):
    renames = []
    real_replace = os.replace

    def spy(src, dst):
        renames.append((Path(src), Path(dst)))
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", spy)
    save(good, make_params(SIZES), make_meta(SIZES))
    [(tmp, target)] = renames
    assert target == good and tmp.parent == good.parent
    assert re.fullmatch(r"\.model\.npz\..+\.tmp", tmp.name)


def test_failed_save_to_a_new_path_leaves_nothing(tmp_path, monkeypatch):
    monkeypatch.setattr(os, "replace", _fail)
    with pytest.raises(OSError):
        save(tmp_path / "model.npz", make_params(SIZES), make_meta(SIZES))
    assert os.listdir(tmp_path) == []


def test_docstring_examples_run():
    result = doctest.testmod(checkpoint)
    assert result.attempted > 0 and result.failed == 0
