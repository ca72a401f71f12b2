"""Exponentially weighted averages, SGD and momentum: the references of notebook 02.

Every update rule has one contract::

    next_w, config = rule(w, dw, config=None)

- ``w``, ``dw``: arrays of one shape (any shape), the parameters and the gradient of
  the loss with respect to them. ``next_w`` has the shape and dtype of ``w``.
- ``config``: a dict holding the rule's hyperparameters and its state. Missing
  hyperparameters get their defaults, missing state starts at zero. The rule never
  changes the dict or the arrays it is given: it returns a new dict, and the caller
  passes that one to the next call.

Conventions (they differ between libraries):

- The learning rate multiplies the whole step; the sign of the step is applied in one
  place, the last line of each rule.
- ``epsilon`` sits outside the square root, ``dw / (sqrt(cache) + epsilon)``, as in
  PyTorch and CS231n. TensorFlow 1 put it inside the root; notebook 03 compares the two.
- Momentum keeps ``velocity`` as a step (``v = mu * v - lr * dw``; ``w + v``), as in
  CS231n. PyTorch keeps a running sum of gradients instead; the trajectories are equal.

>>> import numpy as np
>>> w, config = np.array([1.0, -2.0]), None
>>> for _ in range(3):
...     w, config = sgd_momentum(w, 2 * w, config)
>>> config["velocity"].shape
(2,)
"""

import numpy as np

__all__ = ["ewma", "ewma_step", "debias", "sgd", "sgd_momentum", "nesterov"]


# --------------------------------------------------------------------------------------
# Building blocks: an EWMA's step, and the contract every update rule keeps
# --------------------------------------------------------------------------------------

def ewma_step(average, x, beta):
    """One step of an exponentially weighted moving average: ``beta * average + (1 - beta) * x``,
    computed as ``average + (1 - beta) * (x - average)`` in one new array.

    ``average`` and ``x`` are not modified.
    """
    new = x - average
    new *= 1 - beta
    new += average
    return new


def debias(average, beta, t):
    """Undo the pull towards the zero start of an EWMA after ``t`` steps (t >= 1): ``average / (1 - beta**t)``."""
    return average / (1 - beta**t)


def _settings(rule, config, defaults, state_names, w):
    """A copy of ``config`` with defaults filled in, checked against what ``rule`` accepts.

    ``defaults`` maps each hyperparameter to its default; ``state_names`` are the state
    keys, started at zeros like ``w`` when missing (``t`` starts at 0).
    """
    if config is None:
        config = {}
    if not isinstance(config, dict):
        raise TypeError(f"{rule}: config must be a dict or None, got {type(config).__name__}")
    unknown = set(config) - set(defaults) - set(state_names)
    if unknown:
        allowed = ", ".join([*defaults, *state_names])
        raise ValueError(f"{rule}: unknown config key(s) {sorted(unknown)}; allowed keys are {allowed}")
    settings = {**defaults, **config}
    if not settings["learning_rate"] > 0:
        raise ValueError(f"{rule}: learning_rate must be > 0, got {settings['learning_rate']!r}")
    for name in ("momentum", "decay_rate", "beta1", "beta2"):
        if name in settings and not 0 <= settings[name] < 1:
            raise ValueError(f"{rule}: {name} must be in [0, 1), got {settings[name]!r}")
    if "epsilon" in settings and not settings["epsilon"] >= 0:
        raise ValueError(f"{rule}: epsilon must be >= 0, got {settings['epsilon']!r}")
    for name in state_names:
        if name == "t":
            settings.setdefault("t", 0)
        elif name not in settings:
            settings[name] = np.zeros_like(w)
        elif np.shape(settings[name]) != np.shape(w):
            raise ValueError(
                f"{rule}: config[{name!r}] has shape {np.shape(settings[name])} but w has shape "
                f"{np.shape(w)}; use one config per parameter array")
    return settings


def _check_arrays(rule, w, dw):
    """Raise a clear error when ``dw`` cannot be the gradient of ``w``."""
    if np.shape(w) != np.shape(dw):
        raise ValueError(f"{rule}: w has shape {np.shape(w)} but dw has shape {np.shape(dw)}; they must match")
    # A dot product (one fast BLAS pass) is NaN or inf when any entry is; it can also overflow for
    # huge finite entries, so the exact test runs only when the quick one fails.
    if not np.isfinite(np.vdot(dw, dw)) and not np.isfinite(dw).all():
        bad = np.size(dw) - np.count_nonzero(np.isfinite(dw))
        raise FloatingPointError(
            f"{rule}: the gradient dw has {bad} NaN or infinite entries; the loss has diverged "
            f"before this step (try a smaller learning rate)")


# --------------------------------------------------------------------------------------
# Exponentially weighted averages
# --------------------------------------------------------------------------------------

def ewma(xs, beta, bias_correction=True):
    """Exponentially weighted moving averages of a series.

    v_0 = 0,  v_t = beta * v_{t-1} + (1 - beta) * x_t  for t = 1..T,
    and, with ``bias_correction``, v_t / (1 - beta**t).

    Parameters
    ----------
    xs : array-like of shape (T, ...)
        The series; averages are taken along the first axis.
    beta : float in [0, 1)
        The weight of the past; the average covers about 1 / (1 - beta) values.
    bias_correction : bool
        Divide by ``1 - beta**t`` so that early averages are not pulled towards 0.

    Returns
    -------
    ndarray of shape (T, ...), float: the average after each value.
    """
    xs = np.asarray(xs, dtype=float)
    if xs.ndim == 0:
        raise ValueError("ewma: xs must be a series (at least one dimension), got a scalar")
    if not 0 <= beta < 1:
        raise ValueError(f"ewma: beta must be in [0, 1), got {beta!r}")
    averages = np.empty_like(xs)
    v = np.zeros_like(xs[0])
    for t, x in enumerate(xs, start=1):
        v = ewma_step(v, x, beta)
        averages[t - 1] = debias(v, beta, t) if bias_correction else v
    return averages


# --------------------------------------------------------------------------------------
# Update rules
# --------------------------------------------------------------------------------------

def sgd(w, dw, config=None):
    """Stochastic gradient descent: ``w - learning_rate * dw``.

    config:
        learning_rate (1e-2)
    """
    _check_arrays("sgd", w, dw)
    config = _settings("sgd", config, {"learning_rate": 1e-2}, (), w)
    next_w = w - config["learning_rate"] * dw
    return next_w, config


def sgd_momentum(w, dw, config=None):
    """SGD with (heavy-ball) momentum.

    v = momentum * v - learning_rate * dw
    w = w + v

    config:
        learning_rate (1e-2), momentum (0.9)
        velocity: state, zeros like w at the start
    """
    _check_arrays("sgd_momentum", w, dw)
    config = _settings("sgd_momentum", config, {"learning_rate": 1e-2, "momentum": 0.9}, ("velocity",), w)
    v = config["momentum"] * config["velocity"] - config["learning_rate"] * dw
    next_w = w + v
    config["velocity"] = v
    return next_w, config


def nesterov(w, dw, config=None):
    """Nesterov momentum, in the form that needs the gradient at ``w`` only.

    v' = momentum * v - learning_rate * dw
    w  = w - momentum * v + (1 + momentum) * v'

    config:
        learning_rate (1e-2), momentum (0.9)
        velocity: state, zeros like w at the start
    """
    _check_arrays("nesterov", w, dw)
    config = _settings("nesterov", config, {"learning_rate": 1e-2, "momentum": 0.9}, ("velocity",), w)
    mu, v = config["momentum"], config["velocity"]
    v_next = mu * v - config["learning_rate"] * dw
    next_w = w - mu * v + (1 + mu) * v_next
    config["velocity"] = v_next
    return next_w, config
