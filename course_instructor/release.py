"""``course release``: generate the student notebooks from the instructor's, check they are
current, and bundle what students receive.

A released notebook is a ``solutions/`` notebook passed through ``RELEASE_STEPS``, small named
steps that each take a notebook and return it. The result is written in one fixed JSON layout,
so releasing twice gives the same bytes and ``--check`` is a byte comparison.

Commands::

    course release [--solutions DIR] [--out DIR]    # solutions/*.ipynb -> notebooks/*.ipynb
    course release --check                          # exit 1, naming them, when notebooks/ is stale
    course release --bundle DIR [--force]          # notebooks/, course_lib/, README.md, ... in DIR
"""

import copy
import re
import shutil
import sys
from pathlib import Path

from .cells import (BEGIN, END, EXERCISE, INSTRUCTOR, NotebookError, cell_role, defined_function,
                    defined_functions, dumps, exercise_cells, read_notebook, replace_solutions,
                    solution_regions, write_text, shown_path)
from course_lib.paths import course_root

ReleaseError = NotebookError
"""What release raises when it cannot release: the file, the cell (index and id) and a line of
its source. The same class as ``cells.NotebookError``, which ``read_notebook`` raises."""

PACKAGE = Path(__file__).resolve().parent
"""The ``course_lib`` source the bundle ships: this package."""

NOTEBOOK_METADATA = {
    "kernelspec": {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"},
    "language_info": {"name": "python"},
}
"""The whole notebook-level metadata of a released notebook; the rest (widget state, kernel and
Python versions, editor settings) differs between machines and runs."""

CELL_METADATA = ("tags", "editable", "deletable")
"""The cell metadata kept; the rest (execution timings, collapsed, scrolled, jupyter UI state) is dropped."""


# --- the steps -------------------------------------------------------------------------------

def validate(nb):
    """Check what the other steps and grading rely on, and raise ``ReleaseError`` at the first problem:

    - every cell has an id and no two share one (released cells keep their ids; grading matches by them);
    - at most one role tag per cell, and ``setup``/``exercise``/``check`` only on code cells;
    - solution markers are well formed, in order, not nested, and only in exercise cells;
    - each exercise cell defines exactly one top-level function, and no two the same one.
    """
    first_with_id = {}
    for index, cell in enumerate(nb["cells"]):
        try:
            _check_id(cell.get("id"), first_with_id)
            first_with_id[cell["id"]] = index
            role, regions = cell_role(cell), solution_regions(cell["source"])
            if regions and role != EXERCISE:
                raise NotebookError("has solution markers but is not an exercise cell: tag it 'exercise', "
                                    "or remove the markers", line=cell["source"].splitlines()[regions[0][0]])
        except NotebookError as e:
            raise e.locate(index=index, cell=cell)
    exercise_cells(nb)
    return nb


def _check_id(cell_id, first_with_id):
    if not cell_id:
        raise NotebookError("has no id: save the notebook as nbformat 4.5 (JupyterLab 3 or newer does) "
                            "so that every cell has one")
    if cell_id in first_with_id:
        raise NotebookError(f"has the same id as cell {first_with_id[cell_id]}: give one of them a new id")


def stub_solutions(nb):
    """Replace the solution regions of every exercise cell by the stub (``cells.STUB``).

    Raises ``ReleaseError`` for an exercise cell with no region, and for one that would no longer
    define its function once stubbed (the ``def`` line was inside the markers).
    """
    for index, cell in enumerate(nb["cells"]):
        if cell_role(cell) == EXERCISE:
            try:
                cell["source"] = _stubbed(cell["source"])
            except NotebookError as e:
                raise e.locate(index=index, cell=cell)
    return nb


def _stubbed(source):
    name = defined_function(source)
    stubbed, replaced = replace_solutions(source)
    if not replaced:
        raise NotebookError(f"is an exercise cell without a solution region: put the body of {name}() "
                            f"between {BEGIN!r} and {END!r}")
    try:
        still_defined = defined_functions(stubbed) == [name]
    except NotebookError:
        still_defined = False
    if not still_defined:
        raise NotebookError(f"with its solution replaced by the stub it no longer defines {name}(): keep the "
                            "def line and docstring outside the markers and whole statements inside them")
    return stubbed


def drop_instructor_cells(nb):
    """Remove the cells tagged ``instructor``."""
    nb["cells"] = [cell for cell in nb["cells"] if cell_role(cell) != INSTRUCTOR]
    return nb


def clear_outputs(nb):
    """Empty every code cell's outputs and execution count."""
    for cell in nb["cells"]:
        if cell["cell_type"] == "code":
            cell["outputs"], cell["execution_count"] = [], None
    return nb


def strip_metadata(nb):
    """Replace the notebook metadata by ``NOTEBOOK_METADATA`` and keep only ``CELL_METADATA`` in cells.
    Outputs are left alone (``course execute`` uses this step on notebooks that keep theirs)."""
    nb["metadata"] = copy.deepcopy(NOTEBOOK_METADATA)
    for cell in nb["cells"]:
        cell["metadata"] = {key: value for key, value in cell["metadata"].items() if key in CELL_METADATA}
    return nb


RELEASE_STEPS = (
    validate,               # first: the steps below assume unique ids, one role per cell, sound markers
    stub_solutions,         # before drop_instructor_cells, so that its errors count cells as solutions/ does
    drop_instructor_cells,
    clear_outputs,
    strip_metadata,         # last: nothing after it adds metadata
)
"""The release of one notebook, in order. Cell ids and markdown pass through unchanged."""


def release_notebook(nb):
    """The student version of the solutions notebook ``nb`` (which is left unchanged)."""
    nb = copy.deepcopy(nb)
    for step in RELEASE_STEPS:
        nb = step(nb)
    return nb


# --- a folder of notebooks -------------------------------------------------------------------

def release_folder(solutions):
    """``{file name: released notebook}`` for every ``*.ipynb`` in ``solutions``, in name order;
    other files are ignored. Raises ``ReleaseError`` for the first notebook that cannot be released,
    or when there is none (releasing nothing would delete every student notebook)."""
    solutions = Path(solutions)
    paths = sorted(solutions.glob("*.ipynb"))
    if not paths:
        raise ReleaseError("holds no notebooks (*.ipynb)" if solutions.is_dir() else "is not a folder", solutions)
    released = {}
    for path in paths:
        try:
            released[path.name] = release_notebook(read_notebook(path))
        except NotebookError as e:
            raise e.locate(path=path)
    return released


def differences(texts, out):
    """How the folder ``out`` differs from the released ``{file name: text}``: ``[(kind, name)]``
    in name order, kind ``'missing'`` (not in ``out``), ``'stale'`` (other bytes) or ``'extra'``
    (a notebook in ``out`` that nothing releases)."""
    current = {path.name: path for path in Path(out).glob("*.ipynb")}
    found = [("missing", name) if name not in current else ("stale", name)
             for name, text in texts.items()
             if name not in current or current[name].read_bytes() != text.encode("utf-8")]
    found += [("extra", name) for name in current if name not in texts]
    return sorted(found, key=lambda kind_name: kind_name[1])


def write_release(texts, out, solutions):
    """Make ``out`` hold exactly the released notebooks: write the missing and stale ones, remove
    the extra ones, leave the others untouched (and their files' times). Prints what it did and
    returns the list of ``differences`` it fixed."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    fixed = differences(texts, out)
    for kind, name in fixed:
        path = out / name
        if kind == "extra":
            path.unlink()
            print(f"removed  {shown_path(path)}: {shown_path(Path(solutions) / name)} does not exist")
        else:
            write_text(path, texts[name])
            print(f"{'added' if kind == 'missing' else 'updated':<8} {shown_path(path)}")
    return fixed


# --- the student bundle ----------------------------------------------------------------------

BUNDLE_FILES = ("environment.yml", "pyproject.toml")
"""The course root's files the bundle ships as they are."""

BUNDLE_ENTRIES = ("README.md", "notebooks", "course_lib") + BUNDLE_FILES
"""Everything a bundle consists of (``--force`` replaces exactly these)."""

README = """\
# Optimization for Deep Learning

How neural networks are trained, one idea at a time: gradient descent and its problems, momentum,
AdaGrad, RMSProp and Adam, learning-rate schedules, weight initialization, batch normalization,
weight decay and dropout, and hyperparameter search. You implement each method yourself in NumPy,
then watch it work in figures, interactive plots and small networks trained on handwritten digits.

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
whether your function is right and, when it is not, what looks wrong. Some demos use your own
functions, so finish the exercises above a demo before running it. Before you hand a notebook in,
restart the kernel and run all cells (Kernel > Restart Kernel and Run All Cells).
"""
"""The student README: ``{python}`` comes from pyproject.toml, ``{activate}`` from environment.yml,
``{notebooks}`` from the release."""


def notebook_title(nb, default):
    """The text of the notebook's first level-1 markdown heading, else ``default``."""
    for cell in nb["cells"]:
        if cell["cell_type"] == "markdown":
            for line in cell["source"].splitlines():
                if line.startswith("# "):
                    return line[2:].strip()
    return default


def readme(released, pyproject_text, environment_text):
    """The student README for the ``{file name: released notebook}`` and the texts of pyproject.toml
    and environment.yml."""
    required = re.search(r'^requires-python\s*=\s*"\s*>=\s*([\d.]+)\s*"', pyproject_text, re.MULTILINE)
    python = f"Python {required.group(1)} or newer" if required else "Python 3"
    name = re.search(r"^name:\s*(\S+)", environment_text, re.MULTILINE)
    activate = f"`conda activate {name.group(1)}`" if name else "activate the environment it creates"
    notebooks = "\n".join(f"{i}. `notebooks/{name}`: {notebook_title(nb, Path(name).stem)}"
                          for i, (name, nb) in enumerate(released.items(), start=1))
    return README.format(python=python, activate=activate, notebooks=notebooks)


def bundle(root, solutions, dest, force=False):
    """Write what students receive into ``dest``: ``notebooks/`` (a fresh release of
    ``solutions``), ``course_lib/`` (this package, without ``__pycache__``), the course root's
    ``environment.yml`` and ``pyproject.toml``, and a generated ``README.md``; never
    solutions or tests.

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
    dest.mkdir(parents=True, exist_ok=True)
    for name in BUNDLE_ENTRIES:
        _remove(dest / name)
    (dest / "notebooks").mkdir()
    for name, nb in released.items():
        write_text(dest / "notebooks" / name, dumps(nb))
    shutil.copytree(PACKAGE, dest / "course_lib", ignore=shutil.ignore_patterns("__pycache__", "*.py[co]"))
    for name in BUNDLE_FILES:
        shutil.copyfile(root / name, dest / name)
    write_text(dest / "README.md", readme(released, *((root / name).read_text(encoding="utf-8")
                                                       for name in ("pyproject.toml", "environment.yml"))))
    return [name for name in existing if name not in BUNDLE_ENTRIES]


def _remove(path):
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    elif path.exists() or path.is_symlink():
        path.unlink()


# --- the command -----------------------------------------------------------------------------

def register(subparsers):
    p = subparsers.add_parser(
        "release", help="generate the student notebooks from solutions/",
        description="Generate notebooks/ from solutions/: solutions replaced by stubs, instructor cells "
                    "dropped, outputs and volatile metadata cleared; the same solutions always give the same "
                    "bytes. Exit codes: 0 done (or up to date), 1 --check found differences, 2 could not release.")
    p.add_argument("--solutions", type=Path, metavar="DIR",
                   help="the instructor's notebooks (default: solutions/ in the course folder)")
    p.add_argument("--out", type=Path, metavar="DIR",
                   help="where the student notebooks go (default: notebooks/ in the course folder)")
    mode = p.add_mutually_exclusive_group()
    mode.add_argument("--check", action="store_true",
                      help="write nothing; exit 1 and name each stale, missing or extra notebook when the "
                           "student notebooks differ from what release would write")
    mode.add_argument("--bundle", type=Path, metavar="DIR",
                      help="write what students receive into DIR: notebooks/, course_lib/, environment.yml, "
                           "pyproject.toml and a README.md (no solutions, no tests)")
    p.add_argument("--force", action="store_true", help="with --bundle: replace the bundle in a non-empty DIR")
    p.set_defaults(func=run)


def run(args):
    if args.force and not args.bundle:
        return _fail("--force only applies to --bundle")
    if args.out and args.bundle:
        return _fail("--out does not apply to --bundle (the bundle's notebooks go to DIR/notebooks)")
    root = course_root()
    solutions = args.solutions or root / "solutions"
    try:
        if args.bundle:
            return _run_bundle(root, solutions, args.bundle, args.force)
        out = args.out or root / "notebooks"
        if Path(out).resolve() == Path(solutions).resolve():
            return _fail(f"--out {shown_path(out)} is the solutions folder: releasing there would overwrite "
                         "the solutions")
        texts = {name: dumps(nb) for name, nb in release_folder(solutions).items()}
        return _run_check(texts, out, solutions) if args.check else _run_release(texts, out, solutions)
    except (NotebookError, OSError) as e:
        return _fail(e)


def _count(n, noun):
    return f"{n} {noun}{'' if n == 1 else 's'}"


def _fail(message):
    print(f"course release: {message}", file=sys.stderr)
    return 2


def _run_release(texts, out, solutions):
    fixed = write_release(texts, out, solutions)
    state = _count(len(fixed), "change") if fixed else "already up to date"
    print(f"Released {_count(len(texts), 'notebook')} from {shown_path(solutions)} to {shown_path(out)}: {state}.")
    return 0


def _run_check(texts, out, solutions):
    found = differences(texts, out)
    if not found:
        print(f"{shown_path(out)} is up to date with {shown_path(solutions)} ({_count(len(texts), 'notebook')}).")
        return 0
    explain = {"stale": "differs from what release writes", "missing": "not released yet",
               "extra": f"no {shown_path(solutions)} notebook of that name"}
    print(f"{shown_path(out)} is out of date with {shown_path(solutions)}; run `course release`:")
    for kind, name in found:
        print(f"  {kind:<8} {shown_path(Path(out) / name)}  ({explain[kind]})")
    return 1


def _run_bundle(root, solutions, dest, force):
    kept = bundle(root, solutions, dest, force)
    print(f"Bundled {shown_path(dest)}: {', '.join(BUNDLE_ENTRIES)}.")
    if kept:
        print(f"Left alone in {shown_path(dest)} (not part of a bundle): {', '.join(kept)}.")
    return 0
