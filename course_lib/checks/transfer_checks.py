"""Self-check of notebook 08: ``transfer_params``.

``new = transfer_params(params, num_classes, seed=0, std=0.01)`` follows a convention the
notebook states, so its outputs are compared exactly: every array of ``new`` but the last
layer's equals the pretrained one, the new head ``WL`` is
``np.random.default_rng(seed).normal(0.0, std, size=(H, num_classes))`` in the dtype of the old
``WL``, and ``bL`` is zeros. Around those, the contract: ``new`` shares no array with
``params`` (fine-tuning the new network must not change the pretrained one), ``params`` is not
changed, the same seed gives the same head and another seed another one, numpy's global
generator is left alone, and every array keeps its dtype. The cases and the known mistakes are
in ``data/transfer_params.json`` (built from ``transfer_cases.py``).
"""

import re

import numpy as np

from .framework import (Finding, Observation, Protocol, call_student, define, global_rng_problem, snapshot,
                        watch_global_rng)

__all__ = ["TransferParams", "last_layer", "check_transfer_params"]

_WEIGHT = re.compile(r"W(\d+)")

_COPY = ("copy every array you keep, {k: v.copy() for k, v in params.items()}, then replace the head: dict(params) "
         "or params.copy() copies the dict but not its arrays.")


def last_layer(params):
    """L, the largest i of a key ``Wi`` of ``params``."""
    return max(int(m.group(1)) for key in params if (m := _WEIGHT.fullmatch(key)))


def _shared(new, given):
    """The keys of ``new`` whose array is an array of ``given`` (or shares its memory)."""
    arrays = [v for v in given.values() if isinstance(v, np.ndarray)]
    return [key for key, value in new.items() if isinstance(value, np.ndarray)
            and any(value is a or np.shares_memory(value, a) for a in arrays)]


class TransferParams(Protocol):
    """``new = transfer_params(params, num_classes, **kwargs)`` on a copy of ``params``, three
    times: ``kwargs`` as given twice, then with ``seed + 1`` (to see that the seed decides the head).

    inputs: ``params`` (dict of arrays), ``num_classes``, ``kwargs`` (``seed``, ``std`` or neither).
    Outputs: ``head`` (the new ``WL``) and ``head bias`` (the new ``bL``), then every other array
    of ``new``, by its key.
    """

    def run(self, fn, inputs):
        params, num_classes, kwargs = inputs["params"], inputs["num_classes"], inputs["kwargs"]
        last = last_layer(params)
        head, bias = f"W{last}", f"b{last}"
        passed = snapshot(params)
        with watch_global_rng() as watch:
            new = call_student(fn, passed, num_classes, **kwargs)
            again = call_student(fn, snapshot(params), num_classes, **kwargs)
            other = call_student(fn, snapshot(params), num_classes, **{**kwargs, "seed": kwargs.get("seed", 0) + 1})
        for result in (new, again, other):
            self._readable(result, params)
        kept = [key for key in params if key not in (head, bias)]
        outputs = {"head": self.array(new[head], f"your new {head}", "your new head"),
                   "head bias": self.array(new[bias], f"your new {bias}", "your new bias")}
        outputs.update((key, self.array(new[key], f"your {key}", "a kept array")) for key in kept)
        dtypes = {"head": str(np.asarray(new[head]).dtype), "head bias": str(np.asarray(new[bias]).dtype),
                  **{key: str(np.asarray(new[key]).dtype) for key in kept}}
        problems = [global_rng_problem("draw the head from a generator of your own, "
                                       "np.random.default_rng(seed).")] if watch.touched else []
        if new is passed:
            problems.append(Finding("returns_params", f"your function returns the very dict it was given, changed: "
                                                      f"the pretrained network loses its head. Build a new dict: {_COPY}"))
        else:
            problems += self.unchanged("params", params, passed, f"Leave params alone: {_COPY}")
            shared = _shared(new, passed)
            if shared:
                consequence = f"(or a view), so fine-tuning the new network would change the pretrained one too: {_COPY}"
                problems.append(Finding(
                    "shares_arrays", f"your new {', '.join(shared)} {'is' if len(shared) == 1 else 'are'} the very "
                    f"array{'' if len(shared) == 1 else 's'} of params {consequence}",
                    f"arrays of your new dict are the very arrays of params {consequence}"))
        drew = not np.array_equal(np.asarray(new[head]), params[head])
        if drew and not np.array_equal(np.asarray(new[head]), np.asarray(again[head])):
            problems.append(Finding("seed_ignored", "two calls with the same seed gave different heads: draw the head "
                                                    "from np.random.default_rng(seed), the seed you are given."))
        elif drew and np.array_equal(np.asarray(new[head]), np.asarray(other[head])):
            problems.append(Finding("seed_fixed", "calls with different seeds gave the same head: the seed argument "
                                                  "is ignored; draw from np.random.default_rng(seed)."))
        return Observation(outputs, dtypes, problems)

    @staticmethod
    def _readable(new, params):
        if not isinstance(new, dict):
            raise Finding("wrong_type", f"return a dict of arrays keyed like params, not {type(new).__name__}.")
        missing, extra = [k for k in params if k not in new], [k for k in new if k not in params]
        if missing or extra:
            said = " and ".join(part for part in (f"lacks {missing}" if missing else "",
                                                   f"has {extra}, which params has not" if extra else "") if part)
            raise Finding("wrong_keys", f"your dict {said}: the new dict has exactly the keys of params "
                                        f"({list(params)}).")

    def describe(self, output, index):
        where = f" at {list(index)}" if index else ""
        return {"head": "new head W_L", "head bias": "new bias b_L"}.get(output, output) + where

    def describe_safely(self, output, index):
        return {"head": "new head W_L", "head bias": "new bias b_L"}.get(output, "kept (pretrained) array")

    def dtype_advice(self, output, got, want):
        output = {"head": "new head W_L", "head bias": "new bias b_L"}.get(output, output)
        return (f"your {output} has dtype {got} but the pretrained one has dtype {want}: keep the dtype "
                f"(v.copy(); the head drawn, then .astype(params[...].dtype)), so that a float32 network stays "
                f"float32.")


check_transfer_params = define("transfer_params", TransferParams())
