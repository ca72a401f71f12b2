"""Weight decay as an L2 penalty on the weights."""

import numpy as np

__all__ = ["l2_penalty"]


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
