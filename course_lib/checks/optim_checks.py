"""Self-checks of notebooks 02 to 04: the update rules, ``ewma``, the learning-rate schedules and clipping.

The protocols say how each kind of function is called on a stored case; the cases, answers
and mistakes are in ``data/<exercise>.json`` (built from ``optim_cases.py``).
"""

import numpy as np

from .framework import (Finding, Observation, Protocol, call_student, define, same, shape_finding, snapshot,
                        type_name, unpack)

__all__ = [
    "UpdateRule", "Series", "Schedule",
    "check_sgd", "check_sgd_momentum", "check_nesterov", "check_adagrad", "check_rmsprop", "check_adam",
    "check_ewma", "check_step_decay", "check_exponential_decay", "check_inverse_time_decay",
    "check_cosine_restarts", "GlobalClip", "check_adamw", "check_warmup_cosine", "check_clip_by_global_norm",
]

_NEW_ARRAYS = "Compute new arrays (next_w = w - ...), never `w -= ...`."
_NEW_CONFIG = ("start from a copy, `config = {} if config is None else dict(config)`, fill in the defaults, "
               "and return that new dict.")


class UpdateRule(Protocol):
    """``next_w, config = rule(w, dw, config)``, once per gradient in ``dws``.

    Each call gets copies of ``w`` and ``dw`` and the config the previous call returned
    (the case's own config, possibly None or partial, on the first call), as a training
    loop would. Outputs: ``steps`` (K, *w.shape), ``next_w - w`` for each of the K calls,
    and the state the last call returned, ``config['<key>']`` for each state key it holds
    (a key it lacks is a slip, ``state_not_returned``, and that output is left out).

    inputs: ``w`` (array), ``dws`` (K, *w.shape), ``config`` (dict or None).
    """

    def __init__(self, hyperparameters, state):
        self.hyperparameters = tuple(hyperparameters)
        self.state = tuple(state)

    def run(self, fn, inputs):
        w, config = inputs["w"], snapshot(inputs["config"])
        steps, dtypes, problems = [], {}, []
        for dw in inputs["dws"]:
            w_arg, dw_arg = w.copy(), dw.copy()
            objects, values = (None, None) if config is None else (dict(config), snapshot(config))
            next_w, new_config = self._unpack(call_student(fn, w_arg, dw_arg, config), w)
            problems += self.unchanged("w", w, w_arg, _NEW_ARRAYS) + self.unchanged("dw", dw, dw_arg, _NEW_ARRAYS)
            problems += self._config_problems(objects, values, config, new_config) + self._missing(new_config)
            steps.append(next_w.astype(np.float64) - w.astype(np.float64))
            dtypes["next_w"] = str(next_w.dtype)
            w, config = next_w.astype(w.dtype), new_config
        outputs = {"steps": np.stack(steps)}
        for key in (k for k in self.state if k in config):
            value = self.array(config[key], f"config[{key!r}]")
            if key != "t" and value.shape != w.shape:
                raise shape_finding(f"config[{key!r}]", value.shape, "w", w.shape,
                                    "keep one entry of state per weight (np.zeros_like(w) to start).")
            outputs[f"config[{key!r}]"] = value
            if key != "t":
                dtypes[f"config[{key!r}]"] = str(np.asarray(config[key]).dtype)
        return Observation(outputs, dtypes, problems)

    def _unpack(self, result, w):
        next_w, config = unpack(result, "`next_w, config`", 2)
        if not isinstance(config, dict):
            raise Finding("wrong_type", f"the config you return should be a dict, got {type_name(config)}.")
        if not isinstance(next_w, np.ndarray):
            raise Finding("wrong_type", f"next_w should be a NumPy array like w, got {type_name(next_w)}.")
        self.array(next_w, "next_w")
        if next_w.shape != w.shape:
            raise shape_finding("next_w", next_w.shape, "w", w.shape, "next_w must have the shape of w.")
        return next_w, config

    def _missing(self, config):
        """Slips of a returned config: state or hyperparameters it lacks (the next call gets it as it is)."""
        missing_state = [k for k in self.state if k not in config]
        missing = [k for k in self.hyperparameters if k not in config]
        found = []
        if missing_state:
            key = missing_state[0]
            found.append(Finding("state_not_returned", f"the config you return has no {_keys(missing_state)}, so "
                                 f"the state is lost between steps: store it, config[{key!r}] = {key}."))
        if missing:
            found.append(Finding("config_incomplete", f"the config you return has no {_keys(missing)}: fill in "
                                 f"every missing hyperparameter with its default, so the next call uses the same "
                                 f"values."))
        return found

    def _config_problems(self, objects, values, given, returned):
        """Problems with the config dict ``given`` to a call: ``objects`` are its values before
        the call (the objects themselves), ``values`` a deep copy of them."""
        if given is None:
            return []
        in_place = [k for k, v in objects.items() if isinstance(v, np.ndarray) and not same(v, values[k])]
        if in_place:
            key = in_place[0]
            return [Finding("mutated_input", f"config[{key!r}] was updated in place (e.g. `{key} += ...`), which "
                            f"changes the caller's array: compute a new one, `{key} = ... + ...`.")]
        if returned is given:
            return [Finding("config_not_new", f"the config you return is the very dict you were given: {_NEW_CONFIG}")]
        return self.unchanged("config (the dict)", values, given, _NEW_CONFIG[0].upper() + _NEW_CONFIG[1:])

    def describe(self, output, index):
        name, entry = self._step(output, index)
        return f"{name} at {list(entry)}" if entry else name

    def describe_safely(self, output, index):
        return self._step(output, index)[0]

    @staticmethod
    def _step(output, index):
        """The name of the step (or state) ``index`` points into, and the entry in it."""
        if output == "steps":
            k = index[0] + 1
            return ("first step" if k == 1 else f"step {k}"), index[1:]
        return f"{output} after the last step", index

    def dtype_advice(self, output, got, want):
        how = ("start the state with np.zeros_like(w), not np.zeros(w.shape)" if self.state
               else "a NumPy float64 number times a float32 array is float64: use Python floats")
        return f"{output} has dtype {got} but w has dtype {want}: keep the dtype of w ({how})."


def _keys(keys):
    return " or ".join(repr(k) for k in keys)


class Series(Protocol):
    """``averages = ewma(xs, beta, **kwargs)``, once. Output ``averages``, compared in float64.

    inputs: ``xs`` (array or list, passed as a copy), ``beta``, ``kwargs`` (dict).
    """

    def run(self, fn, inputs):
        xs = inputs["xs"]
        xs_arg = xs.copy()
        averages = call_student(fn, xs_arg, inputs["beta"], **inputs["kwargs"])
        outputs = {"averages": self.array(averages, "the averages you return")}
        problems = self.unchanged("xs", xs, xs_arg, "Write the averages into a new array.")
        return Observation(outputs, {}, problems)

    def describe(self, output, index):
        t = index[0] + 1
        return (f"average {t}" + (f" at {list(index[1:])}" if index[1:] else "")) + f" (after x_{t})"

    def describe_safely(self, output, index):
        return f"average {index[0] + 1}"


_ARRAY_STEPS = ("t may be an int or an array of steps (the notebook plots schedule(t) for t = np.arange(300)), so "
                "compute with NumPy (np.floor_divide, np.exp, np.mod, np.cos), not math, and no `if` on t.")


class Schedule(Protocol):
    """``lr = schedule(lr0, t, **kwargs)`` for each step ``t`` (a Python int), then once with the
    steps as one array (a slip, ``array_steps``, unless it gives one rate per step, the same).
    Output ``learning_rates`` (T,), from the calls step by step.

    inputs: ``lr0``, ``steps`` (T for t = 0 .. T-1, or a list of steps), ``kwargs`` (dict: the
    schedule's other arguments). Messages name a rate by its t, so public cases give ``steps``
    as T.
    """

    def run(self, fn, inputs):
        steps = inputs["steps"]
        ts = list(range(steps)) if isinstance(steps, int) else [int(t) for t in steps]
        rates = np.array([self._rate(fn, inputs, t) for t in ts])
        return Observation({"learning_rates": rates}, {}, self._array_problems(fn, inputs, ts, rates))

    def _rate(self, fn, inputs, t):
        lr = self.array(call_student(fn, inputs["lr0"], t, **inputs["kwargs"]), f"the learning rate at t={t}",
                        "the learning rate at one t")
        if lr.ndim != 0:
            raise Finding("wrong_shape", f"the learning rate at t={t} should be one number, got an array of "
                                         f"shape {lr.shape}.", "the learning rate at one t should be one number.")
        return lr

    def _array_problems(self, fn, inputs, ts, rates):
        """The slip of a schedule that fails when t is an array, as ``[Finding]`` (or none)."""
        try:
            got = self.array(call_student(fn, inputs["lr0"], np.array(ts), **inputs["kwargs"]), "the rates")
        except Finding as finding:
            return [Finding("array_steps", f"with t an array of steps, {finding.message.rstrip('.')}: {_ARRAY_STEPS}",
                            f"with t an array of steps, {finding.safe.rstrip('.')}: {_ARRAY_STEPS}")]
        if got.shape != rates.shape:
            return [Finding("array_steps", f"with t an array of {len(ts)} steps, your function returns shape "
                                           f"{got.shape}, not one rate per step: {_ARRAY_STEPS}",
                            f"with t an array of steps, your function does not return one rate per step: "
                            f"{_ARRAY_STEPS}")]
        if not np.allclose(got, rates, rtol=1e-9, atol=0, equal_nan=True):
            return [Finding("array_steps", f"with t an array of steps, your function gives other rates than step by "
                                           f"step: {_ARRAY_STEPS}")]
        return []

    def describe(self, output, index):
        return f"learning rate at t={index[0]}"

    def describe_safely(self, output, index):
        return "learning rate at one of the steps"


_LR = ("learning_rate",)
check_sgd = define("sgd", UpdateRule(_LR, ()))
check_sgd_momentum = define("sgd_momentum", UpdateRule((*_LR, "momentum"), ("velocity",)))
check_nesterov = define("nesterov", UpdateRule((*_LR, "momentum"), ("velocity",)))
check_adagrad = define("adagrad", UpdateRule((*_LR, "epsilon"), ("cache",)))
check_rmsprop = define("rmsprop", UpdateRule((*_LR, "decay_rate", "epsilon"), ("cache",)))
check_adam = define("adam", UpdateRule((*_LR, "beta1", "beta2", "epsilon"), ("m", "v", "t")))
check_ewma = define("ewma", Series())
check_step_decay = define("step_decay", Schedule())
check_exponential_decay = define("exponential_decay", Schedule())
check_inverse_time_decay = define("inverse_time_decay", Schedule())
check_cosine_restarts = define("cosine_restarts", Schedule())


class GlobalClip(Protocol):
    """``clipped, norm = clip(grads, max_norm)``, once, on a copy of ``grads`` (a dict name -> array).

    Outputs: ``norm`` (the norm returned, a number) and ``clipped[<name>]`` for each array,
    compared in float64. A changed input is a slip (``mutated_input``).

    inputs: ``grads`` (dict name -> array), ``max_norm``.
    """

    def run(self, fn, inputs):
        grads = inputs["grads"]
        given = {name: g.copy() for name, g in grads.items()}
        result = call_student(fn, given, inputs["max_norm"])
        clipped, norm = unpack(result, "`clipped, norm`", 2)
        if not isinstance(clipped, dict):
            raise Finding("wrong_type", f"clipped should be a dict name -> array like grads, got {type_name(clipped)}.")
        missing = [name for name in grads if name not in clipped]
        if missing:
            raise Finding("wrong_type", f"clipped has no {missing[0]!r}: return one array per name in grads.",
                          "clipped lacks one of the names in grads: return one array per name.")
        norm = self.array(norm, "the norm you return")
        if norm.ndim != 0:
            raise Finding("wrong_shape", f"the norm should be one number, got an array of shape {norm.shape}.")
        outputs = {"norm": norm}
        for name, g in grads.items():
            value = self.array(clipped[name], f"clipped[{name!r}]", "one of the clipped arrays")
            if value.shape != g.shape:
                raise shape_finding(f"clipped[{name!r}]", value.shape, f"grads[{name!r}]", g.shape,
                                    "scale each array, keep its shape.")
            outputs[f"clipped[{name!r}]"] = value
        problems = []
        for name, g in grads.items():
            problems += self.unchanged(f"grads[{name!r}]", g, given[name],
                                       "Return new arrays (g * scale), never `g *= scale`.")
        return Observation(outputs, {}, problems)

    def describe(self, output, index):
        return f"{output} at {list(index)}" if index else output

    def describe_safely(self, output, index):
        return "the norm" if output == "norm" else "one of the clipped arrays"


check_adamw = define("adamw", UpdateRule((*_LR, "beta1", "beta2", "epsilon", "weight_decay"), ("m", "v", "t")))
check_warmup_cosine = define("warmup_cosine", Schedule())
check_clip_by_global_norm = define("clip_by_global_norm", GlobalClip())
