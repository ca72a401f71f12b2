"""Training runs that compare update rules on a real network (notebook 04).

The rules are yours (notebooks 02 and 03); the network's initial weights are normal with a fixed std
(``init=0.1``) unless you pass an initializer, such as your ``he`` of notebook 05.

- ``fit``: a fresh ``MLP`` trained with one rule: ``(model, History)``.
- ``fit_switching``: one rule for the first epochs, another for the rest (Adam -> SGD, after
  Keskar & Socher 2017, with the switch point and the second rule's settings fixed by hand).
- ``concat``: two ``History`` objects, the second continuing the first.

>>> from course_lib import data
>>> ds = data.load_digits()
>>> net, history = fit([64, 32, 10], ds.X_train, ds.y_train, ds.X_test, ds.y_test, adam, epochs=2)   # your adam
>>> len(history.val_accuracy)
2
"""

from .model import MLP
from .train import History, train

__all__ = ["fit", "fit_switching", "concat"]


def fit(sizes, X, y, X_val, y_val, rule, config=None, schedule=None, epochs=20, seed=0, description=None,
        init=0.1):
    """Train a new ``MLP(sizes, init=init, seed=seed)`` with ``rule``; return ``(model, History)``.

    X: (N, D) training inputs, y: (N,) labels; X_val, y_val: the held-out set whose accuracy the
    history records each epoch. rule, config, schedule, epochs: as in ``course_lib.train.train``.
    seed: the initial weights and the order of the minibatches. init: as in ``MLP``: the std of
    every initial weight (0.1), or a function ``(fan_in, fan_out, rng) -> array``.
    """
    model = MLP(sizes, init=init, seed=seed)
    history = train(model, X, y, X_val, y_val, rule=rule, config=config, schedule=schedule, epochs=epochs,
                    seed=seed, description=description or getattr(rule, "__name__", None))
    return model, history


def fit_switching(sizes, X, y, X_val, y_val, first, then, switch_epoch, epochs=20, seed=0, init=0.1):
    """Train a new ``MLP(sizes, init=init, seed=seed)`` with one rule, then another; return ``(model, History)``.

    first, then: ``(rule, config)`` pairs. ``first`` trains epochs 1..switch_epoch, ``then`` the
    remaining ``epochs - switch_epoch`` epochs, starting from fresh state (its own velocity).
    The history covers all epochs. The two phases draw their minibatch orders from ``seed`` and
    ``seed + 1``, so the second phase does not replay the first one's batches. init: as in ``fit``.
    """
    if not 0 < switch_epoch < epochs:
        raise ValueError(f"fit_switching: switch_epoch must be between 1 and epochs - 1 = {epochs - 1}, "
                         f"got {switch_epoch!r}")
    (rule_a, config_a), (rule_b, config_b) = first, then
    model = MLP(sizes, init=init, seed=seed)
    before = train(model, X, y, X_val, y_val, rule=rule_a, config=config_a, epochs=switch_epoch, seed=seed,
                   description=f"{rule_a.__name__} then {rule_b.__name__}")
    after = train(model, X, y, X_val, y_val, rule=rule_b, config=config_b, epochs=epochs - switch_epoch,
                  seed=seed + 1, description=f"{rule_a.__name__} then {rule_b.__name__}")
    return model, concat(before, after)


def concat(first, second):
    """One ``History`` of ``first`` followed by ``second`` (same batch size: same steps per epoch)."""
    if first.steps_per_epoch != second.steps_per_epoch:
        raise ValueError(f"concat: the histories have {first.steps_per_epoch} and {second.steps_per_epoch} "
                         f"steps per epoch; train both parts with the same data and batch size")
    return History(loss=first.loss + second.loss, learning_rate=first.learning_rate + second.learning_rate,
                   train_accuracy=first.train_accuracy + second.train_accuracy,
                   val_accuracy=first.val_accuracy + second.val_accuracy, steps_per_epoch=first.steps_per_epoch)
