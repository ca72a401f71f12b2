"""Learning-rate schedules and gradient clipping: the references of notebook 04.

A schedule is a pure function of the 0-based step ``t`` (an int, or an array of ints for a
whole curve at once); ``clip_by_global_norm`` rescales a dict of gradients.
"""

import math

import numpy as np

__all__ = ["step_decay", "exponential_decay", "inverse_time_decay", "cosine_restarts", "warmup_cosine",
           "clip_by_global_norm"]


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
