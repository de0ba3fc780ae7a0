"""What watching costs: the tracer per BLAS call, the instrumented namespace per operation and on
a batch-256 training step — each measured beside the same work unwatched, in one run."""

from __future__ import annotations

import contextlib

import numpy as np

from nnkit.bench.timing import paired


def run(quick: bool, say, results: dict | None = None) -> dict:
    import array_api_compat.numpy as np_xp

    from nnkit import model, optim, train
    from nnkit.backends.instrumented import instrumented
    from nnkit.backends.trace import trace

    repeats = 5 if quick else 21
    A = np.ones((4, 4))
    blas = paired(lambda: A @ A, lambda: A @ A, repeats, around_other=trace)

    xp = instrumented(np_xp)
    a, b = np.ones(16), np.ones(16)
    ia, ib = xp.asarray(a), xp.asarray(b)
    wrapped = paired(lambda: a + b, lambda: ia + ib, repeats)

    def recording():
        @contextlib.contextmanager
        def block():
            with xp.recording() as ops:
                yield
            ops.clear()
        return block()

    recorded = paired(lambda: ia + ib, lambda: ia + ib, repeats, around_other=recording)

    def step_on(space):
        rng = np.random.default_rng(0)
        params = model.init([784, 128, 10], space, rng)
        X = space.asarray(rng.random((784, 256)))
        Y = space.asarray(np.eye(10)[:, rng.integers(0, 10, 256)])
        return lambda: train.train_step(params, X, Y, optim.SGD(0.1))

    step = paired(step_on(np_xp), step_on(xp), repeats, min_time=0.0, around_other=recording)
    result = {
        "trace_per_blas_call_us": blas["difference"] * 1e6, "blas_call_4x4_us": blas["plain"] * 1e6,
        "wrapper_per_op_us": wrapped["difference"] * 1e6, "recording_per_op_us": recorded["difference"] * 1e6,
        "plain_op_us": wrapped["plain"] * 1e6, "step_784_128_10_batch256_ms": step["plain"] * 1e3,
        "recorded_step_ratio": step["ratio"],
    }
    say(f"trace: {result['trace_per_blas_call_us']:+.3f} µs per BLAS call (4×4 A @ A, {blas['plain'] * 1e6:.3f} µs untraced; "
        f"median of {repeats} alternating pairs)")
    say(f"instrumented namespace: a + b on 16 doubles {wrapped['plain'] * 1e6:.3f} µs plain; the wrapper adds "
        f"{result['wrapper_per_op_us']:+.3f} µs, recording a further {result['recording_per_op_us']:+.3f} µs")
    say(f"training step 784-128-10, batch 256, float64: {step['plain'] * 1e3:.3f} ms plain, {step['other'] * 1e3:.3f} ms "
        f"instrumented and recorded — {step['ratio']:.2f}× (median of paired runs)")
    return result
