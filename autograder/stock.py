"""Grading with stock ``nbgrader autograde`` (``--engine nbgrader``), for comparison.

The hidden tests then run inside the student's own kernel (``autograder.hidden``)
with the course's seed; grades are read back from ``gradebook.db``.
"""

from __future__ import annotations

from pathlib import Path

from .cells import graded_cells, grade_id, is_test
from .nbgrader_run import run_nbgrader
from .notebooks import read
from .table import Row


def _test_cell_errors(autograded_nb) -> dict:
    """grade_id -> 'Name: message' of the error output of each failing test cell."""
    errors = {}
    for c in autograded_nb.cells:
        if not is_test(c):
            continue
        for out in c.get("outputs", []):
            if out.get("output_type") == "error":
                errors[grade_id(c)] = f"{out.get('ename')}: {out.get('evalue')}"
    return errors


def grade_with_nbgrader(course_dir: Path, assignment: str, students: dict, source_root: Path,
                        log: Path, seed: int) -> list[Row]:
    """Stock nbgrader: autograde + generate_feedback, grades read from gradebook.db."""
    from nbgrader.api import Gradebook, MissingEntry

    env = {"COURSE_GRADING_SEED": str(seed), "COURSE_DIR": str(source_root)}
    run_nbgrader(course_dir, "generate_assignment", assignment, "--force", log=log)
    proc = run_nbgrader(course_dir, "autograde", assignment, "--force", log=log, check=False,
                        env=env)
    run_nbgrader(course_dir, "generate_feedback", assignment, "--force", log=log, check=False)

    rows = []
    source_nbs = sorted((source_root / "source" / assignment).glob("*.ipynb"))
    with Gradebook(f"sqlite:///{course_dir / 'gradebook.db'}") as gb:
        for student in students:
            for nb_path in source_nbs:
                nb_name = nb_path.stem
                cells = graded_cells(read(nb_path))
                auto_path = course_dir / "autograded" / student / assignment / nb_path.name
                try:
                    sub = gb.find_submission_notebook(nb_name, assignment, student)
                except MissingEntry:
                    sub = None
                if sub is None or not auto_path.exists():
                    sent = students[student] / nb_path.name
                    reason = ("notebook not submitted" if not sent.exists()
                              else "nbgrader could not grade this notebook; see the log")
                    status = "missing" if not sent.exists() else "error"
                    rows += [Row(student, assignment, nb_name, gid, 0.0, pts, status, kind,
                                 reason, engine="nbgrader") for gid, pts, kind in cells]
                    continue
                errors = _test_cell_errors(read(auto_path))
                for gid, pts, kind in cells:
                    try:
                        g = gb.find_grade(gid, nb_name, assignment, student)
                    except MissingEntry:
                        rows.append(Row(student, assignment, nb_name, gid, 0.0, pts, "error",
                                        kind, "no grade recorded", engine="nbgrader"))
                        continue
                    if g.needs_manual_grade or g.score is None:
                        status = "manual"
                        score = 0.0
                    else:
                        score = float(g.score)
                        status = "passed" if score >= pts else "failed"
                    rows.append(Row(student, assignment, nb_name, gid, score, pts, status,
                                    kind, errors.get(gid, ""), engine="nbgrader"))
    if proc.returncode != 0 and not rows:
        raise RuntimeError(f"nbgrader autograde failed; see {log}")
    return rows
