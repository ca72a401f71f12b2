"""course_lib.transfer: splitting a data set by class, and taking n images per class."""

import numpy as np
import pytest

from course_lib import data, transfer


@pytest.fixture(scope="module")
def digits():
    return data.load_digits()


def test_split_classes_relabels_and_keeps_every_image(digits):
    source, target = transfer.split_classes(digits, [0, 1, 2, 3, 4])
    assert source.n_classes == target.n_classes == 5
    assert len(source.y_train) + len(target.y_train) == len(digits.y_train)
    assert len(source.y_test) + len(target.y_test) == len(digits.y_test)
    assert set(source.y_train) == set(target.y_test) == {0, 1, 2, 3, 4}
    fives = digits.X_train[digits.y_train == 5]
    assert np.array_equal(target.X_train[target.y_train == 0], fives)
    assert source.y_train.dtype == digits.y_train.dtype and target.X_train.dtype == digits.X_train.dtype


@pytest.mark.parametrize("classes, said", [([], "got []"), (range(10), "got [0, 1, 2"), ([3, 11], "[11] are not")])
def test_split_classes_rejects_bad_classes(digits, classes, said):
    with pytest.raises(ValueError, match=r"source_classes must be some, not all, of the labels") as error:
        transfer.split_classes(digits, classes)
    assert said in str(error.value)


def test_per_class_takes_n_of_each_class_nested_and_reproducible(digits):
    X, y = transfer.per_class(digits.X_train, digits.y_train, 3, seed=4)
    assert np.bincount(y).tolist() == [3] * 10
    X_again, y_again = transfer.per_class(digits.X_train, digits.y_train, 3, seed=4)
    assert np.array_equal(X, X_again) and np.array_equal(y, y_again)
    X_more, _ = transfer.per_class(digits.X_train, digits.y_train, 10, seed=4)
    rows = {row.tobytes() for row in X_more}
    assert all(row.tobytes() in rows for row in X)
    X_other, _ = transfer.per_class(digits.X_train, digits.y_train, 3, seed=5)
    assert not np.array_equal(np.sort(X, axis=0), np.sort(X_other, axis=0))


def test_per_class_none_is_everything_and_bad_n_is_an_error(digits):
    X, y = transfer.per_class(digits.X_train, digits.y_train, None)
    assert len(y) == len(digits.y_train) and np.array_equal(np.bincount(y), np.bincount(digits.y_train))
    with pytest.raises(ValueError, match="n must be a whole number >= 1 or None"):
        transfer.per_class(digits.X_train, digits.y_train, 0)
