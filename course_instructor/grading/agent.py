"""The kernel's side of grading: call the student's functions for the grading process.

After the grading notebook's cells have run, the grading process executes one silent cell,
``serve()``. It answers calls over a private channel (a socket the kernel host handed to the
kernel process before any student code existed) until the grading process says stop. Each
request names a function of the student's namespace and carries its arguments as plain data
(``wire``); the reply carries the result, the arguments as the call left them (so the grading
process can see what the function changed in place, and which arrays inside them it replaced
by others, and which arrays of the result are arrays of the arguments), or what went wrong. Values that are not plain data (a layer's cache) stay here as
handles.

Nothing here decides whether an answer is right: the grading process compares, with the
reference's stored answers, in its own process. The same ``answer`` serves the test suite
in-process (``hidden.LocalFunction``), so the hidden cases run the same way on the reference.
"""

import linecache
import os
import random
import struct
import sys
import sysconfig

import numpy as np

from course_lib.checks import probes

from . import wire

__all__ = ["serve", "answer", "Handles", "ReferenceUnavailable", "cap_output", "CHANNEL_FD", "OUTPUT_LIMIT"]

CHANNEL_FD = None
"""The channel's file descriptor, set by the kernel host before the kernel starts."""

OUTPUT_LIMIT = 100_000
"""Characters of output kept per cell. The kernel cuts there (so a flood costs no time), and the
grading process cuts again on what it receives (so a kernel that undoes the cut gains nothing)."""

# Captured before any student code runs: a student who patches these gains nothing.
_read, _write, _seed, _pyseed = os.read, os.write, np.random.seed, random.seed
_unpack, _pack, _callable, _type, _ndarray = struct.unpack, struct.pack, callable, type, np.ndarray
_shares = np.shares_memory
_LIBRARY = tuple({sysconfig.get_paths()[k] for k in ("stdlib", "platstdlib", "purelib", "platlib")}
                 | {os.path.dirname(os.path.dirname(os.path.abspath(path))) for path in (__file__, probes.__file__)})
"""Where library code lives (Python's, course_instructor's, course_lib's): not the student's lines."""


class ReferenceUnavailable(RuntimeError):
    """Raised by every graded function of course_lib while a notebook is graded."""

    def __init__(self, name):
        super().__init__(f"{name} is the reference solution, unavailable while grading: the exercise must "
                         f"compute its result itself")


class Handles:
    """Values kept in the kernel, by number; the same object always gets the same number."""

    def __init__(self):
        self.values, self.numbers = [], {}

    def keep(self, value):
        number = self.numbers.get(id(value))
        if number is None:
            number = self.numbers[id(value)] = len(self.values)
            self.values.append(value)
        return wire.Handle(number)

    def get(self, number):
        if not 0 <= number < len(self.values):
            raise wire.WireError(f"no value #{number} is kept")
        return self.values[number]


class _Silence:
    """Where the student's prints go during a call: nowhere (a flood costs nothing)."""

    def write(self, text):
        return len(text)

    def flush(self):
        pass


class _Capped:
    """A stream that passes on at most ``room`` characters per cell and counts the rest."""

    def __init__(self, stream, limit):
        self._stream, self.room, self.cut = stream, limit, 0

    def write(self, text):
        kept = text[:max(self.room, 0)]
        self.room -= len(kept)
        self.cut += len(text) - len(kept)
        if kept:
            self._stream.write(kept)
        return len(text)

    def __getattr__(self, name):
        return getattr(self._stream, name)


def cap_output(shell, limit=OUTPUT_LIMIT):
    """Cut what each cell prints at ``limit`` characters (stdout and stderr each), with a note."""
    streams = [_Capped(sys.stdout, limit), _Capped(sys.stderr, limit)]
    sys.stdout, sys.stderr = streams

    def reset(*_):
        for stream in streams:
            stream.room, stream.cut = limit, 0

    def report(*_):
        cut = sum(stream.cut for stream in streams)
        if cut:
            streams[0]._stream.write(f"\n[grading: {cut:,} more characters of output were cut]\n")

    shell.events.register("pre_run_cell", reset)
    shell.events.register("post_run_cell", report)


def answer(message, namespace, handles):
    """The reply (a message) to one request (a message): call a function of ``namespace``."""
    try:
        request = wire.decode(message, handle=handles.get)
        name, args, kwargs = request["call"], request["args"], request["kwargs"]
    except (wire.WireError, KeyError, TypeError) as e:
        return wire.encode({"ok": False, "kind": "protocol", "error": str(e)})
    fn = namespace.get(name)
    if not _callable(fn):
        return wire.encode({"ok": False, "kind": "not_defined", "name": name})
    _seed(0)
    _pyseed(0)
    given = _arrays_inside([args, kwargs])
    saved = sys.stdout, sys.stderr
    sys.stdout = sys.stderr = _Silence()
    try:
        result = fn(*args, **kwargs)
    except BaseException as e:  # noqa: BLE001 (sys.exit and KeyboardInterrupt are answers too)
        return wire.encode({"ok": False, "kind": "raised", "error": _type(e).__name__,
                            "reference": isinstance(e, ReferenceUnavailable), "line": _student_line(e)})
    finally:
        sys.stdout, sys.stderr = saved
    now = _arrays_inside([args, kwargs])
    replaced = [list(path) for path, array in given.items() if now.get(path) is not array]
    try:
        return wire.encode({"ok": True, "result": result, "args": list(args), "kwargs": kwargs,
                            "replaced": replaced, "aliases": _aliases(result, given, now)}, keep=handles.keep)
    except BaseException as e:  # noqa: BLE001
        return wire.encode({"ok": False, "kind": "unsendable", "error": f"{_type(e).__name__}: {e}"})


def _arrays_inside(arguments):
    """``{path: array}`` for the arrays inside the dicts and lists of ``arguments`` (``[args,
    kwargs]``), by their path of keys and indices: the arrays a call may replace by others."""
    found = {}

    def visit(value, path):
        if _type(value) is dict:
            items = value.items()
        elif _type(value) in (list, tuple):
            items = enumerate(value)
        else:
            return
        for key, item in items:
            if len(path) >= 2 and _type(item) is _ndarray:
                found[(*path, key)] = item
            if len(path) < wire.MAX_DEPTH:
                visit(item, (*path, key))

    visit(arguments, ())
    return found


def _aliases(result, given, now):
    """``[[result path, argument path, "now" | "given"], ...]``: the arrays of ``result`` that are
    arrays of the arguments (or share their memory), as the call left them (``now``) or, for one
    the call replaced by another, as it was given, so that the grading process hands back the
    caller's own array there, as an in-process call would."""
    found = []
    if not (given or now):
        return found
    arguments = [(path, array, "now") for path, array in now.items()]
    arguments += [(path, array, "given") for path, array in given.items() if now.get(path) is not array]

    def visit(value, path):
        t = _type(value)
        if t is _ndarray:
            for where, array, when in arguments:
                if all(_type(k) in (str, int) for k in where) and (value is array or _shares(value, array)):
                    found.append([list(path), list(where), when])
                    return
        elif len(path) < wire.MAX_DEPTH and (t is dict or t in (list, tuple)):
            for key, item in (value.items() if t is dict else enumerate(value)):
                if _type(key) in (str, int):
                    visit(item, (*path, key))

    visit(result, ())
    return found


def _student_line(error):
    """The last line of the student's own code in the traceback (not the inputs, not a library's)."""
    found = None
    tb = error.__traceback__
    while tb is not None:
        filename = tb.tb_frame.f_code.co_filename
        if not filename.startswith(_LIBRARY):
            found = linecache.getline(filename, tb.tb_lineno).strip() or None
        tb = tb.tb_next
    return found


def serve(namespace=None):
    """Answer requests on ``CHANNEL_FD`` until a stop request or the end of the channel."""
    if namespace is None:
        from IPython import get_ipython

        namespace = get_ipython().user_ns
    handles = Handles()
    while True:
        message = _receive(CHANNEL_FD)
        if message is None or message == b"stop":
            return
        _send(CHANNEL_FD, answer(message, namespace, handles))


def _receive(fd):
    head = _read_exactly(fd, 8)
    if head is None:
        return None
    return _read_exactly(fd, _unpack(">Q", head)[0])


def _read_exactly(fd, size):
    chunks, left = [], size
    while left:
        chunk = _read(fd, min(left, 1 << 20))
        if not chunk:
            return None
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def _send(fd, message):
    data = memoryview(_pack(">Q", len(message)) + message)
    while data:
        data = data[_write(fd, data):]
