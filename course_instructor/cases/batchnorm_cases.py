"""Build time: the cases and the known mistakes of notebook 06's checks (``batchnorm_forward``,
``batchnorm_backward``, ``layernorm_forward``, ``layernorm_backward``).

Inputs are rounded to three decimals (exact in JSON), with features of different means and
scales, N != D, gamma != 1 and beta != 0, so that no mistake hides behind a symmetry. One
feature has a variance near a non-default eps, where the place of eps matters.
"""

from functools import partial

import numpy as np

from course_lib.reference import batchnorm as reference
from course_lib.reference.batchnorm import batchnorm_forward  # noqa: F401 -- the forward the backward mistakes' check runs

from .build import Case, Mistake, Spec

TOLERANCE = {"rtol": 1e-6, "atol": 1e-9}


def batch(rng, n, means, stds):
    """(n, D) numbers with feature j about N(means[j], stds[j]^2), rounded to 3 decimals."""
    return np.round(rng.normal(means, stds, size=(n, len(means))), 3)


# --------------------------------------------------------------------------------------
# Forward
# --------------------------------------------------------------------------------------

def forward_variant(x, gamma, beta, bn_param, *, ddof=0, running_ddof=None, eps_place="inside", update=True,
                    update_in_test=False, test_batch_stats=False, momentum_swapped=False, var_start=1.0,
                    hard_coded=(), swap_gamma_beta=False):
    """Batchnorm's forward with the usual mistakes as flags: the variance's ``ddof`` (for the
    normalization and, unless ``running_ddof`` says otherwise, the running variance), eps
    ``"inside"``/``"outside"`` the root or ``"none"``, running statistics not updated, also
    updated in test mode, test mode on batch statistics, momentum applied to the batch,
    running_var starting at ``var_start``, eps or momentum ``hard_coded`` at their defaults,
    gamma and beta swapped."""
    mode = bn_param["mode"]
    if mode not in ("train", "test"):
        raise ValueError(f"mode must be 'train' or 'test', got {mode!r}")
    eps = 1e-5 if "eps" in hard_coded else bn_param.get("eps", 1e-5)
    momentum = 0.9 if "momentum" in hard_coded else bn_param.get("momentum", 0.9)
    d = x.shape[1]
    running_mean = bn_param.get("running_mean", np.zeros(d))
    running_var = bn_param.get("running_var", np.full(d, var_start))
    mu, var = x.mean(axis=0), x.var(axis=0, ddof=ddof)
    if (mode == "train" and update) or update_in_test:
        keep, new = (1 - momentum, momentum) if momentum_swapped else (momentum, 1 - momentum)
        stored_var = var if running_ddof is None else x.var(axis=0, ddof=running_ddof)
        bn_param["running_mean"] = keep * running_mean + new * mu
        bn_param["running_var"] = keep * running_var + new * stored_var
    else:
        bn_param.setdefault("running_mean", running_mean)
        bn_param.setdefault("running_var", running_var)
    if mode == "test" and not test_batch_stats:
        mu, var = running_mean, running_var
    std = {"inside": np.sqrt(var + eps), "outside": np.sqrt(var) + eps, "none": np.sqrt(var)}[eps_place]
    x_hat = (x - mu) / std
    scale, shift = (beta, gamma) if swap_gamma_beta else (gamma, beta)
    return scale * x_hat + shift, None


def forward_case(label, modes, seed, bn_param=None, n=5, means=(2.0, -1.0, 0.5), stds=(0.5, 2.0, 1.5), hint=""):
    rng = np.random.default_rng(seed)
    d = len(means)
    return Case(label, {
        "gamma": np.round(rng.uniform(0.5, 2.0, d), 3), "beta": np.round(rng.normal(0, 1, d), 3),
        "bn_param": dict(bn_param or {}), "modes": list(modes), "xs": np.stack([batch(rng, n, means, stds) for _ in modes]),
    }, hint, **TOLERANCE)


def batches(seeds, n, d):
    """The hidden cases' batches, one per seed: (n, d) features of random scales (0.5 to 3) and
    means (-2 to 2); and a gamma and a beta, drawn after the first batch."""
    rngs = [np.random.default_rng(seed) for seed in seeds]
    xs = np.stack([rng.normal(size=(n, d)) * rng.uniform(0.5, 3.0, d) + rng.uniform(-2, 2, d) for rng in rngs])
    return xs, rngs[0].uniform(0.5, 2.0, d), rngs[0].normal(size=d)


def hidden_forward_case(label, modes, seeds, n, d, bn_param, outputs):
    """A hidden case of the forward: one batch per mode, compared on ``outputs`` only."""
    xs, gamma, beta = batches(seeds, n, d)
    return Case(label, {"gamma": gamma, "beta": beta, "bn_param": bn_param, "modes": modes, "xs": xs},
                hidden=True, strict=False, outputs=outputs, **TOLERANCE)


RUNNING = ("running_mean", "running_var")

FORWARD = Spec(
    exercise="batchnorm_forward",
    reference=reference.batchnorm_forward,
    cases=[
        forward_case("one train batch, bn_param = {'mode': 'train'} (the defaults)", ["train"], seed=1,
                     hint="Defaults: eps 1e-5, momentum 0.9, running_mean starts at zeros, running_var at ones."),
        forward_case("three train batches, eps=0.01, momentum=0.5", ["train"] * 3, seed=2,
                     bn_param={"eps": 0.01, "momentum": 0.5}, stds=(0.5, 2.0, 0.1)),
        forward_case("three train batches, then two in test mode", ["train"] * 3 + ["test"] * 2, seed=3,
                     hint="In test mode, normalize with the running statistics and leave them as they are."),
        forward_case("test mode with running statistics given, eps=0.1", ["test"], seed=4,
                     bn_param={"running_mean": np.array([1.5, -0.5, 0.25]), "running_var": np.array([0.5, 3.0, 0.05]),
                               "eps": 0.1}),
        Case("bn_param['mode'] = 'eval' (unknown)", {
            "gamma": np.ones(3), "beta": np.zeros(3), "bn_param": {}, "bad_mode": "eval",
            "x": batch(np.random.default_rng(5), 4, (0.0, 0.0, 0.0), (1.0, 1.0, 1.0))}),
        hidden_forward_case("train mode with a non-default eps", ["train"], [501], 7, 4, {"eps": 1e-3}, ("out",)),
        hidden_forward_case("the running statistics after one batch, which start from mean 0 and variance 1",
                            ["train"], [502], 6, 3, {}, RUNNING),
        hidden_forward_case("the running statistics over several batches, with a non-default momentum",
                            ["train"] * 3, [510, 511, 512], 5, 4, {"momentum": 0.7}, RUNNING),
        hidden_forward_case("test mode normalizes with the running statistics of train batches, and leaves "
                            "them as they are", ["train", "train", "test"], [520, 521, 522], 8, 3, {"momentum": 0.5},
                            ("out", *RUNNING)),
    ],
    mistakes=[
        Mistake("unbiased_variance", partial(forward_variant, ddof=1),
                "This is the unbiased variance (divided by N - 1, ddof=1): batchnorm normalizes with the batch's "
                "own, biased variance, x.var(axis=0), and stores that one in running_var."),
        Mistake("unbiased_running_var", partial(forward_variant, running_ddof=1),
                "Your running_var is updated with the unbiased variance (N - 1), as PyTorch does; this course's "
                "contract updates it with the biased variance used to normalize, x.var(axis=0)."),
        Mistake("eps_outside_root", partial(forward_variant, eps_place="outside"),
                "eps is added to the std, (x - mean) / (sqrt(var) + eps): it belongs inside the root, "
                "(x - mean) / sqrt(var + eps)."),
        Mistake("no_eps", partial(forward_variant, eps_place="none"),
                "eps is missing: divide by sqrt(var + eps), with eps = bn_param.get('eps', 1e-5), so that a "
                "feature with no variance does not divide by zero."),
        Mistake("test_uses_batch_statistics", partial(forward_variant, test_batch_stats=True),
                "In test mode you normalize with the batch's mean and variance: use the running statistics "
                "instead, so that a test example's output does not depend on the rest of its batch."),
        Mistake("running_not_updated", partial(forward_variant, update=False),
                "The running statistics are never updated: in train mode set bn_param['running_mean'] = "
                "momentum * running_mean + (1 - momentum) * mean (and the same for running_var)."),
        Mistake("running_updated_in_test", partial(forward_variant, update_in_test=True),
                "The running statistics change in test mode: update them only in train mode; test mode only "
                "reads them."),
        Mistake("momentum_swapped", partial(forward_variant, momentum_swapped=True),
                "momentum weighs the batch instead of the running value: running = momentum * running + "
                "(1 - momentum) * batch (momentum 0.9 keeps 90% of the old value)."),
        Mistake("running_var_starts_at_zero", partial(forward_variant, var_start=0.0),
                "running_var starts at zeros: it starts at ones, np.ones(D), when bn_param has none."),
        Mistake("hard_coded_eps", partial(forward_variant, hard_coded=("eps",)),
                "eps is fixed at its default 1e-5: read it with bn_param.get('eps', 1e-5)."),
        Mistake("hard_coded_momentum", partial(forward_variant, hard_coded=("momentum",)),
                "momentum is fixed at its default 0.9: read it with bn_param.get('momentum', 0.9)."),
        Mistake("gamma_beta_swapped", partial(forward_variant, swap_gamma_beta=True),
                "gamma and beta are swapped: out = gamma * x_hat + beta (gamma scales, beta shifts)."),
    ],
    summary="running statistics over train batches; defaults and non-default eps and momentum; test mode after "
            "training and with given statistics; an unknown mode",
    rule="train: x_hat = (x - mean) / sqrt(var + eps) with the batch's mean and biased variance (axis 0), "
         "out = gamma * x_hat + beta, running = momentum * running + (1 - momentum) * batch; test: the running "
         "statistics instead, unchanged.",
)


# --------------------------------------------------------------------------------------
# Backward
# --------------------------------------------------------------------------------------

def backward_variant(dout, cache, *, mean_term=True, var_term=True, gamma_in_dx=True, param_axis=0,
                     dgamma_of="x_hat"):
    """Batchnorm's train-mode backward (on the reference's cache) with the usual mistakes as
    flags: dx without the term from the mean or from the variance, without gamma; dgamma and
    dbeta summed over ``param_axis`` (None: not summed); dgamma summed from ``"dout"`` alone."""
    x_hat, inv_std = cache.x_hat, cache.inv_std
    dx_hat = dout * cache.gamma if gamma_in_dx else dout
    dx = dx_hat
    if mean_term:
        dx = dx - dx_hat.mean(axis=0)
    if var_term:
        dx = dx - x_hat * (dx_hat * x_hat).mean(axis=0)
    per_example = dout * x_hat if dgamma_of == "x_hat" else dout
    total = (lambda a: a) if param_axis is None else (lambda a: a.sum(axis=param_axis))
    return dx * inv_std, total(per_example), total(dout)


def backward_mistake(**flags):
    """A wrong backward as a plain function: the check finds ``batchnorm_forward`` in its globals."""
    def wrong_backward(dout, cache):
        return backward_variant(dout, cache, **flags)
    return wrong_backward


def backward_inputs(x, gamma, beta, bn_param, dout):
    """The inputs of a case of the backward: the forward's, ``dout``, and the right ``out``."""
    bn_param = {"mode": "train", **bn_param}
    out, _ = reference.batchnorm_forward(x, gamma, beta, dict(bn_param))
    return {"x": x, "gamma": gamma, "beta": beta, "bn_param": bn_param, "dout": dout, "out": out}


def backward_case(label, seed, n, means, stds, bn_param=None):
    rng = np.random.default_rng(seed)
    d = len(means)
    x = batch(rng, n, means, stds)
    gamma, beta = np.round(rng.uniform(0.5, 2.0, d), 3), np.round(rng.normal(0, 1, d), 3)
    dout = np.round(rng.normal(0, 1, (n, d)), 3)
    return Case(label, backward_inputs(x, gamma, beta, bn_param or {}, dout), **TOLERANCE)


def hidden_backward_case(label, seed, n, d, bn_param):
    xs, gamma, beta = batches([seed], n, d)
    dout = np.random.default_rng(seed + 1).normal(size=(n, d))
    return Case(label, backward_inputs(xs[0], gamma, beta, bn_param, dout), hidden=True, strict=False, rtol=1e-5,
                atol=1e-8)


BACKWARD = Spec(
    exercise="batchnorm_backward",
    reference=reference.batchnorm_backward,
    cases=[
        backward_case("train mode, N=5, D=3", seed=11, n=5, means=(2.0, -1.0, 0.5), stds=(0.5, 2.0, 1.5)),
        backward_case("train mode, N=4, D=6, eps=0.01", seed=12, n=4, means=(1.0, 0.0, -2.0, 0.5, 3.0, -0.5),
                      stds=(1.0, 0.1, 2.0, 0.5, 1.0, 3.0), bn_param={"eps": 0.01}),
        hidden_backward_case("dx, dgamma and dbeta in train mode, from your batchnorm_forward's cache", 530, 6, 5, {}),
        hidden_backward_case("dx, dgamma and dbeta with a non-default eps, from your batchnorm_forward's cache",
                             540, 9, 2, {"eps": 0.1}),
    ],
    mistakes=[
        Mistake("statistics_as_constants", backward_mistake(mean_term=False, var_term=False),
                "Your dx treats the batch mean and variance as constants (dx = gamma * dout / std). In train mode "
                "they depend on every x_i: go on through the graph, x_hat -> var -> mean -> x, and add the "
                "gradient that reaches x through the variance and through the mean."),
        Mistake("no_variance_term", backward_mistake(var_term=False),
                "Your dx misses the path through the variance: dx also gets dvar * dvar/dx, with "
                "dvar the gradient of the loss with respect to the batch variance."),
        Mistake("no_mean_term", backward_mistake(mean_term=False),
                "Your dx misses the path through the mean: dx also gets dmean * dmean/dx = dmean / N, with "
                "dmean the gradient of the loss with respect to the batch mean."),
        Mistake("dx_without_gamma", backward_mistake(gamma_in_dx=False),
                "Your dx misses gamma: the gradient reaching x_hat is dx_hat = gamma * dout."),
        Mistake("params_wrong_axis", backward_mistake(param_axis=1),
                "dgamma and dbeta are summed over the features (axis 1): sum over the batch, axis 0, to get "
                "one gradient per feature, shape (D,)."),
        Mistake("params_not_summed", backward_mistake(param_axis=None),
                "dgamma and dbeta are per example, shape (N, D): gamma and beta are shared by the whole batch, "
                "so sum their gradients over it, axis 0."),
        Mistake("dgamma_without_x_hat", backward_mistake(dgamma_of="dout"),
                "dgamma is dout summed, like dbeta: gamma multiplies x_hat, so dgamma = sum(dout * x_hat, axis=0)."),
    ],
    summary="train mode, N=5 D=3 and N=4 D=6 with eps=0.01, on the cache of your batchnorm_forward",
    rule="dbeta = sum(dout); dgamma = sum(dout * x_hat) (sums over the batch, axis 0); dx by the chain rule "
         "through x_hat, the batch variance and the batch mean, which all depend on x in train mode; in test "
         "mode dx = gamma * dout / sqrt(running_var + eps).",
)



# --------------------------------------------------------------------------------------
# Layer normalization (Ba, Kiros & Hinton, 2016): the same pair along the other axis
# --------------------------------------------------------------------------------------

from course_lib.reference.batchnorm import layernorm_forward  # noqa: E402,F401 -- the backward mistakes' forward


def ln_forward_variant(x, gamma, beta, ln_param, *, axis=1, ddof=0, eps_place="inside", hard_coded_eps=False,
                       swap_gamma_beta=False):
    """Layernorm's forward with the usual mistakes as flags: statistics over ``axis`` (0 is
    batchnorm's), the variance's ``ddof``, eps ``"inside"``/``"outside"`` the root or ``"none"``,
    eps fixed at its default, gamma and beta swapped."""
    eps = 1e-5 if hard_coded_eps else ln_param.get("eps", 1e-5)
    mu, var = x.mean(axis=axis, keepdims=True), x.var(axis=axis, ddof=ddof, keepdims=True)
    std = {"inside": np.sqrt(var + eps), "outside": np.sqrt(var) + eps, "none": np.sqrt(var)}[eps_place]
    scale, shift = (beta, gamma) if swap_gamma_beta else (gamma, beta)
    return scale * (x - mu) / std + shift, None


def rows(rng, n, d, quiet_row=None):
    """(n, d) examples, each row with its own mean (-2 to 2) and scale (0.5 to 3), rounded to 3
    decimals; row ``quiet_row`` has a tiny spread (0.05), where the place of eps matters."""
    scales = rng.uniform(0.5, 3.0, (n, 1))
    if quiet_row is not None:
        scales[quiet_row] = 0.05
    return np.round(rng.normal(size=(n, d)) * scales + rng.uniform(-2, 2, (n, 1)), 3)


def ln_case(label, seed, n, d, ln_param=None, quiet_row=None, hint="", hidden=False):
    rng = np.random.default_rng(seed)
    x = rows(rng, n, d, quiet_row)
    gamma, beta = np.round(rng.uniform(0.5, 2.0, d), 3), np.round(rng.normal(0, 1, d), 3)
    extra = {"hidden": True, "strict": False} if hidden else {}
    return Case(label, {"x": x, "gamma": gamma, "beta": beta, "ln_param": dict(ln_param or {})}, hint,
                **TOLERANCE, **extra)


LN_FORWARD = Spec(
    exercise="layernorm_forward",
    reference=reference.layernorm_forward,
    cases=[
        ln_case("N=4, D=6, ln_param = {} (the default eps)", seed=41, n=4, d=6,
                hint="Normalize each row (example) over its D features: mean and var over axis 1, keepdims=True."),
        ln_case("N=5, D=3, eps=0.01, one example with a tiny spread", seed=42, n=5, d=3, ln_param={"eps": 0.01},
                quiet_row=2),
        ln_case("N=1, D=5: one example alone", seed=43, n=1, d=5,
                hint="A single example is normalized over its own features, whatever the batch."),
        ln_case("N=6, D=4, float64, every row on its own scale", seed=44, n=6, d=4),
        ln_case("a batch with the default eps", seed=601, n=7, d=5, hidden=True),
        ln_case("a non-default eps, with an example of tiny spread", seed=602, n=6, d=4, ln_param={"eps": 0.05},
                quiet_row=1, hidden=True),
        ln_case("a single example", seed=603, n=1, d=8, hidden=True),
        Case("x, gamma, beta and ln_param are not changed in place, and out is right",
             ln_case("", seed=604, n=3, d=5, ln_param={"eps": 1e-3}).inputs, hidden=True, **TOLERANCE),
    ],
    mistakes=[
        Mistake("normalized_over_batch", partial(ln_forward_variant, axis=0),
                "You normalize each feature over the batch (axis 0): that is batchnorm. Layernorm normalizes "
                "each example over its own D features: x.mean(axis=1, keepdims=True), x.var(axis=1, "
                "keepdims=True)."),
        Mistake("unbiased_variance", partial(ln_forward_variant, ddof=1),
                "This is the unbiased variance (divided by D - 1, ddof=1): layernorm normalizes with each "
                "row's biased variance, x.var(axis=1, keepdims=True)."),
        Mistake("eps_outside_root", partial(ln_forward_variant, eps_place="outside"),
                "eps is added to the std, (x - mean) / (sqrt(var) + eps): it belongs inside the root, "
                "(x - mean) / sqrt(var + eps)."),
        Mistake("no_eps", partial(ln_forward_variant, eps_place="none"),
                "eps is missing: divide by sqrt(var + eps), with eps = ln_param.get('eps', 1e-5), so that an "
                "example whose features are all equal does not divide by zero."),
        Mistake("hard_coded_eps", partial(ln_forward_variant, hard_coded_eps=True),
                "eps is fixed at its default 1e-5: read it with ln_param.get('eps', 1e-5)."),
        Mistake("gamma_beta_swapped", partial(ln_forward_variant, swap_gamma_beta=True),
                "gamma and beta are swapped: out = gamma * x_hat + beta (gamma scales, beta shifts)."),
    ],
    summary="N=4 D=6, N=5 D=3 with eps=0.01, a single example, rows on their own scales",
    rule="x_hat = (x - mean) / sqrt(var + eps) with each row's mean and biased variance (axis 1, over the D "
         "features), out = gamma * x_hat + beta; no running statistics, no mode.",
)


def ln_backward_variant(dout, cache, *, axis=1, mean_term=True, var_term=True, gamma_in_dx=True, param_axis=0):
    """Layernorm's backward (on the reference's cache) with the usual mistakes as flags: the
    means of dx taken over ``axis`` (0 is batchnorm's backward), without the term from the mean
    or from the variance, without gamma; dgamma and dbeta summed over ``param_axis``."""
    x_hat, inv_std = cache.x_hat, cache.inv_std
    dx_hat = dout * cache.gamma if gamma_in_dx else dout
    dx = dx_hat
    if mean_term:
        dx = dx - dx_hat.mean(axis=axis, keepdims=True)
    if var_term:
        dx = dx - x_hat * (dx_hat * x_hat).mean(axis=axis, keepdims=True)
    return dx * inv_std, (dout * x_hat).sum(axis=param_axis), dout.sum(axis=param_axis)


def ln_backward_mistake(**flags):
    """A wrong backward as a plain function: the check finds ``layernorm_forward`` in its globals."""
    def wrong_backward(dout, cache):
        return ln_backward_variant(dout, cache, **flags)
    return wrong_backward


def ln_backward_case(label, seed, n, d, ln_param=None, hidden=False):
    rng = np.random.default_rng(seed)
    x = rows(rng, n, d)
    gamma, beta = np.round(rng.uniform(0.5, 2.0, d), 3), np.round(rng.normal(0, 1, d), 3)
    dout = np.round(rng.normal(0, 1, (n, d)), 3)
    ln_param = dict(ln_param or {})
    out, _ = reference.layernorm_forward(x, gamma, beta, dict(ln_param))
    extra = {"hidden": True, "strict": False, "rtol": 1e-5, "atol": 1e-8} if hidden else TOLERANCE
    return Case(label, {"x": x, "gamma": gamma, "beta": beta, "ln_param": ln_param, "dout": dout, "out": out},
                **extra)


LN_BACKWARD = Spec(
    exercise="layernorm_backward",
    reference=reference.layernorm_backward,
    cases=[
        ln_backward_case("N=5, D=3", seed=51, n=5, d=3),
        ln_backward_case("N=3, D=7, eps=0.01", seed=52, n=3, d=7, ln_param={"eps": 0.01}),
        ln_backward_case("dx, dgamma and dbeta, from your layernorm_forward's cache", seed=610, n=6, d=5,
                         hidden=True),
        ln_backward_case("dx, dgamma and dbeta with a non-default eps and more features than examples, from "
                         "your layernorm_forward's cache", seed=620, n=2, d=9, ln_param={"eps": 0.1}, hidden=True),
    ],
    mistakes=[
        Mistake("statistics_as_constants", ln_backward_mistake(mean_term=False, var_term=False),
                "Your dx treats each example's mean and variance as constants (dx = gamma * dout / std). They "
                "depend on every feature of that example: go on through the graph, x_hat -> var -> mean -> x, "
                "and add the gradient that reaches x through the variance and through the mean."),
        Mistake("batchnorm_backward_axis", ln_backward_mistake(axis=0),
                "Your dx takes its means over the batch (axis 0), as batchnorm's does: layernorm's statistics "
                "are per example, so the paths through the mean and the variance sum over the D features of "
                "the same row (axis 1)."),
        Mistake("no_variance_term", ln_backward_mistake(var_term=False),
                "Your dx misses the path through the variance: dx also gets dvar * dvar/dx, with dvar the "
                "gradient of the loss with respect to the example's variance."),
        Mistake("no_mean_term", ln_backward_mistake(mean_term=False),
                "Your dx misses the path through the mean: dx also gets dmean * dmean/dx = dmean / D, with "
                "dmean the gradient of the loss with respect to the example's mean."),
        Mistake("dx_without_gamma", ln_backward_mistake(gamma_in_dx=False),
                "Your dx misses gamma: the gradient reaching x_hat is dx_hat = gamma * dout."),
        Mistake("params_wrong_axis", ln_backward_mistake(param_axis=1),
                "dgamma and dbeta are summed over the features (axis 1): gamma and beta have one entry per "
                "feature, shared by every example, so sum over the batch, axis 0, to get shape (D,)."),
    ],
    summary="N=5 D=3 and N=3 D=7 with eps=0.01, on the cache of your layernorm_forward",
    rule="dbeta = sum(dout); dgamma = sum(dout * x_hat) (sums over the batch, axis 0); dx by the chain rule "
         "through x_hat, the example's variance and mean, which depend on every feature of its row (axis 1).",
)

SPECS = [FORWARD, BACKWARD, LN_FORWARD, LN_BACKWARD]
