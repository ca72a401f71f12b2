"""The hidden cases: how the grader scores an exercise, with the self-check's own code.

Every graded function has one catalogue of cases (``course_instructor/cases``), each public or
hidden. The builder writes the hidden ones, with their right outputs and the outputs of the
function's known mistakes, to ``tests/hidden/cases/<exercise>.json``; :func:`load_hidden` reads
them. The grader scores an exercise by running each of its hidden cases through the same
``Check`` of ``course_lib.checks`` as the self-check (the same protocol, comparison and
wording), in the grading process, with the student's function as a :class:`RemoteFunction`: one
point per case passed (:func:`grade`). A failed case's feedback is the check's verdict on it,
worded so as to reveal neither its inputs nor its expected values ("your first step is 3.16x
too large. This is Adam without bias correction: ...").

A :class:`RemoteFunction` runs the call in the student's kernel; the arguments and the result
cross as plain data (``wire``), and the arguments, as the call left them, are copied back into
the caller's objects (dicts, lists, arrays, generators), so that an input changed in place
looks exactly as it would in-process; an array of the arguments that the function returns comes
back as the caller's own array (so a check sees that a result shares an input's array). Values that are not plain data (a layer's cache) stay in
the kernel as ``wire.Handle`` objects: pass them back. A :class:`LocalFunction` does the same
in this process (for the test suite). What goes wrong in student code becomes the check's own
``Finding`` (not implemented, an exception with the student's line, the reference called,
not defined); a kernel that dies, hangs or stops answering raises :class:`CallLost`.
"""

import random
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from course_lib.checks import CHECKS
from course_lib.checks.framework import NOT_IMPLEMENTED, Finding, load, raised

from . import agent, wire
from .kernel import AgentStopped, KernelDied, KernelTimeout

__all__ = ["HiddenCases", "HiddenCasesError", "Outcome", "load_hidden", "grade", "CallLost", "RemoteFunction",
           "LocalFunction", "remote_functions", "local_functions", "CASES"]

CASES = "cases"
"""The folder of the hidden folder (``tests/hidden/``) that holds the case files."""


class HiddenCasesError(Exception):
    """The hidden cases cannot be used (a file that does not read, an exercise with no check)."""


@dataclass(frozen=True)
class HiddenCases:
    """The hidden cases of one graded function, as ``course_lib.checks.framework.load`` reads them."""
    exercise: str     # "adam"
    path: Path
    data: dict        # cases (StoredCase), mistakes, rule

    def __len__(self):
        return len(self.data["cases"])


@dataclass(frozen=True)
class Outcome:
    """One hidden case's result. ``kind``: passed, failed, raised, not_implemented, reference,
    not_defined. ``hint``: why it failed, safe to show."""
    description: str
    kind: str
    hint: str = ""

    @property
    def passed(self):
        return self.kind == "passed"


KINDS = {"not_implemented": "not_implemented", "uses_reference": "reference", "not_defined": "not_defined",
         "error": "raised"}
"""The outcome of a failed case, by the check's diagnosis (any other: ``failed``)."""


def load_hidden(folder):
    """``{exercise: HiddenCases}`` from ``folder/cases/*.json`` (``folder``: ``tests/hidden``)."""
    found = {}
    for path in sorted((Path(folder) / CASES).glob("*.json")):
        try:
            data = load(path)
        except (OSError, ValueError, KeyError, TypeError) as e:
            raise HiddenCasesError(f"{path} does not read: {type(e).__name__}: {e}") from None
        exercise = data.get("exercise")
        if exercise != path.stem or exercise not in CHECKS:
            raise HiddenCasesError(f"{path} holds the cases of {exercise!r}, which is not {path.stem!r} or has no "
                                   f"check in course_lib.checks")
        if not data["cases"]:
            raise HiddenCasesError(f"{path} holds no case")
        found[exercise] = HiddenCases(exercise, path, data)
    return found


def grade(hidden, functions):
    """The ``Outcome`` of every case of ``hidden`` (a :class:`HiddenCases`) for the function of its
    exercise in ``functions`` (name -> Remote or Local function). A dead or hung kernel is not an
    outcome: :class:`CallLost` propagates to whoever manages the kernel."""
    results = CHECKS[hidden.exercise].grade(functions[hidden.exercise], hidden.data)
    return [Outcome(case.label, "passed") if result.passed else
            Outcome(case.label, KINDS.get(result.diagnosis, "failed"), result.text)
            for case, result in zip(hidden.data["cases"], results)]


# --------------------------------------------------------------------------------------
# The function a check receives
# --------------------------------------------------------------------------------------

class CallLost(BaseException):
    """The kernel died, hung or stopped answering during a call: no verdict on the student's code.

    A BaseException, so that no ``except Exception`` of a check turns it into one; ``error`` is
    the kernel's own exception (KernelDied, KernelTimeout, AgentStopped)."""

    def __init__(self, error):
        super().__init__(str(error))
        self.error = error


class _Function:
    """Calls ``name`` through the agent; subclasses say where the agent runs. ``siblings``: the
    other graded functions of the notebook, by name (a backward's check calls the forward)."""

    def __init__(self, name):
        self.__name__ = self.name = name
        self.siblings = {}

    def __call__(self, *args, **kwargs):
        try:
            reply = wire.decode(self._ask(wire.encode({"call": self.name, "args": list(args), "kwargs": kwargs})))
        except wire.WireError as e:
            raise Finding("wrong_type", f"what your function returned cannot be checked ({e})") from None
        if not reply["ok"]:
            raise _finding(reply)
        replaced = {tuple(path) for path in reply["replaced"]}
        aliases = reply.get("aliases", [])
        originals = {tuple(where): _at((args, kwargs), where) for _, where, when in aliases if when == "given"}
        for i, (before, after) in enumerate(zip(args, reply["args"])):
            _sync(before, after, (0, i), replaced)
        _sync(kwargs, reply["kwargs"], (1,), replaced)
        result = reply["result"]
        for path, where, when in aliases:   # an argument's array returned: the caller's own array, as in-process
            result = _put(result, path, originals[tuple(where)] if when == "given" else _at((args, kwargs), where))
        return result


class RemoteFunction(_Function):
    """A student's function in its kernel (the kernel's agent must be serving)."""

    def __init__(self, name, kernel, timeout):
        super().__init__(name)
        self.kernel, self.timeout = kernel, timeout

    def _ask(self, message):
        try:
            return self.kernel.call(message, self.timeout)
        except (KernelDied, KernelTimeout, AgentStopped) as e:
            raise CallLost(e) from e


class LocalFunction(_Function):
    """A function of ``namespace`` in this process, called exactly as a kernel would call it."""

    def __init__(self, name, namespace, handles):
        super().__init__(name)
        self.namespace, self.handles = namespace, handles

    def _ask(self, message):
        states = np.random.get_state(), random.getstate()   # a kernel's global generators are its own
        try:
            return agent.answer(message, self.namespace, self.handles)
        finally:
            np.random.set_state(states[0])
            random.setstate(states[1])


def _siblings(functions):
    for function in functions.values():
        function.siblings = functions
    return functions


def remote_functions(names, kernel, timeout):
    """``{name: RemoteFunction}`` for the graded functions ``names`` of one kernel, each the others' sibling."""
    return _siblings({name: RemoteFunction(name, kernel, timeout) for name in names})


def local_functions(namespace):
    """``{name: LocalFunction}`` for the functions of ``namespace``, sharing their kept values (a
    cache one returns can be passed to another), as functions of one kernel do (for the test suite)."""
    handles = agent.Handles()
    return _siblings({name: LocalFunction(name, namespace, handles) for name in namespace})


def _finding(reply):
    """The check's ``Finding`` for a call that did not return."""
    kind = reply.get("kind")
    if kind == "raised":
        if reply.get("reference"):
            return Finding("uses_reference", "it calls course_lib's solution, which is not available while grading: "
                                             "write it yourself")
        if reply["error"] == "NotImplementedError":
            return Finding("not_implemented", NOT_IMPLEMENTED)
        return raised(reply["error"], reply.get("line"))
    if kind == "not_defined":
        return Finding("not_defined", f"{reply.get('name')}() is not defined when the notebook has run (renamed, or "
                                      f"its cell is missing?)")
    return Finding("wrong_type", f"what your function returned cannot be sent to the grader ({reply.get('error')})")


def _at(value, path):
    """The value at ``path`` (keys and indices) inside ``value``."""
    for key in path:
        value = value[key]
    return value


def _put(value, path, item):
    """``value`` with ``item`` at ``path`` (in place in lists and dicts, a new tuple for a tuple)."""
    if not path:
        return item
    key, rest = path[0], path[1:]
    if type(value) is tuple:
        items = list(value)
        items[key] = _put(items[key], rest, item)
        return tuple(items)
    value[key] = _put(value[key], rest, item)
    return value


def _sync(before, after, path, replaced):
    """Copy ``after`` into ``before`` in place where its type allows; True when done. ``path``:
    where ``before`` sits in the arguments; ``replaced``: the paths of the arrays the call
    replaced by others (those are assigned, not written into: the caller's array stays as it was)."""
    if type(before) is dict and type(after) is dict:
        for key in [k for k in before if k not in after]:
            del before[key]
        for key, value in after.items():
            if key not in before or not _sync(before[key], value, (*path, key), replaced):
                before[key] = value
        return True
    if type(before) is list and type(after) is list:
        if len(before) != len(after) or not all(_sync(b, a, (*path, i), replaced)
                                                for i, (b, a) in enumerate(zip(before, after))):
            before[:] = after
        return True
    if type(before) is tuple and type(after) is tuple and len(before) == len(after):
        return all([_sync(b, a, (*path, i), replaced) for i, (b, a) in enumerate(zip(before, after))])
    if (isinstance(before, np.ndarray) and isinstance(after, np.ndarray) and path not in replaced
            and before.shape == after.shape and before.dtype == after.dtype and before.flags.writeable):
        before[...] = after
        return True
    if isinstance(before, np.random.Generator) and isinstance(after, np.random.Generator):
        before.bit_generator.state = after.bit_generator.state
        return True
    return False
