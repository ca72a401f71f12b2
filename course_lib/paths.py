"""Where the course's folders are: next to the package in a checkout, else in the current folder."""

from pathlib import Path


def course_root():
    """The folder holding ``notebooks/`` (and, for instructors, ``solutions/`` and ``tests/``)."""
    checkout = Path(__file__).resolve().parent.parent
    for candidate in (Path.cwd(), checkout):
        if (candidate / "notebooks").is_dir():
            return candidate
    return Path.cwd()
