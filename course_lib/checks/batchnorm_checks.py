"""Self-checks of notebook 06: ``batchnorm_forward``, ``batchnorm_backward``, ``layernorm_forward``
and ``layernorm_backward``.

The forward is called as a network calls it: one ``bn_param`` dict through a sequence of
batches, its ``mode`` set before each call, so the running statistics it keeps are read
after every call. The backward is checked on the cache of the student's own forward (found
next to the backward, in the notebook that defines both), since only that forward knows
what its cache holds. The cases and the known mistakes are in ``data/batchnorm_forward.json``
and ``data/batchnorm_backward.json`` (built from ``batchnorm_cases.py``), and likewise for
layernorm, whose backward protocol is batchnorm's with the other forward.
"""

import numpy as np

from .framework import (Finding, Observation, Protocol, call_student, define, shape_finding, sibling, snapshot,
                        unpack)

__all__ = ["BatchnormForward", "BatchnormBackward", "LayernormForward", "check_batchnorm_forward",
           "check_batchnorm_backward", "check_layernorm_forward", "check_layernorm_backward"]

_NEW_ARRAYS = "Compute new arrays (x_hat = (x - mean) / ...), never `x -= ...`."


def _stub(fn):
    """True when ``fn`` raises NotImplementedError before it reads its arguments, as a release stub does."""
    try:
        call_student(fn, None, None)
    except Finding as finding:
        return finding.diagnosis == "not_implemented"
    return False


class BatchnormForward(Protocol):
    """``out, cache = batchnorm_forward(x, gamma, beta, bn_param)`` for each batch of ``xs``,
    with ``bn_param['mode']`` set to the batch's mode; the same dict goes to every call.

    inputs: ``gamma``, ``beta`` (D,); ``bn_param`` (the dict's initial keys, without mode);
    ``modes`` (K modes); ``xs`` (K, N, D); or ``bad_mode`` (a mode to be rejected), ``x``.
    Outputs: ``out`` (K, N, D) and ``running_mean``, ``running_var`` (K, D), read from
    ``bn_param`` after each call; for a ``bad_mode`` case, ``rejected`` (1 for a ValueError).
    """

    def run(self, fn, inputs):
        gamma, beta, bn_param = inputs["gamma"], inputs["beta"], snapshot(inputs["bn_param"])
        if "bad_mode" in inputs:
            return self._rejects(fn, inputs["x"], gamma, beta, {**bn_param, "mode": inputs["bad_mode"]})
        outputs, problems = {"out": [], "running_mean": [], "running_var": []}, []
        for mode, x in zip(inputs["modes"], inputs["xs"]):
            bn_param["mode"] = mode
            args = x.copy(), gamma.copy(), beta.copy()
            out, _ = unpack(call_student(fn, *args, bn_param), "`out, cache`", 2)
            out = self.array(out, "out")
            if out.shape != x.shape:
                raise shape_finding("out", out.shape, "x", x.shape, "out should have the shape of x.")
            outputs["out"].append(out)
            for name, given, passed in zip(("x", "gamma", "beta"), (x, gamma, beta), args):
                problems += self.unchanged(name, given, passed, _NEW_ARRAYS)
            for key in ("running_mean", "running_var"):
                outputs[key].append(self._running(bn_param, key, mode, x.shape[1]))
        return Observation({k: np.stack(v) for k, v in outputs.items()}, {}, problems)

    def _running(self, bn_param, key, mode, d):
        if key not in bn_param:
            start = "zeros" if key == "running_mean" else "ones"
            raise Finding("running_not_stored",
                          f"after a {mode}-mode call bn_param has no {key!r}: keep the running statistics in the "
                          f"bn_param dict you are given (bn_param[{key!r}] = ...), starting from {start}(D).")
        value = self.array(bn_param[key], f"bn_param[{key!r}]")
        if value.shape != (d,):
            raise shape_finding(f"bn_param[{key!r}]", value.shape, "gamma", (d,),
                                "one running statistic per feature, a mean over the batch (axis 0).")
        return value

    def _rejects(self, fn, x, gamma, beta, bn_param):
        try:
            call_student(fn, x.copy(), gamma.copy(), beta.copy(), bn_param)
        except Finding as finding:
            if finding.raised != "ValueError":
                raise
        else:
            raise Finding("bad_mode_accepted", f"with bn_param['mode'] = {bn_param['mode']!r} your function returned "
                                               f"normally: raise ValueError naming the allowed modes, 'train' and "
                                               f"'test', so that a typo fails at once.")
        return Observation({"rejected": np.array(1.0)})

    def describe(self, output, index):
        call, entry = index[0] + 1, list(index[1:])
        if output == "out":
            return f"out of call {call} at {entry}"
        return f"bn_param[{output!r}] after call {call} at {entry}"


class BatchnormBackward(Protocol):
    """``dx, dgamma, dbeta = batchnorm_backward(dout, cache)`` with ``cache`` from the student's
    ``batchnorm_forward(x, gamma, beta, bn_param)``, the function of that name defined next to
    the backward (in the notebook both are defined in: :func:`~.framework.sibling`).

    inputs: ``x`` (N, D), ``gamma``, ``beta`` (D,), ``bn_param``, ``dout`` (N, D) and ``out``,
    the right output of the forward (a wrong forward is reported as such).
    Outputs: ``dx`` (N, D), ``dgamma``, ``dbeta`` (D,).
    """

    def __init__(self, forward="batchnorm_forward", param="bn_param"):
        self.forward, self.param = forward, param

    def run(self, fn, inputs):
        x, gamma, beta, dout = inputs["x"], inputs["gamma"], inputs["beta"], inputs["dout"]
        cache = self._student_cache(fn, inputs)
        dout_arg = dout.copy()
        result = unpack(call_student(fn, dout_arg, cache), "`dx, dgamma, dbeta`", 3)
        outputs = {name: self.array(value, name) for name, value in zip(("dx", "dgamma", "dbeta"), result)}
        problems = self.unchanged("dout", dout, dout_arg, "Compute new arrays, never `dout *= ...`.")
        return Observation(outputs, {}, problems)

    def _student_cache(self, fn, inputs):
        name = self.forward
        forward = sibling(fn, name)
        if not callable(forward):
            raise Finding("no_forward", f"this check runs your {name} to make the cache your backward "
                                        f"reads: define {name} (the exercise above) first.")
        try:
            result = call_student(forward, inputs["x"].copy(), inputs["gamma"].copy(), inputs["beta"].copy(),
                                  snapshot(inputs[self.param]))
            out, cache = unpack(result, "`out, cache`", 2)
            out = self.array(out, "out")
        except Finding as finding:
            if finding.diagnosis != "not_implemented":
                raise Finding(f"forward_{finding.diagnosis}", f"your {name}, which makes the cache: "
                                                              f"{finding.message}") from None
            if _stub(fn):
                raise
            raise Finding("forward_not_implemented", f"this check runs your {name} to make the cache your "
                                                     f"backward reads, and it is not implemented yet: write it "
                                                     f"first.") from None
        want = inputs["out"]
        if out.shape != want.shape or not np.allclose(out, want, rtol=1e-6, atol=1e-9):
            raise Finding("forward_wrong", f"your {name} gives a wrong out here, and the backward is checked "
                                           f"on the cache it makes: pass check_{name} first.")
        return cache

    def describe(self, output, index):
        return f"{output} at {list(index)}" if index else output


class LayernormForward(Protocol):
    """``out, cache = layernorm_forward(x, gamma, beta, ln_param)``, called once.

    inputs: ``x`` (N, D), ``gamma``, ``beta`` (D,), ``ln_param`` (eps, or nothing).
    Outputs: ``out`` (N, D). ``x``, ``gamma``, ``beta`` and ``ln_param`` must be left unchanged
    (layernorm keeps no state).
    """

    def run(self, fn, inputs):
        x, gamma, beta, ln_param = inputs["x"], inputs["gamma"], inputs["beta"], inputs["ln_param"]
        args, param = (x.copy(), gamma.copy(), beta.copy()), snapshot(ln_param)
        out, _ = unpack(call_student(fn, *args, param), "`out, cache`", 2)
        out = self.array(out, "out")
        if out.shape != x.shape:
            raise shape_finding("out", out.shape, "x", x.shape, "out should have the shape of x.")
        problems = []
        for name, given, passed in zip(("x", "gamma", "beta"), (x, gamma, beta), args):
            problems += self.unchanged(name, given, passed, _NEW_ARRAYS)
        problems += self.unchanged("ln_param", ln_param, param,
                                   "layernorm keeps no running statistics: only read ln_param.")
        return Observation({"out": out}, {}, problems)

    def describe(self, output, index):
        return f"{output} at {list(index)}" if index else output


check_batchnorm_forward = define("batchnorm_forward", BatchnormForward())
check_batchnorm_backward = define("batchnorm_backward", BatchnormBackward())
check_layernorm_forward = define("layernorm_forward", LayernormForward())
check_layernorm_backward = define("layernorm_backward", BatchnormBackward("layernorm_forward", "ln_param"))
