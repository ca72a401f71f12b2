"""Self-checks of notebook 02: the update rules, ``ewma`` and the learning-rate schedules.

The protocols say how each kind of function is called on a stored case; the cases, answers
and mistakes are in ``data/<exercise>.json`` (built from ``optim_cases.py``).
"""

import numpy as np

from .framework import Finding, Observation, Protocol, call_student, define, same, snapshot, type_name

__all__ = [
    "UpdateRule", "Series", "Schedule",
    "check_sgd", "check_sgd_momentum", "check_nesterov", "check_adagrad", "check_rmsprop", "check_adam",
    "check_ewma", "check_step_decay", "check_exponential_decay", "check_inverse_time_decay",
    "check_cosine_restarts",
]

_NEW_ARRAYS = "Compute new arrays (next_w = w - ...), never `w -= ...`."
_NEW_CONFIG = ("start from a copy, `config = {} if config is None else dict(config)`, fill in the defaults, "
               "and return that new dict.")


class UpdateRule(Protocol):
    """``next_w, config = rule(w, dw, config)``, once per gradient in ``dws``.

    Each call gets copies of ``w`` and ``dw`` and the config the previous call returned
    (the case's own config, possibly None or partial, on the first call), as a training
    loop would. Outputs: ``steps`` (K, *w.shape), ``next_w - w`` for each of the K calls,
    and the state the last call returned, ``config['<key>']`` for each state key.

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
            result = call_student(fn, w_arg, dw_arg, config)
            next_w, new_config = self._unpack(result, w)
            problems += self.unchanged("w", w, w_arg, _NEW_ARRAYS) + self.unchanged("dw", dw, dw_arg, _NEW_ARRAYS)
            problems += self._config_problems(objects, values, config, new_config)
            steps.append(next_w.astype(np.float64) - w.astype(np.float64))
            dtypes["next_w"] = str(next_w.dtype)
            w, config = next_w.astype(w.dtype), new_config
        outputs = {"steps": np.stack(steps)}
        for key in self.state:
            value = self.array(config[key], f"config[{key!r}]")
            if key != "t" and value.shape != w.shape:
                raise Finding("wrong_shape", f"config[{key!r}] has shape {value.shape} but w has shape {w.shape}: "
                                             f"keep one entry of state per weight (np.zeros_like(w) to start).")
            outputs[f"config[{key!r}]"] = value
            if key != "t":
                dtypes[f"config[{key!r}]"] = str(np.asarray(config[key]).dtype)
        return Observation(outputs, dtypes, problems)

    def _unpack(self, result, w):
        if not (isinstance(result, tuple) and len(result) == 2):
            got = f"a tuple of {len(result)} values" if isinstance(result, tuple) else type_name(result)
            raise Finding("wrong_type", f"return `next_w, config` (a tuple of 2), not {got}.")
        next_w, config = result
        if not isinstance(config, dict):
            raise Finding("wrong_type", f"the config you return should be a dict, got {type_name(config)}.")
        if not isinstance(next_w, np.ndarray):
            raise Finding("wrong_type", f"next_w should be a NumPy array like w, got {type_name(next_w)}.")
        self.array(next_w, "next_w")
        if next_w.shape != w.shape:
            raise Finding("wrong_shape", f"next_w has shape {next_w.shape} but w has shape {w.shape}: "
                                         f"next_w must have the shape of w.")
        missing_state = [k for k in self.state if k not in config]
        if missing_state:
            raise Finding("state_not_returned", f"the config you return has no {_keys(missing_state)}, so the state "
                          f"is lost between steps: store it, e.g. config[{missing_state[0]!r}] = ...")
        missing = [k for k in self.hyperparameters if k not in config]
        if missing:
            raise Finding("config_incomplete", f"the config you return has no {_keys(missing)}: fill in every "
                          f"missing hyperparameter with its default, so the next call uses the same values.")
        return next_w, config

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
        if output == "steps":
            k, entry = index[0] + 1, index[1:]
            name = "first step" if k == 1 else f"step {k}"
        else:
            name, entry = f"{output} after the last step", index
        return f"{name} at {list(entry)}" if entry else name

    def dtype_advice(self, output, got, want):
        how = ("start the state with np.zeros_like(w), not np.zeros(w.shape)" if self.state
               else "a NumPy float64 number times a float32 array is float64: use Python floats")
        return f"{output} has dtype {got} but w has dtype {want}: keep the dtype of w ({how})."


def _keys(keys):
    return " or ".join(repr(k) for k in keys)


class Series(Protocol):
    """``averages = ewma(xs, beta, **kwargs)``, once. Output ``averages``, compared in float64.

    inputs: ``xs`` (array, passed as a copy), ``beta``, ``kwargs`` (dict).
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


class Schedule(Protocol):
    """``lr = schedule(lr0, t, **kwargs)`` for each step ``t = 0 .. T-1`` (a Python int).
    Output ``learning_rates`` (T,).

    inputs: ``lr0``, ``steps`` (T), ``kwargs`` (dict: the schedule's other arguments).
    """

    def run(self, fn, inputs):
        rates = []
        for t in range(inputs["steps"]):
            lr = call_student(fn, inputs["lr0"], t, **inputs["kwargs"])
            lr = self.array(lr, f"the learning rate at t={t}")
            if lr.ndim != 0:
                raise Finding("wrong_shape", f"the learning rate at t={t} should be one number, got an array of "
                                             f"shape {lr.shape}.")
            rates.append(lr)
        return Observation({"learning_rates": np.array(rates)})

    def describe(self, output, index):
        return f"learning rate at t={index[0]}"


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
