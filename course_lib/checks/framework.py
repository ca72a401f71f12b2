"""The machinery of the self-checks and of grading: run a student's function on stored cases,
compare, explain.

A check never calls a reference implementation: the cases, the right answers and the
answers of known-wrong versions of each function ("mistakes") are stored data, built at
development time by ``course_instructor.cases.build`` from one catalogue of cases per graded
function. A case is public (stored in ``data/<exercise>.json``, run by the self-check in the
notebook) or hidden (stored apart, run by the grader). Both are run by the same code:

1. :meth:`Check.observe` calls the student's function on one case through the exercise's
   :class:`Protocol` (how to call the function, what to read from its result), on copies of
   the inputs, so that a function that changes its inputs still gets its values compared;
2. :meth:`Check.verdict` explains what it saw in one message, in this order: not implemented
   yet; an exception or a result that cannot be compared (a :class:`Finding` that stopped a
   case); wrong values that match a stored mistake (named, with the numbers that show it);
   the contract slips (an input or the config changed in place, a config that is not a new
   dict, missing state, a dtype: :attr:`Observation.problems`), all of them, after the
   mistake; wrong values that match no mistake, with the rule.

The self-check (:meth:`Check.run`) gives one verdict on all public cases; the grader
(:meth:`Check.grade`) one verdict per hidden case, worded so as to reveal neither its inputs
nor its expected values ("your first step is 3.16x too large", never the numbers).

The text depends only on the student's function and the stored data, so it is the same on
every run (nbval compares it).
"""

import json
import linecache
import re
import sysconfig
import threading
import traceback
import warnings
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import numpy as np

__all__ = [
    "CheckResult", "Finding", "Observation", "Protocol", "StoredCase", "Check", "CHECKS", "define", "run_check",
    "call_student", "raised", "describe_exception", "snapshot", "same", "type_name", "unpack", "shape_finding", "sibling",
    "watch_global_rng", "global_rng_problem",
    "encode", "decode", "load", "discrepancy", "DATA_DIR", "PASS", "FAIL", "NOT_IMPLEMENTED",
]

DATA_DIR = Path(__file__).with_name("data")
"""Where the public cases live: one ``<exercise>.json`` per checked function."""

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
    text:      the verdict after ``"✓ adam: "`` or ``"✗ adam: "``.
    diagnosis: ``"passed"``; a stored mistake's name (e.g. ``"no_bias_correction"``) when the
               wrong values match it; or one of ``"not_implemented"``, ``"error"``,
               ``"wrong_type"``, ``"wrong_shape"``, ``"wrong_values"``, ``"wrong_dtype"``,
               ``"mutated_input"``, ``"config_not_new"``, ``"config_incomplete"``,
               ``"state_not_returned"``, ... (a protocol's own findings).
    case:      the label of the case that showed the problem (None when passed).
    slips:     the diagnoses of the contract slips reported after the first problem.
    """

    exercise: str
    passed: bool
    text: str
    diagnosis: str
    case: str | None = None
    slips: tuple = ()

    @property
    def message(self):
        """The one line ``check_<exercise>`` prints, starting with ✓ or ✗."""
        return f"{PASS if self.passed else FAIL} {self.exercise}: {self.text}"


class Finding(Exception):
    """A problem with the student's function, found while running one case.

    Raised by a :class:`Protocol` for problems that stop the case (an exception in student
    code, a result of the wrong type), or kept in :attr:`Observation.problems` for contract
    slips that do not (an input changed in place). ``message`` completes ``"✗ adam: "``;
    ``safe`` is the message shown for a hidden case (the message without the numbers of its
    inputs: a shape, a count), by default the message itself. ``raised``: for an exception
    (diagnosis ``"error"``), the name of its type.
    """

    def __init__(self, diagnosis, message, safe=None, raised=None):
        super().__init__(message)
        self.diagnosis, self.message = diagnosis, message
        self.safe = message if safe is None else safe
        self.raised = raised

    def text(self, hidden):
        return self.safe if hidden else self.message


@dataclass
class Observation:
    """What a protocol read from one run of a function on one case.

    outputs:  name -> array (float64 or int), compared with the stored answers. An output a
              contract slip made unreadable (state missing from the config) is left out.
    dtypes:   name -> dtype string, for the outputs whose dtype the contract fixes.
    problems: contract slips that did not stop the run (inputs changed in place, ...).
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


def raised(name, line=None, described=None):
    """The ``"error"`` :class:`Finding` of an exception of type ``name`` raised by student code.

    line: the student's line of code that raised it; described: the exception in full
    (:func:`describe_exception`), known only when the code ran in this process. The safe text
    names the type and the line, never the exception's message (it may hold input values).
    """
    said = {"SystemExit": "called sys.exit()", "MemoryError": "ran out of memory"}.get(name, f"raised {name}")
    safe = f"your function {said}" + (f" at `{_one_line(line, 80)}`" if line else "")
    return Finding("error", f"your function raised {described}" if described else safe, safe, raised=name)


def call_student(fn, *args, **kwargs):
    """``fn(*args, **kwargs)`` with warnings silenced; an exception becomes a :class:`Finding`.

    A function that runs elsewhere (the grader's ``RemoteFunction``) raises its Findings
    itself; they pass through unchanged.
    """
    try:
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            return fn(*args, **kwargs)
    except Finding:
        raise
    except NotImplementedError:
        raise Finding("not_implemented", NOT_IMPLEMENTED) from None
    except Exception as error:  # noqa: BLE001 -- any student exception becomes a verdict
        frames = [f for f in traceback.extract_tb(error.__traceback__) if not _is_library(f.filename)]
        line = (frames[-1].line or None) if frames else None
        raise raised(type(error).__name__, line, describe_exception(error)) from None


def sibling(fn, name):
    """The function ``name`` defined next to ``fn`` (in the notebook that defines both), or None:
    from ``fn.siblings`` when the grader passes the function (it runs in the student's kernel),
    else from the globals of ``fn`` (or of the function a ``functools.partial`` wraps)."""
    siblings = getattr(fn, "siblings", None)
    if siblings is not None:
        return siblings.get(name)
    return getattr(getattr(fn, "func", fn), "__globals__", {}).get(name)


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


class watch_global_rng:
    """A context that tells whether the code inside drew from (or reseeded) numpy's global
    generator: ``with watch_global_rng() as watch: ...`` then ``watch.touched``. The global
    state is put back as it was, so a check changes nothing in the notebook. One watch at a
    time (a lock): the grader checks several students' functions at once, in threads."""

    _lock = threading.RLock()

    def __enter__(self):
        self._lock.acquire()
        self.saved = np.random.get_state()
        np.random.seed(20240607)
        self.start = np.random.get_state()
        return self

    def __exit__(self, *exc):
        try:
            self.touched = not same(self.start, np.random.get_state())
            np.random.set_state(self.saved)
        finally:
            self._lock.release()
        return False


def global_rng_problem(advice):
    """The ``global_rng`` slip, with ``advice``."""
    return Finding("global_rng", f"your function uses numpy's global generator (np.random.seed, np.random.rand, "
                                 f"np.random.permutation, ...), which changes the random numbers of everything "
                                 f"else in the program: {advice}")


# --------------------------------------------------------------------------------------
# Protocols: how an exercise's function is called and what is read from it
# --------------------------------------------------------------------------------------

class Protocol:
    """How to run one kind of graded function on a stored case.

    Subclasses implement :meth:`run`; they may override :meth:`describe` (how an entry of an
    output is named in a message), :meth:`describe_safely` (the same for a hidden case,
    naming no input) and :meth:`dtype_advice`. The builder runs the reference and every
    mistake through the same :meth:`run`, so stored answers are read exactly the way the
    student's are.
    """

    def run(self, fn, inputs):
        """Call ``fn`` on one case's ``inputs`` (decoded JSON) and return an :class:`Observation`.

        Call student code only through :func:`call_student`, on copies of the inputs (never
        change ``inputs``: a hidden case's are read for every student); raise :class:`Finding`
        for a result that cannot be compared; append a :class:`Finding` to ``problems`` for a
        contract slip (an input changed in place), and keep computing the outputs.
        """
        raise NotImplementedError

    def describe(self, output, index):
        """A noun phrase for entry ``index`` of ``output``, e.g. ``"first step at [1]"``."""
        return f"{output} at {list(index)}" if index else output

    def describe_safely(self, output, index):
        """The noun phrase for a hidden case: no entry, nothing that tells its inputs (``"first step"``)."""
        return output

    def dtype_advice(self, output, got, want):
        """The sentence shown when ``output`` has dtype ``got`` where ``want`` was expected."""
        return f"your {output} has dtype {got} where {want} was expected."

    # Helpers for subclasses ------------------------------------------------------------

    @staticmethod
    def array(value, what, safe_what=None):
        """``value`` as a float64 array, or a :class:`Finding` naming what was wrong (``what``;
        ``safe_what`` for a hidden case, when ``what`` tells an input)."""
        def finding():
            return Finding("wrong_type", f"{what} should be an array of numbers, got {type_name(value)}.",
                           f"{safe_what or what} should be an array of numbers, got {type_name(value)}.")

        if isinstance(value, (str, bytes, dict)) or value is None:
            raise finding()
        try:
            array = np.asarray(value)
            if array.dtype.kind not in "biuf":
                raise TypeError
            return array.astype(np.float64)
        except (TypeError, ValueError):
            raise finding() from None

    @staticmethod
    def unchanged(name, before, after, advice):
        """A ``mutated_input`` :class:`Finding` if ``after`` differs from its snapshot ``before``."""
        if same(before, after):
            return []
        return [Finding("mutated_input", f"your function changed its input {name} in place. {advice}")]


def shape_finding(what, got, other, want, advice):
    """The ``wrong_shape`` :class:`Finding` "``what`` has shape ``got`` but ``other`` has shape
    ``want``: ``advice``", shown without the shapes for a hidden case."""
    return Finding("wrong_shape", f"{what} has shape {got} but {other} has shape {want}: {advice}",
                   f"{what} does not have the shape of {other}: {advice}")


def unpack(result, what, count):
    """The ``count`` values of the tuple a student's function returned, or a ``wrong_type`` Finding
    naming ``what`` it should return (e.g. ``"`next_w, config`"``)."""
    if not (isinstance(result, tuple) and len(result) == count):
        got = f"a tuple of {len(result)} values" if isinstance(result, tuple) else type_name(result)
        raise Finding("wrong_type", f"return {what} (a tuple of {count}), not {got}.")
    return result


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
    """One case as stored: its inputs, the right outputs (``expected``: the outputs the case
    compares) and their ``dtypes``, and for each mistake the outputs in which it differs from
    the right ones (``variants``). ``strict``: a contract slip fails the case too (every slip
    fails a self-check; in grading, only a strict case loses its point for one)."""

    label: str
    inputs: dict
    expected: dict
    dtypes: dict
    variants: dict
    rtol: float
    atol: float
    hint: str = ""
    strict: bool = True

    def agrees(self, got, want):
        """True when every output of ``want`` that ``got`` has has its shape and close values."""
        for name, w in want.items():
            g = got.get(name)
            if g is not None and (g.shape != w.shape or not np.isclose(g, w, self.rtol, self.atol,
                                                                           equal_nan=True).all()):
                return False
        return True

    def right(self, got):
        """True when ``got`` has every expected output, with close values."""
        return all(name in got for name in self.expected) and self.agrees(got, self.expected)


def load(path):
    """The stored data of one exercise, decoded: a dict with ``cases`` as :class:`StoredCase`."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"no stored cases at {path}; run `python -m course_instructor.cases.build`")
    data = json.loads(path.read_text(encoding="utf-8"))
    cases = [StoredCase(label=c["label"], inputs=decode(c["inputs"]), expected=decode(c["expected"]),
                        dtypes=c["dtypes"], variants=decode(c["variants"]), rtol=c["rtol"],
                        atol=c["atol"], hint=c.get("hint", ""), strict=c.get("strict", True))
             for c in data["cases"]]
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


def _relation(got, want, hidden=False):
    """How ``got`` compares with ``want``, in words; ``hidden``: as a proportion only (a hidden
    case shows no difference, from which its expected value would follow)."""
    if not np.isfinite(got):
        return "not a finite number"
    if want == 0:
        return "wrong" if hidden else f"off by {got:.4g}"
    if float(got).is_integer() and float(want).is_integer():
        return f"off by {got - want:+.0f}"
    ratio = got / want
    if ratio == 0:
        return "zero"
    if ratio < 0:
        return "the opposite sign" if abs(abs(ratio) - 1) < 0.01 else f"the opposite sign and {abs(ratio):.3g}x the size"
    if abs(ratio - 1) < 0.01:
        if hidden:
            percent = np.format_float_positional(100 * abs(ratio - 1), precision=2, fractional=False, trim="-")
            return f"off by {percent}%"
        return f"off by {got - want:.4g}"
    return f"{ratio:.3g}x too large" if ratio > 1 else f"{1 / ratio:.3g}x too small"


def _worst(case, got):
    """Where the outputs differ: ``(output, index, relative error)`` of the first output that
    differs, at its first differing row's worst entry; index None when the shapes differ.
    Outputs missing from ``got`` are skipped (a contract slip says why they are missing)."""
    for name, want in case.expected.items():
        if name not in got:
            continue
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


def discrepancy(protocol, case, got, hidden=False):
    """``"your first step at [1] is 0.03162 where 0.001 was expected (31.6x too large)"``; for a
    hidden case ``"your first step is 31.6x too large"``."""
    name, index, _ = _worst(case, got)
    want = case.expected[name]
    if index is None:
        if hidden:
            return f"your {name} does not have the right shape"
        return f"the shape of your {name} is {got[name].shape} where {want.shape} was expected"
    g_value, w_value = float(got[name][index]), float(want[index])
    if hidden:
        return f"your {protocol.describe_safely(name, index)} is {_relation(g_value, w_value, hidden=True)}"
    g_text, w_text = _fmt_pair(g_value, w_value)
    return (f"your {protocol.describe(name, index)} is {g_text} where {w_text} was expected "
            f"({_relation(g_value, w_value)})")


# --------------------------------------------------------------------------------------
# Checks
# --------------------------------------------------------------------------------------

class Check:
    """The check of one graded function: ``Check("adam", UpdateRule(...)).run(adam)``."""

    def __init__(self, exercise, protocol):
        self.exercise = exercise
        self.protocol = protocol

    @cached_property
    def data(self):
        """The public cases (``data/<exercise>.json``), decoded."""
        return load(DATA_DIR / f"{self.exercise}.json")

    def run(self, fn):
        """The self-check: ``fn`` on every public case, one :class:`CheckResult`."""
        if not callable(fn):
            return self._result(False, "wrong_type", f"pass your function itself, as in check_{self.exercise}"
                                f"({self.exercise}); got {type_name(fn)}.")
        observed = []
        for case in self.data["cases"]:
            observed.append((case, self.observe(fn, case)))
            if isinstance(observed[-1][1], Finding):
                break   # it is reported first: the cases after it need not run
        return self.verdict(self.data, observed)

    def grade(self, fn, data):
        """The grader's check: ``fn`` on every case of ``data`` (the hidden cases, decoded), one
        :class:`CheckResult` per case, worded without the case's inputs or expected values."""
        return [self.verdict(data, [(case, self.observe(fn, case))], hidden=True) for case in data["cases"]]

    def observe(self, fn, case):
        """What the protocol reads from ``fn`` on ``case``: an :class:`Observation`, or the
        :class:`Finding` that stopped it."""
        try:
            with np.errstate(all="ignore"):   # the student's inf and NaN flow into the comparison
                return self.protocol.run(fn, case.inputs)
        except Finding as finding:
            return finding
        except Exception as error:  # noqa: BLE001 -- a result so odd the protocol trips on it
            return Finding("wrong_type", f"the check could not read what your function returned "
                                         f"({describe_exception(error)})",
                           "the check could not read what your function returned")

    def verdict(self, data, observed, hidden=False):
        """One :class:`CheckResult` for ``observed``, a list of ``(case, Observation or Finding)``:
        the first problem, then every contract slip (see the module's docstring for the order).
        ``hidden``: the safe wording, without the case's label (the grader shows it)."""
        where = (lambda text, case: _sentence(text)) if hidden else _in_case
        findings = [(case, seen) for case, seen in observed if isinstance(seen, Finding)]
        stub = next((f for _, f in findings if f.diagnosis == "not_implemented"), None)
        if stub is not None:
            return self._result(False, stub.diagnosis, stub.message)
        if findings:
            case, finding = findings[0]
            hint = _hint(case) if finding.diagnosis == "error" else ""
            return self._result(False, finding.diagnosis, where(finding.text(hidden), case) + hint, case)
        slips = _slips(self.protocol, observed)
        passed = (all(case.right(seen.outputs) for case, seen in observed)
                  and not any(case.strict for case, _ in slips))
        failing = [(case, seen) for case, seen in observed if not case.agrees(seen.outputs, case.expected)]
        if failing:
            mistake, case, seen = _mistake(data, failing)
            numbers = where(discrepancy(self.protocol, case, seen.outputs, hidden), case)
            if mistake is not None:
                return self._result(passed, mistake, f"{numbers} {data['mistakes'][mistake]}{_also(slips, hidden)}",
                                    case, slips)
            unexplained = f"{numbers}{_hint(case)} The rule: {data['rule']}"
            if not slips:
                return self._result(passed, _wrong(case, seen), unexplained, case)
            return self._slipped(passed, slips, where, hidden, unexplained)   # an input changed as it was read?
        if slips:
            return self._slipped(passed, slips, where, hidden)
        if not passed:   # an output left out with no slip to say why: a protocol's bug
            raise RuntimeError(f"{self.exercise}: an output is missing and no problem explains it")
        if hidden:
            return self._result(True, "passed", "passed")
        return self._result(True, "passed", f"{len(observed)} cases passed ({data['summary']})")

    def _slipped(self, passed, slips, where, hidden, *more):
        """The verdict that starts with the first slip: the others, and ``more`` sentences, after it."""
        (case, first), rest = slips[0], slips[1:]
        return self._result(passed, first.diagnosis, where(first.text(hidden), case) + _also(rest, hidden, *more),
                            case, rest)

    def _result(self, passed, diagnosis, text, case=None, also=()):
        return CheckResult(self.exercise, passed, text, diagnosis, case.label if case else None,
                           tuple(f.diagnosis for _, f in also))


def _slips(protocol, observed):
    """``[(case, Finding)]``: the contract slips of every observation (its problems, then its
    dtypes), in the order of the cases, the first of each diagnosis only."""
    found, seen_diagnoses = [], set()
    for case, seen in observed:
        dtypes = [Finding("wrong_dtype", protocol.dtype_advice(name, seen.dtypes[name], want))
                  for name, want in case.dtypes.items() if name in seen.dtypes and seen.dtypes[name] != want]
        for finding in [*seen.problems, *dtypes]:
            if finding.diagnosis not in seen_diagnoses:
                seen_diagnoses.add(finding.diagnosis)
                found.append((case, finding))
    return found


def _mistake(data, failing):
    """``(mistake or None, case, observation)``: the stored mistake the wrong values match, and
    the case that shows it, the first failing case with a clear difference (over 1%; else the
    first failing case). A mistake that matches every failing case wins over one that matches
    that case only."""
    case, seen = next(((c, s) for c, s in failing if _worst(c, s.outputs)[2] > 0.01), failing[0])

    def matches(mistake, case, seen):
        return mistake in case.variants and case.agrees(seen.outputs, {**case.expected, **case.variants[mistake]})

    candidates = [m for m in data["mistakes"] if matches(m, case, seen)]
    everywhere = [m for m in candidates if all(matches(m, c, s) for c, s in failing)]
    return (everywhere or candidates or [None])[0], case, seen


def _wrong(case, seen):
    """``"wrong_shape"`` when an output has another shape than expected, else ``"wrong_values"``."""
    shapes = any(name in seen.outputs and seen.outputs[name].shape != want.shape for name, want in case.expected.items())
    return "wrong_shape" if shapes else "wrong_values"


def _sentence(text):
    text = text.rstrip()
    return text if text.endswith((".", "!", "?")) else text + "."


def _in_case(message, case):
    """``"<message> [case: <label>]."``: one sentence naming the case."""
    if message.endswith(".") and not message.endswith("..."):
        message = message[:-1]
    return f"{message} [case: {case.label}]."


def _also(slips, hidden, *more):
    """``" Also: <slip>. <Slip>."``: the slips after the first problem (and ``more`` sentences), or nothing."""
    sentences = [_sentence(f.text(hidden)) for _, f in slips] + list(more)
    return " Also: " + " ".join(sentences[:1] + [_capitalized(s) for s in sentences[1:]]) if sentences else ""


def _capitalized(sentence):
    """``sentence`` with its first word capitalized, unless that word is code (``config['t']``)."""
    return sentence[0].upper() + sentence[1:] if re.match(r"[a-z]+ ", sentence) else sentence


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
