# Only what pyproject.toml cannot say: the C compiled at install time — the cffi module
# (native/build_native.py) and the bridge's fast path, which reads numpy's array headers directly.
import numpy
from setuptools import Extension, setup

setup(
    cffi_modules=["native/build_native.py:ffibuilder"],
    ext_modules=[Extension("nnkit.backends._fastpath", ["native/fastpath.c"], include_dirs=[numpy.get_include()],
                           extra_compile_args=["-O2"])],
)
