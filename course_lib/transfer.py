"""Transfer learning's data: one data set split by class into a source task and a target task.

>>> from course_lib import data, transfer
>>> digits = data.load_dataset("digits")
>>> source, target = transfer.split_classes(digits, [0, 1, 2, 3, 4])
>>> sorted(set(target.y_train.tolist()))   # digits 5-9, relabelled 0-4
[0, 1, 2, 3, 4]
>>> X, y = transfer.per_class(target.X_train, target.y_train, 2, seed=0)
>>> len(y)
10
"""

import numpy as np

from .data import Dataset

__all__ = ["split_classes", "per_class"]


def split_classes(dataset, source_classes):
    """``(source, target)``: two Datasets, the images of ``source_classes`` and those of every other
    class, each relabelled 0, 1, ... in the order of its original labels (digits 5-9 become 0-4).

    dataset: a ``course_lib.data.Dataset``; its training and test sets are split alike.
    source_classes: the labels of the source task, a non-empty proper subset of the labels.
    """
    labels = np.unique(np.concatenate([dataset.y_train, dataset.y_test]))
    source = np.unique(np.asarray(list(source_classes)))
    unknown = sorted(set(source.tolist()) - set(labels.tolist()))
    if len(source) == 0 or unknown or len(source) == len(labels):
        raise ValueError(f"split_classes: source_classes must be some, not all, of the labels {labels.tolist()}; got "
                         f"{list(source_classes)!r}" + (f" ({unknown} are not labels)" if unknown else ""))
    target = np.setdiff1d(labels, source)

    def part(classes, name):
        relabel = {int(c): i for i, c in enumerate(classes)}

        def keep(X, y):
            mask = np.isin(y, classes)
            return X[mask], np.array([relabel[int(c)] for c in y[mask]], dtype=y.dtype)

        return Dataset(f"{dataset.name} {name} {classes.tolist()}", dataset.source,
                       *keep(dataset.X_train, dataset.y_train), *keep(dataset.X_test, dataset.y_test),
                       dataset.image_shape, n_classes=len(classes))

    return part(source, "source"), part(target, "target")


def per_class(X, y, n, seed=0):
    """The first ``n`` images of each class in a random order drawn from ``seed``: ``(X_n, y_n)``,
    shuffled. A class with fewer than ``n`` images gives all it has; ``n=None`` takes every image.
    With one seed, the images for a smaller n are among those for a larger one (nested sets)."""
    if n is not None and (int(n) != n or n < 1):
        raise ValueError(f"per_class: n must be a whole number >= 1 or None (every image), got {n!r}")
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(y))
    chosen = np.concatenate([order[y[order] == c][:n] for c in np.unique(y)])
    chosen = rng.permutation(chosen)
    return X[chosen], y[chosen]
