"""A small fully connected network built from ``course_lib.layers`` and the student's own parts.

Each hidden layer is  affine -> [batchnorm or layernorm] -> activation -> [dropout];  the last
layer is affine, followed by the softmax cross-entropy loss. Parameters live in ``model.params``:
``W1, b1, ..., WL, bL`` and, with batchnorm or layernorm, ``gamma1, beta1, ...`` for the hidden
layers.

The parts students write are passed in as functions, so a network trains on the student's own
code: the initializer (``xavier``/``he``, notebook 05), batchnorm's or layernorm's
forward/backward pair (notebook 06), dropout's pair and the L2 penalty (notebook 07).

>>> from course_lib import init
>>> net = MLP([64, 32, 10], init=init.normal(0.1))
"""

import numpy as np

from . import init as initializers
from .layers import ACTIVATIONS, affine_backward, affine_forward, affine_param_grads, softmax_cross_entropy

__all__ = ["MLP"]


def _initializer(init):
    """An initializer function from a std (float) or a function."""
    if callable(init):
        return init
    if isinstance(init, (int, float)) and not isinstance(init, bool) and init > 0:
        return initializers.normal(float(init))
    raise ValueError(f"MLP: init must be a std (a float > 0) or a function (fan_in, fan_out, rng) -> array, "
                     f"such as your xavier or he from notebook 05; got {init!r}")


def _pair(name, value, what):
    """``(forward, backward)`` from a pair of functions, or a clear error naming ``what``."""
    if value is None:
        return None
    if not (isinstance(value, (tuple, list)) and len(value) == 2 and all(callable(f) for f in value)):
        raise ValueError(f"MLP: {name} must be None or a pair of functions ({what}), got {value!r}")
    return tuple(value)


class MLP:
    """A fully connected classifier.

    sizes: [D, H1, ..., C]: input features, hidden widths, classes (at least two entries).
    activation: 'relu', 'sigmoid' or 'tanh'.
    init: a std (float, 0.1 by default), or a function (fan_in, fan_out, rng) -> (fan_in, fan_out) array, such as
        your ``he`` or ``xavier``.
    batchnorm: None, or ``(batchnorm_forward, batchnorm_backward)``: normalize each hidden layer's
        pre-activations with these functions (yours from notebook 06).
    layernorm: None, or ``(layernorm_forward, layernorm_backward)`` (notebook 06), instead of
        batchnorm: each example's pre-activations normalized over the layer's units, with
        ``ln_params[i]`` (a dict, ``{}``: the default eps) as each layer's ln_param.
    dropout: probability of dropping a hidden unit in training (0 for none); with dropout > 0,
        ``dropout_layer=(dropout_forward, dropout_backward)`` (yours from notebook 07).
    weight_decay: L2 penalty strength lam (loss + lam/2 * sum ||W||^2, weights only, not biases);
        with weight_decay > 0, ``penalty=l2_penalty`` (yours from notebook 07).
    seed: seeds the initial weights and the dropout masks.  dtype: float32 (default) or float64.
    """

    def __init__(self, sizes, activation="relu", init=0.1, batchnorm=None, dropout=0.0, weight_decay=0.0,
                 seed=0, dtype=np.float32, dropout_layer=None, penalty=None, layernorm=None):
        if len(sizes) < 2 or any(int(s) != s or s < 1 for s in sizes):
            raise ValueError(f"MLP: sizes must be at least [inputs, classes] of positive integers, got {sizes!r}")
        if activation not in ACTIVATIONS:
            raise ValueError(f"MLP: activation must be one of {sorted(ACTIVATIONS)}, got {activation!r}")
        if not 0 <= dropout < 1:
            raise ValueError(f"MLP: dropout is the probability of dropping a unit, in [0, 1); got {dropout!r}")
        if weight_decay < 0:
            raise ValueError(f"MLP: weight_decay must be >= 0, got {weight_decay!r}")
        self.batchnorm = _pair("batchnorm", batchnorm, "batchnorm_forward, batchnorm_backward")
        self.layernorm = _pair("layernorm", layernorm, "layernorm_forward, layernorm_backward")
        if self.batchnorm and self.layernorm:
            raise ValueError("MLP: give batchnorm or layernorm, not both")
        self.dropout_layer = _pair("dropout_layer", dropout_layer, "dropout_forward, dropout_backward")
        if dropout > 0 and self.dropout_layer is None:
            raise ValueError("MLP: dropout > 0 needs dropout_layer=(dropout_forward, dropout_backward): "
                             "your functions from notebook 07")
        if weight_decay > 0 and not callable(penalty):
            raise ValueError("MLP: weight_decay > 0 needs penalty=l2_penalty: your function from notebook 07")
        self.sizes, self.activation = list(sizes), activation
        self.dropout, self.weight_decay, self.penalty = dropout, weight_decay, penalty
        self.dtype = np.dtype(dtype)
        self.rng = np.random.default_rng(seed)
        make = _initializer(init)
        self.params = {}
        for i, (fan_in, fan_out) in enumerate(zip(sizes[:-1], sizes[1:]), start=1):
            self.params[f"W{i}"] = np.asarray(make(fan_in, fan_out, self.rng), dtype=self.dtype)
            self.params[f"b{i}"] = np.zeros(fan_out, dtype=self.dtype)
            if (batchnorm or layernorm) and i < len(sizes) - 1:
                self.params[f"gamma{i}"] = np.ones(fan_out, dtype=self.dtype)
                self.params[f"beta{i}"] = np.zeros(fan_out, dtype=self.dtype)
        self.bn_params = [{"mode": "train"} for _ in range(len(sizes) - 2)]
        self.ln_params = [{} for _ in range(len(sizes) - 2)]

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
                h, bn = self.batchnorm[0](h, self.params[f"gamma{i}"], self.params[f"beta{i}"], bn_param)
            elif self.layernorm:
                h, bn = self.layernorm[0](h, self.params[f"gamma{i}"], self.params[f"beta{i}"],
                                          self.ln_params[i - 1])
            h, act = act_forward(h)
            activations.append(h)
            drop = None
            if self.dropout > 0:
                seed = int(self.rng.integers(2**32))   # a new mask each step, the same on every run
                h, drop = self.dropout_layer[0](h, {"p": self.dropout, "mode": mode, "seed": seed})
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
                dh = self.dropout_layer[1](dh, drop)
            dh = act_backward(dh, act)
            if bn is not None:
                normalize = self.batchnorm or self.layernorm
                dh, grads[f"gamma{i}"], grads[f"beta{i}"] = normalize[1](dh, bn)
            if i > 1:
                dh, grads[f"W{i}"], grads[f"b{i}"] = affine_backward(dh, affine)
            else:
                grads["W1"], grads["b1"] = affine_param_grads(dh, affine)
        if self.weight_decay > 0:
            penalty, penalty_grads = self.penalty(self.weights(), self.weight_decay)
            loss += penalty
            for i, g in enumerate(penalty_grads, start=1):
                grads[f"W{i}"] = grads[f"W{i}"] + g
        return loss, grads
