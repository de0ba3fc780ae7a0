"""What every test shares: the rule for optional parts, and fixtures that write data files.

Optional parts (Debian's BLAS libraries, mkl, gdb, scipy, dask…): a test that needs one skips,
saying which and why — and a test that asks the bridge for a library this machine lacks
(:class:`~nnkit.backends.libraries.LibraryNotFound`, however deep in the call) skips too. With
``NNKIT_REQUIRE_ALL_BLAS`` set (CI, where ``.ci/run`` installs everything) every skip is a failure —
except a skip for what no install step can provide (root, a mount, a suite that is on no package
index): those skip through :func:`skip_not_installable`.

Data files: each 8×8 digit becomes a 28×28 image (every pixel a 3×3 block, a 2-pixel border) with
pixels scaled from 0..16 to 0..255, so a network trained on these files learns what it learns on
the digits. File fixtures write into the test's own ``tmp_path`` and return the path to load.
"""

from __future__ import annotations

import functools
import gzip
import os
import struct
from pathlib import Path

import numpy as np
import pytest
from hypothesis import settings

from nnkit import data, tutorials
from nnkit.backends.libraries import LibraryNotFound, NumpyOpenBLAS
from tutorial_runs import CalmRuns, PlainRuns

# The generators draw the same cases on every run (CI runs what its author ran); NNKIT_HYPOTHESIS_EXPLORE=1 draws
# fresh ones each run, to hunt for new counterexamples (then add each found as an @example).
settings.register_profile("fixed", derandomize=True, database=None)
settings.register_profile("explore")
settings.load_profile("explore" if os.environ.get("NNKIT_HYPOTHESIS_EXPLORE") else "fixed")

# NNKIT_TEST_FIT_WIDTH=N: tutorials.fit wraps at N columns for the session instead of 118, so a test that reads a phrase
# across a line break where this run's numbers happened not to put one fails here, not in some later run (CI stop 28).
tutorials.WIDTH = int(os.environ.get("NNKIT_TEST_FIT_WIDTH") or tutorials.WIDTH)

REQUIRE_ALL = "NNKIT_REQUIRE_ALL_BLAS"
NOT_INSTALLABLE = "no install step provides this: "


def skip_not_installable(reason: str, module: bool = False) -> None:
    """Skip for what no install step can provide (a privilege, a suite on no package index): a skip
    even under ``NNKIT_REQUIRE_ALL_BLAS``."""
    pytest.skip(NOT_INSTALLABLE + reason, allow_module_level=module)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    """A missing optional library is a skip; under ``NNKIT_REQUIRE_ALL_BLAS`` a skip is a failure."""
    report = (yield).get_result()
    missing = _missing_library(call.excinfo)
    if missing and report.failed:
        _, line, _ = item.location
        report.outcome = "skipped"
        report.longrepr = (str(item.path), line + 1, f"Skipped: needs the BLAS library {missing!r}, not on this "
                                                     "machine (.ci/run installs it)")
    reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
    if report.skipped and not hasattr(report, "wasxfail") and os.environ.get(REQUIRE_ALL) and NOT_INSTALLABLE not in reason:
        report.outcome = "failed"
        report.longrepr = f"{REQUIRE_ALL} is set (every optional part installed), so this skip is a failure: {reason}"


def _missing_library(excinfo: pytest.ExceptionInfo | None) -> str | None:
    """The optional library whose absence raised ``excinfo`` (anywhere in its chain), or None."""
    error, seen = excinfo.value if excinfo else None, set()
    while error is not None and id(error) not in seen:
        if isinstance(error, LibraryNotFound) and error.name != NumpyOpenBLAS.flavour:
            return error.name
        seen.add(id(error))
        error = error.__cause__ or error.__context__
    return None


def _upsample_to_mnist(images: np.ndarray) -> np.ndarray:
    """``(n, 64)`` pixels 0..16 → ``(n, 784)`` pixels 0..255, each digit centred in 28×28."""
    blocks = np.kron(images.reshape(-1, 8, 8), np.ones((1, 3, 3), dtype=np.uint8))  # (n, 24, 24)
    padded = np.pad(blocks, ((0, 0), (2, 2), (2, 2)))
    scaled = (padded.astype(np.uint16) * 255 + 8) // 16  # rounded; 16 → 255
    return scaled.astype(np.uint8).reshape(len(images), 28 * 28)


@functools.cache  # formatting 1797 × 785 cells takes a noticeable fraction of a second
def _kaggle_csv_bytes(ds: data.Dataset, with_labels: bool) -> bytes:
    """Kaggle's layout: header ``label,pixel0,…`` (without ``label`` for test.csv), one row per image."""
    names = ["label"] * with_labels + [f"pixel{i}" for i in range(ds.images.shape[1])]
    table = np.column_stack([ds.labels, ds.images]) if with_labels else ds.images
    rows = (",".join(map(str, row)) for row in table.tolist())
    return ("\n".join([",".join(names), *rows]) + "\n").encode()


def _idx_bytes(array: np.ndarray) -> bytes:
    """IDX: magic 00 00 08 ndim (unsigned bytes), one big-endian uint32 per dimension, the data."""
    header = struct.pack(f">4B{array.ndim}I", 0, 0, 0x08, array.ndim, *array.shape)
    return header + array.astype(np.uint8).tobytes()


def _write(path: Path, payload: bytes) -> Path:
    """Write ``payload`` to ``path``, gzipped when the name ends in ``.gz``."""
    path.write_bytes(gzip.compress(payload, compresslevel=1, mtime=0) if path.suffix == ".gz" else payload)
    return path


@pytest.fixture(scope="session")
def digits28() -> data.Dataset:
    """The bundled digits as MNIST-sized images: ``(1797, 784)`` uint8 0..255, labels 0..9."""
    digits = data.load_digits()
    return data.Dataset(_upsample_to_mnist(digits.images), digits.labels, 255, (28, 28), "digits as 28×28")


@pytest.fixture
def kaggle_csv(tmp_path: Path, digits28: data.Dataset) -> Path:
    """``train.csv`` in Kaggle's layout: ``label,pixel0,…,pixel783``, the 1797 upsampled digits."""
    return _write(tmp_path / "train.csv", _kaggle_csv_bytes(digits28, with_labels=True))


@pytest.fixture
def kaggle_csv_gz(tmp_path: Path, digits28: data.Dataset) -> Path:
    """``train.csv.gz``: :func:`kaggle_csv`, gzipped."""
    return _write(tmp_path / "train.csv.gz", _kaggle_csv_bytes(digits28, with_labels=True))


@pytest.fixture
def kaggle_test_csv(tmp_path: Path, digits28: data.Dataset) -> Path:
    """``test.csv`` in Kaggle's layout: ``pixel0,…,pixel783``, no labels."""
    return _write(tmp_path / "test.csv", _kaggle_csv_bytes(digits28, with_labels=False))


def _write_idx_pair(directory: Path, images_name: str, labels_name: str, ds: data.Dataset) -> Path:
    _write(directory / labels_name, _idx_bytes(ds.labels))
    return _write(directory / images_name, _idx_bytes(ds.images.reshape(-1, *ds.image_shape)))


@pytest.fixture
def mnist_idx(tmp_path: Path, digits28: data.Dataset) -> Path:
    """``train-images-idx3-ubyte.gz``, with ``train-labels-idx1-ubyte.gz`` beside it."""
    return _write_idx_pair(tmp_path, "train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz", digits28)


@pytest.fixture
def mnist_idx_raw(tmp_path: Path, digits28: data.Dataset) -> Path:
    """``t10k-images.idx3-ubyte``, with ``t10k-labels.idx1-ubyte`` beside it, not compressed."""
    return _write_idx_pair(tmp_path, "t10k-images.idx3-ubyte", "t10k-labels.idx1-ubyte", digits28)


@pytest.fixture(scope="session")
def plain_run(tmp_path_factory) -> PlainRuns:
    """Each tutorial's one plain quick run for the whole session (``tutorial_runs.PlainRuns``)."""
    return PlainRuns(tmp_path_factory.mktemp("plain"))


@pytest.fixture(scope="session")
def calm_run(tmp_path_factory) -> CalmRuns:
    """Each tutorial's one quick run on a machine made to look calm, for the whole session (``tutorial_runs.CalmRuns``)."""
    return CalmRuns(tmp_path_factory.mktemp("calm"))
