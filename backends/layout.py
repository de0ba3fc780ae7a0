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


@dataclass(frozen=True)
class Storage:
    """How BLAS can read a 2-D matrix in place: ``order`` and leading dimension ``ld`` (elements)."""

    order: str  # "row-major" or "column-major"
    ld: int
    reason: str


def blas_storage(a: np.ndarray, address: int | None = None) -> Storage | str:
    """How BLAS can read the 2-D array ``a`` in place, or the reason it cannot (dtype aside).

    BLAS takes a matrix as a pointer and a leading dimension: consecutive elements along one
    axis (unit stride) and a fixed, positive, whole-element step between rows (or columns) of at
    least their length. An axis of length 1 is never stepped along, so its stride is free.
    Row-major is preferred when both fit (as numpy does: C-contiguous first).

    >>> blas_storage(np.zeros((3, 5))[:, :2])
    Storage(order='row-major', ld=5, reason='unit stride along rows, 5 elements between rows')
    >>> blas_storage(np.zeros((3, 5))[:, ::2])
    'no unit stride in either axis (strides 40, 16 bytes); BLAS needs one'
    >>> blas_storage(np.lib.stride_tricks.sliding_window_view(np.zeros(6), 3)).split(";")[0]
    'its elements overlap: its rows are 24 bytes long but each starts 8 bytes after the previous one'
    """
    (rows, cols), (s0, s1), size = a.shape, a.strides, a.itemsize
    if rows * cols == 0:
        return Storage("row-major", max(1, cols), "empty: no element is read, strides do not matter")
    for axis, (extent, stride) in enumerate(zip(a.shape, a.strides)):
        if extent > 1 and stride <= 0:
            kind = "negative" if stride < 0 else "zero (broadcast)"
            return f"{kind} stride {stride} bytes in axis {axis}; BLAS steps forward through memory"
    overlap = elements_overlap(a)
    if overlap:
        return f"{overlap}; BLAS reads a matrix whose elements are distinct"
    for axis, (extent, stride) in enumerate(zip(a.shape, a.strides)):
        if extent > 1 and stride % size:
            return f"stride {stride} bytes in axis {axis} is not a whole number of {size}-byte elements"
    address = a.__array_interface__["data"][0] if address is None else address
    if address % size:
        return f"address {address:#x} is not aligned to {size} bytes"
    if cols <= 1 or s1 == size:
        ld = s0 // size if rows > 1 else max(1, cols)
        if ld >= max(1, cols):
            return Storage("row-major", ld, f"unit stride along rows, {ld} elements between rows")
    if rows <= 1 or s0 == size:
        ld = s1 // size if cols > 1 else max(1, rows)
        if ld >= max(1, rows):
            return Storage("column-major", ld, f"unit stride down columns, {ld} elements between columns")
    return f"no unit stride in either axis (strides {s0}, {s1} bytes); BLAS needs one"


def extent(a: np.ndarray, start: int | None = None) -> tuple[int, int]:
    """The byte range ``[low, high)`` the elements of ``a`` occupy (strides may be negative);
    ``start`` is the address of ``a[0, 0, …]`` when the caller already has it."""
    start = a.__array_interface__["data"][0] if start is None else start
    if a.size == 0:
        return start, start
    low = start + sum(s * (n - 1) for s, n in zip(a.strides, a.shape) if s < 0)
    high = start + sum(s * (n - 1) for s, n in zip(a.strides, a.shape) if s > 0) + a.itemsize
    return low, high


def outside_buffer(a: np.ndarray, address: int | None = None) -> str | None:
    """Why ``a`` reaches outside the memory it views (``as_strided`` can make such arrays), or None.

    Follows ``.base`` to the object that owns the memory — an ndarray, or any buffer (bytes,
    bytearray, mmap) — and compares byte ranges. None also when no owner can be measured, and at
    once for an array that owns its memory (numpy sized that buffer for exactly these elements).
    """
    if a.flags.owndata:
        return None
    owner = _owner(a)
    try:
        buffer = owner if isinstance(owner, np.ndarray) else np.frombuffer(owner, dtype=np.uint8)
    except (TypeError, ValueError):
        return None
    low, high = extent(a, address)
    start = buffer.__array_interface__["data"][0]
    end = start + buffer.nbytes
    if a.size and (low < start or high > end):
        return (f"its strides {a.strides} reach bytes {low - start}..{high - start} of a {buffer.nbytes}-byte buffer; "
                "BLAS would read or write outside it")
    return None


def elements_overlap(a: np.ndarray) -> str | None:
    """Why two elements of the 2-D array ``a`` share bytes, or None when none do.

    numpy never makes such arrays itself, but ``as_strided`` and ``sliding_window_view`` do;
    BLAS cannot read them as a matrix (its rows would share elements) and must never write them.

    >>> elements_overlap(np.lib.stride_tricks.sliding_window_view(np.zeros(6), 3))
    'its elements overlap: its rows are 24 bytes long but each starts 8 bytes after the previous one'
    >>> elements_overlap(np.zeros((3, 4))[:, ::2]) is None
    True
    """
    size = a.itemsize
    axes = sorted((abs(s), n, axis) for axis, (s, n) in enumerate(zip(a.strides, a.shape)) if n > 1)
    if a.size == 0:
        return None
    for stride, n, axis in axes:
        if stride < size:
            if stride == 0:
                return f"its elements overlap: a zero stride in axis {axis} puts its {n} elements there in one place"
            return f"its elements overlap: stride {a.strides[axis]} bytes in axis {axis} is less than one {size}-byte element"
    if len(axes) < 2:
        return None
    (u, p, small), (v, q, large) = axes
    span = (p - 1) * u + size  # bytes from the first to the end of the last element along `small`
    if v >= span:
        return None  # each line along `small` ends before the next one starts
    if u == size:
        lines = "rows" if small == 1 else "columns"
        return f"its elements overlap: its {lines} are {span} bytes long but each starts {v} bytes after the previous one"
    if max(p * u, q * v) >= 2**62:
        return f"its elements overlap or lie beyond any address space: strides {a.strides} reach past 2**62 bytes"
    hit = _collision(u, p, v, q, size)
    return None if hit is None else _pair_text(a, (small, hit[0]), (large, hit[1]))  # None: interleaved, never touching


def _pair_text(a: np.ndarray, *steps: tuple[int, int]) -> str:
    """Two elements of ``a`` that overlap, named by index: one is ``steps`` (axis, count of |stride|) from the other."""
    delta = [0] * a.ndim
    for axis, count in steps:
        delta[axis] = count if a.strides[axis] > 0 else -count
    first = [max(0, -d) for d in delta]
    second = [f + d for f, d in zip(first, delta)]
    apart = abs(sum(d * s for d, s in zip(delta, a.strides)))
    return (f"its elements overlap: {first} and {second} start {apart} bytes apart, "
            f"less than one {a.itemsize}-byte element (strides {a.strides} bytes)")


def _collision(u: int, p: int, v: int, q: int, size: int, chunk: int = 1 << 16) -> tuple[int, int] | None:
    """A nonzero (i, j) with |i| < p, |j| < q and |i·u + j·v| < size, or None (u, v ≥ size).

    Goes through the axis with fewer elements and, for each step t along it, tries the two
    nearest steps along the other axis; int64 is safe as the caller keeps p·u and q·v < 2**62."""
    swap = p < q
    s_go, n_go, s_fit, n_fit = (u, p, v, q) if swap else (v, q, u, p)
    for start in range(1, n_go, chunk):
        t = np.arange(start, min(n_go, start + chunk), dtype=np.int64)
        x = t * s_go
        for c in (-(x // s_fit), -(x // s_fit) - 1):
            hit = np.flatnonzero((np.abs(c) < n_fit) & (np.abs(x + c * s_fit) < size))
            if hit.size:
                go, fit = int(t[hit[0]]), int(c[hit[0]])
                return (go, fit) if swap else (fit, go)
    return None


def _owner(a: np.ndarray):
    """The object at the root of ``a``'s view chain: an ndarray that owns its memory, or any buffer."""
    owner = a
    while getattr(owner, "base", None) is not None and not (isinstance(owner, np.ndarray) and owner.flags.owndata):
        owner = owner.base
    return owner


def file_bytes(a: np.ndarray) -> tuple[tuple[str, int], np.ndarray] | None:
    """Which file's bytes ``a`` lies on, when its memory is a file mapping (``np.memmap``, ``mmap``).

    Returns the file's (device, inode) and a stand-in for ``a`` whose addresses are positions in
    that file (plus 2**40), so that ``np.shares_memory`` compares two mappings of one file as if
    they were one buffer. None for numpy's own (anonymous) memory, for memory that is not a file
    mapping, for an array spanning several mappings, and where ``/proc/self/maps`` is missing
    (not Linux): nothing is known then.
    """
    owner = _owner(a)
    if isinstance(owner, np.ndarray) and owner.flags.owndata:
        return None  # numpy allocated it: anonymous memory
    low, high = extent(a)
    try:
        with open("/proc/self/maps") as maps:
            for line in maps:  # start-end perms offset major:minor inode [path]
                fields = line.split()
                start, end = (int(x, 16) for x in fields[0].split("-"))
                if start <= low < end:
                    inode = int(fields[4])
                    if not inode or high > end:
                        return None
                    place = 2**40 + int(fields[2], 16) + a.__array_interface__["data"][0] - start
                    return (fields[3], inode), np.asarray(_At(a, place))
    except OSError:
        return None
    return None


class _At:
    """An ``__array_interface__`` describing ``a``'s shape and strides at another address; never read."""

    def __init__(self, a: np.ndarray, address: int):
        self.__array_interface__ = {"data": (address, True), "shape": a.shape, "strides": a.strides,
                                    "typestr": a.dtype.str, "version": 3}
