"""Copies of ``course_lib`` whose references hold no answer: for the bundle and the grading sandbox.

``course_lib.reference`` holds the working implementation of every graded function, one module
per notebook (``reference.MODULES``). A student's copy and a grading kernel's copy of
``course_lib`` keep each such module's names, signatures and docstrings, so that imports and
``help()`` still work, but every function's body is replaced: it only raises. The rest of
``course_lib`` is copied as it is.
"""

import ast
import shutil
from pathlib import Path

import course_lib
from course_lib.reference import MODULES

__all__ = ["PACKAGE", "REFERENCE", "stub_source", "copy_course_lib", "reference_modules", "builds_on",
           "working_functions"]

PACKAGE = Path(course_lib.__file__).resolve().parent
"""The ``course_lib`` source copied: this installation's."""

REFERENCE = PACKAGE / "reference"


def reference_modules(notebooks=()):
    """The module files of ``course_lib/reference`` that belong to the given notebook numbers
    (``["01", "02"]``); every one when ``notebooks`` is None."""
    wanted = MODULES if notebooks is None else {n: MODULES[n] for n in notebooks}
    return sorted(REFERENCE / f"{name}.py" for name in wanted.values())


def builds_on(notebook):
    """The notebook numbers whose reference modules the module of ``notebook`` imports from
    (``from .momentum import ...``): a revealed module works only with those revealed too."""
    numbers = {module: number for number, module in MODULES.items()}
    tree = ast.parse((REFERENCE / f"{MODULES[notebook]}.py").read_text(encoding="utf-8"))
    return sorted({numbers[node.module] for node in ast.walk(tree)
                   if isinstance(node, ast.ImportFrom) and node.level == 1 and node.module in numbers})


def stub_source(text, module, body):
    """``text`` (a module's source) with every function's body, at the top level and in classes,
    replaced by the statements ``body.format(name=<module>.<function>)``. Of each function's
    docstring only the first line is kept: the rest may spell out the answer (a formula)."""
    tree = ast.parse(text)

    def replace(nodes, prefix):
        for node in nodes:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                summary = (ast.get_docstring(node) or "").strip().split("\n")[0]
                docstring = [ast.Expr(ast.Constant(summary))] if summary else []
                node.body = docstring + ast.parse(body.format(name=f"{prefix}{node.name}")).body
            elif isinstance(node, ast.ClassDef):
                replace(node.body, f"{prefix}{node.name}.")

    replace(tree.body, f"{module}.")
    return ast.unparse(tree) + "\n"


def copy_course_lib(target, stubs):
    """Copy ``course_lib`` to the folder ``target`` (without ``__pycache__``), each module file in
    ``stubs`` (a path under ``REFERENCE`` -> the body its functions get) rewritten by
    :func:`stub_source`. Returns the dotted names of the modules stubbed."""
    target = Path(target)
    shutil.copytree(PACKAGE, target, ignore=shutil.ignore_patterns("__pycache__", "*.py[co]"))
    done = []
    for path, body in stubs.items():
        relative = Path(path).resolve().relative_to(PACKAGE)
        module = ".".join(("course_lib", *relative.with_suffix("").parts))
        (target / relative).write_text(stub_source(Path(path).read_text(encoding="utf-8"), module, body),
                                       encoding="utf-8")
        done.append(module)
    return done


def working_functions(text):
    """The names of the functions in the module source ``text`` (top level and in classes) whose body
    does more than hold a docstring, import and raise: what a stubbed module must not have."""
    found = []

    def visit(nodes, prefix):
        for node in nodes:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                body = node.body[1:] if ast.get_docstring(node) is not None else node.body
                body = [n for n in body if not isinstance(n, (ast.Import, ast.ImportFrom))]
                if not (len(body) == 1 and isinstance(body[0], ast.Raise)):
                    found.append(f"{prefix}{node.name}")
            elif isinstance(node, ast.ClassDef):
                visit(node.body, f"{prefix}{node.name}.")

    visit(ast.parse(text).body, "")
    return found
