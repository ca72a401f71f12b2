"""Every backward against central differences; forward values against closed forms."""

import math

import numpy as np
import pytest

from course_lib import layers
from course_lib.reference import batchnorm, regularization
from course_lib.gradcheck import rel_error
from course_lib.reference.descent import numerical_gradient

RNG = np.random.default_rng(0)


def check_backward(forward, backward, inputs, tolerance=1e-7, seed=1):
    """Each input's gradient from ``backward`` against central differences of sum(forward * dout)."""
    out = forward(*inputs)[0]
    dout = np.random.default_rng(seed).standard_normal(out.shape)
    grads = backward(dout, forward(*inputs)[1])
    grads = grads if isinstance(grads, tuple) else (grads,)
    for i, (x, g) in enumerate(zip(inputs, grads)):
        def f(value, i=i):
            args = list(inputs)
            args[i] = value
            return np.sum(forward(*args)[0] * dout)
        assert rel_error(numerical_gradient(f, x), g) < tolerance, f"gradient of input {i}"


def test_affine_forward_and_backward():
    x, w, b = RNG.standard_normal((4, 5)), RNG.standard_normal((5, 3)), RNG.standard_normal(3)
    out, _ = layers.affine_forward(x, w, b)
    np.testing.assert_allclose(out, x @ w + b)
    check_backward(layers.affine_forward, layers.affine_backward, [x, w, b])


def test_affine_rejects_mismatched_shapes():
    with pytest.raises(ValueError, match=r"expected x \(N, D\), w \(D, M\), b \(M,\)"):
        layers.affine_forward(np.zeros((4, 5)), np.zeros((4, 3)), np.zeros(3))


@pytest.mark.parametrize("name", sorted(layers.ACTIVATIONS))
def test_activation_backward(name):
    forward, backward = layers.ACTIVATIONS[name]
    x = RNG.standard_normal((3, 7))
    x[np.abs(x) < 1e-3] = 0.5   # keep relu away from its kink
    check_backward(forward, backward, [x])


def test_activation_values():
    x = np.array([-2.0, 0.0, 3.0])
    np.testing.assert_allclose(layers.relu_forward(x)[0], [0, 0, 3])
    np.testing.assert_allclose(layers.sigmoid_forward(x)[0], 1 / (1 + np.exp(-x)))
    np.testing.assert_allclose(layers.tanh_forward(x)[0], np.tanh(x))


def test_sigmoid_is_stable_for_huge_inputs():
    out, _ = layers.sigmoid_forward(np.array([-1000.0, 1000.0], dtype=np.float32))
    np.testing.assert_array_equal(out, [0.0, 1.0])
    assert out.dtype == np.float32


def test_softmax_cross_entropy_value_and_gradient():
    scores = np.zeros((5, 4))
    loss, _ = layers.softmax_cross_entropy(scores, np.array([0, 1, 2, 3, 0]))
    assert loss == pytest.approx(math.log(4))
    scores, y = RNG.standard_normal((6, 3)), np.array([0, 2, 1, 1, 0, 2])
    _, dscores = layers.softmax_cross_entropy(scores, y)
    numeric = numerical_gradient(lambda s: layers.softmax_cross_entropy(s, y)[0], scores)
    assert rel_error(numeric, dscores) < 1e-7


def test_softmax_cross_entropy_is_stable_for_huge_scores():
    loss, dscores = layers.softmax_cross_entropy(np.array([[1000.0, 0.0]]), np.array([1]))
    assert loss == pytest.approx(1000.0)
    assert np.isfinite(dscores).all()


# ---------------------------------------------------------------- batchnorm

def bn_forward(mode, **extra):
    def forward(x, gamma, beta):
        return batchnorm.batchnorm_forward(x, gamma, beta, {"mode": mode, **extra})
    return forward


def test_batchnorm_train_output_has_mean_beta_and_std_gamma():
    x = 3 + 5 * RNG.standard_normal((200, 3))
    gamma, beta = np.array([1.0, 2.0, 0.5]), np.array([0.0, -1.0, 4.0])
    out, _ = batchnorm.batchnorm_forward(x, gamma, beta, {"mode": "train"})
    np.testing.assert_allclose(out.mean(axis=0), beta, atol=1e-12)
    np.testing.assert_allclose(out.std(axis=0), gamma * np.sqrt(x.var(0) / (x.var(0) + 1e-5)), rtol=1e-12)


def test_batchnorm_running_statistics_by_hand():
    x = RNG.standard_normal((10, 4)) * 2 + 1
    bn_param = {"mode": "train", "momentum": 0.8}
    batchnorm.batchnorm_forward(x, np.ones(4), np.zeros(4), bn_param)
    np.testing.assert_allclose(bn_param["running_mean"], 0.2 * x.mean(axis=0))
    np.testing.assert_allclose(bn_param["running_var"], 0.8 + 0.2 * x.var(axis=0))   # starts at ones, biased var


def test_batchnorm_test_mode_uses_running_statistics_and_leaves_them():
    x = RNG.standard_normal((6, 2))
    bn_param = {"mode": "test", "running_mean": np.array([1.0, -1.0]), "running_var": np.array([4.0, 0.25]), "eps": 0.0}
    out, _ = batchnorm.batchnorm_forward(x, np.ones(2), np.zeros(2), bn_param)
    np.testing.assert_allclose(out, (x - [1.0, -1.0]) / [2.0, 0.5])
    np.testing.assert_array_equal(bn_param["running_mean"], [1.0, -1.0])


@pytest.mark.parametrize("mode", ["train", "test"])
def test_batchnorm_backward(mode):
    x, gamma, beta = RNG.standard_normal((8, 5)) * 3 + 1, RNG.standard_normal(5), RNG.standard_normal(5)
    extra = {} if mode == "train" else {"running_mean": RNG.standard_normal(5), "running_var": RNG.random(5) + 0.5}
    check_backward(bn_forward(mode, **extra), batchnorm.batchnorm_backward, [x, gamma, beta], tolerance=1e-6)


def test_batchnorm_does_not_modify_x_and_rejects_bad_mode():
    x = RNG.standard_normal((4, 3))
    saved = x.copy()
    batchnorm.batchnorm_forward(x, np.ones(3), np.zeros(3), {"mode": "train"})
    np.testing.assert_array_equal(x, saved)
    with pytest.raises(ValueError, match="mode must be 'train' or 'test', got 'eval'"):
        batchnorm.batchnorm_forward(x, np.ones(3), np.zeros(3), {"mode": "eval"})
    with pytest.raises(ValueError, match=r"expected x \(N, D\), gamma \(D,\)"):
        batchnorm.batchnorm_forward(x, np.ones(4), np.zeros(3), {"mode": "train"})


# ---------------------------------------------------------------- dropout

def test_dropout_drops_a_fraction_p_and_keeps_the_mean():
    x = np.ones((500, 400))
    out, _ = regularization.dropout_forward(x, {"p": 0.3, "mode": "train", "seed": 0})
    dropped = np.mean(out == 0)
    assert abs(dropped - 0.3) < 5 * math.sqrt(0.3 * 0.7 / x.size)    # 5 standard errors
    np.testing.assert_allclose(out[out != 0], 1 / 0.7)
    assert abs(out.mean() - 1) < 0.01


def test_dropout_test_mode_is_the_identity_and_seed_fixes_the_mask():
    x = RNG.standard_normal((4, 6))
    out, cache = regularization.dropout_forward(x, {"p": 0.5, "mode": "test"})
    np.testing.assert_array_equal(out, x)
    np.testing.assert_array_equal(regularization.dropout_backward(x, cache), x)
    a, _ = regularization.dropout_forward(x, {"p": 0.5, "mode": "train", "seed": 7})
    b, _ = regularization.dropout_forward(x, {"p": 0.5, "mode": "train", "seed": 7})
    np.testing.assert_array_equal(a, b)


def test_dropout_backward():
    x = RNG.standard_normal((5, 4))
    check_backward(lambda x: regularization.dropout_forward(x, {"p": 0.4, "mode": "train", "seed": 3}),
                   regularization.dropout_backward, [x])


@pytest.mark.parametrize("param, message", [
    ({"p": 1.0, "mode": "train"}, r"must be in \[0, 1\)"),
    ({"p": -0.1, "mode": "train"}, r"must be in \[0, 1\)"),
    ({"mode": "train"}, r"must be in \[0, 1\), got None"),
    ({"p": 0.5, "mode": "training"}, "mode must be 'train' or 'test'"),
])
def test_dropout_rejects_bad_parameters(param, message):
    with pytest.raises(ValueError, match=message):
        regularization.dropout_forward(np.ones(3), param)


# ---------------------------------------------------------------- layernorm

def test_layernorm_rows_have_mean_0_and_variance_1_before_gamma_and_beta():
    x = RNG.standard_normal((4, 300)) * np.array([[0.5], [2.0], [5.0], [1.0]]) + np.array([[3.0], [-1.0], [0], [9]])
    out, cache = batchnorm.layernorm_forward(x, np.ones(300), np.zeros(300), {})
    np.testing.assert_allclose(out.mean(axis=1), 0, atol=1e-12)
    np.testing.assert_allclose(out.var(axis=1), x.var(1) / (x.var(1) + 1e-5), rtol=1e-12)
    gamma, beta = RNG.uniform(0.5, 2, 300), RNG.standard_normal(300)
    np.testing.assert_allclose(batchnorm.layernorm_forward(x, gamma, beta, {})[0], gamma * out + beta, rtol=1e-12)


def test_layernorm_is_batchnorm_on_the_transpose():
    x = RNG.standard_normal((5, 7)) * 2 + 1
    ln, _ = batchnorm.layernorm_forward(x, np.ones(7), np.zeros(7), {"eps": 0.01})
    bn, _ = batchnorm.batchnorm_forward(x.T, np.ones(5), np.zeros(5), {"mode": "train", "eps": 0.01})
    np.testing.assert_allclose(ln, bn.T, rtol=1e-12)


def test_layernorm_of_an_example_does_not_depend_on_its_batch():
    x = RNG.standard_normal((6, 4))
    gamma, beta = RNG.standard_normal(4), RNG.standard_normal(4)
    whole, _ = batchnorm.layernorm_forward(x, gamma, beta, {})
    alone, _ = batchnorm.layernorm_forward(x[2:3], gamma, beta, {})
    np.testing.assert_allclose(alone, whole[2:3], rtol=1e-12)


@pytest.mark.parametrize("eps", [1e-5, 0.1])
def test_layernorm_backward(eps):
    x, gamma, beta = RNG.standard_normal((6, 5)) * 3 + 1, RNG.standard_normal(5), RNG.standard_normal(5)
    forward = lambda x, gamma, beta: batchnorm.layernorm_forward(x, gamma, beta, {"eps": eps})  # noqa: E731
    check_backward(forward, batchnorm.layernorm_backward, [x, gamma, beta], tolerance=1e-6)


def test_layernorm_changes_nothing_it_is_given_and_rejects_bad_shapes():
    x, ln_param = RNG.standard_normal((4, 3)), {"eps": 1e-3}
    saved = x.copy()
    batchnorm.layernorm_forward(x, np.ones(3), np.zeros(3), ln_param)
    np.testing.assert_array_equal(x, saved)
    assert ln_param == {"eps": 1e-3}
    with pytest.raises(ValueError, match=r"expected x \(N, D\), gamma \(D,\)"):
        batchnorm.layernorm_forward(x, np.ones(4), np.zeros(3), {})
