"""cffi build script: compiles native/bridge.c, trace.c, peak.c, bandwidth.c, gemm.c and microkernel.c into ``nnkit.backends._native`` (API mode).

Run by setuptools at install time (``setup.py`` names it in ``cffi_modules``); after a change to
the C, re-run ``pip install -e .`` — an editable install does not rebuild by itself.
"""

from pathlib import Path

from cffi import FFI

HERE = Path(__file__).resolve().parent

ffibuilder = FFI()
HEADERS = ["bridge.h", "trace.h", "peak.h", "bandwidth.h", "gemm.h"]
INTERNAL = ["microkernel.c"]  # C with no declarations for Python
ffibuilder.cdef("".join((HERE / h).read_text() for h in HEADERS))
ffibuilder.set_source(
    "nnkit.backends._native",
    '#include <stdint.h>\n' + "".join(f'#include "{h}"\n' for h in HEADERS),
    sources=[f"native/{h[:-2]}.c" for h in HEADERS] + [f"native/{c}" for c in INTERNAL],  # setuptools builds from the project root; it wants relative paths
    include_dirs=["native"],
    libraries=["dl", "pthread"],
    extra_compile_args=["-O2", "-std=c11"],
)

if __name__ == "__main__":
    ffibuilder.compile(verbose=True)
