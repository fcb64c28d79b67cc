"""Plain-data messages between the trusted grader and a sandboxed worker.

A message is a JSON header plus binary blobs.  Values may be None, bools,
ints, floats (nan/inf allowed), strings, lists, tuples, dicts (any plain
keys), numpy arrays of numeric or bool dtype and numpy scalars, and ``Ref``
objects.  Arrays travel as ``.npy`` bytes read back with
``allow_pickle=False``, so decoding never runs code.  Anything else is
refused with ``NotPlainData``.

Framing on a byte stream: 8-byte big-endian total length, 4-byte header
length, the UTF-8 JSON header, then the blobs, whose lengths the header
lists.
"""

from __future__ import annotations

import io
import json
import struct

import numpy as np

from assignments.cases import Ref

MAX_MESSAGE = 512 * 1024 * 1024


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


def _decode(value, blobs):
    if isinstance(value, list):
        return [_decode(v, blobs) for v in value]
    if isinstance(value, dict):
        if "__nd__" in value:
            arr = np.load(io.BytesIO(blobs[value["__nd__"]]), allow_pickle=False)
            return arr[()] if value.get("scalar") else arr
        if "__float__" in value:
            return float(value["__float__"])
        if "__ref__" in value:
            kind, name = value["__ref__"]
            return Ref(kind, name)
        if "__tuple__" in value:
            return tuple(_decode(v, blobs) for v in value["__tuple__"])
        if "__dict__" in value:
            return {_hashable(_decode(k, blobs)): _decode(v, blobs) for k, v in value["__dict__"]}
        raise WireError(f"unknown encoded object with keys {sorted(value)}")
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
    body = struct.pack(">I", len(raw)) + raw + b"".join(blobs)
    if len(body) > MAX_MESSAGE:
        raise NotPlainData(f"message of {len(body)} bytes exceeds the {MAX_MESSAGE} byte limit")
    return struct.pack(">Q", len(body)) + body


def unpack(body: bytes):
    """Inverse of ``pack`` without the length prefix: (header, payload)."""
    try:
        (hlen,) = struct.unpack(">I", body[:4])
        head = json.loads(body[4:4 + hlen].decode())
        if not isinstance(head, dict):
            raise TypeError(f"header is a {type(head).__name__}, not an object")
        offset = 4 + hlen
        blobs = []
        for n in head.pop("blobs", []):
            blobs.append(body[offset:offset + n])
            offset += n
        payload = _decode(head.pop("payload"), blobs) if "payload" in head else None
    except (struct.error, ValueError, KeyError, IndexError, TypeError, EOFError) as err:
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


def read_message(stream):
    (n,) = struct.unpack(">Q", read_exact(stream, 8))
    if n > MAX_MESSAGE:
        raise WireError(f"message of {n} bytes announced; limit {MAX_MESSAGE}")
    return unpack(read_exact(stream, n))
