"""Describe one array's memory: shape, dtype, strides, contiguity, offset, alignment, ownership.

>>> import numpy as np
>>> a = np.zeros((4, 6))
>>> d = describe(a[:, 1:3])
>>> d.strides, d.element_strides, d.c_contiguous, d.offset
((48, 8), (6, 1), False, 8)
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np


@dataclass(frozen=True)
class Layout:
    """Where an array's elements are: ``address + i·strides[0] + j·strides[1]`` (bytes)."""

    shape: tuple[int, ...]
    dtype: str
    itemsize: int
    strides: tuple[int, ...]  # bytes
    element_strides: tuple[float, ...]  # strides / itemsize (not whole when misaligned)
    c_contiguous: bool
    f_contiguous: bool
    writeable: bool
    native_byte_order: bool
    address: int  # of element [0, 0, …]
    offset: int  # bytes from the start of the buffer at the root of the view chain
    alignment: int  # largest power of two (≤ 64) dividing the address
    nbytes: int  # bytes of the elements themselves
    owns_data: bool  # False for a view: the buffer belongs to ``base`` (numpy links views to the owner)

    def to_dict(self) -> dict:
        return asdict(self)


def describe(a: np.ndarray) -> Layout:
    """The :class:`Layout` of ``a`` — read from its header, nothing copied."""
    address = a.__array_interface__["data"][0]
    root = a
    while isinstance(root.base, np.ndarray):
        root = root.base
    return Layout(
        shape=tuple(a.shape),
        dtype=a.dtype.str,
        itemsize=a.itemsize,
        strides=tuple(a.strides),
        element_strides=tuple(s / a.itemsize if s % a.itemsize else s // a.itemsize for s in a.strides),
        c_contiguous=a.flags.c_contiguous,
        f_contiguous=a.flags.f_contiguous,
        writeable=a.flags.writeable,
        native_byte_order=a.dtype.isnative,
        address=address,
        offset=address - root.__array_interface__["data"][0],
        alignment=alignment(address),
        nbytes=a.nbytes,
        owns_data=a.flags.owndata,
    )


def alignment(address: int, limit: int = 64) -> int:
    """Largest power of two ≤ ``limit`` that divides ``address`` (``alignment(0x1008) == 8``)."""
    return min(address & -address, limit) if address else limit
