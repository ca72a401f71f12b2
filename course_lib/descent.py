"""Gradient descent, and the path any update rule takes on a function."""

import numpy as np

__all__ = ["gradient_descent", "trajectory"]


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


def trajectory(rule, grad, x0, num_steps, config=None):
    """The points an update rule from ``course_lib.optim`` visits, starting at ``x0``.

    Returns an array of shape (num_steps + 1, *x0.shape), x0 first. Stops early (the rest of
    the path repeats the last finite point) if the iterate leaves the finite numbers, so a
    diverging rule still plots.
    """
    x = np.array(x0, dtype=float)
    path = np.empty((num_steps + 1, *x.shape))
    path[0] = x
    for k in range(num_steps):
        with np.errstate(over="ignore", invalid="ignore"):   # divergence is handled below
            dw = np.asarray(grad(x), dtype=float)
        next_x = None
        if np.isfinite(dw).all():
            next_x, config = rule(x, dw, config)
        if next_x is None or not np.isfinite(next_x).all():
            path[k + 1:] = x
            break
        x = next_x
        path[k + 1] = x
    return path
