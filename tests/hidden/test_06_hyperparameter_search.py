"""Hidden tests of notebook 06: train_val_split, log_uniform and random_search, judged by the
properties the contract fixes (a correct solution may draw in another order than the reference):
sizes, no overlap, rows kept with their labels, shuffling, the distribution of the draws, best
first, and the generator given deciding everything.
"""

import numpy as np

from course_instructor.grading import probes
from course_instructor.grading.expect import close, equal, true


def _rows(n, seed):
    """Rows whose first column is their index, labels equal to it: every row can be traced."""
    X = np.arange(n)[:, None] * np.array([1.0, 2.0, -1.0])
    return X, np.arange(n), np.random.default_rng(seed)


def _split(train_val_split, n, fraction, seed):
    X, y, rng = _rows(n, seed)
    got = train_val_split(X, y, fraction, rng)
    true(isinstance(got, tuple) and len(got) == 4, "train_val_split must return X_train, y_train, X_val, y_val")
    return [np.asarray(a) for a in got]


def test_train_val_split_sizes(train_val_split):
    """50 rows with val_fraction = 0.3: 15 for validation, 35 for training, no overlap, none lost"""
    X_train, y_train, X_val, y_val = _split(train_val_split, 50, 0.3, 701)
    equal(len(y_val), 15, "the number of validation rows")
    equal(len(X_train), 35, "the number of training rows")
    equal(sorted(np.concatenate([y_train, y_val]).tolist()), list(range(50)),
          "the rows of the two sets together (every row once, in one set)")


def test_train_val_split_pairs(train_val_split):
    """37 rows with val_fraction = 0.25: each row keeps its label"""
    X_train, y_train, X_val, y_val = _split(train_val_split, 37, 0.25, 702)
    true(len(y_val) in (9, 10), "the number of validation rows is not val_fraction of the rows")
    true(np.array_equal(X_train[:, 0], y_train) and np.array_equal(X_val[:, 0], y_val),
         "the rows of X and the labels y are no longer paired: shuffle both with one permutation")


def test_train_val_split_shuffles(train_val_split):
    """the split is shuffled by the generator given: same seed, same split; another seed, another"""
    first = _split(train_val_split, 60, 0.5, 703)[3]
    again = _split(train_val_split, 60, 0.5, 703)[3]
    other = _split(train_val_split, 60, 0.5, 704)[3]
    true(not np.array_equal(np.sort(first), first) or not np.array_equal(first, np.arange(len(first))),
         "the validation rows are not shuffled")
    true(np.array_equal(first, again), "the same seed gave different splits")
    true(not np.array_equal(first, other), "different seeds gave the same split (use the rng given)")


def test_log_uniform_range_and_spread(log_uniform):
    """4,000 values between 10^-5 and 10^-1, spread evenly over the decades"""
    values = np.asarray(log_uniform(-5, -1, 4000, np.random.default_rng(711)), dtype=float)
    equal(values.shape, (4000,), "the shape of the values")
    true(np.all((values >= 1e-5) & (values <= 1e-1)), "values outside 10^low_exp .. 10^high_exp")
    exponents = np.sort(np.log10(values))
    uniform = -5 + 4 * (np.arange(1, 4001) - 0.5) / 4000
    true(np.max(np.abs(exponents - uniform)) < 0.14,
         "the values are not spread evenly over the decades (draw the exponent uniformly)")


def test_log_uniform_shape(log_uniform):
    """size = (3, 5) gives a (3, 5) array"""
    values = log_uniform(0, 2, (3, 5), np.random.default_rng(712))
    equal(np.asarray(values).shape, (3, 5), "the shape of the values")


def test_log_uniform_uses_rng(log_uniform):
    """the generator given decides the values"""
    draws = [np.asarray(log_uniform(-3, 0, 10, np.random.default_rng(s))) for s in (713, 713, 714)]
    true(np.array_equal(draws[0], draws[1]), "the same seed gave different values")
    true(not np.array_equal(draws[0], draws[2]), "different seeds gave the same values (use the rng given)")


SPACE = {"learning_rate": probes.log_uniform(-4, -1), "weight_decay": probes.log_uniform(-5, -2),
         "hidden": probes.integers(16, 129)}
OBJECTIVE = probes.log_bowl(centre={"learning_rate": -2.5, "weight_decay": -3.5, "hidden": 1.8},
                            weight={"learning_rate": 1.0, "weight_decay": 0.5, "hidden": 0.2})


def _search(random_search, seed, n_trials=15):
    results = random_search(OBJECTIVE, SPACE, n_trials, np.random.default_rng(seed))
    true(isinstance(results, list) and all(isinstance(r, dict) and set(r) >= {"params", "score"} for r in results),
         "random_search must return a list of {'params': ..., 'score': ...}")
    return results


def test_random_search_trials(random_search):
    """15 trials, each a setting drawn from the space and scored by the objective"""
    results = _search(random_search, 721)
    equal(len(results), 15, "the number of results")
    for r in results:
        equal(sorted(r["params"]), sorted(SPACE), "the names in params")
        p = r["params"]
        true(1e-4 <= p["learning_rate"] <= 1e-1 and 1e-5 <= p["weight_decay"] <= 1e-2 and 16 <= p["hidden"] < 129,
             "a value in params was not drawn from its sampler")
        close(r["score"], OBJECTIVE(p), "a score (it must be objective(params))")


def test_random_search_best_first(random_search):
    """results are sorted best first (highest score first)"""
    scores = [r["score"] for r in _search(random_search, 722, n_trials=20)]
    true(all(a >= b for a, b in zip(scores, scores[1:])), "the results are not sorted best first")


def test_random_search_uses_rng(random_search):
    """the generator given decides the trials: same seed, same results; another seed, others"""
    first, again, other = (_search(random_search, s, n_trials=5) for s in (723, 723, 724))
    true(first == again, "the same seed gave different results")
    true(first != other, "different seeds gave the same results (pass the rng to the samplers)")
