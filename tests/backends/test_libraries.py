"""nnkit.backends.libraries: every BLAS on the machine, its integer width probed."""

import os
import subprocess
import sys

import pytest

from nnkit.backends import libraries

FOUND = libraries.find_libraries()
NAMES = [lib.name for lib in FOUND]
# What .ci/run installs; on a machine without them these tests say what is missing.
EXPECTED = {"numpy-openblas": 64, "openblas-pthread": 32, "reference": 32, "blis-pthread": 32, "mkl": 32}


def test_numpy_own_library_comes_first_and_is_the_one_numpy_loaded():
    from threadpoolctl import threadpool_info

    assert NAMES[0] == "numpy-openblas"
    numpy_paths = {os.path.realpath(i["filepath"]) for i in threadpool_info() if i["prefix"] == "libscipy_openblas"}
    assert FOUND[0].path in numpy_paths


@pytest.mark.parametrize("name, width", EXPECTED.items())
def test_every_expected_library_is_found_with_its_probed_width(name, width):
    if name not in NAMES:  # a skip; under NNKIT_REQUIRE_ALL_BLAS a failure (tests/conftest.py)
        pytest.skip(f"{name} not found (found {NAMES}); .ci/run installs it (apt: libopenblas0-pthread libblas3 libblis4-pthread; pip: mkl)")
    assert libraries.get_library(name).int_width == width


def test_only_numpys_and_nnkits_own_libraries_are_found_when_the_others_are_hidden():
    """NNKIT_ONLY_NUMPY_BLAS: what a machine without any system BLAS sees (CI runs the bridge tests so)."""
    code = ("from nnkit.backends import libraries\n"
            "print([lib.name for lib in libraries.find_libraries()])\n"
            "try:\n    libraries.get_library('reference')\n"
            "except libraries.LibraryNotFound as error:\n    print(error.name, '|', error)")
    env = dict(os.environ, NNKIT_ONLY_NUMPY_BLAS="1")
    found, missing = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True).stdout.splitlines()
    assert found == "['numpy-openblas', 'nnkit']"  # nnkit's own dgemm comes with nnkit
    assert missing == ("reference | library 'reference' not found; found: numpy-openblas, nnkit (NNKIT_ONLY_NUMPY_BLAS is "
                       "set: only numpy's own and nnkit's are looked for)")


@pytest.mark.parametrize("library", FOUND, ids=NAMES)
def test_info_is_complete_and_json_friendly(library):
    import json

    info = library.info()
    assert {"name", "path", "version", "int_width", "symbols", "num_threads", "threads_how"} <= set(info)
    assert os.path.exists(info["path"]) and info["version"]
    assert info["num_threads"] >= 1
    assert "cblas_dgemm" in info["symbols"] or "dgemm" in info["symbols"]
    json.dumps(info)


def test_the_probe_reads_the_width_from_the_library_not_its_name(tmp_path):
    """MKL's single dynamic library switches to 64-bit integers when told to; the probe sees it."""
    if "mkl" not in NAMES:
        pytest.skip("mkl not found (the mkl wheel, in the test extra; .ci/run installs it)")
    code = "from nnkit.backends import libraries; print(libraries.get_library('mkl').int_width)"
    env = dict(os.environ, MKL_INTERFACE_LAYER="ILP64")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True).stdout
    assert out.strip() == "64"


def test_unknown_library_lists_what_was_found():
    with pytest.raises(libraries.LibraryError, match="'atlas' not found; found: numpy-openblas"):
        libraries.get_library("atlas")


def test_a_file_that_is_not_a_library_is_refused(tmp_path):
    fake = tmp_path / "libfake.so"
    fake.write_bytes(b"not an ELF file")
    with pytest.raises(libraries.LibraryError, match="cannot be opened"):
        libraries.DebianOpenBLAS(str(fake))


def test_a_library_without_dgemm_is_refused():
    libm = "/lib/x86_64-linux-gnu/libm.so.6"
    if not os.path.exists(libm):
        pytest.skip("no libm at the Debian path")
    with pytest.raises(libraries.LibraryError, match="has no dgemm"):
        libraries.DebianOpenBLAS(libm)


def test_a_thread_limit_entered_after_importing_the_bridge_covers_every_library():
    """threadpoolctl limits the libraries open when the block starts: the bridge opens them all on import,
    so none escapes a limit (tutorial 6 once timed nnkit's dgemm "on 1 thread" with 2 cores busy)."""
    code = ("import os\nfrom threadpoolctl import threadpool_info, threadpool_limits\n"
            "import nnkit.backends.dgemm\nfrom nnkit.backends.libraries import find_libraries\n"
            "with threadpool_limits(limits=1):\n"
            "    counts = {os.path.realpath(i['filepath']): i['num_threads'] for i in threadpool_info()}\n"
            "    for lib in find_libraries():\n"
            "        print(lib.name, counts.get(os.path.realpath(lib.path), 'no threads'))\n")
    lines = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.splitlines()
    threads = dict(line.split(" ", 1) for line in lines)
    assert threads.keys() == set(NAMES)
    assert {name: count for name, count in threads.items() if count != "1"} == {
        name: "no threads" for name in NAMES if name == "reference"}  # netlib's dgemm has no threads to limit
