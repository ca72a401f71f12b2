"""The machinery of the self-checks: run a student's function on stored cases, compare, explain.

A check never calls a reference implementation: the cases, the right answers and the
answers of known-wrong versions of each function ("mistakes") are stored data, built at
development time by ``course_instructor.cases.build``. At run time a check

1. calls the student's function on every stored case, through the exercise's
   :class:`Protocol` (how to call the function, what to read from its result), on
   copies of the inputs;
2. reports the first problem it finds, in this order: not implemented yet, an exception,
   a result of the wrong type or structure, an input changed in place, wrong values
   (named after the stored mistake they match, with the numbers that show it), a wrong
   dtype;
3. returns a :class:`CheckResult`; ``check_<name>`` prints its one-line message.

The text depends only on the student's function and the stored data, so it is the same on
every run (nbval compares it).
"""

import json
import linecache
import sysconfig
import traceback
import warnings
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import numpy as np

__all__ = [
    "CheckResult", "Finding", "Observation", "Protocol", "Check", "CHECKS", "define", "run_check",
    "call_student", "describe_exception", "snapshot", "same", "type_name",
    "encode", "decode", "DATA_DIR", "PASS", "FAIL",
]

DATA_DIR = Path(__file__).with_name("data")
"""Where the stored cases live: one ``<exercise>.json`` per checked function."""

PASS, FAIL = "✓", "✗"

NOT_IMPLEMENTED = "not implemented yet: replace `raise NotImplementedError()` with your code."


# --------------------------------------------------------------------------------------
# Results
# --------------------------------------------------------------------------------------

@dataclass(frozen=True)
class CheckResult:
    """The verdict on one student function, as data (for graders) and as text (for students).

    exercise:  the graded function's name, e.g. ``"adam"``.
    passed:    True when every case passed.
    message:   the one-line verdict ``check_<exercise>`` prints, starting with ✓ or ✗.
    diagnosis: ``"passed"``; a stored mistake's name (e.g. ``"no_bias_correction"``) when the
               wrong values match it; or one of ``"not_implemented"``, ``"error"``,
               ``"wrong_type"``, ``"wrong_shape"``, ``"wrong_values"``, ``"wrong_dtype"``,
               ``"mutated_input"``, ``"config_not_new"``, ``"config_incomplete"``,
               ``"state_not_returned"``.
    case:      the label of the case that showed the problem (None when passed).
    """

    exercise: str
    passed: bool
    message: str
    diagnosis: str
    case: str | None = None


class Finding(Exception):
    """A problem with the student's function, found while running one case.

    Raised by a :class:`Protocol` for problems that stop the case (an exception in student
    code, a result of the wrong type), or kept in :attr:`Observation.problems` for problems
    that do not (an input changed in place). ``message`` completes ``"✗ adam: "``.
    """

    def __init__(self, diagnosis, message):
        super().__init__(message)
        self.diagnosis = diagnosis
        self.message = message


@dataclass
class Observation:
    """What a protocol read from one run of a function on one case.

    outputs:  name -> array (float64 or int), compared with the stored answers.
    dtypes:   name -> dtype string, for the outputs whose dtype the contract fixes.
    problems: contract problems that did not stop the run (inputs changed in place, ...).
    """

    outputs: dict
    dtypes: dict = field(default_factory=dict)
    problems: list = field(default_factory=list)


# --------------------------------------------------------------------------------------
# Calling student code
# --------------------------------------------------------------------------------------

_LIBRARY_DIRS = tuple(
    str(Path(p).resolve()) for p in
    {Path(__file__).resolve().parent.parent, *(sysconfig.get_paths()[k] for k in ("stdlib", "purelib", "platlib"))})


def _is_library(filename):
    try:
        return str(Path(filename).resolve()).startswith(_LIBRARY_DIRS)
    except (OSError, ValueError):
        return False


def _one_line(text, limit=160):
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[:limit - 3] + "..."


def describe_exception(error):
    """``KeyError: 'beta1' (line 7: beta1 = config['beta1'])``: type, message and the last
    line of student code in the traceback (never a library frame, never a file name)."""
    text = f"{type(error).__name__}: {_one_line(error)}" if str(error) else type(error).__name__
    frames = [f for f in traceback.extract_tb(error.__traceback__) if not _is_library(f.filename)]
    if frames:
        frame = frames[-1]
        line = frame.line or linecache.getline(frame.filename, frame.lineno).strip()
        text += f" (line {frame.lineno}: {_one_line(line, 80)})" if line else f" (line {frame.lineno})"
    return text


def call_student(fn, *args, **kwargs):
    """``fn(*args, **kwargs)`` with warnings silenced; an exception becomes a :class:`Finding`."""
    try:
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            return fn(*args, **kwargs)
    except NotImplementedError:
        raise Finding("not_implemented", NOT_IMPLEMENTED) from None
    except Exception as error:  # noqa: BLE001 -- any student exception becomes a verdict
        raise Finding("error", f"your function raised {describe_exception(error)}") from None


# --------------------------------------------------------------------------------------
# Inputs changed in place
# --------------------------------------------------------------------------------------

def snapshot(value):
    """A deep copy of arrays, dicts, lists and scalars, to compare with after a call."""
    if isinstance(value, np.ndarray):
        return value.copy()
    if isinstance(value, dict):
        return {k: snapshot(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(snapshot(v) for v in value)
    return value


def same(a, b):
    """Exact equality of two snapshots (NaN equal to NaN)."""
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return (isinstance(a, np.ndarray) and isinstance(b, np.ndarray) and a.shape == b.shape
                and a.dtype == b.dtype and np.array_equal(a, b, equal_nan=a.dtype.kind in "fc"))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    return type(a) is type(b) and (a == b or (a != a and b != b))


# --------------------------------------------------------------------------------------
# Protocols: how an exercise's function is called and what is read from it
# --------------------------------------------------------------------------------------

class Protocol:
    """How to run one kind of graded function on a stored case.

    Subclasses implement :meth:`run`; they may override :meth:`describe` (how an entry of an
    output is named in a message) and :meth:`dtype_advice`. The builder runs the reference
    and every mistake through the same :meth:`run`, so stored answers are read exactly the
    way the student's are.
    """

    def run(self, fn, inputs):
        """Call ``fn`` on one case's ``inputs`` (decoded JSON) and return an :class:`Observation`.

        Call student code only through :func:`call_student`, on copies of the inputs; raise
        :class:`Finding` for a result that cannot be compared; append a :class:`Finding`
        to ``problems`` for an input changed in place.
        """
        raise NotImplementedError

    def describe(self, output, index):
        """A noun phrase for entry ``index`` of ``output``, e.g. ``"first step at [1]"``."""
        return f"{output} at {list(index)}" if index else output

    def dtype_advice(self, output, got, want):
        """The sentence shown when ``output`` has dtype ``got`` where ``want`` was expected."""
        return f"your {output} has dtype {got} where {want} was expected."

    # Helpers for subclasses ------------------------------------------------------------

    @staticmethod
    def array(value, what):
        """``value`` as a float64 array, or a :class:`Finding` naming what was wrong."""
        if isinstance(value, (str, bytes, dict)) or value is None:
            raise Finding("wrong_type", f"{what} should be an array of numbers, got {type_name(value)}.")
        try:
            array = np.asarray(value)
            if array.dtype.kind not in "biuf":
                raise TypeError
            return array.astype(np.float64)
        except (TypeError, ValueError):
            raise Finding("wrong_type", f"{what} should be an array of numbers, got {type_name(value)}.") from None

    @staticmethod
    def unchanged(name, before, after, advice):
        """A ``mutated_input`` :class:`Finding` if ``after`` differs from its snapshot ``before``."""
        if same(before, after):
            return []
        return [Finding("mutated_input", f"your function changed its input {name} in place. {advice}")]


def type_name(value):
    """``"a list"``, ``"an int"``, ``"an array of dtype int64"``, ``"None"``: for messages."""
    if isinstance(value, np.ndarray):
        return f"an array of dtype {value.dtype}"
    if value is None:
        return "None"
    name = type(value).__name__
    return f"{'an' if name[0] in 'aeiou' else 'a'} {name}"


# --------------------------------------------------------------------------------------
# Stored data: JSON with arrays tagged by dtype and shape
# --------------------------------------------------------------------------------------

def encode(value, digits=None):
    """JSON-ready form of nested dicts/lists of arrays and scalars.

    Arrays become ``{"array": dtype, "shape": [...], "data": [...]}``; with ``digits``,
    floats are rounded to that many significant digits (stored answers, not inputs).
    """
    if isinstance(value, dict):
        return {str(k): encode(v, digits) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [encode(v, digits) for v in value]
    if isinstance(value, np.ndarray):
        data = value.ravel().tolist()
        if digits and value.dtype.kind == "f":
            data = [float(f"{x:.{digits}g}") for x in data]
        return {"array": str(value.dtype), "shape": list(value.shape), "data": data}
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and digits:
        return float(f"{value:.{digits}g}")
    return value


def decode(value):
    """Inverse of :func:`encode`."""
    if isinstance(value, dict):
        if "array" in value and "data" in value:
            return np.array(value["data"], dtype=value["array"]).reshape(value["shape"])
        return {k: decode(v) for k, v in value.items()}
    if isinstance(value, list):
        return [decode(v) for v in value]
    return value


@dataclass
class StoredCase:
    """One case as stored: its inputs, the right outputs (``expected``) and their ``dtypes``,
    and for each mistake the outputs in which it differs from the right ones (``variants``)."""

    label: str
    inputs: dict
    expected: dict
    dtypes: dict
    variants: dict
    rtol: float
    atol: float
    hint: str = ""

    def close(self, got, want):
        """True when every output in ``want`` has the same shape in ``got`` and close values."""
        for name, w in want.items():
            g = got.get(name)
            if g is None or g.shape != w.shape or not np.isclose(g, w, self.rtol, self.atol, equal_nan=True).all():
                return False
        return True


def load(exercise):
    """The stored data of one exercise, decoded: a dict with ``cases`` as :class:`StoredCase`."""
    path = DATA_DIR / f"{exercise}.json"
    if not path.exists():
        raise FileNotFoundError(
            f"no stored cases for {exercise!r} at {path}; run `python -m course_instructor.cases.build`")
    data = json.loads(path.read_text(encoding="utf-8"))
    cases = [StoredCase(label=c["label"], inputs=decode(c["inputs"]), expected=decode(c["expected"]),
                        dtypes=c["dtypes"], variants=decode(c["variants"]), rtol=c["rtol"],
                        atol=c["atol"], hint=c.get("hint", "")) for c in data["cases"]]
    return {**data, "cases": cases}


# --------------------------------------------------------------------------------------
# The numbers that show a wrong value
# --------------------------------------------------------------------------------------

def _fmt_pair(got, want):
    """Both numbers with 4 significant digits, or more until they look different."""
    for digits in range(4, 13):
        a, b = f"{got:.{digits}g}", f"{want:.{digits}g}"
        if a != b:
            break
    return a, b


def _relation(got, want):
    if not np.isfinite(got):
        return "not a finite number"
    if want == 0:
        return f"off by {got:.4g}"
    if float(got).is_integer() and float(want).is_integer():
        return f"off by {got - want:+.0f}"
    ratio = got / want
    if ratio == 0:
        return "zero"
    if ratio < 0:
        return "the opposite sign" if abs(abs(ratio) - 1) < 0.01 else f"the opposite sign and {abs(ratio):.3g}x the size"
    if abs(ratio - 1) < 0.01:
        return f"off by {got - want:.4g}"
    return f"{ratio:.3g}x too large" if ratio > 1 else f"{1 / ratio:.3g}x too small"


def _worst(case, got):
    """Where the outputs differ: ``(output, index, relative error)`` of the first output that
    differs, at its first differing row's worst entry; index None when the shapes differ."""
    for name, want in case.expected.items():
        g = got[name]
        if g.shape != want.shape:
            return name, None, np.inf
        bad = ~np.isclose(g, want, case.rtol, case.atol, equal_nan=True)
        if not bad.any():
            continue
        first = tuple(int(i) for i in np.argwhere(bad)[0])
        with np.errstate(all="ignore"):   # inf - inf where both are infinite
            error = np.nan_to_num(np.abs(g - want) / np.maximum(np.abs(want), case.atol), nan=np.inf, posinf=np.inf)
        if g.ndim >= 2:   # the worst entry in the first row that differs
            row = np.where(bad[first[0]], error[first[0]], -1)
            first = (first[0], *(int(i) for i in np.unravel_index(np.argmax(row), row.shape)))
        return name, first, float(error[first])
    return None, None, 0.0


def discrepancy(protocol, case, got):
    """``"your first step is 0.03162 where 0.001 was expected (31.6x too large)"``."""
    name, index, _ = _worst(case, got)
    want = case.expected[name]
    if index is None:
        return f"the shape of your {name} is {got[name].shape} where {want.shape} was expected"
    g_value, w_value = float(got[name][index]), float(want[index])
    g_text, w_text = _fmt_pair(g_value, w_value)
    return (f"your {protocol.describe(name, index)} is {g_text} where {w_text} was expected "
            f"({_relation(g_value, w_value)})")


# --------------------------------------------------------------------------------------
# Checks
# --------------------------------------------------------------------------------------

class Check:
    """The self-check of one graded function: ``Check("adam", UpdateRule(...)).run(adam)``."""

    def __init__(self, exercise, protocol):
        self.exercise = exercise
        self.protocol = protocol

    @cached_property
    def data(self):
        return load(self.exercise)

    def run(self, fn):
        """Check ``fn`` on every stored case and return a :class:`CheckResult`."""
        if not callable(fn):
            return self._fail("wrong_type", f"pass your function itself, as in check_{self.exercise}"
                              f"({self.exercise}); got {type_name(fn)}.")
        cases = self.data["cases"]
        observed = []
        for case in cases:
            try:
                with np.errstate(all="ignore"):   # the student's inf and NaN flow into the comparison
                    observed.append(self.protocol.run(fn, case.inputs))
            except Finding as finding:
                if finding.diagnosis == "not_implemented":
                    return self._fail(finding.diagnosis, finding.message)
                hint = _hint(case) if finding.diagnosis == "error" else ""
                return self._fail(finding.diagnosis, f"{_in_case(finding.message, case)}{hint}", case)
            except Exception as error:  # noqa: BLE001 -- a result so odd the protocol trips on it
                return self._fail("wrong_type", _in_case(f"the check could not read what your function returned "
                                                         f"({describe_exception(error)})", case), case)
        for case, seen in zip(cases, observed):
            if seen.problems:
                return self._fail(seen.problems[0].diagnosis, _in_case(seen.problems[0].message, case), case)
        failing = [(case, seen) for case, seen in zip(cases, observed) if not case.close(seen.outputs, case.expected)]
        if failing:
            return self._diagnose(failing)
        for case, seen in zip(cases, observed):
            for name, want in case.dtypes.items():
                if seen.dtypes.get(name) != want:
                    advice = self.protocol.dtype_advice(name, seen.dtypes.get(name), want)
                    return self._fail("wrong_dtype", _in_case(advice, case), case)
        return CheckResult(self.exercise, True, f"{PASS} {self.exercise}: {len(cases)} cases passed "
                           f"({self.data['summary']})", "passed")

    def _diagnose(self, failing):
        """Name the stored mistake the wrong values match, with the numbers of the first failing
        case that shows a clear difference (over 1%; else the first failing case): a mistake
        that matches every failing case if there is one, else one that matches that case."""
        case, seen = next(((c, s) for c, s in failing if _worst(c, s.outputs)[2] > 0.01), failing[0])

        def matches(mistake, case, seen):
            return mistake in case.variants and case.close(seen.outputs, {**case.expected, **case.variants[mistake]})

        candidates = [m for m in self.data["mistakes"] if matches(m, case, seen)]
        everywhere = [m for m in candidates if all(matches(m, c, s) for c, s in failing)]
        numbers = _in_case(discrepancy(self.protocol, case, seen.outputs), case)
        if candidates:
            mistake = (everywhere or candidates)[0]
            return self._fail(mistake, f"{numbers} {self.data['mistakes'][mistake]}", case)
        shape_wrong = any(seen.outputs[n].shape != w.shape for n, w in case.expected.items())
        return self._fail("wrong_shape" if shape_wrong else "wrong_values",
                          f"{numbers}{_hint(case)} The rule: {self.data['rule']}", case)

    def _fail(self, diagnosis, message, case=None):
        return CheckResult(self.exercise, False, f"{FAIL} {self.exercise}: {message}", diagnosis,
                           case.label if case else None)


def _in_case(message, case):
    """``"<message> [case: <label>]."``: one sentence naming the case."""
    if message.endswith(".") and not message.endswith("..."):
        message = message[:-1]
    return f"{message} [case: {case.label}]."


def _hint(case):
    return f" {case.hint}" if case.hint else ""


CHECKS = {}
"""Every defined check by exercise name, in the order the modules define them."""


def define(exercise, protocol):
    """Register the check of ``exercise`` and return the function ``check_<exercise>(fn)``.

    The returned function prints the one-line verdict and returns None (so a notebook cell
    shows no ``Out[]``); ``run_check(exercise, fn)`` returns the :class:`CheckResult`.
    """
    if exercise in CHECKS:
        raise ValueError(f"a check for {exercise!r} is already defined")
    check = CHECKS[exercise] = Check(exercise, protocol)

    def check_function(fn):
        print(check.run(fn).message)

    check_function.__name__ = check_function.__qualname__ = f"check_{exercise}"
    check_function.__doc__ = (
        f"Check your `{exercise}` on stored cases and print one verdict: ✓, or ✗ with the most "
        f"likely mistake and the numbers that show it.\n\nUsage: check_{exercise}({exercise})")
    check_function.check = check
    return check_function


def run_check(exercise, fn):
    """Check ``fn`` as the graded function ``exercise`` and return the :class:`CheckResult`
    (nothing printed): the machine-readable form of ``check_<exercise>(fn)``."""
    if exercise not in CHECKS:
        raise KeyError(f"no self-check for {exercise!r}; the checks are: {', '.join(CHECKS)}")
    return CHECKS[exercise].run(fn)
