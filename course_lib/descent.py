"""The path any update rule takes on a function (the trajectories of notebooks 01 to 03)."""

import numpy as np

__all__ = ["trajectory", "paths"]


def trajectory(rule, grad, x0, num_steps, config=None):
    """The points an update rule visits, starting at ``x0``.

    rule: ``next_x, config = rule(x, dx, config)``, such as your own from notebooks 02 and 03;
    grad: function from a point to the gradient there (shaped like ``x0``); config: the rule's
    first config (None for its defaults), after which each call's returned config is passed on.

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


def paths(surface, runs, steps=30):
    """``{label: trajectory}`` for several rules on one surface of ``course_lib.surfaces``.

    runs: ``{label: (rule, config)}``; each rule starts at ``surface.start`` and takes ``steps``
    steps on ``surface.grad``. Each trajectory has shape (steps + 1, 2).
    """
    return {label: trajectory(rule, surface.grad, surface.start, steps, config)
            for label, (rule, config) in runs.items()}
