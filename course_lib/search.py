"""Helpers for notebook 09's searches, not graded: a progress bar for a search that you run.

The searching itself is yours (``train_val_split``, ``log_uniform``, ``random_search`` and
``successive_halving``, notebook 09); this module only shows how far a search has got::

    with search.progress(objective, 100) as counted:
        results = random_search(counted, space, 100, rng)     # yours

``counted`` is ``objective`` with one tick of the bar per call; the bar closes when the block
ends, also when the search raises.
"""

from contextlib import contextmanager
from functools import wraps

from .train import progress_bar

__all__ = ["progress"]


@contextmanager
def progress(objective, n_trials, description="random search"):
    """``objective``, wrapped to advance a progress bar of ``n_trials`` steps at each call.

    The bar is hidden where the course hides every bar (``COURSE_PROGRESS=0``, as in the tests).
    """
    if not callable(objective):
        raise TypeError(f"progress: objective must be a function params -> score, got {objective!r}")
    bar = progress_bar(total=n_trials, desc=description, leave=False)

    @wraps(objective)
    def counted(params):
        score = objective(params)
        bar.update()
        return score

    try:
        yield counted
    except BaseException:
        bar.total = bar.n   # an interrupted search hides its bar instead of leaving a red one behind
        raise
    finally:
        bar.close()
