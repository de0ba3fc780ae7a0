"""Save and load a trained network as one ``.npz`` file, atomically and without pickle.

The file is a plain uncompressed ``.npz``: one entry per parameter (``W1``, ``b1``, ...,
``WL``, ``bL``) and a ``meta`` entry, a 0-d unicode array holding JSON text. Anything that reads
``.npz`` can open it with ``np.load(path, allow_pickle=False)``.

:func:`save` refuses parameters that disagree with ``meta`` (names, shapes, dtype, non-finite
values) and replaces the target in one ``os.replace`` (:func:`nnkit.files.atomic_write`), so a
crash or an error leaves the previous file whole. :func:`load` reads only a regular file, checks
each entry's ``.npy`` header before numpy allocates anything (no more data than the file holds),
checks the same things as :func:`save`, and turns every way a file can be damaged or foreign into
a one-line :class:`CheckpointError` that names the file.
"""

from __future__ import annotations

import contextlib
import json
import lzma
import math
import os
import zipfile
import zlib
from collections.abc import Callable, Collection, Iterator
from typing import Any

import numpy as np

from nnkit import files, memory
from nnkit.files import quoted

__all__ = ["FORMAT", "VERSION", "CheckpointError", "save", "load"]

FORMAT = "nnkit-checkpoint"
VERSION = 1

StrPath = str | os.PathLike[str]
Params = dict[str, np.ndarray]

_DTYPES = ("float32", "float64")
# np.load only treats a file as .npz when it starts with a zip local header (or the
# end-of-archive record of an empty zip); anything else it would try to unpickle.
_ZIP_SIGNATURES = (b"PK\x03\x04", b"PK\x05\x06")
# What zipfile and numpy raise on damaged bytes (flipping every byte of a checkpoint with every
# mask hit most of these): BadZipFile (bad CRC, truncated or inconsistent headers), ValueError
# (bad .npy header, short data, object arrays without pickle), EOFError, OSError (a seek before
# the start, bz2), NotImplementedError and zlib/lzma errors (a flipped compression method),
# RuntimeError (a flipped "encrypted" flag), KeyError (a missing member).
_READ_ERRORS = (
    zipfile.BadZipFile,
    ValueError,
    EOFError,
    OSError,
    KeyError,
    zlib.error,
    lzma.LZMAError,
    NotImplementedError,
    RuntimeError,
)


class CheckpointError(ValueError):
    """A checkpoint file, or what is about to be saved as one, is not a valid nnkit checkpoint."""


def save(path: StrPath, params: Params, meta: dict[str, Any]) -> None:
    """Write ``params`` and ``meta`` to ``path`` atomically, as a pickle-free ``.npz``.

    ``meta`` must hold ``layer_sizes``, ``dtype``, ``normalisation`` and ``classes``; ``format``
    and ``version`` are set here. The file goes to exactly ``path`` (no ``.npz`` is appended).
    Invalid input raises :class:`CheckpointError` before anything is written; an ``OSError``
    while writing propagates unchanged. Either way an existing file at ``path`` is untouched.

    Examples
    --------
    >>> import tempfile, numpy as np
    >>> params = {"W1": np.ones((2, 3)), "b1": np.zeros((2, 1))}
    >>> meta = {"layer_sizes": [3, 2], "dtype": "float64", "normalisation": {}, "classes": [0, 1]}
    >>> with tempfile.TemporaryDirectory() as d:
    ...     save(f"{d}/model.npz", params, meta)
    ...     with np.load(f"{d}/model.npz", allow_pickle=False) as npz:
    ...         sorted(npz.files)
    ['W1', 'b1', 'meta']
    """
    target = os.fspath(path)
    text = _dump_meta(target, {**meta, "format": FORMAT, "version": VERSION})
    stored = json.loads(text)  # validate exactly what load() will see (tuples become lists, ...)
    _check_meta(target, stored)
    arrays = {name: np.asarray(value) for name, value in params.items()}
    _check_names(target, arrays, stored["layer_sizes"])
    _check_arrays(target, arrays, stored)
    entries = {**arrays, "meta": np.array(text)}
    files.atomic_write(target, lambda f: np.savez(f, **entries))  # a file object: np.savez appends no ".npz"


def load(path: StrPath, *, expect: dict[str, Any] | None = None) -> tuple[Params, dict[str, Any]]:
    """Read the checkpoint at ``path``; return ``(params, meta)``.

    Every entry of ``expect`` must equal the same key of ``meta`` (after a JSON round trip, so
    tuples compare equal to lists). Arrays come back in native byte order. Any problem raises
    :class:`CheckpointError`.

    Examples
    --------
    >>> import tempfile, numpy as np
    >>> params = {"W1": np.ones((2, 3)), "b1": np.zeros((2, 1))}
    >>> meta = {"layer_sizes": [3, 2], "dtype": "float64", "normalisation": {}, "classes": [0, 1]}
    >>> with tempfile.TemporaryDirectory() as d:
    ...     save(f"{d}/model.npz", params, meta)
    ...     loaded, info = load(f"{d}/model.npz", expect={"layer_sizes": (3, 2)})
    >>> info["format"], info["version"], loaded["W1"].shape
    ('nnkit-checkpoint', 1, (2, 3))
    """
    source = os.fspath(path)
    with _open_npz(source) as npz:
        if "meta" not in npz.files:
            found = ", ".join(npz.files) or "none"
            raise CheckpointError(
                f"{quoted(source)}: no 'meta' entry, not an nnkit checkpoint (entries: {found})"
            )
        meta = _parse_meta(source, _read_entry(source, npz, "meta"))
        _check_meta(source, meta)
        _check_names(source, [name for name in npz.files if name != "meta"], meta["layer_sizes"])
        params = {name: _read_entry(source, npz, name) for name in _param_names(meta["layer_sizes"])}
    _check_arrays(source, params, meta)
    _check_expect(source, meta, expect or {})
    return {name: array.astype(meta["dtype"], copy=False) for name, array in params.items()}, meta


def _param_names(sizes: list[int]) -> list[str]:
    """``["W1", "b1", ..., "WL", "bL"]`` for ``layer_sizes`` ``sizes``."""
    return [f"{kind}{l}" for l in range(1, len(sizes)) for kind in "Wb"]


def _param_shape(name: str, sizes: list[int]) -> tuple[int, int]:
    """Shape of parameter ``name``: ``W_l`` is ``(sizes[l], sizes[l-1])``, ``b_l`` is ``(sizes[l], 1)``."""
    l = int(name[1:])
    return (sizes[l], sizes[l - 1]) if name[0] == "W" else (sizes[l], 1)


# --- writing -------------------------------------------------------------------------------


def _dump_meta(path: str, meta: dict[str, Any]) -> str:
    """``meta`` as strict JSON text (no NaN or Infinity, which other JSON readers reject)."""
    try:
        return json.dumps(meta, allow_nan=False, default=_numpy_to_json)
    except (TypeError, ValueError) as e:
        raise CheckpointError(f"{quoted(path)}: meta is not JSON-serialisable: {e}") from e


def _numpy_to_json(value: Any) -> Any:
    """``json.dumps`` hook: numpy scalars and arrays (``np.int64(16)``, a shape array) become
    Python numbers and lists; anything else is still an error."""
    if isinstance(value, (np.generic, np.ndarray)):
        return value.tolist()
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


# --- reading -------------------------------------------------------------------------------


@contextlib.contextmanager
def _open_npz(path: str) -> Iterator[np.lib.npyio.NpzFile]:
    """Open ``path`` as ``.npz`` without pickle, or explain why it is not one. Only a regular
    file is opened (a FIFO would block, a device never end)."""
    try:
        f = files.open_regular(path)
    except OSError as e:
        raise CheckpointError(f"{quoted(path)}: cannot read: {e.strerror or e}") from e
    with f:
        head = f.read(4)
        if not head:
            raise CheckpointError(f"{quoted(path)}: file is empty")
        if head not in _ZIP_SIGNATURES:
            raise CheckpointError(
                f"{quoted(path)}: not a .npz archive (starts with {head!r}, expected a zip signature)"
            )
        f.seek(0)
        try:
            npz = np.load(f, allow_pickle=False)
        except _READ_ERRORS as e:
            raise CheckpointError(f"{quoted(path)}: damaged or truncated .npz archive: {_reason(e)}") from e
        with npz:
            yield npz


def _read_entry(path: str, npz: np.lib.npyio.NpzFile, name: str) -> np.ndarray:
    """Entry ``name`` of ``npz``, its ``.npy`` header checked first so that nothing is allocated
    for data the file does not hold; object arrays are refused by numpy before any unpickling."""
    try:
        _check_header(npz, name)
        return npz[name]
    except _READ_ERRORS as e:
        raise CheckpointError(f"{quoted(path)}: cannot read entry {name!r}: {_reason(e)}") from e


# Stored or deflated entries only: deflate expands at most 1032-fold (zlib's technical details),
# so an entry cannot honestly declare more data than that; bzip2 and lzma have no such bound.
_DEFLATE_MAX_RATIO = 1032
_METHODS = {zipfile.ZIP_STORED: 1, zipfile.ZIP_DEFLATED: _DEFLATE_MAX_RATIO}
_NPY_HEADERS = {(1, 0): np.lib.format.read_array_header_1_0, (2, 0): np.lib.format.read_array_header_2_0}


def _check_header(npz: np.lib.npyio.NpzFile, name: str) -> None:
    """Refuse an entry whose ``.npy`` header declares more data than the entry can hold, or more
    memory than this machine has — before numpy allocates it."""
    if f"{name}.npy" not in npz.zip.namelist():
        raise ValueError("not a .npy member (no '.npy' in its name)")
    info = npz.zip.getinfo(f"{name}.npy")
    if info.compress_type not in _METHODS:
        raise ValueError(f"compression method {info.compress_type}; nnkit reads stored or deflated entries")
    archive = os.fstat(npz.zip.fp.fileno()).st_size
    if info.header_offset + info.compress_size > archive:
        raise ValueError(f"{info.compress_size:,} bytes claimed at offset {info.header_offset:,} of a {archive:,}-byte file")
    if info.file_size > info.compress_size * _METHODS[info.compress_type] + 64:
        raise ValueError(f"{info.file_size:,} bytes claimed from {info.compress_size:,} compressed, more than possible")
    with npz.zip.open(info) as f:
        version = np.lib.format.read_magic(f)
        if version not in _NPY_HEADERS:
            raise ValueError(f".npy format version {version}; nnkit reads 1.0 and 2.0")
        declared_shape, _, dtype = _NPY_HEADERS[version](f)
        room = info.file_size - f.tell()
    if any(n < 0 for n in declared_shape):
        raise ValueError(f"its header declares a negative size, shape {declared_shape}")
    declared = math.prod(declared_shape) * dtype.itemsize
    if declared > room:
        raise ValueError(f"its header declares {declared:,} bytes of data (shape {declared_shape}, {dtype}), "
                         f"but the entry holds {room:,}")
    memory.require(declared, f"its data (shape {declared_shape}, {dtype})")


def _reason(error: BaseException) -> str:
    """The message of ``error``, or its type when it has none (zipfile raises a bare EOFError)."""
    return str(error) or type(error).__name__


def _parse_meta(path: str, raw: np.ndarray) -> dict[str, Any]:
    """The JSON object in the 0-d unicode array ``raw``."""
    if raw.ndim != 0 or raw.dtype.kind != "U":
        raise CheckpointError(
            f"{quoted(path)}: meta entry is a {raw.dtype} array of shape {raw.shape}, expected a 0-d unicode string"
        )
    try:
        meta = json.loads(str(raw[()]))
    except json.JSONDecodeError as e:
        raise CheckpointError(f"{quoted(path)}: meta is not valid JSON ({e})") from e
    if not isinstance(meta, dict):
        raise CheckpointError(f"{quoted(path)}: meta is a JSON {type(meta).__name__}, expected a JSON object")
    return meta


# --- checks shared by save and load --------------------------------------------------------


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


# Required meta keys: the test each value must pass, and what was expected (for the message).
_REQUIRED: dict[str, tuple[Callable[[Any], bool], str]] = {
    "layer_sizes": (
        lambda v: isinstance(v, list) and len(v) >= 2 and all(_is_int(n) and n > 0 for n in v),
        "a list of at least 2 positive ints",
    ),
    "dtype": (lambda v: v in _DTYPES, " or ".join(map(repr, _DTYPES))),
    "normalisation": (lambda v: isinstance(v, dict), "a JSON object"),
    "classes": (lambda v: isinstance(v, list) and all(_is_int(c) for c in v), "a list of ints"),
}


def _check_meta(path: str, meta: dict[str, Any]) -> None:
    """Check the format tag, the version, and each required key against :data:`_REQUIRED`."""
    if meta.get("format") != FORMAT:
        raise CheckpointError(f"{quoted(path)}: format is {meta.get('format')!r}, expected {FORMAT!r}")
    version = meta.get("version")
    if _is_int(version) and version > VERSION:
        raise CheckpointError(
            f"{quoted(path)}: version {version} is newer than this nnkit reads ({VERSION}); upgrade nnkit"
        )
    if version != VERSION or not _is_int(version):
        raise CheckpointError(f"{quoted(path)}: unknown version {version!r}, expected {VERSION}")
    for key, (valid, wanted) in _REQUIRED.items():
        if key not in meta:
            raise CheckpointError(f"{quoted(path)}: meta has no {key!r}")
        if not valid(meta[key]):
            raise CheckpointError(f"{quoted(path)}: {key} is {meta[key]!r}, expected {wanted}")
    n_out = meta["layer_sizes"][-1]
    if len(meta["classes"]) != n_out:
        raise CheckpointError(f"{quoted(path)}: {len(meta['classes'])} classes for an output layer of {n_out} units")


def _check_names(path: str, names: Collection[str], sizes: list[int]) -> None:
    """The parameter names present must be exactly those ``layer_sizes`` calls for."""
    wanted = _param_names(sizes)
    missing = [name for name in wanted if name not in names]
    extra = sorted(set(names) - set(wanted))
    if missing:
        raise CheckpointError(f"{quoted(path)}: missing parameter {', '.join(missing)} for layer_sizes {sizes}")
    if extra:
        raise CheckpointError(f"{quoted(path)}: unexpected entries {', '.join(extra)} for layer_sizes {sizes}")


def _check_arrays(path: str, params: Params, meta: dict[str, Any]) -> None:
    """Every parameter must have the meta dtype (in either byte order, so that a file written on
    a big-endian machine still loads), the shape ``layer_sizes`` gives, and finite values."""
    dtype, sizes = np.dtype(meta["dtype"]), meta["layer_sizes"]
    for name, array in params.items():
        if array.dtype.newbyteorder("=") != dtype:
            raise CheckpointError(f"{quoted(path)}: {name} is {array.dtype}, expected {dtype} (meta dtype)")
        shape = _param_shape(name, sizes)
        if array.shape != shape:
            raise CheckpointError(
                f"{quoted(path)}: {name} has shape {array.shape}, expected {shape} from layer_sizes {sizes}"
            )
        bad = array.size - np.count_nonzero(np.isfinite(array))
        if bad:
            raise CheckpointError(f"{quoted(path)}: {name} has {bad} non-finite value(s) (nan or inf)")


def _check_expect(path: str, meta: dict[str, Any], expect: dict[str, Any]) -> None:
    """Each key of ``expect`` must be in ``meta`` with an equal value."""
    for key, wanted in json.loads(json.dumps(expect, default=_numpy_to_json)).items():
        if key not in meta:
            raise CheckpointError(f"{quoted(path)}: meta has no {key!r}, expected {wanted}")
        if meta[key] != wanted:
            raise CheckpointError(f"{quoted(path)}: {key} is {meta[key]}, expected {wanted}")
