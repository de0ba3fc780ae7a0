"""A namespace that wraps another array-API namespace and records every operation performed.

``xp = instrumented(array_api_compat.numpy)`` (or ``namespace("instrumented")``) behaves like the
namespace it wraps, but its arrays are :class:`InstrumentedArray`\\s: every function call,
operator, index and conversion goes through :meth:`Recorder.call`, which — while recording is on —
notes the operation, the shapes, dtypes, strides and contiguity of its inputs and outputs,
whether each output is a view of an input or a new buffer, the bytes read and written, the FLOPs
and the wall time. ``array_api_compat.array_namespace`` recognises the arrays, so the network,
its tests and the tutorials run on it unchanged.

>>> import array_api_compat.numpy as np_xp
>>> xp = instrumented(np_xp)
>>> W, X = xp.ones((4, 3)), xp.ones((3, 5))
>>> with xp.recording() as ops:
...     Z = W @ X + 1.0
>>> [(op.name, op.flops) for op in ops]
[('matmul', 120), ('add', 20)]
>>> ops[0].outputs[0].new_buffer, ops[0].bytes_written
(True, 160)
"""

from __future__ import annotations

import contextlib
import functools
import math
import operator
import threading
import time
import types
from dataclasses import asdict, dataclass
from typing import Any, Iterator

__all__ = ["InstrumentedArray", "Op", "Recorder", "instrumented", "report"]


@dataclass(frozen=True)
class ArrayInfo:
    """One input or output of an operation, as its memory looked at the time."""

    shape: tuple[int, ...]
    dtype: str
    strides: tuple[int, ...] | None  # bytes; None when the array's memory is not visible
    c_contiguous: bool | None
    f_contiguous: bool | None
    nbytes: int
    new_buffer: bool | None = None  # outputs: True for a new buffer, False for a view of an input


@dataclass(frozen=True)
class Op:
    """One recorded operation."""

    name: str
    inputs: tuple[ArrayInfo, ...]
    outputs: tuple[ArrayInfo, ...]
    bytes_read: int
    bytes_written: int
    flops: int
    seconds: float

    def to_dict(self) -> dict:
        return asdict(self)


# FLOPs per operation: matmul counts 2·m·n·k, vecdot and tensordot 2 per multiply-add; elementwise
# arithmetic one per output element (a complex one too); reductions one per input element;
# creating, copying, casting, indexing and reshaping none.
_ELEMENTWISE = {
    "add", "subtract", "multiply", "divide", "true_divide", "pow", "negative", "positive", "abs", "exp", "log",
    "sqrt", "maximum", "minimum", "where", "greater", "greater_equal", "less", "less_equal", "equal", "not_equal",
    "square", "tanh", "sin", "cos", "clip", "sign", "floor_divide", "remainder", "log1p", "expm1", "logaddexp",
    "logical_and", "logical_or", "logical_not", "floor", "ceil", "round", "isnan", "isfinite", "isinf",
}
_REDUCTIONS = {"sum", "max", "min", "mean", "prod", "argmax", "argmin", "std", "var", "vector_norm", "matrix_norm", "all", "any"}
_OPERATORS = {  # dunder → operation name
    "add": "add", "radd": "add", "sub": "subtract", "rsub": "subtract", "mul": "multiply", "rmul": "multiply",
    "truediv": "divide", "rtruediv": "divide", "floordiv": "floor_divide", "rfloordiv": "floor_divide",
    "mod": "remainder", "rmod": "remainder", "pow": "pow", "rpow": "pow", "matmul": "matmul", "rmatmul": "matmul",
    "lt": "less", "le": "less_equal", "gt": "greater", "ge": "greater_equal", "eq": "equal", "ne": "not_equal",
    "and": "logical_and", "rand": "logical_and", "or": "logical_or", "ror": "logical_or", "xor": "bitwise_xor",
    "rxor": "bitwise_xor", "lshift": "bitwise_left_shift", "rlshift": "bitwise_left_shift",
    "rshift": "bitwise_right_shift", "rrshift": "bitwise_right_shift",
}


def flops(name: str, inputs: list, outputs: list) -> int:
    """FLOPs of one operation by the rule above (inputs and outputs are the raw arrays)."""
    if name == "matmul" and len(inputs) == 2:
        a, b = inputs
        m = a.shape[-2] if a.ndim > 1 else 1
        k = a.shape[-1]
        return 2 * k * math.prod(outputs[0].shape) if outputs[0].ndim else 2 * k * m * (b.shape[-1] if b.ndim > 1 else 1)
    if name == "vecdot" and inputs:
        return 2 * inputs[0].shape[-1] * sum(math.prod(o.shape) for o in outputs)
    if name == "tensordot" and len(inputs) == 2:
        # the output has (a.size / K)·(b.size / K) elements for K contracted ones: K² = a.size·b.size / out.size
        out = math.prod(outputs[0].shape)
        return 2 * math.isqrt(math.prod(inputs[0].shape) * math.prod(inputs[1].shape) // out) * out if out else 0
    if name in _ELEMENTWISE:
        return sum(math.prod(o.shape) for o in outputs)
    if name in _REDUCTIONS:
        return sum(math.prod(i.shape) for i in inputs)
    return 0


_METADATA_ONLY = {"zeros_like", "ones_like", "empty_like", "full_like"}  # read only the input's shape and dtype


class Recorder:
    """Runs operations on the inner namespace and, while :meth:`recording`, records them.

    Bytes: an operation reads its array inputs and writes its new buffers; one that only makes
    views (slicing, transposing, reshaping in place) reads and writes nothing; an in-place operator
    writes its target; ``x[key] = value`` reads ``value`` and writes the region ``x[key]``.
    Recording is per thread: a block records the operations of the thread that opened it.
    """

    def __init__(self):
        self._local = threading.local()

    @property
    def ops(self) -> list[Op] | None:
        """The open record of this thread (None: not recording — no timing, no metadata)."""
        return getattr(self._local, "ops", None)

    @ops.setter
    def ops(self, value: list[Op] | None) -> None:
        self._local.ops = value

    @contextlib.contextmanager
    def recording(self) -> Iterator[list[Op]]:
        """Record every operation inside the block into the list it yields (blocks nest)."""
        outer, self.ops = self.ops, []
        try:
            yield self.ops
        finally:
            inner, self.ops = self.ops, outer
            if outer is not None:
                outer.extend(inner)

    def call(self, ns: "InstrumentedNamespace", name: str, function, args: tuple, kwargs: dict, in_place: bool = False):
        raw_args, raw_kwargs = _unwrap(args), _unwrap(kwargs)
        ops = self.ops
        if ops is None:
            return _wrap(ns, function(*raw_args, **raw_kwargs))
        start = time.perf_counter()
        result = function(*raw_args, **raw_kwargs)
        seconds = time.perf_counter() - start
        if result is NotImplemented:
            return result
        inputs = [x for x in _arrays(raw_args) + _arrays(raw_kwargs) if hasattr(x, "shape")]
        outputs = [x for x in _arrays(result) if hasattr(x, "shape")]
        in_info = tuple(_info(x) for x in inputs)
        out_info = tuple(_info(x, inputs) for x in outputs)
        read, written = _traffic(name, raw_args, in_info, out_info, in_place)
        ops.append(Op(name, in_info, out_info, read, written, flops(name, inputs, outputs), seconds))
        return _wrap(ns, result)


def _traffic(name: str, raw_args: tuple, in_info: tuple, out_info: tuple, in_place: bool) -> tuple[int, int]:
    """Bytes read and written by one operation, by the rule in :class:`Recorder`'s docstring."""
    if name == "setitem":
        target, key, value = raw_args
        region = _info(target[key])
        return sum(i.nbytes for i in in_info[1:]), region.nbytes  # the value (and index arrays); the region
    if in_place:
        return sum(i.nbytes for i in in_info), sum(o.nbytes for o in out_info)
    if name in _METADATA_ONLY:
        return 0, sum(o.nbytes for o in out_info)
    if out_info and not any(o.new_buffer for o in out_info):
        return 0, 0  # views only: nothing moved
    return sum(i.nbytes for i in in_info), sum(o.nbytes for o in out_info if o.new_buffer)


def _arrays(value) -> list:
    if isinstance(value, (list, tuple)):
        return [a for v in value for a in _arrays(v)]
    if isinstance(value, dict):
        return [a for v in value.values() for a in _arrays(v)]
    return [value] if hasattr(value, "shape") and hasattr(value, "dtype") and not isinstance(value, type) else []


def _numpy_view(x):
    import numpy as np

    if isinstance(x, np.ndarray):
        return x
    try:
        return np.from_dlpack(x)
    except (TypeError, BufferError, RuntimeError, AttributeError):
        return None


def _info(x, inputs=None) -> ArrayInfo:
    """``x`` described; with ``inputs`` (it is an output) also whether it is a new buffer."""
    import numpy as np

    view = _numpy_view(x)
    shape = tuple(x.shape)
    nbytes = math.prod(shape) * (view.itemsize if view is not None else getattr(x.dtype, "itemsize", 8))
    new = None
    if inputs is not None:
        seen = [v for v in map(_numpy_view, inputs) if v is not None]
        new = view is None or not any(np.may_share_memory(view, v) for v in seen)
    if view is None:
        return ArrayInfo(shape, _dtype_name(x.dtype), None, None, None, nbytes, new)
    flags = view.flags
    return ArrayInfo(shape, _dtype_name(view.dtype), view.strides, flags.c_contiguous, flags.f_contiguous, nbytes, new)


@functools.lru_cache(maxsize=64)
def _dtype_name(dtype) -> str:
    """``"float64"``: cached, because numpy builds a dtype's name in Python, slowly."""
    return str(dtype)


def _unwrap(value):
    if isinstance(value, InstrumentedArray):
        return value._x
    if isinstance(value, tuple):
        return tuple(_unwrap(v) for v in value)
    if isinstance(value, list):
        return [_unwrap(v) for v in value]
    if isinstance(value, dict):
        return {k: _unwrap(v) for k, v in value.items()}
    return value


def _wrap(ns, value):
    if hasattr(value, "__array_namespace__") and not isinstance(value, InstrumentedArray):
        return InstrumentedArray(value, ns)
    if isinstance(value, tuple):
        wrapped = tuple(_wrap(ns, v) for v in value)
        return type(value)(*wrapped) if hasattr(value, "_fields") else wrapped
    if isinstance(value, list):
        return [_wrap(ns, v) for v in value]
    return value


class InstrumentedArray:
    """An array of the inner namespace, seen through the instrumented one."""

    __slots__ = ("_x", "_ns")
    __hash__ = None  # like numpy arrays

    __array_ufunc__ = None  # ndarray + this defers to this class's __radd__, so it is recorded too

    def __init__(self, x, ns: "InstrumentedNamespace"):
        self._x, self._ns = x, ns

    def __array_namespace__(self, api_version=None):
        return self._ns

    shape = property(lambda self: self._x.shape)
    dtype = property(lambda self: self._x.dtype)
    ndim = property(lambda self: self._x.ndim)
    size = property(lambda self: self._x.size)
    device = property(lambda self: self._x.device)
    T = property(lambda self: self._ns._recorder.call(self._ns, "permute_dims", lambda x: x.T, (self,), {}))
    mT = property(lambda self: self._ns._recorder.call(self._ns, "matrix_transpose", lambda x: x.mT, (self,), {}))

    def __getitem__(self, key, /):
        return self._ns._recorder.call(self._ns, "getitem", lambda x, k: x[k], (self, key), {})

    def __setitem__(self, key, value, /):
        def assign(x, k, v):
            x[k] = v

        self._ns._recorder.call(self._ns, "setitem", assign, (self, key, value), {})

    def __float__(self):
        return float(self._x)

    def __int__(self):
        return int(self._x)

    def __index__(self):
        return operator.index(self._x)

    def __bool__(self):
        return bool(self._x)

    def __complex__(self):
        return complex(self._x)

    def __len__(self):
        return len(self._x)

    def __dlpack__(self, /, *, stream=None, max_version=None, dl_device=None, copy=None):
        given = {"stream": stream, "max_version": max_version, "dl_device": dl_device, "copy": copy}
        return self._x.__dlpack__(**{k: v for k, v in given.items() if v is not None})

    def __dlpack_device__(self):
        return self._x.__dlpack_device__()

    def __array__(self, dtype=None, copy=None):
        import numpy as np

        return np.array(self._x, dtype=dtype, copy=True) if copy else np.asarray(self._x, dtype=dtype)

    def __iter__(self):
        return (_wrap(self._ns, item) for item in iter(self._x))

    def to_device(self, device, /, *, stream=None):
        return self._ns._recorder.call(self._ns, "to_device", lambda x: x.to_device(device, stream=stream), (self,), {})

    def __repr__(self):
        return f"Instrumented({self._x!r})"

    def __neg__(self):
        return self._ns._recorder.call(self._ns, "negative", lambda x: -x, (self,), {})

    def __pos__(self):
        return self._ns._recorder.call(self._ns, "positive", lambda x: +x, (self,), {})

    def __abs__(self):
        return self._ns._recorder.call(self._ns, "abs", abs, (self,), {})

    def __invert__(self):
        return self._ns._recorder.call(self._ns, "bitwise_invert", lambda x: ~x, (self,), {})


_BINARY = ("add", "sub", "mul", "truediv", "floordiv", "mod", "pow", "matmul", "and", "or", "xor", "lshift", "rshift")
"""The binary operators that have reflected (``__radd__``) and in-place (``__iadd__``) forms."""


def _operator(dunder: str, name: str):
    """``x.__add__(y)`` as ``operator.add(x, y)``, ``x.__radd__(y)`` as ``operator.add(y, x)``, on the
    inner arrays: Python's own dispatch then tries the reflected method too, which calling a dunder
    directly would not (numpy scalars of two dtypes, 0-d results of indexing, need it)."""
    short = dunder.strip("_")
    reflected = short.startswith("r") and short[1:] in _BINARY
    forward = short[1:] if reflected else short
    apply = getattr(operator, _OPERATOR_FUNCTION.get(forward, forward))

    def method(self, other, /):
        compute = (lambda x, y: apply(y, x)) if reflected else apply
        return self._ns._recorder.call(self._ns, name, compute, (self, other), {})

    method.__name__ = method.__qualname__ = dunder
    return method


def _in_place(dunder: str, name: str):
    """``x += y`` as ``operator.iadd`` on the inner arrays: in place where the inner array can be
    (an ndarray), a new value where it cannot (a numpy scalar from ``x[i]``), as Python does."""
    apply = getattr(operator, dunder.strip("_"))

    def method(self, other, /):
        self._x = self._ns._recorder.call(self._ns, name, apply, (self, other), {}, in_place=True)._x
        return self

    method.__name__ = method.__qualname__ = dunder
    return method


_OPERATOR_FUNCTION = {"and": "and_", "or": "or_"}  # the operator module's names where they differ

for _short, _name in _OPERATORS.items():
    setattr(InstrumentedArray, f"__{_short}__", _operator(f"__{_short}__", _name))
for _short in _BINARY:
    setattr(InstrumentedArray, f"__i{_short}__", _in_place(f"__i{_short}__", _OPERATORS[_short]))


_METADATA = {"isdtype", "finfo", "iinfo", "result_type", "can_cast", "__array_namespace_info__"}
"""Functions about dtypes and devices: given the inner arrays, not recorded (they compute nothing)."""


def _unwrapping(function):
    """``function`` called on the inner arrays, unrecorded; its name, signature and docstring kept."""

    @functools.wraps(function)
    def unwrapped(*args, **kwargs):
        return function(*_unwrap(args), **_unwrap(kwargs))

    return unwrapped


def _recorded(recorder: Recorder, ns, name: str, function):
    """``function`` recorded as operation ``name``, returning arrays of ``ns``; its name, signature
    (through ``__wrapped__``) and docstring kept."""

    @functools.wraps(function)
    def recorded(*args, **kwargs):
        return recorder.call(ns, name, function, args, kwargs)

    return recorded


class InstrumentedNamespace(types.SimpleNamespace):
    """The wrapped namespace: functions recorded, constants and dtypes passed through."""

    def __init__(self, inner, recorder: Recorder | None = None, name: str | None = None):
        super().__init__()
        self._inner, self._recorder = inner, recorder or Recorder()
        self.__name__ = name or f"nnkit.backends.instrumented({inner.__name__})"
        self._arrays_ns = self  # the namespace whose arrays this one's functions return

    def __getattr__(self, attribute: str):
        value = getattr(self._inner, attribute)
        if isinstance(value, (types.ModuleType, types.SimpleNamespace)):  # linalg, fft: not fft.fft
            sub = InstrumentedNamespace(value, self._recorder, f"{self.__name__}.{attribute}")
            sub._arrays_ns = self._arrays_ns
            setattr(self, attribute, sub)
            return sub
        if not callable(value) or isinstance(value, type):
            return value  # constants, dtypes, classes
        if attribute in _METADATA:
            wrapper = _unwrapping(value)
        else:
            wrapper = _recorded(self._recorder, self._arrays_ns, attribute, value)
        setattr(self, attribute, wrapper)
        return wrapper

    def __dir__(self):
        return sorted(set(dir(self._inner)) | set(super().__dir__()))

    def recording(self):
        """``with xp.recording() as ops:`` — record every operation in the block into ``ops``."""
        return self._recorder.recording()

    def __hash__(self):
        return id(self)

    def __eq__(self, other):
        return self is other


def instrumented(inner) -> InstrumentedNamespace:
    """The instrumented version of namespace ``inner`` (one per inner namespace)."""
    if inner not in _NAMESPACES:
        _NAMESPACES[inner] = InstrumentedNamespace(inner)
    return _NAMESPACES[inner]


_NAMESPACES: dict[Any, InstrumentedNamespace] = {}


def report(ops: list[Op]) -> list[dict]:
    """Per-operation totals, most time first: count, seconds, FLOPs, bytes, GFLOP/s, copies."""
    table: dict[str, dict] = {}
    for op in ops:
        row = table.setdefault(op.name, {"op": op.name, "count": 0, "seconds": 0.0, "flops": 0, "bytes_read": 0,
                                         "bytes_written": 0, "new_buffers": 0, "views": 0})
        row["count"] += 1
        row["seconds"] += op.seconds
        row["flops"] += op.flops
        row["bytes_read"] += op.bytes_read
        row["bytes_written"] += op.bytes_written
        row["new_buffers"] += sum(1 for o in op.outputs if o.new_buffer)
        row["views"] += sum(1 for o in op.outputs if o.new_buffer is False)
    for row in table.values():
        row["gflops_per_second"] = row["flops"] / row["seconds"] / 1e9 if row["seconds"] else 0.0
    return sorted(table.values(), key=lambda r: -r["seconds"])
