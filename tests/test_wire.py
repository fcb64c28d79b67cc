"""Unit tests for autograder/sandbox/wire.py."""

import io
import json
import math
import os
import struct
import threading

import numpy as np
import pytest

from assignments.cases import library, student
from autograder.sandbox import wire
from autograder.sandbox.wire import (MAX_MESSAGE, NotPlainData, WireError, pack, read_message, unpack,
                             write_message)


def roundtrip(payload, header=None):
    raw = pack(header or {"kind": "result"}, payload)
    (n,) = struct.unpack(">Q", raw[:8])
    assert n == len(raw) - 8
    return unpack(raw[8:])


def same(a, b):
    """Deep equality that also checks types, dtypes and shapes (nan == nan)."""
    assert type(a) is type(b), (a, b)
    if isinstance(a, np.ndarray) or isinstance(a, np.generic):
        assert a.dtype == b.dtype and np.shape(a) == np.shape(b), (a, b)
        assert np.array_equal(a, b, equal_nan=a.dtype.kind in "fc")
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b)
        for x, y in zip(a, b):
            same(x, y)
    elif isinstance(a, dict):
        assert list(a) == list(b)
        for k in a:
            assert type(k) is type(next(kk for kk in b if kk == k))
            same(a[k], b[k])
    elif isinstance(a, float) and math.isnan(a):
        assert math.isnan(b)
    else:
        assert a == b


ARRAYS = [
    np.arange(12, dtype=np.float64).reshape(3, 4),
    np.arange(6, dtype=np.float32).reshape(2, 3) / 7,
    np.array([1, -2, 3], dtype=np.int64),
    np.array([[1, 2]], dtype=np.int8),
    np.array([200, 3], dtype=np.uint8),
    np.array([True, False]),
    np.array([1 + 2j], dtype=np.complex128),
    np.array(3.5),                       # 0-d
    np.array(7, dtype=np.int32),         # 0-d int
    np.zeros((0,)),                      # empty
    np.zeros((0, 5), dtype=np.int64),    # empty 2-d
    np.arange(24.0).reshape(2, 3, 4)[:, ::2, 1],  # non-contiguous view
    np.asfortranarray(np.arange(6.0).reshape(2, 3)),
    np.array([np.nan, np.inf, -np.inf]),
]


@pytest.mark.parametrize("arr", ARRAYS, ids=lambda a: f"{a.dtype}{a.shape}")
def test_arrays_roundtrip(arr):
    head, out = roundtrip(arr)
    same(arr, out)
    assert head == {"kind": "result"}


@pytest.mark.parametrize("scalar", [np.float64(1.5), np.float32(0.1), np.int64(-3), np.int8(5),
                                    np.uint16(7), np.bool_(True), np.float64("nan"),
                                    np.complex64(1 - 1j)],
                         ids=lambda s: type(s).__name__)
def test_numpy_scalars_keep_their_dtype(scalar):
    _, out = roundtrip(scalar)
    assert isinstance(out, np.generic) and not isinstance(out, np.ndarray)
    assert out.dtype == scalar.dtype
    same(scalar, out)


def test_python_scalars_and_special_floats():
    payload = [None, True, False, 0, -7, 2 ** 70, 1.25, "text", "",
               float("nan"), float("inf"), float("-inf"), -0.0]
    _, out = roundtrip(payload)
    same(payload, out)
    assert math.copysign(1, out[-1]) == -1
    assert type(out[1]) is bool and type(out[3]) is int


def test_nested_containers_roundtrip():
    payload = {
        "scores": [np.ones((2, 2)), (np.int64(3), [1, 2.5, None])],
        0: "int key",
        7: {"deep": (np.array(1.0),), 3: [()]},
        (1, 2): "tuple key",
        "ref": student("predict"),
        "refs": (library("assignments.cases:value_of"),),
        "empty": ([], {}, ()),
    }
    _, out = roundtrip(payload)
    same(payload, out)
    assert isinstance(out[7]["deep"], tuple)
    assert isinstance(out["scores"], list) and isinstance(out["scores"][1], tuple)
    assert out["ref"] == student("predict")


def test_tuples_and_lists_stay_distinct():
    _, out = roundtrip(([1, 2], (1, 2), [(1,)], ([],)))
    assert out == ([1, 2], (1, 2), [(1,)], ([],))
    assert type(out[0]) is list and type(out[1]) is tuple and type(out[2][0]) is tuple


def test_payload_none_and_header_fields():
    raw = pack({"kind": "ping", "n": 3})
    head, payload = unpack(raw[8:])
    assert head == {"kind": "ping", "n": 3} and payload is None
    head, payload = unpack(pack({"kind": "x"}, [None])[8:])
    assert payload == [None]


@pytest.mark.parametrize("value, fragment", [
    (np.array([1, "a"], dtype=object), "arrays of dtype object cannot be sent; use numbers"),
    (np.array(["a", "b"]), "arrays of dtype <U1 cannot be sent"),
    (np.array([b"x"]), "arrays of dtype |S1 cannot be sent"),
    (np.zeros(2, dtype=[("a", "f8")]), "cannot be sent"),
    (np.datetime64("2024-01-01"), "arrays of dtype datetime64[D] cannot be sent"),
    ({1, 2}, "a value of type builtins.set cannot be sent"),
    (object(), "a value of type builtins.object cannot be sent"),
    (lambda: 0, "a value of type builtins.function cannot be sent"),
    (b"raw bytes", "a value of type builtins.bytes cannot be sent"),
    (io.BytesIO(), "a value of type _io.BytesIO cannot be sent"),
])
def test_non_plain_data_is_refused(value, fragment):
    with pytest.raises(NotPlainData) as info:
        pack({}, {"deep": [1, (2, value)]})
    assert fragment in str(info.value)
    assert isinstance(info.value, TypeError)


def test_custom_class_names_module_and_class():
    class Model:
        pass

    with pytest.raises(NotPlainData, match=r"a value of type test_wire\.Model cannot be sent; "
                                           r"return numpy arrays, numbers, lists or dicts"):
        pack({}, [Model()])


def _body(header, blobs=b""):
    raw = json.dumps(header).encode()
    return struct.pack(">I", len(raw)) + raw + blobs


@pytest.mark.parametrize("body", [
    b"",
    b"\x00\x00",
    struct.pack(">I", 10) + b"{not json}",
    struct.pack(">I", 2) + b"\xff\xfe",             # not UTF-8
    _body(5),                                        # header is not an object
    _body(["a", "b"]),
    _body({"payload": {"__nd__": 0}}),               # refers to a missing blob
    _body({"payload": {"__nd__": 0}, "blobs": [0]}),  # an empty blob
    _body({"payload": {"__nd__": 0}, "blobs": [4]}, b"junk"),
    _body({"payload": {"__what__": 1}}),
    _body({"payload": {"__ref__": ["student"]}}),
    _body({"payload": {"__dict__": [[{"__dict__": []}, 1]]}}),  # unhashable key
    _body({"payload": {"__float__": "not a float"}}),
], ids=range(13))
def test_malformed_bytes_raise_wire_error(body):
    with pytest.raises(WireError, match="malformed message|unknown encoded object"):
        unpack(body)


def test_pickled_array_blob_is_refused():
    buf = io.BytesIO()
    np.save(buf, np.array([{"a": 1}], dtype=object), allow_pickle=True)
    blob = buf.getvalue()
    with pytest.raises(WireError, match="malformed message"):
        unpack(_body({"payload": {"__nd__": 0}, "blobs": [len(blob)]}, blob))


def test_messages_over_a_pipe():
    r, w = os.pipe()
    messages = [({"kind": "call", "i": i}, {"x": np.arange(i, dtype=np.float32), "i": i})
                for i in range(5)]
    messages.append(({"kind": "big"}, np.random.default_rng(0).random((300, 300))))  # > pipe buffer

    def writer():
        with os.fdopen(w, "wb") as stream:
            for head, payload in messages:
                write_message(stream, head, payload)

    thread = threading.Thread(target=writer)
    thread.start()
    with os.fdopen(r, "rb") as stream:
        received = [read_message(stream) for _ in messages]
        with pytest.raises(WireError, match="stream closed"):
            read_message(stream)
    thread.join()
    for (head, payload), (h, p) in zip(messages, received):
        assert h == head
        same(payload, p)


def test_truncated_stream():
    raw = pack({"k": 1}, np.arange(100.0))
    with pytest.raises(WireError, match="stream closed"):
        read_message(io.BytesIO(raw[:-10]))
    with pytest.raises(WireError, match="stream closed"):
        read_message(io.BytesIO(raw[:5]))


def test_oversized_length_prefix_is_refused():
    class Stream(io.BytesIO):
        reads = 0

        def read(self, n=-1):
            Stream.reads += n
            return super().read(n)

    announced = MAX_MESSAGE + 1
    stream = Stream(struct.pack(">Q", announced) + b"x" * 100)
    with pytest.raises(WireError) as info:
        read_message(stream)
    assert str(info.value) == f"message of {announced} bytes announced; limit {MAX_MESSAGE}"
    assert Stream.reads == 8  # nothing read beyond the prefix
    with pytest.raises(WireError, match="announced"):
        read_message(io.BytesIO(b"\xff" * 8))


def test_pack_refuses_oversized_messages(monkeypatch):
    monkeypatch.setattr(wire, "MAX_MESSAGE", 1000)
    pack({}, np.zeros(10))
    with pytest.raises(NotPlainData, match="exceeds the 1000 byte limit"):
        pack({}, np.zeros(1000))


def test_header_over_the_cap_is_refused_before_decoding():
    raw = json.dumps({"payload": [[]] * (wire.MAX_HEADER // 3)}).encode()
    body = struct.pack(">I", len(raw)) + raw
    with pytest.raises(WireError, match="header of"):
        unpack(body)


def test_deep_nesting_is_refused():
    value = {"__tuple__": []}
    for _ in range(wire.MAX_DEPTH + 5):
        value = {"__tuple__": [value]}
    with pytest.raises(WireError):
        unpack(_body({"payload": value}))


def test_forged_fields_of_the_wrong_type_are_neutralized():
    from autograder.spawn import checked

    head = checked({"status": 5, "results": [None, "x", {"kind": 3, "frames": "no"}],
                    "events": [5, ["a"], ["socket.connect", 7], ["open", "/x"]],
                    "dropped": "lots", "ok": "yes", "error": ["x"], "ran": {"student": "x"},
                    "output": "y" * 10**6})
    assert head["status"] == "crashed" and head["ok"] is False and head["error"] == ""
    # a kind that is not text is kept as a kind no judge knows (rejected and reported there)
    assert [r["kind"] for r in head["results"]] == ["(not text)"] * 3
    assert head["events"] == [["open", "/x"]] and head["dropped"] == 0
    assert len(head["output"]) == 64 * 1024 and head["ran"]["student"] == []
