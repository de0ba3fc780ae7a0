"""nnkit.backends.layout: an array's memory read off its header, for every kind of view."""

import numpy as np
import pytest

from nnkit.backends.layout import alignment, describe

BASE = np.arange(48.0).reshape(6, 8)


@pytest.mark.parametrize(
    "view, strides, c, f, offset",
    [
        (BASE, (64, 8), True, False, 0),
        (BASE.T, (8, 64), False, True, 0),
        (BASE[1:3, 2:5], (64, 8), False, False, 64 + 16),
        (BASE[:, ::2], (64, 16), False, False, 0),
        (BASE[::-1], (-64, 8), False, False, 5 * 64),
        (np.broadcast_to(BASE[0], (3, 8)), (0, 8), False, False, 0),
        (np.asfortranarray(BASE), (8, 48), False, True, 0),
    ],
    ids=["C", "transposed", "sub-block", "column-strided", "reversed", "broadcast", "F"],
)
def test_strides_contiguity_and_offset(view, strides, c, f, offset):
    d = describe(view)
    assert (d.strides, d.c_contiguous, d.f_contiguous, d.offset) == (strides, c, f, offset)
    assert d.element_strides == tuple(s // 8 for s in strides)
    assert d.address == view.__array_interface__["data"][0]
    assert d.nbytes == view.size * 8


def test_a_view_of_a_view_is_measured_from_the_owning_buffer():
    d = describe(BASE[1:, 1:][1:])
    assert not d.owns_data and d.offset == 2 * 64 + 8
    assert describe(np.zeros(3)).owns_data


def test_misaligned_and_byte_swapped_views_are_visible():
    raw = np.zeros(80, dtype=np.uint8)
    odd = raw[1:65].view(np.float64)
    assert raw.__array_interface__["data"][0] % 8 == 0
    assert describe(odd).alignment == 1 and not odd.flags.aligned
    swapped = describe(BASE.astype(">f8"))
    assert not swapped.native_byte_order and swapped.dtype == ">f8"


@pytest.mark.parametrize("address, expected", [(0x1000, 64), (0x1008, 8), (0x1001, 1), (0x1030, 16), (0, 64)])
def test_alignment(address, expected):
    assert alignment(address) == expected
