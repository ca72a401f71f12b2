"""The notebook conventions shared by release, execute, self-checks and grading, and the functions
that read them.

A notebook in ``solutions/`` is a sequence of cells; code cells carry at most one role tag:

- ``setup``: imports and data the rest of the notebook needs; run when grading.
- ``exercise``: graded code, exactly one top-level function; the solution sits between BEGIN and
  END markers. Released with the region replaced by STUB; the only thing grading takes from a
  submission.
- ``check``: the self-check under an exercise; run when grading.
- ``instructor``: dropped from the released notebook (any cell type).
Untagged cells are teaching material (demos, figures, widgets): released, not run when grading.

Public functions (release and grading both use them); all report problems with ``NotebookError``:

- ``read_notebook(path)``: a notebook as plain dicts with every source a single string, or a
  ``NotebookError`` saying what is wrong with the file.
- ``dumps(nb)`` / ``write_notebook(nb, path)``: the one fixed JSON layout (Jupyter's own: sorted
  keys, one-space indent, sources split into lines), so equal notebooks give equal bytes.
- ``cell_role(cell)``: ``'setup'``, ``'exercise'``, ``'check'``, ``'instructor'`` or ``None``.
- ``solution_regions(source)``, ``replace_solutions(source)``: find and stub the solution regions.
- ``defined_functions(source)``, ``defined_function(source)``: the top-level ``def`` names.
- ``exercise_cells(nb)``: ``{function_name: cell}`` of the exercise cells.
"""

import ast
import json
import os
import re
import tempfile
from pathlib import Path

SETUP, EXERCISE, CHECK, INSTRUCTOR = "setup", "exercise", "check", "instructor"
ROLES = (SETUP, EXERCISE, CHECK, INSTRUCTOR)
CODE_ROLES = (SETUP, EXERCISE, CHECK)
"""The roles only a code cell can take (``instructor`` may tag markdown too)."""

BEGIN = "### BEGIN SOLUTION"
END = "### END SOLUTION"
STUB = ("# YOUR CODE HERE", "raise NotImplementedError()")
"""What a solution region becomes in the released notebook (indented like the region)."""

MARKER_LIKE = re.compile(r"#+\s*(BEGIN|END)[\s_-]*SOLUTION\b", re.IGNORECASE)
"""A comment that starts like a marker (any case, spacing, underscores): it must be an exact marker."""

SNIPPET_WIDTH = 72


class NotebookError(ValueError):
    """A notebook that cannot be read, breaks the conventions or fails to run, and where.

    ``str(error)`` is one line (``path, cell 3 (id 'exercise-adam'): problem``) plus, when known,
    a second line quoting the offending source line or the start of the cell. ``index`` counts
    cells from 0, as nbval and ``nb["cells"][index]`` do. Functions that see a single cell raise it
    without a location; callers that know the file or the index add theirs with ``locate``.
    """

    def __init__(self, problem, path=None, index=None, cell=None, line=None):
        super().__init__(problem)
        self.problem, self.path, self.index = problem, path, index
        self.cell_id, self.snippet = None, line
        self.locate(cell=cell)

    def locate(self, path=None, index=None, cell=None):
        """Fill in what is not known yet (the file, the cell index, the cell); returns self."""
        if self.path is None:
            self.path = path
        if self.index is None:
            self.index = index
        if cell is not None:
            self.cell_id = self.cell_id or cell.get("id")
            if self.snippet is None:
                self.snippet = next((s for s in _source(cell).splitlines() if s.strip()), None)
        return self

    def __str__(self):
        where = [shown_path(self.path)] if self.path is not None else []
        if self.index is not None:
            where.append(f"cell {self.index}" + (f" (id {self.cell_id!r})" if self.cell_id else ""))
        elif self.cell_id:
            where.append(f"cell id {self.cell_id!r}")
        head = f"{', '.join(where)}: {self.problem}" if where else self.problem
        if self.snippet is None:
            return head
        snippet = self.snippet.strip()
        if len(snippet) > SNIPPET_WIDTH:
            snippet = snippet[:SNIPPET_WIDTH - 3] + "..."
        return f"{head}\n    | {snippet}"


def shown_path(path):
    """``path`` relative to the current folder when it is inside it (shorter messages)."""
    try:
        return str(Path(path).resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def _source(cell):
    source = cell.get("source", "")
    return source if isinstance(source, str) else "".join(source)


# --- reading and writing ---------------------------------------------------------------------
# Plain JSON, not nbformat: importing nbformat costs seconds (its schema validator loads a URI
# grammar), and ``course release --check`` must answer in well under two.

CELL_TYPES = ("code", "markdown", "raw")
SPLIT_MIMES = ("application/javascript", "image/svg+xml")
"""Besides ``text/*``, the output formats Jupyter stores as lists of lines."""


def read_notebook(path):
    """Read an nbformat-4 notebook as plain dicts, every multi-line string (sources, text
    outputs) joined into one string; nothing else changes (cell ids are never invented).

    Raises ``NotebookError`` (naming the file, and the cell when it is one cell) when the file
    cannot be read, is not UTF-8 JSON, is not nbformat 4, or a cell lacks what nbformat 4
    requires (``cell_type``, ``source``, ``metadata``; ``outputs`` for code). For nbformat's
    attribute access (nbclient needs it), pass the result to ``nbformat.from_dict``.
    """
    path = Path(path)
    try:
        nb = json.loads(path.read_bytes().decode("utf-8"))
    except OSError as e:
        raise NotebookError(f"cannot read it ({e.strerror})", path) from None
    except UnicodeDecodeError:
        raise NotebookError("is not UTF-8 text: is it a notebook?", path) from None
    except json.JSONDecodeError as e:
        raise NotebookError(f"is not valid JSON ({e.msg}, line {e.lineno} column {e.colno}): "
                            "restore it from git or re-save it in JupyterLab", path) from None
    if not isinstance(nb, dict) or not isinstance(nb.get("cells"), list):
        raise NotebookError("is not a notebook (no list of cells)", path)
    if nb.get("nbformat") != 4:
        raise NotebookError(f"is nbformat {nb.get('nbformat')}.{nb.get('nbformat_minor')}, not 4: convert it "
                            "with `jupyter nbconvert --to notebook --nbformat 4`", path)
    for index, cell in enumerate(nb["cells"]):
        problem = _cell_problem(cell)
        if problem:
            raise NotebookError(f"is not an nbformat 4 cell: {problem}", path, index)
        _map_text(cell, _join)
    return nb


def _cell_problem(cell):
    """What is missing from an nbformat 4 cell, or None."""
    if not isinstance(cell, dict) or cell.get("cell_type") not in CELL_TYPES:
        return f"cell_type must be one of {', '.join(CELL_TYPES)}"
    if not isinstance(cell.get("source"), (str, list)) or not isinstance(cell.get("metadata"), dict):
        return "it needs a source and a metadata dict"
    if cell["cell_type"] == "code" and not isinstance(cell.get("outputs"), list):
        return "a code cell needs a list of outputs"
    return None


def _join(value):
    return "".join(value) if isinstance(value, list) and all(isinstance(v, str) for v in value) else value


def _split(value):
    return value.splitlines(True) if isinstance(value, str) else value


def _map_text(cell, f):
    """Apply ``f`` (join or split) to the cell's multi-line strings, as Jupyter stores them."""
    cell["source"] = f(cell["source"])
    bundles = list(cell.get("attachments", {}).values())
    for output in cell.get("outputs", []):
        if output.get("output_type") == "stream":
            output["text"] = f(output.get("text", ""))
        bundles.append(output.get("data", {}))
    for bundle in bundles:
        for mime, value in bundle.items():
            if mime.startswith("text/") or mime in SPLIT_MIMES:
                bundle[mime] = f(value)


def dumps(nb):
    """The notebook as text in the one fixed layout, Jupyter's own (keys sorted, one-space indent,
    multi-line strings as lists of lines, non-ASCII kept, a final newline): equal notebooks give
    equal bytes, and saving a released notebook in JupyterLab changes nothing."""
    nb = json.loads(json.dumps(nb))
    for cell in nb["cells"]:
        _map_text(cell, _split)
    return json.dumps(nb, sort_keys=True, indent=1, ensure_ascii=False) + "\n"


def write_notebook(nb, path):
    """Write ``dumps(nb)`` to ``path`` (UTF-8, ``\\n`` newlines) atomically: a reader never sees half a file."""
    write_text(Path(path), dumps(nb))


def write_text(path, text):
    """Write ``text`` to ``path`` through a temporary file in the same folder and a rename.

    The file gets the permissions a plain ``open(path, "w")`` would give (mkstemp's are 0600).
    """
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as f:
            f.write(text)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


# --- cells -----------------------------------------------------------------------------------

def cell_role(cell):
    """The cell's role tag (one of ``ROLES``) or ``None`` for teaching material.

    Raises ``NotebookError`` for a cell with more than one role tag, or a non-code cell tagged
    ``setup``, ``exercise`` or ``check``. Other tags are allowed and ignored.
    """
    tags = cell.get("metadata", {}).get("tags", [])
    roles = list(dict.fromkeys(tag for tag in tags if tag in ROLES))
    if len(roles) > 1:
        raise NotebookError(f"has {len(roles)} role tags ({', '.join(roles)}): a cell takes at most one of "
                            f"{', '.join(ROLES)}", cell=cell)
    role = roles[0] if roles else None
    if role in CODE_ROLES and cell.get("cell_type") != "code":
        raise NotebookError(f"is a {cell.get('cell_type')} cell tagged {role!r}: only code cells take "
                            f"{', '.join(CODE_ROLES)}", cell=cell)
    return role


def _marker(line):
    """``BEGIN``, ``END`` or ``None`` for one source line.

    A comment that starts like a marker but is spelt otherwise (``MARKER_LIKE``) is an error, not
    ordinary text: a misspelt marker would otherwise release the solution to students.
    """
    text = line.strip()
    if text in (BEGIN, END):
        return text
    if MARKER_LIKE.match(text):
        raise NotebookError(f"malformed marker: write it exactly as {BEGIN!r} or {END!r}", line=line)
    return None


def solution_regions(source):
    """The solution regions of a cell's source: ``[(begin, end), ...]``, the 0-based line numbers
    of each BEGIN marker and its END marker, in order (empty when there are none).

    Raises ``NotebookError`` (quoting the line) for a malformed marker,
    an END with no open region (out of order or unbalanced), a BEGIN inside an open region
    (regions do not nest), and a BEGIN that is never closed.
    """
    regions, begin = [], None
    lines = source.splitlines()
    for number, line in enumerate(lines):
        marker = _marker(line)
        if marker == BEGIN and begin is not None:
            raise NotebookError(f"nested {BEGIN!r}: the region opened on line {begin + 1} is not closed yet "
                                f"(regions do not nest)", line=line)
        if marker == BEGIN:
            begin = number
        elif marker == END and begin is None:
            raise NotebookError(f"{END!r} on line {number + 1} has no open {BEGIN!r} before it", line=line)
        elif marker == END:
            regions.append((begin, number))
            begin = None
    if begin is not None:
        raise NotebookError(f"{BEGIN!r} on line {begin + 1} is never closed by {END!r}", line=lines[begin])
    return regions


def replace_solutions(source):
    """Replace every solution region (markers included) by ``STUB``, indented like its BEGIN marker.

    Returns ``(new_source, replaced)``; ``replaced`` is False, and the source unchanged, when the
    cell has no region. What that means (an error for an exercise cell) is the caller's decision.
    Errors as ``solution_regions``.
    """
    lines = source.splitlines(keepends=True)
    regions = solution_regions(source)
    for begin, end in reversed(regions):
        indent = lines[begin][:len(lines[begin]) - len(lines[begin].lstrip())]
        ending = lines[end][len(lines[end].rstrip("\r\n")):]
        lines[begin:end + 1] = [f"{indent}{STUB[0]}\n", f"{indent}{STUB[1]}{ending}"]
    return "".join(lines), bool(regions)


def defined_functions(source):
    """The names of the functions a cell's source defines at top level (``def`` or ``async def``,
    not nested functions or methods), in order. Raises ``NotebookError`` when it is not valid Python."""
    try:
        tree = ast.parse(source)
    except SyntaxError as e:
        raise NotebookError(f"is not valid Python ({e.msg}, line {e.lineno})", line=e.text) from None
    return [node.name for node in tree.body if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))]


def defined_function(source):
    """The name of the one function a cell's source defines at top level.

    Raises ``NotebookError`` when it defines none or several, or is not valid Python.
    """
    names = defined_functions(source)
    if not names:
        raise NotebookError("defines no top-level function: an exercise cell defines exactly one, the graded one")
    if len(names) > 1:
        raise NotebookError(f"defines {len(names)} top-level functions ({', '.join(names)}): an exercise cell "
                            "defines exactly one, the graded one; put helpers inside it")
    return names[0]


def exercise_cells(nb):
    """``{function_name: cell}`` for the notebook's exercise cells, in notebook order.

    Raises ``NotebookError`` (with the cell's index) for a cell with several role tags, an
    exercise cell that does not define exactly one top-level function, and two exercise cells
    that define the same function.
    """
    found = {}
    for index, cell in enumerate(nb["cells"]):
        try:
            if cell_role(cell) != EXERCISE:
                continue
            name = defined_function(_source(cell))
        except NotebookError as e:
            raise e.locate(index=index, cell=cell)
        if name in found:
            first, _ = found[name]
            raise NotebookError(f"defines {name}(), which cell {first} already defines: one exercise per function",
                                index=index, cell=cell)
        found[name] = (index, cell)
    return {name: cell for name, (_, cell) in found.items()}
