"""Plain-data messages between the trusted grader and a sandboxed worker.

A message is a JSON header plus binary blobs.  Values may be None, bools,
ints, floats (nan/inf allowed), strings, lists, tuples, dicts (any plain
keys), numpy arrays of numeric or bool dtype and numpy scalars, and ``Ref``
objects.  Arrays travel as ``.npy`` bytes read back with
``allow_pickle=False``, so decoding never runs code.  Anything else is
refused with ``NotPlainData``.

Framing on a byte stream: 8-byte big-endian total length, 4-byte header
length, the UTF-8 JSON header, then the blobs, whose lengths the header
lists.  A reader states the largest message it accepts; the JSON header is
capped at ``MAX_HEADER`` bytes whatever the message size (decoding JSON is
what multiplies memory, arrays decode at their own size), the number of
blobs at ``MAX_BLOBS`` and nesting at ``MAX_DEPTH``.
"""

from __future__ import annotations

import io
import json
import struct

import numpy as np

from assignments.cases import Ref

MAX_MESSAGE = 256 * 1024 * 1024
MAX_HEADER = 1024 * 1024
MAX_BLOBS = 10_000
MAX_DEPTH = 40


class NotPlainData(TypeError):
    pass


class WireError(Exception):
    """The stream ended or held something that is not a valid message."""


def _encode(value, blobs):
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, (bool, np.generic)):
        if isinstance(value, float) and not np.isfinite(value):
            return {"__float__": repr(value)}
        return value
    if isinstance(value, (np.ndarray, np.generic)):
        arr = np.asarray(value)
        if arr.dtype == object or not (np.issubdtype(arr.dtype, np.number) or arr.dtype == bool):
            raise NotPlainData(f"arrays of dtype {arr.dtype} cannot be sent; use numbers")
        buf = io.BytesIO()
        # not np.ascontiguousarray: it turns 0-d arrays (and scalars) into shape (1,)
        np.save(buf, np.array(arr, order="C"), allow_pickle=False)
        blobs.append(buf.getvalue())
        return {"__nd__": len(blobs) - 1, "scalar": isinstance(value, np.generic)}
    if isinstance(value, Ref):
        return {"__ref__": [value.kind, value.name]}
    if isinstance(value, tuple):
        return {"__tuple__": [_encode(v, blobs) for v in value]}
    if isinstance(value, list):
        return [_encode(v, blobs) for v in value]
    if isinstance(value, dict):
        return {"__dict__": [[_encode(k, blobs), _encode(v, blobs)] for k, v in value.items()]}
    raise NotPlainData(f"a value of type {type(value).__module__}.{type(value).__name__} "
                       "cannot be sent; return numpy arrays, numbers, lists or dicts")


def _decode(value, blobs, depth=0):
    if depth > MAX_DEPTH:
        raise WireError(f"malformed message: nested deeper than {MAX_DEPTH} levels")
    if isinstance(value, list):
        return [_decode(v, blobs, depth + 1) for v in value]
    if isinstance(value, dict):
        if "__nd__" in value:
            index = value["__nd__"]
            if not isinstance(index, int) or isinstance(index, bool):
                raise WireError("malformed message: array index is not an integer")
            arr = np.load(io.BytesIO(blobs[index]), allow_pickle=False)
            return arr[()] if value.get("scalar") else arr
        if "__float__" in value:
            return float(value["__float__"])
        if "__ref__" in value:
            kind, name = value["__ref__"]
            if not isinstance(kind, str) or not isinstance(name, str):
                raise WireError("malformed message: a reference is not two strings")
            return Ref(kind, name)
        if "__tuple__" in value:
            return tuple(_decode(v, blobs, depth + 1) for v in value["__tuple__"])
        if "__dict__" in value:
            return {_hashable(_decode(k, blobs, depth + 1)): _decode(v, blobs, depth + 1)
                    for k, v in value["__dict__"]}
        raise WireError(f"unknown encoded object with keys {sorted(value)[:5]}")
    return value


def _hashable(key):
    if isinstance(key, np.generic):
        return key.item()
    if isinstance(key, list):
        return tuple(key)
    return key


def pack(header: dict, payload=None) -> bytes:
    """Serialize a header dict and an optional plain-data payload."""
    blobs: list[bytes] = []
    head = dict(header)
    if payload is not None:
        head["payload"] = _encode(payload, blobs)
    head["blobs"] = [len(b) for b in blobs]
    raw = json.dumps(head).encode()
    if len(raw) > MAX_HEADER or len(blobs) > MAX_BLOBS:
        raise NotPlainData(f"a message with {len(blobs)} arrays and a {len(raw)} byte header "
                           f"exceeds the limits ({MAX_BLOBS} arrays, {MAX_HEADER} bytes); "
                           "return fewer, larger arrays")
    body = struct.pack(">I", len(raw)) + raw + b"".join(blobs)
    if len(body) > MAX_MESSAGE:
        raise NotPlainData(f"message of {len(body)} bytes exceeds the {MAX_MESSAGE} byte limit")
    return struct.pack(">Q", len(body)) + body


def unpack(body: bytes):
    """Inverse of ``pack`` without the length prefix: (header, payload)."""
    try:
        (hlen,) = struct.unpack(">I", body[:4])
        if hlen > MAX_HEADER:
            raise ValueError(f"header of {hlen} bytes; limit {MAX_HEADER}")
        head = json.loads(body[4:4 + hlen].decode())
        if not isinstance(head, dict):
            raise TypeError(f"header is a {type(head).__name__}, not an object")
        offset = 4 + hlen
        blobs = []
        sizes = head.pop("blobs", [])
        if not isinstance(sizes, list) or len(sizes) > MAX_BLOBS:
            raise ValueError("bad list of array sizes")
        for n in sizes:
            if not isinstance(n, int) or isinstance(n, bool) or n < 0:
                raise ValueError("bad array size")
            blobs.append(body[offset:offset + n])
            offset += n
        payload = _decode(head.pop("payload"), blobs) if "payload" in head else None
    except (struct.error, ValueError, KeyError, IndexError, TypeError, EOFError,
            RecursionError) as err:
        raise WireError(f"malformed message: {err}") from None
    return head, payload


def write_message(stream, header: dict, payload=None) -> None:
    stream.write(pack(header, payload))
    stream.flush()


def read_exact(stream, n: int) -> bytes:
    chunks, got = [], 0
    while got < n:
        block = stream.read(n - got)
        if not block:
            raise WireError("stream closed")
        chunks.append(block)
        got += len(block)
    return b"".join(chunks)


def take_message(buffer: bytearray, limit: int):
    """The first whole message in ``buffer`` (removed from it), or None while it is incomplete;
    a message announced above ``limit`` bytes raises ``WireError``."""
    if len(buffer) < 8:
        return None
    (n,) = struct.unpack(">Q", bytes(buffer[:8]))
    if n > limit:
        raise WireError(f"message of {n} bytes announced; limit {limit}")
    if len(buffer) < 8 + n:
        return None
    body = bytes(buffer[8:8 + n])
    del buffer[:8 + n]
    return unpack(body)


def read_message(stream, limit: int | None = None):
    """One message from a blocking stream; refuses one announced above ``limit`` bytes."""
    limit = MAX_MESSAGE if limit is None else limit
    (n,) = struct.unpack(">Q", read_exact(stream, 8))
    if n > limit:
        raise WireError(f"message of {n} bytes announced; limit {limit}")
    return unpack(read_exact(stream, n))
