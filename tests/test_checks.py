"""The self-checks of notebooks 01 to 04: every diagnosed mistake, written inline the way a
student would write it, gets its diagnosis; the references pass; the stored data are current.

The wrong functions here are written independently of the mistakes in ``*_cases.py``: they
are the oracle that the stored variants describe real student code.
"""

import math

import numpy as np
import pytest

from course_lib import descent, gradcheck
from course_lib.reference import adaptive, momentum, schedules, descent as reference_descent
from course_instructor.cases import build
from course_lib.checks import CHECKS, check_adam, check_sgd, run_check

REFERENCES = {
    "numerical_gradient": reference_descent.numerical_gradient, "gradient_descent": reference_descent.gradient_descent,
    **{name: getattr(module, name) for module, names in (
        (momentum, ("sgd", "sgd_momentum", "nesterov", "ewma")),
        (adaptive, ("adagrad", "rmsprop", "adam", "adamw")),
        (schedules, ("step_decay", "exponential_decay", "inverse_time_decay", "cosine_restarts",
                     "warmup_cosine", "clip_by_global_norm"))) for name in names},
}


def diagnosis(exercise, fn):
    return run_check(exercise, fn).diagnosis


def fill(config, **defaults):
    """What students write first: a new dict with the defaults filled in."""
    return {**defaults, **(config or {})}


# ---------------------------------------------------------------- the framework

@pytest.mark.parametrize("exercise", sorted(REFERENCES))
def test_the_reference_passes(exercise):
    result = run_check(exercise, REFERENCES[exercise])
    assert result.passed, result.message
    assert result.message.startswith(f"✓ {exercise}: ") and "cases passed" in result.message
    assert result.diagnosis == "passed" and result.case is None


@pytest.mark.parametrize("exercise", sorted(build.specs()))
def test_stored_data_are_up_to_date(exercise):
    problem = build.stale(build.specs()[exercise])
    assert problem is None, f"{problem}: rebuild with `python -m course_instructor.cases.build`"


def test_a_stale_file_is_named():
    spec = build.specs()["sgd"]
    changed = build.Spec(**{**spec.__dict__, "rule": "w + learning_rate * dw."})
    assert "sgd.json (public) is out of date (/rule" in build.stale(changed)


def test_a_stale_hidden_case_is_named():
    spec = build.specs()["sgd"]
    cases = [build.Case(**{**c.__dict__, "label": c.label + "!"}) if c.hidden else c for c in spec.cases]
    assert "sgd.json (hidden) is out of date (/cases[0]/label" in build.stale(build.Spec(**{**spec.__dict__,
                                                                                            "cases": cases}))


def test_a_mistake_no_hidden_case_shows_fails_the_build():
    spec = build.specs()["sgd"]
    cases = [c for c in spec.cases if not c.hidden or "config=None" in c.label]   # lr at its default only
    with pytest.raises(ValueError, match=r"\['hard_coded_learning_rate'\] give the right outputs on every hidden"):
        build.build(build.Spec(**{**spec.__dict__, "cases": cases}), hidden=True)


def test_check_prints_one_verdict_and_returns_none(capsys):
    assert check_adam(adaptive.adam) is None
    out = capsys.readouterr().out
    assert out.count("\n") == 1 and out.startswith("✓ adam: ")


def test_the_verdict_is_the_same_on_every_run():
    def adam(w, dw, config=None):
        c = fill(config, learning_rate=1e-3, beta1=0.9, beta2=0.999, epsilon=1e-8)
        m = c["beta1"] * c.get("m", 0) + (1 - c["beta1"]) * dw
        return w - c["learning_rate"] * m, {**c, "m": m, "v": m, "t": 1}
    assert run_check("adam", adam) == run_check("adam", adam)


def test_not_implemented_yet():
    def adam(w, dw, config=None):
        # YOUR CODE HERE
        raise NotImplementedError()
    result = run_check("adam", adam)
    assert result.message == ("✗ adam: not implemented yet: replace `raise NotImplementedError()` "
                              "with your code.")
    assert result.diagnosis == "not_implemented"


def test_another_exception_is_one_line_with_the_case_and_no_library_frames():
    def sgd(w, dw, config=None):
        lr = config["learning_rate"]
        return w - lr * dw, config
    result = run_check("sgd", sgd)
    assert result.diagnosis == "error"
    assert "\n" not in result.message
    assert "TypeError: 'NoneType' object is not subscriptable" in result.message
    assert "(line " in result.message and 'lr = config["learning_rate"]' in result.message
    assert "config=None" in result.message and "takes its default: learning_rate=0.01" in result.message
    assert "framework.py" not in result.message and "Traceback" not in result.message


def test_an_error_raised_inside_numpy_shows_the_student_line():
    def sgd(w, dw, config=None):
        c = fill(config, learning_rate=1e-2)
        return w - c["learning_rate"] * dw.reshape(7, -1), c
    result = run_check("sgd", sgd)
    assert result.diagnosis == "error" and "ValueError: cannot reshape" in result.message
    assert "dw.reshape(7, -1)" in result.message and "numpy" not in result.message.split("(line")[1]


def test_missing_defaults_in_a_partial_config_name_the_case():
    def adam(w, dw, config=None):
        c = dict(config) if config else {"learning_rate": 1e-3, "beta1": 0.9, "beta2": 0.999, "epsilon": 1e-8}
        t = c.get("t", 0) + 1
        m = c["beta1"] * c.get("m", 0) + (1 - c["beta1"]) * dw
        return w, {**c, "m": m, "v": m, "t": t}
    result = run_check("adam", adam)
    assert result.diagnosis == "error" and "KeyError: 'beta1'" in result.message
    assert "partial config" in result.case and "fill in the others with their defaults" in result.message


def test_a_function_that_is_not_a_function():
    result = run_check("adam", np.zeros(3))
    assert result.diagnosis == "wrong_type" and "check_adam(adam)" in result.message


def test_an_unknown_exercise():
    with pytest.raises(KeyError, match="no self-check for 'lamb'"):
        run_check("lamb", adaptive.adam)


def test_returning_only_next_w_is_a_wrong_type():
    def sgd(w, dw, config=None):
        return w - 0.01 * dw
    result = run_check("sgd", sgd)
    assert result.diagnosis == "wrong_type" and "return `next_w, config`" in result.message


def test_returning_a_list_for_next_w_is_a_wrong_type():
    def sgd(w, dw, config=None):
        c = fill(config, learning_rate=1e-2)
        return list(w - c["learning_rate"] * dw), c
    result = run_check("sgd", sgd)
    assert result.diagnosis == "wrong_type" and "next_w should be a NumPy array" in result.message


def test_next_w_of_the_wrong_shape():
    def sgd(w, dw, config=None):
        c = fill(config, learning_rate=1e-2)
        return (w - c["learning_rate"] * dw).T, c
    result = run_check("sgd", sgd)
    assert result.diagnosis == "wrong_shape"
    assert "next_w has shape (5, 4) but w has shape (4, 5)" in result.message


def test_next_w_of_the_wrong_dtype():
    def sgd(w, dw, config=None):
        c = fill(config, learning_rate=1e-2)
        return (w - c["learning_rate"] * dw).astype(np.float64), c
    result = run_check("sgd", sgd)
    assert result.diagnosis == "wrong_dtype"
    assert "next_w has dtype float64 but w has dtype float32" in result.message and "float32" in result.case


def test_state_of_the_wrong_dtype():
    def adagrad(w, dw, config=None):
        c = fill(config, learning_rate=1e-2, epsilon=1e-8)
        cache = c.get("cache", np.zeros(w.shape)) + dw * dw
        next_w = w - c["learning_rate"] * dw / (np.sqrt(cache) + c["epsilon"])
        return next_w.astype(w.dtype), {**c, "cache": cache}
    result = run_check("adagrad", adagrad)
    assert result.diagnosis == "wrong_dtype" and "config['cache'] has dtype float64" in result.message


def test_a_schedule_returning_an_array_is_a_wrong_shape():
    def exponential_decay(lr0, t, k):
        return lr0 * np.exp(-k * np.array([t]))
    result = run_check("exponential_decay", exponential_decay)
    assert result.diagnosis == "wrong_shape" and "should be one number" in result.message


def test_a_series_of_the_wrong_length_is_a_wrong_shape():
    def ewma(xs, beta, bias_correction=True):
        return np.asarray(xs, dtype=float)[1:]
    result = run_check("ewma", ewma)
    assert result.diagnosis == "wrong_shape" and "the shape of your averages is (5,) where (6,) was expected" in result.message


# ---------------------------------------------------------------- inputs changed in place

def test_w_updated_in_place():
    def sgd(w, dw, config=None):
        c = fill(config, learning_rate=1e-2)
        w -= c["learning_rate"] * dw
        return w, c
    result = run_check("sgd", sgd)
    assert result.diagnosis == "mutated_input"
    assert "changed its input w in place" in result.message and "w -= ..." in result.message


def test_state_array_updated_in_place():
    def sgd_momentum(w, dw, config=None):
        c = fill(config, learning_rate=1e-2, momentum=0.9)
        v = c.setdefault("velocity", np.zeros_like(w))
        v *= c["momentum"]
        v -= c["learning_rate"] * dw
        return w + v, c
    result = run_check("sgd_momentum", sgd_momentum)
    assert result.diagnosis == "mutated_input" and "config['velocity'] was updated in place" in result.message


def test_config_changed_and_returned():
    def sgd_momentum(w, dw, config=None):
        if config is None:
            config = {}
        config.setdefault("learning_rate", 1e-2)
        config.setdefault("momentum", 0.9)
        v = config["momentum"] * config.get("velocity", np.zeros_like(w)) - config["learning_rate"] * dw
        config["velocity"] = v
        return w + v, config
    result = run_check("sgd_momentum", sgd_momentum)
    assert result.diagnosis == "config_not_new" and "config = {} if config is None else dict(config)" in result.message


def test_x_not_put_back_in_numerical_gradient():
    def numerical_gradient(f, x, h=1e-5):
        grad = np.zeros_like(x)
        for i in np.ndindex(x.shape):
            old = x[i]
            x[i] = old + h
            f_plus = f(x)
            x[i] = old - h
            grad[i] = (f_plus - f(x)) / (2 * h)
        return grad
    result = run_check("numerical_gradient", numerical_gradient)
    assert result.diagnosis == "mutated_input" and "changed its input x in place" in result.message


def test_x0_changed_by_gradient_descent():
    def gradient_descent(grad, x0, learning_rate, num_steps):
        x, path = x0, [x0.copy()]
        for _ in range(num_steps):
            x -= learning_rate * grad(x)
            path.append(x.copy())
        return np.array(path)
    result = run_check("gradient_descent", gradient_descent)
    assert result.diagnosis == "mutated_input" and "changed its input x0 in place" in result.message


def test_xs_changed_by_ewma():
    def ewma(xs, beta, bias_correction=True):
        v = 0.0
        for t in range(len(xs)):
            v = beta * v + (1 - beta) * xs[t]
            xs[t] = v / (1 - beta ** (t + 1)) if bias_correction else v
        return xs
    result = run_check("ewma", ewma)   # right on floats; an integer xs truncates what is written into it
    assert result.diagnosis == "integer_averages" and result.slips == ("mutated_input",), result.message
    assert "Also: your function changed its input xs in place" in result.message


# ---------------------------------------------------------------- notebook 01

def test_numerical_gradient_one_sided_forward():
    def numerical_gradient(f, x, h=1e-5):
        grad, fx = np.zeros_like(x), f(x)
        for i in np.ndindex(x.shape):
            e = np.zeros_like(x)
            e[i] = h
            grad[i] = (f(x + e) - fx) / h
        return grad
    result = run_check("numerical_gradient", numerical_gradient)
    assert result.diagnosis == "forward_difference" and "one-sided (forward)" in result.message


def test_numerical_gradient_one_sided_backward():
    def numerical_gradient(f, x, h=1e-5):
        grad = np.zeros_like(x)
        for i in np.ndindex(x.shape):
            e = np.zeros_like(x)
            e[i] = h
            grad[i] = (f(x) - f(x - e)) / h
        return grad
    assert diagnosis("numerical_gradient", numerical_gradient) == "backward_difference"


def test_numerical_gradient_divided_by_h():
    def numerical_gradient(f, x, h=1e-5):
        grad = np.zeros_like(x)
        for i in np.ndindex(x.shape):
            e = np.zeros_like(x)
            e[i] = h
            grad[i] = (f(x + e) - f(x - e)) / h
        return grad
    result = run_check("numerical_gradient", numerical_gradient)
    assert result.diagnosis == "divided_by_h" and "(2x too large)" in result.message


def test_numerical_gradient_flattened():
    def numerical_gradient(f, x, h=1e-5):
        flat, grad = x.ravel().copy(), []
        for i in range(flat.size):
            e = np.zeros_like(flat)
            e[i] = h
            grad.append((f(flat + e) - f(flat - e)) / (2 * h))
        return np.array(grad)
    result = run_check("numerical_gradient", numerical_gradient)
    assert result.diagnosis == "flattened" and "shape of x" in result.message


def test_numerical_gradient_hard_coded_h():
    def numerical_gradient(f, x, h=1e-5):
        grad = np.zeros_like(x)
        for i in np.ndindex(x.shape):
            e = np.zeros_like(x)
            e[i] = 1e-5
            grad[i] = (f(x + e) - f(x - e)) / 2e-5
        return grad
    result = run_check("numerical_gradient", numerical_gradient)
    assert result.diagnosis == "hard_coded_h" and "h=0.1" in result.case


def test_gradient_descent_missing_x0():
    def gradient_descent(grad, x0, learning_rate, num_steps):
        x, path = np.array(x0, dtype=float), []
        for _ in range(num_steps):
            x = x - learning_rate * grad(x)
            path.append(x)
        return np.array(path).reshape(num_steps, *np.shape(x0))
    result = run_check("gradient_descent", gradient_descent)
    assert result.diagnosis == "missing_x0"
    assert "the shape of your trajectory is (5, 2) where (6, 2) was expected" in result.message


def test_gradient_descent_off_by_one():
    def gradient_descent(grad, x0, learning_rate, num_steps):
        x, path = np.array(x0, dtype=float), [np.array(x0, dtype=float)]
        for _ in range(num_steps - 1):
            x = x - learning_rate * grad(x)
            path.append(x)
        return np.array(path)
    assert diagnosis("gradient_descent", gradient_descent) == "one_step_short"


def test_gradient_descent_one_step_too_many():
    def gradient_descent(grad, x0, learning_rate, num_steps):
        x, path = np.array(x0, dtype=float), [np.array(x0, dtype=float)]
        for _ in range(num_steps + 1):
            x = x - learning_rate * grad(x)
            path.append(x)
        return np.array(path)
    assert diagnosis("gradient_descent", gradient_descent) == "one_step_too_many"


def test_gradient_descent_uphill():
    def gradient_descent(grad, x0, learning_rate, num_steps):
        path = np.zeros((num_steps + 1, *np.shape(x0)))
        path[0] = x0
        for k in range(num_steps):
            path[k + 1] = path[k] + learning_rate * grad(path[k])
        return path
    result = run_check("gradient_descent", gradient_descent)
    assert result.diagnosis == "uphill" and "x_(k+1) = x_k - learning_rate * grad(x_k)" in result.message


def test_gradient_descent_aliased_rows():
    def gradient_descent(grad, x0, learning_rate, num_steps):
        x = np.array(x0, dtype=float)
        path = [x]
        for _ in range(num_steps):
            x -= learning_rate * grad(x)
            path.append(x)
        return np.array(path)
    assert diagnosis("gradient_descent", gradient_descent) == "aliased_rows"


# ---------------------------------------------------------------- ewma

def student_ewma(correct="when asked", exponent=0, swapped=False, dtype_of_xs=False):
    """A student's ewma; the arguments are the mistakes (the defaults are right)."""
    def ewma(xs, beta, bias_correction=True):
        xs = np.asarray(xs)
        out = np.zeros_like(xs) if dtype_of_xs else np.zeros(xs.shape)
        v = 0.0
        for t in range(1, len(xs) + 1):
            v = (1 - beta) * v + beta * xs[t - 1] if swapped else beta * v + (1 - beta) * xs[t - 1]
            corrected = {"when asked": bias_correction, "never": False, "always": True}[correct]
            out[t - 1] = v / (1 - beta ** (t + exponent)) if corrected else v
        return out
    return ewma


def test_ewma_student_template_is_right():
    assert run_check("ewma", student_ewma()).passed


EWMA_MISTAKES = [
    ("no_bias_correction", student_ewma(correct="never")),
    ("correction_ignores_flag", student_ewma(correct="always")),
    ("correction_exponent_plus_one", student_ewma(exponent=1)),
    ("correction_exponent_minus_one", student_ewma(exponent=-1)),
    ("beta_swapped", student_ewma(swapped=True)),
    ("integer_averages", student_ewma(dtype_of_xs=True)),
]


@pytest.mark.parametrize("mistake, fn", EWMA_MISTAKES)
def test_ewma_mistakes(mistake, fn):
    assert diagnosis("ewma", fn) == mistake


def test_ewma_message_names_the_missing_correction_with_numbers():
    message = run_check("ewma", student_ewma(correct="never")).message
    assert message.startswith("✗ ewma: your average 1 (after x_1) is ")
    assert "10x too small" in message and "divide v_t by (1 - beta**t)" in message


# ---------------------------------------------------------------- sgd, momentum, nesterov

def test_sgd_uphill():
    def sgd(w, dw, config=None):
        c = fill(config, learning_rate=1e-2)
        return w + c["learning_rate"] * dw, c
    result = run_check("sgd", sgd)
    assert result.diagnosis == "uphill" and "(the opposite sign)" in result.message


def test_sgd_hard_coded_learning_rate():
    def sgd(w, dw, config=None):
        return w - 1e-2 * dw, fill(config, learning_rate=1e-2)
    result = run_check("sgd", sgd)
    assert result.diagnosis == "hard_coded_learning_rate" and "config['learning_rate']" in result.message


def test_sgd_returns_a_config_without_the_learning_rate():
    def sgd(w, dw, config=None):
        return w - (config or {}).get("learning_rate", 1e-2) * dw, {}
    result = run_check("sgd", sgd)
    assert result.diagnosis == "config_incomplete" and "no 'learning_rate'" in result.message


def student_momentum(step_sign=1, gradient_sign=-1, nesterov=False, store=True, momentum=None, learning_rate=None):
    """A student's momentum / Nesterov; the arguments are the mistakes (the defaults are right)."""
    def rule(w, dw, config=None):
        c = fill(config, learning_rate=1e-2, momentum=0.9)
        mu = c["momentum"] if momentum is None else momentum
        lr = c["learning_rate"] if learning_rate is None else learning_rate
        v = c.get("velocity", np.zeros_like(w))
        v_new = mu * v + gradient_sign * lr * dw
        step = -mu * v + (1 + mu) * v_new if nesterov else v_new
        return w + step_sign * step, {**c, "velocity": v_new if store else v}
    return rule


def test_momentum_student_templates_are_right():
    assert run_check("sgd_momentum", student_momentum()).passed
    assert run_check("nesterov", student_momentum(nesterov=True)).passed


MOMENTUM_MISTAKES = [
    ("sgd_momentum", "minus_v", student_momentum(step_sign=-1)),
    ("sgd_momentum", "gradient_sign", student_momentum(gradient_sign=1)),
    ("sgd_momentum", "velocity_sign", student_momentum(gradient_sign=1, step_sign=-1)),
    ("sgd_momentum", "state_lost", student_momentum(store=False)),
    ("sgd_momentum", "hard_coded_momentum", student_momentum(momentum=0.9)),
    ("sgd_momentum", "hard_coded_learning_rate", student_momentum(learning_rate=1e-2)),
    ("nesterov", "plain_momentum", student_momentum()),
    ("nesterov", "uphill", student_momentum(nesterov=True, step_sign=-1)),
    ("nesterov", "gradient_sign", student_momentum(nesterov=True, gradient_sign=1)),
    ("nesterov", "state_lost", student_momentum(nesterov=True, store=False)),
    ("nesterov", "hard_coded_momentum", student_momentum(nesterov=True, momentum=0.9)),
    ("nesterov", "hard_coded_learning_rate", student_momentum(nesterov=True, learning_rate=1e-2)),
]


@pytest.mark.parametrize("exercise, mistake, fn", MOMENTUM_MISTAKES)
def test_momentum_mistakes(exercise, mistake, fn):
    assert diagnosis(exercise, fn) == mistake


def test_momentum_minus_v_says_the_notes_are_wrong():
    message = run_check("sgd_momentum", student_momentum(step_sign=-1)).message
    assert "your first step at [" in message and "(the opposite sign)" in message
    assert "found in some lecture notes" in message and "return w + v" in message


# ---------------------------------------------------------------- adagrad, rmsprop

def student_cache_rule(decay=None, accumulate=True, swapped=False, eps_inside=False, store=True, step_sign=-1,
                       **fixed):
    """A student's AdaGrad (decay None) or RMSProp; the other arguments are the mistakes
    (``fixed``: hyperparameters written as numbers instead of read from the config)."""
    def rule(w, dw, config=None):
        defaults = dict(learning_rate=1e-2, epsilon=1e-8, **({} if decay is None else {"decay_rate": decay}))
        c = fill(config, **defaults)
        lr, eps, rho = ({**c, **fixed}.get(k) for k in ("learning_rate", "epsilon", "decay_rate"))
        cache = c.get("cache", np.zeros_like(w))
        if decay is None:
            cache = cache + dw**2 if accumulate else dw**2
        else:
            cache = (1 - rho) * cache + rho * dw**2 if swapped else rho * cache + (1 - rho) * dw**2
        root = np.sqrt(cache + eps) if eps_inside else np.sqrt(cache) + eps
        return w + step_sign * lr * dw / root, {**c, "cache": cache if store else c.get("cache", 0 * w)}
    return rule


def test_cache_rule_student_templates_are_right():
    assert run_check("adagrad", student_cache_rule()).passed
    assert run_check("rmsprop", student_cache_rule(decay=0.99)).passed


CACHE_RULE_MISTAKES = [
    ("adagrad", "cache_not_accumulated", student_cache_rule(accumulate=False)),
    ("adagrad", "state_lost", student_cache_rule(store=False)),
    ("adagrad", "epsilon_inside_root", student_cache_rule(eps_inside=True)),
    ("adagrad", "hard_coded_epsilon", student_cache_rule(epsilon=1e-8)),
    ("adagrad", "hard_coded_learning_rate", student_cache_rule(learning_rate=1e-2)),
    ("adagrad", "uphill", student_cache_rule(step_sign=1)),
    ("rmsprop", "decay_swapped", student_cache_rule(decay=0.99, swapped=True)),
    ("rmsprop", "epsilon_inside_root", student_cache_rule(decay=0.99, eps_inside=True)),
    ("rmsprop", "state_lost", student_cache_rule(decay=0.99, store=False)),
    ("rmsprop", "hard_coded_epsilon", student_cache_rule(decay=0.99, epsilon=1e-8)),
    ("rmsprop", "hard_coded_learning_rate", student_cache_rule(decay=0.99, learning_rate=1e-2)),
    ("rmsprop", "uphill", student_cache_rule(decay=0.99, step_sign=1)),
]


@pytest.mark.parametrize("exercise, mistake, fn", CACHE_RULE_MISTAKES)
def test_cache_rule_mistakes(exercise, mistake, fn):
    assert diagnosis(exercise, fn) == mistake


def test_rmsprop_hard_coded_decay_rate():
    result = run_check("rmsprop", student_cache_rule(decay=0.99, decay_rate=0.99))
    assert result.diagnosis == "hard_coded_decay_rate" and "decay_rate=0.8" in result.case


def test_adagrad_cache_not_accumulated_says_the_notes_are_wrong():
    message = run_check("adagrad", student_cache_rule(accumulate=False)).message
    assert "cache = dw**2" in message and "found in some lecture notes" in message and "cache = cache + dw**2" in message


def test_adagrad_cache_not_in_the_returned_config():
    def adagrad(w, dw, config=None):
        c = fill(config, learning_rate=1e-2, epsilon=1e-8)
        cache = c.get("cache", np.zeros_like(w)) + dw**2
        return w - c["learning_rate"] * dw / (np.sqrt(cache) + c["epsilon"]), c
    result = run_check("adagrad", adagrad)   # each step starts from a zero cache: cache = dw**2, said first
    assert result.diagnosis == "cache_not_accumulated" and result.slips == ("state_not_returned",)
    assert "no 'cache'" in result.message and "lost between steps" in result.message


# ---------------------------------------------------------------- adam

def student_adam(correct_m=True, correct_v=True, t_first=0, increment_first=True, eps_inside=False,
                 store=("m", "v", "t"), step_sign=-1, store_corrected=False, **fixed):
    """A student's Adam; the arguments are the mistakes (the defaults are right; ``fixed``:
    hyperparameters written as numbers instead of read from the config)."""
    def adam(w, dw, config=None):
        c = fill(config, learning_rate=1e-3, beta1=0.9, beta2=0.999, epsilon=1e-8)
        lr, b1, b2, eps = ({**c, **fixed}[k] for k in ("learning_rate", "beta1", "beta2", "epsilon"))
        t = c.get("t", t_first) + (1 if increment_first else 0)
        m = b1 * c.get("m", np.zeros_like(w)) + (1 - b1) * dw
        v = b2 * c.get("v", np.zeros_like(w)) + (1 - b2) * dw**2
        m_hat = m / (1 - b1**t) if correct_m else m
        v_hat = v / (1 - b2**t) if correct_v else v
        root = np.sqrt(v_hat + eps) if eps_inside else np.sqrt(v_hat) + eps
        new = {"m": m_hat if store_corrected else m, "v": v_hat if store_corrected else v,
               "t": t if increment_first else t + 1}
        kept = {k: c.get(k, 0 if k == "t" else np.zeros_like(w)) for k in new}
        return w + step_sign * lr * m_hat / root, {
            **c, **{k: new[k] if k in store else kept[k] for k in new}}
    return adam


def test_adam_student_template_is_right():
    assert run_check("adam", student_adam()).passed


ADAM_MISTAKES = [
    ("no_bias_correction", student_adam(correct_m=False, correct_v=False)),
    ("no_v_correction", student_adam(correct_v=False)),
    ("no_m_correction", student_adam(correct_m=False)),
    ("t_after_use", student_adam(increment_first=False)),
    ("t_from_one", student_adam(t_first=1, increment_first=False)),
    ("epsilon_inside_root", student_adam(eps_inside=True)),
    ("uphill", student_adam(step_sign=1)),
    ("state_lost", student_adam(store=())),
    ("t_lost", student_adam(store=("m", "v"))),
    ("corrected_state", student_adam(store_corrected=True)),
    ("hard_coded_learning_rate", student_adam(learning_rate=1e-3)),
    ("hard_coded_beta1", student_adam(beta1=0.9)),
    ("hard_coded_beta2", student_adam(beta2=0.999)),
    ("hard_coded_epsilon", student_adam(epsilon=1e-8)),
]


@pytest.mark.parametrize("mistake, fn", ADAM_MISTAKES)
def test_adam_mistakes(mistake, fn):
    assert diagnosis("adam", fn) == mistake


def test_adam_without_bias_correction_message():
    result = run_check("adam", student_adam(correct_m=False, correct_v=False))
    assert result.message == (
        "✗ adam: your first step at [1] is -0.003162 where -0.001 was expected (3.16x too large) "
        "[case: shape (3,), config=None (the defaults)]. This is Adam without bias correction: divide m by "
        "(1 - beta1**t) and v by (1 - beta2**t) before the update.")


def test_adam_without_v_correction_is_31_times_too_large():
    message = run_check("adam", student_adam(correct_v=False)).message
    assert "is -0.03162 where -0.001 was expected (31.6x too large)" in message


def test_adam_t_after_use_shows_the_division_by_zero():
    message = run_check("adam", student_adam(increment_first=False)).message
    assert "your first step at [0] is nan" in message and "(not a finite number)" in message


def test_adam_with_all_hyperparameters_hard_coded_names_one():
    def adam(w, dw, config=None):
        c = fill(config, learning_rate=1e-3, beta1=0.9, beta2=0.999, epsilon=1e-8)
        t = c.get("t", 0) + 1
        m = 0.9 * c.get("m", np.zeros_like(w)) + 0.1 * dw
        v = 0.999 * c.get("v", np.zeros_like(w)) + 0.001 * dw**2
        step = 1e-3 * (m / (1 - 0.9**t)) / (np.sqrt(v / (1 - 0.999**t)) + 1e-8)
        return w - step, {**c, "m": m, "v": v, "t": t}
    assert diagnosis("adam", adam) == "hard_coded_learning_rate"


# ---------------------------------------------------------------- CS231n style: the math first, then the slips
# CS231n's templates fill the defaults into the config they are given (config.setdefault) and update
# it in place. The values are still compared (the check works on copies), and a mistake they match is
# said first; that the config is the very dict given comes after it, in the same message.

def cs231n_adam(bias_correction=True, store_t=True, eps_inside=False, store_corrected=False):
    """Adam as CS231n's template has it written; the arguments are the mistakes."""
    def adam(w, dw, config=None):
        if config is None:
            config = {}
        config.setdefault("learning_rate", 1e-3)
        config.setdefault("beta1", 0.9)
        config.setdefault("beta2", 0.999)
        config.setdefault("epsilon", 1e-8)
        config.setdefault("m", np.zeros_like(w))
        config.setdefault("v", np.zeros_like(w))
        t = config.get("t", 0) + 1
        if store_t:
            config["t"] = t
        config["m"] = config["beta1"] * config["m"] + (1 - config["beta1"]) * dw
        config["v"] = config["beta2"] * config["v"] + (1 - config["beta2"]) * (dw * dw)
        m_hat, v_hat = config["m"], config["v"]
        if bias_correction:
            m_hat = m_hat / (1 - config["beta1"] ** t)
            v_hat = v_hat / (1 - config["beta2"] ** t)
        if store_corrected:
            config["m"], config["v"] = m_hat, v_hat
        root = np.sqrt(v_hat + config["epsilon"]) if eps_inside else np.sqrt(v_hat) + config["epsilon"]
        next_w = w - config["learning_rate"] * m_hat / root
        return next_w, config
    return adam


def test_cs231n_adam_right_but_mutating_is_only_the_slip():
    result = run_check("adam", cs231n_adam())
    assert result.diagnosis == "config_not_new" and result.slips == ()   # from the second step on


def test_cs231n_adam_without_bias_correction_names_the_math_then_the_mutation():
    result = run_check("adam", cs231n_adam(bias_correction=False))
    assert result.diagnosis == "no_bias_correction" and result.slips == ("config_not_new",)
    assert result.message == (
        "✗ adam: your first step at [1] is -0.003162 where -0.001 was expected (3.16x too large) "
        "[case: shape (3,), config=None (the defaults)]. This is Adam without bias correction: divide m by "
        "(1 - beta1**t) and v by (1 - beta2**t) before the update. Also: the config you return is the very "
        "dict you were given: start from a copy, `config = {} if config is None else dict(config)`, fill in "
        "the defaults, and return that new dict.")


def test_cs231n_adam_never_storing_t_uses_t_1_at_every_step():
    result = run_check("adam", cs231n_adam(store_t=False))
    assert result.diagnosis == "t_lost" and set(result.slips) == {"state_not_returned", "config_not_new"}
    assert result.message.index("as if it were the first") < result.message.index("has no 't'")
    assert "store it, config['t'] = t. The config you return is the very dict" in result.message


@pytest.mark.parametrize("mistake, flags", [("epsilon_inside_root", {"eps_inside": True}),
                                            ("corrected_state", {"store_corrected": True})])
def test_cs231n_adam_mistakes_are_named_before_the_mutation(mistake, flags):
    result = run_check("adam", cs231n_adam(**flags))
    assert result.diagnosis == mistake and result.slips == ("config_not_new",), result.message


def cs231n_momentum(velocity_sign=-1, step_sign=1):
    """SGD with momentum as CS231n's template has it written; the arguments are the sign mistakes."""
    def sgd_momentum(w, dw, config=None):
        if config is None:
            config = {}
        config.setdefault("learning_rate", 1e-2)
        config.setdefault("momentum", 0.9)
        v = config.get("velocity", np.zeros_like(w))
        v = config["momentum"] * v + velocity_sign * config["learning_rate"] * dw
        next_w = w + step_sign * v
        config["velocity"] = v
        return next_w, config
    return sgd_momentum


@pytest.mark.parametrize("mistake, signs", [("minus_v", {"step_sign": -1}),
                                            ("gradient_sign", {"velocity_sign": 1}),
                                            ("velocity_sign", {"velocity_sign": 1, "step_sign": -1})])
def test_cs231n_momentum_sign_mistakes_are_named_before_the_mutation(mistake, signs):
    result = run_check("sgd_momentum", cs231n_momentum(**signs))
    assert result.diagnosis == mistake and result.slips == ("config_not_new",), result.message
    assert "Also: the config you return is the very dict you were given" in result.message


def test_cs231n_rmsprop_with_epsilon_in_the_root_is_named_before_the_mutation():
    def rmsprop(w, dw, config=None):
        if config is None:
            config = {}
        config.setdefault("learning_rate", 1e-2)
        config.setdefault("decay_rate", 0.99)
        config.setdefault("epsilon", 1e-8)
        config.setdefault("cache", np.zeros_like(w))
        config["cache"] = config["decay_rate"] * config["cache"] + (1 - config["decay_rate"]) * dw**2
        next_w = w - config["learning_rate"] * dw / np.sqrt(config["cache"] + config["epsilon"])
        return next_w, config
    result = run_check("rmsprop", rmsprop)
    assert result.diagnosis == "epsilon_inside_root" and result.slips == ("config_not_new",), result.message


def test_a_state_array_updated_in_place_and_a_mistake_say_both():
    def sgd_momentum(w, dw, config=None):
        c = fill(config, learning_rate=1e-2, momentum=0.9)
        v = c.setdefault("velocity", np.zeros_like(w))
        v *= c["momentum"]
        v += c["learning_rate"] * dw      # the sign of the gradient's term is wrong
        return w + v, c
    result = run_check("sgd_momentum", sgd_momentum)
    assert result.diagnosis == "gradient_sign" and result.slips == ("mutated_input",), result.message
    assert "config['velocity'] was updated in place" in result.message


def test_state_kept_under_another_name_is_a_slip_of_its_own():
    def sgd_momentum(w, dw, config=None):
        c = fill(config, learning_rate=1e-2, momentum=0.9)
        v = c["momentum"] * c.get("v", c.get("velocity", np.zeros_like(w))) - c["learning_rate"] * dw
        return w + v, {**{k: x for k, x in c.items() if k != "velocity"}, "v": v}
    result = run_check("sgd_momentum", sgd_momentum)
    assert result.diagnosis == "state_not_returned" and "no 'velocity'" in result.message


# ---------------------------------------------------------------- schedules

SCHEDULE_MISTAKES = [
    ("step_decay", "t_plus_one", lambda lr0, t, drop=0.5, every=10: lr0 * drop ** ((t + 1) // every)),
    ("step_decay", "t_minus_one", lambda lr0, t, drop=0.5, every=10: lr0 * drop ** ((t - 1) // every)),
    ("step_decay", "no_floor", lambda lr0, t, drop=0.5, every=10: lr0 * drop ** (t / every)),
    ("step_decay", "hard_coded_drop", lambda lr0, t, drop=0.5, every=10: lr0 * 0.5 ** (t // every)),
    ("step_decay", "hard_coded_every", lambda lr0, t, drop=0.5, every=10: lr0 * drop ** (t // 10)),
    ("exponential_decay", "t_plus_one", lambda lr0, t, k: lr0 * math.exp(-k * (t + 1))),
    ("exponential_decay", "t_minus_one", lambda lr0, t, k: lr0 * math.exp(-k * (t - 1))),
    ("exponential_decay", "growing", lambda lr0, t, k: lr0 * math.exp(k * t)),
    ("inverse_time_decay", "t_plus_one", lambda lr0, t, k: lr0 / (1 + k * (t + 1))),
    ("inverse_time_decay", "t_minus_one", lambda lr0, t, k: lr0 / (1 + k * (t - 1))),
    ("inverse_time_decay", "missing_one", lambda lr0, t, k: lr0 / np.float64(k * t)),
    ("cosine_restarts", "no_restart",
     lambda lr0, t, period, lr_min=0.0: lr_min + (lr0 - lr_min) * (1 + math.cos(math.pi * t / period)) / 2),
    ("cosine_restarts", "period_minus_one", lambda lr0, t, period, lr_min=0.0:
     lr_min + (lr0 - lr_min) * (1 + math.cos(math.pi * (t % period) / (period - 1))) / 2),
    ("cosine_restarts", "full_turn", lambda lr0, t, period, lr_min=0.0:
     lr_min + (lr0 - lr_min) * (1 + math.cos(2 * math.pi * (t % period) / period)) / 2),
    ("cosine_restarts", "t_plus_one", lambda lr0, t, period, lr_min=0.0:
     lr_min + (lr0 - lr_min) * (1 + math.cos(math.pi * ((t + 1) % period) / period)) / 2),
    ("cosine_restarts", "t_minus_one", lambda lr0, t, period, lr_min=0.0:
     lr_min + (lr0 - lr_min) * (1 + math.cos(math.pi * ((t - 1) % period) / period)) / 2),
    ("cosine_restarts", "lr_min_ignored", lambda lr0, t, period, lr_min=0.0:
     lr0 * (1 + math.cos(math.pi * (t % period) / period)) / 2),
    ("cosine_restarts", "lr_min_not_subtracted", lambda lr0, t, period, lr_min=0.0:
     lr_min + lr0 * (1 + math.cos(math.pi * (t % period) / period)) / 2),
]


@pytest.mark.parametrize("exercise, mistake, fn", SCHEDULE_MISTAKES)
def test_schedule_mistakes(exercise, mistake, fn):
    assert diagnosis(exercise, fn) == mistake


def test_schedule_message_names_the_step():
    message = run_check("step_decay", lambda lr0, t, drop=0.5, every=10: lr0 * drop ** (t / every)).message
    assert message.startswith("✗ step_decay: your learning rate at t=1 is 0.0933 where 0.1 was expected (1.07x too small)")


def test_a_schedule_that_takes_only_an_int_is_told_to_take_arrays():
    result = run_check("exponential_decay", lambda lr0, t, k: lr0 * math.exp(-k * t))
    assert result.diagnosis == "array_steps" and "with t an array of steps, your function raised" in result.message
    assert "TypeError" in result.message and "np.exp" in result.message


def test_a_schedule_branching_on_t_is_told_to_take_arrays():
    def cosine_restarts(lr0, t, period, lr_min=0.0):
        if t % period == 0:
            return lr0
        return lr_min + (lr0 - lr_min) * (1 + math.cos(math.pi * (t % period) / period)) / 2
    assert diagnosis("cosine_restarts", cosine_restarts) == "array_steps"


def test_a_scalar_only_schedule_with_a_mistake_hears_the_mistake_first():
    result = run_check("step_decay", lambda lr0, t, drop=0.5, every=10: lr0 * drop ** math.floor((t + 1) / every))
    assert result.diagnosis == "t_plus_one" and result.slips == ("array_steps",), result.message


def test_a_schedule_returning_one_rate_for_an_array_is_a_slip():
    result = run_check("inverse_time_decay", lambda lr0, t, k: lr0 / (1 + k * np.max(t)))
    assert result.diagnosis == "array_steps" and "not one rate per step" in result.message


def test_wrong_values_matching_no_mistake_show_the_rule():
    result = run_check("inverse_time_decay", lambda lr0, t, k: lr0 / (1 + k * t) ** 2)
    assert result.diagnosis == "wrong_values"
    assert "The rule: lr0 / (1 + k * t), t counted from 0." in result.message


# ---------------------------------------------------------------- every check and mistake is tested

TESTED_ONE_BY_ONE = {
    ("numerical_gradient", m) for m in (
        "forward_difference", "backward_difference", "divided_by_h", "flattened", "hard_coded_h")} | {
    ("gradient_descent", m) for m in ("missing_x0", "one_step_short", "one_step_too_many", "uphill", "aliased_rows")} | {
    ("sgd", "uphill"), ("sgd", "hard_coded_learning_rate"), ("rmsprop", "hard_coded_decay_rate")}


def test_every_stored_mistake_has_a_student_function_here():
    tested = TESTED_ONE_BY_ONE | {("ewma", m) for m, _ in EWMA_MISTAKES} | {("adam", m) for m, _ in ADAM_MISTAKES}
    tested |= {(e, m) for e, m, _ in MOMENTUM_MISTAKES + CACHE_RULE_MISTAKES + SCHEDULE_MISTAKES}
    stored = {(e, m.name) for e in REFERENCES for m in build.specs()[e].mistakes}
    assert stored - tested == set()


def test_every_check_of_notebooks_01_and_02_has_a_reference_here():
    ours = {name for name, check in CHECKS.items() if type(check.protocol).__module__.endswith(
        ("optim_checks", "descent_checks"))}
    assert ours == set(REFERENCES)


def test_sgd_check_prints_the_failure(capsys):
    def sgd(w, dw, config=None):
        raise NotImplementedError()
    check_sgd(sgd)
    assert capsys.readouterr().out == ("✗ sgd: not implemented yet: replace `raise NotImplementedError()` "
                                       "with your code.\n")


# ---------------------------------------------------------------- right answers written differently pass

def test_float32_computed_in_float64_and_cast_back_passes():
    def adam(w, dw, config=None):
        c = fill(config, learning_rate=1e-3, beta1=0.9, beta2=0.999, epsilon=1e-8)
        t = c.get("t", 0) + 1
        g = dw.astype(np.float64)
        m = c["beta1"] * c.get("m", np.zeros_like(w)).astype(np.float64) + (1 - c["beta1"]) * g
        v = c["beta2"] * c.get("v", np.zeros_like(w)).astype(np.float64) + (1 - c["beta2"]) * g * g
        step = c["learning_rate"] * (m / (1 - c["beta1"] ** t)) / (np.sqrt(v / (1 - c["beta2"] ** t)) + c["epsilon"])
        return (w - step).astype(w.dtype), {**c, "m": m.astype(w.dtype), "v": v.astype(w.dtype), "t": t}
    assert run_check("adam", adam).passed


def test_cs231n_style_numerical_gradient_passes():
    def numerical_gradient(f, x, h=1e-5):
        grad = np.zeros_like(x)
        it = np.nditer(x, flags=["multi_index"], op_flags=["readwrite"])
        while not it.finished:
            ix = it.multi_index
            old = x[ix]
            x[ix] = old + h
            fxph = f(x)
            x[ix] = old - h
            fxmh = f(x)
            x[ix] = old
            grad[ix] = (fxph - fxmh) / (2 * h)
            it.iternext()
        return grad
    assert run_check("numerical_gradient", numerical_gradient).passed


def test_a_list_of_points_passes_as_a_trajectory():
    def gradient_descent(grad, x0, learning_rate, num_steps):
        path = [np.array(x0, dtype=float)]
        for _ in range(num_steps):
            path.append(path[-1] - learning_rate * grad(path[-1]))
        return path
    assert run_check("gradient_descent", gradient_descent).passed


def test_wrong_default_values_show_the_defaults():
    def adam(w, dw, config=None):
        c = fill(config, learning_rate=1e-2, beta1=0.9, beta2=0.999, epsilon=1e-8)
        return adaptive.adam(w, dw, c)
    result = run_check("adam", adam)
    assert result.diagnosis == "wrong_values" and "(10x too large)" in result.message
    assert "takes its default: learning_rate=0.001, beta1=0.9" in result.message


def test_an_unreadable_result_is_reported_not_raised():
    class Weird(dict):
        def __contains__(self, key):
            raise RuntimeError("no")
    def sgd(w, dw, config=None):
        return w - 0.01 * dw, Weird()
    result = run_check("sgd", sgd)
    assert result.diagnosis == "wrong_type" and "could not read what your function returned" in result.message


def test_infinite_results_get_a_verdict_and_no_warning(recwarn):
    def sgd(w, dw, config=None):
        return np.full_like(w, np.inf), fill(config, learning_rate=1e-2)
    result = run_check("sgd", sgd)
    assert result.diagnosis == "wrong_values" and "is inf where -0.025 was expected (not a finite number)" in result.message
    assert len(recwarn) == 0


# ---------------------------------------------------------------- AdamW, warmup + cosine, clipping

def adamw_by_hand(*, decay="decoupled", correct=True, sign=1, step_sign=-1, store=True, fixed=None):
    """AdamW as a student writes it (CS231n style: config.setdefault), with one mistake:
    ``fixed`` names a hyperparameter written as its default in the code."""
    def adamw(w, dw, config=None):
        config = dict(config) if config is not None else {}
        config.setdefault("learning_rate", 1e-3)
        config.setdefault("beta1", 0.9)
        config.setdefault("beta2", 0.999)
        config.setdefault("epsilon", 1e-8)
        config.setdefault("weight_decay", 1e-2)
        config.setdefault("m", np.zeros_like(w))
        config.setdefault("v", np.zeros_like(w))
        config.setdefault("t", 0)
        if fixed:
            config = {**config, fixed: {"learning_rate": 1e-3, "beta1": 0.9, "beta2": 0.999, "epsilon": 1e-8,
                                        "weight_decay": 1e-2}[fixed]}
        lr, wd = config["learning_rate"], sign * config["weight_decay"]
        g = dw + wd * w if decay == "l2" else dw
        t = config["t"] + 1
        m = config["beta1"] * config["m"] + (1 - config["beta1"]) * g
        v = config["beta2"] * config["v"] + (1 - config["beta2"]) * g**2
        mt = m / (1 - config["beta1"] ** t) if correct else m
        vt = v / (1 - config["beta2"] ** t) if correct else v
        step = mt / (np.sqrt(vt) + config["epsilon"])
        if decay == "decoupled":
            next_w = w + step_sign * lr * (step + wd * w)
        elif decay == "no_lr":
            next_w = w - lr * step - wd * w
        elif decay == "after":
            next_w = w - lr * step
            next_w = next_w - lr * wd * next_w
        else:
            next_w = w - lr * step
        if store:
            config["m"], config["v"], config["t"] = m, v, t
        return next_w, config
    return adamw


@pytest.mark.parametrize("mistake, fn", [
    ("l2_in_gradient", adamw_by_hand(decay="l2")),
    ("no_decay", adamw_by_hand(decay="none")),
    ("decay_without_lr", adamw_by_hand(decay="no_lr")),
    ("decay_after_step", adamw_by_hand(decay="after")),
    ("no_bias_correction", adamw_by_hand(correct=False)),
    ("decay_sign", adamw_by_hand(sign=-1)),
    ("uphill", adamw_by_hand(step_sign=1)),
    ("state_lost", adamw_by_hand(store=False)),
    *[(f"hard_coded_{k}", adamw_by_hand(fixed=k))
      for k in ("learning_rate", "beta1", "beta2", "epsilon", "weight_decay")],
])
def test_adamw_mistakes(mistake, fn):
    assert diagnosis("adamw", fn) == mistake


def test_adamw_by_hand_passes_and_a_mutating_adamw_hears_the_math_first():
    assert run_check("adamw", adamw_by_hand()).passed

    def adamw(w, dw, config=None):      # L2 in the gradient, and the config updated in place
        config = config if config is not None else {}
        for k, v in {"learning_rate": 1e-3, "beta1": 0.9, "beta2": 0.999, "epsilon": 1e-8,
                     "weight_decay": 1e-2, "m": np.zeros_like(w), "v": np.zeros_like(w), "t": 0}.items():
            config.setdefault(k, v)
        dw = dw + config["weight_decay"] * w
        config["t"] += 1
        config["m"] = config["beta1"] * config["m"] + (1 - config["beta1"]) * dw
        config["v"] = config["beta2"] * config["v"] + (1 - config["beta2"]) * dw**2
        mt = config["m"] / (1 - config["beta1"] ** config["t"])
        vt = config["v"] / (1 - config["beta2"] ** config["t"])
        return w - config["learning_rate"] * mt / (np.sqrt(vt) + config["epsilon"]), config
    result = run_check("adamw", adamw)
    assert result.diagnosis == "l2_in_gradient" and "config_not_new" in result.slips, result.message
    assert "divided by sqrt(v_hat)" in result.message


def cosine_part(lr0, lr_min, phase):
    return lr_min + (lr0 - lr_min) * (1 + np.cos(np.pi * phase)) / 2


@pytest.mark.parametrize("mistake, fn", [
    ("warmup_from_zero", lambda lr0, t, warmup, total, lr_min=0.0: np.where(
        t < warmup, lr0 * t / max(warmup, 1), cosine_part(lr0, lr_min, np.minimum((t - warmup) / (total - warmup), 1)))),
    ("cosine_over_total", lambda lr0, t, warmup, total, lr_min=0.0: np.where(
        t < warmup, lr0 * (t + 1) / max(warmup, 1), cosine_part(lr0, lr_min, np.minimum(t / total, 1)))),
    ("cosine_denominator_total", lambda lr0, t, warmup, total, lr_min=0.0: np.where(
        t < warmup, lr0 * (t + 1) / max(warmup, 1), cosine_part(lr0, lr_min, np.minimum((t - warmup) / total, 1)))),
    ("lr_min_ignored", lambda lr0, t, warmup, total, lr_min=0.0: np.where(
        t < warmup, lr0 * (t + 1) / max(warmup, 1), cosine_part(lr0, 0.0, np.minimum((t - warmup) / (total - warmup), 1)))),
    ("no_floor", lambda lr0, t, warmup, total, lr_min=0.0: np.where(
        t < warmup, lr0 * (t + 1) / max(warmup, 1), cosine_part(lr0, lr_min, (t - warmup) / (total - warmup)))),
])
def test_warmup_cosine_mistakes(mistake, fn):
    assert diagnosis("warmup_cosine", fn) == mistake


def test_warmup_cosine_with_an_if_on_t_is_told_to_take_arrays():
    def warmup_cosine(lr0, t, warmup, total, lr_min=0.0):
        if t < warmup:
            return lr0 * (t + 1) / warmup
        if t >= total:
            return lr_min
        return lr_min + (lr0 - lr_min) * (1 + math.cos(math.pi * (t - warmup) / (total - warmup))) / 2
    assert diagnosis("warmup_cosine", warmup_cosine) == "array_steps"


def global_norm(grads):
    return math.sqrt(sum(float(np.sum(g**2)) for g in grads.values()))


@pytest.mark.parametrize("mistake, fn", [
    ("per_array", lambda grads, max_norm: (
        {k: g * min(1.0, max_norm / np.linalg.norm(g)) for k, g in grads.items()}, global_norm(grads))),
    ("elementwise", lambda grads, max_norm: (
        {k: np.clip(g, -max_norm, max_norm) for k, g in grads.items()}, global_norm(grads))),
    ("always_scaled", lambda grads, max_norm: (
        {k: g * max_norm / global_norm(grads) for k, g in grads.items()}, global_norm(grads))),
    ("norm_after_clipping", lambda grads, max_norm: (
        {k: g * min(1.0, max_norm / global_norm(grads)) for k, g in grads.items()}, min(global_norm(grads), max_norm))),
])
def test_clip_by_global_norm_mistakes(mistake, fn):
    assert diagnosis("clip_by_global_norm", fn) == mistake


def test_clipping_in_place_is_a_slip():
    def clip_by_global_norm(grads, max_norm):
        norm = global_norm(grads)
        if norm > max_norm:
            for g in grads.values():
                g *= max_norm / norm
        return grads, norm
    result = run_check("clip_by_global_norm", clip_by_global_norm)
    assert result.diagnosis == "mutated_input" and not result.passed, result.message


TESTED_ONE_BY_ONE |= {("adamw", m) for m in (
    "l2_in_gradient", "no_decay", "decay_without_lr", "decay_after_step", "no_bias_correction", "decay_sign",
    "uphill", "state_lost", "hard_coded_learning_rate", "hard_coded_beta1", "hard_coded_beta2",
    "hard_coded_epsilon", "hard_coded_weight_decay")} | {("warmup_cosine", m) for m in (
        "warmup_from_zero", "cosine_over_total", "cosine_denominator_total", "lr_min_ignored", "no_floor")} | {
    ("clip_by_global_norm", m) for m in ("per_array", "elementwise", "always_scaled", "norm_after_clipping")}
