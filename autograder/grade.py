"""`course grade SUBMISSIONS`: autograde a folder of submissions.

SUBMISSIONS/<student>/<assignment>/<notebook>.ipynb is copied (regular
files only, never through a link) into the course directory's nbgrader
``submitted/`` folder, graded, feedback is generated, and one row per
(student, assignment, grade cell) is written to a CSV grade table.  A
submission that cannot run still gets rows, with the reason; a folder whose
name is not a usable student id gets "refused" rows and nothing else.

Grading never writes, moves or deletes anything in its input
(``check_input``): nbgrader's own ``submitted/`` folder is graded in place
(copied for the sandbox into a private folder, never rewritten), and any
other folder that overlaps what grading writes (the course directory itself,
``autograded/``, ``feedback/``, a student's folder inside ``submitted/``...)
is refused before anything is touched.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

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


# what grading writes in the course directory (besides the grade table)
WRITTEN = ("submitted", "autograded", "feedback", "grading", "logs", "release", "source",
           "gradebook.db")


class InputOverlap(SystemExit):
    """The submissions folder overlaps what grading writes: refused before anything is done."""


def _overlap(a: Path, b: Path) -> bool:
    return a == b or a in b.parents or b in a.parents


def check_input(submissions: Path, course_dir: Path, table: Path) -> bool:
    """True when ``submissions`` is nbgrader's ``submitted/`` (graded in place).

    Raises ``InputOverlap`` when grading would write into the input: the
    folder is the course directory (or holds it), lies inside a folder that
    grading writes, or would receive the grade table.  Paths are compared
    after resolving links and ``..``.
    """
    given = submissions
    submissions = submissions.resolve()
    course_dir = course_dir.resolve()
    hint = ("pass the folder of <student>/<assignment>/ submissions, e.g. "
            "`course grade submitted` for nbgrader's layout, or a folder outside the "
            "course directory")
    if submissions == (course_dir / "submitted").resolve():
        if _overlap(submissions, table.resolve()):
            raise InputOverlap(f"the grade table {table} would be written inside the "
                               f"submissions folder {given}; choose another --out")
        return True
    if submissions == course_dir or submissions in course_dir.parents:
        raise InputOverlap(f"{given} is the course directory (or holds it), and grading writes "
                           f"into the course directory: {hint}")
    for name in WRITTEN:
        target = (course_dir / name).resolve()
        if _overlap(submissions, target):
            raise InputOverlap(f"{given} overlaps {name}/ of the course directory, which grading "
                               f"writes: {hint}")
    if _overlap(submissions, table.resolve()):
        raise InputOverlap(f"the grade table {table} would be written inside the submissions "
                           f"folder {given}; choose another --out")
    return False


def copy_submissions(dest: Path, found) -> tuple[dict, dict]:
    """Copy each submission into ``dest/<student>/<assignment>/``.

    Returns ({assignment: {student: copied folder}}, {(assignment, student): not copied}).
    """
    submitted, skipped = {}, {}
    for f in found:
        dst = dest / f.student / f.assignment
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
    table = Path(out) if out else course_dir / "grades.csv"
    in_place = check_input(submissions, course_dir, table)
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
    staging = None
    try:
        if in_place and engine == "nbgrader":  # nbgrader reads submitted/ itself
            submitted = {}
            for f in found:
                submitted.setdefault(f.assignment, {})[f.student] = f.folder
            skipped = {}
        elif in_place:  # the sandbox grades private copies; submitted/ stays as it is
            staging = Path(tempfile.mkdtemp(prefix="course-staging-"))
            submitted, skipped = copy_submissions(staging, found)
        else:
            submitted, skipped = copy_submissions(course_dir / "submitted", found)
        if engine == "nbgrader":
            for a, students in sorted(submitted.items()):
                rows += grade_with_nbgrader(course_dir, a, students, source_root, log, seed)
        elif submitted:
            rows += grade_sandboxed(course_dir, submitted, source_root, log, seed,
                                    skipped=skipped, **engine_options)
    finally:
        if staging is not None:
            shutil.rmtree(staging, ignore_errors=True)
    write_table(rows, table)
    return rows
