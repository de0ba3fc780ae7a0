"""What watching costs: the tracer per BLAS call, the instrumented namespace per operation and on
a batch-256 training step — each measured beside the same work unwatched, in one run."""

from __future__ import annotations

import numpy as np

from nnkit.bench.timing import median_seconds


def run(quick: bool, say, results: dict | None = None) -> dict:
    import array_api_compat.numpy as np_xp

    from nnkit import model, optim, train
    from nnkit.backends.instrumented import instrumented
    from nnkit.backends.trace import trace

    repeats = 3 if quick else 9
    A = np.ones((4, 4))
    plain_call = median_seconds(lambda: A @ A, repeats)
    with trace():
        traced_call = median_seconds(lambda: A @ A, repeats)

    xp = instrumented(np_xp)
    a, b = np.ones(16), np.ones(16)
    ia, ib = xp.asarray(a), xp.asarray(b)
    plain_op = median_seconds(lambda: a + b, repeats)
    wrapped_op = median_seconds(lambda: ia + ib, repeats)
    with xp.recording() as ops:
        recorded_op = median_seconds(lambda: ia + ib, repeats)
        ops.clear()

    def step_on(space):
        rng = np.random.default_rng(0)
        params = model.init([784, 128, 10], space, rng)
        X = space.asarray(rng.random((784, 256)))
        Y = space.asarray(np.eye(10)[:, rng.integers(0, 10, 256)])
        return lambda: train.train_step(params, X, Y, optim.SGD(0.1))

    plain_step = median_seconds(step_on(np_xp), repeats)
    instrumented_step = step_on(xp)
    with xp.recording() as ops:
        recorded_step = median_seconds(lambda: (instrumented_step(), ops.clear()), repeats)
    result = {
        "trace_per_blas_call_us": (traced_call - plain_call) * 1e6, "blas_call_4x4_us": plain_call * 1e6,
        "wrapper_per_op_us": (wrapped_op - plain_op) * 1e6, "recording_per_op_us": (recorded_op - plain_op) * 1e6,
        "plain_op_us": plain_op * 1e6, "step_784_128_10_batch256_ms": plain_step * 1e3,
        "recorded_step_ratio": recorded_step / plain_step,
    }
    say(f"trace: {result['trace_per_blas_call_us']:+.3f} µs per BLAS call (4×4 A @ A: {plain_call * 1e6:.3f} µs "
        f"plain, {traced_call * 1e6:.3f} µs traced)")
    say(f"instrumented namespace: a + b on 16 doubles {plain_op * 1e6:.3f} µs plain, {wrapped_op * 1e6:.3f} µs "
        f"wrapped ({result['wrapper_per_op_us']:+.3f} µs), {recorded_op * 1e6:.3f} µs recorded ({result['recording_per_op_us']:+.3f} µs)")
    say(f"training step 784-128-10, batch 256, float64: {plain_step * 1e3:.3f} ms plain, {recorded_step * 1e3:.3f} ms "
        f"recorded = {result['recorded_step_ratio']:.2f}×")
    return result
