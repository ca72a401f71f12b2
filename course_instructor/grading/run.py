"""Grading a class: ``RUN_STEPS``, in order, on a ``Run``.

1. ``open_gradebook``: check the folders; lock GRADES (one grader at a time).
2. ``load_instructor_copy``: solutions/ and tests/hidden/, checked (``instructor``).
3. ``open_sandbox``: how kernels are isolated (bubblewrap, or refuse unless the instructor allows
   grading unisolated), the blocked copy of course_lib, one kernel host per job (``sandbox``,
   ``host``, ``kernel.KernelHosts``).
4. ``check_instructor_copy``: grade the solutions themselves, twice (before and after the
   kernel host imports what the notebooks import): every exercise must pass every hidden test
   and every instructor cell must print what solutions/ stored. Otherwise stop: grading
   students against a broken copy would be unfair.
5. ``collect_submissions``: who submitted what (``submission``).
6. ``grade_submissions``: every student x notebook without a current record, ``jobs`` at a
   time, each saved as its record the moment it is graded (``notebook``, ``records``).
7. ``write_gradebook``: grades.csv and feedback/ from all records (``report``).

``GradingError`` is the only way the run fails: it means nothing could be graded (no such
folder, a broken instructor copy, another grader on the same GRADES).
"""

import fcntl
import sys
from collections import Counter
import threading
import time
import traceback
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from types import SimpleNamespace
from pathlib import Path

import course_instructor
import course_lib

from course_lib.paths import course_root
from .instructor import InstructorCopyError, course_digest, load_course, setup_imports
from .kernel import Kernel, KernelHosts
from .notebook import ExerciseResult, grade_submission
from .records import Record, load_record, save_record
from . import report
from .sandbox import INSTALL_BWRAP, IsolationUnavailable, Limits, Sandbox, choose_isolation
from .submission import Submission, collect
from .validate import Validator

__all__ = ["Options", "Run", "RUN_STEPS", "grade_class", "GradingError", "GRADER_VERSION"]

GRADER_VERSION = "1"
"""Part of every record's fingerprint: bump it when a change to grading changes grades."""

SOLUTIONS = "(solutions)"
"""The student name under which the instructor's copy is graded in step 4."""

EXCLUDED_PRELOADS = ("__main__", "tqdm.auto", "tqdm.autonotebook", "tqdm.notebook")
"""Modules the host must not import before forking: they look for IPython when imported."""


class GradingError(Exception):
    """The class cannot be graded at all; the message says why and what to do."""


@dataclass
class Options:
    """What ``course grade`` was asked (see ``course grade --help``)."""
    submissions: Path
    out: Path
    jobs: int = 1
    timeout: float = 10.0
    students: list | None = None
    solutions: Path | None = None
    hidden: Path | None = None
    sanitize: Path | None = None
    isolation: str = "auto"          # auto (bubblewrap, else refuse), bwrap, uid, none
    allow_unisolated: bool = False   # auto: grade without isolation where bubblewrap cannot work
    memory_gib: float = 4.0
    progress: bool = True

    def __post_init__(self):
        root = course_root()
        self.submissions, self.out = Path(self.submissions), Path(self.out)
        self.solutions = Path(self.solutions or root / "solutions")
        self.hidden = Path(self.hidden or root / "tests" / "hidden")
        default_sanitize = root / "tests" / "nbval_sanitize.cfg"
        self.sanitize = self.sanitize or (default_sanitize if default_sanitize.exists() else None)


@dataclass
class Run:
    options: Options
    assignments: list = field(default_factory=list)
    sandbox: Sandbox | None = None
    host: KernelHosts | None = None
    lock: object = None
    students: list = field(default_factory=list)
    submissions: list = field(default_factory=list)
    notes: list = field(default_factory=list)
    records: dict = field(default_factory=dict)   # (student, notebook) -> Record
    reused: int = 0
    warnings: list = field(default_factory=list)
    started: float = field(default_factory=time.monotonic)
    progress: object = None
    text: str = ""
    step_seconds: dict = field(default_factory=dict)   # wall time of each of RUN_STEPS
    seconds: Counter = field(default_factory=Counter)  # summed over graded submissions, by activity

    def close(self):
        if self.host is not None:
            self.host.close()
        if self.sandbox is not None:
            self.sandbox.close()
        if self.lock is not None:
            self.lock.close()


# --------------------------------------------------------------------------------------
# The steps
# --------------------------------------------------------------------------------------

def open_gradebook(run):
    o = run.options
    if not o.submissions.is_dir():
        raise GradingError(f"{o.submissions} is not a folder: pass the folder holding one folder per student")
    o.out.mkdir(parents=True, exist_ok=True)
    run.lock = open(o.out / ".lock", "w")
    try:
        fcntl.flock(run.lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        raise GradingError(f"another `course grade` is writing {o.out}: wait for it to finish") from None


def load_instructor_copy(run):
    o = run.options
    packages = (Path(course_lib.__file__).parent, Path(course_instructor.__file__).parent)
    salt = f"{GRADER_VERSION}:{':'.join(course_digest(p) for p in packages)}:{o.timeout}"
    try:
        run.assignments = load_course(o.solutions, o.hidden, salt)
    except InstructorCopyError as e:
        raise GradingError(f"broken instructor copy: {e}") from None


def open_sandbox(run):
    o = run.options
    try:
        mode, detail = choose_isolation(o.isolation, o.allow_unisolated)
    except IsolationUnavailable as e:
        raise GradingError(f"{e}\nWhat to do: {INSTALL_BWRAP}.") from None
    hide = [o.solutions, o.hidden, o.hidden.parent, o.submissions, o.out]
    run.sandbox = Sandbox.create(hide, o.jobs, Limits(memory=int(o.memory_gib * 2**30)))
    run.warnings += run.sandbox.warnings
    try:
        run.host = KernelHosts(run.sandbox, mode, detail, setup_imports(run.assignments))
    except RuntimeError as e:
        raise GradingError(f"cannot start kernels: {e}") from None
    if mode != "bwrap":
        run.warnings.append(f"student code was not isolated ({detail}): grade untrusted notebooks with bubblewrap "
                            f"({INSTALL_BWRAP.split(', or pass')[0]})")


def check_instructor_copy(run):
    modules = set()
    for attempt in ("cold", "warm"):
        gradings = _parallel(run, [Submission(SOLUTIONS, a.notebook, a.path) for a in run.assignments],
                             collect_modules=modules if attempt == "cold" else None)
        for grading in gradings:
            problems = [f"{r.exercise}: {r.status}: {r.message}" for r in grading.results if r.status != "passed"]
            problems += [f"{r.exercise}: its self-check printed something else than solutions/ stores"
                         for r in grading.results if r.check_matches is False]
            problems += grading.setup_problems
            if problems:
                raise GradingError(f"broken instructor copy: {grading.submission.path}, graded as a student, "
                                   f"does not pass ({attempt} kernel):\n  " + "\n  ".join(problems))
        if attempt == "cold":
            run.host.preload(m for m in modules if not m.startswith(EXCLUDED_PRELOADS))


def collect_submissions(run):
    o = run.options
    run.students, run.submissions, run.notes = collect(o.submissions, [a.notebook for a in run.assignments])
    if o.students:
        unknown = sorted(set(o.students) - set(run.students))
        if unknown:
            raise GradingError(f"no folder for {', '.join(unknown)} in {o.submissions}")


def grade_submissions(run):
    o = run.options
    fingerprints = {a.notebook: a.fingerprint for a in run.assignments}
    todo = []
    for sub in run.submissions:
        sub_digest = sub.current_digest()   # never through a symbolic link
        forced = o.students is not None and sub.student in o.students
        record = None if forced else load_record(o.out, sub.student, sub.notebook, sub_digest,
                                                 fingerprints[sub.notebook])
        if record is None:
            todo.append(sub)
        else:
            run.records[(sub.student, sub.notebook)] = record
    run.reused = len(run.records)
    _parallel(run, todo, save=True)


def write_gradebook(run):
    o = run.options
    records = [run.records[key] for key in sorted(run.records)]
    report.write_gradebook(o.out, records, run.notes)
    limits = run.sandbox.limits
    processes = f"{limits.processes} processes, " if run.host.isolation != "none" else ""
    isolation = (f"{run.host.isolation}: {run.host.detail}; each kernel at most {limits.memory / 2**30:g} GiB "
                 f"of memory per process, {processes}files of {limits.file_size // 2**20} MiB, "
                 f"{o.timeout:g} s per cell and per call")
    if run.host.restarts:
        isolation += f"; {run.host.restarts} kernel host(s) started again after a kernel they could not clean up"
    run.text = report.summary(records, run.notes, time.monotonic() - run.started, o.jobs, isolation, run.reused,
                              run.warnings)


RUN_STEPS = (
    open_gradebook,
    load_instructor_copy,
    open_sandbox,            # needs the graded functions' names (to block them)
    check_instructor_copy,   # needs kernels; before any student is graded
    collect_submissions,
    grade_submissions,
    write_gradebook,         # last: from every record, old and new
)
"""The grading of a class, in order."""


def grade_class(options, progress=None):
    """Run ``RUN_STEPS``; the finished ``Run`` (``run.text`` is the summary). Raises ``GradingError``.

    progress: called with ``(done, total)`` after each graded submission (None: silent).
    """
    run = Run(options, progress=progress)
    try:
        for step in RUN_STEPS:
            start = time.perf_counter()
            step(run)
            run.step_seconds[step.__name__] = time.perf_counter() - start
    finally:
        run.close()
    return run


# --------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------

def _parallel(run, submissions, save=False, collect_modules=None):
    """Grade ``submissions`` with ``jobs`` kernels at a time; the gradings in the same order."""
    o = run.options
    by_name = {a.notebook: a for a in run.assignments}
    slots, lock, done = list(range(o.jobs)), threading.Lock(), [0]

    def grade(sub):
        with lock:
            slot = slots.pop()
        try:
            grading = _grade_one(run, sub, by_name[sub.notebook], slot, collect_modules)
        finally:
            with lock:
                slots.append(slot)
        if save:
            record = Record(sub.student, sub.notebook, sub.digest, by_name[sub.notebook].fingerprint,
                            grading.results, [(n.file, n.status, n.message) for n in grading.notes],
                            grading.setup_problems, getattr(grading, "notebook", None))
            if not grading.internal_error:
                save_record(o.out, record)
            with lock:
                run.records[(sub.student, sub.notebook)] = record
                run.seconds.update(getattr(grading, "seconds", {}))
                done[0] += 1
                if run.progress:
                    run.progress(done[0], len(submissions))
        return grading

    with ThreadPoolExecutor(max_workers=o.jobs, thread_name_prefix="grade") as pool:
        return list(pool.map(grade, submissions))


def _grade_one(run, sub, assignment, slot, collect_modules):
    o = run.options
    validator = Validator(o.sanitize)
    after_cells = None
    if collect_modules is not None:
        def after_cells(kernel):
            result = kernel.execute("import sys as _sys\nprint('\\n'.join(sorted(_sys.modules)))", o.timeout)
            collect_modules.update("".join(x.get("text", "") for x in result.outputs).split())
    try:
        grading = grade_submission(sub, assignment, lambda: Kernel(run.host, slot), o.timeout, validator,
                                   after_cells=after_cells)
        grading.internal_error = False
    except Exception:  # noqa: BLE001 (a bug in grading costs one notebook, loudly, and is retried next run)
        detail = traceback.format_exc()
        print(f"course grade: internal error while grading {sub.student}/{sub.notebook}:\n{detail}", file=sys.stderr)
        grading = _failed_grading(sub, assignment, detail.strip().splitlines()[-1])
    return grading


def _failed_grading(sub, assignment, why):
    """What a grading that crashed the grader itself leaves: every exercise a grading_error."""
    results = [ExerciseResult(name, "grading_error", 0, len(assignment.tests[name]),
                              f"internal error in the grader ({why}): tell the instructor")
               for name in assignment.exercises]
    return SimpleNamespace(submission=sub, notes=[], setup_problems=[], results=results, internal_error=True)
