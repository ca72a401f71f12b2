"""nbval's verdict on the grading notebook: does each instructor cell print what it printed in solutions/?

Grading runs the grading notebook in its own kernel (to isolate it and to call functions in
it afterwards), so it does not start a pytest session per notebook. It reuses nbval's own
comparison instead: ``IPyNbCell.compare_outputs`` with nbval's stream coalescing, its default
keys to skip and the project's sanitize file (``tests/nbval_sanitize.cfg``), exactly what
``pytest --nbval`` checks. Only instructor cells (setup, check) are compared: an exercise cell
is the student's, and what it prints is theirs.
"""

from collections import OrderedDict
from pathlib import Path
from types import SimpleNamespace

import nbformat
from nbval import plugin

__all__ = ["Validator"]

SKIP_COMPARE = ("metadata", "traceback", "prompt_number", "output_type", "name", "execution_count",
                "application/vnd.jupyter.widget-view+json", "image/png", "image/jpeg")
"""nbval's default keys left out of the comparison (``IPyNbFile.skip_compare`` without --nbdime)."""


class Validator:
    """Compares outputs as ``pytest --nbval --nbval-sanitize-with FILE`` does."""

    sanitize = plugin.IPyNbCell.sanitize
    colors = plugin.nocolors

    def __init__(self, sanitize_file=None):
        patterns = plugin.get_sanitize_patterns(Path(sanitize_file).read_text()) if sanitize_file else []
        self.parent = SimpleNamespace(skip_compare=SKIP_COMPARE, sanitize_patterns=OrderedDict(patterns))
        self.comparison_traceback = []

    def same(self, outputs, cell):
        """``(same, detail)``: the kernel's ``outputs`` against the instructor ``cell``'s stored ones.
        A cell that was never run in solutions/ (no execution count) is not compared, as in nbval."""
        if cell.get("execution_count") is None:
            return True, ""
        self.comparison_traceback = []
        reference = plugin.coalesce_streams(nbformat.from_dict(cell.get("outputs", [])))
        same = plugin.IPyNbCell.compare_outputs(self, plugin.coalesce_streams(nbformat.from_dict(outputs)), reference)
        return same, "; ".join(line.strip() for line in self.comparison_traceback if line.strip())

    def format_output_compare(self, key, left, right):
        """nbval calls this on a mismatch (its own version needs a pytest session)."""
        self.comparison_traceback.append(f"mismatch in {key!r}")
