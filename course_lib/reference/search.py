"""Hyperparameter search: validation splits, log-uniform sampling, random search, successive halving."""

import math

import numpy as np

from course_lib.train import progress_bar

__all__ = ["train_val_split", "log_uniform", "random_search", "successive_halving"]


def train_val_split(X, y, val_fraction, rng):
    """Shuffle (X, y) with ``rng`` and hold out ``round(val_fraction * N)`` rows for validation.

    X: (N, ...), y: (N,); val_fraction in (0, 1); rng: a numpy Generator.
    Returns X_train, y_train, X_val, y_val. With ``order = rng.permutation(N)``, the first
    n_val indices of ``order`` are the validation rows and the rest the training rows, so
    no row is in both and every row is in one.
    """
    if len(X) != len(y):
        raise ValueError(f"train_val_split: X has {len(X)} rows but y has {len(y)}")
    if not 0 < val_fraction < 1:
        raise ValueError(f"train_val_split: val_fraction must be between 0 and 1, got {val_fraction!r}")
    order = rng.permutation(len(X))
    n_val = int(round(val_fraction * len(X)))
    val, train = order[:n_val], order[n_val:]
    return X[train], y[train], X[val], y[val]


def log_uniform(low_exp, high_exp, size, rng):
    """``10 ** U(low_exp, high_exp)``: values spread evenly over the decades 10**low_exp to 10**high_exp."""
    if not low_exp < high_exp:
        raise ValueError(f"log_uniform: low_exp must be < high_exp, got {low_exp!r} and {high_exp!r}")
    return 10.0 ** rng.uniform(low_exp, high_exp, size)


def _sample(space, rng):
    return {name: sampler(rng) for name, sampler in space.items()}


def random_search(objective, space, n_trials, rng, n_jobs=1, progress=False):
    """Try ``n_trials`` random settings and return them best first.

    objective: function of a dict of hyperparameters -> validation score (higher is better).
    space: dict name -> sampler, a function ``rng -> value``.
    The trials are drawn first, one after the other, each drawing its values in the order of
    ``space``; then they are scored (in parallel with ``n_jobs`` > 1, which gives the same
    result). Returns a list of ``{"params": dict, "score": float}``, best first; NaN scores last,
    ties in the order the trials were drawn.
    """
    if n_trials < 1:
        raise ValueError(f"random_search: n_trials must be >= 1, got {n_trials!r}")
    trials = [_sample(space, rng) for _ in range(n_trials)]
    if n_jobs == 1:
        scores = (objective(p) for p in trials)
    else:
        from joblib import Parallel, delayed

        scores = Parallel(n_jobs=n_jobs, return_as="generator")(delayed(objective)(p) for p in trials)
    scores = list(progress_bar(scores, total=n_trials, desc="random search") if progress else scores)
    results = [{"params": p, "score": float(s)} for p, s in zip(trials, scores)]
    return sorted(results, key=lambda r: -r["score"] if not math.isnan(r["score"]) else math.inf)


def successive_halving(objective, candidates, min_budget, eta=2):
    """Successive halving (Jamieson & Talwalkar 2016): train many candidates a little, keep the best.

    objective: function ``(params, budget) -> validation score`` (higher is better) after training
    with ``params`` for ``budget`` (e.g. epochs). candidates: a list of params dicts.
    Round 0 evaluates every candidate at ``min_budget``. Each round, of its n candidates, keeps the
    best ``ceil(n / eta)`` (ties: the earlier in the candidate order; NaN scores are the worst) and
    multiplies the budget by ``eta`` for the next round, which evaluates the kept ones again at
    that budget. It stops when one candidate is left (evaluated at its last budget).
    Returns a list of ``{"params": params, "score": score, "budget": budget}``, one per candidate,
    best first: the survivor of the last round first, then the candidates eliminated in the round
    before it (best first), and so on back to round 0; each with the score and the budget of its
    last evaluation.
    """
    if not candidates:
        raise ValueError("successive_halving: give at least one candidate")
    if eta < 2:
        raise ValueError(f"successive_halving: eta must be >= 2, got {eta!r}")
    alive, budget, eliminated = list(range(len(candidates))), min_budget, []
    while True:
        scores = {k: float(objective(candidates[k], budget)) for k in alive}
        ranked = sorted(alive, key=lambda k: (math.inf if math.isnan(scores[k]) else -scores[k], k))
        keep = 1 if len(ranked) == 1 else math.ceil(len(ranked) / eta)
        results = [{"params": candidates[k], "score": scores[k], "budget": budget} for k in ranked]
        eliminated.append(results[keep:])
        if len(ranked) == 1:
            eliminated.append(results)
            break
        alive, budget = sorted(ranked[:keep]), budget * eta
    return [r for group in reversed(eliminated) for r in group]
