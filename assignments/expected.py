"""Expected outputs of visible cases, stored as data.

A visible check never computes an expected value with an answer: students
install these checks, and the answers are theirs to write.  Where a value is
not worked out by hand (the comments of each check show the arithmetic), a
property or a numerical gradient, it is the output of the course's answer
on the visible inputs, computed from the answer's one home (the source
notebook) by `course release` and stored in
``assignments/notebooks/expected/<assignment>.npz``.

A check module declares such values once, with how to compute them::

    STORED = Stored("03_two_layer_net", {
        "softmax 5x3": Computed("softmax_loss", (scores, y)),
    })
    ... Case(..., expected=STORED["softmax 5x3"])

``Computed(name, args, kwargs)`` calls ``name`` from the assignment's
reference namespace (or ``"assignments.module:function"`` from this
package, with ``student(...)`` references resolved in that namespace).  The
file holds arrays, numbers, strings, None, and tuples / lists / dicts of
them, read back without pickle.
"""

from __future__ import annotations

import contextlib
import json
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

import numpy as np

__all__ = ["Computed", "Stored", "StoredValueMissing", "encode", "decode", "expected_dir",
           "stored_path", "load_stored", "write", "collecting"]


class StoredValueMissing(LookupError):
    """A stored expected value is not there: run `course release` (the file is generated)."""


@dataclass(frozen=True)
class Computed:
    """How a stored value is computed: ``function(*args, **kwargs)`` of the reference.

    ``items`` picks an entry of the result (``out[i][j]...``); a ``Computed``
    among the arguments is computed first (a backward pass on the course's cache).
    """

    function: str
    args: tuple = ()
    kwargs: dict = field(default_factory=dict)
    items: tuple = ()

    def __getitem__(self, item) -> "Computed":
        """The same computation, keeping only entry ``item`` of its result."""
        return Computed(self.function, self.args, self.kwargs, self.items + (item,))


_RESOLVER: list = [None]


@contextlib.contextmanager
def collecting(resolve):
    """While `course release` builds the visible cases: every stored value is
    ``resolve(key, computed)``, computed afresh from the answers, and recorded."""
    _RESOLVER[0] = resolve
    try:
        yield
    finally:
        _RESOLVER[0] = None


def expected_dir() -> Path:
    return Path(str(resources.files("assignments.notebooks") / "expected"))


def stored_path(assignment: str) -> Path:
    """The file of an assignment's stored expected values."""
    return expected_dir() / f"{assignment}.npz"


def load_stored(assignment: str) -> dict:
    """key -> value of every stored expected value of ``assignment`` ({} if none)."""
    return _load(stored_path(assignment))


_LOADED: dict = {}


class Stored:
    """The stored expected values of one assignment's visible cases (see the module doc)."""

    registry: list = []   # every Stored declared, for `course release`

    def __init__(self, assignment: str, computations: dict):
        self.assignment = assignment
        self.computations = dict(computations)
        Stored.registry.append(self)

    @property
    def path(self) -> Path:
        return stored_path(self.assignment)

    def value(self, key: str, computed: Computed):
        """The stored value ``key``, declaring how it is computed (cases built in functions
        declare theirs when they are built)."""
        self.computations.setdefault(key, computed)   # cases are built again and again
        return self[key]

    def __getitem__(self, key: str):
        if key not in self.computations:
            raise KeyError(f"{self.assignment}: no stored value named {key!r}")
        if _RESOLVER[0] is not None:
            return _RESOLVER[0](self.assignment, key, self.computations[key])
        values = _load(self.path)
        if key not in values:
            raise StoredValueMissing(
                f"the expected value {key!r} of {self.assignment} is not in {self.path}; "
                "the instructor regenerates it with `course release`")
        return values[key]


def _load(path: Path) -> dict:
    stamp = path.stat().st_mtime_ns if path.exists() else None
    cached = _LOADED.get(path)
    if cached is None or cached[0] != stamp:
        values = {}
        if stamp is not None:
            with np.load(path, allow_pickle=False) as data:
                arrays = {k: data[k] for k in data.files}
            structure = json.loads(str(arrays.pop("__structure__")))
            values = {k: decode(v, arrays) for k, v in structure.items()}
        _LOADED[path] = (stamp, values)
    return _LOADED[path][1]


# --------------------------------------------------------------------------
# plain data <-> (JSON structure, arrays)
# --------------------------------------------------------------------------

def encode(value, arrays: dict, prefix: str):
    """JSON-able structure of ``value``; its arrays go into ``arrays`` under new names."""
    if isinstance(value, (np.ndarray, np.generic)):
        name = f"{prefix}#{len(arrays)}"
        arrays[name] = np.asarray(value)
        return {"array": name, "scalar": isinstance(value, np.generic)}
    if value is None or isinstance(value, (bool, int, float, str)):
        if isinstance(value, float) and not np.isfinite(value):
            return {"float": repr(value)}
        return {"value": value}
    if isinstance(value, (tuple, list)):
        return {"tuple" if isinstance(value, tuple) else "list":
                [encode(v, arrays, prefix) for v in value]}
    if isinstance(value, dict):
        return {"dict": [[encode(k, arrays, prefix), encode(v, arrays, prefix)]
                         for k, v in value.items()]}
    raise TypeError(f"cannot store a {type(value).__name__} as an expected value")


def decode(node, arrays: dict):
    if "array" in node:
        arr = arrays[node["array"]]
        return arr[()] if node.get("scalar") else arr
    if "value" in node:
        return node["value"]
    if "float" in node:
        return float(node["float"])
    if "tuple" in node:
        return tuple(decode(v, arrays) for v in node["tuple"])
    if "list" in node:
        return [decode(v, arrays) for v in node["list"]]
    return {decode(k, arrays): decode(v, arrays) for k, v in node["dict"]}


def write(path: Path, values: dict) -> None:
    """Write ``values`` ({key: plain data}) to an .npz file that ``Stored`` reads."""
    arrays, structure = {}, {}
    for key in sorted(values):
        structure[key] = encode(values[key], arrays, key)
    arrays["__structure__"] = np.array(json.dumps(structure, sort_keys=True))
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as f:
        np.savez(f, **arrays)
