"""Build the stored cases of the self-checks. Development time only: no check imports this.

    python -m course_instructor.cases.build              # rewrite data/<exercise>.json for every spec
    python -m course_instructor.cases.build adam ewma    # only these exercises
    python -m course_instructor.cases.build --check      # exit 1, naming them, if stored files are stale

Every ``*_cases.py`` module of this package holds ``SPECS``, a list of :class:`Spec`: a graded
function's reference implementation, its cases, and its known mistakes (wrong versions of
the function, each with the message a student sees when their function matches it). The
builder runs the reference and every mistake through the exercise's protocol (the very code
that runs the student's function) and stores, for each case, the inputs, the right outputs
and, for each mistake whose outputs differ from the right ones, those outputs.

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

__all__ = ["Case", "Mistake", "Spec", "specs", "build", "dumps", "differences", "main"]

DIGITS = 12
"""Significant digits of stored answers (inputs are stored exactly)."""


@dataclass(frozen=True)
class Case:
    """One stored case: the protocol's ``inputs``, a ``label`` naming what it tests (shown in
    messages), an optional ``hint`` shown when it fails in a way no mistake explains, and the
    tolerance of the comparison, ``|got - want| <= atol + rtol * |want|``."""

    label: str
    inputs: dict
    hint: str = ""
    rtol: float = 1e-7
    atol: float = 1e-12


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
    reference: the right implementation (from ``course_lib``).
    cases:     list of :class:`Case`, simplest first (the first failing case is reported).
    mistakes:  list of :class:`Mistake`, most likely first (the first that matches is reported).
    summary:   what the cases cover, shown on success: "✓ adam: 7 cases passed (<summary>)".
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


def _observe(protocol, fn, inputs, who, case):
    try:
        seen = protocol.run(fn, inputs)
    except Finding as finding:
        raise RuntimeError(f"{who} fails on case {case.label!r}: {finding.message}") from None
    if seen.problems:
        raise RuntimeError(f"{who} on case {case.label!r}: {seen.problems[0].message}")
    return decode(encode(seen.outputs, DIGITS)), seen.dtypes


def build(spec):
    """The data of one exercise, ready for ``json``: what ``framework.load`` reads."""
    protocol = CHECKS[spec.exercise].protocol
    cases = []
    for case in spec.cases:
        inputs = decode(encode(case.inputs))          # exactly what the check will read
        expected, dtypes = _observe(protocol, spec.reference, inputs, "the reference", case)
        stored = StoredCase(case.label, inputs, expected, dtypes, {}, case.rtol, case.atol)
        variants = {}
        for mistake in spec.mistakes:
            outputs, _ = _observe(protocol, mistake.fn, inputs, f"mistake {mistake.name!r}", case)
            differing = {k: v for k, v in outputs.items() if not stored.close(outputs, {k: expected[k]})}
            if differing:
                variants[mistake.name] = differing
        cases.append({"label": case.label, **({"hint": case.hint} if case.hint else {}),
                      "rtol": case.rtol, "atol": case.atol, "inputs": encode(case.inputs),
                      "expected": encode(expected), "dtypes": dtypes, "variants": encode(variants)})
    invisible = [m.name for m in spec.mistakes if not any(m.name in c["variants"] for c in cases)]
    if invisible:
        raise ValueError(f"{spec.exercise}: mistake(s) {invisible} give the right outputs on every case; "
                         f"add a case that tells them apart")
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
    """Why the stored data of ``spec`` is out of date, or None when it is up to date."""
    path = DATA_DIR / f"{spec.exercise}.json"
    if not path.exists():
        return f"{path.name} is missing"
    built = json.loads(json.dumps(build(spec)))
    difference = differences(built, json.loads(path.read_text(encoding="utf-8")))
    return f"{path.name} is out of date ({difference})" if difference else None


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
    DATA_DIR.mkdir(exist_ok=True)
    for spec in chosen:
        path = DATA_DIR / f"{spec.exercise}.json"
        text = dumps(build(spec)) + "\n"
        if path.exists() and path.read_text(encoding="utf-8") == text:
            print(f"unchanged {path.name}")
            continue
        path.write_text(text, encoding="utf-8")
        print(f"wrote {path.name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
