"""Comparing gradients: the relative error between an analytic and a numerical gradient.

The numerical gradient itself is the student's (notebook 01, ``numerical_gradient``). To check a
layer's backward, turn the layer into a scalar with a random upstream gradient:
``numerical_gradient(lambda x: np.sum(layer(x) * dout), x)`` is ``dx`` for that ``dout``.
"""

import numpy as np

__all__ = ["rel_error"]


def rel_error(a, b):
    """Largest elementwise relative error ``|a - b| / max(|a| + |b|, 1e-8)``.

    About 1e-7 or less means two float64 gradients agree; 1e-2 or more means a bug.
    """
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if a.shape != b.shape:
        raise ValueError(f"rel_error: shapes differ, {a.shape} and {b.shape}")
    return float(np.max(np.abs(a - b) / np.maximum(np.abs(a) + np.abs(b), 1e-8), initial=0.0))
