"""``course release``: generate the student notebooks from the instructor's, check they are
current, and bundle what students receive (``bundle``).

A released notebook is a ``solutions/`` notebook passed through ``RELEASE_STEPS``, small named
steps that each take a notebook and return it. The result is written in one fixed JSON layout,
so releasing twice gives the same bytes and ``--check`` is a byte comparison.

Commands::

    course release [--solutions DIR] [--out DIR]    # solutions/*.ipynb -> notebooks/*.ipynb
    course release --check                          # exit 1, naming them, when notebooks/ is stale
    course release --bundle DIR [--force] [--reveal 01,02]   # what students receive, in DIR
"""

import copy
import sys
from pathlib import Path

from .cells import (BEGIN, END, EXERCISE, INSTRUCTOR, NotebookError, cell_role, defined_function,
                    defined_functions, dumps, exercise_cells, read_notebook, replace_solutions,
                    solution_regions, write_text, shown_path)
from course_lib.paths import course_root

ReleaseError = NotebookError
"""What release raises when it cannot release: the file, the cell (index and id) and a line of
its source. The same class as ``cells.NotebookError``, which ``read_notebook`` raises."""

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
                      help="write what students receive into DIR: notebooks/, course_lib/ (its reference "
                           "solutions stubbed), environment.yml, pyproject.toml, LICENSE and a README.md (no "
                           "solutions, no tests, no instructor's tools)")
    p.add_argument("--force", action="store_true", help="with --bundle: replace the bundle in a non-empty DIR")
    p.add_argument("--reveal", metavar="NN,NN", default="",
                   help="with --bundle: ship the reference solutions of these notebooks (e.g. 01,02, once "
                        "their deadline has passed); by default none")
    p.set_defaults(func=run)


def run(args):
    if args.force and not args.bundle:
        return _fail("--force only applies to --bundle")
    if args.reveal and not args.bundle:
        return _fail("--reveal only applies to --bundle")
    from .bundle import parse_reveal   # bundle builds on this module's release_folder

    try:
        reveal = parse_reveal(args.reveal)
    except ValueError as e:
        return _fail(e)
    if args.out and args.bundle:
        return _fail("--out does not apply to --bundle (the bundle's notebooks go to DIR/notebooks)")
    root = course_root()
    solutions = args.solutions or root / "solutions"
    try:
        if args.bundle:
            return _run_bundle(root, solutions, args.bundle, args.force, reveal)
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


def _run_bundle(root, solutions, dest, force, reveal):
    from .bundle import BUNDLE_ENTRIES, bundle, notebook_numbers   # bundle builds on this module's release_folder

    kept = bundle(root, solutions, dest, force, reveal)
    revealed = f"the solutions of {notebook_numbers(reveal)}" if reveal else "no solution"
    print(f"Bundled {shown_path(dest)}: {', '.join(BUNDLE_ENTRIES)}; {revealed} revealed.")
    if kept:
        print(f"Left alone in {shown_path(dest)} (not part of a bundle): {', '.join(kept)}.")
    return 0
