"""The hidden tests: found in ``tests/hidden/``, run on a student's function in its kernel.

A hidden test file is ``tests/hidden/test_<notebook>.py`` (``test_02_optimizers.py`` tests
``02_optimizers.ipynb``). Each test is a function ``test_*(fn, ...)`` whose first parameter is
named after the graded function it scores (``def test_adam_three_steps(adam)``); further
parameters name other graded functions of the notebook it needs (a backward pass needs the
student's forward pass for its cache: ``def test_dropout_backward(dropout_backward,
dropout_forward)``). The first line of its
docstring says what it checks in words a student may read: the feedback shows it. A test calls
the function as any Python function, with numbers, arrays, dicts, lists, NumPy Generators and
``probes`` (functions the student's code must call), computes the right answer with
``course_lib``'s reference, and checks with ``expect`` (whose messages are safe to show).

Passed in, the function is a ``RemoteFunction`` when grading (the call runs in the student's
kernel, arguments and results cross as plain data) or a ``LocalFunction`` in the test suite (the
same encoding and agent, in-process). Either way the arguments, as the function left them, are
copied back into the caller's objects (dicts, lists, arrays, generators), so a ``bn_param``'s
running statistics or a changed input look exactly as they would in-process. Values that are
not plain data (a layer's cache) stay in the kernel as ``wire.Handle`` objects: pass them back.
"""

import importlib.util
import inspect
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np

from . import agent, wire
from .expect import Mismatch

__all__ = ["HiddenTest", "Outcome", "discover", "run_test", "RemoteFunction", "LocalFunction", "local_functions",
           "StudentRaised", "HiddenTestsError"]


class HiddenTestsError(Exception):
    """The hidden tests cannot be used (a file that does not import, a test without a description)."""


class StudentRaised(Exception):
    """The student's function raised (or is missing); ``kind`` says which, ``line`` is their line."""

    def __init__(self, kind, error, line=None):
        super().__init__(error)
        self.kind, self.error, self.line = kind, error, line


@dataclass(frozen=True)
class HiddenTest:
    notebook: str      # "02_optimizers"
    exercise: str      # "adam"
    name: str          # "test_adam_three_steps"
    description: str   # the docstring's first line, shown to the student
    function: Callable
    uses: tuple = ()   # other graded functions it calls (after the exercise's own)


@dataclass(frozen=True)
class Outcome:
    """One hidden test's result. ``kind``: passed, failed, raised, not_implemented, reference,
    not_defined. ``hint``: why it failed, safe to show."""
    test: HiddenTest
    kind: str
    hint: str = ""

    @property
    def passed(self):
        return self.kind == "passed"


def discover(folder):
    """``{notebook: {exercise: [HiddenTest, ...]}}`` from the ``test_*.py`` files of ``folder``, in file order."""
    found = {}
    for path in sorted(Path(folder).glob("test_*.py")):
        notebook = path.stem[len("test_"):]
        module = _load(path)
        for name, fn in vars(module).items():
            if not name.startswith("test_") or not inspect.isfunction(fn) or fn.__module__ != module.__name__:
                continue
            params = list(inspect.signature(fn).parameters)
            if not params:
                raise HiddenTestsError(f"{path}: {name} must take the function it tests as its first argument")
            description = (inspect.getdoc(fn) or "").strip().splitlines()
            if not description:
                raise HiddenTestsError(f"{path}: {name} has no docstring; its first line is the student's feedback")
            test = HiddenTest(notebook, params[0], name, description[0], fn, tuple(params[1:]))
            found.setdefault(notebook, {}).setdefault(params[0], []).append(test)
    return found


def _load(path):
    name = f"course_hidden_tests.{path.stem}"
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(module)
    except Exception as e:
        raise HiddenTestsError(f"{path} does not import: {type(e).__name__}: {e}") from e
    sys.modules[name] = module
    return module


def run_test(test, functions):
    """Run one hidden test; ``functions`` maps each graded function's name to a Remote or Local
    function. Returns its ``Outcome``.

    A dead or hung kernel is not an outcome: ``KernelDied``, ``KernelTimeout`` and
    ``AgentStopped`` propagate to whoever manages the kernel.
    """
    try:
        test.function(*(functions[name] for name in (test.exercise, *test.uses)))
    except StudentRaised as e:
        return Outcome(test, e.kind, _raised_hint(e))
    except Mismatch as e:
        return Outcome(test, "failed", str(e))
    except wire.WireError as e:
        return Outcome(test, "failed", f"the result cannot be checked ({e})")
    except (AssertionError, ArithmeticError, LookupError, TypeError, ValueError, AttributeError) as e:
        return Outcome(test, "failed", "the result is not what the exercise asks for" +
                       ("" if isinstance(e, AssertionError) else f" ({type(e).__name__} while checking it)"))
    return Outcome(test, "passed")


def _raised_hint(e):
    if e.kind == "not_implemented":
        return "not implemented yet (it still raises NotImplementedError)"
    if e.kind == "reference":
        return "it calls course_lib's solution, which is not available while grading: write it yourself"
    if e.kind == "not_defined":
        return f"{e.error}() is not defined when the notebook has run (renamed, or its cell is missing?)"
    where = f" at `{e.line}`" if e.line else ""
    if e.error == "SystemExit":
        return f"it called sys.exit(){where}"
    if e.error == "MemoryError":
        return f"it ran out of memory{where}"
    return f"it raised {e.error}{where}"


# --------------------------------------------------------------------------------------
# The function a hidden test receives
# --------------------------------------------------------------------------------------

class _Function:
    """Calls ``name`` through the agent; subclasses say where the agent runs."""

    def __init__(self, name):
        self.__name__ = self.name = name

    def __call__(self, *args, **kwargs):
        reply = wire.decode(self._ask(wire.encode({"call": self.name, "args": list(args), "kwargs": kwargs})))
        if not reply["ok"]:
            raise _raised(reply)
        for before, after in zip(args, reply["args"]):
            _sync(before, after)
        _sync(kwargs, reply["kwargs"])
        return reply["result"]


class RemoteFunction(_Function):
    """A student's function in its kernel (the kernel's agent must be serving)."""

    def __init__(self, name, kernel, timeout):
        super().__init__(name)
        self.kernel, self.timeout = kernel, timeout

    def _ask(self, message):
        return self.kernel.call(message, self.timeout)


class LocalFunction(_Function):
    """A function of ``namespace`` in this process, called exactly as a kernel would call it."""

    def __init__(self, name, namespace, handles):
        super().__init__(name)
        self.namespace, self.handles = namespace, handles

    def _ask(self, message):
        return agent.answer(message, self.namespace, self.handles)


def local_functions(namespace):
    """``{name: LocalFunction}`` for the functions of ``namespace``, sharing their kept values (a
    cache one returns can be passed to another), as functions of one kernel do (for the test suite)."""
    handles = agent.Handles()
    return {name: LocalFunction(name, namespace, handles) for name in namespace}


def _raised(reply):
    kind = reply.get("kind")
    if kind == "raised":
        if reply.get("reference"):
            return StudentRaised("reference", reply["error"])
        if reply["error"] == "NotImplementedError":
            return StudentRaised("not_implemented", reply["error"])
        return StudentRaised("raised", reply["error"], reply.get("line"))
    if kind == "not_defined":
        return StudentRaised("not_defined", reply.get("name"))
    return StudentRaised("raised", f"an unusable result ({reply.get('error')})")


def _sync(before, after):
    """Copy ``after`` into ``before`` in place where its type allows; True when done."""
    if type(before) is dict and type(after) is dict:
        for key in [k for k in before if k not in after]:
            del before[key]
        for key, value in after.items():
            if key not in before or not _sync(before[key], value):
                before[key] = value
        return True
    if type(before) is list and type(after) is list:
        if len(before) != len(after) or not all(_sync(b, a) for b, a in zip(before, after)):
            before[:] = after
        return True
    if type(before) is tuple and type(after) is tuple and len(before) == len(after):
        return all([_sync(b, a) for b, a in zip(before, after)])
    if (isinstance(before, np.ndarray) and isinstance(after, np.ndarray) and before.shape == after.shape
            and before.dtype == after.dtype and before.flags.writeable):
        before[...] = after
        return True
    if isinstance(before, np.random.Generator) and isinstance(after, np.random.Generator):
        before.bit_generator.state = after.bit_generator.state
        return True
    return False
