"""nbgrader cell roles: the one place that reads (and writes) a cell's nbgrader metadata.

A role is "answer" (autograded code the student writes), "test" (read-only
autograded check with points), "manual" (free-text answer graded by a
person), "readonly" (locked given cell) or "plain".  Metadata comes from
untrusted files: a ``grade_id`` that is not a short string, a ``nbgrader``
entry that is not an object, points that are not a number, or a cell
without ``source`` never raise here; ``problem`` says what is wrong.
"""

from __future__ import annotations

import re

ROLES = ("answer", "test", "manual", "readonly", "plain")
_ID = re.compile(r"^[A-Za-z0-9_.+-]{1,100}$")


def meta(cell) -> dict:
    m = cell.get("metadata", {}) if isinstance(cell, dict) else {}
    m = m.get("nbgrader", {}) if isinstance(m, dict) else {}
    return m if isinstance(m, dict) else {}


def problem(cell) -> str | None:
    """Why a cell's nbgrader metadata cannot be used, or None."""
    raw = cell.get("metadata", {}).get("nbgrader") if isinstance(cell.get("metadata"), dict) \
        else None
    if raw is None:
        return None
    if not isinstance(raw, dict):
        return f"its nbgrader metadata is a {type(raw).__name__}, not an object"
    gid = raw.get("grade_id")
    if gid is not None and not (isinstance(gid, str) and _ID.match(gid)):
        return f"its grade_id is {type(gid).__name__} {str(gid)[:40]!r}, not a short name"
    return None


def grade_id(cell) -> str | None:
    gid = meta(cell).get("grade_id")
    return gid if isinstance(gid, str) and _ID.match(gid) and problem(cell) is None else None


def source(cell) -> str:
    text = cell.get("source", "")
    if isinstance(text, list):
        text = "".join(t for t in text if isinstance(t, str))
    return text if isinstance(text, str) else ""


def points(cell) -> float:
    value = meta(cell).get("points", 0)
    try:
        return float(value) if not isinstance(value, bool) else 0.0
    except (TypeError, ValueError):
        return 0.0


def role(cell) -> str:
    if problem(cell) is not None or grade_id(cell) is None:
        return "plain"
    m = meta(cell)
    code = cell.get("cell_type") == "code"
    if m.get("grade") is True and m.get("solution") is True:
        return "manual"
    if m.get("grade") is True:
        return "test" if code else "plain"
    if m.get("solution") is True:
        return "answer" if code else "plain"
    if m.get("locked") is True:
        return "readonly"
    return "plain"


def is_answer(cell) -> bool:
    return role(cell) == "answer"


def is_test(cell) -> bool:
    return role(cell) == "test"


def is_manual(cell) -> bool:
    return role(cell) == "manual"


def is_graded(cell) -> bool:
    return role(cell) in ("answer", "test", "manual")


def graded_cells(nb) -> list:
    """(grade_id, points, "auto" | "manual") of every cell with points, in order."""
    return [(grade_id(c), points(c), "manual" if is_manual(c) else "auto")
            for c in nb.cells if role(c) in ("test", "manual")]


def metadata_for(role_name: str, gid: str, pts=None) -> dict:
    """The nbgrader metadata of a new cell of this role (used by ``nbtext``)."""
    m = {"grade": False, "grade_id": gid, "locked": False, "schema_version": 3,
         "solution": False, "task": False}
    if role_name == "answer":
        m["solution"] = True
    elif role_name == "test":
        m.update(grade=True, locked=True, points=pts)
    elif role_name == "manual":
        m.update(grade=True, solution=True, points=pts)
    elif role_name == "readonly":
        m["locked"] = True
    return m
