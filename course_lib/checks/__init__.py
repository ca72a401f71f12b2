"""Self-checks: one line of feedback under every exercise.

In a notebook::

    from course_lib.checks import check_adam
    check_adam(adam)

prints one line, the same on every run, e.g.::

    ✓ adam: 8 cases passed (shapes (3,), (4, 5), ...; float64 and float32; ...; 5 steps each)
    ✗ adam: your first step at [1] is -0.003162 where -0.001 was expected (3.16x too large)
      [case: shape (3,), config=None (the defaults)]. This is Adam without bias correction:
      divide m by (1 - beta1**t) and v by (1 - beta2**t) before the update. Also: the config
      you return is the very dict you were given: start from a copy, ...
    ✗ adam: not implemented yet: replace `raise NotImplementedError()` with your code.

For a program: ``run_check("adam", fn)`` returns a :class:`CheckResult` (``passed``,
``message``, ``diagnosis``, ``case``, ``slips``) and prints nothing. ``CHECKS`` lists every check.

How it works
------------
A check never calls the reference implementation (it is blocked while a notebook is
graded). Each graded function has one catalogue of cases, built at development time by
``python -m course_instructor.cases.build`` from ``course_lib``'s reference and the known-wrong
versions of the function ("mistakes"): its public cases, their right outputs and the outputs
of each mistake are stored in ``data/<exercise>.json`` for the self-check; its hidden cases
are stored apart (``tests/hidden/cases/``, never shipped) for the grader, which runs them
through the very same check (:meth:`~course_lib.checks.framework.Check.grade`).
At run time a :class:`~course_lib.checks.framework.Protocol` calls the student's function
on copies of each case's inputs, and the check reports, in one message: not implemented yet;
an exception (type, message, the student's line; never a library frame) or a result of the
wrong type or shape; wrong values named after the stored mistake they match, with the
numbers that show it; then every contract slip (an input or the config changed in place, a
config that is not a new dict, state missing from it, a dtype, numpy's global generator), so
that a function that mutates its config still hears about its math first. Wrong values
match a mistake when they are within the case's tolerance of that mistake's stored outputs; a
mistake that matches every failing case wins over one that matches the case shown (the first
failing case with a difference over 1%). Values that match no mistake get the case's hint
and the rule, after the slips.

Modules: ``framework`` (results, protocols' base class, the comparison, the verdict),
``probes`` (the functions a check hands to the student's: objectives, gradients, samplers),
``<topic>_checks`` (run time: the protocols and ``check_<name>`` of a notebook); at build
time, ``course_instructor.cases``: ``<topic>_cases`` (the catalogues) and ``build``.

Adding a check (e.g. for notebook 05's ``xavier``)
--------------------------------------------------
1. Run time, in a new module ``course_lib/checks/<topic>_checks.py`` (found automatically:
   every ``*_checks`` module is imported here and its ``check_*`` names exported)::

       from .framework import Observation, Protocol, call_student, define

       class Initializer(Protocol):             # or reuse one: optim_checks.Series, ...
           def run(self, fn, inputs): ...

       check_xavier = define("xavier", Initializer())

   A protocol subclasses :class:`~course_lib.checks.framework.Protocol` and implements
   ``run(fn, inputs) -> Observation(outputs, dtypes, problems)``: call the function only
   through ``call_student`` on copies of the inputs, turn results into float arrays with
   ``self.array(value, "what")`` (a wrong type becomes a clear message), raise
   ``Finding(diagnosis, message)`` for a result that cannot be compared, and add
   ``self.unchanged(name, saved, passed_copy, advice)`` to ``problems`` for inputs changed
   in place, and keep computing the outputs (the values are said first). Override
   ``describe(output, index)`` to name entries in messages ("first step at [1]", "average
   3") and ``describe_safely`` for hidden cases (no entry, no input: "first step"); give a
   ``Finding`` whose message shows an input's numbers a ``safe`` wording
   (``shape_finding`` does it for shapes). Functions the student's code must call (an
   objective, a gradient) are :mod:`~course_lib.checks.probes` built inside ``run`` from
   stored numbers (a graded kernel gets the same function); a function defined next to the
   student's (a backward's forward) is ``sibling(fn, name)``. Randomness is a case input:
   pass ``np.random.default_rng(inputs["seed"])``. Use no graded reference function here:
   only NumPy and non-graded library code.
2. Build time, in ``course_instructor/cases/<topic>_cases.py``: ``SPECS = [build.Spec(exercise,
   reference, cases, mistakes, summary, rule)]``, with ``build.Case(label, inputs, hint,
   rtol, atol)`` (small non-square shapes, non-default arguments, float32 and float64,
   simplest first), and hidden ones, ``build.Case(..., hidden=True)`` (a label that tells
   no value; ``strict=False`` unless the case is about the contract; ``outputs=`` to score
   one property; see ``tests/hidden/README.md``), and ``build.Mistake(name, fn, message)``:
   a wrong version of the function
   (write one configurable function with keyword flags and ``functools.partial``, not a copy
   per mistake) and the message shown when the student's outputs match it, saying what is
   wrong and how to fix it. Order mistakes from most to least likely.
3. Run ``python -m course_instructor.cases.build <exercise>`` (it fails if a mistake gives the
   right outputs on every public or every hidden case: add a case that tells it apart);
   ``data/<exercise>.json`` is then part of the package, ``tests/hidden/cases/<exercise>.json``
   the grader's (``--check`` tells whether stored files are current).
4. Test: in ``tests/test_checks_<topic>.py`` write each wrong student function inline and
   assert ``run_check(exercise, fn).diagnosis == "<mistake name>"`` (and ``.slips``); the
   reference passes. ``tests/test_checks.py`` already checks that every stored file is up to
   date, ``tests/test_grading.py`` that every hidden case passes on the reference and every
   mistake fails one.
"""

import importlib
import pkgutil

from .framework import CHECKS, CheckResult, run_check

__all__ = ["CHECKS", "CheckResult", "run_check"]

for _module in sorted(m.name for m in pkgutil.iter_modules(__path__) if m.name.endswith("_checks")):
    _module = importlib.import_module(f"{__name__}.{_module}")
    for _name in _module.__all__:
        if _name.startswith("check_"):
            globals()[_name] = getattr(_module, _name)
            __all__.append(_name)
del _module, _name
