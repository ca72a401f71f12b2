"""Self-checks of notebook 07: ``l2_penalty``, ``dropout_forward`` and ``dropout_backward``.

``l2_penalty`` is deterministic: its loss and every gradient are compared with stored values.

Dropout is random, and a right mask may be drawn in many ways (``rng.random(shape) >= p``,
``rng.random(shape) < 1 - p``, ``rng.binomial(1, 1 - p, shape)``, ...), so its checks read
statistics of large arrays (60,000 and 100,000 units), never the mask itself: the fraction of
units kept, the factor the kept ones are scaled by, what test mode does, and (for the backward)
whether the gradient flows through the forward's own mask. Around those, the contract: the
same seed gives the same mask and another seed another one, numpy's global generator is left
alone, and no input is changed in place. The backward is checked on the cache of the student's
own forward (the ``dropout_forward`` next to it, in the notebook that defines both). The cases
and the known mistakes are in ``data/<exercise>.json`` (built from ``regularization_cases.py``).
"""

import numpy as np

from .framework import (Finding, Observation, Protocol, call_student, define, global_rng_problem, shape_finding,
                        sibling, watch_global_rng)

__all__ = [
    "Penalty", "DropoutForward", "DropoutBackward", "dropout_input",
    "check_l2_penalty", "check_dropout_forward", "check_dropout_backward",
]


def _unpack(result, what, count):
    """The ``count`` values of a tuple the student's function returned, or a Finding."""
    if not (isinstance(result, (tuple, list)) and len(result) == count):
        got = f"{len(result)} values" if isinstance(result, (tuple, list)) else f"a single {type(result).__name__}"
        raise Finding("wrong_type", f"return {what} ({count} values), not {got}.")
    return result


# --------------------------------------------------------------------------------------
# The L2 penalty
# --------------------------------------------------------------------------------------

class Penalty(Protocol):
    """``loss, grads = l2_penalty(weights, lam)``, once.

    inputs: ``weights`` (a list of arrays, passed as copies), ``lam``.
    Outputs: ``loss`` (a number) and ``grads[i]`` for each weight, shaped like it.
    """

    def run(self, fn, inputs):
        weights = inputs["weights"]
        passed = [w.copy() for w in weights]
        loss, grads = _unpack(call_student(fn, passed, inputs["lam"]), "`loss, grads`", 2)
        loss = self.array(loss, "the loss you return")
        if loss.ndim != 0:
            one = "the loss should be one number (the sum over all the weights)"
            raise Finding("wrong_shape", f"{one}, got an array of shape {loss.shape}.", f"{one}, not an array.")
        if isinstance(grads, np.ndarray):
            advice = ("return a list with one gradient per weight, [lam * W for W in weights], so that grads[i] has "
                      "the shape of weights[i].")
            raise Finding("grads_one_array", f"grads is one array of shape {grads.shape}: {advice}",
                          f"grads is one array: {advice}")
        if not isinstance(grads, (list, tuple)) or len(grads) != len(weights):
            got = f"{len(grads)}" if isinstance(grads, (list, tuple)) else f"a {type(grads).__name__}"
            raise Finding("wrong_type", f"grads should be a list of {len(weights)} arrays, one per weight; got {got}.",
                          "grads should be a list with one array per weight.")
        outputs, dtypes = {"loss": loss}, {}
        for i, (w, g) in enumerate(zip(weights, grads)):
            value = self.array(g, f"grads[{i}]")
            if value.shape != w.shape:
                raise shape_finding(f"grads[{i}]", value.shape, f"weights[{i}]", w.shape,
                                    "each gradient has the shape of its weight.")
            outputs[f"grads[{i}]"] = value
            dtypes[f"grads[{i}]"] = str(np.asarray(g).dtype)
        problems = [p for i, (w, c) in enumerate(zip(weights, passed))
                    for p in self.unchanged(f"weights[{i}]", w, c, "Compute new arrays (lam * W), never `W *= lam`.")]
        return Observation(outputs, dtypes, problems)

    def describe(self, output, index):
        return f"{output} at {list(index)}" if index else output

    def dtype_advice(self, output, got, want):
        return f"{output} has dtype {got} but its weight has dtype {want}: lam * W keeps the dtype of W."


# --------------------------------------------------------------------------------------
# Dropout
# --------------------------------------------------------------------------------------

def dropout_input(shape, dtype):
    """The x of a dropout case: numbers in [0.5, 1.5), none zero, so that a dropped unit
    (0) and a kept one (x times a factor) are told apart. The same x for the same shape."""
    return (0.5 + np.random.default_rng(0).random(shape)).astype(dtype)


def _kept(out):
    return out != 0


_SAME_SEED = ("two calls with the same seed dropped different units: make the mask from the seed, "
              "rng = np.random.default_rng(dropout_param.get('seed')), so that a seed gives one mask.")
_OTHER_SEED = ("calls with different seeds dropped the same units: the seed in dropout_param is ignored; make "
               "the mask from it, rng = np.random.default_rng(dropout_param.get('seed')).")
_GLOBAL_ADVICE = "draw the mask from a generator of your own, rng = np.random.default_rng(dropout_param.get('seed'))."
_MEASURES = {
    "kept_fraction": "fraction of units kept in train mode",
    "kept_scale": "factor out / x of the kept units in train mode",
    "test_scale": "mean of out / x in test mode",
    "test_unchanged": "fraction of units passed unchanged in test mode",
    "flows_through_mask": "fraction of units where dx = dout * out / x (train mode)",
    "kept_gradient_scale": "mean of (dx / dout) / (out / x) over the kept units (train mode)",
    "test_passes_dout": "fraction of units where dx = dout * out / x in test mode (dx = dout)",
}


def _forward(fn, x, p, mode, seed, what="your function"):
    """``out`` of one call of a dropout forward on a copy of ``x``, and the copy (to see changes)."""
    passed = x.copy()
    out, cache = _unpack(call_student(fn, passed, {"p": p, "mode": mode, "seed": seed}), "`out, cache`", 2)
    value = Protocol.array(out, f"the out {what} returns")
    if value.shape != x.shape:
        raise shape_finding("out", value.shape, "x", x.shape, "dropout keeps the shape.")
    return out, value, cache, passed


class DropoutForward(Protocol):
    """``out, cache = dropout_forward(x, {"p": p, "mode": mode, "seed": seed})`` on a large x:
    twice in train mode with ``seed``, once with ``seed + 1``, once in test mode.

    inputs: ``shape``, ``dtype``, ``p``, ``seed``. Outputs (numbers of order 1): the fraction
    of units kept, the factor the kept units are multiplied by, the mean of out / x in test
    mode and the fraction of units test mode passes unchanged.
    """

    def run(self, fn, inputs):
        x = dropout_input(tuple(inputs["shape"]), inputs["dtype"])
        p, seed = inputs["p"], inputs["seed"]
        with watch_global_rng() as watch:
            raw, out, _, passed = _forward(fn, x, p, "train", seed)
            _, again, _, _ = _forward(fn, x, p, "train", seed)
            _, other, _, _ = _forward(fn, x, p, "train", seed + 1)
            raw_test, test, _, passed_test = _forward(fn, x, p, "test", seed)
        kept = _kept(out)
        outputs = {
            "kept_fraction": np.array(kept.mean()),
            "kept_scale": np.array(np.mean(out[kept] / x[kept]) if kept.any() else 0.0),
            "test_scale": np.array((test / x).mean()),
            "test_unchanged": np.array(np.isclose(test, x, rtol=1e-6, atol=0).mean()),
        }
        problems = [global_rng_problem(_GLOBAL_ADVICE)] if watch.touched else []
        problems += self.unchanged("x", x, passed, "Compute a new array, out = x * mask, never `x *= mask`.")
        problems += self.unchanged("x", x, passed_test, "In test mode return x itself or a copy, unchanged.")
        if not np.array_equal(kept, _kept(again)):
            problems.append(Finding("seed_ignored", _SAME_SEED))
        elif np.array_equal(kept, _kept(other)):
            problems.append(Finding("seed_fixed", _OTHER_SEED))
        dtypes = {"out": str(np.asarray(raw).dtype), "out (test mode)": str(np.asarray(raw_test).dtype)}
        return Observation(outputs, dtypes, problems)

    def describe(self, output, index):
        return _MEASURES[output]

    def dtype_advice(self, output, got, want):
        return (f"{output} has dtype {got} but x has dtype {want}: make the mask in the dtype of x, "
                f"(... >= p).astype(x.dtype) / (1 - p), so that a float32 network stays float32.")


def _student_forward(fn):
    """The ``dropout_forward`` defined next to the backward ``fn`` (in the same notebook or module)."""
    forward = sibling(fn, "dropout_forward")
    if not callable(forward):
        raise Finding("no_forward", "this check runs your dropout_forward to make the cache your backward reads: "
                                    "define dropout_forward (the exercise above) first.")
    return forward


class DropoutBackward(Protocol):
    """``dx = dropout_backward(dout, cache)`` with ``cache`` from the student's own
    ``dropout_forward(x, {"p": p, "mode": mode, "seed": seed})``, in train and in test mode.

    inputs: ``shape``, ``dtype``, ``p``, ``seed``. Outputs (numbers of order 1): the fraction of
    units where dx = dout * out / x (the gradient flows through the forward's own mask and
    scale), the mean of (dx / dout) / (out / x) over the kept units, and the fraction of units
    where test mode passes dout unchanged.
    """

    def run(self, fn, inputs):
        shape, p, seed = tuple(inputs["shape"]), inputs["p"], inputs["seed"]
        x = dropout_input(shape, inputs["dtype"])
        dout = (np.random.default_rng(1).random(shape) - 1.5).astype(inputs["dtype"])   # in [-1.5, -0.5)
        forward = _student_forward(fn)
        with watch_global_rng() as watch:
            train_out, train_cache = self._forward(forward, fn, x, p, "train", seed)
            test_out, test_cache = self._forward(forward, fn, x, p, "test", seed)
            dx, passed = self._backward(fn, dout, train_cache)
            dx_test, passed_test = self._backward(fn, dout, test_cache)
        through = dout * (train_out / x)
        kept = _kept(train_out)
        outputs = {
            "flows_through_mask": np.array(np.isclose(dx, through, rtol=1e-5, atol=1e-7).mean()),
            "kept_gradient_scale": np.array(np.mean((dx[kept] / dout[kept]) / (train_out[kept] / x[kept]))
                                            if kept.any() else 0.0),
            "test_passes_dout": np.array(np.isclose(dx_test, dout * (test_out / x), rtol=1e-5, atol=1e-7).mean()),
        }
        problems = [global_rng_problem("the backward needs no new random numbers: multiply dout by the mask the "
                                       "forward kept in its cache.")] if watch.touched else []
        for given in (passed, passed_test):
            problems += self.unchanged("dout", dout, given, "Compute a new array, dx = dout * mask, never `dout *= ...`.")
        return Observation(outputs, {}, problems)

    def _forward(self, forward, fn, x, p, mode, seed):
        try:
            _, out, cache, _ = _forward(forward, x, p, mode, seed, "your dropout_forward")
            return out, cache
        except Finding as finding:
            if finding.diagnosis == "not_implemented":
                self._implemented(fn, x)
                raise Finding("forward_not_implemented", "this check runs your dropout_forward to make the cache "
                                                         "your backward reads: implement dropout_forward first.") from None
            raise Finding(f"forward_{finding.diagnosis}", f"your dropout_forward, which makes the cache: "
                                                          f"{finding.message}") from None

    @staticmethod
    def _implemented(fn, x):
        """Report "not implemented yet" if the backward itself is still the stub."""
        try:
            call_student(fn, x.copy(), None)
        except Finding as finding:
            if finding.diagnosis == "not_implemented":
                raise
        # any other outcome: the backward has code of its own, and needs a real cache

    def _backward(self, fn, dout, cache):
        passed = dout.copy()
        dx = self.array(call_student(fn, passed, cache), "the dx you return")
        if dx.shape != dout.shape:
            raise shape_finding("dx", dx.shape, "dout", dout.shape, "dx has the shape of x.")
        return dx, passed

    def describe(self, output, index):
        return _MEASURES[output]


check_l2_penalty = define("l2_penalty", Penalty())
check_dropout_forward = define("dropout_forward", DropoutForward())
check_dropout_backward = define("dropout_backward", DropoutBackward())
