"""Gradient descent and its numerical gradient (notebook 01): the references.

``numerical_gradient(f, x)`` estimates the gradient of a scalar function by central differences;
``gradient_descent(grad, x0, learning_rate, num_steps)`` returns the whole trajectory.
"""

import numpy as np

__all__ = ["numerical_gradient", "gradient_descent"]


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


def gradient_descent(grad, x0, learning_rate, num_steps):
    """Plain gradient descent: x_{k+1} = x_k - learning_rate * grad(x_k).

    grad: function from an array shaped like x0 to its gradient (same shape).
    Returns the trajectory, shape (num_steps + 1, *x0.shape): x0 first. ``x0`` is not modified.
    """
    x = np.array(x0, dtype=float)
    path = np.empty((num_steps + 1, *x.shape))
    path[0] = x
    for k in range(num_steps):
        x = x - learning_rate * np.asarray(grad(x))
        path[k + 1] = x
    return path
