"""Build time: the cases and the known mistakes of notebook 07's checks (``l2_penalty``,
``dropout_forward``, ``dropout_backward``).

The penalty's weights are multiples of 1/32 (exact in float32 and in JSON), of non-square
shapes, with a vector among them. The dropout cases draw 100,000 and 60,000 units, so the
kept fraction has a sampling error of about 0.0015 and the tolerance (0.02) is more than ten
times larger; the closest two mistakes are 0.08 apart (p = 0.3 and p = 0.75 keep the
statistics of the mistakes apart; p = 0.5 would make several of them coincide).
"""

from functools import partial

import numpy as np

from course_lib.reference import regularization
from course_lib.reference.regularization import dropout_forward  # noqa: F401 -- the forward the backward mistakes are checked with

from .build import Case, Mistake, Spec

NOTES = "(the original form of dropout, Srivastava et al. 2014)"


def dyadic(rng, shape, dtype=np.float64):
    """Non-zero numbers k/32, |k| <= 64: exact in float32, short in JSON."""
    k = rng.integers(1, 65, size=shape) * rng.choice([-1, 1], size=shape)
    return (k / 32).astype(dtype)


# --------------------------------------------------------------------------------------
# The L2 penalty
# --------------------------------------------------------------------------------------

def penalty_variant(weights, lam, *, loss_factor=0.5, grad_factor=1.0, power=2, reduce="sum", overwrite=False):
    """``loss_factor * lam * sum_W reduce(|W| ** power)`` and ``grad_factor * lam * W``, with the
    usual mistakes as flags: the 1/2 left out of the loss (``loss_factor=1``) and perhaps doubled
    in the gradient, the norm not squared (``power=1`` on the whole norm), a mean instead of a
    sum, the loss overwritten in the loop instead of summed (``overwrite``)."""
    loss = 0.0
    for w in weights:
        if power == 1:
            term = np.sqrt(np.sum(w * w))
        else:
            term = np.mean(w * w) if reduce == "mean" else np.sum(w * w)
        loss = loss_factor * lam * term if overwrite else loss + loss_factor * lam * term
    return float(loss), [grad_factor * lam * w for w in weights]


def l1_penalty(weights, lam):
    """The L1 penalty lam * sum |W| and its gradient lam * sign(W)."""
    return float(lam * sum(np.sum(np.abs(w)) for w in weights)), [lam * np.sign(w) for w in weights]


def penalty_case(label, shapes, lam, dtype=np.float64, seed=0):
    rng = np.random.default_rng(seed)
    tolerance = {"rtol": 1e-6, "atol": 1e-9} if dtype == np.float32 else {"rtol": 1e-10, "atol": 1e-12}
    return Case(label, {"weights": [dyadic(rng, s, dtype) for s in shapes], "lam": lam}, **tolerance)


def hidden_penalty_case(label, lam, seed, strict=False, shapes=((4, 3), (3, 5), (5,))):
    """A hidden case of the penalty: weights N(0, 1) of three shapes."""
    rng = np.random.default_rng(seed)
    return Case(label, {"weights": [rng.normal(size=shape) for shape in shapes], "lam": lam}, rtol=1e-10,
                atol=1e-12, hidden=True, strict=strict)


L2_PENALTY = Spec(
    exercise="l2_penalty",
    reference=regularization.l2_penalty,
    cases=[
        penalty_case("one weight of shape (2, 3), lam=0.1", [(2, 3)], 0.1, seed=1),
        penalty_case("weights of shapes (4, 3), (3, 5) and (5,), lam=0.5", [(4, 3), (3, 5), (5,)], 0.5, seed=2),
        penalty_case("float32 weights of shapes (3, 2) and (2, 4), lam=0.01", [(3, 2), (2, 4)], 0.01, np.float32,
                     seed=3),
        penalty_case("lam=0: no penalty", [(2, 2)], 0.0, seed=4),
        hidden_penalty_case("several weight arrays of different shapes", 0.37, seed=601),
        hidden_penalty_case("lam = 0 gives a zero loss and zero gradients", 0.0, seed=602),
        hidden_penalty_case("the weights are not changed in place, and the penalty is right", 2.5, seed=603,
                            strict=True),
    ],
    mistakes=[
        Mistake("no_half", partial(penalty_variant, loss_factor=1.0),
                "Your loss is lam * sum ||W||^2, twice too large: the penalty is lam / 2 * sum ||W||^2 (the 1/2 "
                "makes its gradient lam * W)."),
        Mistake("no_half_gradient_doubled", partial(penalty_variant, loss_factor=1.0, grad_factor=2.0),
                "This is the penalty without the 1/2, lam * sum ||W||^2, whose gradient is 2 * lam * W: the contract's "
                "penalty is lam / 2 * sum ||W||^2, with gradient lam * W."),
        Mistake("half_gradient", partial(penalty_variant, grad_factor=0.5),
                "Your loss is right but your gradients are lam / 2 * W: the derivative of lam / 2 * W^2 is lam * W."),
        Mistake("loss_overwritten", partial(penalty_variant, overwrite=True),
                "Your loss counts only the last weight: add each weight's term to the loss (loss += ...) instead of "
                "replacing it (loss = ...)."),
        Mistake("mean_not_sum", partial(penalty_variant, reduce="mean"),
                "Your loss uses the mean of W^2: the penalty sums the squares of all entries, np.sum(W * W)."),
        Mistake("norm_not_squared", partial(penalty_variant, power=1),
                "Your loss uses the norm ||W|| itself: the L2 penalty uses its square, sum of W^2 over the entries."),
        Mistake("l1", l1_penalty,
                "This is the L1 penalty, lam * sum |W|: the L2 penalty is lam / 2 * sum W^2, with gradient lam * W."),
    ],
    summary="one to three weights of shapes (2, 3), (4, 3), (3, 5), (5,), (3, 2), (2, 4); float64 and float32; "
            "lam = 0.1, 0.5, 0.01 and 0",
    rule="loss = lam / 2 * sum over the weights of np.sum(W * W); grads = [lam * W for W in weights].",
)


# --------------------------------------------------------------------------------------
# Dropout forward
# --------------------------------------------------------------------------------------

def forward_variant(x, dropout_param, *, keep="1-p", scale="1/(1-p)", test="identity"):
    """A dropout forward with the usual mistakes as flags: ``keep`` probability ``"1-p"`` or
    ``"p"``; kept units multiplied by ``scale`` (``"1/(1-p)"``, ``"1"``, ``"1/p"``, ``"1-p"``);
    ``test`` mode the ``"identity"``, ``"scaled"`` (x * (1 - p)) or ``"dropout"`` (as in train)."""
    p, mode = dropout_param["p"], dropout_param["mode"]
    if mode == "test" and test != "dropout":
        return (x.copy() if test == "identity" else x * (1 - p)), None
    keep_probability = {"1-p": 1 - p, "p": p}[keep]
    factor = {"1/(1-p)": 1 / (1 - p), "1": 1.0, "1/p": 1 / p, "1-p": 1 - p}[scale]
    rng = np.random.default_rng(dropout_param.get("seed"))
    mask = (rng.random(x.shape) < keep_probability).astype(x.dtype) * np.asarray(factor, dtype=x.dtype)
    return x * mask, mask


def dropout_case(label, shape, p, dtype, seed, **kind):
    """A case of dropout on x of ``shape`` (``dropout_input``); ``kind``: ``hidden``, ``strict``, ``outputs``."""
    return Case(label, {"shape": list(shape), "dtype": np.dtype(dtype).name, "p": p, "seed": seed},
                rtol=0.0, atol=0.02, **kind)


def hidden_dropout_case(label, shape, p, seed, outputs, strict=False):
    """A hidden case of dropout, compared on ``outputs`` only (one property, one point)."""
    return dropout_case(label, shape, p, np.float64, seed, hidden=True, strict=strict, outputs=outputs)


DROPOUT_CASES = [
    dropout_case("p=0.3, x of shape (200, 500), float64", (200, 500), 0.3, np.float64, 1),
    dropout_case("p=0.75, x of shape (30, 40, 50), float32", (30, 40, 50), 0.75, np.float32, 2),
]

DROPOUT_FORWARD = Spec(
    exercise="dropout_forward",
    reference=regularization.dropout_forward,
    cases=[
        *DROPOUT_CASES,
        hidden_dropout_case("a non-default p drops that fraction of many units", (200, 300), 0.3, 5,
                            ("kept_fraction",)),
        hidden_dropout_case("the kept units are scaled by 1 / (1 - p)", (200, 300), 0.6, 6, ("kept_scale",)),
        hidden_dropout_case("test mode is the identity", (3, 4, 5), 0.5, 7, ("test_scale", "test_unchanged")),
        hidden_dropout_case("the same seed gives the same mask, another seed another one; x is unchanged",
                            (200, 300), 0.5, 8, ("kept_fraction",), strict=True),
    ],
    mistakes=[
        Mistake("scaled_at_test", partial(forward_variant, scale="1", test="scaled"),
                f"This is dropout without the inverted scaling: kept units unscaled in training and x * (1 - p) at "
                f"test time {NOTES}. Our contract is inverted dropout: divide the kept units by (1 - p) in training, "
                f"and return x unchanged in test mode."),
        Mistake("not_inverted", partial(forward_variant, scale="1"),
                "Your kept units are not scaled: in inverted dropout they are divided by (1 - p), so that the "
                "expected output equals x and test mode can return x unchanged."),
        Mistake("scaled_at_test_too", partial(forward_variant, test="scaled"),
                "Your train mode is right, but test mode multiplies by (1 - p): with inverted dropout the scaling is "
                "already done in training; test mode returns x unchanged."),
        Mistake("dropout_at_test", partial(forward_variant, test="dropout"),
                "Your test mode drops units too: in test mode dropout is the identity, out = x."),
        Mistake("p_is_keep", partial(forward_variant, keep="p", scale="1/p"),
                "You keep a fraction p of the units: p is the probability of dropping a unit, so keep each one with "
                "probability 1 - p (mask = rng.random(x.shape) >= p) and divide by (1 - p)."),
        Mistake("p_is_keep_mask", partial(forward_variant, keep="p"),
                "You keep a fraction p of the units: p is the probability of dropping a unit, so keep each one with "
                "probability 1 - p (mask = rng.random(x.shape) >= p)."),
        Mistake("divides_by_p", partial(forward_variant, scale="1/p"),
                "You drop the right fraction of units but divide the kept ones by p: divide by the probability of "
                "keeping a unit, 1 - p."),
        Mistake("multiplies_by_keep", partial(forward_variant, scale="1-p"),
                "You multiply the kept units by (1 - p): inverted dropout divides them by (1 - p), so that the "
                "expected output equals x."),
    ],
    summary="p = 0.3 and 0.75; x of shapes (200, 500) and (30, 40, 50), float64 and float32; kept fraction, scaling, "
            "test mode, seeds",
    rule="train: keep each unit with probability 1 - p, out = x * mask / (1 - p) (mask from "
         "np.random.default_rng(seed)); test: out = x.",
)


# --------------------------------------------------------------------------------------
# Dropout backward (checked with the forward of this module: the reference)
# --------------------------------------------------------------------------------------

def backward_variant(dout, cache, *, mask="cached", scale="cached"):
    """A dropout backward for the reference forward's cache (``mask``: 0 or 1 / (1 - p)), with the
    usual mistakes as flags: ``mask`` ``"new"`` (a new mask drawn in the backward), ``scale``
    ``"none"`` (the kept units' gradient not scaled) or ``"twice"`` (scaled twice)."""
    if cache.mode == "test":
        return dout.copy()
    factor = cache.mask.max()   # 1 / (1 - p), the scale of a kept unit
    kept = cache.mask != 0
    if mask == "new":
        kept = np.random.default_rng(12345).random(dout.shape) < 1 / factor
    multiplier = {"cached": factor, "none": 1.0, "twice": factor * factor}[scale]
    return dout * kept * np.asarray(multiplier, dtype=dout.dtype)


DROPOUT_BACKWARD = Spec(
    exercise="dropout_backward",
    reference=regularization.dropout_backward,
    cases=[
        *DROPOUT_CASES,
        hidden_dropout_case("dx passes the gradient of the kept units only, scaled like the forward (from your "
                            "dropout_forward's cache)", (30, 40), 0.25, 9, ("flows_through_mask", "kept_gradient_scale")),
        hidden_dropout_case("in test mode dx = dout (from your dropout_forward's cache)", (5, 6), 0.5, 10,
                            ("test_passes_dout",)),
    ],
    mistakes=[
        Mistake("new_mask", partial(backward_variant, mask="new"),
                "Your backward drops other units than your forward did: it draws a new mask. The gradient flows only "
                "through the units the forward kept: keep the forward's mask in its cache and use that one, "
                "dx = dout * mask."),
        Mistake("unscaled_gradient", partial(backward_variant, scale="none"),
                "Your gradient of a kept unit is dout, but the forward multiplied the unit by 1 / (1 - p): "
                "dx = dout * mask / (1 - p), the same factor as the forward."),
        Mistake("scaled_twice", partial(backward_variant, scale="twice"),
                "Your gradient of a kept unit is scaled by 1 / (1 - p) twice: if the cached mask already holds "
                "the factor (0 or 1 / (1 - p)), dx = dout * mask."),
    ],
    summary="p = 0.3 and 0.75; shapes (200, 500) and (30, 40, 50), float64 and float32; train and test mode, on the "
            "cache of your own dropout_forward",
    rule="dx = dout * mask / (1 - p) with the mask of the forward (the one in the cache); test mode: dx = dout.",
)

SPECS = [L2_PENALTY, DROPOUT_FORWARD, DROPOUT_BACKWARD]
