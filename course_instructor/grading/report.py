"""The gradebook: ``grades.csv``, ``feedback/<student>.md`` and the summary printed at the end.

``grades.csv`` has one row per student and exercise (student, notebook, exercise, score,
max_score, status, message), plus one row per note (an extra or misnamed file, a converted
notebook: exercise empty, max_score 0), sorted by student, notebook and the exercise's place in
its notebook. It depends only on the records, so a resumed run writes the same bytes. No cell
starts a formula when a spreadsheet opens it (``csv_cell``: a student folder named
``=2+5+cmd|'calc'!A1`` is written ``'=2+5+cmd|'calc'!A1``); names in any language stay as they are.

A feedback file says, per notebook and exercise, what passed and what failed and why, in the
hidden tests' own words; it never shows the hidden inputs or the expected values.
"""

import csv
import io
from collections import Counter, defaultdict
from pathlib import Path

from ..cells import write_text

__all__ = ["COLUMNS", "gradebook_rows", "write_gradebook", "feedback", "summary", "csv_cell"]

COLUMNS = ("student", "notebook", "exercise", "score", "max_score", "status", "message")

ICONS = {"passed": "✅", "partial": "🟡"}

NOTEBOOK_STATUSES = ("missing_notebook", "not_regular_file", "too_large", "corrupt", "unsupported_format",
                     "grading_error")
"""Statuses that concern a whole notebook: its feedback says it once."""

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
"""What a spreadsheet may take a cell beginning with for a formula (or a command: ``=cmd|...``)."""


def csv_cell(value):
    """A value as grades.csv writes it: text that could start a formula in a spreadsheet gets a
    leading ``'`` (shown as text, as OWASP advises against CSV injection); text whose bytes were not
    UTF-8 (a folder name in another encoding) gets U+FFFD for them. Numbers are written as they are."""
    if not isinstance(value, str):
        return value
    value = value.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    return "'" + value if value.startswith(FORMULA_STARTS) else value


def gradebook_rows(records, notes):
    """The CSV rows (tuples), sorted; ``records`` in any order, ``notes`` are ``submission.Note``s."""
    rows = []
    for record in records:
        for place, r in enumerate(record.results):
            rows.append(((record.student, record.notebook, "1", f"{place:06d}"),
                         (record.student, record.notebook, r.exercise, r.score, r.max_score, r.status, r.message)))
        for file, status, message in record.notes:
            rows.append(((record.student, record.notebook, "0", file),
                         (record.student, file, "", 0, 0, status, message)))
    for n in notes:
        rows.append(((n.student, Path(n.file).stem, "0", n.file), (n.student, n.file, "", 0, 0, n.status, n.message)))
    return [row for _, row in sorted(rows, key=lambda pair: pair[0])]


def write_gradebook(out, records, notes):
    """Write grades.csv and one feedback file per student (each atomically); returns the rows."""
    rows = gradebook_rows(records, notes)
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\n")
    writer.writerow(COLUMNS)
    writer.writerows([csv_cell(value) for value in row] for row in rows)
    out = Path(out)
    write_text(out / "grades.csv", text.getvalue())
    by_student = defaultdict(list)
    for record in records:
        by_student[record.student].append(record)
    notes_of = defaultdict(list)
    for n in notes:
        notes_of[n.student].append(n)
    (out / "feedback").mkdir(exist_ok=True)
    for student in sorted(set(by_student) | set(notes_of)):
        text = feedback(student, by_student[student], notes_of[student])
        text = text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")   # a name that is not UTF-8
        write_text(out / "feedback" / f"{student}.md", text)
    return rows


def feedback(student, records, notes):
    """The markdown a student reads."""
    records = sorted(records, key=lambda r: r.notebook)
    total = sum(r.score for rec in records for r in rec.results)
    possible = sum(r.max_score for rec in records for r in rec.results)
    lines = [f"# Feedback for {student}", "",
             f"**{total} / {possible} points**: one point per hidden test passed. The hidden tests call your "
             "functions on inputs you have not seen (other shapes, other hyperparameters, several steps).", ""]
    for record in records:
        got = sum(r.score for r in record.results)
        lines += [f"## {record.notebook}: {got} / {sum(r.max_score for r in record.results)}", ""]
        for file, status, message in record.notes:
            lines.append(f"- Note on `{file}`: {message}")
        whole = {(r.status, r.message) for r in record.results}
        if len(whole) == 1 and next(iter(whole))[0] in NOTEBOOK_STATUSES:
            lines += [f"- ❌ not graded: {next(iter(whole))[1]}", ""]
            continue
        for r in record.results:
            lines.append(f"- {ICONS.get(r.status, '❌')} **{r.exercise}** {r.score}/{r.max_score}: {_said(r)}")
            lines += [f"    - ✗ {description}" + (f": {hint}" if hint else "") for description, ok, hint in r.tests
                      if not ok]
            if r.status != "passed" and r.self_check:
                lines.append(f"    - your self-check printed: `{r.self_check}`")
        lines.append("")
    if notes:
        lines += ["## Files", ""] + [f"- `{n.file}`: {n.message}" for n in notes] + [""]
    return "\n".join(lines)


def _said(result):
    if result.status == "passed":
        return "every hidden test passed"
    return result.message


def summary(records, notes, seconds, jobs, isolation, reused, warnings=()):
    """The text ``course grade`` prints at the end."""
    students = sorted({r.student for r in records} | {n.student for n in notes})
    lines = [f"Graded {len(students)} students, {len(records)} notebooks ({len(records) - reused} now, {reused} "
             f"from earlier records) in {seconds:.1f} s with {jobs} job{'s' if jobs > 1 else ''}.",
             f"Isolation: {isolation}.", "", "Mean score per exercise:"]
    scores = defaultdict(list)
    for record in records:
        for r in record.results:
            scores[(record.notebook, r.exercise)].append((r.score, r.max_score))
    order = sorted(scores, key=lambda key: key[0])
    width = max((len(e) for _, e in order), default=0)
    for notebook, exercise in order:
        values = scores[(notebook, exercise)]
        mean = sum(s for s, _ in values) / len(values)
        lines.append(f"  {notebook:<26} {exercise:<{width}}  {mean:5.2f} / {values[0][1]}")
    statuses = Counter(r.status for record in records for r in record.results)
    statuses.update(n.status for n in notes)
    statuses.update(status for record in records for _, status, _ in record.notes)
    lines += ["", "Rows by status: " + ", ".join(f"{s} {n}" for s, n in sorted(statuses.items(), key=lambda x: -x[1]))]
    lines += [f"Warning: {w}" for w in warnings]
    return "\n".join(lines)
