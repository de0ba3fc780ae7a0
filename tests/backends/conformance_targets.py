"""The namespaces the array API's conformance suite runs on, by name, for ARRAY_API_TESTS_MODULE.

``ARRAY_API_TESTS_MODULE=conformance_targets.instrumented_numpy`` (with this folder on the path): each
wrapper beside the namespace it wraps, so the two can be run with the same seed and compared.
"""

import array_api_compat.numpy as numpy
import array_api_strict as strict

from nnkit.backends import namespace
from nnkit.backends.instrumented import instrumented

instrumented_numpy = instrumented(numpy)
instrumented_strict = instrumented(strict)
blas = namespace("blas")

WRAPS = {"instrumented_numpy": "numpy", "instrumented_strict": "strict", "blas": "numpy"}
"""Wrapper → the namespace it wraps."""
