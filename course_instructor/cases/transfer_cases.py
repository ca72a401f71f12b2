"""Build time: the cases and the known mistakes of notebook 08's check (``transfer_params``).

The pretrained parameters are multiples of 1/32 (exact in float32 and in JSON), of non-square
shapes, with non-zero biases (so that a bias left as it was is seen), a new number of classes
other than the hidden width (so that a transposed head has another shape) and, in some cases,
as many new classes as old ones (so that a head left as it was has the right shape and is told
apart by its values). One case has batchnorm's gamma and beta, whose keys break a count of the
layers as len(params) // 2.
"""

from functools import partial

import numpy as np

from course_lib.checks.transfer_checks import last_layer
from course_lib.reference import transfer

from .build import Case, Mistake, Spec


def dyadic(rng, shape, dtype):
    """Non-zero numbers k/32, |k| <= 64: exact in float32, short in JSON."""
    k = rng.integers(1, 65, size=shape) * rng.choice([-1, 1], size=shape)
    return (k / 32).astype(dtype)


def pretrained(sizes, dtype=np.float64, seed=0, norm=False):
    """The params of an MLP of ``sizes`` (``gamma_i, beta_i`` too with ``norm``), dyadic values."""
    rng = np.random.default_rng(seed)
    params = {}
    for i, (fan_in, fan_out) in enumerate(zip(sizes[:-1], sizes[1:]), start=1):
        params[f"W{i}"] = dyadic(rng, (fan_in, fan_out), dtype)
        params[f"b{i}"] = dyadic(rng, (fan_out,), dtype)
        if norm and i < len(sizes) - 1:
            params[f"gamma{i}"] = dyadic(rng, (fan_out,), dtype)
            params[f"beta{i}"] = dyadic(rng, (fan_out,), dtype)
    return params


def transfer_variant(params, num_classes, seed=0, std=0.01, *, head="new", draw="normal", shape="HC", bias="zeros"):
    """``transfer_params`` with the usual mistakes as flags: ``head`` ``"kept"`` (the old head
    left in place); ``draw`` ``"normal"``, ``"unit"`` (std ignored), ``"legacy"`` (numpy's
    RandomState seeded alike), ``"he"`` (He's std sqrt(2 / H)), ``"uniform"`` (U(-std, std));
    ``shape`` ``"CH"`` (the head transposed); ``bias`` ``"kept"`` (the old bias left)."""
    last = last_layer(params)
    old_w, old_b = params[f"W{last}"], params[f"b{last}"]
    new = {key: value.copy() for key, value in params.items()}
    if head == "kept":
        return new
    H = old_w.shape[0]
    size = (H, num_classes) if shape == "HC" else (num_classes, H)
    rng = np.random.default_rng(seed)
    w = {"normal": lambda: rng.normal(0.0, std, size), "unit": lambda: rng.normal(0.0, 1.0, size),
         "legacy": lambda: np.random.RandomState(seed).normal(0.0, std, size),
         "he": lambda: rng.normal(0.0, np.sqrt(2 / H), size), "uniform": lambda: rng.uniform(-std, std, size)}[draw]()
    new[f"W{last}"] = w.astype(old_w.dtype)
    new[f"b{last}"] = old_b.copy() if bias == "kept" else np.zeros(num_classes, old_b.dtype)
    return new


def transfer_case(label, sizes, num_classes, dtype=np.float64, values=0, norm=False, hint="", **kwargs):
    """A public case: params of ``sizes`` (their values drawn with seed ``values``), ``transfer_params(params, num_classes, **kwargs)``."""
    tolerance = {"rtol": 1e-6, "atol": 1e-9} if dtype == np.float32 else {"rtol": 1e-10, "atol": 1e-13}
    return Case(label, {"params": pretrained(sizes, dtype, values, norm), "num_classes": num_classes,
                        "kwargs": kwargs}, hint=hint, **tolerance)


def hidden_case(label, sizes, num_classes, dtype=np.float64, values=0, norm=False, strict=False, **kwargs):
    public = transfer_case(label, sizes, num_classes, dtype, values, norm, **kwargs)
    return Case(label, public.inputs, rtol=public.rtol, atol=public.atol, hidden=True, strict=strict)


COUNT_HINT = ("Find the last layer from the W keys, L = the largest i of a key Wi: with batchnorm the params also "
              "hold gamma_i and beta_i, so len(params) // 2 is not the number of layers.")

TRANSFER_PARAMS = Spec(
    exercise="transfer_params",
    reference=transfer.transfer_params,
    cases=[
        transfer_case("sizes [6, 5, 4, 3] (W1 ... b3, float64) -> 2 classes, the default seed and std", [6, 5, 4, 3],
                      2, values=1),
        transfer_case("sizes [5, 4, 3], float32 -> 3 classes (as many as before), seed=7, std=0.1", [5, 4, 3], 3,
                      np.float32, values=2, seed=7, std=0.1),
        transfer_case("sizes [4, 6, 5, 2] with batchnorm's gamma1, beta1, gamma2, beta2, float32 -> 5 classes, "
                      "seed=3, std=0.05", [4, 6, 5, 2], 5, np.float32, values=3, norm=True, hint=COUNT_HINT,
                      seed=3, std=0.05),
        hidden_case("a deeper network, a non-default seed and std", [7, 6, 5, 4, 3], 2, values=11,
                    seed=21, std=0.3),
        hidden_case("the default seed and std", [5, 8, 6], 3, values=12),
        hidden_case("as many new classes as old ones", [6, 4, 5], 5, values=13, seed=5, std=0.2),
        hidden_case("with batchnorm's gamma and beta: they are kept and the head is replaced", [5, 7, 6, 3], 2,
                    values=14, norm=True, seed=8, std=0.1),
        hidden_case("single-precision parameters keep their dtype, and the head is right", [6, 5, 4], 3, np.float32,
                    values=15,
                    strict=True, seed=2, std=0.5),
        hidden_case("the pretrained arrays are copied, params is unchanged, and the head is right", [4, 5, 6, 2], 3,
                    values=16, strict=True, seed=9, std=0.05),
    ],
    mistakes=[
        Mistake("head_not_replaced", partial(transfer_variant, head="kept"),
                "This is the pretrained last layer, unchanged: replace W_L by a new head drawn from "
                "np.random.default_rng(seed).normal(0.0, std, size=(H, num_classes)), and b_L by zeros."),
        Mistake("head_transposed", partial(transfer_variant, shape="CH"),
                "Your head has shape (num_classes, H): the new W_L maps the H features of the last hidden layer to "
                "the classes, shape (H, num_classes), so that h @ W_L works for h of shape (N, H)."),
        Mistake("bias_not_reset", partial(transfer_variant, bias="kept"),
                "Your head is right but b_L is the pretrained bias: the new last layer starts from "
                "np.zeros(num_classes), in the dtype of the old b_L."),
        Mistake("std_ignored", partial(transfer_variant, draw="unit"),
                "Your head has std 1: draw it with the std you are given, rng.normal(0.0, std, size=(H, num_classes))."),
        Mistake("he_std", partial(transfer_variant, draw="he"),
                "Your head has He's std sqrt(2 / H): the contract draws it with the std you are given, "
                "rng.normal(0.0, std, size=(H, num_classes)) (a small std keeps the new head's first scores near zero)."),
        Mistake("legacy_rng", partial(transfer_variant, draw="legacy"),
                "Your head comes from np.random.RandomState(seed) (or np.random.seed(seed)), the legacy generator: "
                "draw it from rng = np.random.default_rng(seed), rng.normal(0.0, std, size=(H, num_classes))."),
        Mistake("uniform_head", partial(transfer_variant, draw="uniform"),
                "Your head is uniform: draw it from a normal distribution, "
                "np.random.default_rng(seed).normal(0.0, std, size=(H, num_classes))."),
    ],
    summary="networks of 2 and 3 layers, float64 and float32, with and without batchnorm's gamma and beta; 2, 3 and "
            "5 new classes; the default and other seeds and stds; copies, params unchanged, seeds",
    rule="new = {k: v.copy() for k, v in params.items()}, then W_L = np.random.default_rng(seed).normal(0.0, std, "
         "size=(H, num_classes)).astype(W_L.dtype) and b_L = np.zeros(num_classes, b_L.dtype), L the last layer.",
)

SPECS = [TRANSFER_PARAMS]
