"""nnkit.data as a specification: what each loader accepts, and the one-line error for each defect."""

from __future__ import annotations

import dataclasses
import doctest
import gzip
import shutil
import struct
from pathlib import Path

import array_api_compat
import array_api_strict
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nnkit import data
from nnkit.data import DataError, Dataset


def _write(path: Path, content: str | bytes) -> Path:
    path.write_bytes(content.encode() if isinstance(content, str) else content)
    return path


def _raises_data_error(load, path: Path, *fragments: str) -> str:
    """Run ``load``; its DataError must be one line naming ``path``'s file and every fragment."""
    with pytest.raises(DataError) as caught:
        load()
    message = str(caught.value)
    assert "\n" not in message
    for expected in (path.name, *fragments):
        assert expected in message, f"{expected!r} not in {message!r}"
    return message


def _same_data(a: Dataset, b: Dataset) -> bool:
    labels_equal = a.labels is b.labels is None or np.array_equal(a.labels, b.labels)
    return np.array_equal(a.images, b.images) and labels_equal


def _namespace_name(x) -> str:
    return array_api_compat.array_namespace(x).__name__


def test_module_examples_run():
    assert doctest.testmod(data).failed == 0


# --- the bundled digits ----------------------------------------------------------------------


def test_bundled_digits_are_1797_images_of_8x8_with_every_label():
    ds = data.load("digits")
    assert (len(ds), ds.images.shape, ds.images.dtype) == (1797, (1797, 64), np.uint8)
    assert ds.images.flags.c_contiguous and ds.image_shape == (8, 8)
    assert (ds.pixel_max, int(ds.images.max()), ds.source) == (16, 16, "digits (bundled)")
    assert ds.labels.dtype == np.int64 and np.array_equal(np.unique(ds.labels), np.arange(10))
    # first line of the file: 0,0,5,13,9,1,0,0,… and label 0
    assert ds.images[0, :6].tolist() == [0, 0, 5, 13, 9, 1] and ds.labels[0] == 0


def test_bundled_digits_with_another_checksum_are_refused(monkeypatch):
    monkeypatch.setattr(data, "DIGITS_SHA256", "0" * 64)
    _raises_data_error(data.load_digits, Path("digits.csv.gz"), "sha256", "0" * 64)


# --- Kaggle CSV --------------------------------------------------------------------------------


@pytest.mark.parametrize("fixture", ["kaggle_csv", "kaggle_csv_gz"])
def test_kaggle_csv_holds_the_images_and_labels_written(fixture, request, digits28):
    path = request.getfixturevalue(fixture)
    ds = data.load(path)
    assert _same_data(ds, digits28) and ds.images.flags.c_contiguous
    assert (ds.pixel_max, ds.image_shape, ds.source) == (255, (28, 28), str(path))
    assert _same_data(data.load_csv(path), ds)


def test_kaggle_test_csv_has_no_labels(kaggle_test_csv, digits28):
    ds = data.load(kaggle_test_csv)
    assert ds.labels is None and np.array_equal(ds.images, digits28.images)


def test_format_comes_from_the_content_not_the_name(tmp_path, kaggle_csv_gz, digits28):
    renamed = shutil.copy(kaggle_csv_gz, tmp_path / "download.idx3-ubyte")
    assert _same_data(data.load(renamed), digits28)


def test_windows_line_ends_and_spaces_around_cells_are_accepted(tmp_path):
    path = _write(tmp_path / "small.csv", "label,pixel0\r\n3, 7\r\n1,+0 \r\n\r\n")
    ds = data.load(path)
    assert ds.images.ravel().tolist() == [7, 0] and ds.labels.tolist() == [3, 1]


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(n=st.integers(1, 5), side=st.integers(1, 4), labelled=st.booleans(), data_=st.data())
def test_any_kaggle_csv_loads_back_what_was_written(tmp_path, n, side, labelled, data_):
    images = np.array(data_.draw(st.lists(st.integers(0, 255), min_size=n * side * side, max_size=n * side * side)))
    labels = np.array(data_.draw(st.lists(st.integers(0, 9), min_size=n, max_size=n)))
    header = ["label"] * labelled + [f"pixel{i}" for i in range(side * side)]
    table = np.column_stack([labels, images.reshape(n, -1)]) if labelled else images.reshape(n, -1)
    text = "\n".join([",".join(header), *(",".join(map(str, row)) for row in table.tolist())])
    ds = data.load(_write(tmp_path / "any.csv", text))
    assert ds.image_shape == (side, side) and np.array_equal(ds.images, images.reshape(n, -1))
    assert (ds.labels is None) if not labelled else np.array_equal(ds.labels, labels)


# --- MNIST IDX ---------------------------------------------------------------------------------


@pytest.mark.parametrize("fixture", ["mnist_idx", "mnist_idx_raw"])
def test_idx_images_load_with_the_labels_file_found_beside_them(fixture, request, digits28):
    path = request.getfixturevalue(fixture)
    ds = data.load(path)
    assert _same_data(ds, digits28) and ds.images.flags.c_contiguous and ds.images.flags.writeable
    assert (ds.pixel_max, ds.image_shape, ds.source) == (255, (28, 28), str(path))


def test_idx_labels_file_is_found_gzipped_or_not(mnist_idx, digits28):
    labels_gz = mnist_idx.with_name("train-labels-idx1-ubyte.gz")
    labels_gz.with_suffix("").write_bytes(gzip.decompress(labels_gz.read_bytes()))
    labels_gz.unlink()
    assert _same_data(data.load_idx(mnist_idx), digits28)


def test_idx_labels_path_can_be_given(mnist_idx, tmp_path, digits28):
    labels = shutil.move(mnist_idx.with_name("train-labels-idx1-ubyte.gz"), tmp_path / "y.gz")
    assert _same_data(data.load_idx(mnist_idx, labels), digits28)


def test_missing_idx_labels_file_error_names_the_paths_tried(mnist_idx):
    tried = [mnist_idx.with_name("train-labels-idx1-ubyte.gz"), mnist_idx.with_name("train-labels-idx1-ubyte")]
    tried[0].unlink()
    _raises_data_error(lambda: data.load(mnist_idx), mnist_idx, f"{tried[0]} or {tried[1]},", "no such file")


def test_idx_file_name_without_images_needs_labels_path(mnist_idx, tmp_path):
    renamed = shutil.copy(mnist_idx, tmp_path / "pictures.gz")
    _raises_data_error(lambda: data.load(renamed), renamed, "file name", "labels_path")


# --- every defect, one line each ---------------------------------------------------------------

KAGGLE_2x2 = "label,pixel0,pixel1,pixel2,pixel3\n"
VALID_CSV = KAGGLE_2x2 + "1,0,0,0,0\n"

CSV_ERRORS = [  # (case, file content, fragments the message must hold)
    ("empty file", "", ["line 1", "empty file"]),
    ("only blank lines", "\n \n\n", ["line 1", "empty file"]),
    ("header only", KAGGLE_2x2, ["line 2", "data row"]),
    ("unknown first column", "lbl,pixel0\n1,0\n", ["line 1, column 1", "'label' or 'pixel0'", "'lbl'"]),
    ("misnamed pixel column", "label,pixel0,pixel2,pixel2,pixel3\n1,0,0,0,0\n", ["line 1, column 3", "'pixel1'"]),
    ("pixels not a square", "label,pixel0,pixel1,pixel2\n1,0,0,0\n", ["line 1", "square", "3 pixel columns"]),
    ("short row", VALID_CSV + "2,0,0,0\n", ["line 3", "5 comma-separated fields, got 4"]),
    ("long row", KAGGLE_2x2 + "1,0,0,0,0,0\n", ["line 2", "5 comma-separated fields, got 6"]),
    ("blank line between rows", VALID_CSV + "\n" + "2,0,0,0,0\n", ["line 3", "blank line"]),
    ("non-numeric pixel", KAGGLE_2x2 + "1,0,0,x,0\n", ["line 2, column 4 (pixel2)", "0..255", "'x'"]),
    ("non-integer pixel", KAGGLE_2x2 + "1,0,0,0,3.5\n", ["line 2, column 5 (pixel3)", "'3.5'"]),
    ("empty cell", KAGGLE_2x2 + "1,0,,0,0\n", ["line 2, column 3 (pixel1)", "''"]),
    ("pixel above 255", VALID_CSV + "1,0,256,0,0\n", ["line 3, column 3 (pixel1)", "0..255", "'256'"]),
    ("negative pixel", KAGGLE_2x2 + "1,-1,0,0,0\n", ["line 2, column 2 (pixel0)", "'-1'"]),
    ("label above 9", KAGGLE_2x2 + "10,0,0,0,0\n", ["line 2, column 1 (label)", "0..9", "'10'"]),
    ("range error before a syntax error", KAGGLE_2x2 + "1,0,0,0,300\n1,x,0,0,0\n", ["line 2, column 5 (pixel3)"]),
    ("unlabelled pixel above 255", "pixel0,pixel1,pixel2,pixel3\n0,0,0,999\n", ["line 2, column 4 (pixel3)", "0..255"]),
    ("digits pixel above 16", "0,0,0,17,1\n", ["line 1, column 4 (pixel3)", "0..16", "'17'"]),
    ("digits label above 9", "0,0,0,16,10\n", ["line 1, column 5 (label)", "0..9"]),
    ("digits pixels not a square", "0,0,0,1\n", ["line 1", "square", "3 pixel columns"]),
    ("digits ragged", "0,0,0,0,1\n0,0,0,1\n", ["line 2", "5 comma-separated fields, got 4"]),
    ("windows line ends", KAGGLE_2x2.replace("\n", "\r\n") + "1,0,0,x,0\r\n", ["line 2, column 4 (pixel2)"]),
    ("not UTF-8", b"label,pixel0\n1,0\n\xff,0\n", ["line 3", "UTF-8", "0xff"]),
]


@pytest.mark.parametrize("content, fragments", [case[1:] for case in CSV_ERRORS], ids=[case[0] for case in CSV_ERRORS])
def test_csv_defect_is_named_in_one_line(tmp_path, content, fragments):
    path = _write(tmp_path / "broken.csv", content)
    _raises_data_error(lambda: data.load(path), path, *fragments)


def test_csv_defect_deep_in_a_large_file_is_named(kaggle_csv_gz):
    lines = gzip.decompress(kaggle_csv_gz.read_bytes()).decode().split("\n")
    cells = lines[1499].split(",")
    cells[300] = "2.5"
    lines[1499] = ",".join(cells)
    kaggle_csv_gz.write_bytes(gzip.compress("\n".join(lines).encode(), compresslevel=1))
    _raises_data_error(lambda: data.load(kaggle_csv_gz), kaggle_csv_gz, "line 1500, column 301 (pixel299)", "'2.5'")


def _truncated_gzip() -> bytes:
    return gzip.compress(VALID_CSV.encode() * 50)[:-20]


def _corrupt_gzip() -> bytes:
    packed = bytearray(gzip.compress(VALID_CSV.encode() * 50))
    packed[15:25] = b"\xff" * 10
    return bytes(packed)


@pytest.mark.parametrize("content", [_truncated_gzip(), _corrupt_gzip()], ids=["truncated", "corrupt"])
def test_broken_gzip_is_named(tmp_path, content):
    path = _write(tmp_path / "train.csv.gz", content)
    _raises_data_error(lambda: data.load(path), path, "gzip")


@pytest.mark.parametrize("name, fragment", [("missing.csv", "No such file"), ("", "directory")])
def test_unreadable_path_is_named(tmp_path, name, fragment):
    path = tmp_path / name
    _raises_data_error(lambda: data.load(path), path, fragment)


IMAGES = struct.pack(">4B3I", 0, 0, 8, 3, 2, 2, 2) + bytes(range(8))  # 2 images of 2×2
LABELS = struct.pack(">4B1I", 0, 0, 8, 1, 2) + bytes([3, 7])

IDX_ERRORS = [  # (case, images file, labels file, the file named, fragments the message must hold)
    ("empty images file", b"", LABELS, "images", ["bytes 0-3 (IDX magic)", "empty file"]),
    ("wrong magic", b"\x00\x00\x09\x03" + IMAGES[4:], LABELS, "images", ["IDX magic", "00 00 08 03", "00 00 09 03"]),
    ("labels file as images", LABELS, LABELS, "images", ["number of dimensions", "expected 3", "got 1"]),
    ("truncated header", IMAGES[:10], LABELS, "images", ["bytes 4-15 (IDX sizes)"]),
    ("truncated data", IMAGES[:-1], LABELS, "images", ["8 bytes for shape (2, 2, 2)", "got 7 (truncated)"]),
    ("trailing bytes", IMAGES + b"\0\0", LABELS, "images", ["got 10 (2 trailing bytes)"]),
    ("images file as labels", IMAGES, IMAGES, "labels", ["number of dimensions", "expected 1", "got 3"]),
    ("count mismatch", IMAGES, struct.pack(">4BI", 0, 0, 8, 1, 3) + bytes(3), "labels", ["item count", "2 labels"]),
    ("label above 9", IMAGES, LABELS[:-1] + b"\x0c", "labels", ["item 1 (byte 9)", "0..9", "got 12"]),
]


@pytest.mark.parametrize(
    "images, labels, named, fragments", [case[1:] for case in IDX_ERRORS], ids=[case[0] for case in IDX_ERRORS]
)
def test_idx_defect_is_named_in_one_line(tmp_path, images, labels, named, fragments):
    paths = {"images": _write(tmp_path / "x.idx3", images), "labels": _write(tmp_path / "y.idx1", labels)}
    _raises_data_error(lambda: data.load_idx(paths["images"], paths["labels"]), paths[named], *fragments)


def test_load_reads_a_file_starting_with_two_zero_bytes_as_idx(tmp_path):
    path = _write(tmp_path / "train-images.csv", b"\x00\x00\x09\x03")
    _raises_data_error(lambda: data.load(path), path, "IDX magic")


# --- Dataset -----------------------------------------------------------------------------------


def _numbered(n: int, labelled: bool = True) -> Dataset:
    """``n`` 2×2 images whose first two pixels spell the row number (see :func:`_row_ids`)."""
    ids = np.arange(n)
    images = np.zeros((n, 4), dtype=np.uint8)
    images[:, 0], images[:, 1] = ids // 256, ids % 256
    return Dataset(images, (ids % 10).astype(np.int64) if labelled else None, 255, (2, 2), "numbered")


def _row_ids(ds: Dataset) -> np.ndarray:
    return ds.images[:, 0].astype(np.int64) * 256 + ds.images[:, 1]


def test_subset_takes_rows_in_the_order_given():
    part = _numbered(20).subset(np.array([7, 3, 3]))
    assert _row_ids(part).tolist() == [7, 3, 3] and part.labels.tolist() == [7, 3, 3]
    assert part.images.flags.c_contiguous and len(part) == 3


def test_subset_refuses_a_boolean_mask():
    with pytest.raises(TypeError, match="integer"):
        _numbered(3).subset(np.array([True, False, True]))


def test_dataset_is_frozen():
    with pytest.raises(dataclasses.FrozenInstanceError):
        _numbered(3).labels = None


@pytest.mark.parametrize(
    "images, labels, image_shape",
    [
        (np.zeros((2, 4)), None, (2, 2)),  # float pixels
        (np.zeros((4, 2), dtype=np.uint8).T, None, (2, 2)),  # not C-contiguous
        (np.zeros((2, 4), dtype=np.uint8), None, (3, 3)),  # shape does not hold the pixels
        (np.zeros((2, 4), dtype=np.uint8), np.zeros(3, dtype=np.int64), (2, 2)),  # one label too many
        (np.zeros((2, 4), dtype=np.uint8), np.zeros(2, dtype=np.int32), (2, 2)),  # labels not int64
    ],
)
def test_dataset_refuses_inconsistent_arrays(images, labels, image_shape):
    with pytest.raises(ValueError):
        Dataset(images, labels, 255, image_shape, "made up")


# --- normalise ---------------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_normalise_maps_pixels_onto_0_to_1(dtype):
    ds = data.load_digits()
    x = data.normalise(ds.images, ds.pixel_max, dtype)
    assert x.dtype == np.dtype(dtype) and x.shape == ds.images.shape
    assert (x.min(), x.max()) == (0.0, 1.0)
    np.testing.assert_array_equal(x, (ds.images / 16).astype(dtype))


def test_normalise_refuses_a_pixel_max_of_zero():
    with pytest.raises(ValueError, match="pixel_max"):
        data.normalise(np.zeros((1, 4), dtype=np.uint8), 0)


# --- split -------------------------------------------------------------------------------------


def test_split_sizes_round_the_fractions():
    train, val, test = data.split(_numbered(1797), val=0.1, test=0.2)
    assert (len(train), len(val), len(test)) == (1258, 180, 359)


@pytest.mark.parametrize("labelled", [True, False])
def test_split_parts_are_disjoint_and_cover_every_row(labelled):
    parts = data.split(_numbered(500, labelled), val=0.15, test=0.25, seed=3)
    ids = np.concatenate([_row_ids(part) for part in parts])
    assert np.array_equal(np.sort(ids), np.arange(500))
    assert all(part.images.flags.c_contiguous for part in parts)


def test_split_is_determined_by_the_seed():
    ds = _numbered(300)
    ids = {seed: [_row_ids(part).tolist() for part in data.split(ds, seed=seed)] for seed in (0, 1)}
    assert ids[0] == [_row_ids(part).tolist() for part in data.split(ds, seed=0)]
    assert all(a != b for a, b in zip(ids[0], ids[1]))


def test_split_is_stratified_by_label():
    ds = data.load_digits()
    class_sizes = np.bincount(ds.labels)
    for part, fraction in zip(data.split(ds, val=0.1, test=0.2), (0.7, 0.1, 0.2)):
        assert np.all(np.abs(np.bincount(part.labels, minlength=10) - fraction * class_sizes) <= 1.5)


def test_split_part_order_is_shuffled_not_sorted_by_class():
    train, _, _ = data.split(data.load_digits())
    assert not np.array_equal(train.labels[:10], np.sort(train.labels[:10]))
    assert not np.array_equal(train.labels[:10], np.arange(10))


def test_split_with_val_zero_leaves_an_empty_validation_part():
    train, val, test = data.split(_numbered(100), val=0.0, test=0.3)
    assert (len(train), len(test), val.images.shape, val.labels.shape) == (70, 30, (0, 4), (0,))


@pytest.mark.parametrize(
    "n, val, test, message",
    [
        (100, -0.1, 0.2, r"val=-0\.1: expected a fraction in \[0, 1\)"),
        (100, 0.1, 1.0, r"test=1\.0"),
        (100, float("nan"), 0.2, r"val=nan"),
        (100, 0.5, 0.5, r"val \+ test = 1\.0"),
        (100, 0.001, 0.2, r"val=0\.001 of 100 rows is 0 rows"),
        (2, 0.4, 0.4, r"leave no rows for training"),
    ],
)
def test_split_refuses_fractions_that_leave_a_part_empty(n, val, test, message):
    with pytest.raises(ValueError, match=message):
        data.split(_numbered(n), val=val, test=test)


# --- one_hot -----------------------------------------------------------------------------------

NAMESPACES = [pytest.param(np, id="numpy"), pytest.param(array_api_strict, id="array_api_strict")]


@pytest.mark.parametrize("xp", NAMESPACES)
def test_one_hot_columns_are_the_identity_columns_of_the_labels(xp):
    y = np.array([3, 0, 9, 3, 1])
    labels = xp.asarray(y)
    out = data.one_hot(labels, 10)
    assert _namespace_name(out) == _namespace_name(labels) and out.shape == (10, 5)
    np.testing.assert_array_equal(np.from_dlpack(out), np.eye(10)[:, y])


@pytest.mark.parametrize("xp", NAMESPACES)
def test_one_hot_has_the_dtype_asked_for(xp):
    assert data.one_hot(xp.asarray([1, 2]), 4, dtype=xp.float32).dtype == xp.float32


@pytest.mark.parametrize("xp", NAMESPACES)
@pytest.mark.parametrize(
    "labels, error",
    [([0, 10], ValueError), ([-1, 2], ValueError), ([0.0, 1.0], TypeError), ([[0, 1]], TypeError)],
)
def test_one_hot_refuses_labels_it_cannot_encode(xp, labels, error):
    with pytest.raises(error, match="labels"):
        data.one_hot(xp.asarray(labels), 10)


@given(st.lists(st.integers(0, 6), min_size=1, max_size=30))
def test_one_hot_marks_exactly_the_label_of_every_sample(labels):
    out = data.one_hot(array_api_strict.asarray(labels), 7)
    encoded = np.from_dlpack(out)
    assert np.array_equal(encoded.argmax(axis=0), labels) and np.all(encoded.sum(axis=0) == 1)


def _same_label_neighbours(labels: np.ndarray) -> tuple[float, float]:
    """Share of adjacent pairs with the same label, and what a uniformly random order of the
    same labels gives on average: ``Σ c(c-1) / (n(n-1))`` over the class counts ``c``."""
    counts = np.bincount(labels).astype(float)
    n = len(labels)
    return float(np.mean(labels[1:] == labels[:-1])), float((counts * (counts - 1)).sum() / (n * (n - 1)))


def test_split_parts_are_in_random_order_not_grouped_by_class():
    """Grouped by class, ~97 % of neighbours share a label; dealt out class by class (the
    stratification's own order), ~0 %; in random order, about Σp² ≈ 10 %. Averaged over 50 seeds,
    each part's share is within 3 points of the random order's (the average's spread is ~0.5
    points), so this holds for the splitting, not for one lucky seed."""
    digits = data.load_digits()
    shares = np.array([[_same_label_neighbours(part.labels) for part in data.split(digits, seed=seed)]
                       for seed in range(50)])  # (seed, part, observed/expected)
    observed, expected = shares[..., 0].mean(axis=0), shares[..., 1].mean(axis=0)
    assert np.all(np.abs(observed - expected) < 0.03), (observed, expected)


def test_the_order_test_tells_grouped_and_dealt_orders_from_random_ones():
    labels = data.load_digits().labels
    grouped, dealt = np.sort(labels), np.tile(np.arange(10), 180)
    for order in (grouped, dealt):
        observed, expected = _same_label_neighbours(order)
        assert abs(observed - expected) > 0.09
