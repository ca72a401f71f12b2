"""A student's whole course: every notebook of the bundle, filled in order, runs top to bottom on
the student's own code.

The bundle's course_lib has its references stubbed, so a demo that called a reference instead of
the student's function, or a later notebook that could not load the student's functions from the
earlier ones (``course_lib.mine``), fails here. The student's code is the solutions' code, pasted
into each released exercise cell by cell id; it is run with the bundle's course_lib first on the
kernel's path (the dependencies come from this environment).
"""

import os

import pytest

from course_lib import cli
from course_instructor.cells import EXERCISE, NotebookError, cell_role, read_notebook, write_notebook
from course_instructor.execute import run_cells
from course_instructor.stubs import PACKAGE

CHECKOUT = PACKAGE.parent
NOTEBOOKS = sorted(p.name for p in (CHECKOUT / "solutions").glob("*.ipynb"))


def solution_code(name):
    """{cell id: source} of the exercise cells of solutions/<name>."""
    nb = read_notebook(CHECKOUT / "solutions" / name)
    return {c["id"]: c["source"] for c in nb["cells"] if cell_role(c) == EXERCISE}


@pytest.fixture(scope="module")
def bundle(tmp_path_factory):
    """A default bundle (nothing revealed) of the real course, made the kernels' course_lib."""
    dest = tmp_path_factory.mktemp("student") / "course"
    cwd = os.getcwd()
    os.chdir(CHECKOUT)
    try:
        assert cli.main(["release", "--bundle", str(dest)]) == 0
    finally:
        os.chdir(cwd)
    return dest


def fill(path):
    """Paste the solutions' code into the released notebook at ``path``, as a student would."""
    nb = read_notebook(path)
    code = solution_code(path.name)
    for cell in nb["cells"]:
        if cell_role(cell) == EXERCISE:
            cell["source"] = code[cell["id"]]
    write_notebook(nb, path)


def test_notebooks_filled_in_order_run_on_the_students_code(bundle, monkeypatch):
    monkeypatch.setenv("PYTHONPATH", str(bundle))   # the bundle's course_lib, its references stubbed
    folder = bundle / "notebooks"
    assert sorted(p.name for p in folder.glob("*.ipynb")) == NOTEBOOKS
    for name in NOTEBOOKS:
        fill(folder / name)
        nb = read_notebook(folder / name)
        try:
            ran = run_cells(nb, cwd=folder)
        except NotebookError as e:
            pytest.fail(f"{name}, filled with the solutions' code, does not run: {e}")
        printed = "".join(o.get("text", "") for c in ran["cells"] for o in c.get("outputs", []))
        assert "using the revealed solution" not in printed, name
        assert "✗" not in printed, f"{name}: a self-check failed on the solutions' code"


def test_an_unfinished_notebook_stops_the_next_one_with_a_clear_message(bundle, monkeypatch):
    """03 done, but 01 and 02 left as released: the first cell of 03 that needs their functions says what to do."""
    monkeypatch.setenv("PYTHONPATH", str(bundle))
    folder = bundle / "unfinished"
    folder.mkdir()
    for name in NOTEBOOKS[:3]:
        (folder / name).write_bytes((CHECKOUT / "notebooks" / name).read_bytes())
    fill(folder / NOTEBOOKS[2])
    with pytest.raises(NotebookError, match=r"MissingWork: \w+ from notebook 0[12] .*run notebook 0[12] first"):
        run_cells(read_notebook(folder / NOTEBOOKS[2]), cwd=folder)
