"""Random calls to the bridge, valid and invalid — layout × dtype × out × alpha/beta × copy ×
library × interface — each judged by an oracle built from the rules in the bridge's docstring
and from what the generator itself put in memory, never from the bridge's own code:

* the arrays are placed byte by byte in buffers of their own (heap or a mapped file), so the
  oracle knows every byte each element covers: self-overlap, sharing (also between two mappings
  of one file) and reaching outside the buffer are decided by comparing byte positions;
* whether BLAS can read or write an array in place is BLAS's own rule (a unit stride one way,
  ``ld ≥ max(1, extent)`` the other way, aligned native float64);
* a call the oracle finds valid must return ``alpha·A·B + beta·C`` within the error bound, touch
  no byte but ``out``'s and change no input; an invalid one must raise a one-line BridgeError
  naming one of the faulty arguments, and change nothing.

Each run is a subprocess (``python this_file.py SEED CASES``), so a call that killed the process
would be reported as a death with its case number, not end the suite. 1 500 cases by default;
``pytest -m long`` runs 20 000.
"""

from __future__ import annotations

import collections
import json
import math
import os
import subprocess
import sys
import tempfile
from fractions import Fraction

import numpy as np
import pytest
from numpy.lib.stride_tricks import as_strided

EPS = np.finfo(np.float64).eps
GUARD = 24  # bytes before and after every array's elements, checked untouched

# --- the arguments -----------------------------------------------------------------------------
REAL_DTYPES = ["<f4", "<f2", "g", ">f8", "i1", "<i8", "<u2", "?"]
ODD_DTYPES = ["<c16", "<c8", "O", "<U8"]  # refused for A and B (and, but for complex, for out)
OUT_DTYPES = ["<f4", "<f2", "g", ">f8", "<c16", "<i4", "?", "O", "<U8"]
GOOD_SCALARS = [0, 1, 2, -3, 1.0, 0.0, -0.5, 2.5, np.float32(1.5), np.int64(2), np.float64(-1.25), np.longdouble(0.5),
                np.uint8(3), Fraction(1, 4)]
BAD_SCALARS = [True, np.True_, "2", "0.5", 1j, np.complex128(1), None, math.nan, math.inf, -math.inf, np.float32("nan"),
               np.float64("inf"), np.array(2.0), [1.0], 10**400, b"1"]
IN_PLACE = ["C", "F", "row-ld", "col-ld"]  # layouts BLAS takes as they are
COPYABLE = ["rev-rows", "rev-cols", "step", "misaligned", "odd-stride"]  # a copy fixes these, for out too
OVERLAPPING = ["zero-row", "zero-col", "short-ld", "window", "interleave"]  # a copy fixes these for A and B only
LAYOUTS = IN_PLACE + COPYABLE + OVERLAPPING + ["outside"]


def strides_for(layout: str, rows: int, cols: int, size: int, rng) -> tuple[int, int]:
    """Byte strides of a (rows, cols) array stored as ``layout``."""
    extra = int(rng.integers(1, 4))
    return {
        "C": (cols * size, size), "F": (size, rows * size), "misaligned": (cols * size, size),
        "row-ld": ((cols + extra) * size, size), "col-ld": (size, (rows + extra) * size),
        "rev-rows": (-cols * size, size), "rev-cols": (cols * size, -size),
        "step": (2 * (cols + extra) * size, 2 * size), "zero-row": (0, size), "zero-col": (cols * size, 0),
        "short-ld": (max(1, cols - extra) * size, size), "window": (size, size),
        "interleave": tuple(int(x) * size for x in rng.integers(2, 6, size=2)),
        "odd-stride": (cols * size + 3, size), "outside": ((cols + extra) * size, size),
    }[layout]


class Memory:
    """Every buffer the arrays of one case live in, with a coordinate per byte: ("heap", address)
    or (file, position in the file) — so two mappings of one file share coordinates."""

    def __init__(self, file: str):
        self.file, self.buffers = file, []  # (raw uint8 array, space, coordinate of raw[0])

    def buffer(self, nbytes: int, rng, *, in_file: int | None = None) -> np.ndarray:
        if in_file is None:
            raw = np.empty(nbytes, np.uint8)
            self.buffers.append((raw, "heap", raw.__array_interface__["data"][0]))
        else:
            raw = np.memmap(self.file, dtype=np.uint8, mode="r+", offset=in_file, shape=(nbytes,))
            self.buffers.append((raw, self.file, in_file))
        raw[...] = rng.integers(0xB0, 0xC0, nbytes, dtype=np.uint8)  # finite as any float type, x87's long double too
        return raw

    def coordinates(self, x: np.ndarray) -> tuple[str, np.ndarray]:
        """The space and the sorted coordinates of every byte the elements of ``x`` cover."""
        start = x.__array_interface__["data"][0]
        offsets = np.zeros(1, np.int64)
        for extent, stride in zip(x.shape, x.strides):
            offsets = (offsets[:, None] + np.arange(extent, dtype=np.int64) * stride).ravel()
        points = np.unique((offsets[:, None] + np.arange(x.itemsize)).ravel()) + start
        for raw, space, origin in self.buffers:
            low = raw.__array_interface__["data"][0]
            if points.size and low <= points[0] and points[-1] < low + raw.size:
                return space, points - low + origin
        return "heap", points

    def snapshot(self) -> list[np.ndarray]:
        return [raw.copy() for raw, _, _ in self.buffers]

    def changed(self, before: list[np.ndarray]) -> dict[str, set]:
        """Space → coordinates of the bytes that differ from ``before``."""
        out = collections.defaultdict(set)
        for (raw, space, origin), old in zip(self.buffers, before):
            out[space].update((np.flatnonzero(raw != old) + origin).tolist())
        return out


def values(dtype: np.dtype, shape, rng) -> np.ndarray:
    """Random values of ``dtype``: small integers, normal floats (complex: both parts), numbers as objects or text."""
    if dtype.kind in "iub":
        return rng.integers(-5 if dtype.kind == "i" else 0, 6 if dtype.kind != "b" else 2, size=shape).astype(dtype)
    if dtype.kind == "c":
        return (rng.standard_normal(shape) + 1j * rng.standard_normal(shape)).astype(dtype)
    if dtype.kind in "OU":
        return rng.standard_normal(shape).round(2).astype(dtype)
    return rng.standard_normal(shape).astype(dtype)


def placed(memory: Memory, layout: str, shape, dtype: np.dtype, rng, *, in_file=None) -> np.ndarray:
    """A (rows, cols) array of ``dtype`` stored as ``layout`` in a buffer of its own."""
    rows, cols = shape
    if dtype.kind in "OU":  # numpy cannot place these in raw bytes; their dtype is what is refused
        return values(dtype, shape, rng)
    size = dtype.itemsize
    s0, s1 = strides_for(layout, rows, cols, size, rng)
    low = min(0, s0 * (rows - 1)) + min(0, s1 * (cols - 1)) if rows and cols else 0
    high = max(0, s0 * (rows - 1)) + max(0, s1 * (cols - 1)) + size if rows and cols else 0
    shift = int(rng.integers(1, size)) if layout == "misaligned" and size > 1 else 0
    ends = GUARD + size + (high - low) // 2 if layout == "outside" else 2 * GUARD + size + high - low
    raw = memory.buffer(ends, rng, in_file=in_file)  # "outside": the buffer ends halfway through the elements
    first = GUARD + shift - low
    if layout == "outside":  # numpy itself refuses to make it: stride tricks
        return as_strided(raw[first:first + size].view(dtype), shape=shape, strides=(s0, s1))
    x = np.ndarray(shape, dtype, buffer=raw, offset=first, strides=(s0, s1))
    x[...] = values(dtype, shape, rng)
    return x


def matrix(memory: Memory, shape, rng, *, hostile: bool, dtypes, layouts, in_file=None) -> np.ndarray:
    """An operand: mostly float64 in some layout; when ``hostile``, any dtype or layout, masked,
    or not a matrix at all."""
    if in_file is not None:  # float64 on 8-byte steps: what another mapping wrote there still reads as a finite float
        layout = str(rng.choice([name for name in layouts if name not in ("misaligned", "odd-stride")]))
        return placed(memory, layout, shape, np.dtype("f8"), rng, in_file=in_file)
    roll = rng.random() if hostile else 1.0
    if roll < 0.05:
        return [[1.0] * shape[1]] * shape[0]
    if roll < 0.1:
        return np.ones(shape[0] * shape[1])
    if roll < 0.15:
        return np.ma.masked_array(values(np.dtype("f8"), shape, rng), mask=rng.random(shape) < 0.3)
    dtype = np.dtype("f8") if rng.random() < 0.75 else np.dtype(str(rng.choice(dtypes)))
    layout = str(rng.choice(LAYOUTS if hostile else layouts)) if rng.random() < 0.5 else str(rng.choice(IN_PLACE))
    return placed(memory, layout, shape, dtype, rng, in_file=in_file)


def generate(rng, memory: Memory, libraries: dict) -> dict:
    """One call's arguments for ``dgemm``: a plain call, one meant to be valid, or a hostile one."""
    hostile = rng.random() < 0.4
    small = rng.random() < 0.85
    m, n, k = (int(v) for v in rng.integers(0, 9 if small else 40, size=3))
    files = rng.random() < 0.1  # A and out in a mapped file, often the same region of it
    region = int(rng.integers(0, 4)) * 4096
    inputs = {"hostile": hostile, "dtypes": REAL_DTYPES + ODD_DTYPES * hostile, "layouts": IN_PLACE + COPYABLE + OVERLAPPING}
    call = {"A": matrix(memory, (m, k), rng, **inputs, in_file=region if files else None),
            "B": matrix(memory, (k, n), rng, **inputs),
            "library": str(rng.choice(list(libraries))) if not hostile or rng.random() < 0.9 else "atlas",
            "copy": bool(rng.random() < 0.75) if not hostile or rng.random() < 0.9 else "yes"}
    if rng.random() < 0.7:
        shape = (m, n) if not hostile or rng.random() < 0.9 else (m + 1, n)
        out = matrix(memory, shape, rng, hostile=hostile, dtypes=OUT_DTYPES if hostile else OUT_DTYPES[:5],
                     layouts=IN_PLACE + COPYABLE, in_file=(region + int(rng.integers(0, 3)) * 8) if files else None)
        if hostile and isinstance(out, np.ndarray) and rng.random() < 0.1:
            out.flags.writeable = False
        if rng.random() < 0.08 and usable(call["A"]) and call["A"].size and call["A"].dtype.kind not in "OU":
            out = as_strided(call["A"], shape=shape, strides=call["A"].strides)  # out on A's own bytes
        call["out"] = out
    for name in ("alpha", "beta") if hostile or "out" in call else ("alpha",):
        if rng.random() < 0.6:
            pool = BAD_SCALARS if hostile and rng.random() < 0.3 else GOOD_SCALARS
            call[name] = pool[int(rng.integers(len(pool)))]
    if rng.random() < 0.6:
        call["interface"] = str(rng.choice(["cblas", "fortran"])) if not hostile or rng.random() < 0.9 else "c"
    return call


# --- the oracle --------------------------------------------------------------------------------
def in_place(x: np.ndarray) -> bool:
    """BLAS's own rule: native aligned float64, a unit stride one way and ld ≥ max(1, extent) the other."""
    if x.dtype != np.dtype("f8") or not x.dtype.isnative:
        return False
    if x.size == 0:
        return True
    (rows, cols), (s0, s1) = x.shape, x.strides
    row_major = (cols <= 1 or s1 == 8) and (rows <= 1 or (s0 % 8 == 0 and s0 >= 8 * max(1, cols)))
    col_major = (rows <= 1 or s0 == 8) and (cols <= 1 or (s1 % 8 == 0 and s1 >= 8 * max(1, rows)))
    return x.__array_interface__["data"][0] % 8 == 0 and (row_major or col_major)


def outside(memory: Memory, x: np.ndarray) -> bool:
    """Whether a placed array's elements reach past the buffer it was placed in."""
    start = x.__array_interface__["data"][0]
    low = start + sum(s * (e - 1) for s, e in zip(x.strides, x.shape) if s < 0)
    high = start + sum(s * (e - 1) for s, e in zip(x.strides, x.shape) if s > 0) + x.itemsize
    inside = any(r.__array_interface__["data"][0] <= low and high <= r.__array_interface__["data"][0] + r.size
                 for r, _, _ in memory.buffers)
    return x.size > 0 and not x.flags.owndata and not inside


def self_overlapping(x: np.ndarray) -> bool:
    starts = np.sort(np.array([sum(i * s for i, s in zip(index, x.strides)) for index in np.ndindex(*x.shape)]))
    return bool(np.any(np.diff(starts) < x.itemsize))


def usable(x) -> bool:
    return isinstance(x, np.ndarray) and not isinstance(x, np.ma.MaskedArray) and x.ndim == 2


def faults(call: dict, memory: Memory, libraries: dict) -> set[str]:
    """The arguments the bridge must refuse, by the documented rules."""
    bad, copy = set(), call.get("copy", False)
    for name in ("alpha", "beta"):
        if name in call and not any(call[name] is s for s in GOOD_SCALARS):
            bad.add(name)
    if copy.__class__ is not bool:
        bad.add("copy")
    if call["library"] not in libraries:
        bad.add("library")
    elif call.get("interface") not in (None, *libraries[call["library"]]):
        bad.add("interface")
    for name in ("A", "B"):
        x = call[name]
        if not usable(x) or x.dtype.kind not in "biuf" or outside(memory, x) or not (in_place(x) or copy):
            bad.add(name)
    out, beta = call.get("out"), call.get("beta", 0)
    if out is None:
        if "beta" not in bad and beta != 0:
            bad.add("beta")
        return bad
    if not usable(out) or not out.flags.writeable or outside(memory, out) or (out.size and self_overlapping(out)):
        bad.add("out")
    elif out.dtype.kind not in "fc" or (out.dtype.kind == "c" and "beta" not in bad and beta != 0):
        bad.add("out")
    elif usable(call["A"]) and usable(call["B"]) and out.shape != (call["A"].shape[0], call["B"].shape[1]):
        bad.add("out")
    elif not copy and (not in_place(out) or shares(memory, out, call["A"]) or shares(memory, out, call["B"])):
        bad.add("out")
    return bad


def files_shared(memory: Memory, call: dict) -> bool:
    out, A = call.get("out"), call["A"]
    return usable(out) and shares(memory, out, A) and memory.coordinates(out)[0] != "heap"


def shares(memory: Memory, out: np.ndarray, x) -> bool:
    if not usable(x) or x.dtype.kind in "OU":
        return False
    (space_out, points_out), (space_x, points_x) = memory.coordinates(out), memory.coordinates(x)
    return space_out == space_x and np.intersect1d(points_out, points_x).size > 0


def expected(call: dict) -> tuple[np.ndarray, np.ndarray]:
    """``alpha·A·B + beta·C`` from the values the arrays hold, and its error bound."""
    A, B = (np.asarray(call[x], dtype=np.float64) for x in ("A", "B"))
    alpha, beta = float(call.get("alpha", 1.0)), float(call.get("beta", 0.0))
    out = call.get("out")
    C0 = np.asarray(out.real if out is not None and out.dtype.kind == "c" else (out if out is not None else 0.0), dtype=np.float64)
    want = alpha * (A @ B) + (beta * C0 if beta else 0.0)
    scale = abs(alpha) * (np.abs(A) @ np.abs(B)) + (abs(beta) * np.abs(C0) if beta else 0.0)
    bound = (2 * A.shape[1] + 4) * EPS * scale + 1e-300
    if out is not None and out.dtype.kind in "fc" and np.finfo(out.dtype).eps > EPS:
        bound = bound + np.abs(want) * np.finfo(out.dtype).eps + np.finfo(out.dtype).smallest_subnormal
    return want, bound


# --- one run -----------------------------------------------------------------------------------
def run(seed: int, cases: int) -> dict:
    """``cases`` random calls; the tally of what happened, with every failure described."""
    from nnkit.backends import _fastpath
    from nnkit.backends.dgemm import BridgeError, dgemm

    libraries = library_interfaces()
    tally = collections.Counter()
    failures = []
    with tempfile.TemporaryDirectory() as folder:
        file = os.path.join(folder, "mapped.bin")
        with open(file, "wb") as f:
            f.truncate(2**20)
        for i in range(cases):
            print(i, file=sys.stderr, flush=True)  # the last number printed names the case a death happened in
            rng = np.random.default_rng([seed, i])
            memory = Memory(file)
            call = generate(rng, memory, libraries)
            bad = faults(call, memory, libraries)
            want = None if bad else expected(call)  # before the call: out may be A's own bytes
            before, fast = memory.snapshot(), _fastpath.fast_calls()[0]
            tally[f"{call['library']}/{call.get('interface') or 'default'}"] += 1
            try:
                result, error = dgemm(**call), None
            except BridgeError as e:
                result, error = None, e
            except Exception as e:  # noqa: BLE001 — any other exception is what this fuzz counts
                failures.append((i, "unclear", f"{type(e).__name__}: {e}"))
                continue
            verdict = judge(call, bad, want, result, error, memory, before)
            tally["fast path"] += _fastpath.fast_calls()[0] - fast
            tally["refused" if error else "computed"] += 1
            tally.update(f"faulty {name}" for name in bad)
            if files_shared(memory, call):
                tally["out on the file bytes of A, through another mapping"] += 1
            if verdict:
                failures.append((i, verdict, str(error) if error else sorted(bad)))
            del call, result, memory  # unmap this case's files before the next
    return {"cases": cases, "tally": dict(tally), "failures": failures[:20], "failed": len(failures)}


def judge(call, bad: set, want, result, error, memory: Memory, before) -> str | None:
    """What went wrong with this call, or None."""
    changed = memory.changed(before)
    if error is not None:
        message = str(error)
        if "\n" in message or message.split(":")[0] not in bad:
            return "unclear error" if bad else "valid call refused"
        return "refusal changed memory" if any(changed.values()) else None
    if bad:
        return "invalid call accepted"
    out = call.get("out")
    if out is not None and result is not out:
        return "result is not out"
    got = np.asarray(result)
    if got.dtype.kind == "c":
        if np.any(got.imag):
            return "imaginary part in the result"
        got = got.real
    if not np.all(np.abs(got.astype(np.float64) - want[0]) <= want[1]):
        return "wrong result"
    allowed = collections.defaultdict(set)
    if out is not None and out.size:
        space, points = memory.coordinates(out)
        allowed[space].update(points.tolist())
    return "wrote outside out" if any(changed[s] - allowed[s] for s in changed) else None


def spawn(seed: int, cases: int) -> dict:
    done = subprocess.run([sys.executable, __file__, str(seed), str(cases)], capture_output=True, text=True)
    if done.returncode:
        last = done.stderr.strip().splitlines()[-3:]
        pytest.fail(f"the fuzz process died (status {done.returncode}); last lines: {last}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def check(summary: dict, libraries) -> None:
    assert summary["failed"] == 0, summary["failures"]
    for lib, interfaces in libraries.items():
        for interface in interfaces:
            assert summary["tally"].get(f"{lib}/{interface}", 0) > 0, (lib, interface)
    assert summary["tally"]["computed"] and summary["tally"]["refused"] and summary["tally"]["fast path"]


def library_interfaces() -> dict:
    """Library name → the interfaces it has ("cblas", "fortran")."""
    from nnkit.backends import libraries as found

    return {lib.name: [i for i, role in (("cblas", "cblas_dgemm"), ("fortran", "dgemm")) if role in lib.symbols]
            for lib in found.find_libraries()}


def test_fifteen_hundred_random_calls_are_computed_right_or_refused_clearly():
    check(spawn(seed=2026, cases=1500), library_interfaces())


@pytest.mark.long
def test_twenty_thousand_random_calls_are_computed_right_or_refused_clearly():
    check(spawn(seed=7, cases=20_000), library_interfaces())


if __name__ == "__main__":
    print(json.dumps(run(int(sys.argv[1]), int(sys.argv[2]))))
