"""What CPU this is, as the kernel reports it (``/proc/cpuinfo``): model, cores, vector extensions."""

from __future__ import annotations

import os
import platform

SIMD_FLAGS = ("sse2", "avx", "avx2", "fma", "avx512f", "avx512_fp16", "neon", "asimd", "sve")


def cpu_info() -> dict:
    """``{"model", "machine", "logical_cores", "simd", "openblas_coretype"}`` — read, not assumed."""
    model, flags = platform.processor() or platform.machine(), set()
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                key, _, value = line.partition(":")
                if key.strip() == "model name":
                    model = value.strip()
                elif key.strip() in ("flags", "Features"):
                    flags = set(value.split())
    except OSError:
        pass
    return {
        "model": model,
        "machine": platform.machine(),
        "logical_cores": os.cpu_count(),
        "simd": [f for f in SIMD_FLAGS if f in flags],
        "openblas_coretype": os.environ.get("OPENBLAS_CORETYPE"),
    }
