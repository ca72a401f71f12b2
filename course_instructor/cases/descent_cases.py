"""Build time: the cases and the known mistakes of notebook 01's checks."""

from functools import partial

import numpy as np

from course_lib.reference import descent as reference_descent

from .build import Case, Mistake, Spec
from .optim_cases import dyadic, omits


def gradient_case(label, shape, seed, hidden=False, strict=True, **kwargs):
    """A case of ``numerical_gradient``: a point x of ``shape`` and the coefficients of ``probes.wavy``."""
    rng = np.random.default_rng(seed)
    inputs = {"x": dyadic(rng, shape), "a": dyadic(rng, shape), "b": dyadic(rng, shape, 0.25), "kwargs": kwargs}
    return Case(label, inputs, rtol=1e-6, atol=1e-8, hidden=hidden, strict=strict)


def numerical_gradient_variant(f, x, h=1e-5, *, kind="central", divisor=2, flatten=False):
    """Finite differences with the usual mistakes as flags: ``kind`` "forward" or "backward"
    (one-sided), a central difference divided by ``divisor * h``, the result flattened."""
    x = np.array(x, dtype=float)
    gradient = np.zeros(x.size)
    for i in range(x.size):
        step = np.zeros(x.size)
        step[i] = h
        step = step.reshape(x.shape)
        plus = f(x) if kind == "backward" else f(x + step)
        minus = f(x) if kind == "forward" else f(x - step)
        gradient[i] = (plus - minus) / (divisor * h if kind == "central" else h)
    return gradient if flatten else gradient.reshape(x.shape)


NUMERICAL_GRADIENT = Spec(
    exercise="numerical_gradient",
    reference=reference_descent.numerical_gradient,
    cases=[gradient_case("x of shape (3,), default h", (3,), seed=30),
           gradient_case("x of shape (2, 3), default h", (2, 3), seed=31),
           gradient_case("x of shape (3, 2), h=0.1", (3, 2), seed=32, h=0.1),
           gradient_case("x of shape (2, 2, 2), h=0.001", (2, 2, 2), seed=33, h=0.001),
           gradient_case("central differences at a point of several dimensions", (2, 3, 2), seed=101, hidden=True, strict=False),
           gradient_case("a non-default step h is used", (5,), seed=102, hidden=True, strict=False, h=1e-2),
           gradient_case("the result has the shape of x, a row", (1, 4), seed=103, hidden=True, strict=False),
           gradient_case("the result has the shape of x, a column", (3, 1), seed=104, hidden=True, strict=False),
           gradient_case("x is unchanged afterwards, and the gradient is right", (2, 2), seed=105, hidden=True)],
    mistakes=[
        Mistake("forward_difference", partial(numerical_gradient_variant, kind="forward"),
                "This is the one-sided (forward) difference (f(x + h) - f(x)) / h, with an error of order h: "
                "use the central difference (f(x + h) - f(x - h)) / (2h)."),
        Mistake("backward_difference", partial(numerical_gradient_variant, kind="backward"),
                "This is the one-sided (backward) difference (f(x) - f(x - h)) / h, with an error of order h: "
                "use the central difference (f(x + h) - f(x - h)) / (2h)."),
        Mistake("divided_by_h", partial(numerical_gradient_variant, divisor=1),
                "Your central difference is divided by h: the two points are 2h apart, so divide by 2h."),
        Mistake("flattened", partial(numerical_gradient_variant, flatten=True),
                "Your gradient is flattened: return it with the shape of x (np.zeros_like(x), and np.ndindex(x.shape) "
                "to visit every entry)."),
        Mistake("hard_coded_h", omits(reference_descent.numerical_gradient, "h"),
                "Your function ignores h: use the argument, not the number 1e-5."),
    ],
    summary="x of shapes (3,), (2, 3), (3, 2), (2, 2, 2); h default, 0.1 and 0.001; x unchanged afterwards",
    rule="(f(x + h e_i) - f(x - h e_i)) / (2h) for every entry i, shaped like x.",
)


def descent_case(label, shape, learning_rate, num_steps, seed):
    """A case of ``gradient_descent`` on ``probes.wavy_gradient``: a start x0 of ``shape``."""
    rng = np.random.default_rng(seed)
    inputs = {"x0": dyadic(rng, shape), "a": np.abs(dyadic(rng, shape, 0.5)), "b": dyadic(rng, shape, 0.25),
              "learning_rate": learning_rate, "num_steps": num_steps}
    return Case(label, inputs, rtol=1e-9, atol=1e-12)


def quadratic_case(label, n, learning_rate, num_steps, seed, strict=False):
    """A hidden case of ``gradient_descent`` on a quadratic in ``n`` dimensions (``probes.affine_gradient``
    of A = Q Q^T / n + I, which couples every coordinate), from a random x0."""
    rng = np.random.default_rng(seed)
    q = rng.normal(size=(n, n))
    A, b, x0 = q @ q.T / n + np.eye(n), rng.normal(size=n), rng.normal(size=n)
    return Case(label, {"x0": x0, "A": A, "b": b, "learning_rate": learning_rate, "num_steps": num_steps},
                rtol=1e-9, atol=1e-12, hidden=True, strict=strict)


def matrix_start_case(label, seed):
    """A hidden case of ``gradient_descent`` from a (2, 3) matrix on ``probes.wavy_gradient``."""
    rng = np.random.default_rng(seed)
    a, b, x0 = rng.uniform(0.5, 1.5, (2, 3)), rng.uniform(0.2, 1.0, (2, 3)), rng.normal(size=(2, 3))
    return Case(label, {"x0": x0, "a": a, "b": b, "learning_rate": 0.05, "num_steps": 5}, rtol=1e-9, atol=1e-12,
                hidden=True, strict=False)


def gradient_descent_variant(grad, x0, learning_rate, num_steps, *, sign=-1, rows="all", aliased=False):
    """Gradient descent with the usual mistakes as flags: the step's ``sign``, ``rows`` "no_x0"
    (x0 left out), "short" (one step too few) or "long" (one too many), and ``aliased`` (every
    row the same array, changed in place)."""
    x = np.array(x0, dtype=float)
    path = [x.copy()]
    for _ in range(num_steps + (rows == "long")):
        x = x + sign * learning_rate * grad(x)
        path.append(x.copy())
    path = {"all": path, "long": path, "no_x0": path[1:], "short": path[:-1]}[rows]
    return np.array([x for _ in path] if aliased else path).reshape(len(path), *np.shape(x0))


GRADIENT_DESCENT = Spec(
    exercise="gradient_descent",
    reference=reference_descent.gradient_descent,
    cases=[descent_case("x0 of shape (2,), learning_rate=0.1, 5 steps", (2,), 0.1, 5, seed=40),
           descent_case("x0 of shape (3,), learning_rate=0.3, 8 steps", (3,), 0.3, 8, seed=41),
           descent_case("x0 of shape (2, 3), learning_rate=0.05, 3 steps", (2, 3), 0.05, 3, seed=42),
           descent_case("x0 of shape (2,), num_steps=0: the trajectory is x0 alone", (2,), 0.1, 0, seed=43),
           quadratic_case("the whole path on a quadratic in several dimensions", 4, 0.15, 7, seed=201),
           matrix_start_case("a start point that is a matrix, on a function that is not quadratic", seed=202),
           quadratic_case("zero steps give a path holding only x0", 3, 0.1, 0, seed=203),
           quadratic_case("x0 is unchanged afterwards, and the path is right", 3, 0.1, 4, seed=204, strict=True)],
    mistakes=[
        Mistake("missing_x0", partial(gradient_descent_variant, rows="no_x0"),
                "Your trajectory misses x0: it starts with x0, then one point per step, num_steps + 1 rows."),
        Mistake("one_step_short", partial(gradient_descent_variant, rows="short"),
                "Your trajectory stops one step short: num_steps steps after x0 make num_steps + 1 rows."),
        Mistake("one_step_too_many", partial(gradient_descent_variant, rows="long"),
                "Your trajectory takes one step too many: num_steps steps after x0 make num_steps + 1 rows."),
        Mistake("uphill", partial(gradient_descent_variant, sign=1),
                "Your points go uphill: x_(k+1) = x_k - learning_rate * grad(x_k)."),
        Mistake("aliased_rows", partial(gradient_descent_variant, aliased=True),
                "Every row of your trajectory is the last point: you store the same array and change it in place "
                "(x -= ...). Store a copy, or write x = x - learning_rate * grad(x)."),
    ],
    summary="x0 of shapes (2,), (3,), (2, 3); three learning rates; 0 to 8 steps; x0 unchanged afterwards",
    rule="x_0 = x0, x_(k+1) = x_k - learning_rate * grad(x_k): num_steps + 1 rows.",
)

SPECS = [NUMERICAL_GRADIENT, GRADIENT_DESCENT]
