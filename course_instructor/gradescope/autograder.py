"""What runs on Gradescope: grade ``/autograder/submission`` and write ``results/results.json``.

``run_autograder`` (in the package) runs ``python -m course_instructor.gradescope.autograder``,
with the course's own copy (``/autograder/source/course``) first on the path. Steps:

1. ``protect``: as root, make ``source/`` (solutions, hidden tests, course_lib's answers)
   unreadable by anyone else (kernels run as unprivileged users; in a bubblewrap sandbox they
   do not see those folders at all), the results folder writable by root only, and the submission's
   metadata (which holds earlier results) private.
2. ``gather``: copy the submission's notebooks (``*.ipynb``, at the top or in folders, never
   through a symbolic link) into a private folder ``submissions/submission/``, a class of one.
3. ``grade_class``: the pipeline of ``course grade`` (``run.RUN_STEPS``: the solutions graded
   first, each notebook in a fresh isolated kernel, the hidden tests), with the package's
   solutions/ and tests/hidden/ and its settings (``autograder.json``): the scores are ``course
   grade``'s. Where bubblewrap cannot work, kernels run as unprivileged users (``uid``); one step
   is added (``require_isolation``): where they could only run as the grader's user, nothing is
   graded.
4. ``results.json`` from the records (``results``), written atomically; the summary ``course
   grade`` prints goes to stdout (the instructor sees it; students do not).

A broken instructor copy, or a bug, still writes a results.json (score 0, saying so) and exits 1.
``--check`` grades the package's own solutions as a submission in a temporary folder and exits
1 unless they get every point: setup.sh runs it, so a broken image fails at upload, not on a
student.

``AUTOGRADER_ROOT`` (or ``--root``) replaces ``/autograder`` (the course's tests use it).
"""

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
import traceback
from pathlib import Path

from ..cells import write_text
from ..grading.run import RUN_STEPS, GradingError, Options, Run, open_sandbox
from .results import check_results, error_results, results

__all__ = ["STUDENT", "SETTINGS", "Layout", "gather", "grade", "check", "main"]

STUDENT = "submission"
"""The folder name the one student of the class gets."""

SETTINGS = "autograder.json"
"""The package's settings, at the top of the zip (so /autograder/source/autograder.json)."""

SKIPPED_FOLDERS = ("__MACOSX", "__pycache__")


class Layout:
    """The folders of an autograder root (``/autograder`` on Gradescope)."""

    def __init__(self, root):
        self.root = Path(root)
        self.source = self.root / "source"
        self.course = self.source / "course"
        self.submission = self.root / "submission"
        self.results = self.root / "results"
        self.metadata = self.root / "submission_metadata.json"


def load_settings(source):
    return json.loads((Path(source) / SETTINGS).read_text(encoding="utf-8"))


def protect(layout):
    """As root: nobody else may enter source/, write in results/ or read the submission's metadata."""
    if os.geteuid() != 0:
        return
    layout.source.chmod(0o700)
    if layout.results.is_dir() and not layout.results.is_symlink():
        os.chown(layout.results, 0, 0)
        layout.results.chmod(0o755)
    if layout.metadata.is_file() and not layout.metadata.is_symlink():
        layout.metadata.chmod(0o600)


def require_isolation(run):
    """Stop before any kernel runs unless kernels run sandboxed or as unprivileged users (bwrap or uid)."""
    if run.host.isolation == "none":
        raise GradingError(f"kernels cannot be isolated here ({run.host.detail}): student code would run as root "
                           "and could read the solutions, so nothing was graded")


STEPS = RUN_STEPS[:RUN_STEPS.index(open_sandbox) + 1] + (require_isolation,) + \
    RUN_STEPS[RUN_STEPS.index(open_sandbox) + 1:]
"""``course grade``'s pipeline (``run.RUN_STEPS``), with a guard once the kernels' isolation is known."""


def grade_class(options):
    """``run.grade_class`` with ``STEPS``: the finished ``Run``; raises ``GradingError``."""
    run = Run(options)
    try:
        for step in STEPS:
            step(run)
    finally:
        run.close()
    return run


def gather(submission, dest):
    """Copy every notebook of the folder ``submission`` into ``dest`` (flat); returns notes ``(file,
    message)``. A name found twice is taken from the shallowest folder; links are never followed."""
    dest.mkdir(parents=True, exist_ok=True)
    found, notes = {}, []
    if not submission.is_dir():
        return [("(submission)", "nothing was submitted")]
    for folder, dirs, files in os.walk(submission):
        dirs[:] = sorted(d for d in dirs if not d.startswith(".") and d not in SKIPPED_FOLDERS)
        here = Path(folder)
        for name in sorted(files):
            path = here / name
            relative = str(path.relative_to(submission))
            if not name.lower().endswith(".ipynb") or name.startswith("."):
                continue
            if path.is_symlink() or not path.is_file():
                notes.append((relative, "a symbolic link, not a notebook: not graded (upload the notebook itself)"))
                continue
            depth = len(path.relative_to(submission).parts)
            found.setdefault(name, []).append((depth, relative, path))
    for name, copies in sorted(found.items()):
        copies.sort()
        _, relative, path = copies[0]
        shutil.copyfile(path, dest / name, follow_symlinks=False)
        if relative != name:
            notes.append((relative, f"graded as {name}"))
        notes += [(other, f"another {name}: ignored (graded {relative})") for _, other, _ in copies[1:]]
    return notes


def grade(layout, settings=None):
    """Grade ``layout.submission``; the results.json object (not written)."""
    start = time.monotonic()
    settings = settings or load_settings(layout.source)
    course = layout.course
    work = Path(tempfile.mkdtemp(prefix="course-autograder-"))
    try:
        notes = gather(layout.submission, work / "submissions" / STUDENT)
        sanitize = course / "tests" / "nbval_sanitize.cfg"
        options = Options(work / "submissions", work / "grades", jobs=settings.get("jobs", 1),
                          timeout=settings.get("timeout", 10.0), solutions=course / "solutions",
                          hidden=course / "tests" / "hidden", sanitize=sanitize if sanitize.exists() else None,
                          isolation=settings.get("isolation", "auto"), memory_gib=settings.get("memory_gib", 4.0),
                          allow_unisolated=True)   # where bubblewrap cannot work: uid, as root (require_isolation)
        try:
            run = grade_class(options)
        except GradingError as e:
            print(f"course autograder: {e}", file=sys.stderr)
            return error_results(str(e).splitlines()[0], time.monotonic() - start)
        print(run.text)
        records = {notebook: record for (student, notebook), record in run.records.items() if student == STUDENT}
        notes_of = [n for n in run.notes if n.student == STUDENT]
        data = results(run.assignments, records, notes_of, settings, time.monotonic() - start, notes)
        data["extra_data"]["isolation"] = f"{run.host.isolation}: {run.host.detail}"
        return data
    finally:
        shutil.rmtree(work, ignore_errors=True)


def write_results(layout, data):
    layout.results.mkdir(parents=True, exist_ok=True)
    write_text(layout.results / "results.json", json.dumps(data, indent=1, ensure_ascii=False) + "\n")


def run(layout):
    """Grade and write results.json; the exit code (0 graded, 1 not)."""
    code = 0
    try:
        protect(layout)
        data = grade(layout)
        if data["extra_data"].get("error"):
            code = 1
    except Exception:  # noqa: BLE001 (whatever happens, Gradescope gets a results.json that says so)
        detail = traceback.format_exc()
        print(f"course autograder: internal error:\n{detail}", file=sys.stderr)
        data, code = error_results(f"internal error ({detail.strip().splitlines()[-1]})"), 1
    problems = check_results(data)
    if problems:
        print("course autograder: results.json does not fit Gradescope's format: " + "; ".join(problems),
              file=sys.stderr)
        data, code = error_results("internal error (results.json does not fit Gradescope's format)"), 1
    write_results(layout, data)
    print(f"\nScore {data['score']}; results: {layout.results / 'results.json'}")
    return code


def check(layout):
    """Grade the package's solutions as a submission (in a temporary root); 0 when they get every point."""
    with tempfile.TemporaryDirectory(prefix="course-autograder-check-") as tmp:
        trial = Layout(tmp)
        trial.submission.mkdir()
        for notebook in sorted((layout.course / "solutions").glob("*.ipynb")):
            shutil.copyfile(notebook, trial.submission / notebook.name)
        data = grade(trial_layout(layout, trial), load_settings(layout.source))
    problems = check_results(data)
    possible = data.get("extra_data", {}).get("points_possible")
    if problems or data["score"] != possible or possible is None:
        print("course autograder: the solutions, graded as a submission, do not get every point:\n"
              + (data["output"] if not problems else "; ".join(problems)), file=sys.stderr)
        return 1
    print(f"course autograder: the solutions get {data['score']} / {possible}: the autograder works "
          f"({data['extra_data']['isolation']}).")
    return 0


def trial_layout(layout, trial):
    """``layout``'s source with ``trial``'s submission and results."""
    mixed = Layout(layout.root)
    mixed.submission, mixed.results, mixed.metadata = trial.submission, trial.results, trial.metadata
    return mixed


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m course_instructor.gradescope.autograder",
                                     description="Grade a Gradescope submission with the course's grader.")
    parser.add_argument("--root", default=os.environ.get("AUTOGRADER_ROOT", "/autograder"),
                        help="the autograder folder (default: $AUTOGRADER_ROOT, else /autograder)")
    parser.add_argument("--check", action="store_true",
                        help="grade the package's solutions as a submission; exit 1 unless they get every point")
    args = parser.parse_args(argv)
    layout = Layout(args.root)
    return check(layout) if args.check else run(layout)


if __name__ == "__main__":
    sys.exit(main())
