"""The autograder zip: what Gradescope unpacks into ``/autograder/source``.

::

    setup.sh            Gradescope runs it once, as root, building the image (see SETUP_SH)
    run_autograder      Gradescope runs it for each submission (see RUN_AUTOGRADER)
    autograder.json     the settings: notebooks, visibility, timeout, memory, jobs, isolation
    course/             the course's own files, installed by setup.sh with pip (nothing downloaded
                        but the dependencies, from PyPI):
      pyproject.toml, README.md, LICENSE, course_lib/, course_instructor/
      solutions/<notebook>.ipynb        the chosen notebooks (grading builds from them)
      tests/hidden/cases/<exercise>.json   the hidden cases of their exercises
      tests/nbval_sanitize.cfg

Student code never reads the solutions, the hidden cases or course_lib's answers, though they
are in the image: the grader runs kernels in a bubblewrap sandbox (setup.sh installs it) where
those folders are absent, with a copy of course_lib whose answers only raise; where Gradescope's
container refuses the sandbox, kernels run as unprivileged users and ``run_autograder`` and
setup.sh make ``/autograder/source`` unreadable to anyone but root.

The zip is reproducible: the same files give the same bytes (sorted entries, fixed dates).
"""

import json
import re
import shutil
import tempfile
import zipfile
from pathlib import Path

import course_instructor
import course_lib

from ..cells import EXERCISE, NotebookError, cell_role, defined_function, read_notebook
from ..grading.instructor import InstructorCopyError, load_course
from .autograder import SETTINGS
from .results import TEST_VISIBILITIES, VISIBILITIES

__all__ = ["GradescopeError", "Settings", "build", "select_notebooks", "SETUP_SH", "RUN_AUTOGRADER", "VENV"]

VENV = "/opt/course-autograder"
"""Where setup.sh puts the virtual environment (outside /autograder/source, readable by kernels)."""

SETUP_SH = f"""\
#!/usr/bin/env bash
# Gradescope runs this once, as root, on its Ubuntu image, when it builds the autograder.
# It installs the course from the files of this zip (course/) and its dependencies from PyPI.
set -euxo pipefail
SOURCE=/autograder/source
VENV={VENV}
export DEBIAN_FRONTEND=noninteractive
apt-get update
apt-get install -y --no-install-recommends python3 python3-venv python3-pip bubblewrap
python3 -c 'import sys; sys.exit(sys.version_info < (3, 10))' || {{
  echo "setup.sh: the course needs Python 3.10 or newer: choose the Ubuntu 22.04 (or newer) base image" >&2
  exit 1
}}
python3 -m venv "$VENV"
"$VENV/bin/pip" install --upgrade pip
"$VENV/bin/pip" install -e "$SOURCE/course"
# Grade the solutions as a submission: a broken image fails here, not on a student's submission.
PYTHONPATH="$SOURCE/course" "$VENV/bin/python" -m course_instructor.gradescope.autograder --root /autograder --check
# Kernels run as unprivileged users: nothing in the source (solutions, hidden tests, answers) is theirs to read.
chmod -R go-rwx "$SOURCE"
"""

RUN_AUTOGRADER = f"""\
#!/usr/bin/env bash
# Gradescope runs this for each submission, as root: it grades /autograder/submission with the
# course's grader (the same pipeline as `course grade`) and writes /autograder/results/results.json.
# AUTOGRADER_ROOT and AUTOGRADER_PYTHON point it at another root and Python (the course's tests do).
set -uo pipefail
ROOT="${{AUTOGRADER_ROOT:-/autograder}}"
PYTHON="${{AUTOGRADER_PYTHON:-{VENV}/bin/python}}"
export PYTHONPATH="$ROOT/source/course"
cd "$ROOT"
exec "$PYTHON" -m course_instructor.gradescope.autograder --root "$ROOT"
"""

COURSE_FILES = ("pyproject.toml", "README.md", "LICENSE")
EXECUTABLE = ("setup.sh", "run_autograder")
IGNORED = shutil.ignore_patterns("__pycache__", "*.py[co]", ".*")
DATE = (1980, 1, 1, 0, 0, 0)


class GradescopeError(Exception):
    """The package cannot be built; the message says why and what to do."""


class Settings(dict):
    """The package's settings (``autograder.json``)."""

    def __init__(self, notebooks=(), visibility="after_due_date", score_visibility="visible", timeout=10.0,
                 memory_gib=4.0, jobs=1, isolation="auto"):
        if visibility not in TEST_VISIBILITIES:
            raise GradescopeError(f"--visibility {visibility}: the hidden tests' details may be "
                                  f"{', '.join(TEST_VISIBILITIES)}, never visible before the deadline")
        if score_visibility not in VISIBILITIES:
            raise GradescopeError(f"--score-visibility {score_visibility} is not one of {', '.join(VISIBILITIES)}")
        super().__init__(format=1, course_version=course_lib.__version__, notebooks=list(notebooks),
                         visibility=visibility, score_visibility=score_visibility, timeout=float(timeout),
                         memory_gib=float(memory_gib), jobs=int(jobs), isolation=isolation)


def checkout():
    """The folder holding pyproject.toml next to the installed course_lib (an instructor's checkout)."""
    root = Path(course_lib.__file__).resolve().parent.parent
    if not (root / "pyproject.toml").is_file():
        raise GradescopeError(f"no pyproject.toml next to course_lib ({root}): build the package from the course's "
                              "checkout, installed with pip install -e")
    return root


def select_notebooks(solutions, wanted=None):
    """The stems of the notebooks of ``solutions`` named by ``wanted`` ("01", "1", "01_gradient_descent",
    "01_gradient_descent.ipynb"); every notebook when ``wanted`` is empty."""
    available = sorted(p.stem for p in Path(solutions).glob("*.ipynb"))
    if not available:
        raise GradescopeError(f"{solutions} holds no notebooks: pass the instructor's solutions/ folder")
    if not wanted:
        return available
    chosen = []
    for name in wanted:
        stem = name[:-len(".ipynb")] if name.endswith(".ipynb") else name
        fits = [a for a in available if a == stem or (stem.isdigit() and re.match(r"\d+", a)
                                                      and int(re.match(r"\d+", a).group()) == int(stem))]
        if len(fits) != 1:
            raise GradescopeError(f"--notebook {name}: no such notebook in {solutions} (there are "
                                  f"{', '.join(available)})")
        if fits[0] not in chosen:
            chosen.append(fits[0])
    return sorted(chosen)


def exercise_names(path):
    """The functions the exercise cells of the notebook at ``path`` define (none if it does not read:
    ``load_course`` then says what is wrong with it)."""
    try:
        return [defined_function(c["source"]) for c in read_notebook(path)["cells"] if cell_role(c) == EXERCISE]
    except NotebookError:
        return []


def stage(folder, solutions, hidden, notebooks, settings):
    """Lay the package's files out in ``folder`` (its future /autograder/source)."""
    folder = Path(folder)
    course = folder / "course"
    root = checkout()
    course.mkdir(parents=True)
    for name in COURSE_FILES:
        if (root / name).is_file():
            shutil.copyfile(root / name, course / name)
    for package in (course_lib, course_instructor):
        source = Path(package.__file__).resolve().parent
        shutil.copytree(source, course / source.name, ignore=IGNORED)
    (course / "solutions").mkdir()
    for notebook in notebooks:
        shutil.copyfile(Path(solutions) / f"{notebook}.ipynb", course / "solutions" / f"{notebook}.ipynb")
    tests = course / "tests"
    (tests / "hidden" / "cases").mkdir(parents=True)
    for notebook in notebooks:   # the hidden cases of the chosen notebooks' exercises
        for exercise in exercise_names(Path(solutions) / f"{notebook}.ipynb"):
            case_file = Path(hidden) / "cases" / f"{exercise}.json"
            if case_file.is_file():
                shutil.copyfile(case_file, tests / "hidden" / "cases" / case_file.name)
    if (Path(hidden) / "README.md").is_file():
        shutil.copyfile(Path(hidden) / "README.md", tests / "hidden" / "README.md")
    sanitize = Path(hidden).parent / "nbval_sanitize.cfg"
    if sanitize.is_file():
        shutil.copyfile(sanitize, tests / "nbval_sanitize.cfg")
    (folder / "setup.sh").write_text(SETUP_SH, encoding="utf-8")
    (folder / "run_autograder").write_text(RUN_AUTOGRADER, encoding="utf-8")
    (folder / SETTINGS).write_text(json.dumps(settings, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    try:
        return load_course(course / "solutions", tests / "hidden")
    except InstructorCopyError as e:
        raise GradescopeError(f"broken instructor copy: {e}") from None


def write_zip(folder, out):
    """Zip the files under ``folder`` (paths relative to it) into ``out``, reproducibly."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.tmp")
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(p for p in Path(folder).rglob("*") if p.is_file()):
            name = path.relative_to(folder).as_posix()
            info = zipfile.ZipInfo(name, DATE)
            info.external_attr = (0o100755 if name in EXECUTABLE else 0o100644) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, path.read_bytes())
    tmp.replace(out)


def build(out, solutions, hidden, notebooks=None, **settings):
    """Write the autograder zip ``out`` for ``notebooks`` (names as ``select_notebooks`` takes them);
    returns ``(notebooks, assignments)``. ``settings``: those of ``Settings``."""
    chosen = select_notebooks(solutions, notebooks)
    config = Settings(chosen, **settings)
    with tempfile.TemporaryDirectory(prefix="course-gradescope-") as tmp:
        assignments = stage(Path(tmp) / "source", solutions, hidden, chosen, config)
        write_zip(Path(tmp) / "source", out)
    return chosen, assignments
