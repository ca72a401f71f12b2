"""Layers as forward/backward pairs.

Every layer has two functions:

- ``out, cache = <layer>_forward(inputs..., params...)``
- ``d_inputs..., d_params... = <layer>_backward(dout, cache)``: the gradients of the loss
  with respect to the forward's array arguments, in the forward's argument order.

Shapes use N for the batch size, D for input features and M for output features.
Caches are named tuples, so a backward reads ``cache.x``, never ``cache[0]``. No function
modifies the arrays it is given.

The layers students implement (batch normalization in notebook 06, dropout in notebook 07)
are theirs: their references live in ``course_lib.reference``.
"""

from typing import NamedTuple

import numpy as np

__all__ = [
    "affine_forward", "affine_backward", "affine_param_grads",
    "relu_forward", "relu_backward",
    "sigmoid_forward", "sigmoid_backward",
    "tanh_forward", "tanh_backward",
    "log_softmax", "softmax_cross_entropy",
    "ACTIVATIONS", "check_mode",
]


def check_mode(layer, mode):
    """A clear ValueError unless ``mode`` is 'train' or 'test' (for layers with two modes)."""
    if mode not in ("train", "test"):
        raise ValueError(f"{layer}: mode must be 'train' or 'test', got {mode!r}")


# --------------------------------------------------------------------------------------
# Affine
# --------------------------------------------------------------------------------------

class AffineCache(NamedTuple):
    x: np.ndarray  # (N, D)
    w: np.ndarray  # (D, M)


def affine_forward(x, w, b):
    """Fully connected layer: ``out = x @ w + b``.

    x: (N, D), w: (D, M), b: (M,)  ->  out: (N, M); cache: AffineCache(x, w)
    """
    if x.ndim != 2 or w.ndim != 2 or x.shape[1] != w.shape[0] or b.shape != (w.shape[1],):
        raise ValueError(
            f"affine_forward: expected x (N, D), w (D, M), b (M,); got x {x.shape}, w {w.shape}, b {b.shape}")
    out = x @ w
    out += b
    return out, AffineCache(x, w)


def affine_backward(dout, cache):
    """dout: (N, M)  ->  dx: (N, D), dw: (D, M), db: (M,)"""
    return (dout @ cache.w.T, *affine_param_grads(dout, cache))


def affine_param_grads(dout, cache):
    """Only dw: (D, M) and db: (M,), for a first layer whose input needs no gradient."""
    return cache.x.T @ dout, dout.sum(axis=0)


# --------------------------------------------------------------------------------------
# Activations (cache: the array the backward needs)
# --------------------------------------------------------------------------------------

def relu_forward(x):
    """``max(0, x)``, any shape. cache: x."""
    return np.maximum(x, 0), x


def relu_backward(dout, cache):
    """``dout * (x > 0)``."""
    return np.where(cache > 0, dout, 0).astype(dout.dtype, copy=False)


def sigmoid_forward(x):
    """``1 / (1 + exp(-x))``, any shape. cache: out.

    For very negative x (below -88 in float32) exp(-x) overflows to inf, and 1 / (1 + inf) = 0
    is the right limit: the overflow is expected, so its warning is silenced.
    """
    with np.errstate(over="ignore"):
        out = 1 / (1 + np.exp(-x))
    return out, out


def sigmoid_backward(dout, cache):
    """``dout * s * (1 - s)`` with s the forward's output."""
    s = cache
    return dout * s * (1 - s)


def tanh_forward(x):
    """``tanh(x)``, any shape. cache: out."""
    out = np.tanh(x)
    return out, out


def tanh_backward(dout, cache):
    """``dout * (1 - tanh(x)**2)``."""
    return dout * (1 - cache * cache)


ACTIVATIONS = {
    "relu": (relu_forward, relu_backward),
    "sigmoid": (sigmoid_forward, sigmoid_backward),
    "tanh": (tanh_forward, tanh_backward),
}
"""Each activation's (forward, backward) pair by name."""


# --------------------------------------------------------------------------------------
# Loss
# --------------------------------------------------------------------------------------

def log_softmax(scores):
    """Log class probabilities from scores, along the last axis: (..., C) -> (..., C).

    ``s - max s - log sum exp(s - max s)``: subtracting each row's maximum changes nothing
    mathematically and keeps ``exp`` from overflowing.
    """
    shifted = scores - scores.max(axis=-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))


def softmax_cross_entropy(scores, y):
    """Mean softmax cross-entropy loss and its gradient.

    scores: (N, C) class scores; y: (N,) integer labels in [0, C).
    Returns (loss, dscores): a float and an array (N, C) of ``(softmax(scores) - onehot(y)) / N``.
    """
    y = np.asarray(y)
    if scores.ndim != 2 or y.shape != (scores.shape[0],):
        raise ValueError(f"softmax_cross_entropy: expected scores (N, C) and y (N,); got {scores.shape} and {y.shape}")
    n = scores.shape[0]
    log_probs = log_softmax(scores)
    rows = np.arange(n)
    loss = -float(log_probs[rows, y].mean())
    dscores = np.exp(log_probs)
    dscores[rows, y] -= 1
    dscores /= n
    return loss, dscores
