"""Initializers against their formulas; central differences and gradient descent against closed forms."""

import math

import numpy as np
import pytest

from course_lib import init
from course_lib.reference import init as reference_init
from course_lib.descent import paths, trajectory
from course_lib.surfaces import SURFACES
from course_lib.reference.descent import gradient_descent
from course_lib.gradcheck import rel_error
from course_lib.reference.descent import numerical_gradient
from course_lib.reference.momentum import sgd

# ---------------------------------------------------------------- initializers

STD = {"xavier": lambda i, o: math.sqrt(2 / (i + o)), "he": lambda i, o: math.sqrt(2 / i),
       "xavier_uniform": lambda i, o: math.sqrt(2 / (i + o)), "he_uniform": lambda i, o: math.sqrt(2 / i)}


@pytest.mark.parametrize("name", sorted(STD))
def test_initializer_shape_and_std(name):
    fan_in, fan_out = 800, 1250               # 1e6 draws: the sample std is within 0.07% (1 sd)
    w = getattr(reference_init, name)(fan_in, fan_out, rng=0)
    assert w.shape == (fan_in, fan_out)
    assert w.std() == pytest.approx(STD[name](fan_in, fan_out), rel=4e-3)
    assert abs(w.mean()) < 5 * w.std() / 1000


def test_glorot_uniform_limits_are_the_lecture_notes_numbers():
    """Seed 000 draws 784-1000-10 weights from U(-0.058, 0.058) and U(-0.077, 0.077):
    those are Glorot's sqrt(6 / (fan_in + fan_out))."""
    assert math.sqrt(6 / (784 + 1000)) == pytest.approx(0.058, abs=5e-4)
    assert math.sqrt(6 / (1000 + 10)) == pytest.approx(0.077, abs=5e-4)
    w1, w2 = reference_init.xavier_uniform(784, 1000, rng=0), reference_init.xavier_uniform(1000, 10, rng=0)
    assert np.abs(w1).max() <= math.sqrt(6 / 1784) and np.abs(w1).max() > 0.0579
    assert np.abs(w2).max() <= math.sqrt(6 / 1010) and np.abs(w2).max() > 0.0769


def test_initializers_are_reproducible_and_leave_the_global_generator_alone():
    np.random.seed(123)
    before = np.random.get_state()[1].copy()
    a = reference_init.he(5, 3, rng=np.random.default_rng(4))
    np.testing.assert_array_equal(a, reference_init.he(5, 3, rng=4))
    np.testing.assert_array_equal(np.random.get_state()[1], before)


def test_normal_initializer_and_errors():
    w = init.normal(0.01)(500, 400, rng=1)
    assert w.std() == pytest.approx(0.01, rel=5e-3)
    with pytest.raises(ValueError, match="std must be > 0"):
        init.normal(0)
    with pytest.raises(ValueError, match="positive integers"):
        reference_init.he(0, 3)
    with pytest.raises(ValueError, match="positive integers"):
        reference_init.xavier(2.5, 3)


# ---------------------------------------------------------------- numerical gradient

def test_numerical_gradient_of_known_functions():
    x = np.array([[0.3, -1.2, 2.0], [1.5, 0.1, -0.7]])
    np.testing.assert_allclose(numerical_gradient(lambda v: np.sum(np.sin(v) * v), x),
                               np.cos(x) * x + np.sin(x), rtol=1e-8)
    np.testing.assert_allclose(numerical_gradient(lambda v: np.sum(v**3), x), 3 * x**2, rtol=1e-8)


def test_numerical_gradient_error_is_second_order_in_h():
    f, x = (lambda v: float(np.exp(v).sum())), np.array([1.0])
    errors = [abs(numerical_gradient(f, x, h=h)[0] - math.e) for h in (1e-2, 1e-3)]
    assert errors[0] / errors[1] == pytest.approx(100, rel=0.01)


def test_numerical_gradient_leaves_x_unchanged_and_rejects_integers():
    x = np.array([1.0, 2.0])
    numerical_gradient(lambda v: v @ v, x)
    np.testing.assert_array_equal(x, [1.0, 2.0])
    with pytest.raises(TypeError, match="must be a float array"):
        numerical_gradient(lambda v: v.sum(), np.array([1, 2]))


def test_rel_error():
    assert rel_error([1.0, 2.0], [1.0, 2.0]) == 0.0
    assert rel_error([1.0], [1.1]) == pytest.approx(0.1 / 2.1)
    with pytest.raises(ValueError, match="shapes differ"):
        rel_error([1.0], [1.0, 2.0])


# ---------------------------------------------------------------- gradient descent

def test_gradient_descent_closed_form_on_a_quadratic():
    """f = sum(a * x**2) / 2 gives x_k = (1 - lr * a)**k * x0 exactly, coordinate by coordinate."""
    a = np.array([[1.0, 0.2, 3.0], [0.5, 2.0, 0.1]])
    x0 = np.array([[1.0, -2.0, 0.5], [3.0, 1.0, -1.0]])
    path = gradient_descent(lambda x: a * x, x0, learning_rate=0.3, num_steps=25)
    assert path.shape == (26, 2, 3)
    k = np.arange(26)[:, None, None]
    np.testing.assert_allclose(path, (1 - 0.3 * a) ** k * x0, rtol=1e-12, atol=1e-300)


def test_gradient_descent_does_not_modify_x0():
    x0 = np.array([1.0, 2.0])
    gradient_descent(lambda x: 2 * x, x0, 0.1, 3)
    np.testing.assert_array_equal(x0, [1.0, 2.0])


def test_trajectory_equals_gradient_descent_for_sgd_and_stops_when_diverging():
    grad = lambda x: np.array([x[0] / 10, 2 * x[1]])
    x0 = np.array([-7.0, 2.0])
    np.testing.assert_allclose(trajectory(sgd, grad, x0, 30, {"learning_rate": 0.9}),
                               gradient_descent(grad, x0, 0.9, 30))
    path = trajectory(sgd, grad, x0, 2000, {"learning_rate": 1.5})   # |1 - 1.5 * 2| = 2: diverges
    assert path.shape == (2001, 2) and np.isfinite(path).all()
    np.testing.assert_array_equal(path[-1], path[-2])


def test_paths_runs_each_rule_from_the_surface_start():
    bowl = SURFACES["bowl"]
    found = paths(bowl, {"slow": (sgd, {"learning_rate": 0.1}), "fast": (sgd, {"learning_rate": 0.9})}, steps=5)
    assert list(found) == ["slow", "fast"]
    for label, rate in (("slow", 0.1), ("fast", 0.9)):
        np.testing.assert_array_equal(found[label], gradient_descent(bowl.grad, bowl.start, rate, 5))
