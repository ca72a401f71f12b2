"""What students receive: ``course release --bundle DIR [--reveal 01,02]``.

A bundle is a folder a student can ``pip install -e .`` and open in JupyterLab:

- ``notebooks/``: a fresh release of ``solutions/`` (stubs, no outputs, no instructor cells);
- ``course_lib/``: the student's library, in which every module of ``course_lib.reference`` is
  stubbed (each function only raises, saying when the solution comes), except the modules of the
  notebooks named by ``reveal`` (usually those whose deadline has passed);
- ``pyproject.toml`` (the course's, installing ``course_lib`` only), ``environment.yml``,
  ``LICENSE`` and a generated ``README.md``.

Never in a bundle: ``course_instructor`` (release, grading, the case builders and their known
mistakes), ``solutions/``, ``tests/`` (the hidden cases). ``bundle`` proves what it wrote before
it returns: a stubbed module that still holds a working function stops it with ``ReleaseError``.
"""

import re
import shutil
from pathlib import Path

from course_lib.reference import MODULES

from .cells import NotebookError, dumps, write_text
from .release import release_folder
from .stubs import builds_on, copy_course_lib, reference_modules, working_functions

__all__ = ["bundle", "parse_reveal", "BUNDLE_FILES", "BUNDLE_ENTRIES", "README", "readme"]

ReleaseError = NotebookError

BUNDLE_FILES = ("environment.yml", "pyproject.toml", "LICENSE")
"""The course root's files the bundle ships (pyproject.toml with course_lib as its only package)."""

BUNDLE_ENTRIES = ("README.md", "notebooks", "course_lib") + BUNDLE_FILES
"""Everything a bundle consists of (``--force`` replaces exactly these)."""

STUB_BODY = ("raise NotImplementedError('{{name}}: the solution of notebook {notebook} is not released yet; "
             "write your own in notebook {notebook}, or ask your instructor')\n")
"""The body of every function of an unrevealed reference module (``{notebook}``: its number)."""

README = """\
# Optimization for Deep Learning

How neural networks are trained, one idea at a time: gradient descent and its problems, momentum,
AdaGrad, RMSProp and Adam, learning-rate schedules, weight initialization, batch normalization,
weight decay and dropout, and hyperparameter search. You implement each method yourself in NumPy,
then watch it work in figures, interactive plots and small networks trained on handwritten digits,
networks that run on the functions you wrote.

## Install

You need {python}. In this folder, in a fresh virtual environment (`python -m venv .venv`,
then activate it):

    pip install -e .
    course doctor     # checks Python, the packages, the Jupyter kernel and the data
    course lab        # opens the notebooks in JupyterLab

With conda instead: `conda env create -f environment.yml`, then {activate}, and `course lab`.

## Notebooks

{notebooks}

## Exercises and self-checks

Each exercise is a function whose body reads `# YOUR CODE HERE` and `raise NotImplementedError()`.
Replace those two lines with your code, run the cell, then run the check cell under it: it says
whether your function is right and, when it is not, what looks wrong. The demos run on your own
functions, so finish the exercises above a demo before running it. Later notebooks use your
functions from earlier ones (`course_lib.mine` reads them from the notebooks in this folder):
keep the notebooks together here, and finish them in order. Before you hand a notebook in,
restart the kernel and run all cells (Kernel > Restart Kernel and Run All Cells).
{revealed}"""
"""The student README: ``{python}`` comes from pyproject.toml, ``{activate}`` from environment.yml,
``{notebooks}`` from the release, ``{revealed}`` from ``reveal``."""


def parse_reveal(text):
    """``"01,2"`` -> ``["01", "02"]``; a clear ``ValueError`` for a notebook the course does not have."""
    numbers = [part.strip().zfill(2) for part in (text or "").split(",") if part.strip()]
    unknown = [n for n in numbers if n not in MODULES]
    if unknown:
        raise ValueError(f"--reveal: no notebook {', '.join(unknown)}; the notebooks are {', '.join(MODULES)}")
    for number in numbers:
        missing = [n for n in builds_on(number) if n not in numbers]
        if missing:
            raise ValueError(
                f"--reveal: the references of notebook {number} ({MODULES[number]}.py) build on those of "
                f"{notebook_numbers(missing)}, which would stay blocked: reveal them together, "
                f"--reveal {','.join(sorted({*numbers, *missing}))}")
    return sorted(set(numbers))


def notebook_title(nb, default):
    """The text of the notebook's first level-1 markdown heading, else ``default``."""
    for cell in nb["cells"]:
        if cell["cell_type"] == "markdown":
            for line in cell["source"].splitlines():
                if line.startswith("# "):
                    return line[2:].strip()
    return default


def readme(released, pyproject_text, environment_text, reveal=()):
    """The student README for the ``{file name: released notebook}``, the texts of pyproject.toml
    and environment.yml, and the notebook numbers whose solutions are revealed."""
    required = re.search(r'^requires-python\s*=\s*"\s*>=\s*([\d.]+)\s*"', pyproject_text, re.MULTILINE)
    python = f"Python {required.group(1)} or newer" if required else "Python 3"
    name = re.search(r"^name:\s*(\S+)", environment_text, re.MULTILINE)
    activate = f"`conda activate {name.group(1)}`" if name else "activate the environment it creates"
    notebooks = "\n".join(f"{i}. `notebooks/{name}`: {notebook_title(nb, Path(name).stem)}"
                          for i, (name, nb) in enumerate(released.items(), start=1))
    revealed = "" if not reveal else (
        f"\n## Revealed solutions\n\nThe solutions of {notebook_numbers(reveal)} are in "
        f"{_and([f'`course_lib/reference/{MODULES[n]}.py`' for n in reveal])}.\n"
        "Where your own function of those notebooks does not pass its self-check yet, the later\n"
        "notebooks use the revealed one and say so.\n")
    return README.format(python=python, activate=activate, notebooks=notebooks, revealed=revealed)


def _and(items):
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} and {items[-1]}"


def notebook_numbers(reveal):
    """``notebook 02``, ``notebooks 01 and 02``."""
    return f"notebook{'s' if len(reveal) > 1 else ''} {_and(list(reveal))}"


def student_pyproject(text):
    """The course's pyproject.toml with ``course_lib`` as the only package (no instructor's tools)."""
    include = re.compile(r"^include\s*=\s*\[.*\]\s*$", re.MULTILINE)
    if not include.search(text):
        raise ReleaseError("has no `include = [...]` line under [tool.setuptools.packages.find]: the bundle "
                           "must install course_lib only", "pyproject.toml")
    return include.sub('include = ["course_lib*"]', text, count=1)


def _check_stubbed(dest, stubbed):
    """Raise ``ReleaseError`` if a module meant to be stubbed still holds a working function."""
    for path in stubbed:
        copy = dest / "course_lib" / "reference" / path.name
        left = working_functions(copy.read_text(encoding="utf-8"))
        if left:
            raise ReleaseError(f"still holds working functions ({', '.join(left)}) after stubbing: "
                               "nothing was bundled", copy)


def bundle(root, solutions, dest, force=False, reveal=()):
    """Write what students receive into ``dest`` (see the module's docstring); ``reveal``: the
    notebook numbers whose references ship working.

    ``dest`` must be empty or missing; with ``force``, the entries of an earlier bundle
    (``BUNDLE_ENTRIES``) are replaced and anything else is left where it is. Nothing is
    written when a notebook cannot be released. Returns the names in ``dest`` it left alone.
    Raises ``ReleaseError`` when a bundle file is missing from ``root``, or ``dest`` is not
    empty (without ``force``) or looks like a course checkout (it holds solutions/ or tests/).
    """
    root, dest = Path(root), Path(dest)
    for name in BUNDLE_FILES:
        if not (root / name).is_file():
            raise ReleaseError("is missing, and the student bundle ships it: add it to the course folder first",
                               root / name)
    if dest.exists() and not dest.is_dir():
        raise ReleaseError("is not a folder", dest)
    existing = sorted(entry.name for entry in dest.iterdir()) if dest.is_dir() else []
    if "solutions" in existing or "tests" in existing:
        raise ReleaseError("holds solutions/ or tests/, which a bundle must never contain: pick an empty folder", dest)
    if existing and not force:
        raise ReleaseError(f"is not empty (it holds {', '.join(existing[:4])}{', ...' if len(existing) > 4 else ''}): "
                           "pick an empty folder, or pass --force to replace the bundle in it", dest)
    released = release_folder(solutions)
    texts = {name: (root / name).read_text(encoding="utf-8") for name in ("pyproject.toml", "environment.yml")}
    pyproject = student_pyproject(texts["pyproject.toml"])
    dest.mkdir(parents=True, exist_ok=True)
    for name in BUNDLE_ENTRIES:
        _remove(dest / name)
    (dest / "notebooks").mkdir()
    for name, nb in released.items():
        write_text(dest / "notebooks" / name, dumps(nb))
    hidden = {number: module for number, module in MODULES.items() if number not in reveal}
    stubs = {path: STUB_BODY.format(notebook=number)
             for number in hidden for path in reference_modules([number])}
    copy_course_lib(dest / "course_lib", stubs)
    _check_stubbed(dest, stubs)
    for name in BUNDLE_FILES:
        shutil.copyfile(root / name, dest / name)
    write_text(dest / "pyproject.toml", pyproject)
    write_text(dest / "README.md", readme(released, pyproject, texts["environment.yml"], reveal))
    return [name for name in existing if name not in BUNDLE_ENTRIES]


def _remove(path):
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    elif path.exists() or path.is_symlink():
        path.unlink()
