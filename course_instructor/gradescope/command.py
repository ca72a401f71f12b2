"""``course gradescope``: build the Gradescope autograder zip from solutions/ and tests/hidden/."""

import argparse
import sys
from pathlib import Path

from course_lib.paths import course_root
from ..cells import shown_path
from .package import GradescopeError, build
from .results import TEST_VISIBILITIES, VISIBILITIES, WHEN

DESCRIPTION = """\
Build a Gradescope autograder (a zip to upload in the assignment's Configure Autograder page,
on an Ubuntu 22.04 or newer base image) from solutions/ and tests/hidden/.

On Gradescope, each submission (the student's notebooks, uploaded as files or a zip, at the top
or in folders) is graded by the same pipeline as `course grade`: the solutions are graded first,
then each notebook in a fresh, isolated kernel, then the hidden tests. results.json has one
test per exercise (01_gradient_descent: numerical_gradient), worth one point per hidden test,
with what the feedback file says of it; its details are shown --visibility (default: after the
due date), never before the deadline. The total score and which notebooks were found are shown
at once (--score-visibility).

The zip holds setup.sh (installs Python, a virtual environment in /opt/course-autograder and
the course from the zip's own files, its dependencies from PyPI; then grades the solutions as a
submission, so a broken image fails at upload), run_autograder, autograder.json (these
settings) and course/ (course_lib, course_instructor, the chosen solutions and their hidden
tests). Student code cannot read the solutions: kernels run as unprivileged users, in mount
namespaces where they are empty, and /autograder/source is made unreadable to all but root.
Where kernels could only run as root, the autograder grades nothing and says so.
"""


def register(subparsers):
    p = subparsers.add_parser("gradescope", help="build a Gradescope autograder zip from solutions/ and tests/hidden/",
                              description=DESCRIPTION, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", metavar="ZIP", default="autograder.zip", help="the zip to write (default: autograder.zip)")
    p.add_argument("--notebook", action="append", metavar="NAME", dest="notebooks",
                   help="grade only this notebook (01, 01_gradient_descent; repeatable; default: every notebook)")
    p.add_argument("--visibility", choices=TEST_VISIBILITIES, default="after_due_date",
                   help="when students see each exercise's hidden-test results (default: after_due_date)")
    p.add_argument("--score-visibility", choices=VISIBILITIES, default="visible",
                   help="when students see their total score and which notebooks were graded (default: visible)")
    p.add_argument("--timeout", type=float, default=10.0, metavar="S",
                   help="seconds each cell and each hidden-test call may take (default 10)")
    p.add_argument("--memory", type=float, default=4.0, metavar="GIB", help="memory limit of a kernel (default 4)")
    p.add_argument("--jobs", "-j", type=int, default=1, metavar="N", help="notebooks graded at once (default 1)")
    p.add_argument("--isolation", choices=["auto", "bwrap", "uid"], default="auto",
                   help="how to isolate kernels on Gradescope (default: the strongest that works there)")
    p.add_argument("--solutions", metavar="DIR", help="the instructor's notebooks (default: solutions/)")
    p.add_argument("--hidden-tests", metavar="DIR", dest="hidden", help="the hidden tests (default: tests/hidden/)")
    p.set_defaults(func=run)


def run(args):
    if args.jobs < 1 or args.timeout <= 0 or args.memory <= 0:
        print("course gradescope: --jobs, --timeout and --memory must be positive", file=sys.stderr)
        return 2
    root = course_root()
    solutions = Path(args.solutions or root / "solutions")
    hidden = Path(args.hidden or root / "tests" / "hidden")
    try:
        notebooks, assignments = build(args.out, solutions, hidden, args.notebooks, visibility=args.visibility,
                                       score_visibility=args.score_visibility, timeout=args.timeout,
                                       memory_gib=args.memory, jobs=args.jobs, isolation=args.isolation)
    except (GradescopeError, OSError) as e:
        print(f"course gradescope: {e}", file=sys.stderr)
        return 2
    exercises = sum(len(a.exercises) for a in assignments)
    points = sum(len(a.tests[name]) for a in assignments for name in a.exercises)
    print(f"Wrote {shown_path(args.out)}: {len(notebooks)} notebook{'s' if len(notebooks) != 1 else ''} "
          f"({', '.join(notebooks)}), {exercises} exercises, {points} points (one per hidden test).")
    print(f"Each exercise's result {WHEN[args.visibility].replace('(not shown to you)', '(never shown to students)')}"
          f"; the total score: {args.score_visibility}.")
    print("Upload it in Gradescope: the assignment's Configure Autograder, Zip file upload, base image Ubuntu 22.04 "
          "or newer; students submit their .ipynb files.")
    return 0
