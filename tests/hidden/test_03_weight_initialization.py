"""Hidden tests of notebook 03: xavier and he, judged by the statistics of what they draw.

The exact numbers depend on how a correct solution draws (rng.normal(0, std, size) or
rng.standard_normal(size) * std), so the tests check what the contract fixes: the shape, the
mean, the standard deviation and the normal shape of the distribution (on 120,000 draws, with
tolerances of about ten standard errors), and that the given generator is used.
"""

import numpy as np

from course_lib import init
from course_lib.reference import init as reference_init
from course_instructor.grading.expect import close, equal, true


def _distribution(draw, fan_in, fan_out, std, what):
    w = np.asarray(draw(fan_in, fan_out, np.random.default_rng(401)), dtype=float)
    equal(w.shape, (fan_in, fan_out), f"the shape of {what}")
    true(abs(w.mean()) < 0.02 * std, f"{what}: the mean of the entries is not 0")
    close(w.std(), std, f"{what}: the standard deviation", rtol=0.02)
    kurtosis = np.mean((w - w.mean()) ** 4) / w.var() ** 2
    true(2.85 < kurtosis < 3.15, f"{what}: the entries are not normally distributed (uniform instead?)")


def _uses_rng(draw, what):
    same = [np.asarray(draw(7, 5, np.random.default_rng(s))) for s in (11, 11, 12)]
    true(np.array_equal(same[0], same[1]), f"{what}: two generators with the same seed give different weights "
                                           "(draw from the rng you are given)")
    true(not np.array_equal(same[0], same[2]), f"{what}: generators with different seeds give the same weights "
                                               "(draw from the rng you are given, not np.random)")


def test_xavier_distribution(xavier):
    """400 x 300 weights: mean 0, std sqrt(2 / (fan_in + fan_out)), normal"""
    _distribution(xavier, 400, 300, reference_init.xavier_std(400, 300), "the weights")


def test_xavier_wide_layer(xavier):
    """a layer with more outputs than inputs (100 x 1200) uses both fans"""
    _distribution(xavier, 100, 1200, reference_init.xavier_std(100, 1200), "the weights")


def test_xavier_uses_rng(xavier):
    """the generator passed as rng decides the weights"""
    _uses_rng(xavier, "xavier")


def test_he_distribution(he):
    """400 x 300 weights: mean 0, std sqrt(2 / fan_in), normal"""
    _distribution(he, 400, 300, reference_init.he_std(400), "the weights")


def test_he_narrow_layer(he):
    """a layer with fewer outputs than inputs (1500 x 80) uses fan_in only"""
    _distribution(he, 1500, 80, reference_init.he_std(1500), "the weights")


def test_he_uses_rng(he):
    """the generator passed as rng decides the weights"""
    _uses_rng(he, "he")
