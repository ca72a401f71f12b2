"""Hidden tests of notebook 02: EWMA, the six update rules and the four schedules, on inputs the
notebook never shows (other shapes, non-default hyperparameters, several steps of state).

An update rule is tested the way a trainer uses it: each step gets the config the previous step
returned. The state (velocity, cache, m, v, t) is compared after every step.
"""

import copy

import numpy as np

from course_lib.reference import optim
from course_instructor.grading.expect import close, equal, true, unchanged

STATE = {"sgd": (), "sgd_momentum": ("velocity",), "nesterov": ("velocity",), "adagrad": ("cache",),
         "rmsprop": ("cache",), "adam": ("m", "v", "t")}


# --------------------------------------------------------------------------------------
# EWMA
# --------------------------------------------------------------------------------------

def test_ewma_bias_corrected(ewma):
    """bias-corrected averages of a 1-D series with beta = 0.73"""
    xs = np.random.default_rng(301).normal(3.0, 2.0, size=17)
    close(ewma(xs, 0.73), optim.ewma(xs, 0.73), "the averages")


def test_ewma_without_correction(ewma):
    """averages without bias correction (beta = 0.5)"""
    xs = np.random.default_rng(302).uniform(-5, 5, size=11)
    close(ewma(xs, 0.5, bias_correction=False), optim.ewma(xs, 0.5, bias_correction=False), "the averages")


def test_ewma_vectors(ewma):
    """a series of 3-D vectors, averaged along time"""
    xs = np.random.default_rng(303).normal(size=(9, 3))
    close(ewma(xs, 0.95), optim.ewma(xs, 0.95), "the averages of a (T, D) series")


def test_ewma_integers(ewma):
    """a list of integers gives float averages"""
    xs = [4, 0, 7, 7, 1, 9]
    close(ewma(xs, 0.6), optim.ewma(xs, 0.6), "the averages of a list of ints")


# --------------------------------------------------------------------------------------
# Update rules
# --------------------------------------------------------------------------------------

def _steps(student, rule, config, shape, seed, steps=4):
    """Take ``steps`` steps with the student's rule and the reference, each on its own returned config."""
    rng = np.random.default_rng(seed)
    w = rng.normal(size=shape)
    got_w, want_w, got_config, want_config = w, w, copy.deepcopy(config), copy.deepcopy(config)
    for step in range(1, steps + 1):
        dw = rng.normal(size=shape) * 10.0 ** rng.uniform(-3, 1)
        want_w, want_config = rule(want_w, dw, want_config)
        got_w, got_config = student(got_w, dw, got_config)
        close(got_w, want_w, f"w after step {step}")
        true(isinstance(got_config, dict), "the rule must return (next_w, config) with config a dict")
        for key in STATE[rule.__name__]:
            true(key in got_config, f"the returned config has no {key!r} after step {step}")
            close(got_config[key], want_config[key], f"config[{key!r}] after step {step}")


def _defaults(student, rule, seed):
    """One step with config=None, on a column vector."""
    rng = np.random.default_rng(seed)
    w, dw = rng.normal(size=(5, 1)), rng.normal(size=(5, 1))
    close(student(w, dw, None)[0], rule(w, dw, None)[0], "w after one step with the default hyperparameters")


def _no_mutation(student, rule, config, seed):
    """w, dw and the config given are left as they were (and the step is right)."""
    rng = np.random.default_rng(seed)
    w, dw = rng.normal(size=(3, 4)), rng.normal(size=(3, 4))
    _, config = rule(w, rng.normal(size=(3, 4)), config)  # a config holding state
    saved, (want, _) = copy.deepcopy((w, dw, config)), rule(w, dw, config)
    close(student(w, dw, config)[0], want, "w after the step")
    unchanged(w, saved[0], "w")
    unchanged(dw, saved[1], "dw")
    equal(sorted(config), sorted(saved[2]), "the keys of the config you were given (return a new dict)")
    for key, value in saved[2].items():
        unchanged(config[key], value, f"config[{key!r}] (return a new config instead)")


def test_sgd_steps(sgd):
    """four steps on a 3-D array with learning_rate = 0.37"""
    _steps(sgd, optim.sgd, {"learning_rate": 0.37}, (2, 3, 4), 311)


def test_sgd_defaults(sgd):
    """config=None uses learning_rate = 1e-2"""
    _defaults(sgd, optim.sgd, 312)


def test_sgd_no_mutation(sgd):
    """w, dw and config are not changed in place"""
    _no_mutation(sgd, optim.sgd, {"learning_rate": 0.2}, 313)


def test_sgd_momentum_steps(sgd_momentum):
    """four steps with momentum = 0.6 and learning_rate = 0.05, the velocity carried between steps"""
    _steps(sgd_momentum, optim.sgd_momentum, {"learning_rate": 0.05, "momentum": 0.6}, (3, 5), 321)


def test_sgd_momentum_defaults(sgd_momentum):
    """config=None uses learning_rate = 1e-2, momentum = 0.9 and a zero velocity"""
    _defaults(sgd_momentum, optim.sgd_momentum, 322)


def test_sgd_momentum_stored_velocity(sgd_momentum):
    """three steps continuing from a velocity already in the config"""
    v = np.random.default_rng(323).normal(size=(4,))
    _steps(sgd_momentum, optim.sgd_momentum, {"learning_rate": 0.1, "velocity": v}, (4,), 324, steps=3)


def test_sgd_momentum_no_mutation(sgd_momentum):
    """w, dw and config (with its velocity) are not changed in place"""
    _no_mutation(sgd_momentum, optim.sgd_momentum, {"learning_rate": 0.1, "momentum": 0.5}, 325)


def test_nesterov_steps(nesterov):
    """four steps with momentum = 0.75 and learning_rate = 0.03, the velocity carried between steps"""
    _steps(nesterov, optim.nesterov, {"learning_rate": 0.03, "momentum": 0.75}, (2, 2, 3), 331)


def test_nesterov_defaults(nesterov):
    """config=None uses learning_rate = 1e-2, momentum = 0.9 and a zero velocity"""
    _defaults(nesterov, optim.nesterov, 332)


def test_nesterov_stored_velocity(nesterov):
    """three steps continuing from a velocity already in the config"""
    v = np.random.default_rng(333).normal(size=(2, 3))
    _steps(nesterov, optim.nesterov, {"momentum": 0.5, "velocity": v}, (2, 3), 334, steps=3)


def test_nesterov_no_mutation(nesterov):
    """w, dw and config (with its velocity) are not changed in place"""
    _no_mutation(nesterov, optim.nesterov, {"learning_rate": 0.1}, 335)


def test_adagrad_steps(adagrad):
    """four steps with learning_rate = 0.3 and epsilon = 1e-4, the cache carried between steps"""
    _steps(adagrad, optim.adagrad, {"learning_rate": 0.3, "epsilon": 1e-4}, (6,), 341)


def test_adagrad_defaults(adagrad):
    """config=None uses learning_rate = 1e-2, epsilon = 1e-8 and a zero cache"""
    _defaults(adagrad, optim.adagrad, 342)


def test_adagrad_tiny_gradients(adagrad):
    """epsilon outside the square root matters for tiny gradients"""
    w, dw = np.array([1.0, -1.0, 0.5]), np.array([1e-9, -3e-9, 2e-8])
    config = {"learning_rate": 0.1, "epsilon": 1e-8}
    close(adagrad(w, dw, dict(config))[0], optim.adagrad(w, dw, config)[0], "w after one step", rtol=1e-9)


def test_adagrad_no_mutation(adagrad):
    """w, dw and config (with its cache) are not changed in place"""
    _no_mutation(adagrad, optim.adagrad, {"learning_rate": 0.05}, 345)


def test_rmsprop_steps(rmsprop):
    """four steps with decay_rate = 0.8 and learning_rate = 0.02, the cache carried between steps"""
    _steps(rmsprop, optim.rmsprop, {"learning_rate": 0.02, "decay_rate": 0.8}, (3, 2), 351)


def test_rmsprop_defaults(rmsprop):
    """config=None uses learning_rate = 1e-2, decay_rate = 0.99, epsilon = 1e-8"""
    _defaults(rmsprop, optim.rmsprop, 352)


def test_rmsprop_stored_cache(rmsprop):
    """three steps continuing from a cache already in the config, epsilon = 1e-3"""
    cache = np.random.default_rng(353).uniform(0.1, 2.0, size=(5,))
    _steps(rmsprop, optim.rmsprop, {"epsilon": 1e-3, "cache": cache}, (5,), 354, steps=3)


def test_rmsprop_no_mutation(rmsprop):
    """w, dw and config (with its cache) are not changed in place"""
    _no_mutation(rmsprop, optim.rmsprop, {"decay_rate": 0.9}, 355)


def test_adam_steps(adam):
    """five steps with beta1 = 0.8, beta2 = 0.95, learning_rate = 0.01: m, v and t carried between steps"""
    _steps(adam, optim.adam, {"learning_rate": 0.01, "beta1": 0.8, "beta2": 0.95}, (2, 3, 2), 361, steps=5)


def test_adam_defaults(adam):
    """config=None uses learning_rate = 1e-3, beta1 = 0.9, beta2 = 0.999, epsilon = 1e-8"""
    _defaults(adam, optim.adam, 362)


def test_adam_stored_state(adam):
    """three steps continuing from m, v and t = 7 already in the config (bias correction uses t)"""
    rng = np.random.default_rng(363)
    state = {"m": rng.normal(size=(4,)), "v": rng.uniform(0.5, 1.5, size=(4,)), "t": 7, "epsilon": 1e-6}
    _steps(adam, optim.adam, state, (4,), 364, steps=3)


def test_adam_no_mutation(adam):
    """w, dw and config (with m, v and t) are not changed in place"""
    _no_mutation(adam, optim.adam, {"learning_rate": 0.01}, 365)


# --------------------------------------------------------------------------------------
# Schedules
# --------------------------------------------------------------------------------------

STEPS = np.array([0, 1, 5, 9, 10, 11, 23, 40, 57])


def _schedule(student, reference, args, kwargs, what):
    for t in (0, 13):
        close(student(*args[:1], t, *args[1:], **kwargs), reference(*args[:1], t, *args[1:], **kwargs),
              f"{what} at step t = {t}")
    close(student(*args[:1], STEPS, *args[1:], **kwargs), reference(*args[:1], STEPS, *args[1:], **kwargs),
          f"{what} for an array of steps")


def test_step_decay_defaults(step_decay):
    """halving every 10 steps by default, for single steps and an array of steps"""
    _schedule(step_decay, optim.step_decay, (0.3,), {}, "the rate")


def test_step_decay_custom(step_decay):
    """drop = 0.1 every 4 steps"""
    _schedule(step_decay, optim.step_decay, (0.05,), {"drop": 0.1, "every": 4}, "the rate")


def test_exponential_decay(exponential_decay):
    """lr0 = 0.2, k = 0.07, for single steps and an array of steps"""
    _schedule(exponential_decay, optim.exponential_decay, (0.2, 0.07), {}, "the rate")


def test_inverse_time_decay(inverse_time_decay):
    """lr0 = 0.8, k = 0.3, for single steps and an array of steps"""
    _schedule(inverse_time_decay, optim.inverse_time_decay, (0.8, 0.3), {}, "the rate")


def test_cosine_restarts_period(cosine_restarts):
    """a period of 6 steps, restarts included"""
    _schedule(cosine_restarts, optim.cosine_restarts, (0.4, 6), {}, "the rate")


def test_cosine_restarts_floor(cosine_restarts):
    """lr_min = 0.01 with a period of 15 steps"""
    _schedule(cosine_restarts, optim.cosine_restarts, (0.5, 15), {"lr_min": 0.01}, "the rate")
