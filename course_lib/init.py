"""Weight initializers for a layer with ``fan_in`` inputs and ``fan_out`` outputs.

An initializer is a function ``(fan_in, fan_out, rng=None) -> array (fan_in, fan_out)``;
``rng`` is a numpy ``Generator``, an int seed, or None for fresh randomness. Here:
``normal(std)``, a fixed std (1 or 0.01 in the histograms of notebook 05). Xavier and He are
the student's own (notebook 05); their references live in ``course_lib.reference.init``.
"""

import math

import numpy as np

__all__ = ["normal", "check_fans", "as_generator"]


def as_generator(rng):
    """A numpy Generator from a Generator, an int seed, or None (fresh randomness)."""
    return rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)


def check_fans(name, fan_in, fan_out):
    """A clear ValueError unless the fans are positive integers."""
    if int(fan_in) != fan_in or int(fan_out) != fan_out or fan_in < 1 or fan_out < 1:
        raise ValueError(f"{name}: fan_in and fan_out must be positive integers, got {fan_in!r} and {fan_out!r}")


def normal(std):
    """An initializer with a fixed std, e.g. ``normal(0.01)``; it has the same signature as the others."""
    if not std > 0:
        raise ValueError(f"normal: std must be > 0, got {std!r}")

    def init(fan_in, fan_out, rng=None):
        check_fans(f"normal({std})", fan_in, fan_out)
        return as_generator(rng).normal(0.0, std, size=(fan_in, fan_out))

    init.__name__ = f"normal({std})"
    return init
