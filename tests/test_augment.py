"""Augmentation on the fly: random_shifts against data.shift_images, its draws, its contract."""

import numpy as np
import pytest

from course_lib import data
from course_lib.augment import ONE_PIXEL, random_shifts


def images(n=200, shape=(8, 8), dtype=np.float32):
    return np.random.default_rng(0).random((n, shape[0] * shape[1])).astype(dtype)


@pytest.mark.parametrize("shift", [(0, 0), (1, 0), (-1, 0), (0, 1), (0, -1), (2, -1), (-3, 3)])
def test_a_single_shift_is_data_shift_images(shift):
    X = images(shape=(8, 7))
    out = random_shifts(X, (8, 7), np.random.default_rng(1), shifts=[shift])
    np.testing.assert_array_equal(out, data.shift_images(X, (8, 7), *shift))


def test_every_image_gets_one_of_the_shifts_each_about_as_often():
    X = images(n=2000)
    out = random_shifts(X, (8, 8), np.random.default_rng(2))
    candidates = np.stack([data.shift_images(X, (8, 8), dx, dy) for dx, dy in ONE_PIXEL])   # (5, N, 64)
    matches = np.all(candidates == out[None], axis=2)                                        # (5, N)
    assert matches.any(axis=0).all()
    # the random pixels make every shift of an image different, so each image matches exactly one
    counts = np.bincount(matches.argmax(axis=0), minlength=len(ONE_PIXEL))
    assert (np.abs(counts - 400) < 4 * np.sqrt(2000 * 0.2 * 0.8)).all(), counts


def test_a_fresh_draw_each_call_the_same_draws_for_the_same_seed():
    X = images()
    rng = np.random.default_rng(3)
    first, second = random_shifts(X, (8, 8), rng), random_shifts(X, (8, 8), rng)
    assert not np.array_equal(first, second)
    np.testing.assert_array_equal(first, random_shifts(X, (8, 8), np.random.default_rng(3)))


def test_keeps_shape_and_dtype_and_leaves_the_input_alone():
    for dtype in (np.float32, np.float64):
        X = images(n=10, dtype=dtype)
        before = X.copy()
        out = random_shifts(X, (8, 8), np.random.default_rng(4))
        assert out.shape == X.shape and out.dtype == dtype
        np.testing.assert_array_equal(X, before)
        assert not np.shares_memory(out, X)


def test_rejects_a_wrong_image_shape_or_no_shifts():
    with pytest.raises(ValueError, match=r"expected X of shape \(N, 64\) for images of \(8, 8\), got \(3, 63\)"):
        random_shifts(np.zeros((3, 63)), (8, 8), np.random.default_rng(0))
    with pytest.raises(ValueError, match="shifts is empty"):
        random_shifts(np.zeros((3, 64)), (8, 8), np.random.default_rng(0), shifts=[])
