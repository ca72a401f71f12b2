"""Regularization (notebook 07): weight decay as an L2 penalty, and inverted dropout.

Dropout is a forward/backward pair like ``course_lib.layers``: ``out, cache = dropout_forward(x,
dropout_param)``, ``dx = dropout_backward(dout, cache)``; x has any shape.
"""

from typing import NamedTuple

import numpy as np

from course_lib.layers import check_mode

__all__ = ["l2_penalty", "DropoutCache", "dropout_forward", "dropout_backward"]


def l2_penalty(weights, lam):
    """The L2 penalty ``lam / 2 * sum_W ||W||^2`` and its gradient ``lam * W`` for each W.

    weights: a list of arrays (the weight matrices; biases are usually left out)
    lam: the penalty strength, >= 0
    Returns (loss, grads): a float, and a list of arrays shaped like ``weights``.
    """
    if lam < 0:
        raise ValueError(f"l2_penalty: lam must be >= 0, got {lam!r}")
    loss = 0.5 * lam * sum(float(np.sum(w * w)) for w in weights)
    return loss, [lam * w for w in weights]


# --------------------------------------------------------------------------------------
# Dropout
# --------------------------------------------------------------------------------------

class DropoutCache(NamedTuple):
    mask: np.ndarray  # same shape as x: 0 for a dropped unit, 1 / (1 - p) for a kept one
    mode: str


def dropout_forward(x, dropout_param):
    """Inverted dropout.

    train: each unit is dropped (set to 0) with probability p, and the kept ones are
           scaled by 1 / (1 - p), so that the expected output equals x.
    test:  the identity.

    x: any shape  ->  out: same shape, cache: DropoutCache(mask, mode)
    dropout_param: p (probability of dropping, 0 <= p < 1), mode ('train' | 'test'),
        seed (optional int, for a reproducible mask) or rng (optional numpy Generator).
    """
    p, mode = dropout_param.get("p"), dropout_param.get("mode")
    check_mode("dropout_forward", mode)
    if p is None or not 0 <= p < 1:
        raise ValueError(f"dropout_forward: p, the probability of dropping a unit, must be in [0, 1), got {p!r}")
    if mode == "test":
        return x.copy(), DropoutCache(None, mode)
    rng = dropout_param.get("rng") or np.random.default_rng(dropout_param.get("seed"))
    mask = (rng.random(x.shape) >= p).astype(x.dtype) / np.asarray(1 - p, dtype=x.dtype)
    return x * mask, DropoutCache(mask, mode)


def dropout_backward(dout, cache):
    """dout: any shape  ->  dx: same shape; the kept units pass their gradient, scaled like the forward."""
    if cache.mode == "test":
        return dout.copy()
    return dout * cache.mask
