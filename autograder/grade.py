"""`course grade SUBMISSIONS`: autograde a folder of submissions.

SUBMISSIONS/<student>/<assignment>/<notebook>.ipynb is copied (regular
files only, never through a link) into the course directory's nbgrader
``submitted/`` folder, graded, feedback is generated, and one row per
(student, assignment, grade cell) is written to a CSV grade table.  A
submission that cannot run still gets rows, with the reason; a folder whose
name is not a usable student id gets "refused" rows and nothing else.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import os

from .cells import graded_cells
from .coordinator import grade_sandboxed
from .course import course_root, course_seed, existing_assignments
from .notebooks import read
from .stock import grade_with_nbgrader
from .submissions import Refused, discover, safe_copy
from .table import Row, summary, write_table  # noqa: F401  (summary: for callers)


def prepare_course(course_dir: Path, assignments: list[str], source_root: Path) -> None:
    """Make course_dir an nbgrader course that knows ``assignments``."""
    course_dir.mkdir(parents=True, exist_ok=True)
    if course_dir.resolve() != source_root.resolve():
        shutil.copy(source_root / "nbgrader_config.py", course_dir / "nbgrader_config.py")
        for a in assignments:
            dst = course_dir / "source" / a
            if dst.exists():
                shutil.rmtree(dst)
            shutil.copytree(source_root / "source" / a, dst,
                            ignore=shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__"))


def refused_rows(refused: list[Refused], source_root: Path, seed) -> list[Row]:
    rows = []
    for r in refused:
        for src in sorted((source_root / "source" / r.assignment).glob("*.ipynb")):
            rows += [Row(r.name, r.assignment, src.stem, gid, 0.0, pts, "refused", kind,
                         f"not graded: {r.reason}", "refused", str(seed))
                     for gid, pts, kind in graded_cells(read(src))]
    return rows


def copy_submissions(course_dir: Path, found) -> tuple[dict, dict]:
    """({assignment: {student: folder in submitted/}}, {(assignment, student): not copied})."""
    submitted, skipped = {}, {}
    for f in found:
        dst = course_dir / "submitted" / f.student / f.assignment
        if dst.exists():
            shutil.rmtree(dst)
        skipped[(f.assignment, f.student)] = safe_copy(f.folder, dst).skipped
        submitted.setdefault(f.assignment, {})[f.student] = dst
    return submitted, skipped


def grade(submissions, course_dir=None, out=None, engine="sandbox", assignments=None,
          seed=None, **engine_options) -> list[Row]:
    """Grade every submission found; write the CSV table; return the rows."""
    source_root = course_root()
    course_dir = Path(course_dir).resolve() if course_dir else source_root
    submissions = Path(submissions)
    known = assignments or existing_assignments(source_root)
    found, refused = discover(submissions, known)
    if not found and not refused:
        raise SystemExit(f"no submissions found under {submissions} "
                         f"(expected <student>/<assignment>/ with assignment in {known})")
    todo = sorted({f.assignment for f in found})
    prepare_course(course_dir, todo, source_root)
    if seed is None:  # an explicit seed, else $COURSE_GRADING_SEED, else the course's secret
        seed = os.environ.get("COURSE_GRADING_SEED") or course_seed(course_dir)
    seed = int(seed)
    log = course_dir / "logs" / "grade.log"
    rows = refused_rows(refused, source_root, seed)
    submitted, skipped = copy_submissions(course_dir, found)
    if engine == "nbgrader":
        for a, students in sorted(submitted.items()):
            rows += grade_with_nbgrader(course_dir, a, students, source_root, log, seed)
    elif submitted:
        rows += grade_sandboxed(course_dir, submitted, source_root, log, seed, skipped=skipped,
                                **engine_options)
    write_table(rows, Path(out) if out else course_dir / "grades.csv")
    return rows
