"""Hidden tests of notebook 01: numerical_gradient and gradient_descent, on inputs the notebook never shows.

Each test receives the student's function (see course_instructor.grading.hidden); the first line of its
docstring is what the student reads in the feedback.
"""

import numpy as np

from course_lib import descent, gradcheck
from course_lib.reference import descent as reference_descent
from course_instructor.grading import probes
from course_instructor.grading.expect import close, unchanged


def _wavy(shape, seed):
    """A smooth function that is not quadratic (so that forward differences are visibly worse), and a point."""
    rng = np.random.default_rng(seed)
    f = probes.wavy(rng.uniform(0.5, 2.0, shape), rng.uniform(-1.0, 1.0, shape), c=0.1)
    return f, rng.normal(size=shape)


def test_numerical_gradient_3d(numerical_gradient):
    """central differences of a non-quadratic function at a 3-D point"""
    f, x = _wavy((2, 3, 2), 101)
    close(numerical_gradient(f, x), reference_descent.numerical_gradient(f, x), "the gradient", rtol=1e-7, atol=1e-9)


def test_numerical_gradient_step(numerical_gradient):
    """a non-default step h is used"""
    f, x = _wavy((5,), 102)
    close(numerical_gradient(f, x, h=1e-2), reference_descent.numerical_gradient(f, x, h=1e-2),
          "the gradient with h = 1e-2", rtol=1e-8, atol=1e-10)


def test_numerical_gradient_shapes(numerical_gradient):
    """the result has the shape of x, for a row and a column"""
    for shape, seed in (((1, 4), 103), ((3, 1), 104)):
        f, x = _wavy(shape, seed)
        close(numerical_gradient(f, x), reference_descent.numerical_gradient(f, x), f"the gradient at a {shape} array",
              rtol=1e-7, atol=1e-9)


def test_numerical_gradient_keeps_x(numerical_gradient):
    """x is unchanged afterwards (and the gradient is right)"""
    f, x = _wavy((2, 2), 105)
    before, want = x.copy(), reference_descent.numerical_gradient(f, x)
    got = numerical_gradient(f, x)
    unchanged(x, before, "x")
    close(got, want, "the gradient", rtol=1e-7, atol=1e-9)


def _quadratic(n, seed):
    rng = np.random.default_rng(seed)
    q = rng.normal(size=(n, n))
    return probes.affine_gradient(q @ q.T / n + np.eye(n), rng.normal(size=n)), rng.normal(size=n)


def test_gradient_descent_quadratic(gradient_descent):
    """the whole path on a 4-D quadratic, 7 steps"""
    grad, x0 = _quadratic(4, 201)
    close(gradient_descent(grad, x0, 0.15, 7), reference_descent.gradient_descent(grad, x0, 0.15, 7), "the path")


def test_gradient_descent_matrix_start(gradient_descent):
    """a start point that is a (2, 3) matrix, on a non-quadratic function"""
    rng = np.random.default_rng(202)
    shape = (2, 3)
    grad = probes.wavy_gradient(rng.uniform(0.5, 1.5, shape), rng.uniform(0.2, 1.0, shape))
    x0 = rng.normal(size=shape)
    close(gradient_descent(grad, x0, 0.05, 5), reference_descent.gradient_descent(grad, x0, 0.05, 5),
          "the path (shape (num_steps + 1, 2, 3))")


def test_gradient_descent_no_steps(gradient_descent):
    """zero steps give a path holding only x0"""
    grad, x0 = _quadratic(3, 203)
    close(gradient_descent(grad, x0, 0.1, 0), reference_descent.gradient_descent(grad, x0, 0.1, 0), "the path of 0 steps")


def test_gradient_descent_keeps_x0(gradient_descent):
    """x0 is unchanged afterwards (and the path is right)"""
    grad, x0 = _quadratic(3, 204)
    before, want = x0.copy(), reference_descent.gradient_descent(grad, x0, 0.1, 4)
    got = gradient_descent(grad, x0, 0.1, 4)
    unchanged(x0, before, "x0")
    close(got, want, "the path")
