"""Submissions: find each student's notebooks, read them whatever state they are in, take the
exercise code out of them.

``SUBMISSIONS/<student>/<notebook>.ipynb``. ``collect`` pairs every student with every course
notebook (``Submission``) and notes what else is there (``Note``: extra files, misnamed
notebooks). Nothing here raises for a student's file: a problem becomes a status.

Only the source of exercise cells is ever taken from a submission (``exercise_sources``): by
the instructor's cell id, else from the last code cell that defines the function. Tags,
metadata, outputs and every other cell are ignored.
"""

import hashlib
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from ..cells import NotebookError, defined_functions

__all__ = ["Submission", "Note", "collect", "exercise_sources", "read_cells", "digest"]


@dataclass(frozen=True)
class Note:
    """Something in a student's folder that is not a graded notebook (a row of its own)."""
    student: str
    file: str
    status: str    # extra_file, misnamed, not_utf8, old_format
    message: str


@dataclass
class Submission:
    """One student's copy of one course notebook (possibly missing or unreadable)."""
    student: str
    notebook: str
    path: Path | None
    status: str | None = None       # None when readable; else missing_notebook, corrupt or unsupported_format
    message: str = ""
    cells: list = field(default_factory=list)
    digest: str = "missing"

    def read(self):
        """Fill ``cells`` (or ``status``); returns the notes the file deserves (its encoding, its format)."""
        if self.path is None:
            self.status, self.message = "missing_notebook", f"no {self.notebook}.ipynb in the student's folder"
            return []
        data = self.path.read_bytes()
        self.digest = digest(data)
        self.cells, self.status, self.message, notes = read_cells(data)
        return [Note(self.student, self.path.name, status, message) for status, message in notes]


def digest(data):
    """A short digest of a file's bytes: a record is reused only for the same submission."""
    return hashlib.sha256(data).hexdigest()[:16]


def read_cells(data):
    """``(cells, status, message, notes)`` for a notebook file's bytes; cells are dicts with a
    ``cell_type``, a string ``source`` and maybe an ``id``. ``notes`` are ``(status, message)``."""
    notes = []
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        text = data.decode("utf-8", errors="replace")
        notes.append(("not_utf8", "bytes that are not UTF-8 were replaced by U+FFFD before grading"))
    try:
        nb = json.loads(text)
    except ValueError as e:
        return [], "corrupt", f"not valid JSON ({getattr(e, 'msg', e)}): re-save the notebook in JupyterLab", notes
    if not isinstance(nb, dict) or not isinstance(nb.get("cells", nb.get("worksheets")), list):
        return [], "corrupt", "not a Jupyter notebook (no cells)", notes
    version = nb.get("nbformat")
    if version == 3:
        try:
            nb = _upgrade(text)
        except Exception as e:  # noqa: BLE001 (whatever nbformat dislikes, the student gets a status)
            return [], "unsupported_format", f"an nbformat 3 notebook that cannot be upgraded ({e})", notes
        notes.append(("old_format", "an nbformat 3 notebook, upgraded to nbformat 4 to grade it"))
    elif version != 4:
        return [], "unsupported_format", f"nbformat {version!r}: only nbformat 4 (and 3) notebooks can be graded", notes
    return [c for c in map(_cell, nb.get("cells", [])) if c is not None], None, "", notes


def _upgrade(text):
    import nbformat

    return json.loads(nbformat.writes(nbformat.reads(text, as_version=4)))


def _cell(cell):
    if not isinstance(cell, dict):
        return None
    source = cell.get("source", "")
    if isinstance(source, list) and all(isinstance(s, str) for s in source):
        source = "".join(source)
    if not isinstance(source, str):
        return None
    return {"cell_type": cell.get("cell_type"), "source": source, "id": cell.get("id")}


def exercise_sources(cells, exercises):
    """``{function: (source, how)}`` for the exercises found in ``cells``; ``exercises`` maps each
    function to the instructor's cell id. ``how`` is ``"id"`` or ``"function"``."""
    code = [c for c in cells if c["cell_type"] == "code"]
    found = {}
    for name, cell_id in exercises.items():
        by_id = [c for c in code if cell_id and c["id"] == cell_id]
        if by_id:
            found[name] = (by_id[0]["source"], "id")
            continue
        defining = [c for c in code if name in _functions(c["source"])]
        if defining:
            found[name] = (defining[-1]["source"], "function")
    return found


def _functions(source):
    try:
        return defined_functions(source)
    except NotebookError:
        return re.findall(r"^def\s+(\w+)\s*\(", source, flags=re.MULTILINE)


def collect(folder, notebooks, students=None):
    """``(students, submissions, notes)``: every student folder of ``folder`` (or only ``students``)
    paired with every notebook name of ``notebooks`` (stems, in order)."""
    folder = Path(folder)
    names = sorted(p.name for p in folder.iterdir() if p.is_dir() and not p.name.startswith("."))
    if students is not None:
        names = [n for n in names if n in set(students)]
    submissions, notes = [], []
    for student in names:
        files = sorted(p for p in (folder / student).iterdir() if not p.name.startswith("."))
        matched, student_notes = _match(student, files, notebooks)
        notes.extend(student_notes)
        submissions.extend(Submission(student, nb, matched.get(nb)) for nb in notebooks)
    return names, submissions, notes


def _match(student, files, notebooks):
    """``{notebook: path}`` and the notes: exact names first, then one misnamed file per notebook."""
    matched, notes, leftovers = {}, [], []
    for path in files:
        stem = path.stem if path.suffix == ".ipynb" and path.is_file() else None
        if stem in notebooks:
            matched[stem] = path
        elif path.suffix == ".ipynb" and path.is_file():
            leftovers.append(path)
        else:
            notes.append(Note(student, path.name, "extra_file",
                              "a folder, not a notebook: ignored" if path.is_dir() else "not a notebook: ignored"))
    for notebook in notebooks:
        candidates = [p for p in leftovers if _resembles(p.stem, notebook)]
        if notebook not in matched and len(candidates) == 1 and \
                sum(_resembles(candidates[0].stem, other) for other in notebooks) == 1:
            matched[notebook] = candidates[0]
            leftovers.remove(candidates[0])
            notes.append(Note(student, candidates[0].name, "misnamed",
                              f"graded as {notebook}.ipynb: name it exactly so next time"))
    for path in leftovers:
        like = [nb for nb in notebooks if _resembles(path.stem, nb)]
        if like and all(nb in matched for nb in like):
            notes.append(Note(student, path.name, "extra_file", f"another copy of {like[0]}.ipynb: ignored"))
        elif like:
            notes.append(Note(student, path.name, "misnamed", f"not graded: several files could be {like[0]}.ipynb; "
                                                              "keep one, named exactly so"))
        else:
            notes.append(Note(student, path.name, "extra_file", "not a course notebook: ignored"))
    return matched, notes


def _resembles(stem, notebook):
    """A misnamed file for ``notebook``: same number prefix ("02 (1)", "02_Optimizers-copy") or its name part."""
    number, _, name = notebook.partition("_")
    prefix = re.match(r"\d+", stem)
    if prefix:
        return int(prefix.group()) == int(number) if number.isdigit() else False
    return bool(name) and name.lower() in stem.lower().replace("-", "_").replace(" ", "_")
