"""Where the browser tests find the course: the solution notebooks, and where screenshots go."""

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SOLUTIONS = ROOT / "solutions"
ARTIFACTS = ROOT / "test-artifacts" / "browser"
"""Screenshots of the browser tests (git-ignored)."""


def solution_notebooks():
    """The solution notebooks there are now (NN_name.ipynb), in course order."""
    return sorted(SOLUTIONS.glob("[0-9][0-9]_*.ipynb"))


def without_outputs(nb):
    """``nb`` with every output, execution count and stored widget state cleared (in place)."""
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    nb.metadata.pop("widgets", None)
    return nb
