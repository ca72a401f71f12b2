"""The course's own notebooks read well in JupyterLab: no code line wider than a cell."""

import pytest

from course_instructor.cells import read_notebook
from course_lib.paths import course_root

MAX_LINE = 99   # what a JupyterLab code cell shows without scrolling, with the file browser open
NOTEBOOKS = sorted((course_root() / "solutions").glob("*.ipynb"))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_code_lines_fit_a_jupyterlab_cell(path):
    wide = [f"cell {cell.get('id', i)}: {len(line)} characters: {line.strip()[:60]}..."
            for i, cell in enumerate(read_notebook(path)["cells"]) if cell["cell_type"] == "code"
            for line in cell["source"].splitlines() if len(line) > MAX_LINE]
    assert not wide, f"{path.name} has code lines over {MAX_LINE} characters; wrap them:\n" + "\n".join(wide)
