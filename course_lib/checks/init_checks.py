"""Self-checks of notebook 05: the initializers ``xavier`` and ``he``.

An initializer is random, so its check measures statistics of one large draw, not its
entries: the draw's std, its mean (in units of the std) and its excess kurtosis (0 for a
normal distribution, -1.2 for a uniform one), each within a tolerance many times the
statistic's sampling error. Around that, the contract: the shape is (fan_in, fan_out), the
randomness comes from the ``rng`` passed in (a generator seeded alike gives the same
array, seeded differently a different one) and numpy's global generator is left alone.
The cases and the known wrong formulas are in ``data/xavier.json`` and ``data/he.json``
(built from ``init_cases.py``).
"""

import numpy as np

from .framework import Finding, Observation, Protocol, call_student, define, watch_global_rng

__all__ = ["Initializer", "check_xavier", "check_he"]

_MEASURES = {
    "std": "weights' std",
    "mean_in_stds": "weights' mean (in units of their std)",
    "excess_kurtosis": "weights' excess kurtosis (0 for a normal distribution, -1.2 for a uniform one)",
    "shape": "shape",
}


def excess_kurtosis(w):
    """E[(w - mean)^4] / std^4 - 3: 0 for a normal distribution, -1.2 for a uniform one."""
    centred = w - w.mean()
    return np.mean(centred**4) / np.mean(centred**2) ** 2 - 3


class Initializer(Protocol):
    """``W = init(fan_in, fan_out, rng)`` with ``rng = np.random.default_rng(seed)``, drawn
    three times (seeds ``seed``, ``seed``, ``seed + 1``) to see that the randomness is the
    rng's, or once with ``rng=None`` when the case's seed is None.

    inputs: ``fan_in``, ``fan_out``, ``seed`` (int or None), ``measure`` (one of
    ``std``, ``mean_in_stds``, ``excess_kurtosis``, ``shape``): the one output of the case
    (``shape`` only, with ``rng=None``).
    """

    def run(self, fn, inputs):
        fan_in, fan_out, seed = inputs["fan_in"], inputs["fan_out"], inputs["seed"]
        if seed is None:
            w = self._draw(fn, fan_in, fan_out, None)
            return Observation({"shape": np.array(w.shape, dtype=float)})
        with watch_global_rng() as watch:
            w, again, other = (self._draw(fn, fan_in, fan_out, np.random.default_rng(s)) for s in (seed, seed, seed + 1))
        problems = []
        if watch.touched:
            problems.append(Finding("global_rng", "your function draws from numpy's global generator (np.random.randn, "
                                                  "np.random.normal, ...): draw from the rng you are given, "
                                                  "rng.normal(0.0, std, size=(fan_in, fan_out))."))
        if not np.array_equal(w, again) or np.array_equal(w, other):
            problems.append(Finding("ignores_rng", "two generators seeded alike gave different arrays, or generators "
                                                   "seeded differently gave the same one: draw from the rng you are "
                                                   "given (rng = np.random.default_rng(rng); rng.normal(...)), not "
                                                   "from a generator of your own."))
        return Observation({inputs["measure"]: self._measure(inputs["measure"], w)}, {}, problems)

    def _draw(self, fn, fan_in, fan_out, rng):
        w = self.array(call_student(fn, fan_in, fan_out, rng=rng), "the weights you return")
        if w.shape != (fan_in, fan_out):
            if w.shape == (fan_out, fan_in):
                swapped = ("fan_in and fan_out are swapped. W has one row per input, shape (fan_in, fan_out), so "
                           "that x @ W works for x of shape (N, fan_in).")
                raise Finding("fans_swapped", f"your array has shape {w.shape}, (fan_out, fan_in): {swapped}",
                              f"your array has shape (fan_out, fan_in): {swapped}")
            raise Finding("wrong_shape", f"your array has shape {w.shape} where (fan_in, fan_out) = "
                                         f"{(fan_in, fan_out)} was expected.",
                          "your array does not have the shape (fan_in, fan_out).")
        if not np.isfinite(w).all():
            raise Finding("wrong_values", "your weights contain NaN or infinity.")
        return w

    @staticmethod
    def _measure(measure, w):
        std = w.std()
        if measure == "std":
            return np.array(std)
        if measure == "mean_in_stds":
            return np.array(w.mean() / std if std > 0 else np.inf)
        if measure == "excess_kurtosis":
            return np.array(excess_kurtosis(w) if std > 0 else np.inf)
        if measure == "shape":
            return np.array(w.shape, dtype=float)
        raise ValueError(f"unknown measure {measure!r}; the measures are {', '.join(_MEASURES)}")

    def describe(self, output, index):
        return _MEASURES[output]


check_xavier = define("xavier", Initializer())
check_he = define("he", Initializer())
