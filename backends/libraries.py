"""Find the BLAS libraries on this machine: one small class per flavour behind one interface.

In the style of threadpoolctl: :class:`BlasLibrary` documents the contract, each flavour is
mostly data (where its files live, what its symbols are called), and :data:`FLAVOURS` is a plain
list. Version and thread count come from threadpoolctl wherever it reports them; the integer
width never does, so it is *probed* by calling the library (see ``native/bridge.c``).

>>> [lib.name for lib in find_libraries()][:1]
['numpy-openblas']
"""

from __future__ import annotations

import functools
import glob
import os
import sys
import sysconfig
from typing import ClassVar

from nnkit.backends._native import ffi, lib as native

ROLES = ("cblas_dgemm", "dgemm", "cblas_isamax", "isamax")
"""The routines the bridge needs: CBLAS and Fortran dgemm, and isamax for the width probe."""


ONLY_NUMPY_BLAS = "NNKIT_ONLY_NUMPY_BLAS"
"""Environment variable: when set (non-empty), discovery finds numpy's own OpenBLAS and nnkit's own
dgemm and nothing else — the machine as a fresh install sees it, with no system BLAS (CI runs the
bridge tests so)."""


class LibraryError(OSError):
    """A BLAS library could not be opened or lacks what the bridge needs."""


class LibraryNotFound(LibraryError):
    """No library of that name on this machine; ``name`` is the one asked for."""

    def __init__(self, name: str, message: str):
        super().__init__(message)
        self.name = name


class BlasLibrary:
    """A BLAS library, opened by path, with the addresses of the routines the bridge calls.

    A flavour (subclass) sets:

    ``flavour``        short name (``"openblas"``)
    ``patterns``       glob patterns of files to try, ``{multiarch}``/``{prefix}`` filled in
    ``symbol_names``   role → candidate symbol names, tried in order (builds differ)
    ``threads_how``    how a user sets the thread count

    and may override :meth:`_paths` (where to look) and :meth:`version` / :meth:`num_threads`
    (when threadpoolctl cannot report them). An instance has ``name``, ``path``, ``symbols``
    (role → the name found), ``int_width`` (32 or 64, probed) and :meth:`info`.
    """

    flavour: ClassVar[str]
    patterns: ClassVar[tuple[str, ...]] = ()
    symbol_names: ClassVar[dict[str, tuple[str, ...]]] = {role: (role if role.startswith("cblas") else role + "_",) for role in ROLES}
    threads_how: ClassVar[str] = ""

    def __init__(self, path: str):
        self.path = os.path.realpath(path)
        handle = native.nk_open(path.encode())
        if handle == ffi.NULL:
            raise LibraryError(f"{path}: cannot be opened: {ffi.string(native.nk_open_error()).decode()}")
        self._handle = handle
        self.symbols = {role: name for role in ROLES if (name := self._first_symbol(self.symbol_names[role]))}
        self._addresses = {role: native.nk_symbol(handle, name.encode()) for role, name in self.symbols.items()}
        if "dgemm" not in self.symbols and "cblas_dgemm" not in self.symbols:
            raise LibraryError(f"{path}: has no dgemm (looked for {self.symbol_names['dgemm'] + self.symbol_names['cblas_dgemm']})")
        self.int_width = self._probe_int_width()
        self.name = self._name()

    def _first_symbol(self, names: tuple[str, ...]) -> str | None:
        return next((n for n in names if native.nk_symbol(self._handle, n.encode()) != ffi.NULL), None)

    def address(self, role: str):
        """The address of the routine playing ``role`` (a ``void *``); KeyError if absent."""
        return self._addresses[role]

    def _probe_int_width(self) -> int:
        if "isamax" in self.symbols:
            width = native.nk_int_width_fortran(self.address("isamax"))
        elif "cblas_isamax" in self.symbols:
            width = native.nk_int_width_cblas(self.address("cblas_isamax"))
        else:
            raise LibraryError(f"{self.path}: has no isamax to probe its integer width with")
        if width not in (32, 64):
            raise LibraryError(f"{self.path}: integer-width probe gave a nonsense answer")
        return width

    def _name(self) -> str:
        return self.flavour

    @classmethod
    def _paths(cls) -> list[str]:
        fill = {"multiarch": sysconfig.get_config_var("MULTIARCH") or "*", "prefix": sys.prefix}
        found = [p for pattern in cls.patterns for p in sorted(glob.glob(pattern.format(**fill)))]
        return list(dict.fromkeys(os.path.realpath(p) for p in found))

    @classmethod
    def find(cls) -> list[BlasLibrary]:
        """Every library of this flavour on the machine that opens and has dgemm."""
        libraries = []
        for path in cls._paths():
            try:
                libraries.append(cls(path))
            except LibraryError:
                continue
        return libraries

    # --- what threadpoolctl knows ------------------------------------------------------------
    def _threadpool_controller(self):
        from threadpoolctl import ThreadpoolController

        return next((c for c in ThreadpoolController().lib_controllers if os.path.realpath(c.filepath) == self.path), None)

    def version(self, controller=None) -> str | None:
        controller = controller or self._threadpool_controller()
        return controller.version if controller else None

    def num_threads(self, controller=None) -> int | None:
        controller = controller or self._threadpool_controller()
        return controller.num_threads if controller else None

    def info(self) -> dict:
        """JSON-friendly description: name, path, version, int_width, symbols, num_threads, …"""
        controller = self._threadpool_controller()
        return {
            "name": self.name,
            "path": self.path,
            "version": self.version(controller),
            "int_width": self.int_width,
            "int_width_source": "probed: isamax with n = 0xffffffff00000003",
            "symbols": dict(self.symbols),
            "num_threads": self.num_threads(controller),
            "threads_how": self.threads_how,
            "architecture": getattr(controller, "architecture", None),
        }


class NumpyOpenBLAS(BlasLibrary):
    """The OpenBLAS inside numpy's wheel (``numpy.libs/libscipy_openblas64_*.so``): every symbol
    carries a ``scipy_`` prefix and a ``64_`` suffix so it cannot clash with another BLAS."""

    flavour = "numpy-openblas"
    symbol_names = {
        "cblas_dgemm": ("scipy_cblas_dgemm64_", "cblas_dgemm64_", "scipy_cblas_dgemm", "cblas_dgemm"),
        "dgemm": ("scipy_dgemm_64_", "dgemm_64_", "scipy_dgemm_", "dgemm_"),
        "cblas_isamax": ("scipy_cblas_isamax64_", "cblas_isamax64_", "scipy_cblas_isamax", "cblas_isamax"),
        "isamax": ("scipy_isamax_64_", "isamax_64_", "scipy_isamax_", "isamax_"),
    }
    threads_how = "OPENBLAS_NUM_THREADS before start, or threadpoolctl.threadpool_limits(n)"

    @classmethod
    def _paths(cls) -> list[str]:
        """The library numpy itself loaded, as threadpoolctl sees it in this process."""
        import numpy  # noqa: F401  (loads numpy's BLAS)
        from threadpoolctl import threadpool_info

        numpy_dir = os.path.dirname(os.path.dirname(os.path.realpath(numpy.__file__)))
        return [i["filepath"] for i in threadpool_info()
                if i["user_api"] == "blas" and os.path.realpath(i["filepath"]).startswith(numpy_dir + os.sep + "numpy")]


class DebianOpenBLAS(BlasLibrary):
    """Debian's OpenBLAS packages (``libopenblas0-pthread`` / ``-openmp`` / ``-serial``)."""

    flavour = "openblas"
    patterns = ("/usr/lib/{multiarch}/openblas-*/libopenblas.so.0",)
    threads_how = "OPENBLAS_NUM_THREADS before start, or threadpoolctl.threadpool_limits(n)"

    def _name(self) -> str:  # openblas-pthread, openblas-openmp, openblas-serial
        return os.path.basename(os.path.dirname(self.path))


class ReferenceBLAS(BlasLibrary):
    """Netlib's reference BLAS (Debian ``libblas3``): plain loops, one thread. It *exits the
    process* on an invalid argument (its xerbla), so the bridge must never pass one."""

    flavour = "reference"
    patterns = ("/usr/lib/{multiarch}/blas/libblas.so.3",)
    threads_how = "single-threaded: nothing to set"

    def version(self, controller=None) -> str | None:
        name = os.path.basename(self.path)  # libblas.so.3.11.0
        return name.split(".so.", 1)[1] if ".so." in name else None

    def num_threads(self, controller=None) -> int:
        return 1


class BLIS(BlasLibrary):
    """BLIS (Debian ``libblis4-pthread`` / ``-openmp`` / ``-serial``), with its BLAS/CBLAS layer."""

    flavour = "blis"
    patterns = ("/usr/lib/{multiarch}/blis-*/libblis.so.4",)
    threads_how = "BLIS_NUM_THREADS before start, or threadpoolctl.threadpool_limits(n)"

    def _name(self) -> str:  # blis-pthread, …
        return os.path.basename(os.path.dirname(self.path))


class MKL(BlasLibrary):
    """Intel oneMKL's single dynamic library (PyPI's ``mkl`` wheel, or Debian's): LP64 unless
    ``MKL_INTERFACE_LAYER=ILP64``; ``MKL_VERBOSE=1`` makes it print every call it receives."""

    flavour = "mkl"
    patterns = ("{prefix}/lib/libmkl_rt.so.*", "/usr/lib/{multiarch}/libmkl_rt.so")
    threads_how = "MKL_NUM_THREADS before start, or threadpoolctl.threadpool_limits(n)"


class NnkitBLAS(BlasLibrary):
    """nnkit's own dgemm (``native/gemm.c``, BLIS-style, see :mod:`nnkit.backends.own_dgemm`),
    inside nnkit's compiled module: dgemm (CBLAS and Fortran) and isamax, 64-bit integers."""

    flavour = "nnkit"
    symbol_names = {"cblas_dgemm": ("nk_gemm_cblas_dgemm",), "dgemm": ("nk_gemm_dgemm_",), "cblas_isamax": (),
                    "isamax": ("nk_gemm_isamax_",)}
    threads_how = "threadpoolctl.threadpool_limits(n), or nnkit.backends.own_dgemm.configured(threads=n)"

    @classmethod
    def _paths(cls) -> list[str]:
        from nnkit.backends import _native, own_dgemm  # noqa: F401  (registers its threadpoolctl controller)

        return [_native.__file__]


FLAVOURS: list[type[BlasLibrary]] = [NumpyOpenBLAS, DebianOpenBLAS, ReferenceBLAS, BLIS, MKL, NnkitBLAS]
"""The flavours nnkit knows, numpy's own first. Add a subclass here to teach it another."""


@functools.cache
def find_libraries() -> tuple[BlasLibrary, ...]:
    """Every BLAS found on this machine, numpy's own first (opened once per process); only
    numpy's own and nnkit's when the environment variable ``NNKIT_ONLY_NUMPY_BLAS`` is set."""
    flavours = [NumpyOpenBLAS, NnkitBLAS] if os.environ.get(ONLY_NUMPY_BLAS) else FLAVOURS
    return tuple(library for flavour in flavours for library in flavour.find())


def get_library(name: str | None = None) -> BlasLibrary:
    """The library called ``name`` (as in ``nnkit info``); numpy's own when ``name`` is None."""
    libraries = find_libraries()
    wanted = NumpyOpenBLAS.flavour if name is None else name
    for library in libraries:
        if library.name == wanted:
            return library
    found = ", ".join(lib.name for lib in libraries) or "none"
    if os.environ.get(ONLY_NUMPY_BLAS):
        found += f" ({ONLY_NUMPY_BLAS} is set: only numpy's own and nnkit's are looked for)"
    if name is None:
        raise LibraryNotFound(wanted, f"numpy's own BLAS was not found (a numpy without its bundled OpenBLAS?); found: {found}")
    raise LibraryNotFound(wanted, f"library {name!r} not found; found: {found}")
