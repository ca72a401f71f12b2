"""The instructor's copy: what grading trusts (solutions/ and tests/hidden/), read and checked once.

``load_course(solutions, hidden)`` reads every ``solutions/*.ipynb`` with the release helper's
own reader and checks (``cells.read_notebook``, ``release.validate``) and pairs each exercise
with its check cell and its hidden cases (``tests/hidden/cases/<exercise>.json``). It raises
``InstructorCopyError`` (and grading stops before touching any submission) when a notebook
breaks the conventions, a case file does not read, or an exercise has no hidden cases.

An ``Assignment`` holds the graded cells of one notebook, in order: its setup cells, and each
exercise cell followed by its check, with what nbval would do with each (run it? compare its
outputs?). Untagged cells (demos) and instructor cells are left out: grading never runs them.
"""

import ast
import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

from .. import release
from ..cells import CHECK, EXERCISE, SETUP, NotebookError, cell_role, defined_function, read_notebook
from .hidden import HiddenCasesError, load_hidden

__all__ = ["Assignment", "GradedCell", "InstructorCopyError", "load_course", "course_digest", "setup_imports"]

GRADED_ROLES = (SETUP, EXERCISE, CHECK)


class InstructorCopyError(Exception):
    """solutions/ or tests/hidden/cases/ cannot be graded with; the message says what to fix."""


@dataclass(frozen=True)
class GradedCell:
    """One cell of the grading notebook, as the instructor wrote it.

    role: setup, exercise or check. exercise: the function an exercise cell defines, or the
    exercise a check cell checks (None for setup). run / compare: nbval's markers
    (NBVAL_SKIP, NBVAL_IGNORE_OUTPUT, as comments or tags) on the instructor's cell.
    """
    index: int
    role: str
    exercise: str | None
    cell: dict
    run: bool = True
    compare: bool = True


@dataclass
class Assignment:
    """One course notebook as grading sees it."""
    notebook: str                  # "02_momentum"
    path: Path
    cells: list                    # [GradedCell], notebook order
    exercises: list                # function names, notebook order
    tests: dict                    # {function name: hidden.HiddenCases}
    metadata: dict = field(default_factory=dict)   # the notebook's, for the grading notebook
    fingerprint: str = field(default="")

    def check_of(self, exercise):
        return next((c for c in self.cells if c.role == CHECK and c.exercise == exercise), None)

    def exercise_cell(self, exercise):
        return next(c for c in self.cells if c.role == EXERCISE and c.exercise == exercise)


def load_course(solutions, hidden, salt=""):
    """``[Assignment]`` for every notebook of ``solutions`` (name order). ``salt`` goes into each
    fingerprint (the grader's version and course_lib's digest: results graded with other code
    are graded again)."""
    solutions, hidden = Path(solutions), Path(hidden)
    paths = sorted(solutions.glob("*.ipynb"))
    if not paths:
        raise InstructorCopyError(f"{solutions} holds no notebooks: pass the instructor's solutions/ folder")
    try:
        cases = load_hidden(hidden)
    except HiddenCasesError as e:
        raise InstructorCopyError(str(e)) from None
    return [_assignment(path, cases, salt) for path in paths]


def _assignment(path, cases, salt):
    try:
        nb = release.validate(read_notebook(path))
        cells = _graded_cells(nb)
    except NotebookError as e:
        raise InstructorCopyError(str(e.locate(path=path))) from None
    exercises = [c.exercise for c in cells if c.role == EXERCISE]
    untested = [name for name in exercises if name not in cases]
    if untested:
        raise InstructorCopyError(f"{path.name}: no hidden cases for {', '.join(untested)}: add them to the catalogue "
                                  f"(course_instructor/cases) and run `python -m course_instructor.cases.build`")
    assignment = Assignment(path.stem, path, cells, exercises, {name: cases[name] for name in exercises},
                            nb.get("metadata", {}))
    assignment.fingerprint = _fingerprint(assignment, salt)
    return assignment


def _graded_cells(nb):
    from nbval.plugin import find_comment_markers, find_metadata_tags

    cells, last_exercise = [], None
    for index, cell in enumerate(nb["cells"]):
        role = cell_role(cell)
        if role not in GRADED_ROLES:
            continue
        if role == EXERCISE:
            last_exercise = defined_function(cell["source"])
        markers = dict(find_comment_markers(cell["source"]))
        markers.update(find_metadata_tags(cell["metadata"]))
        cells.append(GradedCell(index, role, None if role == SETUP else last_exercise, cell,
                                run=not markers.get("skip", False), compare=markers.get("check", True)))
    return cells


def setup_imports(assignments):
    """The modules the setup cells import (``import a.b`` gives a.b; ``from a import b`` gives a and
    a.b, which may be a module): the kernel host imports them once, before the first kernel."""
    modules = set()
    for assignment in assignments:
        for graded in assignment.cells:
            if graded.role != SETUP:
                continue
            lines = graded.cell["source"].splitlines()
            code = "\n".join(line for line in lines if not line.lstrip().startswith(("%", "!")))  # magics
            try:
                tree = ast.parse(code)
            except SyntaxError:
                continue
            for node in ast.walk(tree):
                if isinstance(node, ast.Import):
                    modules.update(alias.name for alias in node.names)
                elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                    modules.add(node.module)
                    modules.update(f"{node.module}.{alias.name}" for alias in node.names)
    return sorted(modules)


def _fingerprint(assignment, salt):
    """Changes when anything that decides a grade changes: the graded cells, the hidden cases, ``salt``."""
    digest = hashlib.sha256(salt.encode())
    for graded in assignment.cells:
        digest.update(json.dumps([graded.role, graded.cell["source"], graded.cell.get("outputs", [])],
                                 sort_keys=True, default=str).encode())
    for name in sorted(assignment.tests):
        digest.update(assignment.tests[name].path.read_bytes())
    return digest.hexdigest()[:16]


def course_digest(package):
    """A digest of a package's files (course_lib: the references and the checks' data; course_instructor:
    the grader and the cases)."""
    digest = hashlib.sha256()
    for path in sorted(Path(package).rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts:
            digest.update(str(path.relative_to(package)).encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:16]
