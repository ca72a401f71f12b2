"""AdaGrad, RMSProp, Adam and AdamW: the references of notebook 03.

They keep the contract of notebook 02's rules (``course_lib.reference.momentum``), whose building
blocks they share.

>>> import numpy as np
>>> w, config = np.array([1.0, -2.0]), None
>>> for _ in range(3):
...     w, config = adam(w, 2 * w, config)
>>> config["t"]
3
"""

import math

import numpy as np

from .momentum import _check_arrays, _settings, ewma_step, nesterov, sgd, sgd_momentum

__all__ = ["adagrad", "rmsprop", "adam", "adamw", "rms_update", "RULES"]


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
"""The six update rules of notebooks 02 and 03 by name, in the order the course teaches them."""
