"""`course grade SUBMISSIONS`: autograde a folder of submissions.

SUBMISSIONS/<student>/<assignment>/<notebook>.ipynb is copied into the
course directory's nbgrader ``submitted/`` folder, graded, feedback is
generated, and one row per (student, assignment, grade cell) is written to a
CSV grade table.  A submission that cannot run still gets rows, with the
reason.
"""

from __future__ import annotations

import csv
import shutil
from dataclasses import asdict, dataclass, fields
from pathlib import Path

from .course import course_root, existing_assignments
from .nbgrader_run import run_nbgrader
from .notebooks import grade_id, is_manual, is_test, meta, read


@dataclass
class Row:
    student: str
    assignment: str
    notebook: str
    cell: str
    points: float
    max_points: float
    status: str       # passed | failed | manual | missing | error
    kind: str = "auto"  # auto (autograded test cell) | manual (graded by a person)
    message: str = ""
    flags: str = ""
    seed: str = ""
    engine: str = ""

    def key(self):
        return (self.student, self.assignment, self.notebook, self.cell)


COLUMNS = [f.name for f in fields(Row)]


# --------------------------------------------------------------------------
# collecting submissions
# --------------------------------------------------------------------------

def discover(submissions: Path, assignments: list[str]) -> dict:
    """{(student, assignment): folder} for every submission folder found."""
    found = {}
    if not submissions.is_dir():
        raise SystemExit(f"{submissions} is not a folder of <student>/<assignment>/ submissions")
    for student_dir in sorted(p for p in submissions.iterdir() if p.is_dir()):
        for a_dir in sorted(p for p in student_dir.iterdir() if p.is_dir()):
            if a_dir.name in assignments:
                found[(student_dir.name, a_dir.name)] = a_dir
    return found


def grade_cells(source_nb) -> list:
    """(grade_id, points, kind) of every graded cell of a source notebook, in order."""
    out = []
    for c in source_nb.cells:
        m = meta(c)
        if m.get("grade"):
            out.append((grade_id(c), float(m.get("points", 0)), "manual" if is_manual(c) else "auto"))
    return out


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


# --------------------------------------------------------------------------
# the plain nbgrader engine
# --------------------------------------------------------------------------

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
                        log: Path) -> list[Row]:
    """Stock nbgrader: autograde + generate_feedback, grades read from gradebook.db."""
    from nbgrader.api import Gradebook, MissingEntry

    run_nbgrader(course_dir, "generate_assignment", assignment, "--force", log=log)
    for student, folder in students.items():
        dst = course_dir / "submitted" / student / assignment
        if dst.exists():
            shutil.rmtree(dst)
        shutil.copytree(folder, dst)
    proc = run_nbgrader(course_dir, "autograde", assignment, "--force", log=log, check=False)
    run_nbgrader(course_dir, "generate_feedback", assignment, "--force", log=log, check=False)

    rows = []
    source_nbs = sorted((source_root / "source" / assignment).glob("*.ipynb"))
    with Gradebook(f"sqlite:///{course_dir / 'gradebook.db'}") as gb:
        for student in students:
            for nb_path in source_nbs:
                nb_name = nb_path.stem
                cells = grade_cells(read(nb_path))
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


# --------------------------------------------------------------------------
# the table
# --------------------------------------------------------------------------

def write_table(rows: list[Row], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fieldnames=COLUMNS)
        w.writeheader()
        for r in sorted(rows, key=Row.key):
            d = asdict(r)
            d["points"] = f"{r.points:g}"
            d["max_points"] = f"{r.max_points:g}"
            w.writerow(d)


def read_table(path: Path) -> list[Row]:
    with open(path, newline="", encoding="utf-8") as f:
        rows = []
        for d in csv.DictReader(f):
            d["points"] = float(d["points"])
            d["max_points"] = float(d["max_points"])
            rows.append(Row(**d))
        return rows


def summary(rows: list[Row]) -> str:
    """The table per student and assignment, then the flagged submissions."""
    by = {}
    for r in rows:
        by.setdefault((r.student, r.assignment), []).append(r)
    lines = [f"{'student':<22} {'assignment':<22} {'autograded':>11} {'manual':>7}  notes"]
    flagged = []
    for (student, assignment), rs in sorted(by.items()):
        auto = [r for r in rs if r.kind == "auto"]
        got = sum(r.points for r in auto)
        top = sum(r.max_points for r in auto)
        manual = sum(r.max_points for r in rs if r.kind == "manual")
        lost = [f"{r.cell} {r.points:g}/{r.max_points:g}" for r in auto if r.points < r.max_points]
        notes = ("lost: " + ", ".join(lost)) if lost else "full marks"
        if any(r.status in ("error", "missing") for r in rs):
            notes = rs[0].message or notes
        flags = sorted({f for r in rs for f in r.flags.split(";") if f})
        if flags:
            flagged.append(f"  {student} / {assignment}: {', '.join(flags)}")
        lines.append(f"{student:<22} {assignment:<22} {got:>5g} / {top:<3g} {manual:>5g}  {notes}")
    if flagged:
        lines.append("\nflagged for a human to look at (details in grading/<assignment>/"
                     "<student>.json; flags never change a score):")
        lines += flagged
    return "\n".join(lines)


def grade(submissions, course_dir=None, out=None, engine="sandbox", assignments=None,
          **engine_options) -> list[Row]:
    """Grade every submission found; write the CSV table; return the rows."""
    source_root = course_root()
    course_dir = Path(course_dir) if course_dir else source_root
    submissions = Path(submissions)
    known = assignments or existing_assignments(source_root)
    found = discover(submissions, known)
    if not found:
        raise SystemExit(f"no submissions found under {submissions} "
                         f"(expected <student>/<assignment>/ with assignment in {known})")
    todo = sorted({a for _, a in found})
    prepare_course(course_dir, todo, source_root)
    log = course_dir / "logs" / "grade.log"
    rows = []
    for a in todo:
        students = {s: folder for (s, aa), folder in found.items() if aa == a}
        if engine == "nbgrader":
            rows += grade_with_nbgrader(course_dir, a, students, source_root, log)
        else:
            from .engine import grade_sandboxed
            rows += grade_sandboxed(course_dir, a, students, source_root, log, **engine_options)
    out = Path(out) if out else course_dir / "grades.csv"
    write_table(rows, out)
    return rows
