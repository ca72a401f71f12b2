"""Batch normalization (notebook 06): the reference forward/backward pair.

Shapes: N the batch size, D the features. ``batchnorm_forward`` keeps its running statistics in
the ``bn_param`` dict it is given (that is its contract); it changes no array it is given.
``layernorm_forward``/``layernorm_backward`` (Ba, Kiros & Hinton, 2016) are the same pair along
the other axis: each row is normalized over its D features; no running statistics, no mode.
"""

from typing import NamedTuple

import numpy as np

from course_lib.layers import check_mode

__all__ = ["BatchnormCache", "batchnorm_forward", "batchnorm_backward",
           "LayernormCache", "layernorm_forward", "layernorm_backward"]



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
    check_mode("batchnorm_forward", mode)
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


class LayernormCache(NamedTuple):
    x_hat: np.ndarray    # (N, D) normalized input
    gamma: np.ndarray    # (D,)
    inv_std: np.ndarray  # (N, 1) 1 / sqrt(var + eps), one per example (row)


def layernorm_forward(x, gamma, beta, ln_param):
    """Layer normalization (Ba, Kiros & Hinton, 2016): batchnorm's formula over each row.

    mu, var = mean and biased variance of each example's D features (over axis 1)
    x_hat = (x - mu) / sqrt(var + eps);  out = gamma * x_hat + beta

    x: (N, D); gamma, beta: (D,)  ->  out: (N, D), cache: LayernormCache
    ln_param: eps (1e-5). No running statistics and no mode: train and test are the same.
    Changes neither ln_param nor any array it is given.
    """
    if x.ndim != 2 or gamma.shape != (x.shape[1],) or beta.shape != (x.shape[1],):
        raise ValueError(
            f"layernorm_forward: expected x (N, D), gamma (D,), beta (D,); got {x.shape}, {gamma.shape}, {beta.shape}")
    eps = ln_param.get("eps", 1e-5)
    mu, var = x.mean(axis=1, keepdims=True), x.var(axis=1, keepdims=True)
    inv_std = 1 / np.sqrt(var + eps)
    x_hat = (x - mu) * inv_std
    return gamma * x_hat + beta, LayernormCache(x_hat, gamma, inv_std)


def layernorm_backward(dout, cache):
    """dout: (N, D)  ->  dx: (N, D), dgamma: (D,), dbeta: (D,)

    Each row's mean and variance depend on every feature of that row, which gives batchnorm's
    formula along axis 1: dx = inv_std * (dx_hat - mean(dx_hat) - x_hat * mean(dx_hat * x_hat)),
    means over the features; gamma and beta are still shared by the batch (sums over axis 0).
    """
    dgamma = (dout * cache.x_hat).sum(axis=0)
    dbeta = dout.sum(axis=0)
    dx_hat = dout * cache.gamma
    dx_hat = (dx_hat - dx_hat.mean(axis=1, keepdims=True)
              - cache.x_hat * (dx_hat * cache.x_hat).mean(axis=1, keepdims=True))
    return dx_hat * cache.inv_std, dgamma, dbeta
