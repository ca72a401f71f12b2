"""Layers as forward/backward pairs.

Every layer has two functions:

- ``out, cache = <layer>_forward(inputs..., params...)``
- ``d_inputs..., d_params... = <layer>_backward(dout, cache)``: the gradients of the loss
  with respect to the forward's array arguments, in the forward's argument order.

Shapes use N for the batch size, D for input features and M for output features.
Caches are named tuples, so a backward reads ``cache.x``, never ``cache[0]``. No function
modifies the arrays it is given; ``batchnorm_forward`` updates the running statistics in
the ``bn_param`` dict it is given (that is its contract).
"""

from typing import NamedTuple

import numpy as np

__all__ = [
    "affine_forward", "affine_backward", "affine_param_grads",
    "relu_forward", "relu_backward",
    "sigmoid_forward", "sigmoid_backward",
    "tanh_forward", "tanh_backward",
    "log_softmax", "softmax_cross_entropy",
    "batchnorm_forward", "batchnorm_backward",
    "dropout_forward", "dropout_backward",
    "ACTIVATIONS",
]


def _check_mode(layer, mode):
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


# --------------------------------------------------------------------------------------
# Batch normalization
# --------------------------------------------------------------------------------------

class BatchnormCache(NamedTuple):
    x_hat: np.ndarray    # (N, D) normalized input
    gamma: np.ndarray    # (D,)
    inv_std: np.ndarray  # (D,) 1 / sqrt(var + eps), of the batch (train) or the running variance (test)
    mode: str


def batchnorm_forward(x, gamma, beta, bn_param):
    """Batch normalization (Ioffe & Szegedy, 2015).

    train:  mu, var = mean and biased variance of the batch (over axis 0)
            x_hat = (x - mu) / sqrt(var + eps);  out = gamma * x_hat + beta
            running_mean = momentum * running_mean + (1 - momentum) * mu   (same for var)
    test:   x_hat uses running_mean and running_var instead.

    x: (N, D); gamma, beta: (D,)  ->  out: (N, D), cache: BatchnormCache
    bn_param: mode ('train' | 'test', required), eps (1e-5), momentum (0.9),
        running_mean (zeros (D,) at the start), running_var (ones (D,) at the start).
        The running statistics are written back into this dict.
    """
    mode = bn_param.get("mode")
    _check_mode("batchnorm_forward", mode)
    if x.ndim != 2 or gamma.shape != (x.shape[1],) or beta.shape != (x.shape[1],):
        raise ValueError(
            f"batchnorm_forward: expected x (N, D), gamma (D,), beta (D,); got {x.shape}, {gamma.shape}, {beta.shape}")
    eps, momentum = bn_param.get("eps", 1e-5), bn_param.get("momentum", 0.9)
    d = x.shape[1]
    running_mean = bn_param.get("running_mean", np.zeros(d, dtype=x.dtype))
    running_var = bn_param.get("running_var", np.ones(d, dtype=x.dtype))
    if mode == "train":
        mu, var = x.mean(axis=0), x.var(axis=0)
        bn_param["running_mean"] = momentum * running_mean + (1 - momentum) * mu
        bn_param["running_var"] = momentum * running_var + (1 - momentum) * var
    else:
        mu, var = running_mean, running_var
    inv_std = 1 / np.sqrt(var + eps)
    x_hat = (x - mu) * inv_std
    out = gamma * x_hat + beta
    return out, BatchnormCache(x_hat, gamma, inv_std, mode)


def batchnorm_backward(dout, cache):
    """dout: (N, D)  ->  dx: (N, D), dgamma: (D,), dbeta: (D,)

    In train mode the batch mean and variance depend on every row of x, which gives
    dx = inv_std * (dx_hat - mean(dx_hat) - x_hat * mean(dx_hat * x_hat)), means over the batch.
    In test mode the statistics are constants and dx = dx_hat * inv_std.
    """
    dgamma = (dout * cache.x_hat).sum(axis=0)
    dbeta = dout.sum(axis=0)
    dx_hat = dout * cache.gamma
    if cache.mode == "train":
        dx_hat = dx_hat - dx_hat.mean(axis=0) - cache.x_hat * (dx_hat * cache.x_hat).mean(axis=0)
    return dx_hat * cache.inv_std, dgamma, dbeta


# --------------------------------------------------------------------------------------
# Dropout
# --------------------------------------------------------------------------------------

class DropoutCache(NamedTuple):
    mask: np.ndarray  # same shape as x: 0 for a dropped unit, 1 / (1 - p) for a kept one
    mode: str


def dropout_forward(x, dropout_param):
    """Inverted dropout.

    train: each unit is dropped (set to 0) with probability p, and the kept ones are
           scaled by 1 / (1 - p), so that the expected output equals x.
    test:  the identity.

    x: any shape  ->  out: same shape, cache: DropoutCache(mask, mode)
    dropout_param: p (probability of dropping, 0 <= p < 1), mode ('train' | 'test'),
        seed (optional int, for a reproducible mask) or rng (optional numpy Generator).
    """
    p, mode = dropout_param.get("p"), dropout_param.get("mode")
    _check_mode("dropout_forward", mode)
    if p is None or not 0 <= p < 1:
        raise ValueError(f"dropout_forward: p, the probability of dropping a unit, must be in [0, 1), got {p!r}")
    if mode == "test":
        return x.copy(), DropoutCache(None, mode)
    rng = dropout_param.get("rng") or np.random.default_rng(dropout_param.get("seed"))
    mask = (rng.random(x.shape) >= p).astype(x.dtype) / np.asarray(1 - p, dtype=x.dtype)
    return x * mask, DropoutCache(mask, mode)


def dropout_backward(dout, cache):
    """dout: any shape  ->  dx: same shape; the kept units pass their gradient, scaled like the forward."""
    if cache.mode == "test":
        return dout.copy()
    return dout * cache.mask
