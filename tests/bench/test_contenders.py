"""nnkit.bench.contenders: every contender really trains the same classifier on the same splits."""

import importlib.util

import numpy as np
import pytest

from nnkit import data
from nnkit.bench import contenders


@pytest.fixture(scope="module")
def splits():
    return data.split(data.load_digits(), seed=0)


@pytest.mark.parametrize("name", list(contenders.CONTENDERS))
def test_each_contender_learns_the_digits_in_three_epochs(name, splits):
    """PyTorch is optional (pip install 'nnkit[torch]'): without it, its contender fails to import it
    (and the suite says it skipped it: tests/bench/test_time_to_accuracy.py)."""
    fit, module = contenders.CONTENDERS[name]
    if module and importlib.util.find_spec(module) is None:
        with pytest.raises(ModuleNotFoundError, match=module):
            fit(splits, 0, 3, 1)
        return
    run = fit(splits, 0, 3, 1)
    assert len(run.seconds) == len(run.val_accuracy) == 3 and run.seconds == sorted(run.seconds)
    assert run.val_accuracy[-1] > 0.85 and run.test_accuracy > 0.85


@pytest.mark.parametrize("name", [n for n, (_, module) in contenders.CONTENDERS.items()
                                  if not module or importlib.util.find_spec(module)])
def test_each_contender_takes_the_inputs_of_the_splits_it_is_given(name):
    """Not only the digits' 64 pixels: 4×4 images (the digits pooled) and 16×16 ones (upscaled)."""
    digits = data.load_digits()
    images = digits.images.reshape(-1, 8, 8).astype(np.int64)
    for side, pixels in ((4, images.reshape(-1, 4, 2, 4, 2).sum(axis=(2, 4)) // 4),
                         (16, images.repeat(2, axis=1).repeat(2, axis=2))):
        small = data.Dataset(np.ascontiguousarray(pixels.reshape(len(images), -1), dtype=np.uint8), digits.labels,
                             digits.pixel_max, (side, side), f"digits at {side}×{side}")
        run = contenders.CONTENDERS[name][0](data.split(small, seed=0), 0, 2, 1)
        assert run.test_accuracy > 0.5, (name, side)


def test_time_to_is_the_first_epoch_at_the_threshold():
    run = contenders.Run(seconds=[0.1, 0.2, 0.3, 0.4], val_accuracy=[0.5, 0.97, 0.96, 0.99], test_accuracy=0.9)
    assert (run.time_to(0.97), run.time_to(0.98), run.time_to(0.995)) == (0.2, 0.4, None)
