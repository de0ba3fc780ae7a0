"""peak_bytes measures the buffers a call allocates: a view none, a copy its size, a freed temporary too."""

import numpy as np

from nnkit.bench.memory import peak_bytes


def test_a_view_allocates_no_buffer_and_a_copy_allocates_its_size():
    a = np.ones((500, 400))
    assert peak_bytes(lambda: a.T) < 1_000
    assert a.nbytes <= peak_bytes(lambda: np.ascontiguousarray(a.T)) < 1.1 * a.nbytes


def test_a_temporary_freed_inside_the_call_still_counts():
    a = np.ones(100_000)
    assert peak_bytes(lambda: float((a * 2).sum())) >= a.nbytes

