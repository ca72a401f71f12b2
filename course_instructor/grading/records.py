"""What a run remembers: one record per student and notebook, written the moment it is graded.

``GRADES/records/<student>/<notebook>.json`` holds the rows and the feedback of one graded
submission, with what it was graded from: the submission's digest and the instructor copy's
fingerprint. Beside it, ``<notebook>.ipynb`` is the grading notebook as it ran (the instructor's
setup and check cells, the student's exercise cells, their outputs), for the instructor to open. A later run reuses a record only when both still match, so a run that was killed
(even with SIGKILL) finishes the rest and writes the same gradebook, a changed submission or
hidden test is graded again, and deleting a student's folder under records/ regrades them.
Records are written to a temporary file and renamed: a reader never sees half of one.
"""

import json
from dataclasses import asdict
from pathlib import Path

from ..cells import write_notebook, write_text
from .notebook import ExerciseResult

__all__ = ["Record", "record_path", "load_record", "save_record", "RECORDS"]

RECORDS = "records"


class Record:
    """One graded submission: who, what, graded from what, and its results."""

    def __init__(self, student, notebook, digest, fingerprint, results, notes=(), setup_problems=(), ran=None):
        self.student, self.notebook, self.digest, self.fingerprint = student, notebook, digest, fingerprint
        self.results, self.notes, self.setup_problems = list(results), list(notes), list(setup_problems)
        self.ran = ran  # the grading notebook with its outputs (not reloaded: only written)

    def as_dict(self):
        return {"student": self.student, "notebook": self.notebook, "digest": self.digest,
                "fingerprint": self.fingerprint, "results": [asdict(r) for r in self.results],
                "notes": [list(n) for n in self.notes], "setup_problems": self.setup_problems}

    @classmethod
    def from_dict(cls, data):
        results = [ExerciseResult(**{**r, "tests": [tuple(t) for t in r["tests"]]}) for r in data["results"]]
        return cls(data["student"], data["notebook"], data["digest"], data["fingerprint"], results,
                   [tuple(n) for n in data["notes"]], data["setup_problems"])


def record_path(out, student, notebook):
    return Path(out) / RECORDS / student / f"{notebook}.json"


def load_record(out, student, notebook, digest, fingerprint):
    """The stored record if it was graded from this submission and this instructor copy, else None."""
    path = record_path(out, student, notebook)
    try:
        record = Record.from_dict(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return record if (record.digest, record.fingerprint) == (digest, fingerprint) else None


def save_record(out, record):
    """Write the grading notebook (if any), then the record: a record on disk always has its notebook."""
    path = record_path(out, record.student, record.notebook)
    path.parent.mkdir(parents=True, exist_ok=True)
    if record.ran is not None:
        write_notebook(record.ran, path.with_suffix(".ipynb"))
    write_text(path, json.dumps(record.as_dict(), indent=1, sort_keys=True, ensure_ascii=False) + "\n")
