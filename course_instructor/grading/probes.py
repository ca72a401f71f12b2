"""Functions the hidden tests hand to a student's function: objectives, gradients, samplers.

A graded function may take a function (``numerical_gradient(f, x)``, ``gradient_descent(grad,
...)``, ``random_search(objective, space, ...)``). A lambda cannot cross into the student's
kernel as plain data, so the hidden tests use a ``Probe``: a name and plain-data parameters.
The grading process sends it as ``{"probe": [name, params]}``, the kernel builds the same
probe from this module, and both sides compute the same values (the reference in the grading
process, the student's code in the kernel).

>>> import numpy as np
>>> f = wavy(a=np.array([1.0, 2.0]), b=np.array([0.5, 0.0]))
>>> round(f(np.zeros(2)), 6)
0.0
"""

import numpy as np

__all__ = ["Probe", "wavy", "wavy_gradient", "affine_gradient", "log_bowl", "uniform", "log_uniform", "integers"]


class Probe:
    """A named function with plain-data parameters; calling it calls ``PROBES[name](params, *args)``."""

    __slots__ = ("name", "params", "_fn")

    def __init__(self, name, params):
        if name not in PROBES:
            raise ValueError(f"unknown probe {name!r}; the probes are {', '.join(PROBES)}")
        self.name, self.params, self._fn = name, params, PROBES[name]

    def __call__(self, *args):
        return self._fn(self.params, *args)

    def __repr__(self):
        return f"<probe {self.name}>"


# --------------------------------------------------------------------------------------
# What each probe computes (params first, then the arguments the student's code passes)
# --------------------------------------------------------------------------------------

def _wavy(p, x):
    """f(x) = sum(sin(a x)) + sum(b x^2) + c (sum x)^3: smooth, not quadratic, every coordinate matters."""
    x = np.asarray(x, dtype=float)
    return float(np.sum(np.sin(p["a"] * x)) + np.sum(p["b"] * x * x) + p["c"] * np.sum(x) ** 3)


def _wavy_gradient(p, x):
    """The gradient of ``_wavy``, same shape as x."""
    x = np.asarray(x, dtype=float)
    return p["a"] * np.cos(p["a"] * x) + 2 * p["b"] * x + 3 * p["c"] * np.sum(x) ** 2


def _affine_gradient(p, x):
    """A @ x - b on the flattened x (the gradient of a quadratic), shaped like x."""
    x = np.asarray(x, dtype=float)
    return (p["A"] @ x.ravel() - p["b"]).reshape(x.shape)


def _log_bowl(p, params):
    """A validation score peaked at ``centre``: -sum_k weight_k (log10(params[k]) - centre_k)^2."""
    return float(-sum(w * (np.log10(params[k]) - p["centre"][k]) ** 2 for k, w in p["weight"].items()))


def _uniform(p, rng):
    return float(rng.uniform(p["low"], p["high"]))


def _log_uniform(p, rng):
    return float(10.0 ** rng.uniform(p["low_exp"], p["high_exp"]))


def _integers(p, rng):
    return int(rng.integers(p["low"], p["high"]))


PROBES = {"wavy": _wavy, "wavy_gradient": _wavy_gradient, "affine_gradient": _affine_gradient,
          "log_bowl": _log_bowl, "uniform": _uniform, "log_uniform": _log_uniform, "integers": _integers}


# --------------------------------------------------------------------------------------
# Constructors for test authors
# --------------------------------------------------------------------------------------

def wavy(a, b, c=0.0):
    """A scalar function of an array x (a, b: arrays shaped like x): for ``numerical_gradient``."""
    return Probe("wavy", {"a": np.asarray(a, dtype=float), "b": np.asarray(b, dtype=float), "c": float(c)})


def wavy_gradient(a, b, c=0.0):
    """The gradient of ``wavy(a, b, c)``: for ``gradient_descent``."""
    return Probe("wavy_gradient", {"a": np.asarray(a, dtype=float), "b": np.asarray(b, dtype=float), "c": float(c)})


def affine_gradient(A, b):
    """x -> A @ x.ravel() - b, shaped like x (A: (n, n), b: (n,)): for ``gradient_descent``."""
    return Probe("affine_gradient", {"A": np.asarray(A, dtype=float), "b": np.asarray(b, dtype=float)})


def log_bowl(centre, weight):
    """An objective of a dict of positive hyperparameters, best at 10**centre[k]: for ``random_search``."""
    return Probe("log_bowl", {"centre": dict(centre), "weight": dict(weight)})


def uniform(low, high):
    """A sampler ``rng -> float`` uniform on [low, high): a value of a ``random_search`` space."""
    return Probe("uniform", {"low": float(low), "high": float(high)})


def log_uniform(low_exp, high_exp):
    """A sampler ``rng -> 10 ** U(low_exp, high_exp)``: a value of a ``random_search`` space."""
    return Probe("log_uniform", {"low_exp": float(low_exp), "high_exp": float(high_exp)})


def integers(low, high):
    """A sampler ``rng -> int`` in [low, high): a value of a ``random_search`` space."""
    return Probe("integers", {"low": int(low), "high": int(high)})
