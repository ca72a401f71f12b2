"""Assertions for hidden tests, with messages a student may read.

When a student's function disagrees with the reference, the feedback must say what is wrong
in words and reveal nothing of the hidden inputs or of the expected values. These helpers
raise ``Mismatch`` (an ``AssertionError``) with such a message, naming the value with the
test's own words (``what``). Any other failure in a hidden test is reported by the test's
description alone.

>>> close([1.0, 2.0], [1.0, 2.0], "the step")
>>> close([2.0, 4.0], [1.0, 2.0], "the step")
Traceback (most recent call last):
...
course_instructor.grading.expect.Mismatch: the step: every value is about 2x the right one
"""

import numpy as np

from .wire import Handle

__all__ = ["Mismatch", "close", "equal", "unchanged", "true", "numbers"]


class Mismatch(AssertionError):
    """A failed check whose message is safe to show the student."""


def numbers(value, what):
    """``value`` as a float array, or ``Mismatch`` when it is not numbers (None, a handle, text)."""
    if value is None or isinstance(value, (Handle, str, dict)):
        raise Mismatch(f"{what}: expected numbers, got {_kind(value)}")
    try:
        array = np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        raise Mismatch(f"{what}: expected numbers, got {_kind(value)}") from None
    return array


def _kind(value):
    if value is None:
        return "None (is a return statement missing?)"
    if isinstance(value, Handle):
        return "an object that is not numbers"
    return type(value).__name__


def close(got, want, what, rtol=1e-6, atol=1e-9):
    """``got`` equals ``want`` up to rounding: same shape, NaN where it is NaN, values within tolerance."""
    got, want = numbers(got, what), np.asarray(want, dtype=float)
    if got.shape != want.shape:
        raise Mismatch(f"{what}: wrong shape" + (" (a single number was expected)" if want.ndim == 0 else ""))
    if not np.array_equal(np.isfinite(got), np.isfinite(want)):
        raise Mismatch(f"{what}: NaN or infinite values where there should be none (or the reverse)")
    finite = np.isfinite(want)
    if np.allclose(got[finite], want[finite], rtol=rtol, atol=atol):
        return
    raise Mismatch(f"{what}: {_how_wrong(got[finite], want[finite])}")


def _how_wrong(got, want):
    """Words for how ``got`` differs: a constant factor, a sign, or the size of the error."""
    nonzero = np.abs(want) > 1e-12
    if nonzero.any():
        ratios = got[nonzero] / want[nonzero]
        ratio = float(np.median(ratios))
        if np.allclose(ratios, ratio, rtol=1e-3) and np.allclose(got[~nonzero], 0, atol=1e-9):
            if np.isclose(ratio, -1):
                return "the sign is flipped"
            if ratio != 0:
                return f"every value is about {ratio:.3g}x the right one"
    error = np.max(np.abs(got - want) / np.maximum(np.abs(got) + np.abs(want), 1e-12))
    return f"wrong values (largest relative error {error:.1e})"


def equal(got, want, what):
    """Exactly equal plain values (counts, keys, lengths); the message does not show them."""
    if type(got) is not type(want) and not (isinstance(got, (int, float)) and isinstance(want, (int, float))):
        raise Mismatch(f"{what}: expected a {type(want).__name__}, got {_kind(got)}")
    if got != want:
        raise Mismatch(f"{what}: wrong value")


def unchanged(after, before, what):
    """An input the function must not change in place (``before`` is a copy taken before the call)."""
    if not np.array_equal(np.asarray(after), np.asarray(before), equal_nan=True):
        raise Mismatch(f"your function changed {what} in place: work on a copy (e.g. x = x.copy())")


def true(condition, message):
    """A property that must hold; ``message`` says what is wrong when it does not."""
    if not condition:
        raise Mismatch(message)
