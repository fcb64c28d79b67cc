"""Reading a submission defensively and rebuilding the notebook to grade.

Nothing in a submission is trusted: the file may be empty, not JSON, an old
or unknown nbformat, misnamed, duplicated, and its cells may be deleted,
edited, reordered or retyped.  ``locate`` picks the file, ``parse`` reads it,
and ``canonical_plan`` rebuilds the notebook from the *source* notebook's
graded cells: answer cells come from the student (matched by grade id),
test cells are never taken from the student (the grader replaces them by
out-of-process checks at their source position), and the student's own
extra code cells are kept after the graded cell they followed.
"""

from __future__ import annotations

import json
import warnings
from dataclasses import dataclass, field

import nbformat

from .cells import grade_id, is_answer, is_manual, is_test, problem, source
from .flags import Flag
from .notebooks import strip_hidden_tests

MAX_NOTEBOOK_BYTES = 50 * 1024 * 1024


@dataclass
class Located:
    name: str | None             # the file graded as the expected notebook (None: none)
    flags: list = field(default_factory=list)
    problem: str | None = None


def locate(notebooks: dict, expected: list[str]) -> dict[str, Located]:
    """Match the handed-in notebooks ({name: bytes}) to the expected names (``knn.ipynb``)."""
    names = sorted(notebooks)
    out = {}
    unmatched = [n for n in names if n not in expected]
    for name in expected:
        if name in notebooks:
            flags = [Flag("extra-notebook", f"{', '.join(unmatched)} not graded")] \
                if unmatched else []
            out[name] = Located(name, flags)
        elif len(unmatched) == 1 and len(expected) == 1:
            other = unmatched[0]
            out[name] = Located(other, [Flag("wrong-name", f"{other} graded as {name}")])
        elif unmatched:
            listed = ", ".join(unmatched)
            out[name] = Located(None, [Flag("ambiguous", listed)],
                                f"{name} was not submitted, and several other notebooks were "
                                f"({listed}); hand in exactly one {name}")
        else:
            out[name] = Located(None, [], f"{name} was not submitted")
    return out


def parse(name: str, data: bytes):
    """Return (notebook v4, flags) or raise ValueError with a student-readable reason."""
    size = len(data)
    if size == 0:
        raise ValueError(f"{name} is an empty file")
    if size > MAX_NOTEBOOK_BYTES:
        raise ValueError(f"{name} is {size / 1e6:.0f} MB, larger than the "
                         f"{MAX_NOTEBOOK_BYTES // 2**20} MB limit (clear the outputs)")
    text = data.decode("utf-8", "replace")
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as err:
        raise ValueError(f"{name} is not valid notebook JSON ({err.msg} at line "
                         f"{err.lineno}, column {err.colno})") from None
    except RecursionError:
        raise ValueError(f"{name} is JSON nested too deeply to be a notebook") from None
    if not isinstance(raw, dict) or not ("cells" in raw or "worksheets" in raw):
        raise ValueError(f"{name} is JSON but not a Jupyter notebook")
    major = raw.get("nbformat")
    flags = []
    if major == 3:
        flags.append(Flag("converted-nbformat-3"))
    elif major != 4:
        raise ValueError(f"{name} has nbformat version {major!r}; only 4 (and 3, "
                         "converted) can be graded: save it with a current Jupyter")
    try:
        with warnings.catch_warnings():  # e.g. cells without ids: harmless, not the grader's job
            warnings.simplefilter("ignore")
            nb = nbformat.reads(text, as_version=4)
    except Exception as err:  # nbformat raises many types for broken files
        raise ValueError(f"{name} could not be read as a notebook ({type(err).__name__}: "
                         f"{str(err)[:200]})") from None
    for i, cell in enumerate(nb.cells):
        if not isinstance(cell, dict):
            raise ValueError(f"{name}: cell {i} is not a JSON object")
        if "source" not in cell:
            flags.append(Flag("malformed-cell", f"cell {i} has no source (read as empty)"))
        elif not isinstance(cell.get("source"), (str, list)):
            raise ValueError(f"{name} has a cell whose source is not text")
        cell["source"] = source(cell)
        why = problem(cell)
        if why:
            flags.append(Flag("malformed-metadata", f"cell {i}: {why}; treated as an "
                                                    "ordinary cell"))
    return nb, flags


@dataclass
class PlanItem:
    kind: str          # "code" (a cell to run) | "test" (a graded check) | "deleted-test"
    label: str
    source: str = ""
    grade_id: str | None = None
    index: int | None = None   # the student's cell it comes from (None: from the source)


@dataclass
class Plan:
    items: list
    flags: list
    answers: dict      # grade_id -> the student's answer source (as graded)
    manual: dict       # grade_id -> the student's free-text answer (or None)


def _norm(text: str) -> str:
    return "\n".join(line.rstrip() for line in text.strip().splitlines())


def canonical_plan(source_nb, student_nb) -> Plan:
    """The cells to execute, in order, with every graded cell restored from the source."""
    flags = []
    src_graded = [c for c in source_nb.cells if is_answer(c) or is_test(c) or is_manual(c)]
    src_ids = [grade_id(c) for c in src_graded]
    src_by_id = {grade_id(c): c for c in src_graded}

    # the student's cells: graded ones by id, the rest anchored to the graded cell before them
    student_by_id: dict[str, tuple] = {}
    anchored: dict[str | None, list] = {}
    anchor = None
    order_seen = []
    for index, cell in enumerate(student_nb.cells):
        gid = grade_id(cell)
        if gid in src_by_id:
            if gid in student_by_id:
                flags.append(Flag("duplicate-cell", f"{gid} appears twice; the first copy "
                                                    "is graded"))
                continue
            student_by_id[gid] = (index, cell)
            order_seen.append(gid)
            anchor = gid
        elif cell.get("cell_type") == "code" and source(cell).strip():
            anchored.setdefault(anchor, []).append((index, cell))
    expected_order = [g for g in src_ids if g in student_by_id]
    if order_seen != expected_order:
        flags.append(Flag("reordered-cells", "graded cells were moved; source order restored"))

    items, answers, manual = [], {}, {}
    for k, (index, cell) in enumerate(anchored.get(None, [])):
        items.append(PlanItem("code", f"extra-{k}", source(cell), index=index))
    for gid in src_ids:
        src = src_by_id[gid]
        index, mine = student_by_id.get(gid, (None, None))
        if is_answer(src):
            if mine is None:
                flags.append(Flag("deleted-answer-cell", gid))
            else:
                if mine.get("cell_type") != "code":
                    flags.append(Flag("retyped-answer-cell", f"{gid} was changed to "
                                      f"{mine.get('cell_type')}; run as code"))
                answers[gid] = source(mine)
                items.append(PlanItem("code", gid, source(mine), gid, index))
        elif is_test(src):
            if mine is None:
                flags.append(Flag("deleted-test-cell", f"{gid} (scores 0)"))
                items.append(PlanItem("deleted-test", gid, grade_id=gid))
            else:
                if mine.get("cell_type") != "code":
                    flags.append(Flag("retyped-test-cell", f"{gid} was changed to "
                                      f"{mine.get('cell_type')}; restored"))
                elif _norm(source(mine)) != _norm(strip_hidden_tests(src.source)):
                    flags.append(Flag("edited-test-cell", f"{gid}; restored"))
                items.append(PlanItem("test", gid, grade_id=gid, index=index))
        elif is_manual(src):
            manual[gid] = source(mine) if mine is not None else None
            if mine is None:
                flags.append(Flag("deleted-answer-cell", gid))
        for k, (index, cell) in enumerate(anchored.get(gid, [])):
            items.append(PlanItem("code", f"{gid}+{k}", source(cell), index=index))
    return Plan(items, flags, answers, manual)
