# Only what pyproject.toml cannot say: the cffi module compiled at install time.
from setuptools import setup

setup(cffi_modules=["native/build_native.py:ffibuilder"])
