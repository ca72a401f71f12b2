"""course_lib.compare: training runs for comparing update rules."""

import numpy as np
import pytest

from course_lib.reference import adaptive, momentum
from course_lib.compare import concat, fit, fit_switching
from course_lib.train import History

SIZES = [6, 5, 3]


@pytest.fixture(scope="module")
def toy():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 6)).astype(np.float32)
    y = (X[:, 0] > 0).astype(int) + (X[:, 1] > 0)
    return X[:30], y[:30], X[30:], y[30:]


def counting(rule, calls):
    """``rule``, recording in ``calls`` the name of each call."""
    def counted(w, dw, config=None):
        calls.append(rule.__name__)
        return rule(w, dw, config)
    counted.__name__ = rule.__name__
    return counted


def test_fit_records_every_epoch(toy):
    model, history = fit(SIZES, *toy, momentum.sgd, {"learning_rate": 0.1}, epochs=3, seed=1)
    assert len(history.val_accuracy) == 3 and len(history.loss) == 3 * history.steps_per_epoch
    assert history.val_accuracy[-1] == model.accuracy(toy[2], toy[3])


def test_fit_is_reproducible(toy):
    _, a = fit(SIZES, *toy, adaptive.adam, epochs=2, seed=3)
    _, b = fit(SIZES, *toy, adaptive.adam, epochs=2, seed=3)
    assert a.loss == b.loss


@pytest.mark.parametrize("std", [0.1, 0.5])
def test_fit_draws_the_weights_with_the_given_std(std):
    rng = np.random.default_rng(1)
    X, y = rng.normal(size=(20, 60)).astype(np.float32), rng.integers(0, 3, size=20)
    model, _ = fit([60, 50, 3], X, y, X, y, momentum.sgd, {"learning_rate": 1e-12}, epochs=1, init=std)
    assert np.std(model.params["W1"]) == pytest.approx(std, rel=0.05)   # 3,000 weights: about 1 %


def test_fit_and_fit_switching_call_an_init_function_with_the_fans(toy):
    fans = []

    def init(fan_in, fan_out, rng):
        fans.append((fan_in, fan_out))
        return np.zeros((fan_in, fan_out))

    model, _ = fit(SIZES, *toy, momentum.sgd, {"learning_rate": 1e-12}, epochs=1, init=init)
    fit_switching(SIZES, *toy, (momentum.sgd, None), (momentum.sgd, None), switch_epoch=1, epochs=2, init=init)
    assert fans == [(6, 5), (5, 3)] * 2
    assert not model.params["W1"].any()


def test_fit_passes_the_schedule(toy):
    _, history = fit(SIZES, *toy, momentum.sgd, schedule=lambda t: 0.1 / (1 + t), epochs=1)
    assert history.learning_rate == [0.1 / (1 + t) for t in range(history.steps_per_epoch)]


def test_switching_uses_each_rule_for_its_epochs(toy):
    calls = []
    _, history = fit_switching(SIZES, *toy, (counting(adaptive.adam, calls), None),
                               (counting(momentum.sgd_momentum, calls), {"learning_rate": 0.05}), switch_epoch=2, epochs=5)
    n_params = 2 * (len(SIZES) - 1)                      # W and b per layer: one rule call each per step
    assert calls == ["adam"] * (2 * history.steps_per_epoch * n_params) + \
        ["sgd_momentum"] * (3 * history.steps_per_epoch * n_params)
    assert len(history.val_accuracy) == 5


def test_switching_continues_the_same_model(toy):
    """The second phase starts where the first stopped: its first loss is near the first phase's last."""
    _, history = fit_switching(SIZES, *toy, (adaptive.adam, {"learning_rate": 0.01}),
                               (momentum.sgd, {"learning_rate": 1e-6}), switch_epoch=4, epochs=5)
    _, fresh = fit(SIZES, *toy, momentum.sgd, {"learning_rate": 1e-6}, epochs=1)
    n = history.steps_per_epoch
    assert abs(np.mean(history.loss[-n:]) - np.mean(history.loss[3 * n:4 * n])) < \
        abs(np.mean(fresh.loss) - np.mean(history.loss[3 * n:4 * n]))


@pytest.mark.parametrize("switch_epoch", [0, 5, 7])
def test_switch_epoch_outside_the_run_is_an_error(toy, switch_epoch):
    with pytest.raises(ValueError, match="switch_epoch must be between 1 and epochs - 1 = 4"):
        fit_switching(SIZES, *toy, (adaptive.adam, None), (momentum.sgd, None), switch_epoch=switch_epoch, epochs=5)


def test_concat_joins_in_order():
    a = History(loss=[3.0, 2.0], learning_rate=[1.0, 1.0], train_accuracy=[0.5], val_accuracy=[0.4], steps_per_epoch=2)
    b = History(loss=[1.0, 0.5], learning_rate=[0.1, 0.1], train_accuracy=[0.9], val_accuracy=[0.8], steps_per_epoch=2)
    c = concat(a, b)
    assert (c.loss, c.learning_rate, c.train_accuracy, c.val_accuracy, c.steps_per_epoch) == \
        ([3.0, 2.0, 1.0, 0.5], [1.0, 1.0, 0.1, 0.1], [0.5, 0.9], [0.4, 0.8], 2)
    assert a.loss == [3.0, 2.0]


def test_concat_of_different_epochs_is_an_error():
    with pytest.raises(ValueError, match="2 and 3 steps per epoch"):
        concat(History(steps_per_epoch=2), History(steps_per_epoch=3))
