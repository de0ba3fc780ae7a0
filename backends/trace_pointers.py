"""Which array a BLAS pointer points into — element-exact, not by byte range.

Two views of one buffer can interleave (``X[:8, :8]`` and ``X[:8, 8:]`` share every row's bytes), so a
pointer between the first view's lowest and highest byte may lie on none of its elements. A
:data:`Region` is what decides: an array's address, shape, strides and item size (bytes), kept as
plain ints and tuples so that it can travel as JSON to the process that names the pointers.
"""

from __future__ import annotations

from typing import Iterable

import numpy as np

__all__ = ["Region", "holder", "lands_on", "region"]

Region = tuple[int, tuple[int, ...], tuple[int, ...], int]  # address of x[0, …, 0], shape, strides (bytes), itemsize


def region(x: np.ndarray) -> Region:
    """The :data:`Region` of ``x``."""
    return x.__array_interface__["data"][0], x.shape, x.strides, x.itemsize


def holder(address: int, named: Iterable[tuple[str, Region]]) -> str | None:
    """The name of the region with an element at ``address``: the first whose first element it is, else
    the first with any element there (``A[:, ::-1]`` covers every element of ``A``; BLAS is handed
    ``A``'s first); None for no region."""
    holders = [(where[0] != address, name) for name, where in named if lands_on(address, where)]
    return min(holders, key=lambda h: h[0])[1] if holders else None


def lands_on(address: int, where: Region) -> bool:
    """Whether ``address`` is one of the bytes of one of the region's elements."""
    data, shape, strides, itemsize = where
    if 0 in shape:
        return False
    offset, dims = address - data, []
    for n, s in zip(shape, strides):
        if n > 1 and s != 0:
            if s < 0:  # measure from the lowest element instead
                offset, s = offset - s * (n - 1), -s
            dims.append((s, n))
    dims.sort(reverse=True)
    reach = [0] * (len(dims) + 1)  # reach[j]: how far past its first element dims[j:] go
    for j in range(len(dims) - 1, -1, -1):
        reach[j] = reach[j + 1] + dims[j][0] * (dims[j][1] - 1)
    return _lands(offset, dims, reach, 0, itemsize)


def _lands(offset: int, dims: list[tuple[int, int]], reach: list[int], j: int, itemsize: int) -> bool:
    """Is ``offset`` (from the lowest element) on an element of dims[j:]? Only the indices along dims[j]
    that leave the rest within reach of the smaller dimensions are tried: one, when strides nest."""
    if j == len(dims):
        return 0 <= offset < itemsize
    stride, n = dims[j]
    low = max(0, -((reach[j + 1] + itemsize - 1 - offset) // stride))
    high = min(n - 1, offset // stride)
    return any(_lands(offset - i * stride, dims, reach, j + 1, itemsize) for i in range(high, low - 1, -1))
