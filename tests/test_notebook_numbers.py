"""Numbers quoted in a notebook's text are printed by its code, so they cannot drift from the outputs.

Every decimal number in a markdown cell of solutions/ (outside $math$, code spans and section numbers)
must appear verbatim in the notebook's code or in its stored outputs. Numbers that no code can
print (values from the literature, a hand derivation) are listed in ``QUOTED`` with their source.
A notebook re-executed with different results fails here until its text is updated.
"""

import re

import pytest

from course_instructor.cells import read_notebook
from course_instructor.stubs import PACKAGE

SOLUTIONS = sorted((PACKAGE.parent / "solutions").glob("*.ipynb"))

DECIMAL = re.compile(r"(?<![\w.])\d+\.\d+(?:e[-+]?\d+)?(?![\w]|\.\d)")
NOT_PROSE = [re.compile(p, re.DOTALL | re.MULTILINE) for p in (
    r"\$\$.*?\$\$", r"(?<!\\)\$(?:\\\$|[^$])*?(?<!\\)\$", r"`[^`\n]*`", r"https?://\S+", r"<summary>.*?</summary>",
    r"§\s?\d+(\.\d+)*", r"^#+ [\d.]+", r"^\| *\d+(\.\d+)* *\|")]
"""What is not a quoted result: math, code spans, links, answer titles, section numbers (§4.1, a
heading's number, the first column of a table of sections)."""

QUOTED = {
    # notebook stem: {number: where it comes from}
}
"""Numbers that may stand in a notebook's text without being printed by its code, with their source."""


def code_and_outputs(nb):
    """Everything the notebook's code cells say: their sources and their stored text outputs."""
    parts = []
    for cell in nb["cells"]:
        if cell["cell_type"] != "code":
            continue
        parts.append(cell["source"])
        for output in cell.get("outputs", []):
            parts.append("".join(output.get("text", "")))
            for kind in ("text/plain", "text/html", "text/markdown"):
                parts.append("".join(output.get("data", {}).get(kind, "")))
    return "\n".join(parts)


def quoted_numbers(text):
    for pattern in NOT_PROSE:
        text = pattern.sub(" ", text)
    return DECIMAL.findall(text)


@pytest.mark.parametrize("path", SOLUTIONS, ids=lambda p: p.stem)
def test_every_number_in_the_text_is_printed_by_the_code(path):
    nb = read_notebook(path)
    printed = code_and_outputs(nb)
    allowed = QUOTED.get(path.stem, {})
    stray = [(cell.get("id"), number) for cell in nb["cells"] if cell["cell_type"] == "markdown"
             for number in quoted_numbers(cell["source"]) if number not in printed and number not in allowed]
    assert not stray, (f"{path.name}: numbers in the text that no code prints (cell id, number): {stray}; "
                       "print them, reword, or list them with their source in QUOTED")


def test_the_check_finds_a_number_that_drifted():
    nb = {"cells": [{"cell_type": "code", "source": "print(0.951)", "outputs": [{"text": "0.951\n"}]},
                    {"cell_type": "markdown", "source": "We reach 0.951, then 0.958 ($x = 0.5$, §4.1, `1.5`),\n"
                                                         "$y = 2 \\times \\$1.25$ and \\$3.75 ($z$)."}]}
    printed = code_and_outputs(nb)
    assert [n for n in quoted_numbers(nb["cells"][1]["source"]) if n not in printed] == ["0.958", "3.75"]
