"""Self-checks of notebook 01: ``numerical_gradient`` and ``gradient_descent``.

The student's function gets a function to differentiate (or a gradient to follow) built
here from stored coefficients, so the cases need no reference implementation.
"""

import numpy as np

from .framework import Observation, Protocol, call_student, define

__all__ = ["NumericalGradient", "GradientDescent", "wavy", "wavy_gradient",
           "check_numerical_gradient", "check_gradient_descent"]


def _like(x, a, name):
    """``x`` as a float array shaped like ``a`` (any array with as many entries is accepted)."""
    x = np.asarray(x, dtype=np.float64)
    if x.size != a.size:
        raise ValueError(f"{name} takes an array with {a.size} entries, shaped like x {a.shape}; got shape {x.shape}")
    return x.reshape(a.shape)


def wavy(a, b):
    """f(x) = sum(a * sin(x)) + (sum(b * x))**2 / 2: curved in every coordinate, and coupling them."""
    def f(x):
        x = _like(x, a, "f")
        return float(np.sum(a * np.sin(x)) + np.sum(b * x) ** 2 / 2)
    return f


def wavy_gradient(a, b):
    """g(x) = a * x + b * sin(x), the gradient of sum(a * x**2 / 2 - b * cos(x)); shaped like its input."""
    def grad(x):
        shape = np.shape(x)
        x = _like(x, a, "grad")
        return (a * x + b * np.sin(x)).reshape(shape)
    return grad


class NumericalGradient(Protocol):
    """``gradient = numerical_gradient(f, x, **kwargs)``, once, with f = :func:`wavy` (a, b).

    inputs: ``x``, ``a``, ``b`` (arrays of one shape), ``kwargs`` ({} or {"h": ...}).
    Output ``gradient``, shaped like x.
    """

    def run(self, fn, inputs):
        x = inputs["x"]
        x_arg = x.copy()
        gradient = call_student(fn, wavy(inputs["a"], inputs["b"]), x_arg, **inputs["kwargs"])
        outputs = {"gradient": self.array(gradient, "the gradient you return")}
        problems = self.unchanged("x", x, x_arg, "Put every entry back exactly as it was (save it and assign it "
                                                 "back, not x[i] -= h), or work on a copy of x.")
        return Observation(outputs, {}, problems)

    def describe(self, output, index):
        return f"gradient entry {list(index)}" if index else "gradient"


class GradientDescent(Protocol):
    """``path = gradient_descent(grad, x0, learning_rate, num_steps)``, once, with grad =
    :func:`wavy_gradient` (a, b).

    inputs: ``x0``, ``a``, ``b`` (arrays of one shape), ``learning_rate``, ``num_steps``.
    Output ``trajectory``, shape (num_steps + 1, *x0.shape).
    """

    def run(self, fn, inputs):
        x0 = inputs["x0"]
        x0_arg = x0.copy()
        path = call_student(fn, wavy_gradient(inputs["a"], inputs["b"]), x0_arg, inputs["learning_rate"],
                            inputs["num_steps"])
        outputs = {"trajectory": self.array(path, "the trajectory you return")}
        problems = self.unchanged("x0", x0, x0_arg, "Start from a copy, x = np.array(x0, dtype=float), "
                                                    "and write x = x - learning_rate * grad(x).")
        return Observation(outputs, {}, problems)

    def describe(self, output, index):
        point = f"point x_{index[0]}"
        return f"{point} at {list(index[1:])}" if index[1:] else point


check_numerical_gradient = define("numerical_gradient", NumericalGradient())
check_gradient_descent = define("gradient_descent", GradientDescent())
