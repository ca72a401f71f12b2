"""``course grade``: grade a class's submitted notebooks into a gradebook and feedback files."""

import argparse
import sys

from course_lib.train import progress_bar
from . import canvas
from .notebook import STATUSES
from .submission import SUBMISSION_STATUSES
from .run import GradingError, Options, grade_class

DESCRIPTION = """\
Grade every student's notebooks: SUBMISSIONS/<student>/<notebook>.ipynb, where <notebook> is
the name of a notebook of solutions/ (01_gradient_descent.ipynb, ...).

For each submission, grading builds a grading notebook from the instructor's copy (solutions/):
its setup and self-check cells around the student's exercise code. Only the source of the
exercise cells is taken from the submission (matched by cell id, else by the function the cell
defines); every other cell, tag and metadata is the instructor's, and demos are not run. It runs
that notebook in a fresh, isolated kernel, compares the self-checks' output with solutions/ as
nbval does, then calls each exercise's function from the hidden tests (tests/hidden/) on inputs
the student never saw. Scores: one point per hidden test passed, 0 for an exercise that calls
course_lib's reference solution (unavailable while grading), crashes or hangs its kernel.

Before any student, the solutions themselves are graded: grading stops (exit 2) unless they
pass every hidden test and every self-check.

Results, in GRADES:
  grades.csv             one row per student and exercise: student, notebook, exercise, score,
                         max_score, status, message (and a row per extra or misnamed file)
  feedback/<student>.md  for the student: what passed, what failed and why (never the hidden inputs)
  records/<student>/     one record per graded notebook, written as soon as it is graded
  canvas.csv             with --canvas ROSTER: a Canvas gradebook import file (see below)

Resuming and regrading: a run that stops (even killed) is finished by running the same command
again: records that are current are reused, so every student appears once. A changed submission,
solution or hidden test is graded again automatically. To regrade a student anyway, pass
--student NAME (repeatable), or delete GRADES/records/NAME/ and run again.

Isolation (Linux, as root or as an ordinary user, with bubblewrap: apt-get install bubblewrap):
each job's kernels run in a sandbox of their own, with no network, no other process, a private
/tmp and /dev/shm, only Python and the blocked copy of course_lib readable (the course,
solutions/, tests/, SUBMISSIONS and GRADES are not there), each kernel at most --memory of
memory per process, 256 processes and 64 MiB files; nothing a notebook starts outlives it.
Where that cannot work (no bubblewrap, user namespaces disabled, not Linux), course grade
refuses to grade and says what to install or to use instead (the course's container: see the
README); --allow-unisolated grades anyway, without isolation (as root: an unprivileged user per
job; otherwise: as you), for notebooks you trust.

Canvas: --canvas ROSTER takes the gradebook CSV exported from Canvas (Grades, Export) and
writes GRADES/canvas.csv (or --canvas-out FILE) to import back (Grades, Import): Student, ID,
SIS User ID, SIS Login ID, Section, one column per notebook (its score) and a Points Possible
row. A student folder is matched with the roster by SIS Login ID (or its part before @), else SIS
User ID, else Canvas ID. Roster students without a folder keep empty cells (Canvas leaves their
grades alone); folders not in the roster get a row without ids (Canvas lists it on import, to
match or ignore); both are listed on stderr.

Exit status: 0 when every submission was graded (however students scored), 2 when grading could
not start (no such folder, a broken instructor copy, another grader writing GRADES, kernels that
cannot be isolated).
"""


def _statuses():
    statuses = {**STATUSES, **SUBMISSION_STATUSES}
    width = max(map(len, statuses))
    return "statuses (grades.csv):\n" + "\n".join(f"  {s:<{width}}  {meaning}" for s, meaning in statuses.items()) + (
        "\n  notes: extra_file, misnamed (graded under the right name when it is clear which),"
        " not_utf8, old_format (graded after conversion), not_regular_file (a symbolic link: ignored),"
        " bad_folder_name (a student folder whose name is not UTF-8: not graded)"
        "\n\ngrades.csv: a cell that would start a formula in a spreadsheet (=, +, -, @, tab, CR) starts with '")


def register(subparsers):
    p = subparsers.add_parser("grade", help="grade submitted notebooks into grades.csv and feedback files",
                              description=DESCRIPTION, epilog=_statuses(),
                              formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("submissions", metavar="SUBMISSIONS", help="folder with one folder of notebooks per student")
    p.add_argument("--out", metavar="GRADES", required=True, help="folder for grades.csv, feedback/ and records/")
    p.add_argument("--jobs", "-j", type=int, default=1, metavar="N", help="notebooks graded at once (default 1)")
    p.add_argument("--timeout", type=float, default=10.0, metavar="S",
                   help="seconds each cell and each hidden-test call may take (default 10)")
    p.add_argument("--student", action="append", metavar="NAME", dest="students",
                   help="regrade this student even if their records are current (repeatable)")
    p.add_argument("--memory", type=float, default=4.0, metavar="GIB", help="memory limit of a kernel (default 4)")
    p.add_argument("--solutions", metavar="DIR", help="the instructor's notebooks (default: solutions/)")
    p.add_argument("--hidden-tests", metavar="DIR", dest="hidden", help="the hidden tests (default: tests/hidden/)")
    p.add_argument("--isolation", choices=["auto", "bwrap", "uid", "none"], default="auto",
                   help="bwrap: a bubblewrap sandbox per job (auto, the default: bwrap, or refuse to grade where "
                        "it cannot work); uid (root only) and none: NOT isolated, for notebooks you trust")
    p.add_argument("--allow-unisolated", action="store_true",
                   help="grade even where kernels cannot be isolated (no bubblewrap, not Linux): student code then "
                        "runs as an unprivileged user (root) or as you, and can read the solutions and other "
                        "students' notebooks")
    p.add_argument("--canvas", metavar="ROSTER", help="also write a Canvas gradebook import file, matching students "
                   "with ROSTER (the gradebook CSV exported from Canvas)")
    p.add_argument("--canvas-out", metavar="FILE", help="where --canvas writes (default: GRADES/canvas.csv)")
    p.set_defaults(func=run)


def run(args):
    if args.jobs < 1 or args.timeout <= 0 or args.memory <= 0:
        print("course grade: --jobs, --timeout and --memory must be positive", file=sys.stderr)
        return 2
    roster = None
    if getattr(args, "canvas", None):
        try:
            roster = canvas.read_roster(args.canvas)
        except canvas.RosterError as e:
            print(f"course grade: {e}", file=sys.stderr)
            return 2
    elif getattr(args, "canvas_out", None):
        print("course grade: --canvas-out needs --canvas ROSTER", file=sys.stderr)
        return 2
    options = Options(args.submissions, args.out, jobs=args.jobs, timeout=args.timeout, students=args.students,
                      solutions=args.solutions, hidden=args.hidden, isolation=args.isolation, memory_gib=args.memory,
                      allow_unisolated=args.allow_unisolated)
    bar = None

    def progress(done, total):
        nonlocal bar
        if bar is None:
            bar = progress_bar(total=total, desc="grading", unit="notebook")
        bar.update(1)

    try:
        result = grade_class(options, progress)
    except GradingError as e:
        print(f"course grade: {e}", file=sys.stderr)
        return 2
    finally:
        if bar is not None:
            bar.close()
    print(result.text)
    print(f"\nGradebook: {options.out / 'grades.csv'}; feedback: {options.out / 'feedback'}/")
    if roster is not None:
        exported = canvas.export(roster, result.assignments, result.records, result.students,
                                 args.canvas_out or options.out / canvas.CANVAS_FILE)
        for line in exported.problems():
            print(f"course grade: canvas: {line}", file=sys.stderr)
        print(exported.summary())
    return 0
