"""Update rules, EWMA and schedules, checked against hand-computed steps, closed forms,
known convergence rates and (where installed) PyTorch."""

import math

import numpy as np
import pytest

from course_lib.reference import adaptive, momentum, schedules
from course_lib.surfaces import bowl, product

RULES = list(adaptive.RULES.values())
NON_DEFAULT = {
    "sgd": {"learning_rate": 0.3},
    "sgd_momentum": {"learning_rate": 0.05, "momentum": 0.5},
    "nesterov": {"learning_rate": 0.05, "momentum": 0.7},
    "adagrad": {"learning_rate": 0.2, "epsilon": 1e-6},
    "rmsprop": {"learning_rate": 0.01, "decay_rate": 0.9, "epsilon": 1e-6},
    "adam": {"learning_rate": 0.02, "beta1": 0.8, "beta2": 0.99, "epsilon": 1e-6},
}


def arrays(shape=(3, 4), seed=0, dtype=np.float64):
    rng = np.random.default_rng(seed)
    return rng.standard_normal(shape).astype(dtype), rng.standard_normal(shape).astype(dtype)


# ---------------------------------------------------------------- the contract, every rule

@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.__name__)
def test_rule_changes_none_of_its_inputs(rule):
    w, dw = arrays()
    config = dict(NON_DEFAULT[rule.__name__])
    _, config = rule(w, dw, config)          # now config holds state arrays
    saved = {k: np.copy(v) for k, v in config.items()}
    w_saved, dw_saved = w.copy(), dw.copy()
    _, new_config = rule(w, dw, config)
    assert new_config is not config
    np.testing.assert_array_equal(w, w_saved)
    np.testing.assert_array_equal(dw, dw_saved)
    for k, v in saved.items():
        np.testing.assert_array_equal(config[k], v)


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.__name__)
def test_rule_fills_defaults_and_keeps_shape_and_dtype(rule):
    w, dw = arrays((5, 2), dtype=np.float32)
    next_w, config = rule(w, dw)
    assert next_w.shape == w.shape and next_w.dtype == np.float32
    assert config["learning_rate"] == (1e-3 if rule is adaptive.adam else 1e-2)
    for value in config.values():
        if isinstance(value, np.ndarray):
            assert value.dtype == np.float32


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.__name__)
def test_rule_decreases_a_quadratic_from_any_start(rule):
    w = np.array([[3.0, -2.0, 1.0], [0.5, -4.0, 2.0]])
    config = dict(NON_DEFAULT[rule.__name__])
    for _ in range(1000):
        w, config = rule(w, w, config)  # f = |w|^2 / 2
    assert np.abs(w).max() < 0.05


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.__name__)
def test_rule_converges_on_rosenbrock(rule):
    from course_lib.surfaces import rosenbrock

    settings = {"sgd": {"learning_rate": 1e-3}, "sgd_momentum": {"learning_rate": 1e-3, "momentum": 0.9},
                "nesterov": {"learning_rate": 1e-3, "momentum": 0.9}, "adagrad": {"learning_rate": 0.5},
                "rmsprop": {"learning_rate": 1e-3}, "adam": {"learning_rate": 0.02}}[rule.__name__]
    p, config = np.array([-1.2, 1.0]), settings
    for _ in range(20000):
        p, config = rule(p, rosenbrock.grad(p), config)
    assert rosenbrock(p) < 1e-3
    np.testing.assert_allclose(p, [1, 1], atol=0.06)


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.__name__)
@pytest.mark.parametrize("bad, message", [
    ({"lr": 0.1}, "unknown config key"),
    ({"learning_rate": 0.0}, "learning_rate must be > 0"),
    ({"learning_rate": -1.0}, "learning_rate must be > 0"),
])
def test_rule_rejects_bad_config(rule, bad, message):
    w, dw = arrays()
    with pytest.raises(ValueError, match=message):
        rule(w, dw, bad)


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.__name__)
def test_rule_rejects_mismatched_shapes_and_nan_gradients(rule):
    w, dw = arrays((3, 4))
    with pytest.raises(ValueError, match=r"w has shape \(3, 4\) but dw has shape \(4, 3\)"):
        rule(w, dw.T)
    dw[1, 2] = np.nan
    with pytest.raises(FloatingPointError, match="1 NaN or infinite"):
        rule(w, dw)


@pytest.mark.parametrize("rule", [momentum.sgd_momentum, adaptive.adagrad, adaptive.adam], ids=lambda r: r.__name__)
def test_rule_rejects_state_of_another_shape(rule):
    w, dw = arrays((3, 4))
    _, config = rule(w, dw)
    with pytest.raises(ValueError, match="one config per parameter array"):
        rule(w[:2], dw[:2], config)


@pytest.mark.parametrize("key, value", [("momentum", 1.0), ("momentum", -0.1)])
def test_momentum_out_of_range(key, value):
    with pytest.raises(ValueError, match=r"momentum must be in \[0, 1\)"):
        momentum.sgd_momentum(*arrays(), {key: value})


def test_config_must_be_a_dict():
    with pytest.raises(TypeError, match="config must be a dict"):
        momentum.sgd(*arrays(), [("learning_rate", 0.1)])


# ---------------------------------------------------------------- hand-computed steps

def test_sgd_step():
    w, _ = momentum.sgd(np.array([1.0, 2.0]), np.array([0.5, -1.0]), {"learning_rate": 0.1})
    np.testing.assert_allclose(w, [0.95, 2.1], rtol=0, atol=1e-15)


def test_momentum_two_steps_by_hand():
    w, dw, config = np.array([1.0]), np.array([2.0]), {"learning_rate": 0.1, "momentum": 0.5}
    w, config = momentum.sgd_momentum(w, dw, config)   # v = -0.2, w = 0.8
    w, config = momentum.sgd_momentum(w, dw, config)   # v = 0.5 * -0.2 - 0.2 = -0.3, w = 0.5
    np.testing.assert_allclose(w, [0.5])
    np.testing.assert_allclose(config["velocity"], [-0.3])


def test_nesterov_equals_the_look_ahead_form():
    """Sutskever et al.'s form: v = mu v - lr grad(theta + mu v); theta = theta + v.
    The course's rule tracks w = theta + mu v, the look-ahead point."""
    lr, mu = 0.05, 0.9
    grad = bowl.grad
    theta, v = np.array(bowl.start), np.zeros(2)
    w, config = theta + mu * v, {"learning_rate": lr, "momentum": mu}
    for _ in range(40):
        v = mu * v - lr * grad(theta + mu * v)
        theta = theta + v
        w, config = momentum.nesterov(w, grad(w), config)
        np.testing.assert_allclose(w, theta + mu * v, rtol=1e-12, atol=1e-12)


def test_adagrad_worked_example_on_xy():
    """Seed 004: f = xy from (1, 2), step 1, no epsilon: (0, 1), then (-1/sqrt(5), 1)."""
    p, config = np.array([1.0, 2.0]), {"learning_rate": 1.0, "epsilon": 0.0}
    p, config = adaptive.adagrad(p, product.grad(p), config)
    np.testing.assert_allclose(p, [0.0, 1.0], atol=1e-15)
    np.testing.assert_allclose(config["cache"], [4.0, 1.0])
    p, config = adaptive.adagrad(p, product.grad(p), config)
    np.testing.assert_allclose(p, [-1 / math.sqrt(5), 1.0], atol=1e-15)


def test_rmsprop_first_step_by_hand():
    w, config = adaptive.rmsprop(np.array([1.0]), np.array([2.0]), {"learning_rate": 0.1, "decay_rate": 0.9, "epsilon": 0})
    # cache = 0.1 * 4 = 0.4; step = 0.1 * 2 / sqrt(0.4)
    np.testing.assert_allclose(w, [1 - 0.2 / math.sqrt(0.4)])


@pytest.mark.parametrize("scale", [1e-6, 1e-2, 1.0, 1e3, 1e6])
def test_adam_first_step_is_learning_rate_times_sign(scale):
    """After bias correction m_hat = g and v_hat = g**2, so the step is lr * g / (|g| + eps)."""
    g = scale * np.array([[1.0, -3.0, 0.5], [-2.0, 4.0, -0.25]])
    lr, eps = 1e-3, 1e-8
    w, _ = adaptive.adam(np.zeros_like(g), g, {"learning_rate": lr, "epsilon": eps})
    np.testing.assert_allclose(w, -lr * g / (np.abs(g) + eps), rtol=1e-12)


def test_adam_matches_algorithm_1_of_the_paper():
    """Kingma & Ba (2015), Algorithm 1, written out in plain floats for a scalar parameter."""
    lr, b1, b2, eps = 0.01, 0.8, 0.95, 1e-7
    grads = [0.3, -1.2, 0.7, 2.0, -0.1, 0.05]
    theta, m, v = 0.5, 0.0, 0.0
    w, config = np.array([0.5]), {"learning_rate": lr, "beta1": b1, "beta2": b2, "epsilon": eps}
    for t, g in enumerate(grads, start=1):
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        theta -= lr * (m / (1 - b1**t)) / (math.sqrt(v / (1 - b2**t)) + eps)
        w, config = adaptive.adam(w, np.array([g]), config)
        assert w[0] == pytest.approx(theta, rel=1e-13)
    assert config["t"] == len(grads)


# ---------------------------------------------------------------- known results

def test_gradient_descent_rate_on_the_bowl_is_kappa_minus_one_over_kappa_plus_one():
    """The best constant step 2 / (l1 + ln) contracts the error by (k - 1) / (k + 1) each step."""
    l1, ln = 2.0, 0.1                     # Hessian eigenvalues of x^2/20 + y^2
    kappa = l1 / ln
    p, config = np.array(bowl.start), {"learning_rate": 2 / (l1 + ln)}
    norms = []
    for _ in range(60):
        p, config = momentum.sgd(p, bowl.grad(p), config)
        norms.append(np.linalg.norm(p))
    rate = (norms[59] / norms[19]) ** (1 / 40)
    assert rate == pytest.approx((kappa - 1) / (kappa + 1), rel=1e-9)


def test_heavy_ball_with_optimal_parameters_converges_at_the_optimal_rate():
    """Polyak's heavy ball on x^2/20 + y^2 with alpha = (2 / (sqrt(l1) + sqrt(ln)))**2 and
    beta = ((sqrt(k) - 1) / (sqrt(k) + 1))**2 converges at rate (sqrt(k) - 1) / (sqrt(k) + 1)."""
    l1, ln = 2.0, 0.1
    kappa = l1 / ln
    alpha = (2 / (math.sqrt(l1) + math.sqrt(ln))) ** 2
    beta = ((math.sqrt(kappa) - 1) / (math.sqrt(kappa) + 1)) ** 2
    p, config = np.array(bowl.start), {"learning_rate": alpha, "momentum": beta}
    norms = []
    for _ in range(600):
        p, config = momentum.sgd_momentum(p, bowl.grad(p), config)
        norms.append(np.linalg.norm(p))
    # The iteration matrix has a double eigenvalue, so the error is ~ k * rate**k: measure over a
    # long window, where the factor k changes the per-step ratio by (600/200)**(1/400) - 1 = 0.3%.
    measured = (norms[599] / norms[199]) ** (1 / 400)
    expected = (math.sqrt(kappa) - 1) / (math.sqrt(kappa) + 1)
    assert measured == pytest.approx(expected, rel=4e-3)
    assert measured < (kappa - 1) / (kappa + 1) - 0.2   # far faster than the best plain step (0.905)


# ---------------------------------------------------------------- PyTorch, where installed

def _torch_steps(name, config, w0, grads):
    torch = pytest.importorskip("torch")
    p = torch.nn.Parameter(torch.tensor(w0, dtype=torch.float64))
    make = {
        "sgd": lambda: torch.optim.SGD([p], lr=config["learning_rate"]),
        "sgd_momentum": lambda: torch.optim.SGD([p], lr=config["learning_rate"], momentum=config["momentum"]),
        "nesterov": lambda: torch.optim.SGD([p], lr=config["learning_rate"], momentum=config["momentum"], nesterov=True),
        "adagrad": lambda: torch.optim.Adagrad([p], lr=config["learning_rate"], eps=config["epsilon"]),
        "rmsprop": lambda: torch.optim.RMSprop([p], lr=config["learning_rate"], alpha=config["decay_rate"],
                                               eps=config["epsilon"]),
        "adam": lambda: torch.optim.Adam([p], lr=config["learning_rate"], betas=(config["beta1"], config["beta2"]),
                                         eps=config["epsilon"]),
    }[name]()
    path = []
    for g in grads:
        p.grad = torch.tensor(g, dtype=torch.float64)
        make.step()
        path.append(p.detach().numpy().copy())
    return path


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.__name__)
def test_rule_matches_pytorch(rule):
    """PyTorch keeps momentum as a sum of gradients; the iterates are the same."""
    rng = np.random.default_rng(3)
    w0 = rng.standard_normal((4, 3))
    grads = [rng.standard_normal((4, 3)) for _ in range(8)]
    expected = _torch_steps(rule.__name__, NON_DEFAULT[rule.__name__], w0, grads)
    w, config = w0, dict(NON_DEFAULT[rule.__name__])
    for g, want in zip(grads, expected):
        w, config = rule(w, g, config)
        np.testing.assert_allclose(w, want, rtol=1e-12, atol=1e-14)


# ---------------------------------------------------------------- EWMA

def test_ewma_by_hand():
    np.testing.assert_allclose(momentum.ewma([1.0, 2.0, 3.0], 0.5, bias_correction=False), [0.5, 1.25, 2.125])
    # corrected: divide by 1 - 0.5**t = 0.5, 0.75, 0.875
    np.testing.assert_allclose(momentum.ewma([1.0, 2.0, 3.0], 0.5), [1.0, 5 / 3, 17 / 7])


def test_ewma_of_a_constant_is_the_constant_only_with_bias_correction():
    xs = np.full(50, 7.0)
    np.testing.assert_allclose(momentum.ewma(xs, 0.9), 7.0, rtol=1e-14)
    t = np.arange(1, 51)
    np.testing.assert_allclose(momentum.ewma(xs, 0.9, bias_correction=False), 7 * (1 - 0.9**t), rtol=1e-13)


def test_ewma_averages_along_the_first_axis():
    xs = np.arange(12.0).reshape(4, 3)
    columns = np.stack([momentum.ewma(xs[:, j], 0.7) for j in range(3)], axis=1)
    np.testing.assert_allclose(momentum.ewma(xs, 0.7), columns)


@pytest.mark.parametrize("xs, beta, message", [(3.0, 0.9, "must be a series"), ([1, 2], 1.0, r"beta must be in \[0, 1\)")])
def test_ewma_rejects_bad_input(xs, beta, message):
    with pytest.raises(ValueError, match=message):
        momentum.ewma(xs, beta)


# ---------------------------------------------------------------- schedules

def test_step_decay_by_hand():
    assert [schedules.step_decay(0.1, t, drop=0.5, every=3) for t in (0, 2, 3, 5, 6, 9)] == pytest.approx(
        [0.1, 0.1, 0.05, 0.05, 0.025, 0.0125])


def test_exponential_and_inverse_time_decay_by_hand():
    assert schedules.exponential_decay(0.2, 5, k=0.1) == pytest.approx(0.2 * math.exp(-0.5))
    assert schedules.inverse_time_decay(0.2, 5, k=0.1) == pytest.approx(0.2 / 1.5)


def test_cosine_restarts_by_hand():
    lr = [schedules.cosine_restarts(1.0, t, period=4, lr_min=0.2) for t in range(9)]
    half = 0.2 + 0.8 * (1 + math.cos(math.pi / 4)) / 2
    assert lr == pytest.approx([1.0, half, 0.6, 0.2 + 0.8 * (1 - math.cos(math.pi / 4)) / 2, 1.0, half, 0.6,
                                lr[3], 1.0])


@pytest.mark.parametrize("schedule, kwargs", [
    (schedules.step_decay, {}), (schedules.exponential_decay, {"k": 0.1}),
    (schedules.inverse_time_decay, {"k": 0.1}), (schedules.cosine_restarts, {"period": 7}),
])
def test_schedules_take_arrays_of_steps_and_reject_negative_steps(schedule, kwargs):
    t = np.arange(30)
    np.testing.assert_allclose(schedule(0.5, t, **kwargs), [schedule(0.5, int(s), **kwargs) for s in t])
    assert isinstance(schedule(0.5, 3, **kwargs), float)
    with pytest.raises(ValueError, match="cannot be negative"):
        schedule(0.5, -1, **kwargs)


def test_adamw_is_adam_plus_a_decay_of_the_old_weights():
    rng = np.random.default_rng(0)
    w, config_w, config_a = rng.normal(size=(3, 4)), {"weight_decay": 0.1, "learning_rate": 0.01}, {"learning_rate": 0.01}
    for _ in range(4):
        dw = rng.normal(size=w.shape)
        next_a, config_a = adaptive.adam(w, dw, config_a)
        next_w, config_w = adaptive.adamw(w, dw, config_w)
        np.testing.assert_allclose(next_w, next_a - 0.01 * 0.1 * w, rtol=1e-12, atol=1e-15)
        w = next_w
    assert config_w["t"] == 4 and adaptive.adamw(w, w)[1]["weight_decay"] == 1e-2


def test_warmup_cosine_ramps_decays_and_stays_at_lr_min():
    t = np.arange(14)
    lr = schedules.warmup_cosine(1.0, t, 4, 10, lr_min=0.1)
    np.testing.assert_allclose(lr[:4], [0.25, 0.5, 0.75, 1.0])
    assert lr[4] == 1.0 and np.all(np.diff(lr[4:11]) < 0) and np.all(lr[10:] == 0.1)
    assert [schedules.warmup_cosine(1.0, int(k), 4, 10, lr_min=0.1) for k in t] == list(lr)
    assert schedules.warmup_cosine(0.5, 0, 0, 8) == 0.5
    with pytest.raises(ValueError, match="warmup < total"):
        schedules.warmup_cosine(1.0, 0, 10, 10)


def test_clip_by_global_norm_scales_all_arrays_together_and_copies():
    grads = {"W1": np.array([[3.0, 0.0]]), "b1": np.array([4.0])}
    clipped, norm = schedules.clip_by_global_norm(grads, 1.0)
    assert norm == 5.0 and np.allclose(clipped["W1"], [[0.6, 0.0]]) and np.allclose(clipped["b1"], [0.8])
    assert grads["W1"].tolist() == [[3.0, 0.0]]
    same, norm = schedules.clip_by_global_norm(grads, 10.0)
    assert norm == 5.0 and same["b1"] is not grads["b1"] and same["b1"].tolist() == [4.0]
