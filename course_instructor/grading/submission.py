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
import os
import re
import stat
from dataclasses import dataclass, field
from pathlib import Path

from ..cells import NotebookError, defined_functions

__all__ = ["Submission", "Note", "collect", "exercise_sources", "read_cells", "digest", "read_regular",
           "NotRegular", "SUBMISSION_STATUSES", "MAX_BYTES"]

SUBMISSION_STATUSES = {
    "not_regular_file": "the submitted file is a symbolic link or not a regular file (or the student's folder is a "
                        "symbolic link): not graded, 0 points",
    "too_large": "the submitted file is larger than the largest notebook graded: not graded, 0 points",
}
"""Statuses of a whole submission decided here, before anything of it is read (``course grade --help``)."""

MAX_BYTES = 256 * 2**20
"""The largest notebook file read (256 MiB): a larger one is ``too_large``, not read into memory."""


class NotRegular(Exception):
    """A submitted path that is not a regular file of the student's own folder; ``status``, ``str()`` say why."""

    def __init__(self, status, message):
        super().__init__(message)
        self.status = status


def _kind(mode):
    return {stat.S_IFLNK: "a symbolic link", stat.S_IFDIR: "a folder", stat.S_IFIFO: "a named pipe",
            stat.S_IFSOCK: "a socket", stat.S_IFCHR: "a device", stat.S_IFBLK: "a device"}.get(
        stat.S_IFMT(mode), "not a regular file")


def read_regular(path, limit=MAX_BYTES):
    """The bytes of ``path`` if it is a regular file (not a symbolic link, a pipe, a device...) of at
    most ``limit`` bytes; else raises ``NotRegular``."""
    path = Path(path)
    try:
        mode = os.lstat(path).st_mode
    except OSError as e:
        raise NotRegular("not_regular_file", f"cannot be read ({e.strerror})") from None
    if not stat.S_ISREG(mode):
        target = f" to {os.readlink(path)}" if stat.S_ISLNK(mode) else ""
        raise NotRegular("not_regular_file", f"{_kind(mode)}{target}, not a notebook file: not graded; hand in "
                                             "the notebook itself")
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except OSError as e:
        raise NotRegular("not_regular_file", f"cannot be read ({e.strerror})") from None
    with os.fdopen(fd, "rb") as f:
        info = os.fstat(f.fileno())
        if not stat.S_ISREG(info.st_mode):
            raise NotRegular("not_regular_file", f"{_kind(info.st_mode)}, not a notebook file: not graded")
        if info.st_size > limit:
            raise NotRegular("too_large", f"{info.st_size / 2**20:.0f} MiB: larger than the {limit // 2**20} MiB "
                                          "a notebook may have; clear its outputs and hand it in again")
        data = f.read(limit + 1)
    if len(data) > limit:
        raise NotRegular("too_large", f"larger than the {limit // 2**20} MiB a notebook may have")
    return data


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
    status: str | None = None       # None when readable; else missing_notebook, not_regular_file, too_large,
    message: str = ""               # corrupt or unsupported_format
    cells: list = field(default_factory=list)
    digest: str = "missing"
    linked_folder: bool = False     # the student's folder is a symbolic link: nothing in it is read

    def _bytes(self):
        if self.linked_folder:
            raise NotRegular("not_regular_file", "the student's folder is a symbolic link: not graded; hand in "
                                                 "a folder of your own notebooks")
        return read_regular(self.path)

    def read(self):
        """Fill ``cells`` (or ``status``); returns the notes the file deserves (its encoding, its format)."""
        if self.path is None and not self.linked_folder:
            self.status, self.message = "missing_notebook", f"no {self.notebook}.ipynb in the student's folder"
            return []
        try:
            data = self._bytes()
        except NotRegular as e:
            self.status, self.message, self.digest = e.status, str(e), self.current_digest()
            return []
        self.digest = digest(data)
        self.cells, self.status, self.message, notes = read_cells(data)
        return [Note(self.student, self.path.name, status, message) for status, message in notes]

    def current_digest(self):
        """What identifies this submission now (its bytes' digest; what it is, when it is not a file
        that is read): a record graded from something else is graded again."""
        if self.path is None and not self.linked_folder:
            return "missing"
        try:
            return digest(self._bytes())
        except NotRegular as e:
            return f"{e.status}:{digest(str(e).encode())}"


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
        if any("\udc80" <= c <= "\udcff" for c in student):   # bytes that are not UTF-8: no record could say it
            notes.append(Note(student, student, "bad_folder_name", "the folder's name is not UTF-8 text: not graded; "
                                                                   "rename the folder and grade again"))
            continue
        if (folder / student).is_symlink():   # not looked into: whatever it points to is not theirs
            submissions.extend(Submission(student, nb, None, linked_folder=True) for nb in notebooks)
            continue
        files = sorted(p for p in (folder / student).iterdir() if not p.name.startswith("."))
        matched, student_notes = _match(student, files, notebooks)
        notes.extend(student_notes)
        submissions.extend(Submission(student, nb, matched.get(nb)) for nb in notebooks)
    return names, submissions, notes


def _regular(path):
    try:
        return stat.S_ISREG(os.lstat(path).st_mode)
    except OSError:
        return False


def _match(student, files, notebooks):
    """``{notebook: path}`` and the notes: exact names first, then one misnamed file per notebook."""
    matched, notes, leftovers = {}, [], []
    for path in files:
        if path.suffix == ".ipynb" and path.stem in notebooks:
            matched[path.stem] = path   # whatever it is: reading it decides (a symlink gets its own status)
        elif path.suffix == ".ipynb" and _regular(path):
            leftovers.append(path)
        elif path.is_symlink() or (path.exists() and not path.is_dir() and not _regular(path)):
            what = "a symbolic link" if path.is_symlink() else "not a regular file"
            notes.append(Note(student, path.name, "not_regular_file", f"{what}: ignored"))
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
