"""Hidden tests of notebook 04: batchnorm_forward and batchnorm_backward on batches the notebook
never shows: other shapes, non-default eps and momentum, running statistics over several batches,
test mode, and the backward pass from the student's own cache.
"""

import numpy as np

from course_lib import layers
from course_lib.reference import batchnorm
from course_instructor.grading.expect import close, true


def _batch(n, d, seed):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, d)) * rng.uniform(0.5, 3.0, d) + rng.uniform(-2, 2, d)
    return x, rng.uniform(0.5, 2.0, d), rng.normal(size=d)


def test_batchnorm_forward_train(batchnorm_forward):
    """train mode on a (7, 4) batch with eps = 1e-3"""
    x, gamma, beta = _batch(7, 4, 501)
    want, _ = batchnorm.batchnorm_forward(x, gamma, beta, {"mode": "train", "eps": 1e-3})
    got = batchnorm_forward(x, gamma, beta, {"mode": "train", "eps": 1e-3})
    true(isinstance(got, tuple) and len(got) == 2, "batchnorm_forward must return (out, cache)")
    close(got[0], want, "out", rtol=1e-6, atol=1e-8)


def test_batchnorm_forward_first_running_statistics(batchnorm_forward):
    """the running statistics after one batch start from mean 0 and variance 1, with momentum 0.9"""
    x, gamma, beta = _batch(6, 3, 502)
    want, got = {"mode": "train"}, {"mode": "train"}
    batchnorm.batchnorm_forward(x, gamma, beta, want)
    batchnorm_forward(x, gamma, beta, got)
    for key in ("running_mean", "running_var"):
        true(key in got, f"bn_param has no {key!r} after a train-mode batch (keep it in the dict you were given)")
        close(got[key], want[key], f"bn_param[{key!r}] after one batch")


def test_batchnorm_forward_running_statistics(batchnorm_forward):
    """running statistics over three batches with momentum = 0.7 (the biased batch variance)"""
    want, got = {"mode": "train", "momentum": 0.7}, {"mode": "train", "momentum": 0.7}
    for batch in range(3):
        x, gamma, beta = _batch(5, 4, 510 + batch)
        batchnorm.batchnorm_forward(x, gamma, beta, want)
        batchnorm_forward(x, gamma, beta, got)
        for key in ("running_mean", "running_var"):
            true(key in got, f"bn_param has no {key!r} after a train-mode batch")
            close(got[key], want[key], f"bn_param[{key!r}] after batch {batch + 1}")


def test_batchnorm_forward_test_mode(batchnorm_forward):
    """test mode normalizes with the running statistics (two train batches first)"""
    want, got = {"mode": "train", "momentum": 0.5}, {"mode": "train", "momentum": 0.5}
    for batch in range(2):
        x, gamma, beta = _batch(8, 3, 520 + batch)
        batchnorm.batchnorm_forward(x, gamma, beta, want)
        batchnorm_forward(x, gamma, beta, got)
    want["mode"] = got["mode"] = "test"
    x, gamma, beta = _batch(4, 3, 522)
    expected, _ = batchnorm.batchnorm_forward(x, gamma, beta, want)
    out, _ = batchnorm_forward(x, gamma, beta, got)
    close(out, expected, "out in test mode")


def _backward(batchnorm_backward, batchnorm_forward, n, d, seed, bn_param):
    x, gamma, beta = _batch(n, d, seed)
    dout = np.random.default_rng(seed + 1).normal(size=(n, d))
    _, cache = batchnorm.batchnorm_forward(x, gamma, beta, dict(bn_param))
    want = batchnorm.batchnorm_backward(dout, cache)
    _, cache = batchnorm_forward(x, gamma, beta, dict(bn_param))
    got = batchnorm_backward(dout, cache)
    true(isinstance(got, tuple) and len(got) == 3, "batchnorm_backward must return (dx, dgamma, dbeta)")
    for name, g, w in zip(("dx", "dgamma", "dbeta"), got, want):
        close(g, w, name, rtol=1e-5, atol=1e-8)


def test_batchnorm_backward_train(batchnorm_backward, batchnorm_forward):
    """dx, dgamma and dbeta in train mode on a (6, 5) batch (from your batchnorm_forward's cache)"""
    _backward(batchnorm_backward, batchnorm_forward, 6, 5, 530, {"mode": "train"})


def test_batchnorm_backward_eps(batchnorm_backward, batchnorm_forward):
    """dx, dgamma and dbeta with eps = 0.1 on a (9, 2) batch (from your batchnorm_forward's cache)"""
    _backward(batchnorm_backward, batchnorm_forward, 9, 2, 540, {"mode": "train", "eps": 0.1})
