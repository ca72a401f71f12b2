"""The network's gradients against central differences; the trainer's behaviour and errors."""

import numpy as np
import pytest

from course_lib import data
from course_lib.reference import adaptive, momentum, schedules, batchnorm, regularization, init as reference_init
from course_lib.gradcheck import rel_error
from course_lib.reference.descent import numerical_gradient
from course_lib.model import MLP
from course_lib.train import train


BATCHNORM = (batchnorm.batchnorm_forward, batchnorm.batchnorm_backward)
DROPOUT = (regularization.dropout_forward, regularization.dropout_backward)
L2 = regularization.l2_penalty


def numeric_gradients(net, X, y, before=None):
    """``{name: central-difference gradient of net's loss on (X, y) with respect to params[name]}``;
    ``before()`` runs before every loss evaluation (e.g. to replay the same dropout masks)."""
    def loss(v, name):
        saved, net.params[name] = net.params[name], v
        if before is not None:
            before()
        try:
            return net.loss(X, y)[0]
        finally:
            net.params[name] = saved
    return {name: numerical_gradient(lambda v, name=name: loss(v, name), value)
            for name, value in net.params.items()}


@pytest.mark.parametrize("options", [
    {"activation": "relu"},
    {"activation": "sigmoid", "weight_decay": 0.1, "penalty": L2},
    {"activation": "tanh", "batchnorm": BATCHNORM, "weight_decay": 0.05, "penalty": L2},
], ids=["relu", "sigmoid+l2", "tanh+batchnorm+l2"])
def test_network_gradients_match_central_differences(options):
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((7, 6)), rng.integers(0, 4, 7)
    net = MLP([6, 9, 5, 4], init=reference_init.xavier, dtype=np.float64, seed=2, **options)
    _, grads = net.loss(X, y)
    for name, numeric in numeric_gradients(net, X, y).items():
        if options.get("batchnorm") and name in ("b1", "b2"):
            # a bias before batchnorm is removed by the normalization: its gradient is exactly 0
            np.testing.assert_allclose(grads[name], 0, atol=1e-12)
            np.testing.assert_allclose(numeric, 0, atol=1e-8)
        else:
            assert rel_error(numeric, grads[name]) < 1e-6, name


def test_dropout_network_gradients_with_a_fixed_mask():
    X, y = np.random.default_rng(1).standard_normal((5, 4)), np.array([0, 1, 2, 1, 0])
    net = MLP([4, 8, 3], dropout=0.3, dropout_layer=DROPOUT, init=reference_init.he, dtype=np.float64, seed=0)
    def same_masks():
        net.rng = np.random.default_rng(42)
    same_masks()
    _, grads = net.loss(X, y)
    for name, numeric in numeric_gradients(net, X, y, before=same_masks).items():
        assert rel_error(numeric, grads[name]) < 1e-6, name


def test_network_shapes_parameters_and_dtype():
    net = MLP([64, 30, 20, 10], batchnorm=BATCHNORM, seed=0)
    assert sorted(net.params) == sorted(["W1", "b1", "gamma1", "beta1", "W2", "b2", "gamma2", "beta2", "W3", "b3"])
    assert net.params["W2"].shape == (30, 20) and net.params["W2"].dtype == np.float32
    X = np.random.default_rng(0).random((5, 64), dtype=np.float32)
    assert net.scores(X).shape == (5, 10) and net.predict(X).shape == (5,)
    assert [a.shape for a in net.hidden_activations(X)] == [(5, 30), (5, 20)]


def test_network_initializer_choices():
    assert MLP([100, 50, 10], init=0.01, seed=0).params["W1"].std() == pytest.approx(0.01, rel=0.05)
    assert MLP([100, 50, 10], init=reference_init.xavier, seed=0).params["W1"].std() == pytest.approx(
        reference_init.xavier_std(100, 50), rel=0.05)
    np.testing.assert_array_equal(MLP([5, 3], seed=3).params["W1"], MLP([5, 3], seed=3).params["W1"])


@pytest.mark.parametrize("kwargs, message", [
    ({"sizes": [5]}, "at least"), ({"sizes": [5, 3], "activation": "gelu"}, "activation must be one of"),
    ({"sizes": [5, 3], "init": "glorot"}, "init must be a std"), ({"sizes": [5, 3], "dropout": 1.0}, "dropout"),
    ({"sizes": [5, 3], "weight_decay": -1}, "weight_decay"),
    ({"sizes": [5, 3], "dropout": 0.5}, "needs dropout_layer"), ({"sizes": [5, 3], "weight_decay": 0.1}, "needs penalty"),
    ({"sizes": [5, 3], "batchnorm": True}, "batchnorm must be None or a pair of functions"),
])
def test_network_rejects_bad_options(kwargs, message):
    with pytest.raises(ValueError, match=message):
        MLP(**kwargs)


def test_network_rejects_wrong_input_width():
    with pytest.raises(ValueError, match=r"expected X of shape \(N, 5\), got \(2, 4\)"):
        MLP([5, 3]).scores(np.zeros((2, 4)))


@pytest.fixture(scope="module")
def digits():
    return data.load_digits()


def test_training_learns_digits_and_is_reproducible(digits):
    def run():
        net = MLP([64, 50, 10], init=reference_init.he, seed=0)
        return train(net, digits.X_train, digits.y_train, digits.X_test, digits.y_test, rule=adaptive.adam,
                     config={"learning_rate": 3e-3}, epochs=5, progress=False)
    h = run()
    assert h.steps_per_epoch == 15 and len(h.loss) == 75 and len(h.val_accuracy) == 5
    assert h.epoch_loss()[-1] < 0.5 * h.epoch_loss()[0]
    assert h.val_accuracy[-1] > 0.9
    assert h.loss == run().loss


def test_training_follows_the_schedule(digits):
    net = MLP([64, 10], seed=0)
    h = train(net, digits.X_train, digits.y_train, rule=momentum.sgd, epochs=2, progress=False,
              schedule=lambda t: schedules.step_decay(0.1, t, every=10))
    assert h.learning_rate == [schedules.step_decay(0.1, t, every=10) for t in range(30)]
    assert np.isnan(h.val_accuracy).all()


def test_training_stops_with_the_step_and_learning_rate_when_the_loss_diverges(digits):
    net = MLP([64, 10], seed=0)       # one step of this size overflows float32 scores to inf
    with pytest.raises(FloatingPointError, match=r"the loss is (nan|inf) at step 1 \(epoch 1\) with learning_rate=1e\+38"):
        with np.errstate(all="ignore"):
            train(net, digits.X_train, digits.y_train, rule=momentum.sgd, config={"learning_rate": 1e38},
                  epochs=1, progress=False)


def test_training_rejects_mismatched_data(digits):
    with pytest.raises(ValueError, match="X has 1438 rows but y has 10"):
        train(MLP([64, 10]), digits.X_train, digits.y_train[:10], rule=momentum.sgd, progress=False)
    with pytest.raises(ValueError, match="give both X_val and y_val"):
        train(MLP([64, 10]), digits.X_train, digits.y_train, X_val=digits.X_test, rule=momentum.sgd, progress=False)


def test_training_clips_the_gradients_with_the_function_given(digits):
    seen = []

    def clip(grads, max_norm):
        seen.append(max_norm)
        return schedules.clip_by_global_norm(grads, max_norm)

    def steps(**options):
        net = MLP([64, 10], seed=0)
        h = train(net, digits.X_train, digits.y_train, rule=momentum.sgd, config={"learning_rate": 0.1}, epochs=1,
                  progress=False, **options)
        return net, h

    net, h = steps(clip=(clip, 1e-3))
    assert seen == [1e-3] * 15 and len(h.grad_norm) == 15 and min(h.grad_norm) > 1e-3
    plain, h_plain = steps()
    assert h_plain.grad_norm == [] and h.loss[0] == h_plain.loss[0]
    start = MLP([64, 10], seed=0).params     # each clipped step moves the weights by lr * 1e-3 at most
    moved = np.sqrt(sum(np.sum((net.params[k] - start[k]) ** 2) for k in start))
    assert moved <= 15 * 0.1 * 1e-3 * (1 + 1e-4)
    assert moved < np.sqrt(sum(np.sum((plain.params[k] - start[k]) ** 2) for k in start))
    with pytest.raises(TypeError, match="clip must be None or a pair"):
        train(MLP([64, 10]), digits.X_train, digits.y_train, rule=momentum.sgd, progress=False,
              clip=schedules.clip_by_global_norm)


LAYERNORM = (batchnorm.layernorm_forward, batchnorm.layernorm_backward)


@pytest.mark.parametrize("activation", ["relu", "tanh"])
def test_layernorm_network_gradients_match_central_differences(activation):
    rng = np.random.default_rng(3)
    X, y = rng.standard_normal((7, 6)), rng.integers(0, 4, 7)
    net = MLP([6, 9, 5, 4], activation=activation, init=reference_init.xavier, layernorm=LAYERNORM,
              dtype=np.float64, seed=4)
    net.params["beta1"] = rng.normal(0, 0.5, 9)    # off the defaults, so that no gradient is 0 by symmetry
    net.params["gamma2"] = rng.uniform(0.5, 1.5, 5)
    _, grads = net.loss(X, y)
    assert sorted(grads) == sorted(net.params)
    for name, numeric in numeric_gradients(net, X, y).items():
        assert rel_error(numeric, grads[name]) < 1e-6, name


def test_layernorm_network_is_the_same_in_train_and_test_mode_and_per_example():
    X = np.random.default_rng(5).standard_normal((6, 8))
    net = MLP([8, 7, 7, 3], layernorm=LAYERNORM, dtype=np.float64, seed=1)
    assert sorted(net.params) == sorted(["W1", "b1", "gamma1", "beta1", "W2", "b2", "gamma2", "beta2", "W3", "b3"])
    train_mode = net._forward(X, "train")[0]
    np.testing.assert_allclose(net.scores(X), train_mode, rtol=1e-12)
    np.testing.assert_allclose(net.scores(X[:1]), train_mode[:1], rtol=1e-12)   # alone or in a batch
    assert net.ln_params == [{}, {}] and net.bn_params == [{"mode": "train"}, {"mode": "train"}]


def test_network_rejects_batchnorm_and_layernorm_together():
    with pytest.raises(ValueError, match="batchnorm or layernorm, not both"):
        MLP([5, 4, 3], batchnorm=BATCHNORM, layernorm=LAYERNORM)
    with pytest.raises(ValueError, match="layernorm must be None or a pair of functions"):
        MLP([5, 4, 3], layernorm=True)


# ---------------------------------------------------------------- frozen parameters

def test_frozen_parameters_stay_bit_identical_and_the_others_train(digits):
    net = MLP([64, 20, 16, 10], init=reference_init.he, seed=0)
    before = {name: w.copy() for name, w in net.params.items()}
    frozen = ("W1", "b1", "W2", "b2")
    called = []

    def rule(w, dw, config=None):
        called.append(w.shape)
        return adaptive.adam(w, dw, config)

    h = train(net, digits.X_train, digits.y_train, rule=rule, config={"learning_rate": 1e-2}, epochs=2,
              progress=False, frozen=frozen)
    for name in frozen:
        assert net.params[name].tobytes() == before[name].tobytes() and net.params[name].dtype == before[name].dtype
    for name in ("W3", "b3"):
        assert not np.array_equal(net.params[name], before[name])
    assert set(called) == {(16, 10), (10,)} and len(called) == 2 * len(h.loss)   # the rule is never called on W1 ... b2
    assert h.epoch_loss()[-1] < h.epoch_loss()[0]


def test_nothing_frozen_trains_like_before(digits):
    def run(**frozen):
        net = MLP([64, 12, 10], seed=1)
        train(net, digits.X_train, digits.y_train, rule=momentum.sgd, epochs=1, progress=False, **frozen)
        return net.params

    assert all(np.array_equal(a, b) for a, b in zip(run().values(), run(frozen=()).values()))


def test_frozen_names_the_unknown_parameters_and_lists_the_valid_ones(digits):
    with pytest.raises(ValueError, match=r"frozen names \['W9', 'gamma1'\] are not parameters of the model; "
                                         r"its parameters are \['W1', 'b1', 'W2', 'b2'\]"):
        train(MLP([64, 8, 10]), digits.X_train, digits.y_train, rule=momentum.sgd, progress=False,
              frozen=["W1", "W9", "gamma1"])


def test_freezing_every_parameter_is_an_error(digits):
    with pytest.raises(ValueError, match=r"frozen holds every parameter of the model \(\['W1', 'b1'\]\), so nothing "
                                         r"would be trained"):
        train(MLP([64, 10]), digits.X_train, digits.y_train, rule=momentum.sgd, progress=False, frozen=("W1", "b1"))
