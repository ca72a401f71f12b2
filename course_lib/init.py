"""Weight initializers for a layer with ``fan_in`` inputs and ``fan_out`` outputs.

Each returns an array of shape (fan_in, fan_out), float64. ``rng`` is a numpy
``Generator``, an int seed, or None for fresh randomness.

- ``xavier``: normal, std sqrt(2 / (fan_in + fan_out))  (Glorot & Bengio, 2010), for tanh and sigmoid
- ``he``: normal, std sqrt(2 / fan_in)  (He et al., 2015), for ReLU
- ``xavier_uniform``, ``he_uniform``: uniform on [-limit, limit] with the same variance,
  limit = sqrt(3) * std. For a 784-1000-10 network Glorot's limits are ±0.058 and ±0.077.
- ``normal(std)``: a fixed std (1 or 0.01 in the histograms of notebook 03)
"""

import math

import numpy as np

__all__ = ["xavier", "he", "xavier_uniform", "he_uniform", "normal", "xavier_std", "he_std", "INITIALIZERS"]


def _rng(rng):
    return rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)


def _check_fans(name, fan_in, fan_out):
    if int(fan_in) != fan_in or int(fan_out) != fan_out or fan_in < 1 or fan_out < 1:
        raise ValueError(f"{name}: fan_in and fan_out must be positive integers, got {fan_in!r} and {fan_out!r}")


def xavier_std(fan_in, fan_out):
    """Glorot's std: sqrt(2 / (fan_in + fan_out)), which keeps the variance of activations
    and of gradients about constant through a linear (or tanh near 0) layer."""
    return math.sqrt(2 / (fan_in + fan_out))


def he_std(fan_in, fan_out=None):
    """He's std: sqrt(2 / fan_in); the 2 makes up for ReLU zeroing half of its inputs."""
    return math.sqrt(2 / fan_in)


def xavier(fan_in, fan_out, rng=None):
    """Glorot normal: N(0, 2 / (fan_in + fan_out)), shape (fan_in, fan_out)."""
    _check_fans("xavier", fan_in, fan_out)
    return _rng(rng).normal(0.0, xavier_std(fan_in, fan_out), size=(fan_in, fan_out))


def he(fan_in, fan_out, rng=None):
    """He normal: N(0, 2 / fan_in), shape (fan_in, fan_out)."""
    _check_fans("he", fan_in, fan_out)
    return _rng(rng).normal(0.0, he_std(fan_in), size=(fan_in, fan_out))


def xavier_uniform(fan_in, fan_out, rng=None):
    """Glorot uniform: U(-limit, limit) with limit = sqrt(6 / (fan_in + fan_out))."""
    _check_fans("xavier_uniform", fan_in, fan_out)
    limit = math.sqrt(3) * xavier_std(fan_in, fan_out)
    return _rng(rng).uniform(-limit, limit, size=(fan_in, fan_out))


def he_uniform(fan_in, fan_out, rng=None):
    """He uniform: U(-limit, limit) with limit = sqrt(6 / fan_in)."""
    _check_fans("he_uniform", fan_in, fan_out)
    limit = math.sqrt(3) * he_std(fan_in)
    return _rng(rng).uniform(-limit, limit, size=(fan_in, fan_out))


def normal(std):
    """An initializer with a fixed std, e.g. ``normal(0.01)``; it has the same signature as the others."""
    if not std > 0:
        raise ValueError(f"normal: std must be > 0, got {std!r}")

    def init(fan_in, fan_out, rng=None):
        _check_fans(f"normal({std})", fan_in, fan_out)
        return _rng(rng).normal(0.0, std, size=(fan_in, fan_out))

    init.__name__ = f"normal({std})"
    return init


INITIALIZERS = {f.__name__: f for f in (xavier, he, xavier_uniform, he_uniform)}
"""The named initializers, as ``model.MLP`` accepts them by name."""
