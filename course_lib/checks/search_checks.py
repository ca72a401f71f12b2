"""Self-checks of notebook 09: ``train_val_split``, ``log_uniform`` and ``random_search``.

``train_val_split`` may shuffle in many right ways, so its check reads what any right split
shares: every row of X carries its own index, and y a label that belongs to it, so the check
recovers which rows went where and counts them (validation rows, training rows, rows in both,
rows in neither), and sees whether pairs (X[i], y[i]) stayed together and whether the rows
were shuffled at all.

``log_uniform`` and ``random_search`` follow a convention the notebook states, so their
outputs are compared exactly: ``10 ** rng.uniform(low_exp, high_exp, size)``, and trials drawn
one after the other, each drawing its values in the order of ``space``. Around those, for all
three: the randomness comes from the ``rng`` passed in (a generator seeded alike gives the
same result, seeded differently another), numpy's global generator is left alone, and no
input is changed in place. The cases and the known mistakes are in ``data/<exercise>.json``
(built from ``search_cases.py``).
"""

import math

import numpy as np

from . import probes
from .framework import Finding, Observation, Protocol, call_student, define, global_rng_problem, watch_global_rng

__all__ = ["Split", "LogUniform", "Search", "split_data", "search_space",
           "Halving", "check_train_val_split", "check_log_uniform", "check_random_search",
           "check_successive_halving"]

_IGNORES_RNG = ("generators seeded alike gave different results, or generators seeded differently gave the same "
                "one: draw every random number from the rng you are given.")


def _same_result(a, b):
    """Whether two results (arrays, lists and dicts of them, numbers) are equal."""
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same_result(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(_same_result(x, y) for x, y in zip(a, b))
    try:
        return np.array_equal(np.asarray(a), np.asarray(b))
    except (TypeError, ValueError):
        return a == b


def _three_draws(fn, args, seed):
    """``fn(*args(), rng)`` with generators seeded ``seed``, ``seed``, ``seed + 1``: the first
    result, the problems with the randomness, and the arguments of the first call."""
    first_args = args()
    with watch_global_rng() as watch:
        first = call_student(fn, *first_args, np.random.default_rng(seed))
        again = call_student(fn, *args(), np.random.default_rng(seed))
        other = call_student(fn, *args(), np.random.default_rng(seed + 1))
    problems = [global_rng_problem("draw from the rng you are given.")] if watch.touched else []
    if not _same_result(first, again) or _same_result(first, other):
        problems.append(Finding("ignores_rng", _IGNORES_RNG))
    return first, problems, first_args


# --------------------------------------------------------------------------------------
# train_val_split
# --------------------------------------------------------------------------------------

def split_data(n, feature_shape):
    """X (n, *feature_shape) whose row i holds i, i + 0.25, i + 0.5, ... and y (n,) whose label
    (5 i + 3) mod 1000 belongs to row i alone (for n <= 1000)."""
    size = int(np.prod(feature_shape))
    X = (np.arange(n)[:, None] + 0.25 * np.arange(size)).reshape(n, *feature_shape)
    return X, (5 * np.arange(n) + 3) % 1000


_SPLIT_OUTPUTS = {"n_val": "number of validation rows", "n_train": "number of training rows",
                  "in_both": "number of rows in both sets", "in_neither": "number of rows in neither set"}


class Split(Protocol):
    """``X_train, y_train, X_val, y_val = train_val_split(X, y, val_fraction, rng)`` on the
    :func:`split_data` of a case. Outputs: the counts of validation rows, training rows, rows
    in both sets and rows in neither.

    inputs: ``n``, ``feature_shape``, ``val_fraction``, ``seed``.
    """

    def run(self, fn, inputs):
        X, y = split_data(inputs["n"], tuple(inputs["feature_shape"]))

        def args():
            return X.copy(), y.copy(), inputs["val_fraction"]

        result, problems, (X_arg, y_arg, _) = _three_draws(fn, args, inputs["seed"])
        if not (isinstance(result, (tuple, list)) and len(result) == 4):
            raise Finding("wrong_type", "return the four arrays X_train, y_train, X_val, y_val.")
        X_train, y_train, X_val, y_val = (self.array(a, name) for a, name in
                                          zip(result, ("X_train", "y_train", "X_val", "y_val")))
        train, val = self._rows(X, y, X_train, y_train, "training"), self._rows(X, y, X_val, y_val, "validation")
        if len(train) > 1 and len(val) > 1 and np.all(np.diff(train) > 0) and np.all(np.diff(val) > 0):
            raise Finding("not_shuffled", "your sets keep the rows in their original order: shuffle first, "
                                          "order = rng.permutation(len(X)), then take the first n_val indices of "
                                          "order for validation and the rest for training.")
        outputs = {"n_val": len(val), "n_train": len(train),
                   "in_both": len(np.intersect1d(train, val)),
                   "in_neither": len(X) - len(np.union1d(train, val))}
        for name, given, passed in (("X", X, X_arg), ("y", y, y_arg)):
            problems += self.unchanged(name, given, passed, "Index with a permutation, X[order], instead of "
                                                            "shuffling in place (rng.shuffle(X)).")
        return Observation({k: np.array(float(v)) for k, v in outputs.items()}, {}, problems)

    @staticmethod
    def _rows(X, y, X_part, y_part, name):
        """The indices of the rows of X in ``X_part``, checking that ``y_part`` has their labels."""
        if X_part.shape[1:] != X.shape[1:] or y_part.ndim != 1:
            raise Finding("wrong_shape", f"the {name} set has X of shape {X_part.shape} and y of shape "
                                         f"{y_part.shape}: take whole rows, X[indices] of shape (n, "
                                         f"{', '.join(map(str, X.shape[1:]))}) and y[indices] of shape (n,).",
                          f"the {name} set does not hold whole rows: take X[indices], rows of the shape of "
                          f"X's, and y[indices] of shape (n,).")
        if len(X_part) != len(y_part):
            raise Finding("wrong_shape", f"the {name} set has {len(X_part)} rows of X but {len(y_part)} labels.",
                          f"the {name} set has another number of rows of X than of labels.")
        rows = X_part.reshape(len(X_part), -1)[:, 0].round().astype(int)
        if len(rows) and (rows.min() < 0 or rows.max() >= len(X) or not np.array_equal(X_part, X[rows])):
            raise Finding("rows_changed", f"the rows of your {name} X are not rows of X: take whole rows, "
                                          f"X[indices], and do not change them.")
        if not np.array_equal(y_part, y[rows]):
            raise Finding("pairs_broken", f"in your {name} set, X[i] and y[i] no longer belong together: X and y "
                                          f"were shuffled with different orders. Draw one permutation, order = "
                                          f"rng.permutation(len(X)), and index both with it: X[order], y[order].")
        return rows

    def describe(self, output, index):
        return _SPLIT_OUTPUTS[output]


# --------------------------------------------------------------------------------------
# log_uniform
# --------------------------------------------------------------------------------------

class LogUniform(Protocol):
    """``values = log_uniform(low_exp, high_exp, size, rng)``. Output ``values``.

    inputs: ``low_exp``, ``high_exp``, ``size`` (an int, or a list given as a tuple), ``seed``.
    """

    def run(self, fn, inputs):
        size = inputs["size"] if isinstance(inputs["size"], int) else tuple(inputs["size"])
        values, problems, _ = _three_draws(fn, lambda: (inputs["low_exp"], inputs["high_exp"], size), inputs["seed"])
        return Observation({"values": self.array(values, "the values you return")}, {}, problems)

    def describe(self, output, index):
        return f"values{list(index)}" if index else "value"


# --------------------------------------------------------------------------------------
# random_search
# --------------------------------------------------------------------------------------

def search_space(spec):
    """The ``space`` of a case: a dict name -> sampler (:func:`probes.sampler`), from ``spec``, a
    list of ``[name, kind, a, b, centre, weight]``, in the list's order."""
    return {name: probes.sampler(kind, a, b) for name, kind, a, b, *_ in spec}


class Search(Protocol):
    """``results = random_search(objective, space, n_trials, rng)`` with the space and
    objective of :func:`search_space` and :func:`probes.search_objective`.

    inputs: ``space`` (a spec list), ``n_trials``, ``seed``.
    Outputs: ``params['<name>']`` (n_trials,) for each name, and ``scores`` (n_trials,), in the
    order of the results.
    """

    def run(self, fn, inputs):
        spec, n = inputs["space"], inputs["n_trials"]
        objective, names = probes.search_objective(spec), [name for name, *_ in spec]

        def args():
            return objective, search_space(spec), n

        results, problems, (_, space, _) = _three_draws(fn, args, inputs["seed"])
        if list(space) != names:
            problems.append(Finding("mutated_input", "your function changed the space dict: read it, never change it."))
        if not isinstance(results, (list, tuple)) or not all(isinstance(r, dict) for r in results):
            raise Finding("wrong_type", 'return a list of dicts {"params": params, "score": score}.')
        if len(results) != n:
            raise Finding("wrong_length", f"you return {_count(len(results), 'result')} for {n} trials: return every "
                                          f"trial, best first.", "you return another number of results than of "
                                                                 "trials: return every trial, best first.")
        params, scores = [], []
        for k, r in enumerate(results):
            if sorted(r) != ["params", "score"] or not isinstance(r["params"], dict) or sorted(r["params"]) != sorted(names):
                shape = '{"params": {name: value for each name of space}, "score": objective(params)}'
                raise Finding("wrong_type", f"result {k} is {_short(r)}: each result is a dict {shape}.",
                              f"result {k} is not a dict {shape}.")
            params.append([float(r["params"][name]) for name in names])
            scores.append(float(self.array(r["score"], f"the score of result {k}")))
            if not math.isclose(scores[-1], objective(r["params"]), rel_tol=1e-9, abs_tol=1e-12):
                keep = "keep each score with the params it was computed from, and sort the pairs together."
                raise Finding("scores_not_matching", f"result {k} has score {scores[-1]:.6g}, but objective(its params) "
                                                     f"= {objective(r['params']):.6g}: {keep}",
                              f"result {k} has another score than objective(its params): {keep}")
        if any(a < b for a, b in zip(scores, scores[1:])):
            if all(a <= b for a, b in zip(scores, scores[1:])):
                raise Finding("worst_first", "your results are sorted worst first: the best score (the highest) comes "
                                             "first, sorted(results, key=lambda r: r['score'], reverse=True).")
            raise Finding("not_sorted", "your results are not sorted by score: the best (the highest) comes first, "
                                        "sorted(results, key=lambda r: r['score'], reverse=True).")
        outputs = {f"params[{name!r}]": np.array(column) for name, column in zip(names, zip(*params))}
        return Observation({**outputs, "scores": np.array(scores)}, {}, problems)

    def describe(self, output, index):
        what = "score" if output == "scores" else output
        return f"{what} of result {index[0] + 1} (best first)"


# --------------------------------------------------------------------------------------
# successive_halving
# --------------------------------------------------------------------------------------

class Halving(Protocol):
    """``results = successive_halving(objective, candidates, min_budget, eta)`` with the
    objective :func:`probes.halving_objective` (a score that depends on params and budget).

    inputs: ``candidates`` (a list of params dicts), ``space``, ``slowness``, ``offset``,
    ``min_budget``, ``eta``.
    Outputs, in the order of the results: ``order`` (each result's index in candidates),
    ``scores`` and ``budgets``.
    """

    def run(self, fn, inputs):
        candidates = inputs["candidates"]
        objective = probes.halving_objective(inputs["space"], inputs["slowness"], inputs["offset"])
        passed = [dict(c) for c in candidates]
        results = call_student(fn, objective, passed, inputs["min_budget"], inputs["eta"])
        problems = []
        if passed != candidates:
            problems.append(Finding("mutated_input", "your function changed the candidates list or its dicts: "
                                                     "read them, never change them."))
        if not isinstance(results, (list, tuple)) or not all(isinstance(r, dict) for r in results):
            raise Finding("wrong_type", 'return a list of dicts {"params": params, "score": score, "budget": budget}.')
        n = len(candidates)
        if len(results) != n:
            raise Finding("wrong_length", f"you return {_count(len(results), 'result')} for {n} candidates: return "
                                          f"every candidate once, the eliminated ones too, best first.",
                          "you return another number of results than of candidates: return every candidate once, "
                          "the eliminated ones too, best first.")
        unused, order, scores, budgets = list(range(n)), [], [], []
        for k, r in enumerate(results):
            if sorted(r) != ["budget", "params", "score"] or not isinstance(r["params"], dict):
                shape = '{"params": params, "score": score, "budget": budget}'
                raise Finding("wrong_type", f"result {k} is {_short(r)}: each result is a dict {shape}.",
                              f"result {k} is not a dict {shape}.")
            index = next((i for i in unused if candidates[i] == r["params"]), None)
            if index is None:
                raise Finding("wrong_params", f"the params of result {k} are not one of the candidates left: return "
                                              f"each candidate's params dict once.",
                              f"the params of result {k} are not one of the candidates left: return each candidate's "
                                              f"params dict once.")
            unused.remove(index)
            score = float(self.array(r["score"], f"the score of result {k}"))
            budget = float(self.array(r["budget"], f"the budget of result {k}"))
            want = objective(candidates[index], budget) if budget > 0 else math.nan
            if not math.isclose(score, want, rel_tol=1e-9, abs_tol=1e-12):
                keep = "keep each candidate with the score and the budget of its last evaluation."
                raise Finding("scores_not_matching", f"result {k} has score {score:.6g} and budget {budget:g}, but "
                                                     f"objective(its params, {budget:g}) = {want:.6g}: {keep}",
                              f"result {k} has another score than objective(its params, its budget): {keep}")
            order.append(index)
            scores.append(score)
            budgets.append(budget)
        return Observation({"order": np.array(order, dtype=float), "scores": np.array(scores),
                            "budgets": np.array(budgets)}, {}, problems)

    def describe(self, output, index):
        what = {"order": "candidate (its index)", "scores": "score", "budgets": "budget"}[output]
        return f"{what} of result {index[0] + 1} (best first)"

    def describe_safely(self, output, index):
        return self.describe(output, index)


def _count(n, noun):
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def _short(value, limit=80):
    text = repr(value)
    return text if len(text) <= limit else text[:limit - 3] + "..."


check_train_val_split = define("train_val_split", Split())
check_log_uniform = define("log_uniform", LogUniform())
check_random_search = define("random_search", Search())
check_successive_halving = define("successive_halving", Halving())
