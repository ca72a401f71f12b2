"""Your own functions from earlier notebooks, so that later notebooks run on your code.

In notebook 06, say::

    from course_lib import mine
    adam, he = mine.load("adam", "he")      # or: mine.adam

reads ``03_adaptive_methods.ipynb`` and ``05_weight_initialization.ipynb`` from the folder the notebook
runs in (JupyterLab runs a notebook in its own folder, so keep the course's notebooks together),
runs their exercise cells (with the imports of their setup cells) in a fresh namespace, checks the
function with its self-check and returns it. Nothing of the other cells runs: no demo, no
training. A function that is missing, not written yet or failing its self-check stops with a
message that says which notebook to finish::

    MissingWork: sgd_momentum from notebook 02 does not pass its self-check yet (✗ sgd_momentum: ...):
    run notebook 02 first, or ask for the revealed solution.

Where the instructor has revealed a notebook's solution (``course_lib.reference`` then works for
it), a failing function is replaced by the revealed one, and ``load`` says so.
"""

import ast
import importlib
import json
from pathlib import Path

from .checks import run_check

__all__ = ["load", "MissingWork", "exercises"]


class MissingWork(Exception):
    """A function of an earlier notebook cannot be used yet; the message says what to do."""


_loaded = {}
"""(notebook path, its modification time) -> the namespace its exercise cells defined."""


def _cells(nb, tag):
    return ["".join(c["source"]) if isinstance(c["source"], list) else c["source"]
            for c in nb.get("cells", [])
            if c.get("cell_type") == "code" and tag in c.get("metadata", {}).get("tags", [])]


def _defined(source):
    try:
        return [n.name for n in ast.parse(source).body if isinstance(n, ast.FunctionDef)]
    except SyntaxError:
        return []


def exercises(folder):
    """``{function name: notebook path}`` for every exercise of the course's notebooks in ``folder``."""
    found = {}
    for path in sorted(Path(folder).glob("[0-9][0-9]_*.ipynb")):
        try:
            nb = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        for source in _cells(nb, "exercise"):
            for name in _defined(source):
                found.setdefault(name, path)
    return found


def _imports(source):
    """Only the import statements of a setup cell (its other lines may plot or load data)."""
    source = "\n".join(line for line in source.splitlines() if not line.lstrip().startswith(("%", "!")))
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return ""
    return "\n".join(ast.unparse(n) for n in tree.body if isinstance(n, (ast.Import, ast.ImportFrom)))


def _namespace(path):
    key = (path, path.stat().st_mtime_ns)
    if key not in _loaded:
        nb = json.loads(path.read_text(encoding="utf-8"))
        namespace, errors = {"__name__": f"mine_{path.stem}"}, {}
        for source in [_imports(s) for s in _cells(nb, "setup")] + _cells(nb, "exercise"):
            try:
                exec(compile(source, f"<{path.name}>", "exec"), namespace)   # noqa: S102 -- the student's own code
            except Exception as error:  # noqa: BLE001 -- one broken cell must not hide the other functions
                for name in _defined(source) or ["(setup)"]:
                    errors[name] = f"{type(error).__name__}: {error}"
        _loaded[key] = namespace, errors
    return _loaded[key]


def _revealed(name):
    """The reference of ``name`` when the instructor has revealed it (it passes its own check), else None."""
    from .reference import MODULES

    for module in MODULES.values():
        fn = getattr(importlib.import_module(f"{__package__}.reference.{module}"), name, None)
        if fn is not None:
            return fn if run_check(name, fn).passed else None
    return None


def _load_one(name, folder):
    where = exercises(folder)
    if name not in where:
        raise MissingWork(f"no notebook in {folder} has an exercise `{name}`: keep the course's notebooks "
                          f"together in one folder and open this one from there")
    path = where[name]
    number = path.name[:2]
    namespace, errors = _namespace(path)
    fn = namespace.get(name)
    verdict = run_check(name, fn) if callable(fn) else None
    if verdict is not None and verdict.passed:
        return fn
    if name in errors:
        problem = f"does not run: its cell raised {errors[name]}"
    elif verdict is None or verdict.diagnosis == "not_implemented":
        problem = "is not written yet"
    else:
        problem = f"does not pass its self-check yet ({verdict.message})"
    revealed = _revealed(name)
    if revealed is not None:
        print(f"{name} from notebook {number} {problem}: using the revealed solution instead.")
        return revealed
    raise MissingWork(f"{name} from notebook {number} ({path.name}) {problem}: run notebook {number} first "
                      f"and make its check pass, or ask for the revealed solution.")


def load(*names, folder=None):
    """Your functions ``names`` from the course's notebooks in ``folder`` (default: the current
    folder, where the notebook runs): one function for one name, else a tuple in that order.
    Raises :class:`MissingWork` naming the notebook to finish."""
    __tracebackhide__ = True   # IPython shows the student's cell and the message, not mine's frames
    if not names:
        raise TypeError("load: name the functions, e.g. mine.load('adam', 'he')")
    folder = Path.cwd() if folder is None else Path(folder)
    functions = []
    for name in names:
        functions.append(_load_one(name, folder))
    return functions[0] if len(functions) == 1 else tuple(functions)


def __getattr__(name):
    """``mine.adam`` is ``mine.load("adam")``."""
    __tracebackhide__ = True
    if name.startswith("__"):
        raise AttributeError(name)
    return load(name)
