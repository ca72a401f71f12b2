"""The self-checks of notebooks 07 and 09: every diagnosed mistake, written inline the way a
student would write it, gets its diagnosis; the references pass; a stub is "not implemented yet".

The wrong functions here are written independently of the mistakes in
``regularization_cases.py`` and ``search_cases.py``: they are the oracle that the stored
variants describe real student code.
"""

import math
import types

import numpy as np
import pytest

from course_lib import layers
from course_lib.reference import regularization, search
from course_lib.checks import check_dropout_backward, check_l2_penalty, run_check

REFERENCES = {
    "l2_penalty": regularization.l2_penalty,
    "dropout_forward": regularization.dropout_forward,
    "dropout_backward": regularization.dropout_backward,
    "train_val_split": search.train_val_split,
    "log_uniform": search.log_uniform,
    "random_search": search.random_search,
}


def diagnosis(exercise, fn):
    return run_check(exercise, fn).diagnosis


def stub(*args, **kwargs):
    # YOUR CODE HERE
    raise NotImplementedError()


@pytest.mark.parametrize("exercise", sorted(REFERENCES))
def test_the_reference_passes(exercise):
    result = run_check(exercise, REFERENCES[exercise])
    assert result.passed and result.message.startswith(f"✓ {exercise}: "), result.message


@pytest.mark.parametrize("exercise", sorted(REFERENCES))
def test_a_stub_is_not_implemented_yet(exercise):
    result = run_check(exercise, stub)
    assert result.diagnosis == "not_implemented" and "not implemented yet" in result.message, result.message


def test_check_prints_one_verdict(capsys):
    assert check_l2_penalty(regularization.l2_penalty) is None
    out = capsys.readouterr().out
    assert out.count("\n") == 1 and out.startswith("✓ l2_penalty: ")


def test_a_check_leaves_the_global_generator_as_it_was():
    np.random.seed(7)
    expected = np.random.random()
    np.random.seed(7)

    def dropout_forward(x, dropout_param):
        np.random.seed(dropout_param.get("seed"))
        keep = np.random.rand(*x.shape) >= dropout_param["p"]
        return x * keep / (1 - dropout_param["p"]), keep

    run_check("dropout_forward", dropout_forward)
    assert np.random.random() == expected


# ================================================================ l2_penalty

def test_a_students_l2_penalty_passes():
    def l2_penalty(weights, lam):
        loss = 0.0
        for W in weights:
            loss += 0.5 * lam * np.sum(W ** 2)
        return loss, [lam * W for W in weights]
    assert run_check("l2_penalty", l2_penalty).passed


def test_penalty_without_the_half():
    def l2_penalty(weights, lam):
        return lam * sum(np.sum(W * W) for W in weights), [lam * W for W in weights]
    result = run_check("l2_penalty", l2_penalty)
    assert result.diagnosis == "no_half" and "2x too large" in result.message, result.message


def test_penalty_without_the_half_and_its_gradient():
    def l2_penalty(weights, lam):
        return lam * sum((W ** 2).sum() for W in weights), [2 * lam * W for W in weights]
    assert diagnosis("l2_penalty", l2_penalty) == "no_half_gradient_doubled"


def test_gradient_with_the_half():
    def l2_penalty(weights, lam):
        return lam / 2 * sum(np.sum(W * W) for W in weights), [lam / 2 * W for W in weights]
    assert diagnosis("l2_penalty", l2_penalty) == "half_gradient"


def test_loss_overwritten_in_the_loop():
    def l2_penalty(weights, lam):
        grads = []
        for W in weights:
            loss = 0.5 * lam * np.sum(W * W)
            grads.append(lam * W)
        return loss, grads
    assert diagnosis("l2_penalty", l2_penalty) == "loss_overwritten"


def test_mean_instead_of_sum():
    def l2_penalty(weights, lam):
        return 0.5 * lam * sum(np.mean(W ** 2) for W in weights), [lam * W for W in weights]
    assert diagnosis("l2_penalty", l2_penalty) == "mean_not_sum"


def test_norm_not_squared():
    def l2_penalty(weights, lam):
        return 0.5 * lam * sum(np.linalg.norm(W) for W in weights), [lam * W for W in weights]
    assert diagnosis("l2_penalty", l2_penalty) == "norm_not_squared"


def test_l1_penalty():
    def l2_penalty(weights, lam):
        return lam * sum(np.abs(W).sum() for W in weights), [lam * np.sign(W) for W in weights]
    assert diagnosis("l2_penalty", l2_penalty) == "l1"


def test_grads_as_one_array():
    def l2_penalty(weights, lam):
        flat = np.concatenate([W.ravel() for W in weights])
        return 0.5 * lam * np.sum(flat ** 2), lam * flat
    result = run_check("l2_penalty", l2_penalty)
    assert result.diagnosis == "grads_one_array" and "a list with one gradient per weight" in result.message


def test_grads_list_of_the_wrong_length():
    def l2_penalty(weights, lam):
        return 0.5 * lam * sum(np.sum(W * W) for W in weights), [lam * weights[0]]
    assert diagnosis("l2_penalty", l2_penalty) == "wrong_type"


def test_loss_not_one_number():
    def l2_penalty(weights, lam):
        return np.array([0.5 * lam * np.sum(W * W) for W in weights]), [lam * W for W in weights]
    assert diagnosis("l2_penalty", l2_penalty) == "wrong_shape"


def test_penalty_changing_the_weights_in_place():
    def l2_penalty(weights, lam):
        loss = 0.5 * lam * sum(np.sum(W * W) for W in weights)
        for W in weights:
            W *= lam
        return loss, weights
    result = run_check("l2_penalty", l2_penalty)
    assert result.diagnosis == "mutated_input" and "weights[0]" in result.message


def test_penalty_gradients_in_float64_for_float32_weights():
    def l2_penalty(weights, lam):
        return 0.5 * lam * sum(np.sum(W * W) for W in weights), [lam * W.astype(np.float64) for W in weights]
    assert diagnosis("l2_penalty", l2_penalty) == "wrong_dtype"


# ================================================================ dropout_forward

def dropout_forward(x, dropout_param):
    """A student's right forward (the backward tests find it here, as in the notebook)."""
    p, mode = dropout_param["p"], dropout_param["mode"]
    if mode == "test":
        return x, {"mode": mode}
    rng = np.random.default_rng(dropout_param.get("seed"))
    mask = (rng.random(x.shape) >= p).astype(x.dtype) / (1 - p)
    return x * mask, {"mode": mode, "mask": mask}


def test_a_students_dropout_forward_passes():
    assert run_check("dropout_forward", dropout_forward).passed


def test_another_right_way_of_drawing_the_mask_passes():
    def forward(x, dropout_param):
        p = dropout_param["p"]
        if dropout_param["mode"] == "test":
            return x.copy(), None
        keep = np.random.default_rng(dropout_param.get("seed")).binomial(1, 1 - p, size=x.shape).astype(x.dtype)
        return x * keep / x.dtype.type(1 - p), keep
    result = run_check("dropout_forward", forward)
    assert result.passed, result.message


def test_dropout_without_inverted_scaling_as_in_the_original_paper():
    def forward(x, dropout_param):
        p = dropout_param["p"]
        if dropout_param["mode"] == "train":
            mask = np.random.default_rng(dropout_param.get("seed")).random(x.shape) > p
            return x * mask, mask
        return x * (1.0 - p), None
    result = run_check("dropout_forward", forward)
    assert result.diagnosis == "scaled_at_test" and "Srivastava et al. 2014" in result.message, result.message


def test_dropout_not_scaled_at_all():
    def forward(x, dropout_param):
        if dropout_param["mode"] == "test":
            return x, None
        mask = np.random.default_rng(dropout_param["seed"]).random(x.shape) >= dropout_param["p"]
        return x * mask, mask
    assert diagnosis("dropout_forward", forward) == "not_inverted"


def test_dropout_scaled_in_training_and_at_test():
    def forward(x, dropout_param):
        p = dropout_param["p"]
        if dropout_param["mode"] == "test":
            return x * (1 - p), None
        mask = (np.random.default_rng(dropout_param["seed"]).random(x.shape) >= p) / (1 - p)
        return (x * mask).astype(x.dtype), mask
    assert diagnosis("dropout_forward", forward) == "scaled_at_test_too"


def test_dropout_active_at_test_time():
    def forward(x, dropout_param):
        p = dropout_param["p"]
        mask = (np.random.default_rng(dropout_param["seed"]).random(x.shape) >= p).astype(x.dtype) / (1 - p)
        return x * mask, mask
    result = run_check("dropout_forward", forward)
    assert result.diagnosis == "dropout_at_test" and "test mode" in result.message, result.message


def test_p_taken_as_the_keep_probability():
    def forward(x, dropout_param):
        p = dropout_param["p"]
        if dropout_param["mode"] == "test":
            return x, None
        mask = (np.random.default_rng(dropout_param["seed"]).random(x.shape) < p).astype(x.dtype) / p
        return x * mask, mask
    result = run_check("dropout_forward", forward)
    assert result.diagnosis == "p_is_keep" and "fraction of units kept" in result.message, result.message


def test_p_taken_as_the_keep_probability_in_the_mask_only():
    def forward(x, dropout_param):
        p = dropout_param["p"]
        if dropout_param["mode"] == "test":
            return x, None
        mask = (np.random.default_rng(dropout_param["seed"]).random(x.shape) < p).astype(x.dtype) / (1 - p)
        return x * mask, mask
    assert diagnosis("dropout_forward", forward) == "p_is_keep_mask"


def test_kept_units_divided_by_p():
    def forward(x, dropout_param):
        p = dropout_param["p"]
        if dropout_param["mode"] == "test":
            return x, None
        mask = (np.random.default_rng(dropout_param["seed"]).random(x.shape) >= p).astype(x.dtype) / p
        return x * mask, mask
    assert diagnosis("dropout_forward", forward) == "divides_by_p"


def test_kept_units_multiplied_by_the_keep_probability():
    def forward(x, dropout_param):
        p = dropout_param["p"]
        if dropout_param["mode"] == "test":
            return x, None
        mask = (np.random.default_rng(dropout_param["seed"]).random(x.shape) >= p).astype(x.dtype) * (1 - p)
        return x * mask, mask
    assert diagnosis("dropout_forward", forward) == "multiplies_by_keep"


def test_seed_ignored():
    def forward(x, dropout_param):
        p = dropout_param["p"]
        if dropout_param["mode"] == "test":
            return x, None
        mask = (np.random.default_rng().random(x.shape) >= p).astype(x.dtype) / (1 - p)
        return x * mask, mask
    result = run_check("dropout_forward", forward)
    assert result.diagnosis == "seed_ignored" and "same seed" in result.message, result.message


def test_seed_fixed():
    def forward(x, dropout_param):
        p = dropout_param["p"]
        if dropout_param["mode"] == "test":
            return x, None
        mask = (np.random.default_rng(0).random(x.shape) >= p).astype(x.dtype) / (1 - p)
        return x * mask, mask
    assert diagnosis("dropout_forward", forward) == "seed_fixed"


def test_cs231n_dropout_keeping_p_from_the_global_generator_hears_the_math_first():
    def dropout_forward(x, dropout_param):   # CS231n's: p the probability of keeping, np.random seeded
        p, mode = dropout_param["p"], dropout_param["mode"]
        if "seed" in dropout_param:
            np.random.seed(dropout_param["seed"])
        if mode == "train":
            mask = (np.random.rand(*x.shape) < p) / p
            return x * mask, (dropout_param, mask)
        return x, (dropout_param, None)
    result = run_check("dropout_forward", dropout_forward)
    assert result.diagnosis == "p_is_keep" and result.slips == ("global_rng", "wrong_dtype"), result.message
    assert result.message.index("probability of dropping") < result.message.index("global generator")


def test_dropout_with_the_global_generator():
    def forward(x, dropout_param):
        p = dropout_param["p"]
        if dropout_param["mode"] == "test":
            return x, None
        np.random.seed(dropout_param["seed"])
        mask = (np.random.rand(*x.shape) >= p) / (1 - p)
        return (x * mask).astype(x.dtype), mask
    result = run_check("dropout_forward", forward)
    assert result.diagnosis == "global_rng" and "default_rng" in result.message, result.message


def test_dropout_changing_x_in_place():
    def forward(x, dropout_param):
        p = dropout_param["p"]
        if dropout_param["mode"] == "test":
            return x, None
        mask = (np.random.default_rng(dropout_param["seed"]).random(x.shape) >= p).astype(x.dtype) / (1 - p)
        x *= mask
        return x, mask
    assert diagnosis("dropout_forward", forward) == "mutated_input"


def test_dropout_turning_float32_into_float64():
    def forward(x, dropout_param):
        p = dropout_param["p"]
        if dropout_param["mode"] == "test":
            return x, None
        mask = (np.random.default_rng(dropout_param["seed"]).random(x.shape) >= p) / (1 - p)
        return x * mask, mask
    result = run_check("dropout_forward", forward)
    assert result.diagnosis == "wrong_dtype" and "astype(x.dtype)" in result.message, result.message


def test_dropout_returning_only_out():
    def forward(x, dropout_param):
        return x
    assert diagnosis("dropout_forward", forward) == "wrong_type"


# ================================================================ dropout_backward

def dropout_backward(dout, cache):
    """A student's right backward, for the cache of the right forward above."""
    if cache["mode"] == "test":
        return dout
    return dout * cache["mask"]


def with_forward(backward_fn, forward_fn):
    """``backward_fn`` as if defined in a notebook whose dropout_forward is ``forward_fn``."""
    return types.FunctionType(backward_fn.__code__, {**globals(), "dropout_forward": forward_fn},
                              backward_fn.__name__, backward_fn.__defaults__, backward_fn.__closure__)


def test_a_students_dropout_backward_passes_on_the_students_own_cache():
    result = run_check("dropout_backward", dropout_backward)
    assert result.passed and result.message.startswith("✓ dropout_backward: 2 cases passed"), result.message


def test_a_backward_consistent_with_a_seed_kept_in_the_cache_passes():
    def forward(x, dropout_param):
        p = dropout_param["p"]
        if dropout_param["mode"] == "test":
            return x, (dropout_param, None)
        keep = np.random.default_rng(dropout_param["seed"]).random(x.shape) >= p
        return x * keep.astype(x.dtype) / x.dtype.type(1 - p), (dropout_param, keep)

    def backward(dout, cache):
        dropout_param, keep = cache
        return dout if keep is None else dout * keep / dout.dtype.type(1 - dropout_param["p"])
    assert run_check("dropout_backward", with_forward(backward, forward)).passed


def test_backward_drawing_a_new_mask():
    def backward(dout, cache):
        if cache["mode"] == "test":
            return dout
        p = 1 - 1 / cache["mask"].max()
        mask = (np.random.default_rng().random(dout.shape) >= p) / (1 - p)
        return dout * mask
    result = run_check("dropout_backward", backward)
    assert result.diagnosis == "new_mask" and "draws a new mask" in result.message, result.message


def test_backward_not_scaling_the_gradient():
    def backward(dout, cache):
        if cache["mode"] == "test":
            return dout
        return dout * (cache["mask"] > 0)
    assert diagnosis("dropout_backward", backward) == "unscaled_gradient"


def test_backward_scaling_twice():
    def backward(dout, cache):
        if cache["mode"] == "test":
            return dout
        keep = 1 / cache["mask"].max()
        return dout * cache["mask"] / keep
    assert diagnosis("dropout_backward", backward) == "scaled_twice"


def test_backward_with_the_global_generator():
    def backward(dout, cache):
        if cache["mode"] == "test":
            return dout
        p = 1 - 1 / cache["mask"].max()
        return dout * (np.random.rand(*dout.shape) >= p) / (1 - p)
    result = run_check("dropout_backward", backward)   # a new mask (the values say so), from np.random
    assert result.diagnosis == "new_mask" and result.slips == ("global_rng",), result.message
    assert "Also: your function uses numpy's global generator" in result.message


def test_backward_changing_dout_in_place():
    def backward(dout, cache):
        if cache["mode"] == "train":
            dout *= cache["mask"]
        return dout
    assert diagnosis("dropout_backward", backward) == "mutated_input"


def test_backward_with_its_forward_still_a_stub():
    result = run_check("dropout_backward", with_forward(dropout_backward, stub))
    assert result.diagnosis == "forward_not_implemented" and "implement dropout_forward first" in result.message


def test_backward_and_forward_both_stubs_is_not_implemented_yet():
    result = run_check("dropout_backward", with_forward(stub, stub))
    assert result.diagnosis == "not_implemented", result.message


def test_backward_with_a_broken_forward():
    def forward(x, dropout_param):
        return x * dropout_param["keep_prob"], None
    result = run_check("dropout_backward", with_forward(dropout_backward, forward))
    assert result.diagnosis == "forward_error" and "KeyError" in result.message, result.message


def test_backward_without_a_forward():
    backward = types.FunctionType(dropout_backward.__code__, {"np": np}, "dropout_backward")
    assert diagnosis("dropout_backward", backward) == "no_forward"


def test_check_dropout_backward_prints_the_forward_problem(capsys):
    check_dropout_backward(with_forward(dropout_backward, stub))
    assert "implement dropout_forward first" in capsys.readouterr().out


# ================================================================ train_val_split

def test_a_students_split_passes():
    def train_val_split(X, y, val_fraction, rng):
        idx = np.arange(len(X))
        rng.shuffle(idx)
        n_val = int(val_fraction * len(X))
        return X[idx[n_val:]], y[idx[n_val:]], X[idx[:n_val]], y[idx[:n_val]]
    assert run_check("train_val_split", train_val_split).passed


def test_training_set_of_the_validation_size():
    def train_val_split(X, y, val_fraction, rng):
        order = rng.permutation(len(X))
        n = int(val_fraction * len(X))
        return X[order[:n]], y[order[:n]], X[order[n:]], y[order[n:]]
    result = run_check("train_val_split", train_val_split)
    assert result.diagnosis == "train_is_fraction" and "number of validation rows" in result.message, result.message


def test_validation_rows_also_in_training():
    def train_val_split(X, y, val_fraction, rng):
        order = rng.permutation(len(X))
        n = round(val_fraction * len(X))
        return X[order], y[order], X[order[:n]], y[order[:n]]
    assert diagnosis("train_val_split", train_val_split) == "overlap"


def test_a_row_lost():
    def train_val_split(X, y, val_fraction, rng):
        order = rng.permutation(len(X))
        n = round(val_fraction * len(X))
        return X[order[n + 1:]], y[order[n + 1:]], X[order[:n]], y[order[:n]]
    assert diagnosis("train_val_split", train_val_split) == "row_lost"


def test_x_and_y_shuffled_with_different_permutations():
    def train_val_split(X, y, val_fraction, rng):
        X, y = X[rng.permutation(len(X))], y[rng.permutation(len(y))]
        n = round(val_fraction * len(X))
        return X[n:], y[n:], X[:n], y[:n]
    result = run_check("train_val_split", train_val_split)
    assert result.diagnosis == "pairs_broken" and "one permutation" in result.message, result.message


def test_only_x_shuffled():
    def train_val_split(X, y, val_fraction, rng):
        X = X[rng.permutation(len(X))]
        n = round(val_fraction * len(X))
        return X[n:], y[n:], X[:n], y[:n]
    assert diagnosis("train_val_split", train_val_split) == "pairs_broken"


def test_split_not_shuffled():
    def train_val_split(X, y, val_fraction, rng):
        n = round(val_fraction * len(X))
        return X[n:], y[n:], X[:n], y[:n]
    assert diagnosis("train_val_split", train_val_split) == "not_shuffled"


def test_split_ignoring_rng():
    def train_val_split(X, y, val_fraction, rng):
        order = np.random.default_rng(42).permutation(len(X))
        n = round(val_fraction * len(X))
        return X[order[n:]], y[order[n:]], X[order[:n]], y[order[:n]]
    assert diagnosis("train_val_split", train_val_split) == "ignores_rng"


def test_split_with_the_global_generator():
    def train_val_split(X, y, val_fraction, rng):
        order = np.random.permutation(len(X))
        n = round(val_fraction * len(X))
        return X[order[n:]], y[order[n:]], X[order[:n]], y[order[:n]]
    assert diagnosis("train_val_split", train_val_split) == "global_rng"


def test_split_shuffling_x_in_place():
    def train_val_split(X, y, val_fraction, rng):
        state = rng.bit_generator.state
        rng.shuffle(X)
        rng.bit_generator.state = state
        rng.shuffle(y)
        n = round(val_fraction * len(X))
        return X[n:], y[n:], X[:n], y[:n]
    result = run_check("train_val_split", train_val_split)
    assert result.diagnosis == "mutated_input" and "rng.shuffle" in result.message, result.message


# ================================================================ log_uniform

def test_a_students_log_uniform_passes():
    def log_uniform(low_exp, high_exp, size, rng):
        return np.power(10.0, low_exp + (high_exp - low_exp) * rng.random(size))
    assert run_check("log_uniform", log_uniform).passed


def test_uniform_in_value():
    def log_uniform(low_exp, high_exp, size, rng):
        return rng.uniform(10.0 ** low_exp, 10.0 ** high_exp, size)
    assert diagnosis("log_uniform", log_uniform) == "uniform_in_value"


def test_natural_exponential():
    def log_uniform(low_exp, high_exp, size, rng):
        return np.exp(rng.uniform(low_exp, high_exp, size))
    assert diagnosis("log_uniform", log_uniform) == "natural_exp"


def test_exponents_swapped():
    def log_uniform(low_exp, high_exp, size, rng):
        u = rng.random(size)
        return 10 ** (high_exp + u * (low_exp - high_exp))
    assert diagnosis("log_uniform", log_uniform) == "exponents_swapped"


def test_size_ignored():
    def log_uniform(low_exp, high_exp, size, rng):
        return 10 ** rng.uniform(low_exp, high_exp)
    result = run_check("log_uniform", log_uniform)
    assert result.diagnosis == "size_ignored" and "()" in result.message and "(5,)" in result.message, result.message


def test_exponents_returned():
    def log_uniform(low_exp, high_exp, size, rng):
        return rng.uniform(low_exp, high_exp, size)
    assert diagnosis("log_uniform", log_uniform) == "exponents_only"


def test_ten_times_the_exponent():
    def log_uniform(low_exp, high_exp, size, rng):
        return 10 * rng.uniform(low_exp, high_exp, size)
    assert diagnosis("log_uniform", log_uniform) == "times_ten"


def test_whole_exponents():
    def log_uniform(low_exp, high_exp, size, rng):
        return 10.0 ** rng.integers(low_exp, high_exp, size)
    assert diagnosis("log_uniform", log_uniform) == "integer_exponents"


def test_log_uniform_ignoring_rng():
    def log_uniform(low_exp, high_exp, size, rng):
        return 10 ** np.random.default_rng().uniform(low_exp, high_exp, size)
    assert diagnosis("log_uniform", log_uniform) == "ignores_rng"


def test_log_uniform_with_the_global_generator():
    def log_uniform(low_exp, high_exp, size, rng):
        return 10 ** np.random.uniform(low_exp, high_exp, size)
    assert diagnosis("log_uniform", log_uniform) == "global_rng"


# ================================================================ random_search

def right_trials(space, n_trials, rng):
    return [{name: sampler(rng) for name, sampler in space.items()} for _ in range(n_trials)]


def test_a_students_random_search_passes():
    def random_search(objective, space, n_trials, rng):
        results = []
        for _ in range(n_trials):
            params = {name: space[name](rng) for name in space}
            results.append({"params": params, "score": objective(params)})
        results.sort(key=lambda r: -r["score"])
        return results
    assert run_check("random_search", random_search).passed


def test_sorted_worst_first():
    def random_search(objective, space, n_trials, rng):
        results = [{"params": p, "score": objective(p)} for p in right_trials(space, n_trials, rng)]
        return sorted(results, key=lambda r: r["score"])
    result = run_check("random_search", random_search)
    assert result.diagnosis == "worst_first" and "reverse=True" in result.message, result.message


def test_not_sorted():
    def random_search(objective, space, n_trials, rng):
        return [{"params": p, "score": objective(p)} for p in right_trials(space, n_trials, rng)]
    assert diagnosis("random_search", random_search) == "not_sorted"


def test_one_draw_for_every_trial():
    def random_search(objective, space, n_trials, rng):
        params = {name: sampler(rng) for name, sampler in space.items()}
        return [{"params": params, "score": objective(params)} for _ in range(n_trials)]
    assert diagnosis("random_search", random_search) == "one_draw"


def test_drawn_one_hyperparameter_at_a_time():
    def random_search(objective, space, n_trials, rng):
        values = {name: [sampler(rng) for _ in range(n_trials)] for name, sampler in space.items()}
        trials = [dict(zip(values, column)) for column in zip(*values.values())]
        return sorted(({"params": p, "score": objective(p)} for p in trials), key=lambda r: r["score"], reverse=True)
    assert diagnosis("random_search", random_search) == "drawn_by_parameter"


def test_drawn_in_alphabetical_order():
    def random_search(objective, space, n_trials, rng):
        trials = [{name: space[name](rng) for name in sorted(space)} for _ in range(n_trials)]
        return sorted(({"params": p, "score": objective(p)} for p in trials), key=lambda r: r["score"], reverse=True)
    assert diagnosis("random_search", random_search) == "sorted_names"


def test_scores_sorted_apart_from_their_params():
    def random_search(objective, space, n_trials, rng):
        trials = right_trials(space, n_trials, rng)
        scores = sorted((objective(p) for p in trials), reverse=True)
        return [{"params": p, "score": s} for p, s in zip(trials, scores)]
    result = run_check("random_search", random_search)
    assert result.diagnosis == "scores_not_matching" and "sort the pairs together" in result.message, result.message


def test_random_search_ignoring_rng():
    def random_search(objective, space, n_trials, rng):
        trials = right_trials(space, n_trials, np.random.default_rng(0))
        return sorted(({"params": p, "score": objective(p)} for p in trials), key=lambda r: r["score"], reverse=True)
    assert diagnosis("random_search", random_search) == "ignores_rng"


def test_random_search_with_the_global_generator():
    def random_search(objective, space, n_trials, rng):
        np.random.seed(0)
        trials = right_trials(space, n_trials, rng)
        return sorted(({"params": p, "score": objective(p)} for p in trials), key=lambda r: r["score"], reverse=True)
    assert diagnosis("random_search", random_search) == "global_rng"


def test_only_the_best_trial_returned():
    def random_search(objective, space, n_trials, rng):
        trials = right_trials(space, n_trials, rng)
        best = max(trials, key=objective)
        return [{"params": best, "score": objective(best)}]
    assert diagnosis("random_search", random_search) == "wrong_length"


def test_results_as_tuples():
    def random_search(objective, space, n_trials, rng):
        trials = right_trials(space, n_trials, rng)
        return sorted(((objective(p), p) for p in trials), key=lambda r: r[0], reverse=True)
    assert diagnosis("random_search", random_search) == "wrong_type"


def test_objective_called_with_keyword_arguments():
    def random_search(objective, space, n_trials, rng):
        trials = right_trials(space, n_trials, rng)
        return sorted(({"params": p, "score": objective(**p)} for p in trials), key=lambda r: r["score"], reverse=True)
    result = run_check("random_search", random_search)
    assert result.diagnosis == "error" and "TypeError" in result.message, result.message


def test_the_objective_rejects_what_is_not_a_params_dict():
    from course_lib.checks.probes import search_objective
    objective = search_objective([["lr", "log_uniform", -3, 0, -1.5, 1.0]])
    assert math.isclose(objective({"lr": 10 ** -1.5}), 0.0, abs_tol=1e-12)
    with pytest.raises(TypeError, match="params should be a dict with the keys"):
        objective([0.1])


# ================================================================ successive_halving

def test_the_successive_halving_reference_passes():
    result = run_check("successive_halving", search.successive_halving)
    assert result.passed, result.message


def test_successive_halving_stub_is_not_implemented():
    assert diagnosis("successive_halving", stub) == "not_implemented"


def student_halving(objective, candidates, min_budget, eta=2, *, best=True, grow=None, keep=None,
                    all_again=False, by_score=False):
    """Written the way a student would: a while loop over rounds, `dropped` lists per round."""
    survivors = list(range(len(candidates)))
    budget, dropped, last = min_budget, [], {}
    while True:
        for k in (range(len(candidates)) if all_again else survivors):
            last[k] = (objective(candidates[k], budget), budget)
        survivors.sort(key=lambda k: (-last[k][0] if best else last[k][0], k))
        if len(survivors) == 1:
            break
        n_keep = keep(len(survivors), eta) if keep else math.ceil(len(survivors) / eta)
        dropped.append(survivors[n_keep:])
        survivors = sorted(survivors[:n_keep])
        budget = grow(budget) if grow else budget * eta
    if by_score:
        order = sorted(last, key=lambda k: -last[k][0])
    else:
        order = survivors + [k for group in reversed(dropped) for k in sorted(group, key=lambda k: -last[k][0])]
    return [{"params": candidates[k], "score": last[k][0], "budget": last[k][1]} for k in order]


def test_a_students_successive_halving_passes():
    assert run_check("successive_halving", student_halving).passed


@pytest.mark.parametrize("name, kwargs", [
    ("keeps_worst", {"best": False}),
    ("budget_not_grown", {"grow": lambda b: b}),
    ("rounded_down", {"keep": lambda n, eta: max(1, n // eta)}),
    ("reevaluates_eliminated", {"all_again": True}),
    ("sorted_by_score", {"by_score": True}),
])
def test_successive_halving_mistakes(name, kwargs):
    def successive_halving(objective, candidates, min_budget, eta=2):
        return student_halving(objective, candidates, min_budget, eta, **kwargs)
    result = run_check("successive_halving", successive_halving)
    assert result.diagnosis == name, result.message


def test_successive_halving_budget_grown_additively():
    def successive_halving(objective, candidates, min_budget, eta=2):
        return student_halving(objective, candidates, min_budget, eta, grow=lambda b: b + min_budget)
    result = run_check("successive_halving", successive_halving)
    assert result.diagnosis == "budget_added" and "multiply by eta" in result.message, result.message


def test_successive_halving_ignoring_eta():
    def successive_halving(objective, candidates, min_budget, eta=2):
        return student_halving(objective, candidates, min_budget, 2)
    assert diagnosis("successive_halving", successive_halving) == "eta_ignored"


def test_successive_halving_returning_only_the_winner():
    def successive_halving(objective, candidates, min_budget, eta=2):
        return student_halving(objective, candidates, min_budget, eta)[:1]
    assert diagnosis("successive_halving", successive_halving) == "wrong_length"


def test_successive_halving_with_a_stale_score():
    def successive_halving(objective, candidates, min_budget, eta=2):
        results = student_halving(objective, candidates, min_budget, eta)
        results[0]["budget"] = min_budget        # the first budget kept with the last score
        return results
    result = run_check("successive_halving", successive_halving)
    assert result.diagnosis == "scores_not_matching", result.message


def test_successive_halving_changing_the_candidates():
    def successive_halving(objective, candidates, min_budget, eta=2):
        results = student_halving(objective, candidates, min_budget, eta)
        candidates.reverse()
        return results
    result = run_check("successive_halving", successive_halving)
    assert result.diagnosis == "mutated_input", result.message


def test_the_halving_objective_depends_on_params_and_budget():
    from course_lib.checks.probes import halving_objective
    objective = halving_objective([["lr", "log_uniform", -3, 0, -1.0, 1.0]], [["lr", -1.0]], 0.0)
    assert math.isclose(objective({"lr": 0.1}, 2), -0.5)
    assert objective({"lr": 0.1}, 4) > objective({"lr": 0.1}, 2)
    with pytest.raises(TypeError, match="budget should be a positive number"):
        objective({"lr": 0.1}, 0)


def test_successive_halving_in_the_style_of_the_hyperband_paper():
    # Li et al. (2018), Algorithm 1's inner loop: n_i = floor(n eta^-i), r_i = r eta^i, a for
    # loop over a number of rounds fixed in advance; floor is the rounded-down mistake.
    def successive_halving(objective, candidates, min_budget, eta=2):
        n, T, out = len(candidates), list(range(len(candidates))), []
        rounds = round(math.log(n, eta)) if n > 1 else 0
        for i in range(rounds + 1):
            n_i, r_i = max(1, math.floor(n * eta ** -i)), min_budget * eta ** i
            T = T[:n_i]
            L = [(objective(candidates[k], r_i), k) for k in T]
            L.sort(key=lambda t: (-t[0], t[1]))
            keep = max(1, math.floor(n_i / eta))
            out.append([(s, k, r_i) for s, k in (L if i == rounds else L[keep:])])
            T = sorted(k for _, k in L[:keep])
            if len(L) == 1:
                break
        return [{"params": candidates[k], "score": s, "budget": r} for group in reversed(out)
                for s, k, r in group]
    assert diagnosis("successive_halving", successive_halving) == "rounded_down"
