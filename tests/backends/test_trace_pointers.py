"""nnkit.backends.trace_pointers: a pointer is an array's only when it lands on one of its elements —
checked against every element's bytes, listed one by one."""

from __future__ import annotations

import itertools
import random

import numpy as np

from nnkit.backends.trace_pointers import holder, lands_on, region


def element_bytes(where) -> set[int]:
    """Every byte of every element of the region, enumerated index by index."""
    data, shape, strides, itemsize = where
    return {data + sum(i * s for i, s in zip(index, strides)) + b
            for index in itertools.product(*(range(n) for n in shape)) for b in range(itemsize)}


def random_region(rng: random.Random):
    """Any shape (empty and 0-d too), strides of any sign, overlapping or zero, any item size."""
    ndim = rng.randint(0, 4)
    shape = tuple(rng.choice([0, 1, 1, 2, 3, 4, 5]) if rng.random() < 0.1 else rng.randint(1, 5) for _ in range(ndim))
    itemsize = rng.choice([1, 2, 4, 8, 16])
    strides = tuple(rng.choice([0, itemsize, -itemsize, rng.randint(-60, 60), itemsize * rng.randint(-9, 9)]) for _ in range(ndim))
    return 10_000 + rng.randint(0, 500), shape, strides, itemsize


def test_lands_on_exactly_the_bytes_of_the_elements():
    rng = random.Random(3)
    hits = misses = 0
    for _ in range(3000):
        where = random_region(rng)
        inside = element_bytes(where)
        near = range(where[0] - 400, where[0] + 400)
        for address in [*rng.sample(sorted(inside), min(5, len(inside))), *rng.sample(near, 15)]:
            assert lands_on(address, where) == (address in inside), (where, address)
            hits += address in inside
            misses += address not in inside
    assert hits > 10_000 and misses > 10_000, (hits, misses)


def test_a_pointer_between_an_arrays_elements_is_not_that_arrays():
    """Blocks of one buffer: ``X[:8, 8:]``'s elements lie between the rows of ``X[:8, :8]``."""
    X = np.zeros((16, 16))
    left, right = region(X[:8, :8]), region(X[:8, 8:])
    assert left[0] < right[0] < left[0] + 8 * 16 * 8  # within the left block's byte range
    assert not lands_on(right[0], left) and lands_on(right[0], right)
    assert holder(right[0], [("X[:8, :8]", left), ("X[:8, 8:]", right)]) == "X[:8, 8:]"


def test_holder_prefers_the_region_whose_first_element_it_is():
    """Random named regions: the name is the first whose first element the address is, else the first
    with an element there, else None — ``A[:, ::-1]`` covers all of ``A`` yet starts elsewhere."""
    rng = random.Random(4)
    counts = {"first element": 0, "any element": 0, "none": 0}
    for _ in range(1500):
        named = [(f"r{j}", random_region(rng)) for j in range(rng.randint(1, 4))]
        bytes_of = {name: element_bytes(where) for name, where in named}
        some = sorted(set().union(*bytes_of.values())) or [0]
        address = rng.choice([rng.choice([w[0] for _, w in named]), rng.choice(some), rng.randint(9_600, 10_900)])
        first = [name for name, where in named if where[0] == address and address in bytes_of[name]]
        anywhere = [name for name, _ in named if address in bytes_of[name]]
        expected = (first or anywhere or [None])[0]
        counts["first element" if first else "any element" if anywhere else "none"] += 1
        assert holder(address, named) == expected, (named, address)
    A = np.ones((4, 6))
    assert holder(region(A)[0], [("A[:, ::-1]", region(A[:, ::-1])), ("A", region(A))]) == "A"
    assert min(counts.values()) > 100, counts
