"""Hidden tests of notebook 05: l2_penalty, dropout_forward and dropout_backward.

Dropout's mask depends on how a correct solution draws it, so dropout is judged by what the
contract fixes: the fraction of units dropped (on 60,000 units, within about eight standard
errors), the scaling of the kept ones, the identity in test mode, the seed, and a backward pass
that uses the forward's mask.
"""

import numpy as np

from course_lib.reference import regularization
from course_instructor.grading.expect import close, equal, true, unchanged


def _weights(seed, shapes=((4, 3), (3, 5), (5,))):
    rng = np.random.default_rng(seed)
    return [rng.normal(size=shape) for shape in shapes]


def _penalty(l2_penalty, weights, lam):
    want_loss, want_grads = regularization.l2_penalty(weights, lam)
    got = l2_penalty(weights, lam)
    true(isinstance(got, tuple) and len(got) == 2, "l2_penalty must return (loss, grads)")
    loss, grads = got
    close(loss, want_loss, "the loss")
    true(isinstance(grads, list) and len(grads) == len(weights), "grads must be a list with one array per weight")
    for i, (g, w) in enumerate(zip(grads, want_grads)):
        close(g, w, f"grads[{i}]")


def test_l2_penalty_three_weights(l2_penalty):
    """three weight arrays of different shapes, lam = 0.37"""
    _penalty(l2_penalty, _weights(601), 0.37)


def test_l2_penalty_zero(l2_penalty):
    """lam = 0 gives a zero loss and zero gradients"""
    _penalty(l2_penalty, _weights(602), 0.0)


def test_l2_penalty_keeps_weights(l2_penalty):
    """the weights are not changed in place (and the penalty is right)"""
    weights = _weights(603)
    saved = [w.copy() for w in weights]
    _penalty(l2_penalty, weights, 2.5)
    for i, (w, s) in enumerate(zip(weights, saved)):
        unchanged(w, s, f"weights[{i}]")


def _units(seed, shape=(200, 300)):
    """Inputs with no zeros, so that a zero in the output is a dropped unit."""
    rng = np.random.default_rng(seed)
    return rng.uniform(0.5, 1.5, shape) * rng.choice([-1.0, 1.0], shape)


def _train(dropout_forward, x, p, seed):
    got = dropout_forward(x, {"p": p, "mode": "train", "seed": seed})
    true(isinstance(got, tuple) and len(got) == 2, "dropout_forward must return (out, cache)")
    out = np.asarray(got[0], dtype=float)
    equal(out.shape, x.shape, "the shape of out")
    return out, got[1]


def test_dropout_forward_fraction(dropout_forward):
    """p = 0.3 drops about 30% of 60,000 units"""
    out, _ = _train(dropout_forward, _units(611), 0.3, 5)
    dropped = np.mean(out == 0)
    true(abs(dropped - 0.3) < 0.015, "the fraction of dropped units is not p (p is the probability of dropping)")


def test_dropout_forward_scaling(dropout_forward):
    """the kept units are scaled by 1 / (1 - p), with p = 0.6"""
    x = _units(612)
    out, _ = _train(dropout_forward, x, 0.6, 6)
    kept = out != 0
    true(kept.any(), "every unit was dropped")
    close(out[kept], x[kept] / 0.4, "the kept units")


def test_dropout_forward_test_mode(dropout_forward):
    """test mode is the identity"""
    x = _units(613, (3, 4, 5))
    out, _ = dropout_forward(x, {"p": 0.5, "mode": "test"})
    close(out, x, "out in test mode")


def test_dropout_forward_seed(dropout_forward):
    """the same seed gives the same mask, another seed another mask; x is unchanged"""
    x = _units(614, (20, 30))
    before = x.copy()
    first, _ = _train(dropout_forward, x, 0.5, 7)
    again, _ = _train(dropout_forward, x, 0.5, 7)
    other, _ = _train(dropout_forward, x, 0.5, 8)
    unchanged(x, before, "x")
    true(np.array_equal(first, again), "the same seed gave different masks")
    true(not np.array_equal(first, other), "different seeds gave the same mask (draw from the seed given)")


def test_dropout_backward_train(dropout_backward, dropout_forward):
    """dx passes the gradient of the kept units only, scaled like the forward (from your dropout_forward's cache)"""
    x = _units(621, (30, 40))
    out, cache = _train(dropout_forward, x, 0.25, 9)
    dout = np.random.default_rng(622).normal(size=x.shape)
    close(dropout_backward(dout, cache), dout * (out != 0) / 0.75, "dx")


def test_dropout_backward_test_mode(dropout_backward, dropout_forward):
    """in test mode dx = dout (from your dropout_forward's cache)"""
    x = _units(623, (5, 6))
    _, cache = dropout_forward(x, {"p": 0.5, "mode": "test"})
    dout = np.random.default_rng(624).normal(size=x.shape)
    close(dropout_backward(dout, cache), dout, "dx in test mode")
