"""What explain says and what it reasons about: a BLAS call, a prediction, and an operand as
numpy's C code sees it (its memory, shape and strides — no values).

Pointers are named by the memory they land in: a root array the caller passed (``"A"``, ``"B"``,
``"out"``…) plus a byte offset from its first element, ``"out"`` for the result numpy allocates,
or ``"copy"`` / ``"temp"`` for a temporary numpy made (an operand's copy; a result buffer).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace

import numpy as np

PREFIX = {np.dtype(np.float64): "d", np.dtype(np.float32): "s", np.dtype(np.complex128): "z", np.dtype(np.complex64): "c"}
ROW, COL, N, T = "RowMajor", "ColMajor", "NoTrans", "Trans"
TEMPORARY = ("copy", "temp")


@dataclass(frozen=True)
class BlasCall:
    """One call numpy makes. Unused fields are None; pointers are ``(memory name, byte offset)``."""

    routine: str
    order: str | None = None
    transa: str | None = None
    transb: str | None = None
    uplo: str | None = None
    m: int | None = None
    n: int | None = None
    k: int | None = None
    lda: int | None = None
    ldb: int | None = None
    ldc: int | None = None
    incx: int | None = None
    incy: int | None = None
    a: tuple[str, int] | None = None
    b: tuple[str, int] | None = None
    c: tuple[str, int] | None = None

    def to_dict(self) -> dict:
        return {k: v for k, v in asdict(self).items() if v is not None}

    def __str__(self) -> str:
        fields = ("order", "transa", "transb", "uplo", "m", "n", "k", "lda", "ldb", "ldc", "incx", "incy")
        args = ", ".join(f"{f}={getattr(self, f)}" for f in fields if getattr(self, f) is not None)
        where = ", ".join(f"{role}→{p[0]}" + (f"+{p[1]}" if p[1] else "") for role, p in (("a", self.a), ("b", self.b), ("c", self.c)) if p)
        return f"{self.routine}({args}) on {where}"


@dataclass
class Prediction:
    """What ``function`` will do: the BLAS calls (maybe none), the copies, and why."""

    function: str
    calls: list[BlasCall] = field(default_factory=list)
    copies: list[str] = field(default_factory=list)
    reason: str = ""
    total: int | None = None  # calls numpy makes, when more than are listed

    @property
    def raises(self) -> bool:
        """Whether numpy raises (maybe after some calls: a step of ``multi_dot``…): a reason, or a
        step's, that says "numpy raises"."""
        return any(part.split(": ", 1)[-1].startswith("numpy raises") or part.startswith("numpy raises")
                   for part in self.reason.split("; "))

    @property
    def count(self) -> int:
        """How many BLAS calls numpy makes (``calls`` may list only the first ones)."""
        return self.total if self.total is not None else len(self.calls)

    def to_dict(self) -> dict:
        return {"function": self.function, "calls": [c.to_dict() for c in self.calls], "total_calls": self.count,
                "copies": self.copies, "reason": self.reason}

    def add(self, other: Prediction) -> None:
        """Append the calls, copies and reason of a step (``other``) of this function."""
        total = self.count + other.count
        self.calls += other.calls
        self.total = total if total != len(self.calls) else None
        self.copies += other.copies
        self.reason = "; ".join(r for r in (self.reason, f"{other.function}: {other.reason}") if r)


@dataclass(frozen=True)
class Operand:
    """An array as numpy's C code sees it. ``name``/``origin``: the memory it lies in and the byte
    offset of its first element there; ``address``: its real address (0 for a predicted copy)."""

    name: str
    shape: tuple[int, ...]
    strides: tuple[int, ...]
    dtype: np.dtype
    address: int
    origin: int = 0
    fixed: bool = False  # a buffer that stays put while numpy loops over a batch
    owner: int | None = None  # id of the object owning the memory (None: a predicted copy)

    @property
    def itemsize(self) -> int:
        return self.dtype.itemsize

    @property
    def ndim(self) -> int:
        return len(self.shape)

    @classmethod
    def of(cls, x: np.ndarray, roots: dict[str, np.ndarray]) -> Operand:
        """``x`` named by the first root whose memory holds its first element, else a copy
        (roots ``"temp#1"``, ``"temp#2"``… are all called ``"temp"``)."""
        address = x.__array_interface__["data"][0]
        name, origin, owner = "copy", 0, _owner(x)
        for root, array in roots.items():
            low, high = _bounds(array)
            if _owner(array) is owner and (low <= address < high or address == low):
                name, origin = root.split("#")[0], address - array.__array_interface__["data"][0]
                break
        return cls(name, x.shape, x.strides, x.dtype, address, origin, owner=id(owner))

    def pointer(self, offset: int = 0) -> tuple[str, int]:
        return (self.name, self.origin + offset)

    def copied(self, order: str | tuple[int, ...] = "C", dtype: np.dtype | None = None, name: str = "copy") -> Operand:
        """A fresh contiguous copy: C order, F order, or axes in the order a permutation lists
        (outermost first), of ``dtype`` (a cast changes the itemsize)."""
        dtype = np.dtype(dtype or self.dtype)
        axes = {"C": tuple(range(self.ndim)), "F": tuple(reversed(range(self.ndim)))}.get(order, order)
        strides, step = [0] * self.ndim, dtype.itemsize
        for axis in reversed(axes):
            strides[axis], step = step, step * max(self.shape[axis], 1)
        return Operand(name, self.shape, tuple(strides), dtype, 0)

    def keep_order(self) -> str | tuple[int, ...]:
        """The order of numpy's ``order="K"`` copy (``PyArray_NewLikeArray``): C or F when the
        operand already is; else axes by decreasing |stride|, C order on ties."""
        if self.contiguous("C") or self.contiguous("F"):
            return "C" if self.contiguous("C") else "F"
        return tuple(sorted(range(self.ndim), key=lambda axis: -abs(self.strides[axis])))

    def contiguous(self, order: str) -> bool:
        """numpy's C/F-contiguous flag (axes of length 1 ignored)."""
        if 0 in self.shape:
            return True
        want = self.copied(order).strides
        return all(s == w for s, w, d in zip(self.strides, want, self.shape) if d > 1)

    def view(self, shape: tuple[int, ...], strides: tuple[int, ...], offset: int = 0) -> Operand:
        return replace(self, shape=shape, strides=strides, address=self.address + offset, origin=self.origin + offset)

    def bounds(self) -> tuple[int, int]:
        """Lowest and one-past-highest byte this operand touches (relative to its address)."""
        if 0 in self.shape:
            return 0, 0
        low = sum(s * (d - 1) for s, d in zip(self.strides, self.shape) if s < 0)
        high = sum(s * (d - 1) for s, d in zip(self.strides, self.shape) if s > 0)
        return low, high + self.itemsize

    def overlaps(self, other: Operand) -> bool:
        """Whether numpy decides that two operands may share memory, as both np.dot
        (``new_array_for_sum``) and matmul (nditer's ``COPY_IF_OVERLAP``) do:
        ``solve_may_share_memory(a, b, max_work=1)`` is not "no" — byte ranges that meet, then an
        exact search for a shared element that gives up (says "may") after one candidate. So
        interleaved rows or disjoint sub-blocks of one buffer do not overlap."""
        if self.name in TEMPORARY or other.name in TEMPORARY or self.owner != other.owner:
            return False
        try:
            return bool(np.shares_memory(_stand_in(self, self.address - other.address), _stand_in(other, 0), max_work=1))
        except (np.exceptions.TooHardError, OverflowError):
            return True  # numpy's answer when it gives up: they may share


def indices(ranges: list[range]):
    """Every index over ``ranges``, the last one fastest — lazily: ``itertools.product`` would
    first hold each range whole (10⁸ elements for a batch too big to allocate)."""
    if not ranges:
        yield ()
        return
    for i in ranges[0]:
        for rest in indices(ranges[1:]):
            yield (i,) + rest


_SCRATCH = np.zeros(16, np.uint8)  # where stand-ins are placed: only their relative addresses matter


def _stand_in(op: Operand, offset: int) -> np.ndarray:
    """A never-read array with ``op``'s shape, strides and itemsize, ``offset`` bytes past ``_SCRATCH``."""
    element = _SCRATCH[: op.itemsize].view(np.dtype((np.void, op.itemsize)))
    start = np.lib.stride_tricks.as_strided(element, (2,), (offset,))[1:]
    return np.lib.stride_tricks.as_strided(start, op.shape, op.strides)


def _owner(x: np.ndarray) -> object:
    """The object that owns ``x``'s memory, at the end of its ``base`` chain: two arrays can share
    memory only if they share it (a phantom's virtual bytes may cover another's real ones)."""
    while isinstance(x, np.ndarray) and x.base is not None:
        x = x.base
    return x


def _bounds(x: np.ndarray) -> tuple[int, int]:
    return np.lib.array_utils.byte_bounds(x)


def blas_stride(stride: int, itemsize: int) -> int:
    """numpy's ``blas_stride``: a stride in elements if positive and whole, else 0 (no BLAS)."""
    return stride // itemsize if stride > 0 and stride % itemsize == 0 else 0


def cast_or_align(op: Operand, dtype: np.dtype, copies: list[str], label: str) -> Operand:
    """``PyArray_FromAny(op, dtype, ALIGNED)``: a copy in the operand's own order (``K``) when the
    dtype differs or the data is misaligned."""
    if op.dtype == dtype and is_aligned(op):
        return op
    why = f"dtype {op.dtype} → {dtype}" if op.dtype != dtype else "misaligned"
    copies.append(f"{op.name if op.name not in TEMPORARY else label} copied: {why}")
    return op.copied(op.keep_order(), dtype)


def is_aligned(op: Operand) -> bool:
    """numpy's ALIGNED flag: the address and every stride of an axis longer than 1 a multiple of
    the dtype's alignment (an empty array is aligned)."""
    align = op.dtype.alignment
    return op.name in TEMPORARY or 0 in op.shape or (
        op.address % align == 0 and all(s % align == 0 for s, d in zip(op.strides, op.shape) if d > 1))
