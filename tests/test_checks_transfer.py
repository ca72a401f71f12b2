"""The self-check of notebook 08 (``transfer_params``): every diagnosed mistake, written inline the
way a student would write it, gets its diagnosis and its message; the reference passes; a stub
is "not implemented yet"; aliasing is seen through the grader's wire too.

The wrong functions here are written independently of the mistakes in ``transfer_cases.py``:
they are the oracle that the stored variants describe real student code.
"""

import numpy as np
import pytest

from course_instructor.cases import build
from course_instructor.grading.hidden import grade, load_hidden, local_functions
from course_lib.checks import check_transfer_params, run_check
from course_lib.paths import course_root
from course_lib.reference.transfer import transfer_params as reference

MESSAGES = {m.name: m.message for m in build.specs()["transfer_params"].mistakes}


def last(params):
    return max(int(k[1:]) for k in params if k.startswith("W"))


def student(copy=True, head=True, shape="HC", bias=True, draw="default_rng", dtype=True, count="max"):
    """One student's transfer_params, with a slip chosen by the flags."""
    def transfer_params(params, num_classes, seed=0, std=0.01):
        new = {k: v.copy() for k, v in params.items()} if copy else dict(params)
        L = last(params) if count == "max" else len(params) // 2
        W, b = params[f"W{L}"], params[f"b{L}"]
        if not head:
            return new
        size = (W.shape[0], num_classes) if shape == "HC" else (num_classes, W.shape[0])
        if draw == "default_rng":
            head_w = np.random.default_rng(seed).normal(0.0, std, size)
        elif draw == "global":
            np.random.seed(seed)
            head_w = np.random.normal(0.0, std, size)
        elif draw == "unit":
            head_w = np.random.default_rng(seed).standard_normal(size)
        elif draw == "he":
            head_w = np.random.default_rng(seed).normal(0.0, np.sqrt(2.0 / W.shape[0]), size)
        elif draw == "uniform":
            head_w = np.random.default_rng(seed).uniform(-std, std, size)
        elif draw == "unseeded":
            head_w = np.random.default_rng().normal(0.0, std, size)
        elif draw == "fixed_seed":
            head_w = np.random.default_rng(0).normal(0.0, std, size)
        new[f"W{L}"] = head_w.astype(W.dtype) if dtype else head_w
        new[f"b{L}"] = np.zeros(num_classes, b.dtype if dtype else float) if bias else b.copy()
        return new
    return transfer_params


def test_the_reference_passes(capsys):
    assert check_transfer_params(reference) is None
    out = capsys.readouterr().out
    assert out.startswith("✓ transfer_params: 3 cases passed (") and out.count("\n") == 1


def test_a_students_straightforward_version_passes():
    assert run_check("transfer_params", student()).passed


def test_a_stub_is_not_implemented_yet():
    def transfer_params(params, num_classes, seed=0, std=0.01):
        # YOUR CODE HERE
        raise NotImplementedError()
    result = run_check("transfer_params", transfer_params)
    assert result.diagnosis == "not_implemented" and "not implemented yet" in result.message


@pytest.mark.parametrize("flags, mistake", [
    ({"head": False}, "head_not_replaced"),
    ({"shape": "CH"}, "head_transposed"),
    ({"bias": False}, "bias_not_reset"),
    ({"draw": "unit"}, "std_ignored"),
    ({"draw": "he"}, "he_std"),
    ({"draw": "uniform"}, "uniform_head"),
], ids=lambda v: v if isinstance(v, str) else "")
def test_each_mistake_gets_its_diagnosis_and_message(flags, mistake):
    result = run_check("transfer_params", student(**flags))
    assert not result.passed and result.diagnosis == mistake, result.message
    assert MESSAGES[mistake] in result.message


def test_the_global_generator_is_the_legacy_draw_and_a_slip():
    result = run_check("transfer_params", student(draw="global"))
    assert result.diagnosis == "legacy_rng" and result.slips == ("global_rng",), result.message
    assert "numpy's global generator" in result.message


def test_arrays_shared_with_the_pretrained_params_are_named():
    result = run_check("transfer_params", student(copy=False))
    assert result.diagnosis == "shares_arrays", result.message
    assert "your new W1, b1, W2, b2 are the very arrays of params" in result.message


def test_a_view_of_a_pretrained_array_is_shared_too():
    def transfer_params(params, num_classes, seed=0, std=0.01):
        new = reference(params, num_classes, seed, std)
        new["W1"] = params["W1"][:]
        return new
    result = run_check("transfer_params", transfer_params)
    assert result.diagnosis == "shares_arrays" and "your new W1 is the very array" in result.message


def test_params_changed_in_place_and_returned():
    def transfer_params(params, num_classes, seed=0, std=0.01):
        L = last(params)
        params[f"W{L}"] = np.random.default_rng(seed).normal(0.0, std, (params[f"W{L}"].shape[0], num_classes))
        params[f"W{L}"] = params[f"W{L}"].astype(params["W1"].dtype)
        params[f"b{L}"] = np.zeros(num_classes, params["W1"].dtype)
        return params
    result = run_check("transfer_params", transfer_params)
    assert result.diagnosis == "returns_params" and "returns the very dict it was given" in result.message


def test_params_changed_in_place_then_copied():
    def transfer_params(params, num_classes, seed=0, std=0.01):
        params["b1"] += 0   # harmless
        params["extra"] = 1
        new = reference({k: v for k, v in params.items() if k != "extra"}, num_classes, seed, std)
        return new
    result = run_check("transfer_params", transfer_params)
    assert result.diagnosis == "mutated_input" and "changed its input params in place" in result.message


def test_a_changed_dtype_is_a_slip():
    result = run_check("transfer_params", student(dtype=False))
    assert result.diagnosis == "wrong_dtype" and "has dtype float64 but the pretrained" in result.message


@pytest.mark.parametrize("draw, diagnosis", [("unseeded", "seed_ignored"), ("fixed_seed", "seed_fixed")])
def test_the_seed_decides_the_head(draw, diagnosis):
    result = run_check("transfer_params", student(draw=draw))
    assert result.diagnosis == diagnosis or diagnosis in result.slips, result.message


def test_counting_layers_as_half_the_keys_hears_about_batchnorm():
    result = run_check("transfer_params", student(count="half"))
    assert result.diagnosis == "error" and "len(params) // 2 is not the number of layers" in result.message


def test_missing_or_extra_keys():
    def transfer_params(params, num_classes, seed=0, std=0.01):
        new = reference(params, num_classes, seed, std)
        del new["b1"]
        new["head"] = new.pop("W1")
        return new
    result = run_check("transfer_params", transfer_params)
    assert result.diagnosis == "wrong_keys" and "lacks ['W1', 'b1'] and has ['head']" in result.message


def test_a_list_is_a_wrong_type():
    result = run_check("transfer_params", lambda params, num_classes, seed=0, std=0.01: list(params.values()))
    assert result.diagnosis == "wrong_type" and "return a dict of arrays" in result.message


def test_the_reference_rejects_bad_input():
    params = {"W1": np.zeros((3, 2)), "b1": np.zeros(2)}
    with pytest.raises(ValueError, match=r"params has no weight W1, W2, \.\.\.; its keys are \['b1'\]"):
        reference({"b1": np.zeros(2)}, 3)
    with pytest.raises(ValueError, match="num_classes must be a whole number >= 1, got 0"):
        reference(params, 0)


def test_the_reference_copies_and_replaces_only_the_head():
    rng = np.random.default_rng(0)
    params = {"W1": rng.normal(size=(4, 3)).astype(np.float32), "b1": np.ones(3, np.float32),
              "gamma1": np.ones(3, np.float32), "beta1": np.zeros(3, np.float32),
              "W2": rng.normal(size=(3, 2)).astype(np.float32), "b2": np.ones(2, np.float32)}
    saved = {k: v.copy() for k, v in params.items()}
    new = reference(params, 5, seed=3, std=0.1)
    assert list(new) == list(params)
    assert all(np.array_equal(params[k], saved[k]) for k in params)
    assert all(not np.shares_memory(new[k], params[k]) for k in params)
    assert all(np.array_equal(new[k], params[k]) for k in ("W1", "b1", "gamma1", "beta1"))
    assert new["W2"].dtype == np.float32 and new["W2"].shape == (3, 5)
    assert np.array_equal(new["W2"], np.random.default_rng(3).normal(0.0, 0.1, (3, 5)).astype(np.float32))
    assert np.array_equal(new["b2"], np.zeros(5, np.float32)) and new["b2"].dtype == np.float32


def test_the_grader_sees_shared_arrays_across_the_wire():
    hidden = load_hidden(course_root() / "tests" / "hidden")["transfer_params"]
    outcomes = grade(hidden, local_functions({"transfer_params": student(copy=False)}))
    failed = [o for o in outcomes if not o.passed]
    assert failed and all("are the very arrays of params" in o.hint for o in failed), [o.hint for o in outcomes]
    assert all(o.passed for o in grade(hidden, local_functions({"transfer_params": reference})))
