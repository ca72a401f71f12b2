"""Ensembles: softmax against hand-computed values, the ensemble's accuracy against a worked example."""

import numpy as np
import pytest

from course_lib.ensembles import ensemble_accuracy, softmax


def test_softmax_of_hand_computed_scores():
    # softmax(0, log 3) = (1, 3) / 4
    np.testing.assert_allclose(softmax(np.array([[0.0, np.log(3.0)]])), [[0.25, 0.75]], rtol=1e-12)


def test_softmax_does_not_overflow_and_ignores_a_shift():
    scores = np.array([[1000.0, 1001.0, 999.0], [-5.0, 0.0, 5.0]])
    p = softmax(scores)
    assert np.isfinite(p).all()
    np.testing.assert_allclose(p.sum(axis=1), 1.0)
    np.testing.assert_allclose(p[0], softmax(scores[0] - 1000.0), rtol=1e-12)


def test_ensemble_averages_probabilities_not_votes():
    # Sample 0, label 1. Member 1 says class 0 (p = 0.88); member 2 says class 1 (p = 0.73): the average
    # of the two (0.58 for class 0) still says class 0; a third member sure of class 1 tips it.
    scores = np.array([[[2.0, 0.0]], [[0.0, 1.0]], [[0.0, 3.0]]])
    np.testing.assert_array_equal(ensemble_accuracy(scores, np.array([1])), [0.0, 0.0, 1.0])


def test_ensemble_accuracy_of_identical_members_is_the_members_accuracy():
    rng = np.random.default_rng(0)
    scores = rng.normal(size=(5, 40, 3))
    y = rng.integers(0, 3, 40)
    same = np.repeat(scores[:1], 4, axis=0)
    single = np.mean(scores[0].argmax(axis=1) == y)
    np.testing.assert_allclose(ensemble_accuracy(same, y), single)


def test_ensemble_accuracy_rejects_mismatched_shapes():
    with pytest.raises(ValueError, match=r"expected member_scores of shape \(K, N, C\) with N = len\(y\) = 3"):
        ensemble_accuracy(np.zeros((2, 4, 10)), np.zeros(3, dtype=int))
