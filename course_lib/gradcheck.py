"""Gradients by central differences, to check analytic gradients against.

``numerical_gradient(f, x)`` estimates the gradient of a scalar function. To check
a layer's backward, turn the layer into a scalar with a random upstream gradient:
``numerical_gradient(lambda x: np.sum(layer(x) * dout), x)`` is ``dx`` for that ``dout``.
"""

import numpy as np

__all__ = ["numerical_gradient", "rel_error"]


def numerical_gradient(f, x, h=1e-5):
    """Central-difference gradient of a scalar function ``f`` at ``x``.

    df/dx_i ~ (f(x + h e_i) - f(x - h e_i)) / (2h), with error O(h**2).

    x: float array of any shape  ->  array of the same shape. ``x`` is unchanged afterwards
    (each coordinate is moved and put back, on a private copy).
    """
    x = np.asarray(x)
    if not np.issubdtype(x.dtype, np.floating):
        raise TypeError(f"numerical_gradient: x must be a float array, got dtype {x.dtype}")
    point = x.astype(np.float64, copy=True)
    grad = np.zeros_like(point)
    for i in np.ndindex(point.shape):
        saved = point[i]
        point[i] = saved + h
        f_plus = float(f(point))
        point[i] = saved - h
        f_minus = float(f(point))
        point[i] = saved
        grad[i] = (f_plus - f_minus) / (2 * h)
    return grad


def rel_error(a, b):
    """Largest elementwise relative error ``|a - b| / max(|a| + |b|, 1e-8)``.

    About 1e-7 or less means two float64 gradients agree; 1e-2 or more means a bug.
    """
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if a.shape != b.shape:
        raise ValueError(f"rel_error: shapes differ, {a.shape} and {b.shape}")
    return float(np.max(np.abs(a - b) / np.maximum(np.abs(a) + np.abs(b), 1e-8), initial=0.0))
