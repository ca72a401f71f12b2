"""Values as plain data: what crosses between the grading process and a student's kernel.

A message is a JSON header followed by the raw bytes of its arrays::

    [8 bytes: length of the header][header, UTF-8 JSON][array 0][array 1]...

The header is a tree. JSON's own values stand for themselves (``NaN`` and ``Infinity``
included); every other value is an object with one key:

    {"list": [...]}  {"tuple": [...]}  {"dict": {name: value}}
    {"array": [dtype, shape, offset, nbytes]}   numbers and booleans only (dtype like "<f8")
    {"rng": state}         a numpy Generator, by its bit generator's state
    {"probe": [name, params]}  a ``course_lib.checks.probes.Probe``: a named function, built again there
    {"handle": n}          a value that stays in the kernel (a cache, an object): passed back by number

Both sides encode with ``encode`` and decode with ``decode``. The grading process decodes
what a kernel sends as untrusted input: JSON and numeric buffers only (no pickle, no object
arrays, checked sizes), so nothing a student returns runs code or compares "equal" in the
grading process. The kernel side encodes with its own small JSON writer built from C
functions captured when this module is imported, so a student who patches ``json``,
``numpy.save`` or ``print`` in the kernel changes nothing here.
"""

import json
import math
import struct
from json.encoder import encode_basestring_ascii as _quote

import numpy as np

from course_lib.checks.probes import Probe

__all__ = ["Handle", "encode", "decode", "WireError", "MAX_MESSAGE", "MAX_DEPTH"]

MAX_MESSAGE = 256 * 2**20
"""The largest message either side accepts (bytes); a bigger result is an error, not a crash."""

MAX_DEPTH = 32
"""Deeper structures are kept in the kernel as handles."""

NUMERIC_KINDS = "biufc"
"""dtype kinds that cross as bytes: bool, int, unsigned, float, complex."""

BIT_GENERATORS = ("PCG64", "PCG64DXSM", "MT19937", "Philox", "SFC64")

# Captured at import, before any student code runs (see the module docstring).
_type, _len, _repr_int, _repr_float = type, len, int.__repr__, float.__repr__
_ndarray, _generic, _Generator = np.ndarray, np.generic, np.random.Generator
_view, _tobytes, _asarray = np.ndarray.view, np.ndarray.tobytes, np.asarray
_isinstance, _join, _pack = isinstance, str.join, struct.pack
_frombuffer, _copy = np.frombuffer, np.ndarray.copy
_isnan, _isinf = math.isnan, math.isinf
_loads = json.loads


class WireError(ValueError):
    """A message that is not valid plain data (too big, malformed, a forbidden dtype)."""


class Handle:
    """A value kept in the kernel; the grading process can only pass it back."""

    __slots__ = ("number",)

    def __init__(self, number):
        self.number = number

    def __repr__(self):
        return f"<value kept in the kernel #{self.number}>"


# --------------------------------------------------------------------------------------
# Encoding
# --------------------------------------------------------------------------------------

def _float(x):
    if _isnan(x):
        return "NaN"
    if _isinf(x):
        return "Infinity" if x > 0 else "-Infinity"
    return _repr_float(x)


class _Encoder:
    """One message: the header's pieces, the array buffers, and where unencodable values go."""

    def __init__(self, keep):
        self.keep = keep  # value -> Handle (kernel side); None: every value must be plain
        self.buffers, self.offset = [], 0

    def node(self, v, depth=0):
        t = _type(v)
        if v is None:
            return "null"
        if t is bool:
            return "true" if v else "false"
        if t is int:
            return _repr_int(v)
        if t is float:
            return _float(v)
        if t is str:
            return _quote(v)
        if depth < MAX_DEPTH:
            if t is list or t is tuple:
                items = _join(",", [self.node(x, depth + 1) for x in v])
                return ('{"list":[' if t is list else '{"tuple":[') + items + "]}"
            if t is dict and all(_type(k) is str for k in v):
                items = _join(",", [_quote(k) + ":" + self.node(x, depth + 1) for k, x in v.items()])
                return '{"dict":{' + items + "}}"
        if _isinstance(v, (_ndarray, _generic)):
            array = _view(_asarray(v), _ndarray)
            if array.dtype.kind in NUMERIC_KINDS and array.dtype.fields is None:
                return self.array(array)
        if t is _Generator:
            return '{"rng":' + self.node(v.bit_generator.state, depth + 1) + "}"
        if t is Probe:
            return '{"probe":' + self.node([v.name, v.params], depth + 1) + "}"
        if t is Handle:
            return '{"handle":' + _repr_int(v.number) + "}"
        if self.keep is None:
            raise WireError(f"{t.__name__} is not plain data")
        return '{"handle":' + _repr_int(self.keep(v).number) + "}"

    def array(self, array):
        data = _tobytes(array, "C")
        shape = _join(",", [_repr_int(int(n)) for n in array.shape])
        header = (f'{{"array":[{_quote(array.dtype.str)},[{shape}],'
                  f'{_repr_int(self.offset)},{_repr_int(_len(data))}]}}')
        self.buffers.append(data)
        self.offset += _len(data)
        return header


def encode(value, keep=None):
    """``value`` as one message (bytes).

    keep: a function ``value -> Handle`` for values that are not plain data (the kernel keeps
    them); without it such a value raises ``WireError``.
    """
    encoder = _Encoder(keep)
    header = encoder.node(value).encode("ascii")
    message = b"".join([_pack(">Q", _len(header)), header, *encoder.buffers])
    if _len(message) > MAX_MESSAGE:
        raise WireError(f"the value is {_len(message) / 2**20:.0f} MiB as data, more than {MAX_MESSAGE // 2**20} MiB")
    return message


# --------------------------------------------------------------------------------------
# Decoding
# --------------------------------------------------------------------------------------

def decode(message, handle=None):
    """The value a message holds.

    handle: ``number -> value`` to look handles up (None: they decode as ``Handle``).
    Raises ``WireError`` for anything malformed; arrays come back as new writable arrays.
    """
    if _len(message) < 8 or _len(message) > MAX_MESSAGE:
        raise WireError("a message of impossible length")
    (size,) = struct.unpack(">Q", message[:8])
    if 8 + size > _len(message):
        raise WireError("a message shorter than its header says")
    try:
        tree = _loads(message[8:8 + size].decode("ascii"))
    except (UnicodeDecodeError, ValueError, RecursionError) as e:
        raise WireError(f"a header that is not JSON ({e})") from None
    return _Decoder(memoryview(message)[8 + size:], handle).value(tree, 0)


class _Decoder:
    def __init__(self, body, handle):
        self.body, self.handle = body, handle

    def value(self, node, depth):
        if depth > MAX_DEPTH + 2:
            raise WireError("a structure nested too deeply")
        if node is None or _type(node) in (bool, int, float, str):
            return node
        if _type(node) is not dict or _len(node) != 1:
            raise WireError("an unknown kind of value")
        ((kind, body),) = node.items()
        if kind in ("list", "tuple") and _type(body) is list:
            items = [self.value(x, depth + 1) for x in body]
            return items if kind == "list" else tuple(items)
        if kind == "dict" and _type(body) is dict:
            return {k: self.value(x, depth + 1) for k, x in body.items()}
        if kind == "array":
            return self.array(body)
        if kind == "rng":
            return _generator(self.value(body, depth + 1))
        if kind == "probe":
            try:
                name, params = self.value(body, depth + 1)
                return Probe(name, params)
            except (TypeError, ValueError) as e:
                raise WireError(f"a malformed probe ({e})") from None
        if kind == "handle" and _type(body) is int:
            return self.handle(body) if self.handle is not None else Handle(body)
        raise WireError(f"an unknown or malformed value of kind {kind!r}")

    def array(self, body):
        try:
            dtype_str, shape, offset, nbytes = body
            dtype = np.dtype(dtype_str)
        except (TypeError, ValueError):
            raise WireError("a malformed array") from None
        if dtype.kind not in NUMERIC_KINDS or dtype.fields is not None or dtype.subdtype is not None:
            raise WireError(f"an array of dtype {dtype_str!r}: only numbers and booleans cross")
        if (_type(shape) is not list or not all(_type(n) is int and n >= 0 for n in shape)
                or _type(offset) is not int or _type(nbytes) is not int or offset < 0
                or math.prod(shape) * dtype.itemsize != nbytes or offset + nbytes > _len(self.body)):
            raise WireError("an array whose shape, dtype and bytes do not agree")
        flat = _frombuffer(self.body, dtype=dtype, count=nbytes // dtype.itemsize if dtype.itemsize else 0,
                           offset=offset)
        return _copy(flat.reshape(shape))


def _generator(state):
    if _type(state) is not dict or state.get("bit_generator") not in BIT_GENERATORS:
        raise WireError("a random generator of an unknown kind")
    bit_generator = getattr(np.random, state["bit_generator"])()
    try:
        bit_generator.state = state
    except (TypeError, ValueError, KeyError) as e:
        raise WireError(f"a random generator with a malformed state ({e})") from None
    return np.random.Generator(bit_generator)
