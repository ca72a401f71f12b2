"""Build time: the cases and the known mistakes of notebook 09's checks (``train_val_split``,
``log_uniform``, ``random_search``, ``successive_halving``).

The splits use sizes where val_fraction * N is a whole number (10, 10, 18), so rounding it
up, down or to the nearest gives the same count and no right way of rounding is penalized.
"""

from functools import partial

import math

import numpy as np

from course_lib.reference import search

from .build import Case, Mistake, Spec

COUNTS = {"rtol": 0.0, "atol": 0.5}
EXACT = {"rtol": 1e-9, "atol": 0.0}


# --------------------------------------------------------------------------------------
# train_val_split
# --------------------------------------------------------------------------------------

def split_variant(X, y, val_fraction, rng, *, train="rest"):
    """A split with the usual mistakes as flags: the training set gets the ``"rest"`` of a
    permutation after the validation rows, ``"fraction"`` (the first n_val rows, validation the
    rest), ``"all"`` the rows (validation rows too) or ``"rest_minus_one"`` (one row lost)."""
    order = rng.permutation(len(X))
    n_val = int(round(val_fraction * len(X)))
    val, rest = order[:n_val], order[n_val:]
    if train == "fraction":
        val, rest = rest, val
    train_rows = {"rest": rest, "fraction": rest, "all": order, "rest_minus_one": order[n_val + 1:]}[train]
    return X[train_rows], y[train_rows], X[val], y[val]


def split_case(label, n, feature_shape, val_fraction, seed, **kind):
    """A case of the split of ``split_data(n, feature_shape)``; ``kind``: ``hidden``, ``strict``, ``outputs``."""
    return Case(label, {"n": n, "feature_shape": list(feature_shape), "val_fraction": val_fraction, "seed": seed},
                **COUNTS, **kind)


TRAIN_VAL_SPLIT = Spec(
    exercise="train_val_split",
    reference=search.train_val_split,
    cases=[
        split_case("X of shape (50, 3), val_fraction=0.2", 50, (3,), 0.2, 1),
        split_case("X of shape (40, 2, 2) (images), val_fraction=0.25", 40, (2, 2), 0.25, 2),
        split_case("X of shape (60,), val_fraction=0.3", 60, (), 0.3, 3),
        split_case("the sizes of the two sets: no overlap, no row lost", 50, (3,), 0.3, 701, hidden=True,
                   strict=False),
        split_case("each row keeps its label", 37, (3,), 0.25, 702, hidden=True, strict=False,
                   outputs=("in_both", "in_neither")),   # 0.25 * 37 rows: either rounding is right
        split_case("the split is shuffled by the generator given: same seed, same split; another seed, another",
                   60, (3,), 0.5, 703, hidden=True),
    ],
    mistakes=[
        Mistake("train_is_fraction", partial(split_variant, train="fraction"),
                "Your training set has val_fraction * N rows and your validation set the rest: val_fraction is the "
                "fraction of the rows held out for validation, n_val = round(val_fraction * len(X)); the training "
                "set gets the other N - n_val."),
        Mistake("overlap", partial(split_variant, train="all"),
                "Your validation rows are in the training set too: a model is then scored on rows it was trained "
                "on. Take the first n_val indices of the permutation for validation and only the rest for training."),
        Mistake("row_lost", partial(split_variant, train="rest_minus_one"),
                "One row is in neither set: with order = rng.permutation(len(X)), validation gets order[:n_val] and "
                "training order[n_val:] (not order[n_val + 1:])."),
    ],
    summary="N = 50, 40, 60; X of shapes (N, 3), (N, 2, 2), (N,); val_fraction = 0.2, 0.25, 0.3; pairs kept, "
            "shuffled, no overlap, no row lost, rng used",
    rule="order = rng.permutation(len(X)); n_val = round(val_fraction * len(X)); validation: order[:n_val], "
         "training: order[n_val:], the same indices for X and y.",
)


# --------------------------------------------------------------------------------------
# log_uniform
# --------------------------------------------------------------------------------------

def log_uniform_variant(low_exp, high_exp, size, rng, *, draw="exponent", base="10"):
    """``base ** U`` with the usual mistakes as flags: ``draw`` the ``"exponent"`` U(low, high),
    with the exponents ``"swapped"`` (high + (low - high) u), ``"integer"`` exponents, the ``"value"`` U(10**low,
    10**high) itself, or the exponent ``"once"`` (size ignored); ``base`` ``"10"``, ``"e"``
    (natural exp), ``"times_ten"`` (10 * U) or ``"none"`` (the exponent returned)."""
    if draw == "value":
        return rng.uniform(10.0 ** low_exp, 10.0 ** high_exp, size)
    exponent = {
        "exponent": lambda: rng.uniform(low_exp, high_exp, size),
        "swapped": lambda: high_exp + (low_exp - high_exp) * rng.random(size),
        "integer": lambda: rng.integers(low_exp, high_exp, size).astype(float),
        "once": lambda: rng.uniform(low_exp, high_exp),
    }[draw]()
    return {"10": lambda u: 10.0 ** u, "e": np.exp, "times_ten": lambda u: 10 * u, "none": lambda u: u}[base](exponent)


def log_case(label, low_exp, high_exp, size, seed, **kind):
    return Case(label, {"low_exp": low_exp, "high_exp": high_exp, "size": size, "seed": seed}, **EXACT, **kind)


LOG_UNIFORM = Spec(
    exercise="log_uniform",
    reference=search.log_uniform,
    cases=[
        log_case("low_exp=-6, high_exp=-2, size=5", -6, -2, 5, 1),
        log_case("low_exp=-8, high_exp=-4, size=(2, 3)", -8, -4, [2, 3], 2),
        log_case("low_exp=-1, high_exp=2, size=4", -1, 2, 4, 3),
        log_case("many values spread evenly over several decades", -5, -1, 1000, 711, hidden=True, strict=False),
        log_case("size given as a tuple gives an array of that shape", 0, 2, [3, 5], 712, hidden=True, strict=False),
        log_case("the generator given decides the values", -3, 0, 10, 713, hidden=True),
    ],
    mistakes=[
        Mistake("uniform_in_value", partial(log_uniform_variant, draw="value"),
                "Your values are uniform between 10**low_exp and 10**high_exp, so almost all of them fall in the top "
                "decade: draw the exponent uniformly, 10 ** rng.uniform(low_exp, high_exp, size)."),
        Mistake("natural_exp", partial(log_uniform_variant, base="e"),
                "You raise e to the exponent (np.exp): the exponents are powers of 10, 10 ** rng.uniform(low_exp, "
                "high_exp, size)."),
        Mistake("exponents_swapped", partial(log_uniform_variant, draw="swapped"),
                "Your exponents are high_exp + (low_exp - high_exp) * u, low_exp and high_exp swapped: the same "
                "range, but other numbers than the convention's low_exp + (high_exp - low_exp) * u, which is "
                "rng.uniform(low_exp, high_exp, size)."),
        Mistake("size_ignored", partial(log_uniform_variant, draw="once"),
                "You return one number: draw `size` of them, 10 ** rng.uniform(low_exp, high_exp, size)."),
        Mistake("exponents_only", partial(log_uniform_variant, base="none"),
                "You return the exponents themselves: the values are 10 ** exponent."),
        Mistake("times_ten", partial(log_uniform_variant, base="times_ten"),
                "You multiply the exponent by 10 (10 * u): raise 10 to it, 10 ** u."),
        Mistake("integer_exponents", partial(log_uniform_variant, draw="integer"),
                "Your exponents are whole numbers, so you only ever try 1e-6, 1e-5, ...: draw them from a continuous "
                "uniform distribution, rng.uniform(low_exp, high_exp, size)."),
    ],
    summary="exponents from -8 to 2; size 5, (2, 3) and 4; compared exactly with 10 ** rng.uniform(low_exp, "
            "high_exp, size); rng used",
    rule="10 ** rng.uniform(low_exp, high_exp, size).",
)


# --------------------------------------------------------------------------------------
# random_search
# --------------------------------------------------------------------------------------

def search_variant(objective, space, n_trials, rng, *, draws="trial_by_trial"):
    """Random search with the usual mistakes in drawing the trials, as a flag: ``"once"`` (one
    draw reused by every trial), ``"by_parameter"`` (all values of the first hyperparameter, then
    of the next, ...) or ``"sorted_names"`` (each trial draws in alphabetical order of names)."""
    names = list(space)
    if draws == "once":
        one = {name: space[name](rng) for name in names}
        trials = [dict(one) for _ in range(n_trials)]
    elif draws == "by_parameter":
        columns = {name: [space[name](rng) for _ in range(n_trials)] for name in names}
        trials = [{name: columns[name][k] for name in names} for k in range(n_trials)]
    else:
        order = sorted(names) if draws == "sorted_names" else names
        trials = [{name: space[name](rng) for name in order} for _ in range(n_trials)]
    results = [{"params": p, "score": objective(p)} for p in trials]
    return sorted(results, key=lambda r: r["score"], reverse=True)


def search_case(label, space, n_trials, seed, **kind):
    return Case(label, {"space": space, "n_trials": n_trials, "seed": seed}, **EXACT, **kind)


HIDDEN_SPACE = [["learning_rate", "log_uniform", -4, -1, -2.5, 1.0], ["weight_decay", "log_uniform", -5, -2, -3.5, 0.5],
                ["hidden", "integer", 16, 129, 64, 1e-4]]
"""The space of the hidden cases: two log-uniform hyperparameters and an integer one."""


RANDOM_SEARCH = Spec(
    exercise="random_search",
    reference=search.random_search,
    cases=[
        search_case("learning_rate 10**U(-4, -1) and weight_decay 10**U(-8, -4), 6 trials",
                    [["learning_rate", "log_uniform", -4, -1, -2.5, 1.0],
                     ["weight_decay", "log_uniform", -8, -4, -6.0, 0.05]], 6, 1),
        search_case("momentum U(0.5, 0.99), layers (an integer in [1, 4)) and lr 10**U(-3, 0), 8 trials",
                    [["momentum", "uniform", 0.5, 0.99, 0.9, 10.0],
                     ["layers", "integer", 1, 4, 2.0, 0.1],
                     ["lr", "log_uniform", -3, 0, -1.5, 1.0]], 8, 2),
        search_case("one hyperparameter, 1 trial", [["dropout", "uniform", 0.0, 0.6, 0.3, 1.0]], 1, 3),
        search_case("every trial drawn from the space and scored by the objective", HIDDEN_SPACE, 15, 721,
                    hidden=True, strict=False),
        search_case("the results are sorted best first", HIDDEN_SPACE, 20, 722, hidden=True, strict=False),
        search_case("the generator given decides the trials: same seed, same results; another seed, others",
                    HIDDEN_SPACE, 5, 723, hidden=True),
    ],
    mistakes=[
        Mistake("one_draw", partial(search_variant, draws="once"),
                "Every trial has the same params: you drew them once. Draw new values for each trial, "
                "[{name: sampler(rng) for name, sampler in space.items()} for _ in range(n_trials)]."),
        Mistake("drawn_by_parameter", partial(search_variant, draws="by_parameter"),
                "You drew all the values of one hyperparameter, then all of the next: the convention is trial by "
                "trial, each trial drawing its values in the order of space, "
                "[{name: sampler(rng) for name, sampler in space.items()} for _ in range(n_trials)]."),
        Mistake("sorted_names", partial(search_variant, draws="sorted_names"),
                "Each trial draws its values in alphabetical order of the names: the convention is the order of "
                "space itself, {name: sampler(rng) for name, sampler in space.items()}."),
    ],
    summary="2, 3 and 1 hyperparameters (log-uniform, uniform, integer); 6, 8 and 1 trials; scores kept with their "
            "params; best first; the trials drawn in the notebook's order; rng used",
    rule="trials = [{name: sampler(rng) for name, sampler in space.items()} for _ in range(n_trials)]; each "
         "scored with objective(params); sorted best (highest score) first.",
)


# --------------------------------------------------------------------------------------
# successive_halving
# --------------------------------------------------------------------------------------

def halving_variant(objective, candidates, min_budget, eta=2, *, keep="best", grow="times", count="ceil",
                    reevaluate=False, final="by_round", eta_used=None):
    """Successive halving with the usual mistakes as flags: ``keep`` the ``"best"`` or the
    ``"worst"``; ``grow`` the budget ``"times"`` eta, ``"plus"`` min_budget or ``"none"``; keep
    ``ceil`` or ``"floor"`` (at least 1) of n / eta; ``reevaluate`` every candidate, the eliminated
    ones too, each round; order the ``final`` list ``"by_round"`` or by ``"score"`` alone; use
    ``eta_used`` instead of eta (2: eta ignored)."""
    eta = eta if eta_used is None else eta_used
    n_all = len(candidates)
    alive, budget, groups, latest = list(range(n_all)), min_budget, [], {}
    while True:
        evaluated = range(n_all) if reevaluate else alive
        for k in evaluated:
            latest[k] = (float(objective(candidates[k], budget)), budget)
        sign = 1 if keep == "best" else -1
        ranked = sorted(alive, key=lambda k: (-sign * latest[k][0], k))
        if len(ranked) == 1:
            groups.append(ranked)
            break
        kept = math.ceil(len(ranked) / eta) if count == "ceil" else max(1, len(ranked) // eta)
        groups.append(ranked[kept:])
        alive = sorted(ranked[:kept])
        budget = {"times": budget * eta, "plus": budget + min_budget, "none": budget}[grow]
    if final == "score":
        order = sorted(range(n_all), key=lambda k: (-latest[k][0], k))
    else:
        order = [k for group in reversed(groups) for k in sorted(group, key=lambda k: (-latest[k][0], k))]
    return [{"params": candidates[k], "score": latest[k][0], "budget": latest[k][1]} for k in order]


def halving_candidates(n, seed):
    """``n`` candidates {"lr", "width"}: lr 10**U(-4, -1), width an integer in [8, 64)."""
    rng = np.random.default_rng(seed)
    return [{"lr": float(10 ** rng.uniform(-4, -1)), "width": int(rng.integers(8, 64))} for _ in range(n)]


HALVING_SPACE = [["lr", "log_uniform", -4, -1, -2.0, 1.0], ["width", "uniform", 8, 64, 48.0, 0.002]]
HALVING_SLOWNESS = [["lr", -1.0], ["width", 0.1]]
"""A learning curve where a large lr and a narrow network learn fast (lead at small budgets)
while the final score prefers lr near 1e-2 and width near 48: rankings change with the budget."""


def halving_case(label, candidates, min_budget, eta, **kind):
    return Case(label, {"candidates": candidates, "space": HALVING_SPACE, "slowness": HALVING_SLOWNESS,
                        "offset": -5.0, "min_budget": min_budget, "eta": eta}, **EXACT, **kind)


_TIED = [{"lr": 0.01, "width": 32}, {"lr": 0.003, "width": 20}, {"lr": 0.01, "width": 32},
         {"lr": 0.05, "width": 60}, {"lr": 0.003, "width": 20}]

SUCCESSIVE_HALVING = Spec(
    exercise="successive_halving",
    reference=search.successive_halving,
    cases=[
        halving_case("8 candidates, min_budget=1, eta=2 (budgets 1, 2, 4, 8)", halving_candidates(8, 1), 1, 2),
        halving_case("9 candidates, min_budget=2, eta=3 (budgets 2, 6, 18)", halving_candidates(9, 2), 2, 3),
        halving_case("5 candidates (ceil: 5, 3, 2, 1 kept), min_budget=1, eta=2", halving_candidates(5, 3), 1, 2),
        halving_case("1 candidate: evaluated once at min_budget", halving_candidates(1, 4), 3, 2),
        halving_case("the same params twice: each candidate returned once", _TIED, 1, 2, strict=False),
        halving_case("every candidate returned once with its last score and budget, best first",
                     halving_candidates(11, 731), 1, 2, hidden=True, strict=False),
        halving_case("a larger eta", halving_candidates(10, 732), 1, 4, hidden=True, strict=False),
        halving_case("a number of candidates that is not a power of eta", halving_candidates(7, 733), 2, 2,
                     hidden=True, strict=False),
        halving_case("the candidates are not changed, and the result is right", halving_candidates(6, 734), 1, 3,
                     hidden=True),
    ],
    mistakes=[
        Mistake("keeps_worst", partial(halving_variant, keep="worst"),
                "You keep the candidates with the lowest scores: higher is better, so each round keeps the "
                "ceil(n / eta) best, sorted(..., key=lambda r: -r['score'])[:math.ceil(n / eta)]."),
        Mistake("budget_not_grown", partial(halving_variant, grow="none"),
                "Every round evaluates at min_budget: multiply the budget by eta after each round, so that the "
                "survivors train longer (min_budget, min_budget * eta, min_budget * eta**2, ...)."),
        Mistake("budget_added", partial(halving_variant, grow="plus"),
                "Your budgets grow by min_budget each round (1, 2, 3, 4, ...): multiply by eta instead (1, 2, 4, 8, "
                "... for eta = 2), so that each round spends about as much compute as the one before."),
        Mistake("rounded_down", partial(halving_variant, count="floor"),
                "You keep n // eta candidates: keep math.ceil(n / eta) (5 candidates and eta = 2 keep 3, not 2)."),
        Mistake("reevaluates_eliminated", partial(halving_variant, reevaluate=True),
                "You evaluate the eliminated candidates again in later rounds: only the survivors of a round are "
                "trained at the next budget; an eliminated candidate keeps the score and budget of its last round."),
        Mistake("sorted_by_score", partial(halving_variant, final="score"),
                "You sort the final list by score alone, which mixes rounds: a score at a small budget is not "
                "comparable with one at a large budget. List the survivor first, then those eliminated in the "
                "round before (best first), and so on back to round 0."),
        Mistake("eta_ignored", partial(halving_variant, eta_used=2),
                "You halve whatever eta is: keep math.ceil(n / eta) candidates and multiply the budget by eta."),
    ],
    summary="8, 9, 5, 1 candidates; eta = 2 and 3; min_budget 1, 2, 3; repeated params; each result "
            "with its last score and budget, listed by round of elimination",
    rule="evaluate every candidate at min_budget; keep the best math.ceil(n / eta) (ties: the earlier), multiply "
         "the budget by eta, repeat until one is left; return the survivor, then each round's eliminated, best "
         "first.",
)

SPECS = [TRAIN_VAL_SPLIT, LOG_UNIFORM, RANDOM_SEARCH, SUCCESSIVE_HALVING]
