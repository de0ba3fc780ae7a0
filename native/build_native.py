"""cffi build script: compiles native/bridge.c and native/trace.c into ``nnkit.backends._native`` (API mode).

Run by setuptools at install time (``setup.py`` names it in ``cffi_modules``); after a change to
the C, re-run ``pip install -e .`` — an editable install does not rebuild by itself.
"""

from pathlib import Path

from cffi import FFI

HERE = Path(__file__).resolve().parent

ffibuilder = FFI()
ffibuilder.cdef((HERE / "bridge.h").read_text() + (HERE / "trace.h").read_text())
ffibuilder.set_source(
    "nnkit.backends._native",
    '#include <stdint.h>\n#include "bridge.h"\n#include "trace.h"',
    sources=["native/bridge.c", "native/trace.c"],  # setuptools builds from the project root; it wants relative paths
    include_dirs=["native"],
    libraries=["dl"],
    extra_compile_args=["-O2", "-std=c11"],
)

if __name__ == "__main__":
    ffibuilder.compile(verbose=True)
