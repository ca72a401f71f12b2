"""Grading one student's notebook: ``NOTEBOOK_STEPS``, in order, on a ``Grading``.

1. ``read_submission``: the file's cells, or a status (missing, corrupt, unsupported format).
2. ``take_exercises``: the source of each exercise cell, by the instructor's cell id, else by
   the function it defines; nothing else is taken from the submission.
3. ``build_grading_notebook``: the instructor's setup and check cells around the student's
   exercise code, in the instructor's order (cells nbval is told to skip are left out); with
   its outputs it is kept next to the record, for the instructor to open.
4. ``run_cells``: run it in a fresh kernel, cell by cell, each with its timeout; compare the
   instructor cells' outputs with solutions/ (``validate``, nbval's comparison).
5. ``run_hidden_tests``: run each exercise's hidden cases (``hidden``) through its check, on
   its function in the same kernel, called over the kernel's channel.
6. ``score``: one ``ExerciseResult`` per exercise.

A kernel that dies or hangs costs the exercise whose code was running (its status says what
happened): a new kernel replays the setup and the other exercises' cells, and grading goes
on. A notebook that keeps killing its kernels gets ``MAX_RESTARTS`` new ones, then its
remaining exercises are marked as crashed.
"""

import time
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass, field

from ..cells import CHECK, EXERCISE, SETUP
from .hidden import CallLost, grade, remote_functions
from .kernel import AgentStopped, KernelDied, KernelTimeout
from .submission import exercise_sources

__all__ = ["Grading", "ExerciseResult", "NOTEBOOK_STEPS", "grade_submission", "SETUP_TIMEOUT"]

SETUP_TIMEOUT = 120
"""Seconds a setup cell may take (the instructor's code, run before any student code)."""

MAX_RESTARTS = 6

STATUSES = {
    "passed": "every hidden test passed",
    "partial": "some hidden tests passed",
    "failed": "no hidden test passed",
    "not_attempted": "still the released stub (raises NotImplementedError)",
    "not_defined": "the function is not defined after its cell runs (renamed?)",
    "missing": "no exercise cell for it in the notebook",
    "error": "its cell raised an error and the function was not defined",
    "uses_reference": "it calls course_lib's reference solution, unavailable while grading: 0 points",
    "timeout": "its code ran longer than the timeout",
    "crashed": "its code killed the kernel (segfault, os._exit, memory)",
    "interfered": "its code broke the kernel's connection to the grader",
    "missing_notebook": "the student has no such notebook",
    "corrupt": "the file is not a readable notebook",
    "unsupported_format": "the notebook's format is too old or unknown",
    "grading_error": "the notebook could not be graded (its setup failed): tell the instructor",
}
"""Every exercise status, with its meaning (``course grade --help`` prints them)."""


@dataclass
class ExerciseResult:
    """One row of the gradebook, and what the feedback says about it."""
    exercise: str
    status: str
    score: int
    max_score: int
    message: str
    tests: list = field(default_factory=list)   # [(description, passed, hint)]
    self_check: str = ""                          # the check cell's first line in the grading run
    check_matches: bool | None = None             # nbval: the check printed what the solution's did


class GaveUp(Exception):
    """The notebook cannot be graded further; ``status`` and ``str()`` go to every open exercise."""

    def __init__(self, status, message):
        super().__init__(message)
        self.status = status


class Grading:
    """The state of one submission's grading, passed through ``NOTEBOOK_STEPS``.

    kernels: a function returning a new ``Kernel`` for this job; timeout: seconds per cell and per call.
    """

    def __init__(self, submission, assignment, kernels, timeout, validator):
        self.submission, self.assignment = submission, assignment
        self.kernels, self.timeout, self.validator = kernels, timeout, validator
        self.notes, self.sources, self.cells, self.notebook = [], {}, [], None
        self.blamed, self.cell_errors, self.checks, self.outcomes = {}, {}, {}, {}
        self.setup_problems, self.results = [], []
        self.kernel, self.starts, self.gave_up = None, 0, None
        self.seconds = Counter()   # wall time by activity: kernel start, setup, exercises and checks, hidden tests

    # -- kernels ---------------------------------------------------------------------------

    def kernel_at(self, position):
        """A live kernel in which every setup and exercise cell before ``position`` has run."""
        while self.kernel is None:
            if self.starts > MAX_RESTARTS:
                raise GaveUp("crashed", "the notebook killed its kernel too many times")
            self.starts += 1
            try:
                with self.timed("kernel start"):
                    self.kernel = self.kernels()
            except (KernelDied, KernelTimeout) as e:
                raise GaveUp("grading_error", f"a kernel could not start: {e}") from None
            for graded, cell in self.cells[:position]:
                if graded.role == CHECK or graded.exercise in self.blamed:
                    continue
                try:
                    self.kernel.execute(cell["source"], self.timeout_of(graded))
                except (KernelDied, KernelTimeout, AgentStopped) as e:
                    self.failed(graded, e, "while its cell ran again after a restart")
                    break
        return self.kernel

    @contextmanager
    def timed(self, activity):
        start = time.perf_counter()
        try:
            yield
        finally:
            self.seconds[activity] += time.perf_counter() - start

    def timeout_of(self, graded):
        return max(SETUP_TIMEOUT, self.timeout) if graded.role == SETUP else self.timeout

    def failed(self, graded, error, when):
        """The kernel died or hung while ``graded``'s code ran: blame its exercise (or give up)."""
        self.end_kernel()
        status = {KernelTimeout: "timeout", AgentStopped: "interfered"}.get(type(error), "crashed")
        if graded.exercise is None:
            raise GaveUp("grading_error", f"a setup cell failed: {error}")
        self.blamed[graded.exercise] = (status, f"{error} {when}")

    def end_kernel(self):
        if self.kernel is not None:
            self.kernel.kill()
            self.kernel = None


# --------------------------------------------------------------------------------------
# The steps
# --------------------------------------------------------------------------------------

def read_submission(g):
    g.notes = g.submission.read()


def take_exercises(g):
    if g.submission.status is None:
        ids = {name: g.assignment.exercise_cell(name).cell.get("id") for name in g.assignment.exercises}
        g.sources = exercise_sources(g.submission.cells, ids)


def build_grading_notebook(g):
    if g.submission.status is not None:
        return
    for graded in g.assignment.cells:
        if not graded.run or (graded.exercise is not None and graded.exercise not in g.sources):
            continue
        cell = {**graded.cell, "outputs": [], "execution_count": None}
        if graded.role == EXERCISE:
            cell["source"] = g.sources[graded.exercise][0]
        g.cells.append((graded, cell))
    g.notebook = {"cells": [cell for _, cell in g.cells], "metadata": g.assignment.metadata,
                  "nbformat": 4, "nbformat_minor": 5}


def run_cells(g):
    if g.submission.status is not None:
        return
    for position, (graded, cell) in enumerate(g.cells):
        if graded.exercise in g.blamed:
            continue
        kernel = g.kernel_at(position)
        try:
            with g.timed("setup cells" if graded.role == SETUP else "exercise and check cells"):
                result = kernel.execute(cell["source"], g.timeout_of(graded))
        except (KernelDied, KernelTimeout, AgentStopped) as e:
            g.failed(graded, e, "while its check ran" if graded.role == CHECK else "while its cell ran")
            cell["outputs"] = [{"output_type": "stream", "name": "stderr", "text": f"[grading: {e}]\n"}]
            continue
        cell["outputs"], cell["execution_count"] = result.outputs, position + 1
        _observe(g, graded, result)


def _observe(g, graded, result):
    if graded.role == EXERCISE and result.error:
        ename, evalue = result.error
        g.cell_errors[graded.exercise] = f"{ename}: {evalue.splitlines()[0] if evalue else ''}".strip(": ")
        return
    if graded.role == EXERCISE:
        return
    same, detail = g.validator.same(result.outputs, graded.cell) if graded.compare else (True, "")
    if graded.role == SETUP and (result.error or not same):
        g.setup_problems.append(f"setup cell {graded.index}: " + (": ".join(result.error) if result.error else detail))
        if result.error:
            raise GaveUp("grading_error", f"setup cell {graded.index} raised {result.error[0]}: {result.error[1]}")
    if graded.role == CHECK and graded.exercise is not None:
        text = "".join(o.get("text", "") for o in result.outputs if o.get("output_type") == "stream")
        if result.error:
            text = f"{result.error[0]}: {result.error[1]}"
        g.checks[graded.exercise] = (same, (text.strip().splitlines() or [""])[0][:300])


def run_hidden_tests(g):
    if g.submission.status is not None:
        return
    for name in g.assignment.exercises:
        if name in g.blamed or name not in g.sources:
            continue
        try:
            kernel = g.kernel_at(len(g.cells))
            if name in g.blamed:
                continue
            if kernel.serving is None:
                kernel.serve()
            functions = remote_functions(g.assignment.exercises, kernel, g.timeout)
            with g.timed("hidden tests"):
                g.outcomes[name] = grade(g.assignment.tests[name], functions)
        except CallLost as e:
            g.failed(g.assignment.exercise_cell(name), e.error, "during the hidden tests")
        except (KernelDied, KernelTimeout, AgentStopped) as e:
            g.failed(g.assignment.exercise_cell(name), e, "during the hidden tests")


def score(g):
    for name in g.assignment.exercises:
        g.results.append(_result(g, name))


NOTEBOOK_STEPS = (
    read_submission,
    take_exercises,          # needs the cells read
    build_grading_notebook,  # needs the exercise sources
    run_cells,               # before the tests: they call functions the cells define
    run_hidden_tests,
    score,                   # last: needs every outcome
)
"""The grading of one submission, in order."""


def grade_submission(submission, assignment, kernels, timeout, validator, after_cells=None):
    """Run ``NOTEBOOK_STEPS``; the finished ``Grading`` (its kernel ended, whatever happened).

    after_cells: called with the kernel, if it is alive, once the cells have run (the run uses it
    to learn what the instructor's notebooks import).
    """
    g = Grading(submission, assignment, kernels, timeout, validator)
    try:
        for step in NOTEBOOK_STEPS[:-1]:
            step(g)
            if step is run_cells and after_cells is not None and g.kernel is not None:
                after_cells(g.kernel)
    except GaveUp as e:
        g.gave_up = e
    finally:
        g.end_kernel()
    score(g)
    return g


# --------------------------------------------------------------------------------------
# Scoring one exercise
# --------------------------------------------------------------------------------------

def _result(g, name):
    outcomes = g.outcomes.get(name, [])
    result = ExerciseResult(name, "", 0, len(g.assignment.tests[name]), "",
                            tests=[(o.description, o.passed, o.hint) for o in outcomes])
    if name in g.checks:
        result.check_matches, result.self_check = g.checks[name]
    if g.submission.status is not None:
        result.status, result.message = g.submission.status, g.submission.message
    elif name in g.blamed:
        result.status, result.message = g.blamed[name]
    elif name not in g.sources:
        cell_id = g.assignment.exercise_cell(name).cell.get("id")
        result.status = "missing"
        result.message = f"no cell with id {cell_id!r} and no code cell defining {name}()"
    elif not outcomes and g.gave_up is not None:
        result.status, result.message = g.gave_up.status, str(g.gave_up)
    else:
        _judge(result, outcomes, g.cell_errors.get(name))
    if result.check_matches is False and result.status in ("passed", "partial", "failed"):
        result.message += "; its self-check printed something else than the solution's"
    return result


def _judge(result, outcomes, cell_error):
    kinds = [o.kind for o in outcomes]
    passed = kinds.count("passed")
    total = len(kinds)
    if "reference" in kinds:
        result.status, result.message = "uses_reference", STATUSES["uses_reference"]
        return
    if kinds and all(k == "not_implemented" for k in kinds):
        result.status, result.message = "not_attempted", STATUSES["not_attempted"]
        return
    if kinds and all(k == "not_defined" for k in kinds):
        result.status = "error" if cell_error else "not_defined"
        result.message = f"its cell raised {cell_error}" if cell_error else STATUSES["not_defined"]
        return
    result.score = passed
    result.status = "passed" if passed == total else "partial" if passed else "failed"
    result.message = f"{passed}/{total} hidden tests passed"
    failures = [o for o in outcomes if not o.passed]
    if failures:
        first = failures[0]
        more = f" (and {len(failures) - 1} more)" if len(failures) > 1 else ""
        result.message += f"; failed: {first.description}" + (f": {first.hint}" if first.hint else "") + more
    if cell_error:
        result.message += f"; its cell raised {cell_error}"
