"""Build time: the cases and the known mistakes of notebook 05's checks (``xavier``, ``he``).

Every case draws a 300 x 700 or 700 x 300 matrix (210,000 weights), so the sampling errors
are small: about 0.15% for the std, 0.002 for the mean in units of the std and 0.011 for the
excess kurtosis. The tolerances (2%, 0.02 and 0.15) are more than ten times larger, and the
closest wrong formula is 15% away.
"""

import math
from functools import partial

import numpy as np

from course_lib.reference import init as reference

from .build import Case, Mistake, Spec

N_IN, N_OUT = 300, 700


def _std_formulas():
    """Right and wrong stds of a layer, as functions of (fan_in, fan_out)."""
    return {
        "xavier": lambda i, o: math.sqrt(2 / (i + o)),
        "he": lambda i, o: math.sqrt(2 / i),
        "lecun": lambda i, o: math.sqrt(1 / i),
        "fan_sum_no_2": lambda i, o: math.sqrt(1 / (i + o)),
        "xavier_variance": lambda i, o: 2 / (i + o),
        "he_variance": lambda i, o: 2 / i,
        "he_fan_out": lambda i, o: math.sqrt(2 / o),
        "xavier_uniform_limit": lambda i, o: math.sqrt(6 / (i + o)),
        "he_uniform_limit": lambda i, o: math.sqrt(6 / i),
        "he_2_outside_root": lambda i, o: 2 / math.sqrt(i),
        "one": lambda i, o: 1.0,
    }


STD = _std_formulas()


def initializer(fan_in, fan_out, rng=None, *, std="xavier", dist="normal"):
    """A (possibly wrong) initializer: ``dist`` is ``"normal"`` (N(0, std^2)), ``"uniform"``
    (U(-limit, limit) with limit = std), ``"uniform_same_var"`` (the same variance as the
    normal, limit = sqrt(3) std), ``"loc"`` (``rng.normal(std, size=...)``: mean std, std 1)
    or ``"unit_interval"`` (``rng.random``, U(0, 1))."""
    rng = np.random.default_rng(rng)
    s, size = STD[std](fan_in, fan_out), (fan_in, fan_out)
    draw = {
        "normal": lambda: rng.normal(0.0, s, size=size),
        "uniform": lambda: rng.uniform(-s, s, size=size),
        "uniform_same_var": lambda: rng.uniform(-math.sqrt(3) * s, math.sqrt(3) * s, size=size),
        "loc": lambda: rng.normal(s, size=size),
        "unit_interval": lambda: rng.random(size=size),
    }
    return draw[dist]()


TOLERANCES = {"std": {"rtol": 0.02, "atol": 0.0}, "mean_in_stds": {"rtol": 0.0, "atol": 0.02},
              "excess_kurtosis": {"rtol": 0.0, "atol": 0.15}, "shape": {}}
"""The tolerance of each measure (see the module's docstring)."""


def case(label, fan_in, fan_out, seed, measure, hint="", **kind):
    """A case measuring ``measure`` of a ``fan_in`` x ``fan_out`` draw (seed None: with rng=None)."""
    return Case(label, {"fan_in": fan_in, "fan_out": fan_out, "seed": seed, "measure": measure}, hint,
                **TOLERANCES[measure], **kind)


def cases(layer, fans):
    """Std (both orientations, so formulas using one fan are told apart), mean, kurtosis, rng=None;
    then the hidden ones, measured apart (one point each) on a 400 x 300 draw, the std of a
    ``layer`` whose ``fans`` (fan_in, fan_out) differ much, and the rng's part."""
    def hidden(label, fan_in, fan_out, seed, measure):
        return case(label, fan_in, fan_out, seed, measure, hidden=True, strict=False)

    return [
        case(f"std of a {N_IN} x {N_OUT} draw", N_IN, N_OUT, 1, "std"),
        case(f"std of a {N_OUT} x {N_IN} draw", N_OUT, N_IN, 2, "std"),
        case(f"mean of a {N_IN} x {N_OUT} draw", N_IN, N_OUT, 3, "mean_in_stds"),
        case(f"shape of the distribution of a {N_IN} x {N_OUT} draw", N_IN, N_OUT, 4, "excess_kurtosis"),
        case("rng=None (fresh randomness)", 4, 3, None, "shape",
             hint="With rng=None make a fresh generator: rng = np.random.default_rng(rng)."),
        hidden("the std of a large draw", 400, 300, 401, "std"),
        hidden("the mean of a large draw is 0", 400, 300, 402, "mean_in_stds"),
        hidden("the weights are normally distributed", 400, 300, 403, "excess_kurtosis"),
        hidden(f"the std of a layer with {layer}", *fans, 404, "std"),
        case("the generator passed as rng decides the weights", 7, 5, 11, "shape", hidden=True),
    ]


def shared_mistakes(name, right):
    """Mistakes either initializer can make, around its right std formula ``right``."""
    return [
        Mistake("uniform", partial(initializer, std=right, dist="uniform_same_var"),
                f"Your weights are uniform (excess kurtosis -1.2), with the right variance: {name} draws from a "
                f"normal distribution, rng.normal(0.0, std, size=(fan_in, fan_out)). (Glorot's uniform variant, "
                f"limit sqrt(3) * std, is another initializer.)"),
        Mistake("uniform_std_as_limit", partial(initializer, std=right, dist="uniform"),
                f"Your weights are uniform on [-std, std] (excess kurtosis -1.2, std sqrt(3) times too small): "
                f"{name} draws from a normal distribution, rng.normal(0.0, std, size=(fan_in, fan_out))."),
        Mistake("unscaled", partial(initializer, std="one"),
                "Your weights have std 1: rng.standard_normal(...) needs multiplying by the std (or use "
                "rng.normal(0.0, std, size=...))."),
        Mistake("std_as_loc", partial(initializer, std=right, dist="loc"),
                "rng.normal(std, size=...) sets the mean (loc) to std and keeps the default scale 1: pass both, "
                "rng.normal(0.0, std, size=(fan_in, fan_out)), or scale=std."),
        Mistake("unit_interval", partial(initializer, std=right, dist="unit_interval"),
                "Your weights look like rng.random(...): uniform on [0, 1), mean 0.5. Draw from a normal "
                "distribution centred on 0: rng.normal(0.0, std, size=(fan_in, fan_out))."),
    ]


XAVIER_RULE = "sqrt(2 / (fan_in + fan_out))"
XAVIER = Spec(
    exercise="xavier",
    reference=reference.xavier,
    cases=cases("many more outputs than inputs", (100, 1200)),
    mistakes=[
        Mistake("lecun", partial(initializer, std="lecun"),
                "Your std is sqrt(1 / fan_in), LeCun's (LeCun et al. 1998; some courses call it 'Xavier', the "
                "same thing when fan_in = fan_out). Glorot and Bengio average the fans of the forward and the backward pass: "
                "std = sqrt(2 / (fan_in + fan_out))."),
        Mistake("fan_sum_no_2", partial(initializer, std="fan_sum_no_2"),
                "Your std is sqrt(1 / (fan_in + fan_out)): the 2 is missing, std = sqrt(2 / (fan_in + fan_out))."),
        Mistake("variance_as_std", partial(initializer, std="xavier_variance"),
                "Your std is 2 / (fan_in + fan_out), which is the variance: take its square root, "
                "std = sqrt(2 / (fan_in + fan_out))."),
        Mistake("he_formula", partial(initializer, std="he"),
                "Your std is sqrt(2 / fan_in), He's: Xavier's is sqrt(2 / (fan_in + fan_out))."),
        Mistake("uniform_limit_as_std", partial(initializer, std="xavier_uniform_limit"),
                "Your std is sqrt(6 / (fan_in + fan_out)), the limit of Glorot's uniform variant: the normal "
                "one has std sqrt(2 / (fan_in + fan_out))."),
        *shared_mistakes("xavier", "xavier"),
    ],
    summary=f"std, mean and normality of {N_IN} x {N_OUT} and {N_OUT} x {N_IN} draws; the rng's randomness; "
            f"rng=None",
    rule=f"W ~ N(0, std^2) with std = {XAVIER_RULE}, shape (fan_in, fan_out), drawn from rng.",
)

HE_RULE = "sqrt(2 / fan_in)"
HE = Spec(
    exercise="he",
    reference=reference.he,
    cases=cases("many fewer outputs than inputs", (1500, 80)),
    mistakes=[
        Mistake("fan_out", partial(initializer, std="he_fan_out"),
                "Your std is sqrt(2 / fan_out): He's uses fan_in, the number of inputs each unit sums over, "
                "std = sqrt(2 / fan_in)."),
        Mistake("lecun", partial(initializer, std="lecun"),
                "Your std is sqrt(1 / fan_in): the 2 is missing. ReLU zeroes half of its inputs, halving the "
                "variance; the 2 makes up for it: std = sqrt(2 / fan_in)."),
        Mistake("variance_as_std", partial(initializer, std="he_variance"),
                "Your std is 2 / fan_in, which is the variance: take its square root, std = sqrt(2 / fan_in)."),
        Mistake("two_outside_root", partial(initializer, std="he_2_outside_root"),
                "Your std is 2 / sqrt(fan_in): the 2 belongs inside the root, std = sqrt(2 / fan_in)."),
        Mistake("xavier_formula", partial(initializer, std="xavier"),
                "Your std is sqrt(2 / (fan_in + fan_out)), Xavier's: He's is sqrt(2 / fan_in)."),
        Mistake("uniform_limit_as_std", partial(initializer, std="he_uniform_limit"),
                "Your std is sqrt(6 / fan_in), the limit of He's uniform variant: the normal one has std "
                "sqrt(2 / fan_in)."),
        *shared_mistakes("he", "he"),
    ],
    summary=f"std, mean and normality of {N_IN} x {N_OUT} and {N_OUT} x {N_IN} draws; the rng's randomness; "
            f"rng=None",
    rule=f"W ~ N(0, std^2) with std = {HE_RULE}, shape (fan_in, fan_out), drawn from rng.",
)

SPECS = [XAVIER, HE]
