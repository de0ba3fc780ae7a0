"""Load, check and prepare the images the network learns from.

Three formats, told apart by their content rather than their file name:

* the bundled digits (``load("digits")``): a headerless CSV, 64 pixels 0..16 of an 8×8 image
  (row-major) then the label 0..9, one sample per line;
* Kaggle "digit-recognizer" CSV: a header ``label,pixel0,…,pixel783`` (``test.csv`` has no
  ``label`` column), pixels 0..255;
* MNIST IDX: an images file (magic ``00 00 08 03``, big-endian counts) with its labels file
  (magic ``00 00 08 01``) beside it.

Any of them may be gzipped. Every defect in a file is reported as a one-line :class:`DataError`
naming the file, the line or byte, and what was expected there.

Images stay as stored (``uint8``, one sample per *row*); :func:`normalise` turns them into
floats in [0, 1], and the network takes the transpose, one sample per *column*.

The bundled digits are the "Optical Recognition of Handwritten Digits" data set by E. Alpaydin
and C. Kaynak (1998), UCI Machine Learning Repository, licensed CC BY 4.0
(https://creativecommons.org/licenses/by/4.0/): the UCI test set of 1797 samples from 13
writers, in the copy scikit-learn ships as ``sklearn/datasets/data/digits.csv.gz``.
"""

from __future__ import annotations

import dataclasses
import gzip
import hashlib
import math
import os
import re
import struct
import zlib
from importlib import resources
from pathlib import Path

import array_api_compat
import numpy as np

from nnkit import files, memory
from nnkit.files import quoted

__all__ = ["DataError", "Dataset", "load", "load_csv", "load_digits", "load_idx", "normalise", "one_hot", "split"]

StrPath = str | os.PathLike[str]

N_CLASSES = 10
DIGITS_RESOURCE = "datasets/digits.csv.gz"
DIGITS_SHA256 = "09f66e6debdee2cd2b5ae59e0d6abbb73fc2b0e0185d2e1957e9ebb51e23aa22"
DIGITS_PIXEL_MAX = 16
KAGGLE_PIXEL_MAX = 255
IDX_PIXEL_MAX = 255

_GZIP_MAGIC = b"\x1f\x8b"
_CHUNK = 1 << 24
_IDX_UBYTE = b"\x00\x00\x08"  # IDX magic: two zero bytes, then type 0x08 = unsigned byte; the 4th byte is ndim
_IDX_IMAGES_NDIM, _IDX_LABELS_NDIM = 3, 1
# An integer cell as numpy.loadtxt(dtype=uint8) reads it: tells a digits row from a header line,
# and names the cell loadtxt rejected.
_CELL = re.compile(r"[ \t]*\+?[0-9]+[ \t]*")


class DataError(ValueError):
    """A data file that cannot be used: one line naming the file, where, and what was expected."""


def _error(source: StrPath, where: str, expected: str, got: str) -> DataError:
    return DataError(f"{quoted(source)}: {where}: expected {expected}, got {got}")


def _shown(text: str, limit: int = 40) -> str:
    """``repr`` of ``text``, cut to about ``limit`` characters so a message stays one short line."""
    return repr(text) if len(text) <= limit else repr(text[:limit]) + "…"


@dataclasses.dataclass(frozen=True, eq=False)  # eq=False: == on arrays is elementwise, not a bool
class Dataset:
    """Images and their labels, one sample per row, exactly as stored in the file.

    ``images`` is ``(n, n_pixels)`` uint8 C-contiguous, ``labels`` ``(n,)`` int64 in
    ``[0, n_classes)`` or None for an unlabelled file.
    """

    images: np.ndarray
    labels: np.ndarray | None
    pixel_max: int
    image_shape: tuple[int, int]
    source: str
    n_classes: int = N_CLASSES

    def __post_init__(self) -> None:
        images, labels = self.images, self.labels
        if images.ndim != 2 or images.dtype != np.uint8 or not images.flags.c_contiguous:
            raise ValueError(f"images: expected a C-contiguous 2-D uint8 array, got {images.dtype} {images.shape}")
        if math.prod(self.image_shape) != images.shape[1]:
            raise ValueError(f"image_shape {self.image_shape} does not hold {images.shape[1]} pixels")
        if labels is not None and (labels.shape != images.shape[:1] or labels.dtype != np.int64):
            raise ValueError(f"labels: expected int64 of shape {images.shape[:1]}, got {labels.dtype} {labels.shape}")

    def __len__(self) -> int:
        return self.images.shape[0]

    def subset(self, index: np.ndarray) -> Dataset:
        """Take the rows ``index`` (an integer array, in that order) into new C-contiguous arrays."""
        index = np.asarray(index)
        if not np.issubdtype(index.dtype, np.integer):
            raise TypeError(f"index: expected an integer array, got {index.dtype}")
        labels = None if self.labels is None else np.take(self.labels, index)
        return dataclasses.replace(self, images=np.take(self.images, index, axis=0), labels=labels)


# ---------------------------------------------------------------------------------------------
# Files


def _read_bytes(path: StrPath, size: int = -1) -> bytes | bytearray:
    """The first ``size`` bytes (all with -1) of ``path``, decompressed when it starts like gzip.

    Only a regular file is read, and no more than a quarter of the memory available (parsing
    takes a few times the text), so a gzip bomb is an error, not a ``MemoryError``."""
    try:
        with files.open_regular(path) as raw:
            is_gzip = raw.read(2) == _GZIP_MAGIC
            raw.seek(0)
            return _read_at_most(gzip.GzipFile(fileobj=raw) if is_gzip else raw, size, path)
    except (gzip.BadGzipFile, EOFError, zlib.error) as exc:
        raise _error(path, "gzip stream", "a complete gzip file", f"corrupt or truncated data ({exc})") from None
    except files.PathError as exc:
        raise DataError(f"{quoted(path)}: {exc.strerror}") from None
    except OSError as exc:
        raise _error(path, "file", "a readable data file", exc.strerror or str(exc)) from None


def _read_at_most(stream, size: int, path: StrPath) -> bytearray:
    """Up to ``size`` bytes of ``stream`` (all with -1), in chunks, within the memory budget."""
    budget, data = memory.available() // 4, bytearray()
    while size < 0 or len(data) < size:
        chunk = stream.read(_CHUNK if size < 0 else min(_CHUNK, size - len(data)))
        if not chunk:
            break
        data += chunk
        if len(data) > budget:
            raise DataError(f"{quoted(path)}: more than {memory.size(budget)} of data, too much to parse "
                            f"in the {memory.size(4 * budget)} of memory available")
    return data


def load(spec: StrPath) -> Dataset:
    """Load ``"digits"`` (bundled) or the CSV or IDX file at path ``spec``, gzipped or not.

    The format comes from the content: IDX files start with two zero bytes, everything else is
    read as CSV. For IDX images the labels file is looked up beside them (see :func:`load_idx`).
    """
    if spec == "digits":
        return load_digits()
    if not os.fspath(spec):
        raise DataError("data path: expected 'digits' or a file path, got an empty string")
    if _read_bytes(spec, 2) == _IDX_UBYTE[:2]:
        return load_idx(spec)
    return load_csv(spec)


def load_labelled(spec: StrPath) -> Dataset:
    """:func:`load`, for learning from: a file without labels is a :class:`DataError` naming it."""
    dataset = load(spec)
    if dataset.labels is None:
        raise DataError(f"{quoted(dataset.source)}: has no labels; training needs a 'label' column or an IDX labels file")
    return dataset


def load_digits() -> Dataset:
    """Load the bundled 1797 digits, 8×8 pixels 0..16, after checking the file's sha256.

    >>> ds = load_digits()
    >>> ds.images.shape, ds.pixel_max, ds.image_shape
    ((1797, 64), 16, (8, 8))
    """
    resource = resources.files("nnkit").joinpath(DIGITS_RESOURCE)
    data = resource.read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    if digest != DIGITS_SHA256:
        raise _error(str(resource), "sha256 of the bundled file", DIGITS_SHA256, f"{digest} (damaged or replaced)")
    return _parse_csv(gzip.decompress(data), "digits (bundled)")


# ---------------------------------------------------------------------------------------------
# CSV


@dataclasses.dataclass(frozen=True)
class _CsvLayout:
    """Where the pixels and the label sit in a CSV row, and the largest value each may take."""

    n_pixels: int
    pixel_max: int
    label_column: int | None  # 0 for Kaggle, the last column for the digits, None for Kaggle's test.csv
    header_lines: int

    @property
    def n_columns(self) -> int:
        return self.n_pixels + (self.label_column is not None)

    @property
    def column_max(self) -> np.ndarray:
        """Largest legal value per column, ``(n_columns,)`` uint8."""
        limits = np.full(self.n_columns, self.pixel_max, dtype=np.uint8)
        if self.label_column is not None:
            limits[self.label_column] = N_CLASSES - 1
        return limits

    def column_name(self, column: int) -> str:
        if column == self.label_column:
            return "label"
        return f"pixel{column - (self.label_column == 0)}"

    def where(self, line: int, column: int) -> str:
        return f"line {line}, column {column + 1} ({self.column_name(column)})"


def load_csv(path: StrPath) -> Dataset:
    """Load a CSV data set, optionally gzipped: Kaggle's layout (header) or the digits' (none).

    Kaggle: header ``label,pixel0,…,pixelN-1`` or ``pixel0,…`` (no labels), pixels 0..255.
    Digits: no header, N pixels 0..16 then the label. N must be a square (784 → 28×28).
    """
    return _parse_csv(_read_bytes(path), os.fspath(path))


def _parse_csv(data: bytes, source: str) -> Dataset:
    lines = _text_lines(data, source)
    layout = _csv_layout(lines[0].split(","), source)
    rows = lines[layout.header_lines :]
    if not rows:
        raise _error(source, "line 2", "a data row after the header", "the end of the file")
    values = _parse_rows(rows, layout)
    if values is None:
        bad = _first_bad_row(rows, layout)
        raise _describe_bad_row(rows[bad], bad + layout.header_lines + 1, layout, source)
    side = math.isqrt(layout.n_pixels)
    if layout.label_column is None:
        return Dataset(values, None, layout.pixel_max, (side, side), source)
    images = np.delete(values, layout.label_column, axis=1)
    labels = values[:, layout.label_column].astype(np.int64)
    return Dataset(images, labels, layout.pixel_max, (side, side), source)


def _text_lines(data: bytes, source: str) -> list[str]:
    """The lines of ``data`` decoded as UTF-8, without line ends and trailing blank lines."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise _error(source, f"line {line}", "UTF-8 text", f"byte 0x{data[exc.start]:02x}") from None
    text = text.replace("\r\n", "\n").rstrip()
    if not text:
        raise _error(source, "line 1", "a CSV header or data row", "an empty file")
    return text.split("\n")


def _csv_layout(first: list[str], source: str) -> _CsvLayout:
    """The layout announced by the first line: a Kaggle header, or (all numbers) a digits row."""
    if _CELL.fullmatch(first[0]):
        n_pixels = len(first) - 1
        _check_square(n_pixels, source, "a square number of pixel columns then the label (64 + 1 for 8×8)")
        return _CsvLayout(n_pixels, DIGITS_PIXEL_MAX, label_column=n_pixels, header_lines=0)
    names = [name.strip() for name in first]
    has_labels = names[0] == "label"
    n_pixels = len(names) - has_labels
    expected = ["label"] * has_labels + [f"pixel{i}" for i in range(n_pixels)]
    for column, (name, want) in enumerate(zip(names, expected)):
        if name != want:
            want = "'label' or 'pixel0'" if column == 0 else repr(want)
            raise _error(source, f"line 1, column {column + 1}", f"header name {want}", _shown(name))
    _check_square(n_pixels, source, "a square number of pixel columns (784 for 28×28)")
    return _CsvLayout(n_pixels, KAGGLE_PIXEL_MAX, label_column=0 if has_labels else None, header_lines=1)


def _check_square(n_pixels: int, source: str, expected: str) -> None:
    if n_pixels < 1 or math.isqrt(n_pixels) ** 2 != n_pixels:
        raise _error(source, "line 1", expected, f"{n_pixels} pixel columns")


def _parse_rows(rows: list[str], layout: _CsvLayout) -> np.ndarray | None:
    """``rows`` as an ``(n, n_columns)`` uint8 array, or None if any cell, count or range is wrong.

    The fast path: numpy's C parser does the whole file in one call.
    """
    if "" in rows:  # loadtxt would skip a blank line and shift every row number after it
        return None
    try:
        values = np.loadtxt(rows, delimiter=",", dtype=np.uint8, comments=None, ndmin=2)
    except ValueError:
        return None
    if values.shape != (len(rows), layout.n_columns) or (values > layout.column_max).any():
        return None
    return values


def _first_bad_row(rows: list[str], layout: _CsvLayout) -> int:
    """Index of the first row :func:`_parse_rows` rejects (the caller knows there is one).

    Rows are independent, so the first failing block of 1024 holds it, then of 32, then the row:
    about one more parse of the file instead of a Python loop over every cell.
    """
    start, stop = 0, len(rows)
    for block in (1024, 32, 1):
        start = next(i for i in range(start, stop, block) if _parse_rows(rows[i : i + block], layout) is None)
        stop = min(start + block, stop)
    return start


def _describe_bad_row(row: str, line: int, layout: _CsvLayout, source: str) -> DataError:
    """The error for the first wrong field of a rejected ``row`` (file line ``line``)."""
    cells = row.split(",")
    if len(cells) != layout.n_columns:
        got = f"{len(cells)}" if row.strip() else "a blank line"
        return _error(source, f"line {line}", f"{layout.n_columns} comma-separated fields", got)
    for column, (cell, top) in enumerate(zip(cells, layout.column_max.tolist())):
        if not _CELL.fullmatch(cell) or _too_big(cell, top):
            return _error(source, layout.where(line, column), f"an integer 0..{top}", _shown(cell))
    return _error(source, f"line {line}", f"{layout.n_columns} integers", "a row numpy cannot parse")


def _too_big(cell: str, top: int) -> bool:
    """Whether the integer cell ``cell`` exceeds ``top``, by its digits: ``int()`` refuses
    strings of more than 4300 digits (a Python safeguard), and a cell may hold any number."""
    digits = cell.strip().lstrip("+").lstrip("0") or "0"
    return len(digits) > len(str(top)) or int(digits) > top


# ---------------------------------------------------------------------------------------------
# IDX


def load_idx(images_path: StrPath, labels_path: StrPath | None = None) -> Dataset:
    """Load an MNIST IDX images file and its labels file, either optionally gzipped.

    Without ``labels_path`` the labels file is the one beside the images whose name has
    ``labels``/``idx1`` for ``images``/``idx3``, gzipped or not:
    ``train-images-idx3-ubyte.gz`` → ``train-labels-idx1-ubyte.gz``,
    ``t10k-images.idx3-ubyte`` → ``t10k-labels.idx1-ubyte``.
    """
    images = _read_idx(images_path, _IDX_IMAGES_NDIM, "images")
    labels_path = _find_labels_file(Path(images_path)) if labels_path is None else labels_path
    labels = _read_idx(labels_path, _IDX_LABELS_NDIM, "labels")
    if labels.shape[0] != images.shape[0]:
        expected = f"{images.shape[0]} labels, one per image in {quoted(images_path)}"
        raise _error(labels_path, "bytes 4-7 (item count)", expected, f"{labels.shape[0]}")
    _check_idx_labels(labels, labels_path)
    n, rows, cols = images.shape
    pixels = images.reshape(n, rows * cols)
    return Dataset(pixels, labels.astype(np.int64), IDX_PIXEL_MAX, (rows, cols), os.fspath(images_path))


def _read_idx(path: StrPath, ndim: int, kind: str) -> np.ndarray:
    """The unsigned-byte array in IDX file ``path``, checked to have ``ndim`` dimensions."""
    data = _read_bytes(path)
    if data[:3] != _IDX_UBYTE or len(data) < 4:
        expected = f"00 00 08 0{ndim} (IDX unsigned-byte {kind})"
        raise _error(path, "bytes 0-3 (IDX magic)", expected, data[:4].hex(" ") or "an empty file")
    if data[3] != ndim:
        raise _error(path, "byte 3 (IDX number of dimensions)", f"{ndim} for {kind}", f"{data[3]}")
    header = 4 + 4 * ndim
    if len(data) < header:
        got = f"{len(data) - 4} bytes"
        raise _error(path, f"bytes 4-{header - 1} (IDX sizes)", f"{ndim} big-endian uint32 sizes", got)
    shape = struct.unpack(f">{ndim}I", data[4:header])
    if 0 in shape:
        raise _error(path, f"bytes 4-{header - 1} (IDX sizes)", f"{ndim} sizes of at least 1", f"shape {shape}")
    size, body = math.prod(shape), len(data) - header
    if body != size:
        got = f"{body} (truncated)" if body < size else f"{body} ({body - size} trailing bytes)"
        raise _error(path, f"data after the {header}-byte header", f"{size} bytes for shape {shape}", got)
    return np.frombuffer(data, dtype=np.uint8, offset=header).reshape(shape).copy()  # copy: writable, owns its memory


def _find_labels_file(images_path: Path) -> Path:
    name = images_path.name.replace("images", "labels").replace("idx3", "idx1")
    if name == images_path.name:
        expected = "an MNIST-style name with 'images' or 'idx3' (to find the labels file), or labels_path"
        raise _error(images_path, "file name", expected, repr(name))
    other = name.removesuffix(".gz") if name.endswith(".gz") else name + ".gz"
    tried = [images_path.with_name(name), images_path.with_name(other)]
    for candidate in tried:
        if candidate.is_file():
            return candidate
    raise _error(images_path, "labels file beside it", " or ".join(map(quoted, tried)), "no such file")


def _check_idx_labels(labels: np.ndarray, path: StrPath) -> None:
    bad = np.flatnonzero(labels >= N_CLASSES)
    if bad.size:
        item = int(bad[0])
        raise _error(path, f"item {item} (byte {8 + item})", f"a label 0..{N_CLASSES - 1}", f"{labels[item]}")


# ---------------------------------------------------------------------------------------------
# Preparing arrays for the network


def normalise(images: np.ndarray, pixel_max: int, dtype="float64") -> np.ndarray:
    """Scale pixels to [0, 1]: ``images / pixel_max`` as ``dtype``, same shape ``(n, n_pixels)``.

    >>> normalise(np.array([[0, 8, 16]], dtype=np.uint8), 16)
    array([[0. , 0.5, 1. ]])
    """
    if pixel_max < 1:
        raise ValueError(f"pixel_max: expected a positive integer, got {pixel_max}")
    return np.true_divide(images, pixel_max, dtype=dtype)


def split(ds: Dataset, val: float = 0.1, test: float = 0.2, seed: int = 0) -> tuple[Dataset, Dataset, Dataset]:
    """Shuffle ``ds`` with ``seed`` and cut it into train, validation and test parts.

    ``val`` and ``test`` are fractions of ``len(ds)`` (rounded to whole rows); ``val=0`` gives an
    empty validation part. With labels the cut is stratified: every part holds each class in
    about its overall proportion. Each part is in random order.

    >>> train, val, test = split(load_digits(), val=0.1, test=0.2, seed=0)
    >>> len(train), len(val), len(test)
    (1258, 180, 359)
    """
    n_val, n_test = _part_sizes(len(ds), val, test)
    rng = np.random.default_rng(seed)
    perm = rng.permutation(len(ds))
    order = np.arange(len(ds)) if ds.labels is None else _stratified_order(ds.labels[perm])
    n_train = len(ds) - n_val - n_test
    parts = np.split(order, [n_train, n_train + n_val])
    # Shuffle again inside each part: stratification deals classes out by rank, which would
    # otherwise leave each part's order correlated with the labels.
    train, val_part, test_part = (ds.subset(perm[rng.permutation(part)]) for part in parts)
    return train, val_part, test_part


def _part_sizes(n: int, val: float, test: float) -> tuple[int, int]:
    """Rows for validation and test; raises ValueError unless every requested part is non-empty."""
    for name, fraction in (("val", val), ("test", test)):
        if not 0 <= fraction < 1:
            raise ValueError(f"{name}={fraction!r}: expected a fraction in [0, 1)")
    if val + test >= 1:
        raise ValueError(f"val + test = {val + test!r}: expected less than 1, to leave rows for training")
    n_val, n_test = round(val * n), round(test * n)
    for name, fraction, size in (("val", val, n_val), ("test", test, n_test)):
        if fraction > 0 and size == 0:
            expected = f"a larger fraction, or 0 for no {name} part"
            raise ValueError(f"{name}={fraction!r} of {n} rows is 0 rows: expected {expected}")
    if n - n_val - n_test < 1:
        raise ValueError(f"val={val!r}, test={test!r} of {n} rows leave no rows for training")
    return n_val, n_test


def _stratified_order(labels: np.ndarray) -> np.ndarray:
    """Positions ``0..n-1`` ordered so that every stretch holds each class in about its share.

    Each sample's key is its quantile inside its class, ``(rank + 0.5) / class size``; sorting by
    it deals the classes out evenly. Stable sorts keep the given (shuffled) order among ties.
    """
    by_class = np.argsort(labels, kind="stable")
    counts = np.bincount(labels)
    first = np.cumsum(counts) - counts
    rank = np.empty(len(labels))
    rank[by_class] = np.arange(len(labels)) - np.repeat(first, counts)
    return np.argsort((rank + 0.5) / counts[labels], kind="stable")


def one_hot(labels, n_classes: int, dtype=None):
    """Encode ``labels`` as a one-hot ``(n_classes, n)`` matrix: column ``j`` is sample ``j``.

    ``labels`` is a 1-D integer array of any array-API namespace; the result is in the same one.
    Columns, because the network keeps one sample per column (``X`` is ``(features, samples)``).

    The seed wrote ``Y = np.zeros((n, 10)); Y[np.arange(n), y] = 1``. That assignment through an
    index array ("fancy setitem") is numpy's, not the array API's: array_api_strict refuses it.
    Picking columns of the identity with ``xp.take`` writes nothing, and is in the array API.

    >>> one_hot(np.array([2, 0]), 3)
    array([[0., 1.],
           [0., 0.],
           [1., 0.]])
    """
    xp = array_api_compat.array_namespace(labels)
    if labels.ndim != 1 or not xp.isdtype(labels.dtype, "integral"):
        raise TypeError(f"labels: expected a 1-D integer array, got {labels.dtype} with {labels.ndim} dimensions")
    if bool(xp.any((labels < 0) | (labels >= n_classes))):  # take() would wrap -1 round to the last class
        got = f"{int(xp.min(labels))}..{int(xp.max(labels))}"
        raise ValueError(f"labels: expected integers in [0, {n_classes}), got {got}")
    return xp.take(xp.eye(n_classes, dtype=dtype), labels, axis=1)
