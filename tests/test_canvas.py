"""Tests of ``course grade --canvas``: reading Canvas's gradebook export, matching folders with it,
the import file (columns, Points Possible, empty cells, unmatched students, no formulas), and one
small class graded end to end (notebook 01 only, which grades as solutions/ has it)."""

import csv
import io
import subprocess
import sys
from types import SimpleNamespace

import pytest

from course_instructor import cells
from course_instructor.grading.canvas import RosterError, escape, export, match, read_roster
from course_instructor.grading.notebook import ExerciseResult
from course_lib.paths import course_root

ROOT = course_root()

# As Canvas exports a gradebook: a byte-order mark, an "Integration ID" column some schools have,
# the Points Possible row (indented), a Manual Posting row, the test student.
EXPORT = ("\ufeffStudent,ID,SIS User ID,SIS Login ID,Integration ID,Section,"
          "01_gradient_descent (4567),Quiz 1 (4568),Current Score\n"
          "    Points Possible,,,,,,8.00,10.00,(read only)\n"
          ",,,,,,Manual Posting,,\n"
          '"Liddell, Alice",101,S001,alice@uni.edu,,Lab A,,9,90\n'
          '"Builder, Bob",102,S002,bob,,Lab B,,8,80\n'
          '"Carroll, Carol",103,S003,carol@uni.edu,,Lab A,,7,70\n'
          '"=HYPERLINK(""http://x"")",104,-5,@dave,,Lab B,,,\n'
          '"Student, Test",105,,5f2c,,Lab A,,,\n')


def write(path, text):
    path.write_text(text, encoding="utf-8")
    return path


def _assignment(notebook, tests):
    return SimpleNamespace(notebook=notebook, exercises=list(tests), tests={k: [None] * n for k, n in tests.items()})


def _record(*scores):
    return SimpleNamespace(results=[ExerciseResult(f"e{i}", "passed", s, s, "") for i, s in enumerate(scores)])


def read_csv(path):
    return list(csv.reader(io.StringIO(path.read_text(encoding="utf-8"))))


# --------------------------------------------------------------------------------------
# The roster
# --------------------------------------------------------------------------------------

def test_the_roster_keeps_the_students_and_skips_canvas_extra_rows(tmp_path):
    roster = read_roster(write(tmp_path / "r.csv", EXPORT))
    assert [r["Student"] for r in roster.rows] == ["Liddell, Alice", "Builder, Bob", "Carroll, Carol",
                                                   '=HYPERLINK("http://x")', "Student, Test"]
    assert roster.rows[0] == {"Student": "Liddell, Alice", "ID": "101", "SIS User ID": "S001",
                              "SIS Login ID": "alice@uni.edu", "Section": "Lab A"}
    assert roster.columns == ["Integration ID", "01_gradient_descent (4567)", "Quiz 1 (4568)", "Current Score"]


def test_a_roster_with_only_student_and_id_will_do(tmp_path):
    roster = read_roster(write(tmp_path / "r.csv", "Student,ID\nAlice,101\n"))
    assert roster.rows == [{"Student": "Alice", "ID": "101", "SIS User ID": "", "SIS Login ID": "", "Section": ""}]


@pytest.mark.parametrize("text, says", [("", "is empty"), ("Name,Email\nAlice,a@x\n", "no 'Student' or 'ID' column"),
                                        ("Student\nAlice\n", "no 'ID' column")])
def test_an_unusable_roster_says_why(tmp_path, text, says):
    with pytest.raises(RosterError, match=says):
        read_roster(write(tmp_path / "r.csv", text))
    with pytest.raises(RosterError, match="cannot read"):
        read_roster(tmp_path / "missing.csv")


# --------------------------------------------------------------------------------------
# Matching folders with the roster
# --------------------------------------------------------------------------------------

def test_folders_match_by_login_then_its_name_then_sis_id_then_canvas_id(tmp_path):
    rows = read_roster(write(tmp_path / "r.csv", EXPORT)).rows
    matched, ambiguous = match(["alice", "BOB", "S003", "104", "nobody"], rows)
    assert {f: r["ID"] for f, r in matched.items()} == {"alice": "101", "BOB": "102", "S003": "103", "104": "104"}
    assert ambiguous == []


def test_ambiguous_matches_are_not_guessed():
    rows = [{"Student": "A1", "ID": "1", "SIS User ID": "", "SIS Login ID": "ann@a.edu", "Section": ""},
            {"Student": "A2", "ID": "2", "SIS User ID": "", "SIS Login ID": "ann@b.edu", "Section": ""},
            {"Student": "B", "ID": "3", "SIS User ID": "S3", "SIS Login ID": "ben", "Section": ""}]
    matched, ambiguous = match(["ann", "ann@a.edu", "ben", "S3"], rows)
    assert set(matched) == {"ann@a.edu"}
    reasons = dict(ambiguous)
    assert "several roster rows fit" in reasons["ann"]
    assert "also fits" in reasons["ben"] and "also fits" in reasons["S3"]


# --------------------------------------------------------------------------------------
# The import file
# --------------------------------------------------------------------------------------

def test_the_import_file_has_canvas_columns_points_possible_and_every_student(tmp_path):
    roster = read_roster(write(tmp_path / "r.csv", EXPORT))
    assignments = [_assignment("01_gradient_descent", {"a": 4, "b": 4}), _assignment("02_momentum", {"c": 3})]
    records = {("alice", "01_gradient_descent"): _record(4, 3), ("alice", "02_momentum"): _record(0),
               ("bob", "01_gradient_descent"): _record(0, 0), ("bob", "02_momentum"): _record(3),
               ("zed", "01_gradient_descent"): _record(1, 1), ("zed", "02_momentum"): _record(2)}
    result = export(roster, assignments, records, ["alice", "bob", "zed"], tmp_path / "out" / "canvas.csv")
    rows = read_csv(tmp_path / "out" / "canvas.csv")
    assert rows[0] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", "01_gradient_descent (4567)",
                       "02_momentum"]                     # the roster's column for 01; a new one for 02
    assert rows[1] == ["Points Possible", "", "", "", "", "8", "3"]
    assert rows[2] == ["Liddell, Alice", "101", "S001", "alice@uni.edu", "Lab A", "7", "0"]
    assert rows[3] == ["Builder, Bob", "102", "S002", "bob", "Lab B", "0", "3"]
    assert rows[4] == ["Carroll, Carol", "103", "S003", "carol@uni.edu", "Lab A", "", ""]  # no submission
    assert rows[5] == ["'=HYPERLINK(\"http://x\")", "104", "'-5", "'@dave", "Lab B", "", ""]
    assert rows[7] == ["zed", "", "", "", "", "2", "2"]     # not in the roster: listed, not dropped
    assert len(rows) == 8
    assert [r["Student"] for r in result.without_submission] == ["Carroll, Carol", '=HYPERLINK("http://x")',
                                                                 "Student, Test"]
    assert result.not_in_roster == ["zed"]
    problems = result.problems()
    assert any("without a submission" in p and "Carroll, Carol (carol@uni.edu)" in p for p in problems)
    assert any("not in the roster" in p and "zed" in p for p in problems)
    assert "2 students matched" in result.summary() and "3 in the roster without a submission" in result.summary()
    assert "1 submission not in the roster" in result.summary()


@pytest.mark.parametrize("value, cell", [("=1+1", "'=1+1"), ("+1", "'+1"), ("-1", "'-1"), ("@SUM(A1)", "'@SUM(A1)"),
                                         ("\tx", "'\tx"), ("\rx", "'\rx"), ("Alice", "Alice"), (7, "7"), (None, "")])
def test_no_cell_starts_a_formula(value, cell):
    assert escape(value) == cell


# --------------------------------------------------------------------------------------
# End to end: course grade --canvas
# --------------------------------------------------------------------------------------

WRONG_GD = '''def gradient_descent(grad, x0, learning_rate, num_steps):
    path = [np.array(x0, dtype=float)]
    for _ in range(num_steps):
        path.append(path[-1] + learning_rate * grad(path[-1]))
    return np.array(path)
'''


def grade(tmp_path, *options):
    return subprocess.run([sys.executable, "-m", "course_lib.cli", "grade", str(tmp_path / "subs"), "--out",
                           str(tmp_path / "grades"), "--solutions", str(tmp_path / "solutions"), "--timeout", "4",
                           *options], capture_output=True, text=True, timeout=600)


def test_course_grade_writes_the_canvas_file_and_names_who_is_missing(tmp_path):
    notebook = "01_gradient_descent.ipynb"
    (tmp_path / "solutions").mkdir()
    (tmp_path / "solutions" / notebook).write_bytes((ROOT / "solutions" / notebook).read_bytes())
    nb = cells.read_notebook(ROOT / "solutions" / notebook)
    for folder in ("alice", "bob", "zed"):
        (tmp_path / "subs" / folder).mkdir(parents=True)
    cells.write_notebook(nb, tmp_path / "subs" / "alice" / notebook)
    cells.write_notebook(nb, tmp_path / "subs" / "zed" / notebook)
    for cell in nb["cells"]:
        if cell.get("id") == "exercise-gradient_descent":
            cell["source"] = WRONG_GD
    cells.write_notebook(nb, tmp_path / "subs" / "bob" / notebook)
    write(tmp_path / "roster.csv", EXPORT)
    done = grade(tmp_path, "--canvas", str(tmp_path / "roster.csv"))
    assert done.returncode == 0, done.stderr
    rows = read_csv(tmp_path / "grades" / "canvas.csv")
    with open(tmp_path / "grades" / "grades.csv", newline="") as f:
        grades = list(csv.DictReader(f))
    total = {s: sum(int(r["score"]) for r in grades if r["student"] == s) for s in ("alice", "bob", "zed")}
    possible = sum(int(r["max_score"]) for r in grades if r["student"] == "alice")
    assert rows[0][5:] == ["01_gradient_descent (4567)"] and rows[1][5:] == [str(possible)]
    by_id = {r[1]: r for r in rows[2:] if r[1]}
    assert by_id["101"][5] == str(total["alice"]) == str(possible)
    assert by_id["102"][5] == str(total["bob"]) and 0 < total["bob"] < possible
    assert by_id["103"][5] == "" and rows[-1] == ["zed", "", "", "", "", str(possible)]
    assert "Carroll, Carol (carol@uni.edu)" in done.stderr and "not in the roster" in done.stderr
    assert "zed" in done.stderr and "Canvas: " in done.stdout and "2 students matched" in done.stdout
    moved = grade(tmp_path, "--canvas", str(tmp_path / "roster.csv"), "--canvas-out", str(tmp_path / "c" / "x.csv"))
    assert moved.returncode == 0 and read_csv(tmp_path / "c" / "x.csv") == rows


def test_a_bad_roster_stops_before_grading(tmp_path):
    (tmp_path / "subs" / "alice").mkdir(parents=True)
    (tmp_path / "solutions").mkdir()
    write(tmp_path / "roster.csv", "Name\nAlice\n")
    done = grade(tmp_path, "--canvas", str(tmp_path / "roster.csv"))
    assert done.returncode == 2 and "no 'Student' or 'ID' column" in done.stderr
    assert not (tmp_path / "grades").exists()
    alone = grade(tmp_path, "--canvas-out", str(tmp_path / "x.csv"))
    assert alone.returncode == 2 and "--canvas-out needs --canvas" in alone.stderr
