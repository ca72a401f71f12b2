"""Self-checks of notebook 01: ``numerical_gradient`` and ``gradient_descent``.

The student's function gets a function to differentiate (or a gradient to follow) built
from stored coefficients as a :class:`~course_lib.checks.probes.Probe`, so the cases need no
reference implementation, and a graded kernel can be handed the very same function.
"""

from . import probes
from .framework import Observation, Protocol, call_student, define

__all__ = ["NumericalGradient", "GradientDescent", "check_numerical_gradient", "check_gradient_descent"]


class NumericalGradient(Protocol):
    """``gradient = numerical_gradient(f, x, **kwargs)``, once, with f = :func:`probes.wavy` (a, b).

    inputs: ``x``, ``a``, ``b`` (arrays of one shape), ``kwargs`` ({} or {"h": ...}).
    Output ``gradient``, shaped like x.
    """

    def run(self, fn, inputs):
        x = inputs["x"]
        x_arg = x.copy()
        gradient = call_student(fn, probes.wavy(inputs["a"], inputs["b"]), x_arg, **inputs["kwargs"])
        outputs = {"gradient": self.array(gradient, "the gradient you return")}
        problems = self.unchanged("x", x, x_arg, "Put every entry back exactly as it was (save it and assign it "
                                                 "back, not x[i] -= h), or work on a copy of x.")
        return Observation(outputs, {}, problems)

    def describe(self, output, index):
        return f"gradient entry {list(index)}" if index else "gradient"

    def describe_safely(self, output, index):
        return "gradient"


class GradientDescent(Protocol):
    """``path = gradient_descent(grad, x0, learning_rate, num_steps)``, once, with grad =
    :func:`probes.wavy_gradient` (a, b), or :func:`probes.affine_gradient` (A, b) when the case
    has an ``A`` (a quadratic, whose gradient couples the coordinates).

    inputs: ``x0``, ``a`` or ``A``, ``b``, ``learning_rate``, ``num_steps``.
    Output ``trajectory``, shape (num_steps + 1, *x0.shape).
    """

    def run(self, fn, inputs):
        x0 = inputs["x0"]
        x0_arg = x0.copy()
        grad = (probes.affine_gradient(inputs["A"], inputs["b"]) if "A" in inputs
                else probes.wavy_gradient(inputs["a"], inputs["b"]))
        path = call_student(fn, grad, x0_arg, inputs["learning_rate"], inputs["num_steps"])
        outputs = {"trajectory": self.array(path, "the trajectory you return")}
        problems = self.unchanged("x0", x0, x0_arg, "Start from a copy, x = np.array(x0, dtype=float), "
                                                    "and write x = x - learning_rate * grad(x).")
        return Observation(outputs, {}, problems)

    def describe(self, output, index):
        point = f"point x_{index[0]}"
        return f"{point} at {list(index[1:])}" if index[1:] else point

    def describe_safely(self, output, index):
        return f"point x_{index[0]}"


check_numerical_gradient = define("numerical_gradient", NumericalGradient())
check_gradient_descent = define("gradient_descent", GradientDescent())
