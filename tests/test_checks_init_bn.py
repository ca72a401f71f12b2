"""The self-checks of notebooks 05 and 06: every diagnosed mistake, written inline the way a
student would write it, gets its diagnosis; the references pass; a stub is "not implemented yet".

The wrong functions here are written independently of the mistakes in ``init_cases.py`` and
``batchnorm_cases.py``: they are the oracle that the stored variants describe real student code.
"""

import types

import numpy as np
import pytest

from course_lib import init, layers
from course_lib.reference import batchnorm, init as reference_init
from course_lib.checks import check_batchnorm_backward, check_xavier, run_check


def diagnosis(exercise, fn):
    return run_check(exercise, fn).diagnosis


def stub(*args, **kwargs):
    raise NotImplementedError()


# ================================================================ xavier and he

def normal(std_of):
    """An initializer done right except, perhaps, for its std formula std_of(fan_in, fan_out)."""
    def initializer(fan_in, fan_out, rng=None):
        rng = np.random.default_rng(rng)
        return rng.normal(0.0, std_of(fan_in, fan_out), size=(fan_in, fan_out))
    return initializer


def xavier_std(fan_in, fan_out):
    return np.sqrt(2 / (fan_in + fan_out))


def he_std(fan_in, fan_out):
    return np.sqrt(2 / fan_in)


@pytest.mark.parametrize("exercise, reference", [("xavier", reference_init.xavier), ("he", reference_init.he)])
def test_the_reference_initializers_pass(exercise, reference):
    result = run_check(exercise, reference)
    assert result.passed and result.message.startswith(f"✓ {exercise}: 5 cases passed"), result.message


@pytest.mark.parametrize("exercise", ["xavier", "he"])
def test_a_stub_is_not_implemented_yet(exercise):
    result = run_check(exercise, stub)
    assert result.diagnosis == "not_implemented" and "not implemented yet" in result.message


@pytest.mark.parametrize("exercise, std_of", [("xavier", xavier_std), ("he", he_std)])
def test_a_different_but_right_way_of_drawing_passes(exercise, std_of):
    def scaled_standard_normal(fan_in, fan_out, rng=None):
        rng = np.random.default_rng(rng)
        return std_of(fan_in, fan_out) * rng.standard_normal(fan_in * fan_out).reshape(fan_in, fan_out)
    assert run_check(exercise, scaled_standard_normal).passed


@pytest.mark.parametrize("exercise, std_of, mistake", [
    ("xavier", lambda i, o: np.sqrt(1 / i), "lecun"),
    ("xavier", lambda i, o: np.sqrt(1 / (i + o)), "fan_sum_no_2"),
    ("xavier", lambda i, o: 2 / (i + o), "variance_as_std"),
    ("xavier", lambda i, o: np.sqrt(2 / i), "he_formula"),
    ("xavier", lambda i, o: np.sqrt(6 / (i + o)), "uniform_limit_as_std"),
    ("xavier", lambda i, o: 1.0, "unscaled"),
    ("he", lambda i, o: np.sqrt(2 / o), "fan_out"),
    ("he", lambda i, o: np.sqrt(1 / i), "lecun"),
    ("he", lambda i, o: 2 / i, "variance_as_std"),
    ("he", lambda i, o: 2 / np.sqrt(i), "two_outside_root"),
    ("he", lambda i, o: np.sqrt(2 / (i + o)), "xavier_formula"),
    ("he", lambda i, o: np.sqrt(6 / i), "uniform_limit_as_std"),
    ("he", lambda i, o: 1.0, "unscaled"),
])
def test_a_wrong_std_formula_is_named(exercise, std_of, mistake):
    assert diagnosis(exercise, normal(std_of)) == mistake


@pytest.mark.parametrize("exercise, std_of", [("xavier", xavier_std), ("he", he_std)])
def test_uniform_weights_are_named_by_their_kurtosis(exercise, std_of):
    def uniform_same_variance(fan_in, fan_out, rng=None):
        limit = np.sqrt(3) * std_of(fan_in, fan_out)
        return np.random.default_rng(rng).uniform(-limit, limit, size=(fan_in, fan_out))

    def uniform_std_as_limit(fan_in, fan_out, rng=None):
        limit = std_of(fan_in, fan_out)
        return np.random.default_rng(rng).uniform(-limit, limit, size=(fan_in, fan_out))

    result = run_check(exercise, uniform_same_variance)
    assert result.diagnosis == "uniform" and "kurtosis" in result.message
    assert diagnosis(exercise, uniform_std_as_limit) == "uniform_std_as_limit"


@pytest.mark.parametrize("exercise, std_of", [("xavier", xavier_std), ("he", he_std)])
def test_a_mean_away_from_zero_is_named(exercise, std_of):
    def std_passed_as_loc(fan_in, fan_out, rng=None):
        return np.random.default_rng(rng).normal(std_of(fan_in, fan_out), size=(fan_in, fan_out))

    def unit_interval(fan_in, fan_out, rng=None):
        return np.random.default_rng(rng).random((fan_in, fan_out))

    assert diagnosis(exercise, std_passed_as_loc) == "std_as_loc"
    assert diagnosis(exercise, unit_interval) == "unit_interval"


def test_swapped_fans_are_named_by_the_shape():
    def swapped(fan_in, fan_out, rng=None):
        return np.random.default_rng(rng).normal(0.0, xavier_std(fan_in, fan_out), size=(fan_out, fan_in))
    result = run_check("xavier", swapped)
    assert result.diagnosis == "fans_swapped" and "(fan_in, fan_out)" in result.message


def test_any_other_shape_is_wrong_shape():
    def flat(fan_in, fan_out, rng=None):
        return np.random.default_rng(rng).normal(0.0, he_std(fan_in, fan_out), size=fan_in * fan_out)
    assert diagnosis("he", flat) == "wrong_shape"


def test_nan_weights_are_wrong_values():
    def nan(fan_in, fan_out, rng=None):
        return np.full((fan_in, fan_out), np.nan)
    assert diagnosis("xavier", nan) == "wrong_values"


def test_returning_nothing_is_wrong_type():
    def forgets_to_return(fan_in, fan_out, rng=None):
        np.random.default_rng(rng).normal(0.0, he_std(fan_in, fan_out), size=(fan_in, fan_out))
    assert diagnosis("he", forgets_to_return) == "wrong_type"


def test_numpys_global_generator_is_named():
    def global_generator(fan_in, fan_out, rng=None):
        return np.random.randn(fan_in, fan_out) * he_std(fan_in, fan_out)
    result = run_check("he", global_generator)
    assert result.diagnosis == "global_rng" and "rng you are given" in result.message


@pytest.mark.parametrize("seed", [None, 0])
def test_a_generator_of_ones_own_is_named(seed):
    def own_generator(fan_in, fan_out, rng=None):
        return np.random.default_rng(seed).normal(0.0, xavier_std(fan_in, fan_out), size=(fan_in, fan_out))
    assert diagnosis("xavier", own_generator) == "ignores_rng"


def test_rng_none_must_work():
    def needs_a_generator(fan_in, fan_out, rng=None):
        return rng.normal(0.0, he_std(fan_in, fan_out), size=(fan_in, fan_out))
    result = run_check("he", needs_a_generator)
    assert result.diagnosis == "error" and "rng=None" in result.message and "default_rng" in result.message


def test_numpys_global_generator_is_left_as_it_was():
    state = np.random.get_state()
    check_xavier(reference_init.xavier)
    after = np.random.get_state()
    assert state[0] == after[0] and np.array_equal(state[1], after[1]) and state[2:] == after[2:]


# ================================================================ batchnorm_forward

def forward(x, gamma, beta, bn_param, *, ddof=0, running_ddof=0, eps_in_root=True, use_eps=True, update=True,
            update_in_test=False, batch_stats_in_test=False, swap_momentum=False, var_start=1.0, fixed=None,
            swap_gamma_beta=False):
    """A student's forward, written independently of the reference, with a dict cache;
    keyword flags make the wrong versions below."""
    mode = bn_param["mode"]
    if mode not in ("train", "test"):
        raise ValueError(f"unknown mode {mode!r}")
    eps = 1e-5 if fixed == "eps" else bn_param.get("eps", 1e-5)
    momentum = 0.9 if fixed == "momentum" else bn_param.get("momentum", 0.9)
    n, d = x.shape
    bn_param.setdefault("running_mean", np.zeros(d))
    bn_param.setdefault("running_var", np.full(d, var_start))
    batch_mean = x.sum(axis=0) / n
    batch_var = ((x - batch_mean) ** 2).sum(axis=0) / (n - ddof)
    if mode == "train" or batch_stats_in_test:
        mean, var = batch_mean, batch_var
    else:
        mean, var = bn_param["running_mean"], bn_param["running_var"]
    if (mode == "train" and update) or update_in_test:
        a = 1 - momentum if swap_momentum else momentum
        bn_param["running_mean"] = a * bn_param["running_mean"] + (1 - a) * batch_mean
        stored = ((x - batch_mean) ** 2).sum(axis=0) / (n - (running_ddof or ddof))
        bn_param["running_var"] = a * bn_param["running_var"] + (1 - a) * stored
    if not use_eps:
        std = np.sqrt(var)
    else:
        std = np.sqrt(var + eps) if eps_in_root else np.sqrt(var) + eps
    x_hat = (x - mean) / std
    scale, shift = (beta, gamma) if swap_gamma_beta else (gamma, beta)
    return scale * x_hat + shift, {"x_hat": x_hat, "std": std, "gamma": gamma}


def test_a_students_right_forward_passes():
    result = run_check("batchnorm_forward", forward)
    assert result.passed and result.message.startswith("✓ batchnorm_forward: 5 cases passed"), result.message


def test_the_reference_forward_passes():
    assert run_check("batchnorm_forward", batchnorm.batchnorm_forward).passed


def test_a_forward_stub_is_not_implemented_yet():
    result = run_check("batchnorm_forward", stub)
    assert result.diagnosis == "not_implemented" and "not implemented yet" in result.message


@pytest.mark.parametrize("flags, mistake", [
    ({"ddof": 1}, "unbiased_variance"),
    ({"running_ddof": 1}, "unbiased_running_var"),
    ({"eps_in_root": False}, "eps_outside_root"),
    ({"use_eps": False}, "no_eps"),
    ({"batch_stats_in_test": True}, "test_uses_batch_statistics"),
    ({"update": False}, "running_not_updated"),
    ({"update_in_test": True}, "running_updated_in_test"),
    ({"swap_momentum": True}, "momentum_swapped"),
    ({"var_start": 0.0}, "running_var_starts_at_zero"),
    ({"fixed": "eps"}, "hard_coded_eps"),
    ({"fixed": "momentum"}, "hard_coded_momentum"),
    ({"swap_gamma_beta": True}, "gamma_beta_swapped"),
])
def test_a_forward_mistake_is_named(flags, mistake):
    def wrong(x, gamma, beta, bn_param):
        return forward(x, gamma, beta, bn_param, **flags)
    assert diagnosis("batchnorm_forward", wrong) == mistake


def test_running_statistics_kept_outside_bn_param_are_named():
    def forgets_to_store(x, gamma, beta, bn_param):
        return forward(x, gamma, beta, dict(bn_param))
    result = run_check("batchnorm_forward", forgets_to_store)
    assert result.diagnosis == "running_not_stored" and "bn_param['running_mean']" in result.message


def test_running_statistics_of_another_shape_are_wrong_shape():
    def keeps_dims(x, gamma, beta, bn_param):
        out, cache = forward(x, gamma, beta, bn_param)
        bn_param["running_mean"] = bn_param["running_mean"].reshape(1, -1)
        return out, cache
    result = run_check("batchnorm_forward", keeps_dims)
    assert result.diagnosis == "wrong_shape" and "running_mean" in result.message


def test_an_unknown_mode_must_raise_value_error():
    def anything_but_train_is_test(x, gamma, beta, bn_param):
        if bn_param["mode"] != "train":
            bn_param["mode"] = "test"
        return forward(x, gamma, beta, bn_param)
    assert diagnosis("batchnorm_forward", anything_but_train_is_test) == "bad_mode_accepted"


def test_changing_x_in_place_is_named():
    def centres_x_in_place(x, gamma, beta, bn_param):
        out, cache = forward(x.copy(), gamma, beta, bn_param)
        x -= x.mean(axis=0)
        return out, cache
    assert diagnosis("batchnorm_forward", centres_x_in_place) == "mutated_input"


def test_an_out_of_another_shape_is_wrong_shape():
    def one_row_per_feature(x, gamma, beta, bn_param):
        out, cache = forward(x, gamma, beta, bn_param)
        return out.T, cache
    assert diagnosis("batchnorm_forward", one_row_per_feature) == "wrong_shape"


def test_returning_only_out_is_wrong_type():
    def only_out(x, gamma, beta, bn_param):
        return forward(x, gamma, beta, bn_param)[0]
    assert diagnosis("batchnorm_forward", only_out) == "wrong_type"


# ================================================================ batchnorm_backward
# The check finds the student's forward as `batchnorm_forward` in the backward's globals (the
# notebook's namespace): here, this module's `batchnorm_forward`, with a dict cache the
# reference backward could not read.

batchnorm_forward = forward


def backward(dout, cache, *, mean_term=True, var_term=True, with_gamma=True, axis=0, dgamma_from_x_hat=True):
    """A student's backward for the dict cache of ``forward``; flags make the wrong versions."""
    x_hat, std, n = cache["x_hat"], cache["std"], dout.shape[0]
    dx_hat = dout * cache["gamma"] if with_gamma else dout
    dx = n * dx_hat
    if mean_term:
        dx = dx - dx_hat.sum(axis=0)
    if var_term:
        dx = dx - x_hat * (dx_hat * x_hat).sum(axis=0)
    dgamma_terms = dout * x_hat if dgamma_from_x_hat else dout
    total = (lambda a: a) if axis is None else (lambda a: a.sum(axis=axis))
    return dx / (n * std), total(dgamma_terms), total(dout)


def batchnorm_backward(dout, cache):
    return backward(dout, cache)


def with_forward(backward_fn, forward_fn):
    """``backward_fn`` as if defined in a notebook whose batchnorm_forward is ``forward_fn``."""
    return types.FunctionType(backward_fn.__code__, {**globals(), "batchnorm_forward": forward_fn},
                              backward_fn.__name__, backward_fn.__defaults__, backward_fn.__closure__)


def test_a_students_right_backward_passes_on_the_students_own_cache():
    result = run_check("batchnorm_backward", batchnorm_backward)
    assert result.passed and result.message.startswith("✓ batchnorm_backward: 2 cases passed"), result.message


def test_the_reference_backward_passes_with_the_reference_forward():
    assert run_check("batchnorm_backward", batchnorm.batchnorm_backward).passed


def test_the_check_gives_the_backward_the_students_own_cache():
    def reference_backward(dout, cache):    # cannot read the dict cache of this module's forward
        return batchnorm.batchnorm_backward(dout, cache)
    result = run_check("batchnorm_backward", reference_backward)
    assert result.diagnosis == "error" and "AttributeError" in result.message


def test_a_backward_stub_is_not_implemented_yet():
    result = run_check("batchnorm_backward", stub)
    assert result.diagnosis == "not_implemented" and "not implemented yet" in result.message


def test_a_missing_forward_is_named():
    assert diagnosis("batchnorm_backward", with_forward(batchnorm_backward, None)) == "no_forward"


def test_a_forward_stub_is_named_by_the_backward_check():
    result = run_check("batchnorm_backward", with_forward(batchnorm_backward, stub))
    assert result.diagnosis == "forward_not_implemented" and "batchnorm_forward" in result.message


def test_two_stubs_are_not_implemented_yet():
    result = run_check("batchnorm_backward", with_forward(stub, stub))
    assert result.diagnosis == "not_implemented" and "not implemented yet" in result.message


def test_a_wrong_forward_is_named_by_the_backward_check():
    def unbiased(x, gamma, beta, bn_param):
        return forward(x, gamma, beta, bn_param, ddof=1)
    result = run_check("batchnorm_backward", with_forward(batchnorm_backward, unbiased))
    assert result.diagnosis == "forward_wrong" and "check_batchnorm_forward" in result.message


@pytest.mark.parametrize("flags, mistake", [
    ({"mean_term": False, "var_term": False}, "statistics_as_constants"),
    ({"var_term": False}, "no_variance_term"),
    ({"mean_term": False}, "no_mean_term"),
    ({"with_gamma": False}, "dx_without_gamma"),
    ({"axis": 1}, "params_wrong_axis"),
    ({"axis": None}, "params_not_summed"),
    ({"dgamma_from_x_hat": False}, "dgamma_without_x_hat"),
])
def test_a_backward_mistake_is_named(flags, mistake):
    def wrong(dout, cache):
        return backward(dout, cache, **flags)
    assert diagnosis("batchnorm_backward", wrong) == mistake


def test_changing_dout_in_place_is_named():
    def clips_dout_in_place(dout, cache):
        result = backward(dout, cache)
        dout[0, 0] = 0.0
        return result
    assert diagnosis("batchnorm_backward", clips_dout_in_place) == "mutated_input"


def test_the_backward_check_prints_one_verdict(capsys):
    assert check_batchnorm_backward(batchnorm_backward) is None
    out = capsys.readouterr().out
    assert out.count("\n") == 1 and out.startswith("✓ batchnorm_backward: ")


# ================================================================ layernorm_forward
# Written as students write it: a dict cache (this course's notebook) or CS231n's transpose trick
# (layernorm as batchnorm on x.T, a tuple cache of every intermediate).

def ln_forward(x, gamma, beta, ln_param, axis=1, ddof=0, eps_place="inside", eps=None, swap=False):
    eps = ln_param.get("eps", 1e-5) if eps is None else eps
    mean = x.mean(axis=axis, keepdims=True)
    var = ((x - mean) ** 2).sum(axis=axis, keepdims=True) / (x.shape[axis] - ddof)
    std = np.sqrt(var + eps) if eps_place == "inside" else np.sqrt(var) + (eps if eps_place == "outside" else 0)
    x_hat = (x - mean) / std
    scale, shift = (beta, gamma) if swap else (gamma, beta)
    return scale * x_hat + shift, {"x_hat": x_hat, "std": std, "gamma": gamma}


def ln_forward_cs231n(x, gamma, beta, ln_param):
    """CS231n's layernorm: the batchnorm graph, node by node, on x.T."""
    eps = ln_param.get("eps", 1e-5)
    xt = x.T                                   # (D, N): the features are now the "batch"
    mu = xt.mean(axis=0)
    xmu = xt - mu
    var = (xmu ** 2).mean(axis=0)
    sqrtvar = np.sqrt(var + eps)
    ivar = 1.0 / sqrtvar
    xhat = (xmu * ivar).T
    return gamma * xhat + beta, (xhat, gamma, xmu, ivar, sqrtvar, var, eps)


def test_the_layernorm_forwards_pass():
    for fn in (ln_forward, ln_forward_cs231n, batchnorm.layernorm_forward):
        result = run_check("layernorm_forward", fn)
        assert result.passed and result.message.startswith("✓ layernorm_forward: 4 cases passed"), result.message


def test_a_layernorm_forward_stub_is_not_implemented_yet():
    assert diagnosis("layernorm_forward", stub) == "not_implemented"


@pytest.mark.parametrize("flags, mistake", [
    ({"axis": 0}, "normalized_over_batch"),
    ({"ddof": 1}, "unbiased_variance"),
    ({"eps_place": "outside"}, "eps_outside_root"),
    ({"eps_place": "none"}, "no_eps"),
    ({"eps": 1e-5}, "hard_coded_eps"),
    ({"swap": True}, "gamma_beta_swapped"),
])
def test_a_layernorm_forward_mistake_is_named(flags, mistake):
    def wrong(x, gamma, beta, ln_param):
        return ln_forward(x, gamma, beta, ln_param, **flags)
    assert diagnosis("layernorm_forward", wrong) == mistake


def test_the_batchnorm_forward_as_layernorm_is_named():
    def batchnorm_instead(x, gamma, beta, ln_param):     # the batchnorm of this notebook, reused
        return batchnorm.batchnorm_forward(x, gamma, beta, {**ln_param, "mode": "train"})
    result = run_check("layernorm_forward", batchnorm_instead)
    assert result.diagnosis == "normalized_over_batch" and "axis=1" in result.message, result.message


def test_a_cs231n_layernorm_without_the_transpose_is_named():
    def forgets_the_transpose(x, gamma, beta, ln_param):
        eps = ln_param.get("eps", 1e-5)
        xmu = x - x.mean(axis=0)
        ivar = 1.0 / np.sqrt((xmu ** 2).mean(axis=0) + eps)
        return gamma * (xmu * ivar) + beta, None
    assert diagnosis("layernorm_forward", forgets_the_transpose) == "normalized_over_batch"


def test_a_layernorm_forward_that_writes_eps_into_ln_param_is_named():
    def stores_eps(x, gamma, beta, ln_param):
        ln_param.setdefault("eps", 1e-5)
        return ln_forward(x, gamma, beta, ln_param)
    result = run_check("layernorm_forward", stores_eps)
    assert result.diagnosis == "mutated_input" and "ln_param" in result.message, result.message


def test_a_layernorm_forward_that_centres_x_in_place_is_named():
    def centres_x_in_place(x, gamma, beta, ln_param):
        x -= x.mean(axis=1, keepdims=True)
        return ln_forward(x, gamma, beta, ln_param)
    assert "mutated_input" in {diagnosis("layernorm_forward", centres_x_in_place),
                               *run_check("layernorm_forward", centres_x_in_place).slips}


# ================================================================ layernorm_backward
# The check finds the student's forward as `layernorm_forward` in the backward's globals.

layernorm_forward = ln_forward


def ln_backward(dout, cache, axis=1, mean_term=True, var_term=True, with_gamma=True, param_axis=0):
    x_hat, std, gamma = cache["x_hat"], cache["std"], cache["gamma"]
    g = gamma * dout if with_gamma else dout
    dx = g
    if mean_term:
        dx = dx - g.mean(axis=axis, keepdims=True)
    if var_term:
        dx = dx - x_hat * (g * x_hat).mean(axis=axis, keepdims=True)
    return dx / std, (dout * x_hat).sum(axis=param_axis), dout.sum(axis=param_axis)


def layernorm_backward(dout, cache):
    return ln_backward(dout, cache)


def ln_backward_cs231n(dout, cache, mean_term=True, var_term=True):
    """CS231n's staged backward through the graph of ln_forward_cs231n (on the transposes)."""
    xhat, gamma, xmu, ivar, sqrtvar, var, eps = cache
    dbeta, dgamma = dout.sum(axis=0), (dout * xhat).sum(axis=0)
    dxhat = (dout * gamma).T                     # (D, N)
    n = dxhat.shape[0]
    divar = (dxhat * xmu).sum(axis=0)
    dxmu1 = dxhat * ivar
    dsqrtvar = -divar / sqrtvar ** 2
    dvar = 0.5 * dsqrtvar / np.sqrt(var + eps) if var_term else 0 * dsqrtvar
    dxmu2 = 2 * xmu * np.ones_like(xmu) * dvar / n
    dx1 = dxmu1 + dxmu2
    dmu = -dx1.sum(axis=0) if mean_term else 0 * dx1.sum(axis=0)
    dx = dx1 + dmu / n
    return dx.T, dgamma, dbeta


def ln_with_forward(backward_fn, forward_fn):
    """``backward_fn`` as if defined in a notebook whose layernorm_forward is ``forward_fn``."""
    return types.FunctionType(backward_fn.__code__, {**globals(), "layernorm_forward": forward_fn},
                              backward_fn.__name__, backward_fn.__defaults__, backward_fn.__closure__)


def test_the_layernorm_backwards_pass():
    result = run_check("layernorm_backward", layernorm_backward)
    assert result.passed and result.message.startswith("✓ layernorm_backward: 2 cases passed"), result.message

    def staged(dout, cache):
        return ln_backward_cs231n(dout, cache)
    assert run_check("layernorm_backward", ln_with_forward(staged, ln_forward_cs231n)).passed
    assert run_check("layernorm_backward",
                     ln_with_forward(batchnorm.layernorm_backward, batchnorm.layernorm_forward)).passed


def test_a_layernorm_backward_without_its_forward_is_named():
    assert diagnosis("layernorm_backward", ln_with_forward(layernorm_backward, None)) == "no_forward"
    result = run_check("layernorm_backward", ln_with_forward(layernorm_backward, stub))
    assert result.diagnosis == "forward_not_implemented" and "layernorm_forward" in result.message

    def over_the_batch(x, gamma, beta, ln_param):
        return ln_forward(x, gamma, beta, ln_param, axis=0)
    result = run_check("layernorm_backward", ln_with_forward(layernorm_backward, over_the_batch))
    assert result.diagnosis == "forward_wrong" and "check_layernorm_forward" in result.message


@pytest.mark.parametrize("flags, mistake", [
    ({"mean_term": False, "var_term": False}, "statistics_as_constants"),
    ({"axis": 0}, "batchnorm_backward_axis"),
    ({"var_term": False}, "no_variance_term"),
    ({"mean_term": False}, "no_mean_term"),
    ({"with_gamma": False}, "dx_without_gamma"),
    ({"param_axis": 1}, "params_wrong_axis"),
])
def test_a_layernorm_backward_mistake_is_named(flags, mistake):
    def wrong(dout, cache):
        return ln_backward(dout, cache, **flags)
    assert diagnosis("layernorm_backward", wrong) == mistake


@pytest.mark.parametrize("flags, mistake", [
    ({"mean_term": False, "var_term": False}, "statistics_as_constants"),
    ({"var_term": False}, "no_variance_term"),
    ({"mean_term": False}, "no_mean_term"),
])
def test_a_cs231n_layernorm_backward_mistake_is_named(flags, mistake):
    def wrong(dout, cache):
        return ln_backward_cs231n(dout, cache, **flags)
    assert diagnosis("layernorm_backward", ln_with_forward(wrong, ln_forward_cs231n)) == mistake


def test_batchnorms_backward_reused_for_layernorm_is_named():
    def copied_from_batchnorm(dout, cache):
        return batchnorm.batchnorm_backward(dout, cache)
    def bn_shaped_forward(x, gamma, beta, ln_param):   # a cache batchnorm_backward can read
        out, cache = batchnorm.layernorm_forward(x, gamma, beta, ln_param)
        return out, batchnorm.BatchnormCache(cache.x_hat, gamma, cache.inv_std, "train")
    result = run_check("layernorm_backward", ln_with_forward(copied_from_batchnorm, bn_shaped_forward))
    assert result.diagnosis == "batchnorm_backward_axis", result.message


def test_a_layernorm_backward_that_scales_dout_in_place_is_named():
    def scales_dout_in_place(dout, cache):
        dout *= cache["gamma"]
        return ln_backward(dout, cache, with_gamma=False)
    result = run_check("layernorm_backward", scales_dout_in_place)
    assert result.passed is False and "mutated_input" in {result.diagnosis, *result.slips}
