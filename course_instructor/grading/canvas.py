"""A Canvas gradebook import file: ``course grade ... --canvas ROSTER`` writes ``GRADES/canvas.csv``.

The roster is the CSV Canvas exports from the course's gradebook (Grades, Export): a header
``Student, ID, SIS User ID, SIS Login ID, Section, <assignments...>``, then, in some exports, a
"Points Possible" row and a "Manual Posting" row, then one row per student. Only ``Student``
and ``ID`` are required; the other columns may be missing (they are written empty).

The import file Canvas takes back has the same five columns, one column per notebook (its
score: the sum of its exercises' scores, as in grades.csv), and a second row "Points Possible"
(the number of hidden tests of each notebook). A notebook's column takes the name of a roster
column that names the same notebook (``01_gradient_descent (1234)``: the number is Canvas's
assignment id, so the scores land in that assignment), else the notebook's name (Canvas creates
that assignment on import, with the points possible of the second row).

Matching a student's folder (SUBMISSIONS/<folder>) with a roster row, case-insensitively: the
folder name is the SIS Login ID, else the SIS Login ID's part before "@" (alice for
alice@uni.edu), else the SIS User ID, else Canvas's ID. A folder that fits several rows, or a
row that several folders fit, is not matched (and is reported).

Nobody is dropped silently:

- a roster student without a folder keeps empty cells: Canvas leaves their grades as they are
  (a student with a folder but without some notebook gets 0 for it, as in grades.csv);
- a folder with no roster row is written at the end with its folder name as ``Student`` and no
  ids: on import Canvas lists it, to match with a student or ignore (or delete the row);
- both lists are returned (``CanvasExport``), printed on stderr and counted in the summary.

Every cell is written so that a spreadsheet cannot take it for a formula: a value that starts
with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return gets a leading apostrophe.
"""

import csv
import io
import re
from dataclasses import dataclass, field
from pathlib import Path

from ..cells import write_text

__all__ = ["ROSTER_COLUMNS", "RosterError", "Roster", "CanvasExport", "read_roster", "match", "column_names", "export",
           "escape", "CANVAS_FILE"]

ROSTER_COLUMNS = ("Student", "ID", "SIS User ID", "SIS Login ID", "Section")
"""The student columns of a Canvas gradebook CSV, in Canvas's order."""

REQUIRED = ("Student", "ID")

POINTS_POSSIBLE = "Points Possible"

CANVAS_FILE = "canvas.csv"
"""The file ``--canvas`` writes in GRADES unless ``--canvas-out`` says otherwise."""

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


class RosterError(Exception):
    """The roster cannot be used; the message says why and what to do."""


@dataclass
class Roster:
    """The students of a Canvas gradebook export: ``rows`` are dicts of ``ROSTER_COLUMNS``;
    ``columns`` the roster's other columns (its assignments), as Canvas names them."""
    path: Path
    rows: list
    columns: list = field(default_factory=list)


@dataclass
class CanvasExport:
    """What ``export`` wrote and whom it could not place."""
    path: Path
    columns: dict                                          # notebook -> column name
    matched: dict = field(default_factory=dict)            # folder -> roster row
    without_submission: list = field(default_factory=list)  # roster rows no folder fits
    not_in_roster: list = field(default_factory=list)       # folders no roster row fits
    ambiguous: list = field(default_factory=list)           # (folder, why)

    def problems(self):
        """One line per student who is not matched, for stderr."""
        lines = [f"in the roster without a submission (empty cells): {_who(row)}" for row in self.without_submission]
        lines += [f"submission not in the roster (its row has no ids: match it when Canvas asks): {folder}"
                  for folder in self.not_in_roster]
        lines += [f"not matched: {folder}: {why}" for folder, why in self.ambiguous]
        return lines

    def summary(self):
        """The line ``course grade`` prints."""
        unmatched = len(self.not_in_roster) + len(self.ambiguous)
        return (f"Canvas: {self.path} ({len(self.matched)} students matched with the roster, "
                f"{len(self.without_submission)} in the roster without a submission, "
                f"{unmatched} submission{'s' if unmatched != 1 else ''} not in the roster).")


def escape(value):
    """``value`` as a CSV cell no spreadsheet evaluates (a leading apostrophe before =, +, -, @...)."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def _who(row):
    login = row.get("SIS Login ID") or row.get("SIS User ID") or row.get("ID")
    return f"{row.get('Student', '')} ({login})" if login else row.get("Student", "")


def read_roster(path):
    """The ``Roster`` of a Canvas gradebook export (or any CSV with at least Student and ID)."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as e:
        raise RosterError(f"cannot read the roster {path}: {e.strerror or e}") from None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("cp1252", errors="replace")  # saved by a spreadsheet program on Windows
    reader = csv.reader(io.StringIO(text))
    try:
        header = [h.strip() for h in next(reader)]
    except StopIteration:
        raise RosterError(f"the roster {path} is empty: export the gradebook from Canvas (Grades, Export)") from None
    except csv.Error as e:
        raise RosterError(f"the roster {path} is not a CSV file: {e}") from None
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        raise RosterError(f"the roster {path} has no {' or '.join(repr(c) for c in missing)} column: export the "
                          "gradebook from Canvas (Grades, Export), whose first columns are "
                          + ", ".join(ROSTER_COLUMNS))
    where = {name: header.index(name) for name in ROSTER_COLUMNS if name in header}
    rows = []
    try:
        for values in reader:
            row = {name: (values[i].strip() if i < len(values) else "") for name, i in where.items()}
            row = {name: row.get(name, "") for name in ROSTER_COLUMNS}
            if row["Student"] == POINTS_POSSIBLE or not (row["ID"] or row["SIS User ID"] or row["SIS Login ID"]):
                continue  # Points Possible, Manual Posting and blank rows
            rows.append(row)
    except csv.Error as e:
        raise RosterError(f"the roster {path} is not a CSV file: {e}") from None
    others = [h for h in header if h and h not in ROSTER_COLUMNS]
    return Roster(path, rows, others)


def _keys(row):
    """The names a student's folder may have, best first: login, login before @, SIS id, Canvas id
    (lower case; "" where the row has none)."""
    login = row["SIS Login ID"].lower()
    return [login, login.split("@", 1)[0] if "@" in login else "", row["SIS User ID"].lower(), row["ID"].lower()]


def match(folders, rows):
    """``(matched, ambiguous)``: ``{folder: row}`` and ``[(folder, why)]``, by ``_keys`` in order."""
    matched, ambiguous = {}, []
    keys = [(row, _keys(row)) for row in rows]
    for folder in folders:
        name = folder.strip().lower()
        for rank in range(4):
            fits = [row for row, k in keys if k[rank] and k[rank] == name]
            if len(fits) == 1:
                matched[folder] = fits[0]
                break
            if len(fits) > 1:
                ambiguous.append((folder, "several roster rows fit: " + ", ".join(_who(r) for r in fits)))
                break
    claimed = {}
    for folder, row in matched.items():
        claimed.setdefault(id(row), []).append(folder)
    for folders_of_row in claimed.values():
        if len(folders_of_row) > 1:
            for folder in folders_of_row:
                others = ", ".join(f for f in folders_of_row if f != folder)
                ambiguous.append((folder, f"the roster row {_who(matched[folder])} also fits {others}"))
                del matched[folder]
    return matched, ambiguous


def _normal(name):
    """A column name compared with a notebook's: Canvas's " (assignment id)" dropped, case, _ and spaces."""
    name = re.sub(r"\s*\(\d+\)\s*$", "", name)
    return re.sub(r"[\s_]+", "_", name.strip().lower())


def column_names(notebooks, roster_columns):
    """``{notebook: column}``: the roster's column for the notebook if it has one, else the notebook's name."""
    found = {}
    for notebook in notebooks:
        same = [c for c in roster_columns if _normal(c) == _normal(notebook)]
        found[notebook] = same[0] if len(same) == 1 else notebook
    return found


def _points(value):
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


def export(roster, assignments, records, students, path):
    """Write the Canvas import file at ``path``; returns the ``CanvasExport``.

    assignments: the run's ``instructor.Assignment``s (notebook order); records: ``{(student,
    notebook): Record}``; students: every student folder graded.
    """
    path = Path(path)
    notebooks = [a.notebook for a in assignments]
    possible = {a.notebook: sum(len(a.tests[name]) for name in a.exercises) for a in assignments}
    columns = column_names(notebooks, roster.columns)
    matched, ambiguous = match(students, roster.rows)
    result = CanvasExport(path, columns, matched, ambiguous=ambiguous)
    placed = {id(row): folder for folder, row in matched.items()}
    result.without_submission = [row for row in roster.rows if id(row) not in placed]
    result.not_in_roster = [s for s in students if s not in matched and s not in {f for f, _ in ambiguous}]

    def scores(folder):
        cells = []
        for notebook in notebooks:
            record = records.get((folder, notebook))
            cells.append("" if record is None else _points(sum(r.score for r in record.results)))
        return cells

    lines = [list(ROSTER_COLUMNS) + [columns[n] for n in notebooks],
             [POINTS_POSSIBLE, "", "", "", ""] + [_points(possible[n]) for n in notebooks]]
    for row in roster.rows:
        folder = placed.get(id(row))
        lines.append([row[c] for c in ROSTER_COLUMNS] + (scores(folder) if folder else [""] * len(notebooks)))
    for folder in result.not_in_roster + [f for f, _ in ambiguous]:
        lines.append([folder, "", "", "", ""] + scores(folder))
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\n")
    writer.writerows([[escape(cell) for cell in line] for line in lines])
    path.parent.mkdir(parents=True, exist_ok=True)
    write_text(path, text.getvalue())
    return result
