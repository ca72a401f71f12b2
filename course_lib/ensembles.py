"""Ensembles: average the class probabilities of several networks.

Notebook 07 uses this for snapshot ensembles (the networks saved at the end of each
cycle of a cosine schedule with restarts; Huang et al. 2017) and for dropout seen as an
ensemble of thinned networks (one network per dropout mask; Srivastava et al. 2014).

>>> import numpy as np
>>> scores = np.array([[[2.0, 0.0]], [[0.0, 1.0]], [[0.0, 3.0]]])   # 3 members, 1 sample, 2 classes
>>> ensemble_accuracy(scores, np.array([1]))                          # members 1, 1-2, 1-3
array([0., 0., 1.])
"""

import numpy as np

from .layers import log_softmax

__all__ = ["softmax", "ensemble_accuracy"]


def softmax(scores):
    """Class probabilities from scores: (..., C) -> (..., C), each row summing to 1 (float64)."""
    return np.exp(log_softmax(np.asarray(scores, dtype=np.float64)))


def ensemble_accuracy(member_scores, y):
    """The accuracy of the ensemble of the first k members, for k = 1 .. K.

    member_scores: (K, N, C), the class scores of K networks on the same N samples.
    y: (N,) labels (or another network's predictions, to measure agreement with it).
    The ensemble of k members predicts ``argmax_c mean_{i<=k} softmax(scores_i)[c]``.
    Returns (K,) floats.
    """
    member_scores = np.asarray(member_scores)
    y = np.asarray(y)
    if member_scores.ndim != 3 or member_scores.shape[1] != len(y):
        raise ValueError(f"ensemble_accuracy: expected member_scores of shape (K, N, C) with N = len(y) = {len(y)}, "
                         f"got {member_scores.shape}")
    probabilities = np.cumsum(softmax(member_scores), axis=0)   # the sum of the first k; argmax is the same as the mean's
    return (probabilities.argmax(axis=-1) == y).mean(axis=1)
