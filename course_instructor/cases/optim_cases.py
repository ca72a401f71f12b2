"""Build time: the cases and the known mistakes of the checks of notebooks 02 to 04 (the update rules, ``ewma``, the schedules and clipping).

Each mistake is a wrong version of a graded function, written once as a configurable
function (keyword flags) or a wrapper around the reference, and named with the message a
student sees when their function matches it.
"""

from functools import cache, partial

import numpy as np

from course_lib.reference import adaptive, momentum, schedules

from .build import Case, Mistake, Spec

NOTES_000 = "(a common slip, found in some lecture notes)"


# --------------------------------------------------------------------------------------
# Inputs
# --------------------------------------------------------------------------------------

def dyadic(rng, shape, scale=1.0, dtype=np.float64):
    """Non-zero random numbers k/32 * scale, |k| <= 96: exact in float32, short in JSON."""
    k = rng.integers(1, 97, size=shape) * rng.choice([-1, 1], size=shape)
    return (k / 32 * scale).astype(dtype)


def tolerance(dtype, scale):
    """Tolerances for outputs computed in ``dtype`` from weights of size ``scale``: next_w is
    rounded at the weights' precision, so steps carry an absolute error of a few ulps of w."""
    eps = np.finfo(dtype).eps
    return {"rtol": 1e-5 if dtype == np.float32 else 1e-7, "atol": float(f"{16 * eps * max(1.0, scale):.2g}")}


@cache
def defaults(rule, state):
    """The hyperparameters ``rule`` fills in when the config is None, with their values
    (``state``, a tuple, names the keys that are not hyperparameters). Cached: read only."""
    _, config = rule(np.ones(1), np.ones(1), None)
    return {k: v for k, v in config.items() if k not in state}


def rule_case(label, shape, config=None, steps=5, dtype=np.float64, seed=0, grad_scale=1.0, hint=""):
    """A case of an update rule: ``steps`` gradients of ``shape`` from weights of ``shape``."""
    rng = np.random.default_rng(seed)
    w = dyadic(rng, shape, dtype=dtype)
    dws = dyadic(rng, (steps, *shape), grad_scale, dtype)
    return Case(label, {"w": w, "dws": dws, "config": config}, hint, **tolerance(dtype, np.abs(w).max()))


def rule_cases(rule, state, non_default, *extra):
    """The cases every update rule gets, then ``extra`` ones.

    None and partial configs (defaults), each hyperparameter away from its default (one at a
    time, so a hard-coded one is named), everything non-default in float32, 5 steps each.
    """
    default = defaults(rule, state)
    listed = ", ".join(f"{k}={v:g}" for k, v in default.items())
    first = {"learning_rate": non_default["learning_rate"]}
    partial_hint = f"Only learning_rate is given here: fill in the others with their defaults ({listed})."
    return [
        rule_case("shape (3,), config=None (the defaults)", (3,), None, seed=1,
                  hint=f"With config=None every hyperparameter takes its default: {listed}."),
        rule_case(f"shape (4, 5), {'partial ' if len(default) > 1 else ''}config {first}", (4, 5), first, seed=2,
                  hint=partial_hint if len(default) > 1 else ""),
        *[rule_case(f"shape (2, 3), {k}={v:g}", (2, 3), {k: v}, seed=3 + i)
          for i, (k, v) in enumerate(non_default.items()) if k != "learning_rate"],
        rule_case(f"shape (3, 2), float32, config {non_default}", (3, 2), dict(non_default),
                  dtype=np.float32, seed=9),
        *extra,
    ]


def trained_case(label, shape, config, seed, steps=4, hint="", **kind):
    """A hidden case of an update rule, drawn as a trainer meets it: weights N(0, 1), then
    ``steps`` gradients N(0, 1), each scaled by 10**U(-3, 1). ``kind``: ``strict``, ``outputs``."""
    rng = np.random.default_rng(seed)
    w = rng.normal(size=shape)
    dws = np.stack([rng.normal(size=shape) * 10.0 ** rng.uniform(-3, 1) for _ in range(steps)])
    return Case(label, {"w": w, "dws": dws, "config": config}, hint, hidden=True,
                **{"strict": False, **kind}, **tolerance(np.float64, np.abs(w).max()))


def defaults_case(seed):
    """A hidden case of an update rule: one step with config=None, on a column of weights."""
    rng = np.random.default_rng(seed)
    w, dw = rng.normal(size=(5, 1)), rng.normal(size=(5, 1))
    return Case("one step with config=None: every hyperparameter at its default",
                {"w": w, "dws": dw[None], "config": None}, hidden=True, strict=False, outputs=("steps",),
                **tolerance(np.float64, np.abs(w).max()))


def untouched_case(rule, config, seed):
    """A hidden case of an update rule about the contract: one step from a ``config`` holding state
    (that of one step of ``rule``), w, dw and the config left as they were, the step right."""
    rng = np.random.default_rng(seed)
    w, dw = rng.normal(size=(3, 4)), rng.normal(size=(3, 4))
    _, holding_state = rule(w, rng.normal(size=(3, 4)), config)
    return Case("w, dw and config (with its state) are not changed in place, and the step is right",
                {"w": w, "dws": dw[None], "config": holding_state}, hidden=True,
                **tolerance(np.float64, np.abs(w).max()))


def hidden_rule_cases(rule, seed, untouched, *trained):
    """The hidden cases every update rule gets: the ``trained`` ones (:func:`trained_case`), one
    step with the defaults, and the contract's case from the config ``untouched``; seeds from ``seed``."""
    return [*trained, defaults_case(seed), untouched_case(rule, untouched, seed + 1)]


# --------------------------------------------------------------------------------------
# Mistakes every update rule can make (wrappers around the reference)
# --------------------------------------------------------------------------------------

def uphill(rule):
    """The step taken with the wrong sign: w + step instead of w - step."""
    def wrong(w, dw, config=None):
        next_w, config = rule(w, dw, config)
        return w - (next_w - w), config
    return wrong


def hard_coded(rule, name):
    """``name`` written as its default in the code instead of read from the config."""
    def wrong(w, dw, config=None):
        config = dict(config or {})
        value = config.pop(name, None)
        next_w, config = rule(w, dw, config)
        return next_w, config if value is None else {**config, name: value}
    return wrong


def forgets(rule, *keys):
    """State ``keys`` never stored: every call starts them afresh, and the returned config
    holds them as they came in (``config.setdefault(key, zeros)`` without storing back)."""
    def wrong(w, dw, config=None):
        config = dict(config or {})
        next_w, new = rule(w, dw, {k: v for k, v in config.items() if k not in keys})
        return next_w, {**new, **{k: config.get(k, 0 if k == "t" else np.zeros_like(w)) for k in keys}}
    return wrong


def common_mistakes(rule, name, state, hyperparameters, sign=True):
    """Wrong sign (unless ``sign`` is False), state lost between steps, each hyperparameter hard-coded."""
    default = defaults(rule, state)
    return [
        *([Mistake("uphill", uphill(rule),
                   "Your steps go uphill: the update subtracts the step, w - learning_rate * (...).")] if sign else []),
        *([Mistake("state_lost", forgets(rule, *state),
                   f"This is {name} with the state starting from zero at every call: store the new "
                   f"{' and '.join(state)} in the config you return, so that the next call continues from "
                   f"{'them' if len(state) > 1 else 'it'}.")]
          if state else []),
        *[Mistake(f"hard_coded_{k}", hard_coded(rule, k),
                  f"This is {name} with {k} fixed at its default {default[k]:g}: read config[{k!r}] instead of "
                  f"writing the number in the code.") for k in hyperparameters],
    ]


# --------------------------------------------------------------------------------------
# SGD, momentum, Nesterov
# --------------------------------------------------------------------------------------

SGD = Spec(
    exercise="sgd",
    reference=momentum.sgd,
    cases=[*rule_cases(momentum.sgd, (), {"learning_rate": 0.3}),
           *hidden_rule_cases(momentum.sgd, 312, {"learning_rate": 0.2}, trained_case(
               "several steps on an array of several dimensions, with a non-default learning rate", (2, 3, 4),
               {"learning_rate": 0.37}, 311))],
    mistakes=common_mistakes(momentum.sgd, "SGD", (), ("learning_rate",)),
    summary="shapes (3,), (4, 5), (3, 2); float64 and float32; config None and non-default; 5 steps each",
    rule="w - learning_rate * dw.",
)


def momentum_variant(w, dw, config=None, *, nesterov=False, step_sign=1, gradient_sign=-1):
    """Momentum (or Nesterov) with the signs as flags: v' = momentum*v + gradient_sign*lr*dw,
    then w + step_sign * (v', or Nesterov's -momentum*v + (1 + momentum)*v')."""
    c = {**defaults(momentum.sgd_momentum, ("velocity",)), **(config or {})}
    mu, v = c["momentum"], c.get("velocity", np.zeros_like(w))
    v_next = mu * v + gradient_sign * c["learning_rate"] * dw
    step = -mu * v + (1 + mu) * v_next if nesterov else v_next
    return w + step_sign * step, {**c, "velocity": v_next}


VELOCITY = ("velocity",)
MOMENTUM_VALUES = {"learning_rate": 0.05, "momentum": 0.5}
GIVEN_VELOCITY = rule_case("shape (2, 2), continuing from a velocity in the config", (2, 2),
                           {"velocity": np.array([[0.25, -0.5], [0.125, 0.0625]])}, seed=12,
                           hint="The config already holds a velocity: continue from it.")
WRONG_VELOCITY_SIGN = Mistake(
    "gradient_sign", partial(momentum_variant, gradient_sign=1),
    "Your velocity has the wrong sign: v = momentum * v - learning_rate * dw (minus), then w + v.")

SGD_MOMENTUM = Spec(
    exercise="sgd_momentum",
    reference=momentum.sgd_momentum,
    cases=[*rule_cases(momentum.sgd_momentum, VELOCITY, MOMENTUM_VALUES, GIVEN_VELOCITY),
           *hidden_rule_cases(
               momentum.sgd_momentum, 322, {"learning_rate": 0.1, "momentum": 0.5},
               trained_case("several steps with non-default momentum and learning rate, the velocity carried between "
                            "steps", (3, 5), {"learning_rate": 0.05, "momentum": 0.6}, 321),
               trained_case("a few steps continuing from a velocity already in the config", (4,),
                            {"learning_rate": 0.1, "velocity": np.random.default_rng(323).normal(size=(4,))}, 324,
                            steps=3, hint=GIVEN_VELOCITY.hint))],
    mistakes=[
        Mistake("minus_v", partial(momentum_variant, step_sign=-1),
                f"Your steps go uphill: you return w - v {NOTES_000}. With v = momentum * v - learning_rate * dw "
                f"the velocity already points downhill: return w + v."),
        WRONG_VELOCITY_SIGN,
        Mistake("velocity_sign", partial(momentum_variant, gradient_sign=1, step_sign=-1),
                "Your steps are right, but config['velocity'] has the opposite sign: the contract keeps "
                "v = momentum * v - learning_rate * dw and returns w + v."),
        *common_mistakes(momentum.sgd_momentum, "SGD with momentum", VELOCITY, ("learning_rate", "momentum"),
                         sign=False),
    ],
    summary="shapes (3,), (4, 5), (2, 3), (3, 2), (2, 2); float64 and float32; config None, partial and "
            "non-default; continuing from a stored velocity; 5 steps each",
    rule="v = momentum * v - learning_rate * dw; w + v.",
)

NESTEROV = Spec(
    exercise="nesterov",
    reference=momentum.nesterov,
    cases=[*rule_cases(momentum.nesterov, VELOCITY, MOMENTUM_VALUES, GIVEN_VELOCITY),
           *hidden_rule_cases(
               momentum.nesterov, 332, {"learning_rate": 0.1},
               trained_case("several steps on an array of several dimensions, with non-default momentum and learning "
                            "rate, the velocity carried between steps", (2, 2, 3),
                            {"learning_rate": 0.03, "momentum": 0.75}, 331),
               trained_case("a few steps continuing from a velocity already in the config, with a non-default "
                            "momentum", (2, 3),
                            {"momentum": 0.5, "velocity": np.random.default_rng(333).normal(size=(2, 3))}, 334,
                            steps=3, hint=GIVEN_VELOCITY.hint))],
    mistakes=[
        Mistake("plain_momentum", momentum_variant,
                "This is plain (heavy-ball) momentum, w + v'. Nesterov's update looks ahead: "
                "w - momentum * v + (1 + momentum) * v', with v the old velocity and v' the new one."),
        Mistake("uphill", uphill(momentum.nesterov),
                "Your steps go uphill: return w - momentum * v + (1 + momentum) * v', where "
                "v' = momentum * v - learning_rate * dw already points downhill."),
        Mistake(WRONG_VELOCITY_SIGN.name, partial(momentum_variant, nesterov=True, gradient_sign=1),
                WRONG_VELOCITY_SIGN.message.replace("then w + v", "then w - momentum * v + (1 + momentum) * v'")),
        *common_mistakes(momentum.nesterov, "Nesterov momentum", VELOCITY, ("learning_rate", "momentum"),
                         sign=False),
    ],
    summary="shapes (3,), (4, 5), (2, 3), (3, 2), (2, 2); float64 and float32; config None, partial and "
            "non-default; continuing from a stored velocity; 5 steps each",
    rule="v' = momentum * v - learning_rate * dw; w - momentum * v + (1 + momentum) * v'.",
)


# --------------------------------------------------------------------------------------
# AdaGrad and RMSProp
# --------------------------------------------------------------------------------------

def cache_variant(rule, w, dw, config=None, *, accumulate=True, swapped=False, eps_inside=False):
    """AdaGrad (no decay_rate) or RMSProp with the usual mistakes as flags: the cache replaced
    instead of accumulated, decay_rate and 1 - decay_rate swapped, epsilon inside the root."""
    c = {**defaults(rule, ("cache",)), **(config or {})}
    cache = c.get("cache", np.zeros_like(w))
    if "decay_rate" in c:
        keep = 1 - c["decay_rate"] if swapped else c["decay_rate"]
        cache = keep * cache + (1 - keep) * dw * dw
    else:
        cache = cache + dw * dw if accumulate else dw * dw
    root = np.sqrt(cache + c["epsilon"]) if eps_inside else np.sqrt(cache) + c["epsilon"]
    return w - c["learning_rate"] * dw / root, {**c, "cache": cache}


CACHE = ("cache",)
TINY = dict(grad_scale=2**-17, hint="The gradients are about 1e-5, as small as sqrt(epsilon): "
                                    "where epsilon goes matters.")
GIVEN_CACHE = rule_case("shape (2, 2), continuing from a cache in the config", (2, 2),
                        {"cache": np.array([[4.0, 0.25], [1.0, 9.0]])}, seed=13,
                        hint="The config already holds a cache: continue from it.")
EPSILON_INSIDE = "epsilon inside the square root, sqrt(cache + epsilon); the contract adds it outside: " \
                 "dw / (sqrt(cache) + epsilon)"

ADAGRAD = Spec(
    exercise="adagrad",
    reference=adaptive.adagrad,
    cases=rule_cases(
        adaptive.adagrad, CACHE, {"learning_rate": 0.2, "epsilon": 0.01},
        Case("the worked example: f = xy from (1, 2), learning_rate=1, gradients (2, 1) then (1, 0)",
             {"w": np.array([1.0, 2.0]), "dws": np.array([[2.0, 1.0], [1.0, 0.0]]),
              "config": {"learning_rate": 1.0}},
             hint="By hand: cache (4, 1) gives (0, 1); cache (5, 1) gives (-1/sqrt(5), 1)."),
        rule_case("shape (4,), gradients about 1e-5", (4,), None, seed=14, **TINY),
        GIVEN_CACHE,
        *hidden_rule_cases(
            adaptive.adagrad, 342, {"learning_rate": 0.05},
            trained_case("several steps with non-default learning rate and epsilon, the cache carried between steps",
                         (6,), {"learning_rate": 0.3, "epsilon": 1e-4}, 341),
            Case("one step with tiny gradients, where epsilon outside the square root matters",
                 {"w": np.array([1.0, -1.0, 0.5]), "dws": np.array([[1e-9, -3e-9, 2e-8]]),
                  "config": {"learning_rate": 0.1, "epsilon": 1e-8}}, hidden=True, strict=False, rtol=1e-9,
                 atol=1e-15)),
    ),
    mistakes=[
        Mistake("cache_not_accumulated", partial(cache_variant, adaptive.adagrad, accumulate=False),
                f"Your cache is the last squared gradient only, cache = dw**2 {NOTES_000}. AdaGrad sums "
                f"them all: cache = cache + dw**2."),
        Mistake("epsilon_inside_root", partial(cache_variant, adaptive.adagrad, eps_inside=True),
                f"This is AdaGrad with {EPSILON_INSIDE}."),
        *common_mistakes(adaptive.adagrad, "AdaGrad", CACHE, ("learning_rate", "epsilon")),
    ],
    summary="shapes (3,), (4, 5), (2, 3), (3, 2), (2,), (4,), (2, 2); float64 and float32; config None, partial "
            "and non-default; the f = xy worked example; tiny gradients; continuing from a stored cache; "
            "2 to 5 steps each",
    rule="cache = cache + dw**2; w - learning_rate * dw / (sqrt(cache) + epsilon).",
)

RMSPROP = Spec(
    exercise="rmsprop",
    reference=adaptive.rmsprop,
    cases=rule_cases(
        adaptive.rmsprop, CACHE, {"learning_rate": 0.02, "decay_rate": 0.8, "epsilon": 0.01},
        rule_case("shape (4,), gradients about 1e-5", (4,), None, seed=15, **TINY),
        GIVEN_CACHE,
        *hidden_rule_cases(
            adaptive.rmsprop, 352, {"decay_rate": 0.9},
            trained_case("several steps with non-default decay_rate and learning rate, the cache carried between "
                         "steps", (3, 2), {"learning_rate": 0.02, "decay_rate": 0.8}, 351),
            trained_case("a few steps continuing from a cache already in the config, with a non-default epsilon",
                         (5,), {"epsilon": 1e-3, "cache": np.random.default_rng(353).uniform(0.1, 2.0, size=(5,))},
                         354, steps=3, hint=GIVEN_CACHE.hint)),
    ),
    mistakes=[
        Mistake("decay_swapped", partial(cache_variant, adaptive.rmsprop, swapped=True),
                "This is RMSProp with decay_rate and 1 - decay_rate swapped: keep decay_rate of the old cache "
                "and add (1 - decay_rate) of the new squared gradient, "
                "cache = decay_rate * cache + (1 - decay_rate) * dw**2."),
        Mistake("epsilon_inside_root", partial(cache_variant, adaptive.rmsprop, eps_inside=True),
                f"This is RMSProp with {EPSILON_INSIDE}."),
        *common_mistakes(adaptive.rmsprop, "RMSProp", CACHE, ("learning_rate", "decay_rate", "epsilon")),
    ],
    summary="shapes (3,), (4, 5), (2, 3), (3, 2), (4,), (2, 2); float64 and float32; config None, partial and "
            "non-default; tiny gradients; continuing from a stored cache; 5 steps each",
    rule="cache = decay_rate * cache + (1 - decay_rate) * dw**2; w - learning_rate * dw / (sqrt(cache) + epsilon).",
)


# --------------------------------------------------------------------------------------
# Adam
# --------------------------------------------------------------------------------------

def adam_variant(w, dw, config=None, *, correct_m=True, correct_v=True, eps_inside=False, t_start=0,
                 increment="before", store_corrected=False):
    """Adam with the usual mistakes as flags: bias correction of m or v left out, epsilon
    inside the root, t starting at ``t_start`` when missing and incremented ``"before"`` or
    ``"after"`` it is used, the corrected m_hat and v_hat stored as the state."""
    c = {**defaults(adaptive.adam, ("m", "v", "t")), **(config or {})}
    m, v, t = c.get("m", np.zeros_like(w)), c.get("v", np.zeros_like(w)), c.get("t", t_start)
    beta1, beta2, eps = c["beta1"], c["beta2"], c["epsilon"]
    t_used = t + 1 if increment == "before" else t
    m = beta1 * m + (1 - beta1) * dw
    v = beta2 * v + (1 - beta2) * dw * dw
    m_hat = m / (1 - beta1**t_used) if correct_m else m
    v_hat = v / (1 - beta2**t_used) if correct_v else v
    root = np.sqrt(v_hat + eps) if eps_inside else np.sqrt(v_hat) + eps
    state = (m_hat, v_hat) if store_corrected else (m, v)
    return w - c["learning_rate"] * m_hat / root, {**c, "m": state[0], "v": state[1], "t": t + 1}


def stored_adam_state(seed):
    """A config holding Adam's state after some steps (t = 7), and a non-default epsilon."""
    rng = np.random.default_rng(seed)
    return {"m": rng.normal(size=(4,)), "v": rng.uniform(0.5, 1.5, size=(4,)), "t": 7, "epsilon": 1e-6}


ADAM_STATE = ("m", "v", "t")
ADAM = Spec(
    exercise="adam",
    reference=adaptive.adam,
    cases=rule_cases(
        adaptive.adam, ADAM_STATE,
        {"learning_rate": 0.01, "beta1": 0.5, "beta2": 0.9, "epsilon": 0.01},
        rule_case("shape (4,), gradients about 1e-5 (epsilon matters)", (4,), None, seed=10, grad_scale=2**-17),
        rule_case("shape (2, 2), continuing from t=10 with m and v in the config", (2, 2),
                  {"m": np.array([[0.5, -0.25], [0.125, 1.0]]), "v": np.array([[0.5, 0.25], [0.0625, 2.0]]), "t": 10},
                  seed=11, hint="The config already holds m, v and t = 10: continue from them."),
        *hidden_rule_cases(
            adaptive.adam, 362, {"learning_rate": 0.01},
            trained_case("several steps with non-default beta1, beta2 and learning rate: m, v and t carried between "
                         "steps", (2, 3, 2), {"learning_rate": 0.01, "beta1": 0.8, "beta2": 0.95}, 361, steps=5),
            trained_case("a few steps continuing from m, v and t already in the config (bias correction uses t), "
                         "with a non-default epsilon", (4,), stored_adam_state(363), 364, steps=3,
                         hint="The config already holds m, v and t: continue from them.")),
    ),
    mistakes=[
        Mistake("no_bias_correction", partial(adam_variant, correct_m=False, correct_v=False),
                "This is Adam without bias correction: divide m by (1 - beta1**t) and v by (1 - beta2**t) "
                "before the update."),
        Mistake("no_v_correction", partial(adam_variant, correct_v=False),
                "This is Adam without bias correction of v: divide v by (1 - beta2**t) too."),
        Mistake("no_m_correction", partial(adam_variant, correct_m=False),
                "This is Adam without bias correction of m: divide m by (1 - beta1**t) too."),
        Mistake("t_after_use", partial(adam_variant, increment="after"),
                "This is Adam with t incremented after it is used: in the first step t is 0 and "
                "1 - beta1**0 = 0. Increment first, t = config['t'] + 1, then correct with that t."),
        Mistake("t_from_one", partial(adam_variant, t_start=1, increment="after"),
                "Your t is one ahead: t counts the steps taken, starting at 0 (when the config has no 't'); "
                "increment it, then use it, then store it, so config['t'] is 1 after the first step."),
        Mistake("epsilon_inside_root", partial(adam_variant, eps_inside=True),
                "This is Adam with epsilon inside the square root, sqrt(v_hat + epsilon); the contract "
                "(like PyTorch) adds it outside: sqrt(v_hat) + epsilon."),
        Mistake("corrected_state", partial(adam_variant, store_corrected=True),
                "Your first step is right, but you store the bias-corrected m_hat and v_hat as the state "
                "(config['m'] = config['m'] / (1 - beta1**t)): store the moving averages m and v themselves, "
                "and correct a copy of them, m_hat = m / (1 - beta1**t), for the step only."),
        *common_mistakes(adaptive.adam, "Adam", ADAM_STATE, ("learning_rate", "beta1", "beta2", "epsilon")),
        Mistake("t_lost", forgets(adaptive.adam, "t"),
                "config['t'] never changes, so every step is bias-corrected as if it were the first: store "
                "the incremented t in the config you return."),
    ],
    summary="shapes (3,), (4, 5), (2, 3), (3, 2), (4,), (2, 2); float64 and float32; config None, partial and "
            "non-default; tiny gradients; continuing from stored state; 5 steps each",
    rule="t = t + 1; m = beta1*m + (1-beta1)*dw; v = beta2*v + (1-beta2)*dw**2; "
         "w - learning_rate * (m / (1-beta1**t)) / (sqrt(v / (1-beta2**t)) + epsilon).",
)


# --------------------------------------------------------------------------------------
# AdamW
# --------------------------------------------------------------------------------------

def adamw_variant(w, dw, config=None, *, decay="decoupled", correct=True, decay_sign=1):
    """AdamW with the usual mistakes as flags. ``decay``: ``"decoupled"`` (right),
    ``"gradient"`` (L2: wd * w added to dw before the moments), ``"no_lr"`` (w - wd * w, not
    times the learning rate), ``"after"`` (decay of the updated w), ``"none"`` (plain Adam);
    ``correct``: bias correction; ``decay_sign``: -1 grows the weights."""
    c = {**defaults(adaptive.adamw, ADAM_STATE), **(config or {})}
    m, v, t = c.get("m", np.zeros_like(w)), c.get("v", np.zeros_like(w)), c.get("t", 0) + 1
    lr, wd = c["learning_rate"], decay_sign * c["weight_decay"]
    g = dw + wd * w if decay == "gradient" else dw
    m = c["beta1"] * m + (1 - c["beta1"]) * g
    v = c["beta2"] * v + (1 - c["beta2"]) * g * g
    m_hat, v_hat = (m / (1 - c["beta1"]**t), v / (1 - c["beta2"]**t)) if correct else (m, v)
    adam_step = m_hat / (np.sqrt(v_hat) + c["epsilon"])
    if decay == "decoupled":
        next_w = w - lr * (adam_step + wd * w)
    elif decay == "no_lr":
        next_w = w - lr * adam_step - wd * w
    elif decay == "after":
        stepped = w - lr * adam_step
        next_w = stepped - lr * wd * stepped
    else:
        next_w = w - lr * adam_step
    return next_w.astype(w.dtype), {**c, "m": m, "v": v, "t": t}


ADAMW = Spec(
    exercise="adamw",
    reference=adaptive.adamw,
    cases=rule_cases(
        adaptive.adamw, ADAM_STATE,
        {"learning_rate": 0.05, "beta1": 0.5, "beta2": 0.9, "epsilon": 0.01, "weight_decay": 0.5},
        rule_case("shape (2, 2), continuing from t=10 with m and v in the config, weight_decay=0.2", (2, 2),
                  {"m": np.array([[0.5, -0.25], [0.125, 1.0]]), "v": np.array([[0.5, 0.25], [0.0625, 2.0]]), "t": 10,
                   "weight_decay": 0.2, "learning_rate": 0.1},
                  seed=31, hint="The config already holds m, v and t = 10: continue from them."),
        *hidden_rule_cases(
            adaptive.adamw, 372, {"learning_rate": 0.01, "weight_decay": 0.1},
            trained_case("several steps with non-default weight decay, betas and learning rate: m, v and t carried "
                         "between steps", (2, 3, 2),
                         {"learning_rate": 0.02, "beta1": 0.8, "beta2": 0.95, "weight_decay": 0.3}, 371, steps=5),
            trained_case("a few steps continuing from m, v and t already in the config, with a non-default weight "
                         "decay and epsilon", (4,), {**stored_adam_state(373), "weight_decay": 0.05, "epsilon": 1e-3}, 374, steps=3,
                         hint="The config already holds m, v and t: continue from them.")),
    ),
    mistakes=[
        Mistake("l2_in_gradient", partial(adamw_variant, decay="gradient"),
                "This is Adam with L2 regularization: you added weight_decay * w to the gradient, so the decay goes "
                "through m and v and is divided by sqrt(v_hat). AdamW decouples it: run Adam on dw alone, then "
                "w - learning_rate * (m_hat / (sqrt(v_hat) + epsilon) + weight_decay * w)."),
        Mistake("no_decay", partial(adamw_variant, decay="none"),
                "This is plain Adam: the weight decay is missing. Subtract learning_rate * weight_decay * w too."),
        Mistake("decay_without_lr", partial(adamw_variant, decay="no_lr"),
                "Your decay is weight_decay * w, not multiplied by the learning rate: in AdamW (as in PyTorch) each "
                "step shrinks w by learning_rate * weight_decay * w."),
        Mistake("decay_after_step", partial(adamw_variant, decay="after"),
                "You decay the updated weights (after the Adam step): the decay uses the w you were given, "
                "w - learning_rate * (m_hat / (sqrt(v_hat) + epsilon) + weight_decay * w)."),
        Mistake("no_bias_correction", partial(adamw_variant, correct=False),
                "This is AdamW without bias correction: divide m by (1 - beta1**t) and v by (1 - beta2**t) "
                "before the update."),
        Mistake("decay_sign", partial(adamw_variant, decay_sign=-1),
                "Your decay has the wrong sign, so it makes the weights grow: subtract "
                "learning_rate * weight_decay * w."),
        *common_mistakes(adaptive.adamw, "AdamW", ADAM_STATE,
                         ("learning_rate", "beta1", "beta2", "epsilon", "weight_decay")),
    ],
    summary="shapes (3,), (4, 5), (2, 3), (3, 2), (2, 2); float64 and float32; config None, partial and "
            "non-default; continuing from stored state; 5 steps each",
    rule="Adam's t, m, v, m_hat, v_hat; w - learning_rate * (m_hat / (sqrt(v_hat) + epsilon) + weight_decay * w), "
         "with the w you were given.",
)


# --------------------------------------------------------------------------------------
# Exponentially weighted averages
# --------------------------------------------------------------------------------------

def ewma_variant(xs, beta, bias_correction=True, *, correct=None, exponent_shift=0, swapped=False,
                 keep_dtype=False):
    """EWMA with the usual mistakes as flags: bias correction forced on or off (``correct``),
    its exponent shifted, beta and 1 - beta swapped, averages stored in an array of the
    series' own dtype (``np.zeros_like`` of an integer series)."""
    xs = np.asarray(xs)
    averages = np.zeros_like(xs) if keep_dtype else np.zeros(xs.shape)
    keep = 1 - beta if swapped else beta
    corrected = bias_correction if correct is None else correct
    v = np.zeros(xs.shape[1:])
    for t, x in enumerate(xs, start=1):
        v = keep * v + (1 - keep) * x
        averages[t - 1] = v / (1 - beta ** (t + exponent_shift)) if corrected else v
    return averages


def series_case(label, shape, beta, seed, dtype=np.float64, **kwargs):
    """A case of ``ewma``: a series of ``shape``, floats in [-8, 40] (or whole numbers 10..30 for
    an integer ``dtype``), and ``kwargs`` passed on (bias_correction)."""
    rng = np.random.default_rng(seed)
    xs = dyadic(rng, shape) * 8 + 16 if dtype == np.float64 else rng.integers(10, 31, size=shape)
    return Case(label, {"xs": xs.astype(dtype), "beta": beta, "kwargs": kwargs})


def hidden_series_case(label, xs, beta, **kwargs):
    """A hidden case of ``ewma`` on the series ``xs`` (an array or a list), ``kwargs`` passed on."""
    return Case(label, {"xs": xs, "beta": beta, "kwargs": kwargs}, hidden=True, strict=False)


EWMA = Spec(
    exercise="ewma",
    reference=momentum.ewma,
    cases=[
        series_case("6 values, beta=0.9 (bias correction by default)", (6,), 0.9, seed=20),
        series_case("8 values, beta=0.7, bias_correction=False", (8,), 0.7, seed=21, bias_correction=False),
        series_case("5 vectors of shape (3,), beta=0.8, bias_correction=True", (5, 3), 0.8, seed=22,
                    bias_correction=True),
        series_case("7 integers (temperatures), beta=0.6", (7,), 0.6, seed=23, dtype=np.int64),
        hidden_series_case("bias-corrected averages of a series of numbers",
                           np.random.default_rng(301).normal(3.0, 2.0, size=17), 0.73),
        hidden_series_case("averages without bias correction", np.random.default_rng(302).uniform(-5, 5, size=11), 0.5,
                           bias_correction=False),
        hidden_series_case("a series of vectors, averaged along time", np.random.default_rng(303).normal(size=(9, 3)),
                           0.95),
        hidden_series_case("a list of integers gives float averages", [4, 0, 7, 7, 1, 9], 0.6),
    ],
    mistakes=[
        Mistake("no_bias_correction", partial(ewma_variant, correct=False),
                "Your averages are not bias-corrected: with bias_correction=True (the default) divide v_t by "
                "(1 - beta**t)."),
        Mistake("correction_ignores_flag", partial(ewma_variant, correct=True),
                "Your averages are bias-corrected even with bias_correction=False: correct only when asked."),
        Mistake("correction_exponent_plus_one", partial(ewma_variant, exponent_shift=1),
                "Your bias correction uses beta**(t + 1): the t-th average (t = 1 for the first value) is "
                "divided by 1 - beta**t."),
        Mistake("correction_exponent_minus_one", partial(ewma_variant, exponent_shift=-1),
                "Your bias correction uses beta**(t - 1), which is 1 for the first value (a division by zero): "
                "the t-th average, counting from t = 1, is divided by 1 - beta**t."),
        Mistake("beta_swapped", partial(ewma_variant, swapped=True),
                "Your average swaps beta and 1 - beta: v = beta * v + (1 - beta) * x keeps beta of the past."),
        Mistake("integer_averages", partial(ewma_variant, keep_dtype=True),
                "Your averages lost their fractions: np.zeros_like(xs) of an integer series is an integer array. "
                "Store them in a float array, np.zeros(np.shape(xs))."),
    ],
    summary="1-D series of floats and integers, a series of vectors; beta 0.9, 0.8, 0.7, 0.6; "
            "bias_correction default, True and False",
    rule="v_0 = 0; v_t = beta * v_(t-1) + (1 - beta) * x_t; with bias correction v_t / (1 - beta**t), t from 1.",
)


# --------------------------------------------------------------------------------------
# Learning-rate schedules
# --------------------------------------------------------------------------------------

def omits(fn, name):
    """``fn`` called without the keyword ``name``: its default written in the code."""
    def wrong(*args, **kwargs):
        kwargs.pop(name, None)
        return fn(*args, **kwargs)
    return wrong


def step_decay_variant(lr0, t, drop=0.5, every=10, *, shift=0, floor=True):
    periods = (t + shift) / every
    return lr0 * drop ** (np.floor(periods) if floor else periods)


def exponential_decay_variant(lr0, t, k, *, shift=0, sign=-1):
    return lr0 * np.exp(sign * k * (t + shift))


def inverse_time_decay_variant(lr0, t, k, *, shift=0, one=1.0):
    return lr0 / np.float64(one + k * (t + shift))


def cosine_restarts_variant(lr0, t, period, lr_min=0.0, *, shift=0, restarts=True, denominator=0, turns=1,
                            use_min=True, subtract_min=True):
    """Cosine restarts with the usual mistakes as flags: t shifted, no ``mod``, the phase divided
    by ``period + denominator``, the cosine's argument times ``turns``, lr_min left out."""
    t = t + shift
    phase = (t % period if restarts else t) / (period + denominator)
    low, span = (lr_min if use_min else 0.0), (lr0 - lr_min if subtract_min else lr0)
    return low + span * (1 + np.cos(np.pi * turns * phase)) / 2


def schedule_case(label, lr0, steps, **kwargs):
    """A case of a schedule: its rate at t = 0 .. steps - 1, with ``kwargs`` passed on."""
    return Case(label, {"lr0": lr0, "steps": steps, "kwargs": kwargs})


HIDDEN_STEPS = [0, 1, 5, 9, 10, 11, 13, 23, 40, 57]
"""The steps of the hidden cases of a schedule: around the drops and restarts, and far out."""


def hidden_schedule_case(label, lr0, **kwargs):
    """A hidden case of a schedule: its rate at each of ``HIDDEN_STEPS``, one by one and as an array."""
    return Case(label, {"lr0": lr0, "steps": HIDDEN_STEPS, "kwargs": kwargs}, hidden=True)


def off_by_one(variant, rule):
    """Mistakes t + 1 and t - 1 for a schedule ``rule`` (its text, in terms of t)."""
    return [Mistake("t_plus_one", partial(variant, shift=1),
                    f"Your rates are one step early: t counts from 0, so use {rule} with t itself, not t + 1."),
            Mistake("t_minus_one", partial(variant, shift=-1),
                    f"Your rates are one step late: t counts from 0, so use {rule} with t itself, not t - 1.")]


STEP_DECAY = Spec(
    exercise="step_decay",
    reference=schedules.step_decay,
    cases=[schedule_case("lr0=0.1, the defaults (drop=0.5, every=10), t = 0..24", 0.1, 25),
           schedule_case("lr0=1.0, drop=0.25, every=3, t = 0..10", 1.0, 11, drop=0.25, every=3),
           schedule_case("lr0=0.4, drop=0.9, every=4, t = 0..12", 0.4, 13, drop=0.9, every=4),
           hidden_schedule_case("halving every 10 steps by default, for single steps and an array of steps", 0.3),
           hidden_schedule_case("a non-default drop and period", 0.05, drop=0.1, every=4)],
    mistakes=[
        *off_by_one(step_decay_variant, "lr0 * drop**(t // every)"),
        Mistake("no_floor", partial(step_decay_variant, floor=False),
                "Your rate decays at every step: the exponent counts whole periods, floor(t / every) = t // every."),
        Mistake("hard_coded_drop", omits(schedules.step_decay, "drop"),
                "Your rate ignores drop: use the argument, not the number 0.5."),
        Mistake("hard_coded_every", omits(schedules.step_decay, "every"),
                "Your rate ignores every: use the argument, not the number 10."),
    ],
    summary="the defaults and two non-default (drop, every); t from 0 over 2 to 3 drops",
    rule="lr0 * drop**floor(t / every), t counted from 0.",
)

EXPONENTIAL_DECAY = Spec(
    exercise="exponential_decay",
    reference=schedules.exponential_decay,
    cases=[schedule_case("lr0=0.1, k=0.1, t = 0..19", 0.1, 20, k=0.1),
           schedule_case("lr0=2.0, k=0.5, t = 0..9", 2.0, 10, k=0.5),
           hidden_schedule_case("another lr0 and k, for single steps and an array of steps", 0.2, k=0.07)],
    mistakes=[
        *off_by_one(exponential_decay_variant, "lr0 * exp(-k * t)"),
        Mistake("growing", partial(exponential_decay_variant, sign=1),
                "Your rate grows: the exponent is negative, lr0 * exp(-k * t)."),
    ],
    summary="two (lr0, k); t from 0",
    rule="lr0 * exp(-k * t), t counted from 0.",
)

INVERSE_TIME_DECAY = Spec(
    exercise="inverse_time_decay",
    reference=schedules.inverse_time_decay,
    cases=[schedule_case("lr0=0.1, k=0.5, t = 0..14", 0.1, 15, k=0.5),
           schedule_case("lr0=1.0, k=0.05, t = 0..9", 1.0, 10, k=0.05),
           hidden_schedule_case("another lr0 and k, for single steps and an array of steps", 0.8, k=0.3)],
    mistakes=[
        *off_by_one(inverse_time_decay_variant, "lr0 / (1 + k * t)"),
        Mistake("missing_one", partial(inverse_time_decay_variant, one=0.0),
                "Your rate is lr0 / (k * t), infinite at t = 0: the rule is lr0 / (1 + k * t)."),
    ],
    summary="two (lr0, k); t from 0",
    rule="lr0 / (1 + k * t), t counted from 0.",
)

COSINE_RESTARTS = Spec(
    exercise="cosine_restarts",
    reference=schedules.cosine_restarts,
    cases=[schedule_case("lr0=0.1, period=10, lr_min=0 (the default), t = 0..24", 0.1, 25, period=10),
           schedule_case("lr0=1.0, period=4, lr_min=0.1, t = 0..11", 1.0, 12, period=4, lr_min=0.1),
           schedule_case("lr0=0.5, period=7, lr_min=0.05, t = 0..20", 0.5, 21, period=7, lr_min=0.05),
           hidden_schedule_case("a short period, restarts included, for single steps and an array of steps", 0.4,
                                period=6),
           hidden_schedule_case("a non-zero lr_min with a longer period", 0.5, period=15, lr_min=0.01)],
    mistakes=[
        Mistake("no_restart", partial(cosine_restarts_variant, restarts=False),
                "Your rate never restarts: the phase is (t mod period) / period, so it jumps back to lr0 "
                "every period steps."),
        Mistake("period_minus_one", partial(cosine_restarts_variant, denominator=-1),
                "Your phase is (t mod period) / (period - 1): divide by period, so that lr_min is only "
                "approached and t = period starts again at lr0."),
        Mistake("full_turn", partial(cosine_restarts_variant, turns=2),
                "Your cosine makes a full turn per period (cos(2 pi phase)): it is half a turn, "
                "cos(pi * (t mod period) / period), from lr0 down towards lr_min."),
        *off_by_one(cosine_restarts_variant, "the phase (t mod period) / period"),
        Mistake("lr_min_ignored", partial(cosine_restarts_variant, use_min=False, subtract_min=False),
                "Your rate ignores lr_min: lr_min + (lr0 - lr_min) * (1 + cos(pi * phase)) / 2."),
        Mistake("lr_min_not_subtracted", partial(cosine_restarts_variant, subtract_min=False),
                "Your rate starts at lr0 + lr_min: the cosine spans lr0 - lr_min, "
                "lr_min + (lr0 - lr_min) * (1 + cos(pi * phase)) / 2."),
    ],
    summary="periods 10, 4 and 7 over 2 to 3 restarts; lr_min default (0) and non-zero",
    rule="lr_min + (lr0 - lr_min) * (1 + cos(pi * (t mod period) / period)) / 2, t counted from 0.",
)



def warmup_cosine_variant(lr0, t, warmup, total, lr_min=0.0, *, from_zero=False, span="after_warmup",
                          use_min=True, floor=True):
    """Warmup + cosine with the usual mistakes as flags: warmup lr0 * t / warmup (``from_zero``),
    the cosine's phase t / total or (t - warmup) / total (``span`` "whole" or "denominator"),
    lr_min left out, no floor after total (the cosine rises again)."""
    t = np.asarray(t, dtype=float)
    ramp = lr0 * (t if from_zero else t + 1) / max(warmup, 1)
    if span == "whole":
        phase = t / total
    elif span == "denominator":
        phase = (t - warmup) / total
    else:
        phase = (t - warmup) / (total - warmup)
    if floor:
        phase = np.minimum(phase, 1.0)
    low = lr_min if use_min else 0.0
    rate = np.where(t < warmup, ramp, low + (lr0 - low) * (1 + np.cos(np.pi * phase)) / 2)
    return float(rate) if rate.ndim == 0 else rate


WARMUP_COSINE = Spec(
    exercise="warmup_cosine",
    reference=schedules.warmup_cosine,
    cases=[schedule_case("lr0=0.1, warmup=3, total=10, lr_min=0 (the default), t = 0..13", 0.1, 14, warmup=3,
                         total=10),
           schedule_case("lr0=1.0, warmup=5, total=20, lr_min=0.1, t = 0..24", 1.0, 25, warmup=5, total=20,
                         lr_min=0.1),
           schedule_case("lr0=0.5, warmup=0 (no warmup), total=8, lr_min=0.05, t = 0..10", 0.5, 11, warmup=0,
                         total=8, lr_min=0.05),
           hidden_schedule_case("warmup then cosine to zero, for single steps and an array of steps", 0.3,
                                warmup=10, total=40),
           hidden_schedule_case("a short warmup, a non-zero lr_min and steps past the end", 0.6, warmup=4,
                                total=23, lr_min=0.01)],
    mistakes=[
        Mistake("warmup_from_zero", partial(warmup_cosine_variant, from_zero=True),
                "Your warmup starts at 0 (lr0 * t / warmup), so the first step does nothing: it is "
                "lr0 * (t + 1) / warmup, reaching lr0 at t = warmup - 1."),
        Mistake("cosine_over_total", partial(warmup_cosine_variant, span="whole"),
                "Your cosine runs over the whole training, cos(pi * t / total): it starts after the warmup and "
                "spans the remaining total - warmup steps, cos(pi * (t - warmup) / (total - warmup))."),
        Mistake("cosine_denominator_total", partial(warmup_cosine_variant, span="denominator"),
                "Your cosine's phase is (t - warmup) / total, so it never reaches lr_min: divide by the length of "
                "the decay, total - warmup."),
        Mistake("lr_min_ignored", partial(warmup_cosine_variant, use_min=False),
                "Your rate decays to 0, ignoring lr_min: lr_min + (lr0 - lr_min) * (1 + cos(pi * phase)) / 2."),
        Mistake("no_floor", partial(warmup_cosine_variant, floor=False),
                "Your rate rises again after total steps (the cosine goes on): from t = total on it stays at "
                "lr_min (clip the phase at 1, e.g. np.minimum)."),
    ],
    summary="warmups 3, 5 and 0; totals 10, 20, 8; lr_min default (0) and non-zero; steps past the end",
    rule="lr0 * (t + 1) / warmup for t < warmup; lr_min + (lr0 - lr_min) * (1 + cos(pi * (t - warmup) / "
         "(total - warmup))) / 2 until total; lr_min from total on; t counted from 0.",
)


# --------------------------------------------------------------------------------------
# Gradient clipping
# --------------------------------------------------------------------------------------

def clip_variant(grads, max_norm, *, per_array=False, elementwise=False, always=False, norm_after=False):
    """Clipping with the usual mistakes as flags: each array by its own norm, np.clip of the
    entries, scaling even when the norm is below max_norm, the norm returned after clipping."""
    norm = float(np.sqrt(sum(np.sum(g * g) for g in grads.values())))
    if elementwise:
        clipped = {k: np.clip(g, -max_norm, max_norm) for k, g in grads.items()}
    elif per_array:
        clipped = {k: g * min(1.0, max_norm / np.linalg.norm(g)) for k, g in grads.items()}
    else:
        scale = max_norm / norm if (always or norm > max_norm) else 1.0
        clipped = {k: g * scale for k, g in grads.items()}
    if norm_after:
        norm = float(np.sqrt(sum(np.sum(g * g) for g in clipped.values())))
    return clipped, norm


def clip_case(label, shapes, max_norm, seed, scales=None, hidden=False, hint=""):
    """A case of ``clip_by_global_norm``: arrays named as ``MLP.loss`` names them, of ``shapes``,
    each drawn N(0, 1) times its scale."""
    rng = np.random.default_rng(seed)
    scales = scales or [1.0] * len(shapes)
    grads = {name: rng.normal(size=shape) * scale for name, shape, scale in
             zip(("W1", "b1", "W2", "b2", "W3", "b3"), shapes, scales)}
    return Case(label, {"grads": grads, "max_norm": max_norm}, hint, hidden=hidden, strict=not hidden,
                rtol=1e-9, atol=1e-12)


CLIP_BY_GLOBAL_NORM = Spec(
    exercise="clip_by_global_norm",
    reference=schedules.clip_by_global_norm,
    cases=[clip_case("W1 (3, 2) and b1 (2,), global norm above max_norm=1", [(3, 2), (2,)], 1.0, 40,
                     scales=[2.0, 0.1], hint="The global norm is sqrt of the sum of every squared entry of every "
                     "array; when it exceeds max_norm, every array is multiplied by max_norm / norm."),
           clip_case("W1 (2, 3), b1 (3,), W2 (3, 2), b2 (2,), large entries, max_norm=2", [(2, 3), (3,), (3, 2), (2,)],
                     2.0, 41, scales=[5.0, 1.0, 3.0, 0.5]),
           clip_case("W1 (4,) and b1 (2,), global norm below max_norm=10: unchanged", [(4,), (2,)], 10.0, 42,
                     hint="The norm is below max_norm: return the gradients unchanged (as new arrays)."),
           clip_case("gradients of a two-layer network, far above the limit", [(5, 4), (4,), (4, 3), (3,)], 0.5, 401,
                     scales=[10.0, 1.0, 20.0, 2.0], hidden=True),
           clip_case("one large and one small array: they are scaled together", [(6,), (2, 2)], 1.5, 402,
                     scales=[3.0, 0.05], hidden=True),
           clip_case("a norm below the limit leaves the gradients as they are", [(3, 3), (3,)], 50.0, 403,
                     hidden=True),
           clip_case("three layers, entries larger than the limit", [(2, 4), (4,), (4, 4), (4,), (4, 2), (2,)], 0.8,
                     404, scales=[4.0, 4.0, 4.0, 4.0, 4.0, 4.0], hidden=True)],
    mistakes=[
        Mistake("per_array", partial(clip_variant, per_array=True),
                "You clip each array by its own norm, which changes the direction of the step: compute one global "
                "norm over all arrays, sqrt(sum of np.sum(g**2) for every g), and scale them all by "
                "max_norm / norm."),
        Mistake("elementwise", partial(clip_variant, elementwise=True),
                "You clip the entries (np.clip), which changes the direction of the step: scale every array by "
                "max_norm / norm when the global norm exceeds max_norm."),
        Mistake("always_scaled", partial(clip_variant, always=True),
                "You scale the gradients even when their norm is below max_norm (and make small gradients larger): "
                "scale only when norm > max_norm."),
        Mistake("norm_after_clipping", partial(clip_variant, norm_after=True),
                "Your clipped gradients are right, but the norm you return is the one after clipping: return the "
                "norm before, so that the caller can see how large the gradients were."),
    ],
    summary="2 to 4 arrays named as MLP.loss names them; global norm above and below max_norm; large entries",
    rule="norm = sqrt(sum over arrays of np.sum(g**2)); each g * max_norm / norm if norm > max_norm, else g; "
         "return (clipped, norm) with the norm before clipping.",
)

SPECS = [SGD, SGD_MOMENTUM, NESTEROV, ADAGRAD, RMSPROP, ADAM, EWMA,
         STEP_DECAY, EXPONENTIAL_DECAY, INVERSE_TIME_DECAY, COSINE_RESTARTS, ADAMW, WARMUP_COSINE,
         CLIP_BY_GLOBAL_NORM]
