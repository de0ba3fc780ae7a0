"""nnkit.threads: the products of a step, the idle cores, the choice and its reason, the limit undone."""

import os
import threading
import time

import numpy as np
import pytest
from threadpoolctl import threadpool_info

import array_api_compat.numpy as np_xp
from nnkit import model, optim, threads, train
from nnkit.backends.instrumented import instrumented

STEP_CASES = 20  # seeded: layer sizes (1-3 hidden layers) × batch size


@pytest.mark.parametrize("case", range(STEP_CASES))
def test_step_products_are_the_products_a_training_step_makes(case):
    """The oracle: the instrumented namespace records every matmul of a real step, with its shapes."""
    rng = np.random.default_rng(case)
    sizes = rng.integers(1, 40, size=rng.integers(3, 6)).tolist()
    batch = int(rng.integers(1, 50))
    xp = instrumented(np_xp)
    params = model.init(sizes, xp, rng)
    X = xp.asarray(rng.standard_normal((sizes[0], batch)))
    Y = xp.asarray(np.eye(sizes[-1])[:, rng.integers(0, sizes[-1], batch)])
    with xp.recording() as ops:
        train.train_step(params, X, Y, optim.make("adam"))
    recorded = [(op.flops // 2) for op in ops if op.name == "matmul"]
    assert sorted(recorded) == sorted(m * n * k for m, n, k in threads.step_products(sizes, batch))


def test_idle_cores_is_between_none_and_all():
    assert 0 <= threads.idle_cores(0.05) <= (os.cpu_count() or 1)


def test_this_processs_own_ticks_include_its_other_threads():
    """What idle_cores gives back is all of this process's CPU — a thread spinning beside the one that
    measures (as OpenBLAS's do for a while after a product) included, whatever the machine's load."""
    stop, used = threading.Event(), []

    def spin():
        start = time.thread_time()
        while not stop.is_set():
            pass
        used.append(time.thread_time() - start)

    before = threads._own_ticks()
    spinner = threading.Thread(target=spin)
    spinner.start()
    time.sleep(0.3)
    stop.set()
    spinner.join()
    ticks = threads._own_ticks() - before
    assert ticks >= used[0] * os.sysconf("SC_CLK_TCK") - 2, (ticks, used)  # 2: a tick's rounding at each end


def test_idle_cores_adds_back_only_this_processs_own_ticks(monkeypatch):
    ticks = iter([(100, 100), (250, 150)])  # others and this process: 150 busy ticks, 50 idle
    own = iter([0.0, 100.0])  # of the 150 busy ticks, 100 were this process's
    monkeypatch.setattr(threads, "_cpu_times", lambda: next(ticks))
    monkeypatch.setattr(threads, "_own_ticks", lambda: next(own))
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 1}, raising=False)
    monkeypatch.setattr(os, "cpu_count", lambda: 2)
    assert threads.idle_cores(0.0) == 2 * (50 + 100) / 200


def test_a_requested_count_is_taken_as_it_is_and_more_than_the_cores_is_said(monkeypatch):
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 1, 2, 3}, raising=False)
    assert threads.choose([64, 128, 10], 128, requested=3) == threads.Choice(3, "--threads 3")
    assert threads.choose([64, 128, 10], 128, requested=64) == threads.Choice(
        64, "--threads 64, more than the 4 cores this process may use: threads will take turns")


def test_a_busy_machine_gets_one_thread(monkeypatch):
    monkeypatch.setattr(threads, "idle_cores", lambda seconds=0.1: 0.4)
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 1}, raising=False)
    choice = threads.choose([784, 512, 10], 128)
    assert choice.threads == 1 and "busy: 0.4 of" in choice.reason


@pytest.mark.parametrize("sizes, batch", [([64, 128, 10], 32), ([64, 16, 10], 128), ([8, 8, 8, 8], 256)])
def test_small_products_get_one_thread_on_an_idle_machine(monkeypatch, sizes, batch):
    monkeypatch.setattr(threads, "idle_cores", lambda seconds=0.1: 2.0)
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 1}, raising=False)
    monkeypatch.setattr(threads, "time_products", lambda *a, **k: pytest.fail("small products are not timed"))
    choice = threads.choose(sizes, batch)
    assert choice.threads == 1 and "multiply-adds ≤ 262,144 = 64³, where every OpenBLAS build uses one thread" in choice.reason


@pytest.mark.parametrize("one, many, expected", [(2.0, 1.0, 2), (1.0, 2.0, 1)])
def test_large_products_get_the_faster_measured_count(monkeypatch, one, many, expected):
    monkeypatch.setattr(threads, "idle_cores", lambda seconds=0.1: 2.0)
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 1}, raising=False)
    monkeypatch.setattr(threads, "time_products", lambda products, dtype, count: (one, many))
    choice = threads.choose([784, 128, 10], 128)
    assert choice.threads == expected and "measured" in choice.reason and "12,845,056 multiply-adds: above 262,144 = 64³" in choice.reason


def test_time_products_times_real_products_on_both_counts():
    one, many = threads.time_products([(64, 32, 48), (8, 8, 8)], "float32", 2, pairs=2)
    assert one > 0 and many > 0


def _blas_threads() -> list[int]:
    return [lib["num_threads"] for lib in threadpool_info() if lib["user_api"] == "blas"]


def test_the_limit_is_undone_after_the_block_even_after_an_error():
    before = _blas_threads()
    with pytest.raises(RuntimeError):
        with threads.limited(1):
            assert set(_blas_threads()) == {1}
            raise RuntimeError("inside")
    assert _blas_threads() == before


@pytest.mark.parametrize("one, many, chosen", [(1.0, 0.5, 2), (1.0, 0.89, 2), (1.0, 0.95, 1), (1.0, 1.0, 1), (1.0, 1.3, 1)])
def test_all_cores_only_when_clearly_faster(monkeypatch, one, many, chosen):
    """An idle machine, large products: all cores win only at ≤ 0.9× one core's time (a tie is noise)."""
    monkeypatch.setattr(threads, "idle_cores", lambda seconds=0.1: 2.0)
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 1}, raising=False)
    monkeypatch.setattr(threads, "time_products", lambda products, dtype, cores: (one, many))
    assert threads.choose([784, 512, 10], 128).threads == chosen
