"""Functions the checks hand to a student's function: objectives, gradients, samplers.

A graded function may take a function: ``numerical_gradient(f, x)``, ``gradient_descent(grad,
...)``, ``random_search(objective, space, ...)``. The checks build these as a :class:`Probe`: a
registered name and plain-data parameters, called like any function. In a notebook a probe is
called in-process; when a notebook is graded the student's function runs in its own kernel, and
a probe crosses to it as plain data, ``{"probe": [name, params]}`` (see
``course_instructor.grading.wire``), and is built again there from this module. Either way the
student's code calls the very same function.

>>> import numpy as np
>>> f = wavy(a=np.array([1.0, 2.0]), b=np.array([0.5, 0.0]))
>>> round(f(np.zeros(2)), 6)
0.0
"""

import math

import numpy as np

__all__ = ["Probe", "PROBES", "wavy", "wavy_gradient", "affine_gradient", "sampler", "search_objective",
           "halving_objective"]


class Probe:
    """A named function with plain-data parameters: calling it calls ``PROBES[name](params, *args)``."""

    __slots__ = ("name", "params", "_fn")

    def __init__(self, name, params):
        if name not in PROBES:
            raise ValueError(f"unknown probe {name!r}; the probes are {', '.join(PROBES)}")
        self.name, self.params, self._fn = name, params, PROBES[name]

    def __call__(self, *args):
        return self._fn(self.params, *args)

    def __repr__(self):
        return f"<function {self.name}>"


# --------------------------------------------------------------------------------------
# What each probe computes (its params first, then the arguments the student's code passes)
# --------------------------------------------------------------------------------------

def _like(x, a, name):
    """``x`` as a float array shaped like ``a`` (any array with as many entries is accepted)."""
    x = np.asarray(x, dtype=np.float64)
    if x.size != a.size:
        raise ValueError(f"{name} takes an array with {a.size} entries, shaped like x {a.shape}; got shape {x.shape}")
    return x.reshape(a.shape)


def _wavy(p, x):
    """f(x) = sum(a * sin(x)) + (sum(b * x))**2 / 2: curved in every coordinate, and coupling them."""
    a, b = p["a"], p["b"]
    x = _like(x, a, "f")
    return float(np.sum(a * np.sin(x)) + np.sum(b * x) ** 2 / 2)


def _wavy_gradient(p, x):
    """g(x) = a * x + b * sin(x), the gradient of sum(a * x**2 / 2 - b * cos(x)); shaped like its input."""
    a, b = p["a"], p["b"]
    shape = np.shape(x)
    x = _like(x, a, "grad")
    return (a * x + b * np.sin(x)).reshape(shape)


def _affine_gradient(p, x):
    """g(x) = A @ x - b on the flattened x, shaped like x: the gradient of x A x / 2 - b x, which
    couples the coordinates (A symmetric positive definite)."""
    A, b = p["A"], p["b"]
    shape = np.shape(x)
    x = _like(x, b, "grad")
    return (A @ x - b).reshape(shape)


SAMPLERS = {
    "log_uniform": lambda a, b, rng: 10.0 ** rng.uniform(a, b),
    "uniform": lambda a, b, rng: rng.uniform(a, b),
    "integer": lambda a, b, rng: int(rng.integers(a, b)),
}
"""Kinds of hyperparameter: ``(a, b, rng) -> value``."""


def _sample(p, rng):
    return SAMPLERS[p["kind"]](p["a"], p["b"], rng)


def _search_objective(p, params):
    """``-sum weight * (t(value) - centre)**2`` over the hyperparameters of ``p["space"]`` (t = log10
    for a log-uniform one): higher is better, best at the centres. It checks what it is given: a
    dict with exactly the names of the space."""
    space = p["space"]
    names = [name for name, *_ in space]
    if not isinstance(params, dict) or sorted(params) != sorted(names):
        raise TypeError(f"objective: params should be a dict with the keys {names}, like "
                        f"{{name: sampler(rng) for name, sampler in space.items()}}; got {params!r}")
    return -sum(weight * ((math.log10(params[name]) if kind == "log_uniform" else params[name]) - centre) ** 2
                for name, kind, _, _, centre, weight in space)


def _halving_objective(p, params, budget):
    """A learning curve ``final(params) - slowness(params) / budget``: ``final`` is
    :func:`_search_objective` of ``p["space"]`` and ``slowness = offset + sum coefficient *
    t(value)`` over ``p["slowness"]``, so that rankings change as the budget grows."""
    if isinstance(budget, bool) or not isinstance(budget, (int, float, np.integer, np.floating)) or not budget > 0:
        raise TypeError(f"objective: budget should be a positive number; got {budget!r}")
    kinds = {name: kind for name, kind, *_ in p["space"]}
    final = _search_objective(p, params)
    slowness = p["offset"] + sum(c * (math.log10(params[name]) if kinds[name] == "log_uniform" else params[name])
                                 for name, c in p["slowness"])
    return final - slowness / float(budget)


PROBES = {"wavy": _wavy, "wavy_gradient": _wavy_gradient, "affine_gradient": _affine_gradient,
          "sample": _sample, "search_objective": _search_objective, "halving_objective": _halving_objective}


# --------------------------------------------------------------------------------------
# Constructors
# --------------------------------------------------------------------------------------

def wavy(a, b):
    """The function f(x) = sum(a * sin(x)) + (sum(b * x))**2 / 2 of an array x shaped like ``a``
    and ``b``: what ``numerical_gradient`` differentiates."""
    return Probe("wavy", {"a": np.asarray(a, dtype=float), "b": np.asarray(b, dtype=float)})


def wavy_gradient(a, b):
    """The gradient x -> a * x + b * sin(x) (a, b shaped like x): what ``gradient_descent`` follows."""
    return Probe("wavy_gradient", {"a": np.asarray(a, dtype=float), "b": np.asarray(b, dtype=float)})


def affine_gradient(A, b):
    """The gradient x -> A @ x.ravel() - b of a quadratic, shaped like x (A: (n, n), b: (n,))."""
    return Probe("affine_gradient", {"A": np.asarray(A, dtype=float), "b": np.asarray(b, dtype=float)})


def sampler(kind, a, b):
    """A sampler ``rng -> value`` of one hyperparameter: ``kind`` is ``"log_uniform"``
    (10 ** U(a, b)), ``"uniform"`` (U(a, b)) or ``"integer"`` (an int in [a, b))."""
    if kind not in SAMPLERS:
        raise ValueError(f"unknown kind of hyperparameter {kind!r}; the kinds are {', '.join(SAMPLERS)}")
    return Probe("sample", {"kind": kind, "a": a, "b": b})


def search_objective(space):
    """The objective ``params -> score`` of a search ``space``, a list of ``[name, kind, a, b,
    centre, weight]``: ``-sum weight * (t(value) - centre)**2`` (t = log10 for log-uniform)."""
    return Probe("search_objective", {"space": [list(entry) for entry in space]})


def halving_objective(space, slowness, offset):
    """The objective ``(params, budget) -> score`` of successive halving's checks: the
    :func:`search_objective` of ``space`` minus ``(offset + sum c * t(value)) / budget`` over
    ``slowness``, a list of ``[name, c]``: candidates that learn fast lead at small budgets."""
    return Probe("halving_objective", {"space": [list(e) for e in space], "slowness": [list(e) for e in slowness],
                                       "offset": offset})
