"""Update rules, exponentially weighted averages and learning-rate schedules.

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
  PyTorch and CS231n. TensorFlow 1 put it inside the root; notebook 02 compares the two.
- Momentum keeps ``velocity`` as a step (``v = mu * v - lr * dw``; ``w + v``), as in
  CS231n. PyTorch keeps a running sum of gradients instead; the trajectories are equal.

>>> import numpy as np
>>> w, config = np.array([1.0, -2.0]), None
>>> for _ in range(3):
...     w, config = adam(w, 2 * w, config)
>>> config["t"]
3
"""

import math

import numpy as np

__all__ = [
    "sgd", "sgd_momentum", "nesterov", "adagrad", "rmsprop", "adam", "RULES",
    "ewma", "ewma_step", "debias", "rms_update",
    "step_decay", "exponential_decay", "inverse_time_decay", "cosine_restarts",
    "adamw", "warmup_cosine", "clip_by_global_norm",
]


# --------------------------------------------------------------------------------------
# Building blocks
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


def rms_update(w, x, mean_square, learning_rate, epsilon):
    """``w - learning_rate * x / (sqrt(mean_square) + epsilon)``, computed in one new array.

    The update of AdaGrad, RMSProp and Adam: each coordinate's step is divided by the root
    of its (summed or averaged) squared gradients. The arrays given are not modified.
    """
    next_w = np.sqrt(mean_square)
    next_w += epsilon
    np.divide(x, next_w, out=next_w)
    next_w *= -learning_rate
    next_w += w
    return next_w


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


def adagrad(w, dw, config=None):
    """AdaGrad: each coordinate's step is divided by the root of its summed squared gradients.

    cache = cache + dw**2
    w = w - learning_rate * dw / (sqrt(cache) + epsilon)

    config:
        learning_rate (1e-2), epsilon (1e-8)
        cache: state, zeros like w at the start
    """
    _check_arrays("adagrad", w, dw)
    config = _settings("adagrad", config, {"learning_rate": 1e-2, "epsilon": 1e-8}, ("cache",), w)
    cache = config["cache"] + dw * dw
    next_w = rms_update(w, dw, cache, config["learning_rate"], config["epsilon"])
    config["cache"] = cache
    return next_w, config


def rmsprop(w, dw, config=None):
    """RMSProp: AdaGrad with the sum replaced by an exponentially weighted average.

    cache = decay_rate * cache + (1 - decay_rate) * dw**2
    w = w - learning_rate * dw / (sqrt(cache) + epsilon)

    config:
        learning_rate (1e-2), decay_rate (0.99), epsilon (1e-8)
        cache: state, zeros like w at the start
    """
    _check_arrays("rmsprop", w, dw)
    config = _settings("rmsprop", config, {"learning_rate": 1e-2, "decay_rate": 0.99, "epsilon": 1e-8},
                       ("cache",), w)
    cache = ewma_step(config["cache"], dw * dw, config["decay_rate"])
    next_w = rms_update(w, dw, cache, config["learning_rate"], config["epsilon"])
    config["cache"] = cache
    return next_w, config


def adam(w, dw, config=None):
    """Adam (Kingma & Ba, 2015): momentum on the gradient, RMSProp on its square, both bias-corrected.

    t = t + 1
    m = beta1 * m + (1 - beta1) * dw          m_hat = m / (1 - beta1**t)
    v = beta2 * v + (1 - beta2) * dw**2       v_hat = v / (1 - beta2**t)
    w = w - learning_rate * m_hat / (sqrt(v_hat) + epsilon)

    The last line is computed as the paper's Section 2 suggests, with both corrections folded
    into two scalars; it is the same update, without two arrays of temporaries:

    w = w - learning_rate_t * m / (sqrt(v) + epsilon_t),
        learning_rate_t = learning_rate * sqrt(1 - beta2**t) / (1 - beta1**t),
        epsilon_t = epsilon * sqrt(1 - beta2**t)

    config:
        learning_rate (1e-3), beta1 (0.9), beta2 (0.999), epsilon (1e-8)
        m, v: state, zeros like w at the start; t: the number of steps taken (0 at the start)

    The first step is ``learning_rate * dw / (|dw| + epsilon)``: about ``learning_rate`` in
    every coordinate, whatever the scale of the gradient.
    """
    _check_arrays("adam", w, dw)
    config = _settings("adam", config,
                       {"learning_rate": 1e-3, "beta1": 0.9, "beta2": 0.999, "epsilon": 1e-8},
                       ("m", "v", "t"), w)
    return _adam_step(w, dw, config)


def adamw(w, dw, config=None):
    """AdamW (Loshchilov & Hutter, 2019): Adam with decoupled weight decay.

    t, m, v, m_hat, v_hat as in Adam, then
    w = w - learning_rate * (m_hat / (sqrt(v_hat) + epsilon) + weight_decay * w)

    The decay uses the old w and is multiplied by the learning rate but not divided by
    sqrt(v_hat): every weight shrinks by the same factor 1 - learning_rate * weight_decay,
    whatever its gradients (PyTorch's torch.optim.AdamW; its default weight_decay is 1e-2).

    config:
        learning_rate (1e-3), beta1 (0.9), beta2 (0.999), epsilon (1e-8), weight_decay (1e-2)
        m, v: state, zeros like w at the start; t: the number of steps taken (0 at the start)
    """
    _check_arrays("adamw", w, dw)
    config = _settings("adamw", config,
                       {"learning_rate": 1e-3, "beta1": 0.9, "beta2": 0.999, "epsilon": 1e-8,
                        "weight_decay": 1e-2},
                       ("m", "v", "t"), w)
    decayed = w * (1 - config["learning_rate"] * config["weight_decay"])
    next_w, config = _adam_step(decayed, dw, config)
    return next_w.astype(w.dtype, copy=False), config


def _adam_step(start, dw, config):
    """Adam's step from ``start`` (``w``, or AdamW's decayed ``w``): t + 1, the moments m and v, both
    bias corrections folded into the learning rate and epsilon; returns ``next_w`` and ``config``
    (a new dict, from ``_settings``) holding the new state."""
    beta1, beta2 = config["beta1"], config["beta2"]
    t = config["t"] + 1
    m = ewma_step(config["m"], dw, beta1)
    v = ewma_step(config["v"], dw * dw, beta2)
    root_correction2 = math.sqrt(1 - beta2**t)
    learning_rate_t = config["learning_rate"] * root_correction2 / (1 - beta1**t)
    next_w = rms_update(start, m, v, learning_rate_t, config["epsilon"] * root_correction2)
    config.update(m=m, v=v, t=t)
    return next_w, config


RULES = {rule.__name__: rule for rule in (sgd, sgd_momentum, nesterov, adagrad, rmsprop, adam)}
"""Every update rule by name, in the order the course teaches them."""


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
# Learning-rate schedules: pure functions of the 0-based step t
# --------------------------------------------------------------------------------------

def _check_step(name, t):
    if np.any(np.asarray(t) < 0):
        raise ValueError(f"{name}: the step t counts from 0 and cannot be negative, got {t!r}")


def _scalar_or_array(value):
    return float(value) if np.ndim(value) == 0 else value


def step_decay(lr0, t, drop=0.5, every=10):
    """``lr0 * drop ** floor(t / every)``: the rate is multiplied by ``drop`` every ``every`` steps."""
    _check_step("step_decay", t)
    if every <= 0:
        raise ValueError(f"step_decay: every must be a positive number of steps, got {every!r}")
    return _scalar_or_array(lr0 * drop ** np.floor_divide(t, every))


def exponential_decay(lr0, t, k):
    """``lr0 * exp(-k t)``."""
    _check_step("exponential_decay", t)
    return _scalar_or_array(lr0 * np.exp(-k * np.asarray(t, dtype=float)))


def inverse_time_decay(lr0, t, k):
    """``lr0 / (1 + k t)``: the 1/t decay."""
    _check_step("inverse_time_decay", t)
    return _scalar_or_array(lr0 / (1 + k * np.asarray(t, dtype=float)))


def cosine_restarts(lr0, t, period, lr_min=0.0):
    """Cosine annealing with warm restarts (Loshchilov & Hutter, 2017), every ``period`` steps.

    ``lr_min + (lr0 - lr_min) * (1 + cos(pi * (t mod period) / period)) / 2``
    """
    _check_step("cosine_restarts", t)
    if period <= 0:
        raise ValueError(f"cosine_restarts: period must be a positive number of steps, got {period!r}")
    phase = np.mod(t, period) / period
    return _scalar_or_array(lr_min + (lr0 - lr_min) * (1 + np.cos(math.pi * phase)) / 2)


def warmup_cosine(lr0, t, warmup, total, lr_min=0.0):
    """Linear warmup, then one cosine decay (Loshchilov & Hutter, 2017; Goyal et al., 2017).

    - ``lr0 * (t + 1) / warmup`` for ``t < warmup`` (the first step is not 0; step
      ``warmup - 1`` reaches lr0),
    - ``lr_min + (lr0 - lr_min) * (1 + cos(pi * (t - warmup) / (total - warmup))) / 2`` for
      ``warmup <= t < total``,
    - ``lr_min`` from ``total`` on.
    """
    _check_step("warmup_cosine", t)
    if not 0 <= warmup < total:
        raise ValueError(f"warmup_cosine: need 0 <= warmup < total, got warmup={warmup!r}, total={total!r}")
    t = np.asarray(t, dtype=float)
    ramp = lr0 * (t + 1) / max(warmup, 1)
    phase = np.clip((t - warmup) / (total - warmup), 0.0, 1.0)
    cosine = lr_min + (lr0 - lr_min) * (1 + np.cos(math.pi * phase)) / 2
    return _scalar_or_array(np.where(t < warmup, ramp, cosine))


# --------------------------------------------------------------------------------------
# Gradient clipping
# --------------------------------------------------------------------------------------

def clip_by_global_norm(grads, max_norm):
    """Rescale all gradients together so that their global norm is at most ``max_norm``.

    norm = sqrt(sum over arrays g of sum(g**2)); each g becomes g * max_norm / norm when
    norm > max_norm, and is unchanged otherwise (Pascanu et al., 2013;
    torch.nn.utils.clip_grad_norm_). The direction of the whole step is kept.

    grads: dict name -> array (as ``MLP.loss`` returns). Returns ``(clipped, norm)``: a new
    dict of new arrays, and the norm before clipping (a float). ``grads`` is not changed.
    """
    if not isinstance(grads, dict):
        raise TypeError(f"clip_by_global_norm: grads must be a dict name -> array, got {type(grads).__name__}")
    if not max_norm > 0:
        raise ValueError(f"clip_by_global_norm: max_norm must be > 0, got {max_norm!r}")
    norm = math.sqrt(sum(float(np.vdot(g, g)) for g in grads.values()))
    scale = max_norm / norm if norm > max_norm else 1.0
    return {name: np.asarray(g) * scale if scale != 1.0 else np.array(g, copy=True)
            for name, g in grads.items()}, norm
