"""``results.json`` in Gradescope's format, from the records of one graded submission.

Gradescope reads ``/autograder/results/results.json`` (its autograder specification):

- top level: ``score`` (the total), ``execution_time`` (seconds), ``output`` (text for the
  student), ``visibility`` (of the whole result), ``stdout_visibility`` (of what
  ``run_autograder`` printed), ``extra_data``, ``tests``;
- each test: ``name``, ``number``, ``score``, ``max_score``, ``status`` (``passed`` or
  ``failed``), ``output``, ``visibility``, ``tags``, ``extra_data``.

One test per exercise of each notebook (``01_gradient_descent: numerical_gradient``), worth one
point per hidden test, exactly as grades.csv scores it; its output is what the student's
feedback file says of it (how many hidden tests passed, what each failed one checks and a hint
why, never the hidden inputs or expected values). Its visibility is the package's setting:
``after_due_date`` unless the instructor chose ``after_published`` or ``hidden``, never
``visible``, so no detail of a hidden test shows before the deadline. The top-level output
only says which notebooks were found and graded, and what was wrong with files (misnamed,
missing, unreadable): what a student needs to fix an upload before the deadline.
"""

import re

from ..grading.report import NOTEBOOK_STATUSES

__all__ = ["VISIBILITIES", "TEST_VISIBILITIES", "results", "error_results", "check_results", "WHEN"]

VISIBILITIES = ("hidden", "after_due_date", "after_published", "visible")
"""Gradescope's visibility values."""

TEST_VISIBILITIES = ("hidden", "after_due_date", "after_published")
"""What a hidden test's details may be set to: never ``visible`` before the deadline."""

WHEN = {"hidden": "is kept for the instructor (not shown to you)",
        "after_due_date": "is shown after the due date",
        "after_published": "is shown once the grades are published"}

STATUSES = ("passed", "failed")

TOP_FIELDS = {"score": (int, float), "execution_time": (int, float), "output": str, "output_format": str,
              "test_output_format": str, "test_name_format": str, "visibility": str, "stdout_visibility": str,
              "extra_data": dict, "tests": list, "leaderboard": list}
TEST_FIELDS = {"score": (int, float), "max_score": (int, float), "status": str, "name": str, "name_format": str,
               "number": str, "output": str, "output_format": str, "tags": list, "visibility": str,
               "extra_data": dict}
FORMATS = ("text", "html", "simple_format", "md", "ansi")


def _number(notebook, place, position):
    prefix = re.match(r"\d+", notebook)
    return f"{int(prefix.group()) if prefix else place + 1}.{position + 1}"


def _test_output(result):
    if result.status == "passed":
        lines = [f"{result.score}/{result.max_score}: every hidden test passed"]
    else:
        lines = [f"{result.score}/{result.max_score}: {result.message}"]
    lines += [f"✗ {description}" + (f": {hint}" if hint else "") for description, ok, hint in result.tests if not ok]
    if result.status != "passed" and result.self_check:
        lines.append(f"your self-check printed: {result.self_check}")
    return "\n".join(lines)


def _notebook_line(notebook, record):
    if record is None:
        return f"{notebook}.ipynb: not graded"
    whole = {(r.status, r.message) for r in record.results}
    if len(whole) == 1:
        status, message = next(iter(whole))
        if status == "missing_notebook":
            return f"{notebook}.ipynb: not in your submission (upload it with exactly this name)"
        if status in NOTEBOOK_STATUSES:
            return f"{notebook}.ipynb: not graded: {message}"
    return f"{notebook}.ipynb: graded"


def results(assignments, records, notes, settings, seconds, extra_notes=()):
    """The results.json object of one submission.

    assignments: the run's ``Assignment``s (notebook order); records: ``{notebook: Record}``;
    notes: the run's ``submission.Note``s; extra_notes: ``(file, message)`` pairs from gathering
    the submission; settings: the package's (``visibility``, ``score_visibility``).
    """
    visibility = settings["visibility"]
    tests, total, possible = [], 0, 0
    for place, assignment in enumerate(assignments):
        record = records.get(assignment.notebook)
        by_name = {r.exercise: r for r in record.results} if record else {}
        for position, exercise in enumerate(assignment.exercises):
            result = by_name.get(exercise)
            max_score = len(assignment.tests[exercise])
            score = result.score if result else 0
            total, possible = total + score, possible + max_score
            tests.append({
                "name": f"{assignment.notebook}: {exercise}",
                "number": _number(assignment.notebook, place, position),
                "score": score,
                "max_score": max_score,
                "status": "passed" if result and result.status == "passed" else "failed",
                "output": _test_output(result) if result else "not graded",
                "visibility": visibility,
                "tags": [assignment.notebook],
                "extra_data": {"notebook": assignment.notebook, "exercise": exercise,
                               "status": result.status if result else "not_graded"},
            })
    lines = [f"{total} / {possible} points: one point per hidden test passed.", ""]
    lines += [_notebook_line(a.notebook, records.get(a.notebook)) for a in assignments]
    file_notes = [(file, message) for file, message in extra_notes]
    file_notes += [(n.file, n.message) for n in notes]
    file_notes += [(file, message) for a in assignments if records.get(a.notebook)
                   for file, _, message in records[a.notebook].notes]
    if file_notes:
        lines += ["", "Files:"] + [f"{file}: {message}" for file, message in file_notes]
    lines += ["", f"Each exercise's result (which hidden tests passed, a hint for each that failed) {WHEN[visibility]}."]
    return {"score": total, "execution_time": round(seconds, 1), "output": "\n".join(lines),
            "visibility": settings["score_visibility"], "stdout_visibility": "hidden",
            "extra_data": {"points_possible": possible}, "tests": tests}


def error_results(message, seconds=0.0):
    """The results.json of a submission that could not be graded at all (the instructor's problem)."""
    return {"score": 0, "execution_time": round(seconds, 1), "visibility": "visible", "stdout_visibility": "hidden",
            "output": f"The autograder could not grade this submission: {message}\nThis is not your fault: tell the "
                      "instructor, who sees the details in the autograder's output.",
            "extra_data": {"error": message}, "tests": []}


def check_results(data):
    """The problems of ``data`` as a Gradescope results.json (empty when it fits the specification)."""
    problems = []
    if not isinstance(data, dict):
        return ["not a JSON object"]

    def fields(obj, spec, where):
        for key, value in obj.items():
            if key not in spec:
                problems.append(f"{where}: unknown field {key!r}")
            elif not isinstance(value, spec[key]) or isinstance(value, bool):
                problems.append(f"{where}: {key} is a {type(value).__name__}")
        for key in ("visibility", "stdout_visibility"):
            if key in obj and obj[key] not in VISIBILITIES:
                problems.append(f"{where}: {key} {obj[key]!r} is not one of {', '.join(VISIBILITIES)}")
        for key in ("output_format", "test_output_format"):
            if key in obj and obj[key] not in FORMATS:
                problems.append(f"{where}: {key} {obj[key]!r} is not one of {', '.join(FORMATS)}")

    fields(data, TOP_FIELDS, "results")
    tests = data.get("tests", [])
    if "score" not in data and not (isinstance(tests, list) and tests and all("score" in t for t in tests
                                                                             if isinstance(t, dict))):
        problems.append("results: no score, and not every test has one")
    for i, test in enumerate(tests if isinstance(tests, list) else []):
        where = f"tests[{i}]"
        if not isinstance(test, dict):
            problems.append(f"{where}: not a JSON object")
            continue
        fields(test, TEST_FIELDS, where)
        if test.get("status", "passed") not in STATUSES:
            problems.append(f"{where}: status {test['status']!r} is not passed or failed")
        score, max_score = test.get("score"), test.get("max_score")
        if isinstance(score, (int, float)) and isinstance(max_score, (int, float)) and not 0 <= score <= max_score:
            problems.append(f"{where}: score {score} is not between 0 and max_score {max_score}")
    if isinstance(data.get("score"), (int, float)) and isinstance(tests, list) and tests and \
            all(isinstance(t, dict) and isinstance(t.get("score"), (int, float)) for t in tests):
        if abs(sum(t["score"] for t in tests) - data["score"]) > 1e-9:
            problems.append("results: score is not the sum of the tests' scores")
    return problems
