"""Weight initializers (notebook 05): the references of Xavier (Glorot) and He.

Each returns an array of shape (fan_in, fan_out), float64. ``rng`` is a numpy ``Generator``,
an int seed, or None for fresh randomness.

- ``xavier``: normal, std sqrt(2 / (fan_in + fan_out))  (Glorot & Bengio, 2010), for tanh and sigmoid
- ``he``: normal, std sqrt(2 / fan_in)  (He et al., 2015), for ReLU
- ``xavier_uniform``, ``he_uniform``: uniform on [-limit, limit] with the same variance,
  limit = sqrt(3) * std. For a 784-1000-10 network Glorot's limits are ±0.058 and ±0.077.
"""

import math

from course_lib.init import as_generator, check_fans

__all__ = ["xavier", "he", "xavier_uniform", "he_uniform", "xavier_std", "he_std"]


def xavier_std(fan_in, fan_out):
    """Glorot's std: sqrt(2 / (fan_in + fan_out)), which keeps the variance of activations
    and of gradients about constant through a linear (or tanh near 0) layer."""
    return math.sqrt(2 / (fan_in + fan_out))


def he_std(fan_in, fan_out=None):
    """He's std: sqrt(2 / fan_in); the 2 makes up for ReLU zeroing half of its inputs."""
    return math.sqrt(2 / fan_in)


def xavier(fan_in, fan_out, rng=None):
    """Glorot normal: N(0, 2 / (fan_in + fan_out)), shape (fan_in, fan_out)."""
    check_fans("xavier", fan_in, fan_out)
    return as_generator(rng).normal(0.0, xavier_std(fan_in, fan_out), size=(fan_in, fan_out))


def he(fan_in, fan_out, rng=None):
    """He normal: N(0, 2 / fan_in), shape (fan_in, fan_out)."""
    check_fans("he", fan_in, fan_out)
    return as_generator(rng).normal(0.0, he_std(fan_in), size=(fan_in, fan_out))


def xavier_uniform(fan_in, fan_out, rng=None):
    """Glorot uniform: U(-limit, limit) with limit = sqrt(6 / (fan_in + fan_out))."""
    check_fans("xavier_uniform", fan_in, fan_out)
    limit = math.sqrt(3) * xavier_std(fan_in, fan_out)
    return as_generator(rng).uniform(-limit, limit, size=(fan_in, fan_out))


def he_uniform(fan_in, fan_out, rng=None):
    """He uniform: U(-limit, limit) with limit = sqrt(6 / fan_in)."""
    check_fans("he_uniform", fan_in, fan_out)
    limit = math.sqrt(3) * he_std(fan_in)
    return as_generator(rng).uniform(-limit, limit, size=(fan_in, fan_out))
