"""`course grade SUBMISSIONS`: autograde a folder of submissions.

Every SUBMISSIONS/<student>/ folder gets rows for every assignment graded in
the run: graded from its notebooks, or "missing" / "refused" with the reason
(``submissions.discover``).  Submissions are read without trusting anything
about them (regular files only, never through a link, within limits),
copied into nbgrader's ``submitted/`` folder unless they are already there,
graded (``coordinator``), recorded in nbgrader's gradebook, given nbgrader
feedback, and written to the course's CSV grade table, one row per
(student, assignment, grade cell).

Grading never writes, moves or deletes anything in its input
(``check_input``): nbgrader's own ``submitted/`` folder is graded in place
(read, never rewritten), and any other folder that overlaps what grading
writes (the course directory itself, ``autograded/``, ``feedback/``, a
student's folder inside ``submitted/``...) is refused before anything is
touched.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from .cells import graded_cells
from .coordinator import grade_sandboxed
from .course import course_root, course_seed, existing_assignments
from .notebooks import read
from .stock import grade_with_nbgrader
from .submissions import discover, read_folder
from .table import TABLE_NAME, Row, summary, write_table  # noqa: F401  (summary: for callers)


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


def unsubmitted_rows(entries, source_root: Path, seed) -> list[Row]:
    """Rows for entries that are not graded from code: missing, or refused with the reason."""
    rows = []
    for e in entries:
        for src in sorted((source_root / "source" / e.assignment).glob("*.ipynb")):
            flags = "refused" if e.reason.status == "refused" else ""
            message = (e.reason.text if e.reason.status == "missing"
                       else f"not graded: {e.reason.text}")
            rows += [Row(e.student, e.assignment, src.stem, gid, 0.0, pts, e.reason.status, kind,
                         message, flags, str(seed))
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


def grade(submissions, course_dir=None, out=None, engine="sandbox", assignments=None,
          seed=None, **engine_options) -> list[Row]:
    """Grade every submission found; write the CSV table; return the rows."""
    source_root = course_root()
    course_dir = Path(course_dir).resolve() if course_dir else source_root
    submissions = Path(submissions)
    table = Path(out) if out else course_dir / TABLE_NAME
    in_place = check_input(submissions, course_dir, table)
    known = existing_assignments(source_root)
    roster = discover(submissions, known, assignments)
    if not roster.entries:
        raise SystemExit(f"no submissions found under {submissions} "
                         f"(expected <student>/<assignment>/ with assignment in {known})")
    for note in roster.notes:
        print(f"note: {note}")
    prepare_course(course_dir, roster.assignments, source_root)
    if seed is None:  # an explicit seed, else $COURSE_GRADING_SEED, else the course's secret
        seed = os.environ.get("COURSE_GRADING_SEED") or course_seed(course_dir)
    seed = int(seed)
    log = course_dir / "logs" / "grade.log"
    graded = [e for e in roster.entries if e.reason is None]
    rows = unsubmitted_rows([e for e in roster.entries if e.reason is not None], source_root,
                            seed)
    if engine == "nbgrader":
        rows += grade_stock(course_dir, graded, source_root, log, seed, in_place)
    elif graded:
        rows += grade_sandboxed(course_dir, graded, source_root, log, seed,
                                copy_in=not in_place, **engine_options)
    write_table(rows, table)
    return rows


def grade_stock(course_dir, graded, source_root, log, seed, in_place) -> list[Row]:
    """Stock ``nbgrader autograde``: it reads nbgrader's submitted/ itself."""
    submitted = {}
    for e in graded:
        folder = course_dir / "submitted" / e.student / e.assignment
        if not in_place:
            if folder.exists():
                shutil.rmtree(folder)
            read_folder(e.folder, folder)
        submitted.setdefault(e.assignment, {})[e.student] = folder
    rows = []
    for a, students in sorted(submitted.items()):
        rows += grade_with_nbgrader(course_dir, a, students, source_root, log, seed)
    return rows
