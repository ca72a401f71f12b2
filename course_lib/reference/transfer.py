"""Transfer learning (notebook 08): a pretrained network's parameters with a new last layer.

``new = transfer_params(params, num_classes, seed=0, std=0.01)`` takes the ``params`` of a
``course_lib.model.MLP`` trained on one task (``W1, b1, ..., WL, bL``, with ``gamma_i, beta_i``
under batchnorm or layernorm) and returns those of a network for another task with
``num_classes`` classes: every hidden layer kept (copied: training the new network must leave
the pretrained one as it was), the last layer, the "head", drawn afresh. See Yosinski et al.
2014, "How transferable are features in deep neural networks?", and Goodfellow, Bengio &
Courville, *Deep Learning* (2016), §15.2.
"""

import re

import numpy as np

__all__ = ["transfer_params"]

_WEIGHT = re.compile(r"W(\d+)")


def transfer_params(params, num_classes, seed=0, std=0.01):
    """The parameters of a network for ``num_classes`` classes, from pretrained ``params``.

    params: dict of arrays ``W1 (D, H1), b1 (H1,), ..., WL (H, C), bL (C,)`` (and ``gamma_i,
        beta_i``); L is the largest i of a key ``Wi``. Never changed.
    num_classes: C', the new task's number of classes, >= 1.
    seed, std: the new head is ``np.random.default_rng(seed).normal(0.0, std, size=(H, C'))``.
    Returns a new dict with the keys of ``params``, in their order: each array a copy of the
    pretrained one (never the same array), except ``WL``, the new head (in the dtype of the old
    ``WL``), and ``bL = zeros(C')`` (same dtype).
    """
    layers = [int(m.group(1)) for key in params if (m := _WEIGHT.fullmatch(key))]
    if not layers:
        raise ValueError(f"transfer_params: params has no weight W1, W2, ...; its keys are {list(params)}")
    if int(num_classes) != num_classes or num_classes < 1:
        raise ValueError(f"transfer_params: num_classes must be a whole number >= 1, got {num_classes!r}")
    last = max(layers)
    old_w, old_b = params[f"W{last}"], params.get(f"b{last}")
    head = np.random.default_rng(seed).normal(0.0, std, size=(old_w.shape[0], int(num_classes)))
    new = {key: np.array(value, copy=True) for key, value in params.items()}
    new[f"W{last}"] = head.astype(old_w.dtype)
    new[f"b{last}"] = np.zeros(int(num_classes), dtype=old_w.dtype if old_b is None else old_b.dtype)
    return new
