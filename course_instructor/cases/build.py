"""Build the stored cases of the checks. Development time only: no check imports this.

    python -m course_instructor.cases.build              # rewrite every exercise's stored cases
    python -m course_instructor.cases.build adam ewma    # only these exercises
    python -m course_instructor.cases.build --check      # exit 1, naming them, if stored files are stale

Every ``*_cases.py`` module of this package holds ``SPECS``, a list of :class:`Spec`: a graded
function's reference implementation, its catalogue of cases, and its known mistakes (wrong
versions of the function, each with the message a student sees when their function matches
it). Each case is public or hidden (:attr:`Case.hidden`): the public ones are the self-check's,
written to ``course_lib/checks/data/<exercise>.json`` (shipped with course_lib); the hidden
ones are the grader's, written to ``tests/hidden/cases/<exercise>.json`` (never shipped). The
builder runs the reference and every mistake through the exercise's protocol (the very code
that runs the student's function, in the self-check and in grading) and stores, for each
case, the inputs, the right outputs and, for each mistake whose outputs differ from the right
ones, those outputs.

Run it after editing a reference implementation, a case or a mistake; ``tests/test_checks.py``
fails while a stored file is out of date.
"""

import argparse
import importlib
import json
import pkgutil
import sys
from pathlib import Path
from dataclasses import dataclass
from typing import Callable

import course_lib.checks  # noqa: F401 -- defines every check (CHECKS)
from course_lib.checks.framework import CHECKS, DATA_DIR, Finding, StoredCase, decode, encode
from course_lib.paths import course_root

__all__ = ["Case", "Mistake", "Spec", "specs", "build", "path", "dumps", "differences", "stale", "main",
           "HIDDEN_DIR"]

DIGITS = 12
"""Significant digits of stored answers (inputs are stored exactly)."""

HIDDEN_DIR = course_root() / "tests" / "hidden" / "cases"
"""Where the hidden cases live: one ``<exercise>.json`` per graded function, for the grader."""


@dataclass(frozen=True)
class Case:
    """One stored case.

    label:   what it tests, shown in messages (for a hidden case, in the feedback: it must
             reveal none of its inputs' values).
    inputs:  the protocol's inputs.
    hint:    shown when it fails in a way no mistake explains.
    rtol, atol: the tolerance of the comparison, ``|got - want| <= atol + rtol * |want|``.
    hidden:  a case for the grader (never shown to students) rather than for the self-check.
    strict:  a contract slip (an input changed in place, ...) fails the case too, not only wrong
             values. Every slip fails a self-check; in grading only a strict case loses its
             point for one, so that a slip costs the points of the cases about it.
    outputs: the outputs the case compares (None: every output the protocol reads), so that a
             hidden case can score one property.
    """

    label: str
    inputs: dict
    hint: str = ""
    rtol: float = 1e-7
    atol: float = 1e-12
    hidden: bool = False
    strict: bool = True
    outputs: tuple | None = None


@dataclass(frozen=True)
class Mistake:
    """A known-wrong version ``fn`` of the graded function (same signature), and the
    ``message`` shown when a student's outputs match it: what the mistake is and the fix."""

    name: str
    fn: Callable
    message: str


@dataclass(frozen=True)
class Spec:
    """Everything the builder needs for one graded function.

    exercise:  its name, the name of a check defined with ``framework.define``.
    reference: the right implementation (from ``course_lib.reference``).
    cases:     list of :class:`Case`, public and hidden, simplest first (the first failing
               case is reported).
    mistakes:  list of :class:`Mistake`, most likely first (the first that matches is reported).
    summary:   what the public cases cover, shown on success: "✓ adam: 7 cases passed (<summary>)".
    rule:      the rule in one line, shown when wrong values match no mistake.
    """

    exercise: str
    reference: Callable
    cases: list
    mistakes: list
    summary: str
    rule: str


def specs():
    """Every :class:`Spec` of every ``*_cases`` module of this package, by exercise name."""
    found = {}
    for module in sorted(m.name for m in pkgutil.iter_modules([str(Path(__file__).parent)])):
        if module.endswith("_cases"):
            for spec in importlib.import_module(f"{__package__}.{module}").SPECS:
                if spec.exercise in found:
                    raise ValueError(f"two specs for {spec.exercise!r}")
                found[spec.exercise] = spec
    return found


def path(spec, hidden):
    """The file of the public or hidden cases of ``spec``."""
    return (HIDDEN_DIR if hidden else DATA_DIR) / f"{spec.exercise}.json"


def _observe(protocol, fn, inputs, who, case):
    try:
        seen = protocol.run(fn, inputs)
    except Finding as finding:
        raise RuntimeError(f"{who} fails on case {case.label!r}: {finding.message}") from None
    if seen.problems:
        raise RuntimeError(f"{who} on case {case.label!r}: {seen.problems[0].message}")
    return decode(encode(seen.outputs, DIGITS)), seen.dtypes


def _stored(spec, case, protocol):
    """One case as stored (ready for ``json``): inputs, right outputs, each mistake's differences."""
    inputs = decode(encode(case.inputs))          # exactly what the check will read
    expected, dtypes = _observe(protocol, spec.reference, inputs, "the reference", case)
    if case.outputs is not None:
        unknown = sorted(set(case.outputs) - set(expected))
        if unknown:
            raise ValueError(f"{spec.exercise}: case {case.label!r} compares {unknown}, which the protocol does "
                             f"not read (it reads {sorted(expected)})")
        expected = {name: expected[name] for name in case.outputs}
    stored = StoredCase(case.label, inputs, expected, dtypes, {}, case.rtol, case.atol)
    variants = {}
    for mistake in spec.mistakes:
        outputs, _ = _observe(protocol, mistake.fn, inputs, f"mistake {mistake.name!r}", case)
        differing = {k: outputs[k] for k in expected if not stored.agrees(outputs, {k: expected[k]})}
        if differing:
            variants[mistake.name] = differing
    return {"label": case.label, **({"hint": case.hint} if case.hint else {}),
            **({} if case.strict else {"strict": False}), "rtol": case.rtol, "atol": case.atol,
            "inputs": encode(case.inputs), "expected": encode(expected), "dtypes": dtypes,
            "variants": encode(variants)}


def build(spec, hidden=False):
    """The data of the public (or ``hidden``) cases of one exercise, ready for ``json``: what
    ``framework.load`` reads. Every mistake must give wrong outputs on some case of each kind,
    or the self-check could not name it, or a student making it could lose no point."""
    protocol = CHECKS[spec.exercise].protocol
    chosen = [case for case in spec.cases if case.hidden == hidden]
    if not chosen:
        raise ValueError(f"{spec.exercise}: no {'hidden' if hidden else 'public'} case")
    cases = [_stored(spec, case, protocol) for case in chosen]
    invisible = [m.name for m in spec.mistakes if not any(m.name in c["variants"] for c in cases)]
    if invisible:
        raise ValueError(f"{spec.exercise}: mistake(s) {invisible} give the right outputs on every "
                         f"{'hidden' if hidden else 'public'} case; add a case that tells them apart")
    return {"exercise": spec.exercise, "summary": spec.summary, "rule": spec.rule,
            "mistakes": {m.name: m.message for m in spec.mistakes}, "cases": cases}


def dumps(value, indent=0):
    """JSON with one key per line and every list of numbers on one line (readable diffs)."""
    pad = " " * indent
    if isinstance(value, dict) and value:
        items = [f'{pad} {json.dumps(k, ensure_ascii=False)}: {dumps(v, indent + 1)}' for k, v in value.items()]
        return "{\n" + ",\n".join(items) + f"\n{pad}}}"
    if isinstance(value, list) and any(isinstance(v, (dict, list)) for v in value):
        return "[\n" + ",\n".join(f"{pad} {dumps(v, indent + 1)}" for v in value) + f"\n{pad}]"
    return json.dumps(value, ensure_ascii=False)


def differences(built, stored, path="", rtol=1e-9, atol=0.0):
    """The first difference between two data trees as ``"path: what"``, or None.

    Numbers are compared with a tolerance: ``rtol`` by default (the last digits of sin or
    exp vary across platforms), and a tenth of a case's own tolerance inside a case (a
    refactored reference may round float32 differently without making the answers wrong).
    """
    if isinstance(built, dict) and isinstance(stored, dict):
        if built.keys() != stored.keys():
            return f"{path or 'top'}: keys {sorted(built.keys() ^ stored.keys())} added or removed"
        if {"rtol", "atol"} <= built.keys():
            rtol, atol = max(rtol, built["rtol"] / 10), max(atol, built["atol"] / 10)
        return next((d for k in built if (d := differences(built[k], stored[k], f"{path}/{k}", rtol, atol))), None)
    if isinstance(built, list) and isinstance(stored, list):
        if len(built) != len(stored):
            return f"{path}: {len(built)} entries instead of {len(stored)}"
        return next((d for i, (a, b) in enumerate(zip(built, stored))
                     if (d := differences(a, b, f"{path}[{i}]", rtol, atol))), None)
    numbers = (int, float)
    if isinstance(built, numbers) and isinstance(stored, numbers) and not isinstance(built, bool):
        a, b = float(built), float(stored)
        if a == b or (a != a and b != b) or abs(a - b) <= atol + rtol * abs(b):
            return None
        return f"{path}: {built!r} instead of {stored!r}"
    return None if built == stored else f"{path}: {built!r} instead of {stored!r}"


def stale(spec):
    """Why the stored data of ``spec`` (public or hidden) is out of date, or None when it is up to date."""
    for hidden in (False, True):
        file = path(spec, hidden)
        if not file.exists():
            return f"{file.name} ({'hidden' if hidden else 'public'}) is missing"
        built = json.loads(json.dumps(build(spec, hidden)))
        difference = differences(built, json.loads(file.read_text(encoding="utf-8")))
        if difference:
            return f"{file.name} ({'hidden' if hidden else 'public'}) is out of date ({difference})"
    return None


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m course_instructor.cases.build", description=__doc__.split("\n")[0])
    parser.add_argument("exercises", nargs="*", help="only these exercises (default: all)")
    parser.add_argument("--check", action="store_true", help="write nothing; exit 1 if a stored file is stale")
    args = parser.parse_args(argv)
    all_specs = specs()
    unknown = sorted(set(args.exercises) - set(all_specs))
    if unknown:
        parser.error(f"no spec for {unknown}; the specs are {', '.join(all_specs)}")
    chosen = [all_specs[name] for name in args.exercises or all_specs]
    if args.check:
        problems = [p for spec in chosen if (p := stale(spec))]
        for problem in problems:
            print(problem)
        if problems:
            print("rebuild with: python -m course_instructor.cases.build")
        return 1 if problems else 0
    for spec in chosen:
        for hidden in (False, True):
            file = path(spec, hidden)
            file.parent.mkdir(parents=True, exist_ok=True)
            text = dumps(build(spec, hidden)) + "\n"
            where = f"{file.parent.name}/{file.name}"
            if file.exists() and file.read_text(encoding="utf-8") == text:
                print(f"unchanged {where}")
                continue
            file.write_text(text, encoding="utf-8")
            print(f"wrote {where}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
