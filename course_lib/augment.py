"""Data augmentation on the fly: every image moved by its own random shift, drawn afresh each call.

Notebook 07 calls ``random_shifts`` once per epoch on the training images, so that the network
sees each image moved a different way every epoch (augmentation as in Simard et al. 2003),
instead of a fixed set of shifted copies.

>>> import numpy as np
>>> X = np.arange(9.0).reshape(1, 9)                          # one 3x3 image
>>> random_shifts(X, (3, 3), np.random.default_rng(0), shifts=[(1, 0)]).reshape(3, 3)
array([[0., 0., 1.],
       [0., 3., 4.],
       [0., 6., 7.]])
"""

import numpy as np

__all__ = ["ONE_PIXEL", "random_shifts"]

ONE_PIXEL = ((0, 0), (-1, 0), (1, 0), (0, -1), (0, 1))
"""(dx, dy) of the default shifts: none, one pixel left, right, up, down."""


def random_shifts(X, image_shape, rng, shifts=ONE_PIXEL):
    """Each image shifted by a (dx, dy) drawn uniformly from ``shifts``, zeros coming in.

    X: (N, H*W) images as rows.  image_shape: (H, W).  rng: a ``np.random.Generator``.
    shifts: the (dx, dy) to choose from: dx pixels to the right, dy pixels down (as
        ``data.shift_images``); the default is no shift or one pixel left, right, up or down.
    Returns a new array shaped and typed like X; X is not changed.
    """
    X = np.asarray(X)
    h, w = image_shape
    if X.ndim != 2 or X.shape[1] != h * w:
        raise ValueError(f"random_shifts: expected X of shape (N, {h * w}) for images of {image_shape}, "
                         f"got {X.shape}")
    shifts = np.asarray(shifts, dtype=int).reshape(-1, 2)
    if len(shifts) == 0:
        raise ValueError("random_shifts: shifts is empty; give at least one (dx, dy)")
    pad = int(np.abs(shifts).max())
    images = np.pad(X.reshape(len(X), h, w), ((0, 0), (pad, pad), (pad, pad)))
    dx, dy = shifts[rng.integers(len(shifts), size=len(X))].T
    # out[y, x] = image[y - dy, x - dx]: read the padded image at (y - dy + pad, x - dx + pad)
    rows = (pad - dy)[:, None] + np.arange(h)
    cols = (pad - dx)[:, None] + np.arange(w)
    out = images[np.arange(len(X))[:, None, None], rows[:, :, None], cols[:, None, :]]
    return out.reshape(len(X), h * w)
