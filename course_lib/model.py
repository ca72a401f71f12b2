"""A small fully connected network built from ``course_lib.layers``.

Each hidden layer is  affine -> [batchnorm] -> activation -> [dropout];  the last layer is
affine, followed by the softmax cross-entropy loss. Parameters live in ``model.params``:
``W1, b1, ..., WL, bL`` and, with batchnorm, ``gamma1, beta1, ...`` for the hidden layers.
"""

import numpy as np

from . import init as initializers
from .layers import (ACTIVATIONS, affine_backward, affine_forward, affine_param_grads, batchnorm_backward,
                     batchnorm_forward, dropout_backward, dropout_forward, softmax_cross_entropy)
from .regularization import l2_penalty

__all__ = ["MLP"]


def _initializer(init):
    """An initializer function from a name ('he', 'xavier', ...), a std (float) or a function."""
    if callable(init):
        return init
    if isinstance(init, str) and init in initializers.INITIALIZERS:
        return initializers.INITIALIZERS[init]
    if isinstance(init, (int, float)) and not isinstance(init, bool):
        return initializers.normal(float(init))
    raise ValueError(f"MLP: init must be one of {sorted(initializers.INITIALIZERS)}, a std (float) "
                     f"or a function (fan_in, fan_out, rng) -> array; got {init!r}")


class MLP:
    """A fully connected classifier.

    sizes: [D, H1, ..., C]: input features, hidden widths, classes (at least two entries).
    activation: 'relu', 'sigmoid' or 'tanh'.
    init: initializer name, a std, or a function (fan_in, fan_out, rng) -> (fan_in, fan_out) array.
    batchnorm: normalize each hidden layer's pre-activations.
    dropout: probability of dropping a hidden unit in training (0 for none).
    weight_decay: L2 penalty strength lam (loss + lam/2 * sum ||W||^2, weights only, not biases).
    seed: seeds the initial weights and the dropout masks.  dtype: float32 (default) or float64.
    """

    def __init__(self, sizes, activation="relu", init="he", batchnorm=False, dropout=0.0, weight_decay=0.0,
                 seed=0, dtype=np.float32):
        if len(sizes) < 2 or any(int(s) != s or s < 1 for s in sizes):
            raise ValueError(f"MLP: sizes must be at least [inputs, classes] of positive integers, got {sizes!r}")
        if activation not in ACTIVATIONS:
            raise ValueError(f"MLP: activation must be one of {sorted(ACTIVATIONS)}, got {activation!r}")
        if not 0 <= dropout < 1:
            raise ValueError(f"MLP: dropout is the probability of dropping a unit, in [0, 1); got {dropout!r}")
        if weight_decay < 0:
            raise ValueError(f"MLP: weight_decay must be >= 0, got {weight_decay!r}")
        self.sizes, self.activation = list(sizes), activation
        self.batchnorm, self.dropout, self.weight_decay = batchnorm, dropout, weight_decay
        self.dtype = np.dtype(dtype)
        self.rng = np.random.default_rng(seed)
        make = _initializer(init)
        self.params = {}
        for i, (fan_in, fan_out) in enumerate(zip(sizes[:-1], sizes[1:]), start=1):
            self.params[f"W{i}"] = np.asarray(make(fan_in, fan_out, self.rng), dtype=self.dtype)
            self.params[f"b{i}"] = np.zeros(fan_out, dtype=self.dtype)
            if batchnorm and i < len(sizes) - 1:
                self.params[f"gamma{i}"] = np.ones(fan_out, dtype=self.dtype)
                self.params[f"beta{i}"] = np.zeros(fan_out, dtype=self.dtype)
        self.bn_params = [{"mode": "train"} for _ in range(len(sizes) - 2)]

    @property
    def num_layers(self):
        return len(self.sizes) - 1

    def _forward(self, X, mode):
        """Scores (N, C), the caches for the backward, and each hidden layer's activations."""
        if X.ndim != 2 or X.shape[1] != self.sizes[0]:
            raise ValueError(f"MLP: expected X of shape (N, {self.sizes[0]}), got {X.shape}")
        act_forward = ACTIVATIONS[self.activation][0]
        h, caches, activations = X.astype(self.dtype, copy=False), [], []
        for i in range(1, self.num_layers):
            h, affine = affine_forward(h, self.params[f"W{i}"], self.params[f"b{i}"])
            bn = None
            if self.batchnorm:
                bn_param = self.bn_params[i - 1]
                bn_param["mode"] = mode
                h, bn = batchnorm_forward(h, self.params[f"gamma{i}"], self.params[f"beta{i}"], bn_param)
            h, act = act_forward(h)
            activations.append(h)
            drop = None
            if self.dropout > 0:
                h, drop = dropout_forward(h, {"p": self.dropout, "mode": mode, "rng": self.rng})
            caches.append((affine, bn, act, drop))
        L = self.num_layers
        scores, last = affine_forward(h, self.params[f"W{L}"], self.params[f"b{L}"])
        return scores, caches + [last], activations

    def scores(self, X):
        """Class scores (N, C) in test mode (no dropout, batchnorm with running statistics)."""
        return self._forward(X, "test")[0]

    def hidden_activations(self, X, mode="test"):
        """The output of each hidden layer's activation, a list of (N, H_i) arrays."""
        return self._forward(X, mode)[2]

    def predict(self, X):
        """Predicted labels (N,)."""
        return np.argmax(self.scores(X), axis=1)

    def accuracy(self, X, y):
        """The fraction of X classified as y."""
        return float(np.mean(self.predict(X) == y))

    def weights(self):
        return [self.params[f"W{i}"] for i in range(1, self.num_layers + 1)]

    def loss(self, X, y):
        """The training loss on a batch and its gradients: (loss, grads), grads keyed like ``params``.

        Runs in train mode (dropout on, batchnorm on batch statistics, running statistics updated).
        The loss is the mean cross-entropy plus the L2 penalty.
        """
        scores, caches, _ = self._forward(X, "train")
        loss, dout = softmax_cross_entropy(scores, y)
        grads = {}
        L = self.num_layers
        dh, grads[f"W{L}"], grads[f"b{L}"] = affine_backward(dout, caches[-1])
        act_backward = ACTIVATIONS[self.activation][1]
        for i in range(L - 1, 0, -1):
            affine, bn, act, drop = caches[i - 1]
            if drop is not None:
                dh = dropout_backward(dh, drop)
            dh = act_backward(dh, act)
            if bn is not None:
                dh, grads[f"gamma{i}"], grads[f"beta{i}"] = batchnorm_backward(dh, bn)
            if i > 1:
                dh, grads[f"W{i}"], grads[f"b{i}"] = affine_backward(dh, affine)
            else:
                grads["W1"], grads["b1"] = affine_param_grads(dh, affine)
        if self.weight_decay > 0:
            penalty, penalty_grads = l2_penalty(self.weights(), self.weight_decay)
            loss += penalty
            for i, g in enumerate(penalty_grads, start=1):
                grads[f"W{i}"] = grads[f"W{i}"] + g
        return loss, grads
